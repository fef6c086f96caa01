"""Bends for live pictures, cheap enough for 25 pictures a second per learner.

The exact partition (``geometry``) cuts polygons in Python: right for a paused picture,
far too costly for every live one of a class. A live picture instead carries

- the first hidden layer's bends exactly (straight lines, from the weights alone:
  ``first_layer_bends``), and
- for deeper layers, one sign bit per unit and grid point (pre-activation > 0), taken
  from the forward pass that draws the output grid anyway; the browser traces each unit's
  zero line through those bits (``live_plot_js/codec.js``, ``traceSigns``), as TensorFlow
  Playground draws its pictures on the learner's own machine.

``sign_segments`` is the tracing rule in NumPy: the specification the JS follows (a
browser test compares the two) and what tests hold against the exact bends: every traced
segment lies within one grid cell of an exact one and the other way round.
"""

import numpy as np

from playground.analysis.lines import MIN_LINE_NORM


def signs_grid(n: int) -> int:
    """Points a side of the signs' grid for an output grid of n a side: 3/4 as many, so
    the bits of a picture's deeper bends (units x m x m / 8 bytes) weigh about half the
    output grid's bytes instead of as much, and a bend is still drawn within 0.26 units
    (12 / 47, one cell) at the live grid's 64."""
    return max(2, 3 * n // 4)


def first_layer_bends(w, b, box, *, xp=np):
    """Ends (H, 2, 2) of each first-layer unit's line w_j·x + b_j = 0 inside the box
    (x0, x1, y0, y1); NaN rows for lines that miss it. w: (2, H), b: (H,). ``xp``: NumPy
    (float64) or jax.numpy (inside a live picture's jitted forward pass).

    Vectorised ``lines.line_in_box``: each line meets the box's four edge lines in at
    most four points; the two inside it, farthest apart, are its ends."""
    if xp is not np:
        return _line_ends(w, b, box, xp)
    # Lines parallel to an edge give inf / NaN crossings there, never inside: no warning.
    with np.errstate(divide="ignore", invalid="ignore"):
        return _line_ends(np.asarray(w, np.float64), np.asarray(b, np.float64), box, np)


def _line_ends(w, b, box, xp):
    x0, x1, y0, y1 = (float(v) for v in box)
    a, c = w[0][:, None], w[1][:, None]
    n = b.shape[0]
    xs, ys = xp.asarray([[x0, x1]], w.dtype), xp.asarray([[y0, y1]], w.dtype)
    # crossings of the left/right edges (x fixed) and of the bottom/top ones (y fixed)
    px = xp.concatenate([xp.broadcast_to(xs, (n, 2)), -(c * ys + b[:, None]) / a], 1)
    py = xp.concatenate([-(a * xs + b[:, None]) / c, xp.broadcast_to(ys, (n, 2))], 1)
    eps = 1e-6 * (1.0 + max(abs(v) for v in (x0, x1, y0, y1)))
    inside = (
        xp.isfinite(px)
        & xp.isfinite(py)
        & (px >= x0 - eps)
        & (px <= x1 + eps)
        & (py >= y0 - eps)
        & (py <= y1 + eps)
    )
    # Order each line's hits by position along it; its ends are the first and last inside.
    t = px * -w[1][:, None] + py * w[0][:, None]
    lo = xp.argmin(xp.where(inside, t, xp.inf), 1)[:, None]
    hi = xp.argmax(xp.where(inside, t, -xp.inf), 1)[:, None]
    ends = xp.stack(
        [
            xp.concatenate([xp.take_along_axis(px, lo, 1), xp.take_along_axis(py, lo, 1)], 1),
            xp.concatenate([xp.take_along_axis(px, hi, 1), xp.take_along_axis(py, hi, 1)], 1),
        ],
        1,
    )
    span = xp.linalg.norm(ends[:, 1] - ends[:, 0], axis=1)
    flat = xp.linalg.norm(w, axis=0) <= MIN_LINE_NORM
    missing = flat | ~inside.any(1) | ~(span > eps)
    return xp.where(missing[:, None, None], xp.nan, ends)


# Marching squares: a cell's corners (bottom-left, bottom-right, top-right, top-left) and
# its edges (bottom, right, top, left) as corner pairs; each edge's midpoint in cell units.
_EDGES = ((0, 1), (1, 2), (2, 3), (3, 0))
_MIDPOINTS = np.array([[0.5, 0.0], [1.0, 0.5], [0.5, 1.0], [0.0, 0.5]])


def sign_segments(positive: np.ndarray, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """Where one unit changes sign on a grid: segments (S, 2, 2) between the midpoints of
    the crossed edges of each cell. ``positive`` (n_y, n_x) bools, row r at ys[r].

    A cell whose four edges are all crossed (a saddle) gets two segments: bottom-right
    and top-left. The true zero line crosses the same edges, so it is within one cell.
    """
    p = np.asarray(positive, bool)
    corners = np.stack([p[:-1, :-1], p[:-1, 1:], p[1:, 1:], p[1:, :-1]], -1)  # (r, c, 4)
    crossed = np.stack([corners[..., i] != corners[..., j] for i, j in _EDGES], -1)
    r, c = np.nonzero(crossed.any(-1))
    edges = crossed[r, c]  # (cells, 4), two or four True each
    dx, dy = xs[1] - xs[0], ys[1] - ys[0]
    origin = np.stack([xs[c], ys[r]], -1)
    # First segment: the first two crossed edges (a saddle's bottom and right edges).
    order = np.argsort(~edges, axis=1, kind="stable")
    ends = [order[:, 0], order[:, 1]]
    first = np.stack([origin + _MIDPOINTS[e] * (dx, dy) for e in ends], 1)
    saddle = edges.all(1)
    second = np.stack([origin[saddle] + _MIDPOINTS[e] * (dx, dy) for e in (2, 3)], 1)
    return np.concatenate([first, second]).reshape(-1, 2, 2)
