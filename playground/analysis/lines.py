"""Straight lines in the plane: where a line crosses a box, and the first hidden layer's
bends (each a straight line z_j = 0) against the view: how many cross it, where their
pairs meet. Exact float64 geometry; the region story and the lessons read these counts.
"""

from typing import NamedTuple

import numpy as np

from playground.analysis.geometry import region_count
from playground.core.datasets import BOX

MIN_LINE_NORM = 1e-12  # a first-layer unit with smaller weights has no bend at all


PARALLEL_SIN = 1e-9  # |sin| of the angle between two bends below which they are parallel


def line_in_box(normal: np.ndarray, offset: float, box=BOX) -> np.ndarray | None:
    """Ends (2, 2) of the line normal·x + offset = 0 inside box (x0, x1, y0, y1), sorted
    by x then y, or None when it misses the box (or touches it in one point)."""
    a, c = float(normal[0]), float(normal[1])
    x0, x1, y0, y1 = (float(v) for v in box)
    hits = []
    if c != 0.0:  # crossings of the left and right edges
        hits += [(x, -(a * x + offset) / c) for x in (x0, x1)]
    if a != 0.0:  # crossings of the bottom and top edges
        hits += [(-(c * y + offset) / a, y) for y in (y0, y1)]
    eps = 1e-9 * (1.0 + max(abs(v) for v in (x0, x1, y0, y1)))
    inside = [p for p in hits if x0 - eps <= p[0] <= x1 + eps and y0 - eps <= p[1] <= y1 + eps]
    if len(inside) < 2:
        return None
    pts = np.array(sorted(set(inside)))
    return np.array([pts[0], pts[-1]])


class LineStats(NamedTuple):
    """The first hidden layer's bends (straight lines z_j = 0) against a box."""

    units: int  # H
    crossing: int  # lines that pass through the box
    missing: int  # lines that miss it (outside the view)
    flat: int  # units with zero weights: no line anywhere
    pairs_inside: int  # pairs of crossing lines that meet inside the box
    pairs_outside: int  # ... that meet outside it
    pairs_parallel: int  # ... that never meet

    @property
    def general_count(self) -> int:
        """Regions of layer 1 in the box if no three lines met in one point."""
        return 1 + self.crossing + self.pairs_inside


def first_layer_lines(w, b, box) -> LineStats:
    """Count the first layer's lines crossing the box and where their pairs meet.

    w: (2, H) weights, b: (H,) biases of the first hidden layer (raw x1, x2 inputs).
    """
    w, b = np.asarray(w, np.float64), np.asarray(b, np.float64)
    x0, x1, y0, y1 = (float(v) for v in box)
    corners = np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]])
    z = corners @ w + b  # (4, H)
    norm = np.linalg.norm(w, axis=0)
    flat = norm <= MIN_LINE_NORM
    tol = 1e-10 * (np.abs(w).T @ np.abs(corners).max(0) + np.abs(b))
    crosses = ~flat & (z.min(0) < -tol) & (z.max(0) > tol)
    idx = np.flatnonzero(crosses)
    inside = outside = parallel = 0
    if len(idx) >= 2:
        i, j = np.triu_indices(len(idx), k=1)
        a, c = idx[i], idx[j]
        det = w[0, a] * w[1, c] - w[1, a] * w[0, c]
        par = np.abs(det) <= PARALLEL_SIN * norm[a] * norm[c]
        safe = np.where(par, 1.0, det)
        # Solve w_a·p = -b_a and w_c·p = -b_c (Cramer's rule).
        px = (-b[a] * w[1, c] + b[c] * w[1, a]) / safe
        py = (-w[0, a] * b[c] + w[0, c] * b[a]) / safe
        within = ~par & (px > x0) & (px < x1) & (py > y0) & (py < y1)
        parallel, inside = int(par.sum()), int(within.sum())
        outside = len(a) - parallel - inside
    return LineStats(
        units=w.shape[1],
        crossing=int(crosses.sum()),
        missing=int((~flat & ~crosses).sum()),
        flat=int(flat.sum()),
        pairs_inside=inside,
        pairs_outside=outside,
        pairs_parallel=parallel,
    )


def first_layer_regions(params, activation: str, box) -> int:
    """Exact regions of the first hidden layer alone in the box."""
    w, b = (np.asarray(p, np.float64) for p in next(iter(params)))
    head = (np.zeros((w.shape[1], 1)), np.zeros(1))
    return region_count([(w, b), head], activation, box)


def lines_reach(w, b) -> float:
    """Half-width h of the smallest centred square [-h, h]² every first-layer bend meets.

    The line w1·x1 + w2·x2 + b = 0 meets [-h, h]² exactly when |b| <= h (|w1| + |w2|).
    """
    w, b = np.asarray(w, np.float64), np.asarray(b, np.float64)
    l1 = np.abs(w).sum(axis=0)
    real = l1 > MIN_LINE_NORM
    return float(np.max(np.abs(b[real]) / l1[real])) if real.any() else 0.0
