"""live_plot in a real browser: the demo page updates a heatmap and two lines ~20x/s.

Checks that the chart is patched in place (same DOM node, counter climbing, z changing,
zoom kept), that Plotly's JS comes over HTTP and not through the websocket, and that a
lost browser state is recovered: all on one page, opened once per test process, that
each test watches draw on. ``test_measure`` prints (and writes to
test-artifacts/live_plot_metrics.json) draws per second and websocket bytes per frame:

    PLAYGROUND_MEASURE_S=10 .venv/bin/python -m pytest \
        tests/system/browser/test_live_plot_browser.py -k measure -s
"""

from __future__ import annotations

import json
import re
import statistics
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.system.browser.conftest import DEMO_APP
from tests.system.browser.test_playground_browser import MEASURE_S

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page


PLOT = ".live-plot"
FIGURE = ".live-plot .live-plot-figure"
WAIT_MS = 60_000


def _frames(page: Page) -> int:
    return int(page.locator(PLOT).get_attribute("data-frames") or 0)


def _wait_frames(page: Page, at_least: int) -> None:
    page.wait_for_function(
        "n => +(document.querySelector('.live-plot')?.dataset.frames ?? 0) >= n",
        arg=at_least,
        timeout=WAIT_MS,
    )


def _open(page: Page, url: str) -> None:
    page.goto(url)
    page.wait_for_selector(f"{PLOT}[data-frames]", timeout=WAIT_MS)
    _wait_frames(page, 2)


def _z_checksum(page: Page) -> float:
    return page.evaluate(
        """sel => { const z = document.querySelector(sel).data[0].z;
                    let s = 0; for (const row of z) for (const v of row) s += v * v; return s; }""",
        FIGURE,
    )


@dataclass
class Demo:
    """The demo page, opened once for this module's tests (a load costs seconds of CPU;
    each test only watches it draw on), with what its load fetched and every websocket
    message it received since: (arrival time, bytes)."""

    page: Page
    scripts_at_open: list[str]
    frames: list[tuple[float, int]]


@pytest.fixture(scope="module")
def demo(running_browser: Browser, shared_servers: dict[str, str]) -> Iterator[Demo]:
    context = running_browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    frames: list[tuple[float, int]] = []
    page.on(
        "websocket",
        lambda ws: ws.on("framereceived", lambda p: frames.append((time.monotonic(), len(p)))),
    )
    scripts: list[str] = []
    page.on(
        "requestfinished", lambda r: scripts.append(r.url) if "plotly.min.js" in r.url else None
    )
    _open(page, shared_servers[DEMO_APP])
    _wait_frames(page, _frames(page) + 5)
    yield Demo(page, list(scripts), frames)
    context.close()


def test_updates_in_place(demo: Demo, artifacts: Path) -> None:
    page = demo.page
    # A JS property survives only if Streamlit and Plotly keep the very same node.
    page.evaluate("sel => { document.querySelector(sel).__liveMarker = 'kept'; }", FIGURE)
    start, z0 = _frames(page), _z_checksum(page)
    _wait_frames(page, start + 5)

    assert page.evaluate("sel => document.querySelector(sel).__liveMarker", FIGURE) == "kept"
    assert page.locator(".js-plotly-plot").count() == 1
    assert page.locator(PLOT).get_attribute("data-error") is None
    assert _z_checksum(page) != z0
    assert len(page.evaluate("sel => document.querySelector(sel).data[0].z", FIGURE)) == 100
    # The theme's colors replaced Streamlit's placeholder colorway.
    colorway = page.evaluate("sel => document.querySelector(sel)._fullLayout.colorway", FIGURE)
    assert not any(c.startswith("#0000") for c in colorway)
    page.screenshot(path=artifacts / "live_plot_demo.png")


