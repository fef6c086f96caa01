"""Live bends (``analysis.grid_bends``) against the exact geometry: the first layer's lines
equal the exact ones, and the bends traced through sign bits lie within one grid cell of
the exact bends, and the other way round (but for slivers thinner than a cell), on random
nets of depth 1-3."""

import itertools

import numpy as np
import pytest

from playground.analysis.geometry import bends
from playground.analysis.grid_bends import first_layer_bends, sign_segments, signs_grid
from playground.analysis.lines import line_in_box
from playground.core.datasets import BOX
from playground.core.model import ACTIVATIONS

N = 48  # the live boundary's signs grid (``signs_grid`` of server.frames.GRID_N)


def _random_net(rng, hidden, *, scale=1.0):
    sizes = [2, *hidden, 1]
    return [
        (rng.normal(size=(a, b)) * scale / np.sqrt(a), rng.normal(size=b) * scale)
        for a, b in itertools.pairwise(sizes)
    ]


def _preactivations(params, pts, activation="relu"):
    act = ACTIVATIONS[activation].numpy
    h, pre = pts, []
    for w, b in params[:-1]:
        z = h @ w + b
        pre.append(z)
        h = act(z)
    return pre


def _point_segment_distance(points, segments):
    """Distance (P,) from each point to the nearest of segments (S, 2, 2)."""
    a, b = segments[:, 0], segments[:, 1]
    ab = b - a
    ap = points[:, None, :] - a[None]
    t = np.clip((ap * ab).sum(-1) / np.maximum((ab * ab).sum(-1), 1e-300), 0, 1)
    nearest = a[None] + t[..., None] * ab[None]
    return np.linalg.norm(points[:, None, :] - nearest, axis=-1).min(1)


def _samples(segments, step):
    """Points every ``step`` along each segment, ends included."""
    out = []
    for a, b in segments:
        k = max(2, int(np.ceil(np.linalg.norm(b - a) / step)) + 1)
        out.append(a + np.linspace(0, 1, k)[:, None] * (b - a))
    return np.concatenate(out) if out else np.zeros((0, 2))


@pytest.mark.parametrize("seed", range(6))
def test_first_layer_bends_are_the_exact_lines(seed):
    rng = np.random.default_rng(seed)
    w, b = rng.normal(size=(2, 12)), rng.normal(size=12) * 8  # some lines miss the box
    w[:, 0] = 0  # a unit with no line at all
    w[0, 1] = 0  # a horizontal line
    ends = first_layer_bends(w, b, BOX)
    for j in range(12):
        exact = line_in_box(w[:, j], b[j], BOX)
        if exact is None:
            assert np.isnan(ends[j]).all(), j
        else:
            got = ends[j][np.lexsort((ends[j][:, 1], ends[j][:, 0]))]
            np.testing.assert_allclose(got, exact, atol=1e-9)
    assert np.isnan(ends[0]).all()


@pytest.mark.parametrize("hidden", [(6,), (8, 8), (6, 6, 6)])
@pytest.mark.parametrize("seed", range(3))
def test_traced_bends_lie_within_a_grid_cell_of_the_exact_ones(hidden, seed):
    rng = np.random.default_rng(100 + seed)
    params = _random_net(rng, hidden, scale=2.0)
    xs = np.linspace(BOX[0], BOX[1], N)
    ys = np.linspace(BOX[2], BOX[3], N)
    pts = np.stack(np.meshgrid(xs, ys), -1).reshape(-1, 2)
    pre = _preactivations(params, pts)
    cell = np.hypot(xs[1] - xs[0], ys[1] - ys[0])  # one cell's diagonal
    exact = {(b.layer, b.unit): np.asarray(b.segments) for b in bends(params, "relu", BOX)}
    checked = 0
    for layer, z in enumerate(pre):
        for j in range(z.shape[1]):
            drawn = sign_segments(z[:, j].reshape(N, N) > 0, xs, ys)
            true = exact[(layer, j)].reshape(-1, 2, 2)
            if len(true) == 0 or len(drawn) == 0:
                # Neither, or a zero line shorter than a cell that no grid edge crosses.
                assert len(drawn) == 0 or len(true) == 0
                span = np.ptp(true.reshape(-1, 2), axis=0).max() if len(true) else 0.0
                assert len(drawn) == 0 and span <= 2 * cell, (layer, j)
                continue
            # Every drawn segment joins two edges the exact line crosses: within its cell.
            assert _point_segment_distance(_samples(drawn, cell / 4), true).max() <= cell
            # The exact line is drawn wherever it is wider than the grid sees: only the
            # tip of a sliver thinner than a cell (both sides between two grid points)
            # may reach further.
            far = _point_segment_distance(_samples(true, cell / 4), drawn)
            assert (far <= cell).mean() >= 0.98 and far.max() <= 3 * cell, (layer, j)
            checked += 1
    assert checked >= len(hidden) * 3  # most units bend inside the box


def test_sign_segments_cases():
    xs = ys = np.arange(3.0)
    assert sign_segments(np.zeros((3, 3), bool), xs, ys).shape == (0, 2, 2)
    # One positive corner: a short cut across that corner in each of its four cells.
    one = np.zeros((3, 3), bool)
    one[1, 1] = True
    segs = sign_segments(one, xs, ys)
    assert segs.shape == (4, 2, 2)
    mids = {tuple(sorted(map(tuple, s))) for s in segs}
    assert ((0.5, 1.0), (1.0, 0.5)) in mids and ((1.0, 1.5), (1.5, 1.0)) in mids
    # A saddle: two segments in the one cell.
    saddle = np.array([[True, False], [False, True]])
    assert sign_segments(saddle, np.arange(2.0), np.arange(2.0)).shape == (2, 2, 2)


def test_signs_travel_as_bits_and_come_back():
    from playground.figures.wire import decode_array, encode_signs

    positive = np.random.default_rng(0).random((3, 17, 17)) > 0.5  # 289 bits: padded units
    enc = encode_signs(positive, BOX)
    assert enc["dtype"] == "b1" and enc["shape"] == [3, 17, 17] and enc["box"] == list(BOX)
    np.testing.assert_array_equal(decode_array(enc), positive.astype(np.float32))


def test_a_live_snapshot_carries_the_first_layer_lines_and_the_deeper_signs():
    from playground.core.config import RunConfig
    from playground.live.session.live_run import LiveRun

    live = LiveRun(RunConfig(problem="circle", hidden=(8, 8)))
    live.train_steps(64)
    snap = live.live_snapshot(32)
    params = live.params_numpy()
    # The same lines in float32 inside the jitted picture as in float64 here.
    np.testing.assert_allclose(snap.lines, first_layer_bends(*params[0], BOX), atol=1e-4)
    m = signs_grid(32)  # 24: the signs' own, coarser grid
    xs = np.linspace(BOX[0], BOX[1], m)
    pts = np.stack(np.meshgrid(xs, xs), -1).reshape(-1, 2)
    want = (_preactivations(params, pts)[1] > 0).T.reshape(8, m, m)
    assert len(snap.signs) == 1 and snap.signs[0].shape == (8, m, m) and m == 24
    assert (snap.signs[0] != want).mean() < 0.002  # float32 vs float64 right at zero
    assert snap.bends == []  # no exact geometry for a live picture
    # Nets without bends (tanh) carry none, and say so the same way.
    smooth = LiveRun(RunConfig(hidden=(8,), activation="tanh")).live_snapshot(16)
    assert smooth.lines is None and smooth.signs == ()
