"""The picked unit (issue 22): the unit whose bend passes nearest a click on the plane,
against exact geometry, and the picked unit's bend in every picture, live or exact, as
the one the unit's own bend is."""

import numpy as np
import pytest

from playground.core.config import RunConfig
from playground.figures.boundary import PICKED, picked_bend_arrays
from playground.figures.wire import decode_array
from playground.live.server.frames import BoundaryView, PictureEncoder
from playground.live.session.live_run import LiveRun


@pytest.fixture(scope="module")
def trained() -> LiveRun:
    run = LiveRun(RunConfig(problem="xor", hidden=(5, 4), speed="fast", seed=3))
    run.train_steps(300)
    return run


def test_a_click_on_a_first_layer_line_picks_its_unit_at_its_distance(trained):
    (w, b), *_ = trained.params_numpy()
    rng = np.random.default_rng(0)
    first = 0
    for x, y in rng.uniform(-5, 5, size=(20, 2)):
        # Independent: a point's distance to each line w·p + b = 0 is |w·p + b| / |w|.
        lines = np.abs(w[0] * x + w[1] * y + b) / np.hypot(w[0], w[1])
        layer, unit, d = trained.nearest_bend(float(x), float(y))
        if layer == 0:
            first += 1
            assert unit == int(np.argmin(lines))
            assert d == pytest.approx(lines.min(), rel=1e-3, abs=1e-4)
        else:
            assert d <= lines.min() + 1e-4  # a deeper bend came nearer
    assert first >= 5


def test_a_click_on_a_deeper_units_exact_bend_picks_that_unit(trained):
    bends = [b for b in trained.snapshot(32).bends if b.layer == 1 and len(b.segments)]
    assert bends
    for bend in bends:
        s = np.reshape(bend.segments, (-1, 2, 2))[0]
        x, y = (s[0] + s[1]) / 2  # the middle of one of its exact segments
        layer, unit, d = trained.nearest_bend(float(x), float(y))
        assert (layer, unit) == (1, bend.unit) and d < 1e-3


def test_no_hidden_layer_has_no_bend_to_pick():
    assert LiveRun(RunConfig(problem="xor", hidden=())).nearest_bend(0.5, 0.5) is None


def picked(arrays: dict) -> dict:
    return {k.split(".", 1)[1]: decode_array(v) for k, v in arrays.items()
            if k.startswith(f"{PICKED}.")}  # fmt: skip


@pytest.mark.parametrize("pick", [(0, 2), (1, 3)])
def test_every_picture_carries_the_picked_units_own_bend(trained, pick):
    view = BoundaryView(2, False, picked_bend=True, picked=pick)
    encoder = PictureEncoder(trained.data, view)
    # A still picture: the unit's exact segments.
    still = trained.snapshot(32)
    mine = [b for b in still.bends if (b.layer, b.unit) == pick]
    got = picked(encoder.arrays(still))
    want = picked_bend_arrays(np.reshape(mine[0].segments, (-1, 2, 2)))
    np.testing.assert_allclose(got["x"], want[f"{PICKED}.x"].values, atol=2e-3)
    np.testing.assert_allclose(got["y"], want[f"{PICKED}.y"].values, atol=2e-3)
    # A live picture: layer 1 its own line, a deeper unit its own signs.
    snap = trained.live_snapshot(32)
    got = picked(encoder.arrays(snap))
    layer, unit = pick
    if layer == 0:
        ends = snap.lines[unit]
        np.testing.assert_allclose(got["x"][:2], ends[:, 0], atol=2e-3)
        np.testing.assert_allclose(got["y"][:2], ends[:, 1], atol=2e-3)
    else:
        assert np.isnan(got["x"]).all()
        np.testing.assert_array_equal(got["signs"], snap.signs[layer - 1][unit : unit + 1])
    # Without a pick, nothing is sent for the trace; nor without the trace.
    assert not picked(PictureEncoder(trained.data, view._replace(picked=None)).arrays(snap))
    assert not picked(PictureEncoder(trained.data, view._replace(picked_bend=False)).arrays(snap))


def test_a_pick_the_network_does_not_have_draws_no_bend(trained):
    view = BoundaryView(2, False, picked_bend=True, picked=(1, 40))
    got = picked(PictureEncoder(trained.data, view).arrays(trained.live_snapshot(32)))
    assert got["x"].size == 0 or np.isnan(got["x"]).all()
