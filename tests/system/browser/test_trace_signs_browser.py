"""The browser traces live bends exactly as ``analysis.grid_bends.sign_segments`` says:
the JS block between the ``<trace-signs>`` markers of the renderer's codec, run in Chromium on
sign bits packed by ``figures.wire.encode_signs``, draws the same segments."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from playground.analysis.grid_bends import sign_segments
from playground.figures.wire import encode_signs

JS = Path(__file__).resolve().parents[3] / "playground" / "ui" / "live_plot_js" / "codec.js"


def _block() -> str:
    text = JS.read_text(encoding="utf-8")
    after = text.split("// <trace-signs>")[1].split("// </trace-signs>")[0]
    # past the rest of the marker's line; a module's exports are plain functions here
    return after.split("\n", 1)[1].replace("export function", "function")


def _key(a, b) -> tuple:
    """A segment whatever its direction, rounded."""
    ends = sorted([tuple(np.round(a, 9)), tuple(np.round(b, 9))])
    return (*ends[0], *ends[1])


def _polyline_segments(x, y) -> list:
    """The segments of polylines given as x, y with a NaN after each."""
    pts = np.array([x, y], float).T
    assert len(pts) and np.isnan(pts[-1]).all()
    out = []
    for line in np.split(pts, np.flatnonzero(np.isnan(pts[:, 0])) + 1):
        line = line[~np.isnan(line[:, 0])]
        out += [_key(a, b) for a, b in itertools.pairwise(line)]
    return sorted(out)


@pytest.mark.parametrize("seed", range(3))
def test_browser_traces_the_segments_python_specifies(page, seed):
    rng = np.random.default_rng(seed)
    n, units = 17, 3
    xs = np.linspace(-6, 6, n)
    gx, gy = np.meshgrid(xs, xs)
    # Smooth random fields: curves, closed loops and saddles.
    fields = [
        np.sin(gx * rng.uniform(0.3, 1.5) + rng.uniform(0, 6)) * np.cos(gy * rng.uniform(0.3, 1))
        + rng.uniform(-0.5, 0.5)
        for _ in range(units)
    ]
    positive = np.stack(fields) > 0
    enc = encode_signs(positive, (-6, 6, -6, 6))
    page.set_content("<html><body></body></html>")
    got = page.evaluate(
        "([enc, block]) => {"
        "  const traced = new Function(block + '; return [decodeSigns, traceSigns];')();"
        "  const signs = traced[0](enc);"
        "  const [units, n] = signs.shape;"
        "  const out = [];"
        "  for (let u = 0; u < units; u++) {"
        "    const r = traced[1](signs.bits, u * n * n, n, signs.box, [], []);"
        "    out.push([Array.from(r.x), Array.from(r.y)]);"
        "  }"
        "  return out;"
        "}",
        [enc, _block()],
    )
    assert len(got) == units
    total = 0
    for u, (x, y) in enumerate(got):
        want = sign_segments(positive[u], xs, xs)
        assert _polyline_segments(x, y) == sorted(_key(a, b) for a, b in want)
        assert np.isnan(x).sum() < len(want)  # segments were joined into longer lines
        total += len(want)
    assert total > 20  # the fields do bend inside the grid