def test_zoom_survives_updates(demo: Demo) -> None:
    page = demo.page
    page.evaluate(
        "sel => Plotly.relayout(document.querySelector(sel), {'xaxis.range': [-2, 2]})", FIGURE
    )
    _wait_frames(page, _frames(page) + 4)
    xrange = page.evaluate("sel => document.querySelector(sel)._fullLayout.xaxis.range", FIGURE)
    assert xrange == pytest.approx([-2, 2])


def test_full_rerun_keeps_the_chart(demo: Demo) -> None:
    page = demo.page
    page.evaluate("sel => { document.querySelector(sel).__liveMarker = 'rerun'; }", FIGURE)
    page.get_by_role("button", name="Rerun").click()
    _wait_frames(page, _frames(page) + 4)
    assert page.evaluate("sel => document.querySelector(sel).__liveMarker", FIGURE) == "rerun"
    assert page.locator(".js-plotly-plot").count() == 1


def test_lost_browser_state_is_resent(demo: Demo) -> None:
    page = demo.page
    before = _frames(page)
    # Forget the renderer module, as a page that never got it would: the loader fires
    # the resync trigger, Python sends the figure and the renderer's URL again, and the
    # loader imports it (only a message that carries it sets ``url``).
    page.evaluate("() => { window.__playgroundLivePlot = {}; }")
    page.wait_for_function("() => !!window.__playgroundLivePlot.url", timeout=WAIT_MS)
    _wait_frames(page, before + 3)  # and the chart draws on
    assert page.locator(".js-plotly-plot").count() == 1
    assert page.locator(PLOT).count() == 1


def test_plotly_js_comes_over_http_once(demo: Demo) -> None:
    assert len(demo.scripts_at_open) == 1
    # plotly.min.js is ~4.8 MB; it never rides the websocket
    assert max(size for _, size in demo.frames) < 100_000
    request = urllib.request.Request(demo.scripts_at_open[0], headers={"Accept-Encoding": "gzip"})
    with urllib.request.urlopen(request, timeout=30) as resp:
        assert resp.status == 200
        assert "javascript" in resp.headers["Content-Type"]
        assert resp.headers.get("Content-Encoding") == "gzip"
        gz_bytes = len(resp.read())
    assert gz_bytes < 2_000_000


def test_measure(demo: Demo, artifacts: Path) -> None:
    """Draws per second and websocket bytes per frame (printed, and asserted <= 30 KB)."""
    page, frames = demo.page, demo.frames
    _wait_frames(page, 10)

    n0, f0, u0, t0 = len(frames), _frames(page), _updates(page), time.monotonic()
    page.wait_for_timeout(MEASURE_S * 1000)
    n1, f1, u1, t1 = len(frames), _frames(page), _updates(page), time.monotonic()

    # Frames that carry the plot: the heatmap alone is >13 KB; the rest are small
    # bookkeeping messages (script started/finished, the caption).
    plot_frames = [size for _, size in frames[n0:n1] if size > 10_000]
    small = [size for _, size in frames[n0:n1] if size <= 10_000]
    metrics = {
        "draws_per_s": round((f1 - f0) / (t1 - t0), 2),
        "updates_received_per_s": round((u1 - u0) / (t1 - t0), 2),
        "plot_frames_per_s": round(len(plot_frames) / (t1 - t0), 2),
        "bytes_per_plot_frame_median": statistics.median(plot_frames),
        "bytes_per_plot_frame_max": max(plot_frames),
        "bytes_other_frames_per_tick": round(sum(small) / max(len(plot_frames), 1)),
        "last_draw_ms": float(page.locator(PLOT).get_attribute("data-draw-ms") or "nan"),
        "server_caption": page.get_by_text(re.compile(r"^Tick \d+")).inner_text(),
    }
    (artifacts / "live_plot_metrics.json").write_text(json.dumps(metrics, indent=2))
    print("\nlive_plot metrics:", json.dumps(metrics, indent=2))
    assert metrics["bytes_per_plot_frame_max"] <= 30_000


def _updates(page: Page) -> int:
    return int(page.locator(PLOT).get_attribute("data-updates") or 0)
