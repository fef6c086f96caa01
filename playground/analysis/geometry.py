"""Exact geometry of a piecewise-linear MLP in a 2D box: its bends and its linear regions.

A ReLU (or leaky ReLU) unit is affine on each side of the set where its pre-activation is
zero, so a network with raw inputs (x1, x2) cuts the plane into convex polygons on which
it is exactly affine. We find them layer by layer:

1. Start with one piece, the box, where the layer input is the identity map of x.
2. For a hidden layer, every piece knows its pre-activation z = x @ A + c (A: 2 x width).
   Each unit's zero line z_j = 0 splits the pieces it crosses into an active and an
   inactive part. After all units of the layer, a piece knows its 0/1 pattern, and the
   next layer's input map is A, c with inactive columns zeroed (relu), scaled by the
   slope (leaky relu) or left alone (linear: no split at all).
3. After the last hidden layer the output layer gives each piece its gradient and offset.

A unit's bend is its zero set. In the first layer it is a straight line; deeper, it is
straight inside each piece of the partition by the earlier layers and kinks between them.

Only NumPy runs here, in float64. ``params`` follow ``playground.core.model``: a list of
``(W, b)`` with W of shape (fan_in, fan_out); the last pair is the output layer.

One algorithm in one module (~600 lines): the splitting, its tolerances and the readers
of its result share private piece arrays that no other module should see.
"""

import itertools
import math
import statistics
import time
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from playground.core.errors import PlaygroundError
from playground.core.features import FEATURES, RAW_FEATURES, feature_map, is_raw
from playground.core.model import ACTIVATIONS, LEAKY_RELU_SLOPE, PIECEWISE_LINEAR

# A pre-activation this small, relative to the size of its terms in the box, counts as zero:
# a vertex that close to a unit's line lies on it (lines through vertices, concurrent lines).
ZERO_TOL = 1e-10
# A cut that would leave a piece smaller than this fraction of the box is not made: the
# piece stays whole, on the side holding most of it, so nothing is dropped or counted twice.
SLIVER_AREA = 1e-12
# Beyond this many pieces the exact partition stops (memory, and no page can draw it).
MAX_REGIONS = 200_000
# Pieces times hidden units held at once (each piece keeps a map and a pattern per unit).
MAX_PIECE_UNITS = 5_000_000
# Numbers in one temporary array of the vectorised steps (bends, grid), to bound memory.
CHUNK_NUMBERS = 2_000_000

Box = tuple[float, float, float, float]


class Region(NamedTuple):
    """One linear region: a convex polygon on which the network output is affine.

    polygon: (V, 2) vertices, counter-clockwise. pattern: per hidden layer, a tuple of 0/1
    (1 = unit active; all 1 for the linear activation). gradient: (n_out, 2), the output's
    d out / d(x1, x2). offset: (n_out,), so out(x) = gradient @ x + offset. area: polygon area.
    """

    polygon: np.ndarray
    pattern: tuple[tuple[int, ...], ...]
    gradient: np.ndarray
    offset: np.ndarray
    area: float


class Bend(NamedTuple):
    """Zero set of hidden unit ``unit`` of hidden layer ``layer`` (both 0-based) in the box.

    segments: (S, 2, 2) array, segment s running from segments[s, 0] to segments[s, 1].
    Empty where the unit never changes sign in the box, and for the linear activation.
    """

    layer: int
    unit: int
    segments: np.ndarray


class _Pieces(NamedTuple):
    """Convex polygons padded to a common vertex count with copies of their first vertex.

    verts: (P, V, 2); count: (P,) real vertices per polygon.
    """

    verts: np.ndarray
    count: np.ndarray


# ---------------------------------------------------------------------------------------
# Checking the inputs


def _check_box(box) -> Box:
    try:
        x0, x1, y0, y1 = (float(v) for v in box)
    except (TypeError, ValueError) as err:
        raise PlaygroundError("The box must be four numbers: x0, x1, y0, y1.") from err
    area = (x1 - x0) * (y1 - y0)
    if not (math.isfinite(area) and area > 0 and x0 < x1 and y0 < y1):
        raise PlaygroundError(
            f"The box ({x0}, {x1}, {y0}, {y1}) is empty, not finite or too large: "
            "it needs x0 < x1 and y0 < y1."
        )
    return x0, x1, y0, y1


def _check_params(params, n_in: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """The layers as float64 arrays, after checking shapes chain and values are finite."""
    try:
        layers = [
            (np.asarray(w, dtype=np.float64), np.asarray(b, dtype=np.float64)) for w, b in params
        ]
    except (TypeError, ValueError) as err:
        raise PlaygroundError("The network's parameters are not (weights, biases) pairs.") from err
    if not layers:
        raise PlaygroundError("The network has no layers.")
    fan_in = n_in
    for i, (w, b) in enumerate(layers):
        if w.ndim != 2 or b.ndim != 1 or w.shape[0] != fan_in or w.shape[1] != b.shape[0]:
            raise PlaygroundError(
                f"Layer {i + 1} has weights of shape {w.shape} and biases of shape "
                f"{b.shape}, but it should take {fan_in} inputs."
            )
        if not (np.isfinite(w).all() and np.isfinite(b).all()):
            raise PlaygroundError(
                f"Layer {i + 1} has NaN or infinite parameters (training diverged?), so the "
                "network has no regions to draw. Lower the learning rate and reset."
            )
        fan_in = w.shape[1]
    return layers


def _check_activation(activation: str) -> None:
    if activation not in PIECEWISE_LINEAR:
        raise PlaygroundError(
            f"Exact regions need a piecewise-linear activation ({', '.join(PIECEWISE_LINEAR)}), "
            f"not {activation!r}: a smooth activation has no straight-edged regions."
        )


def _inactive_slope(activation: str) -> float:
    """What an inactive unit multiplies its input by."""
    return {"relu": 0.0, "leaky_relu": LEAKY_RELU_SLOPE, "linear": 1.0}[activation]


# ---------------------------------------------------------------------------------------
# Polygons. Written by hand: no well-kept library clips many convex polygons by lines at
# once while each polygon carries its own affine map, and this is the hot loop of the page.


def _box_pieces(box: Box) -> _Pieces:
    x0, x1, y0, y1 = box
    verts = np.array([[[x0, y0], [x1, y0], [x1, y1], [x0, y1]]], dtype=np.float64)
    return _Pieces(verts, np.array([4]))


def _areas(verts: np.ndarray) -> np.ndarray:
    """Shoelace areas (P,) of padded polygons (P, V, 2); padding repeats vertex 0, adds 0."""
    x, y = verts[..., 0], verts[..., 1]
    inner = np.sum(x[:, :-1] * y[:, 1:] - x[:, 1:] * y[:, :-1], axis=1)
    return 0.5 * (inner + x[:, -1] * y[:, 0] - x[:, 0] * y[:, -1])


def _valid(count: np.ndarray, n_slots: int) -> np.ndarray:
    """(P, V) mask of real vertex slots."""
    return np.arange(n_slots)[None, :] < count[:, None]


def _next(values: np.ndarray) -> np.ndarray:
    """Value at the next vertex slot, cyclically: (P, V, ...) -> (P, V, ...).

    Padding repeats vertex 0, so the slot after the last real vertex is vertex 0 again.
    """
    return np.concatenate([values[:, 1:], values[:, :1]], axis=1)


def _compact(points: np.ndarray, keep: np.ndarray) -> _Pieces:
    """Keep the marked points of each row, in order, padded with the row's first kept point.

    points: (P, K, 2); keep: (P, K) bool.
    """
    order = np.argsort(~keep, axis=1, kind="stable")
    count = keep.sum(axis=1)
    n_slots = max(int(count.max(initial=0)), 1)
    verts = points[np.arange(len(points))[:, None], order[:, :n_slots]]
    verts = np.where(_valid(count, n_slots)[..., None], verts, verts[:, :1])
    return _Pieces(verts, count)


def _pad(pieces: _Pieces, n_slots: int) -> np.ndarray:
    """Vertices (P, n_slots, 2), widened with more copies of each polygon's vertex 0."""
    extra = n_slots - pieces.verts.shape[1]
    if extra <= 0:
        return pieces.verts
    fill = np.repeat(pieces.verts[:, :1], extra, axis=1)
    return np.concatenate([pieces.verts, fill], axis=1)


def _concat(parts: Sequence[_Pieces]) -> _Pieces:
    n_slots = max(p.verts.shape[1] for p in parts)
    return _Pieces(
        np.concatenate([_pad(p, n_slots) for p in parts]),
        np.concatenate([p.count for p in parts]),
    )


def _edge_crossings(verts, z, pos, neg):
    """Where each polygon edge (i, i+1) crosses z = 0 strictly between its ends.

    verts: (P, V, 2); z, pos, neg: (P, V), pos/neg also set on padding (copies of vertex 0).
    Returns cross (P, V) bool and the crossing points (P, V, 2).
    """
    z_next = _next(z)
    cross = (pos & _next(neg)) | (neg & _next(pos))
    # z and z_next have strictly opposite signs where cross is set, so t lies in (0, 1).
    t = np.where(cross, z / np.where(cross, z - z_next, 1.0), 0.0)
    return cross, verts + t[..., None] * (_next(verts) - verts)


def _split(pieces: _Pieces, z, pos, neg) -> tuple[_Pieces, _Pieces]:
    """Cut convex polygons by their line z = 0 into the z >= 0 and z <= 0 parts.

    Vertices on the line (neither pos nor neg) go to both parts; each strictly crossed edge
    adds its crossing point to both. Orientation is kept, so counter-clockwise stays so.
    """
    n_pieces, n_slots = z.shape
    valid = _valid(pieces.count, n_slots)
    cross, points = _edge_crossings(pieces.verts, z, pos, neg)
    # Slot i emits vertex i (if on the side) then the crossing on edge (i, i+1) (if any).
    candidates = np.stack([pieces.verts, points], axis=2).reshape(n_pieces, 2 * n_slots, 2)
    keep_pos = np.stack([valid & ~neg, cross], axis=2).reshape(n_pieces, 2 * n_slots)
    keep_neg = np.stack([valid & ~pos, cross], axis=2).reshape(n_pieces, 2 * n_slots)
    return _compact(candidates, keep_pos), _compact(candidates, keep_neg)


def _zero_tolerance(a: np.ndarray, c: np.ndarray, reach: np.ndarray) -> np.ndarray:
    """How close to 0 the pre-activations x @ a + c count as 0 in the box: (P, H).

    a: (P, 2, H); c: (P, H); reach: (2,) largest |x1| and |x2| in the box. Rounding error
    grows with the size of the terms summed, so the tolerance is relative to them.
    """
    return ZERO_TOL * (np.abs(a[:, 0]) * reach[0] + np.abs(a[:, 1]) * reach[1] + np.abs(c))


# ---------------------------------------------------------------------------------------
# The partition


class _Layered(NamedTuple):
    """Everything the partition found; arrays are per final piece."""

    pieces: _Pieces
    patterns: np.ndarray  # (P, total hidden units) bool
    gradient: np.ndarray  # (P, n_out, 2)
    offset: np.ndarray  # (P, n_out)
    widths: list[int]
    bends: list[Bend]


class TooManyPieces(PlaygroundError):
    """The partition passed its piece limit (``limit``): no exact answer here."""

    def __init__(self, limit: int):
        self.limit = limit
        super().__init__(
            f"This network cuts the box into more than {limit:,} pieces, too many to "
            "compute exactly; use the grid estimate instead."
        )


def _cut_layer(pieces, a, c, reach, min_area, max_pieces):
    """Split pieces by every unit's zero line of one layer.

    pieces: P polygons; a: (P, 2, H), c: (P, H) the layer's pre-activation on each piece.
    Returns the new pieces, parent (P',) index into the input pieces, active (P', H) bool.
    """
    n_units = a.shape[2]
    parent = np.arange(len(pieces.count))
    active = np.zeros((len(parent), n_units), dtype=bool)
    tol = _zero_tolerance(a, c, reach)  # (P, H)
    # Unit-major copies, so each unit's coefficients are one contiguous gather.
    a1, a2 = np.ascontiguousarray(a[:, 0].T), np.ascontiguousarray(a[:, 1].T)  # (H, P)
    c_t, tol_t = np.ascontiguousarray(c.T), np.ascontiguousarray(tol.T)
    for j in range(n_units):
        verts = pieces.verts
        z = (
            verts[..., 0] * a1[j, parent, None]
            + verts[..., 1] * a2[j, parent, None]
            + c_t[j, parent, None]
        )  # (P, V); padding repeats vertex 0, so it never changes any() below
        tol_j = tol_t[j, parent, None]
        pos, neg = z > tol_j, z < -tol_j
        has_pos, has_neg = pos.any(axis=1), neg.any(axis=1)
        # A piece the line misses (or only touches) is active iff the unit is positive on it.
        active[:, j] = has_pos & ~has_neg
        crossed = np.flatnonzero(has_pos & has_neg)
        if crossed.size == 0:
            continue
        upper, lower = _split(
            _Pieces(verts[crossed], pieces.count[crossed]),
            z[crossed],
            pos[crossed],
            neg[crossed],
        )
        area_up, area_low = _areas(upper.verts), _areas(lower.verts)
        sliver = np.minimum(area_up, area_low) < min_area
        if sliver.any():
            active[crossed[sliver], j] = area_up[sliver] >= area_low[sliver]
            real = ~sliver
            if not real.any():
                continue
            crossed = crossed[real]
            upper = _Pieces(upper.verts[real], upper.count[real])
            lower = _Pieces(lower.verts[real], lower.count[real])
        whole = np.ones(len(parent), dtype=bool)
        whole[crossed] = False
        pieces = _concat([_Pieces(verts[whole], pieces.count[whole]), upper, lower])
        act_up, act_low = active[crossed], active[crossed]  # fancy indexing copies
        act_up[:, j], act_low[:, j] = True, False
        active = np.concatenate([active[whole], act_up, act_low])
        parent = np.concatenate([parent[whole], parent[crossed], parent[crossed]])
        if len(parent) > max_pieces:
            raise TooManyPieces(max_pieces)
    return pieces, parent, active


def _layer_bends(pieces, a, c, reach, layer) -> list[Bend]:
    """Each unit's zero segment inside each piece (the pieces of the earlier layers).

    a: (P, 2, H), c: (P, H). Only pieces the line strictly crosses give a segment: where a
    unit is zero on a whole piece or only touches it, it does not change sign there.
    """
    n_pieces, n_slots = pieces.verts.shape[:2]
    n_units = a.shape[2]
    block = max(1, CHUNK_NUMBERS // (n_units * n_slots))
    found = [
        _chords(pieces, a, c, reach, np.arange(lo, min(lo + block, n_pieces)))
        for lo in range(0, n_pieces, block)
    ]
    unit_idx = np.concatenate([units for units, _ in found])
    segments = np.concatenate([segs for _, segs in found])
    order = np.argsort(unit_idx, kind="stable")
    bounds = np.searchsorted(unit_idx[order], np.arange(n_units + 1))
    return [Bend(layer, j, segments[order[bounds[j] : bounds[j + 1]]]) for j in range(n_units)]


def _chords(pieces, a, c, reach, rows):
    """Zero chords of every unit in the pieces ``rows``: unit (K,) and segments (K, 2, 2)."""
    verts, count = pieces.verts[rows], pieces.count[rows]
    a, c = a[rows], c[rows]
    z = np.swapaxes(verts @ a, 1, 2) + c[:, :, None]  # (B, H, V)
    tol = _zero_tolerance(a, c, reach)[:, :, None]
    pos, neg = z > tol, z < -tol
    piece_idx, unit_idx = np.nonzero(pos.any(axis=2) & neg.any(axis=2))
    if not piece_idx.size:
        return unit_idx, np.zeros((0, 2, 2))
    verts, count = verts[piece_idx], count[piece_idx]
    z, pos, neg = (arr[piece_idx, unit_idx] for arr in (z, pos, neg))
    cross, points = _edge_crossings(verts, z, pos, neg)
    on_line = _valid(count, verts.shape[1]) & ~pos & ~neg
    candidates = np.concatenate([verts, points], axis=1)  # (K, 2V, 2)
    use = np.concatenate([on_line, cross], axis=1)
    # The chord's ends are the extreme candidates along the line's direction (-a2, a1).
    grad = a[piece_idx, :, unit_idx]  # (K, 2)
    along = candidates[..., 1] * grad[:, :1] - candidates[..., 0] * grad[:, 1:]
    first = np.argmin(np.where(use, along, np.inf), axis=1)
    last = np.argmax(np.where(use, along, -np.inf), axis=1)
    k = np.arange(len(piece_idx))
    return unit_idx, np.stack([candidates[k, first], candidates[k, last]], axis=1)


def _apply(m: np.ndarray, w: np.ndarray) -> np.ndarray:
    """m @ w for m (P, 2, n) and w (n, H) as one matrix product (a stacked one is slow)."""
    n_pieces, n_dims, _ = m.shape
    return (m.reshape(n_pieces * n_dims, -1) @ w).reshape(n_pieces, n_dims, w.shape[1])


def _partition(params, activation: str, box, *, with_bends: bool, max_regions: int):
    _check_activation(activation)
    box = _check_box(box)
    layers = _check_params(params, n_in=2)
    x0, x1, y0, y1 = box
    reach = np.array([max(abs(x0), abs(x1)), max(abs(y0), abs(y1))])
    min_area = SLIVER_AREA * (x1 - x0) * (y1 - y0)
    slope = _inactive_slope(activation)
    # Each piece keeps a pattern bit per hidden unit and a map per unit of its layer.
    total_units = sum(w.shape[1] for w, _ in layers[:-1])
    max_pieces = min(max_regions, MAX_PIECE_UNITS // max(total_units, 1))

    pieces = _box_pieces(box)
    m = np.eye(2)[None]  # (P, 2, n): the current layer's input is x @ m + c on each piece
    c = np.zeros((1, 2))
    patterns = np.zeros((1, 0), dtype=bool)
    widths, bends = [], []
    with np.errstate(over="ignore", invalid="ignore"):
        for layer, (w, b) in enumerate(layers[:-1]):
            a = _apply(m, w)  # (P, 2, H)
            cz = c @ w + b  # (P, H)
            if not (np.isfinite(a).all() and np.isfinite(cz).all()):
                raise PlaygroundError(
                    "The network's values overflow inside the box; its weights are too large."
                )
            widths.append(w.shape[1])
            if activation == "linear":
                # Nothing bends: every unit passes its input through on the whole piece.
                parent = np.arange(len(pieces.count))
                active = np.ones((len(parent), w.shape[1]), dtype=bool)
                if with_bends:
                    empty = np.zeros((0, 2, 2))
                    bends += [Bend(layer, j, empty) for j in range(w.shape[1])]
            else:
                if with_bends:
                    bends += _layer_bends(pieces, a, cz, reach, layer)
                pieces, parent, active = _cut_layer(pieces, a, cz, reach, min_area, max_pieces)
            gate = np.where(active, 1.0, slope)  # (P', H)
            m = a[parent] * gate[:, None, :]
            c = cz[parent] * gate
            patterns = np.concatenate([patterns[parent], active], axis=1)
        w, b = layers[-1]
        out_grad = _apply(m, w)  # (P, 2, n_out)
        offset = c @ w + b
    if not (np.isfinite(out_grad).all() and np.isfinite(offset).all()):
        raise PlaygroundError(
            "The network's values overflow inside the box; its weights are too large."
        )
    return _Layered(pieces, patterns, out_grad.transpose(0, 2, 1), offset, widths, bends)


def _pattern_tuples(patterns: np.ndarray, widths: Sequence[int]) -> list[tuple]:
    """Rows of the (P, total) pattern array as per-layer tuples of 0/1."""
    ends = np.cumsum(widths).tolist()
    spans = list(zip([0, *ends][:-1], ends, strict=True))
    return [
        tuple(tuple(row[lo:hi]) for lo, hi in spans) for row in patterns.astype(np.int8).tolist()
    ]


def _regions(found: _Layered) -> list[Region]:
    verts, count = found.pieces
    rows = zip(
        verts,
        count.tolist(),
        _pattern_tuples(found.patterns, found.widths),
        found.gradient,
        found.offset,
        _areas(verts).tolist(),
        strict=True,
    )
    # Copies, so a region does not keep the whole padded array alive.
    return [Region(v[:n].copy(), p, g, o, a) for v, n, p, g, o, a in rows]


# ---------------------------------------------------------------------------------------
# Public API


def linear_regions(params, activation: str, box, *, max_regions: int = MAX_REGIONS) -> list[Region]:
    """The exact linear regions of the network inside box = (x0, x1, y0, y1).

    Needs raw (x1, x2) inputs and a piecewise-linear activation. The polygons tile the box;
    each has its own activation pattern. Raises PlaygroundError on NaN/inf parameters, a
    bad box, a non piecewise-linear activation, or more than ``max_regions`` pieces.
    """
    return _regions(_partition(params, activation, box, with_bends=False, max_regions=max_regions))


def bends(params, activation: str, box, *, max_regions: int = MAX_REGIONS) -> list[Bend]:
    """Every hidden unit's bend (its zero set) inside the box, one Bend per unit, in order."""
    return _partition(params, activation, box, with_bends=True, max_regions=max_regions).bends


def regions_and_bends(
    params, activation: str, box, *, max_regions: int = MAX_REGIONS
) -> tuple[list[Region], list[Bend]]:
    """Both at the cost of one partition (what the live page draws)."""
    found = _partition(params, activation, box, with_bends=True, max_regions=max_regions)
    return _regions(found), found.bends


def region_count(params, activation: str, box, *, max_regions: int = MAX_REGIONS) -> int:
    """Number of exact activation regions of the hidden layers inside the box."""
    found = _partition(params, activation, box, with_bends=False, max_regions=max_regions)
    return len(found.pieces.count)


def bends_by_layer(bends: Sequence[Bend], n_layers: int) -> list[np.ndarray]:
    """The segments of all bends grouped per hidden layer: per layer (S, 2, 2)."""
    layers: list[list[np.ndarray]] = [[] for _ in range(n_layers)]
    for b in bends:
        if b.layer < n_layers:
            layers[b.layer].append(np.asarray(b.segments).reshape(-1, 2, 2))
    return [np.concatenate(s) if s else np.zeros((0, 2, 2)) for s in layers]


def max_regions_one_layer(hidden: int, d_in: int = 2) -> int:
    """Most regions H hyperplanes in general position cut R^d_in into: sum_j<=d_in C(H, j).

    In the plane: 1 + H + C(H, 2) (H = 1, 2, 3, 5, 8, 12 -> 2, 4, 7, 16, 37, 79).
    """
    return sum(math.comb(hidden, j) for j in range(d_in + 1))


def grid_pattern_count(
    params, activation: str, box, n: int, features: Sequence[str] = RAW_FEATURES
) -> int:
    """Distinct activation patterns (signs of every hidden pre-activation) on an n x n grid.

    The grid points are the centres of n x n equal cells of the box, so the n grid's points
    are among the 3n grid's. A grid can only undercount the exact regions: a region no
    point falls in is missed. Works for any features and activation (there it counts sign
    patterns, a labelled estimate). The linear activation has one pattern, as exactly.
    """
    x0, x1, y0, y1 = _check_box(box)
    if activation not in ACTIVATIONS:
        raise PlaygroundError(f"Unknown activation {activation!r}.")
    unknown = [f for f in features if f not in FEATURES]
    if unknown:
        raise PlaygroundError(f"Unknown input features: {', '.join(unknown)}.")
    n = int(n)
    if n < 1:
        raise PlaygroundError("The grid needs at least one point per side.")
    layers = _check_params(params, n_in=len(features))
    if len(layers) == 1 or activation == "linear":
        return 1
    act = ACTIVATIONS[activation].numpy
    xs = x0 + (np.arange(n) + 0.5) * (x1 - x0) / n
    ys = y0 + (np.arange(n) + 0.5) * (y1 - y0) / n
    seen: set[bytes] = set()
    widest = max(len(features), *(w.shape[1] for w, _ in layers))
    rows_per_chunk = max(1, CHUNK_NUMBERS // (n * widest))  # bounds memory of big grids
    with np.errstate(over="ignore", invalid="ignore"):
        for start in range(0, n, rows_per_chunk):
            gy, gx = np.meshgrid(ys[start : start + rows_per_chunk], xs, indexing="ij")
            h = feature_map(np.stack([gx.ravel(), gy.ravel()], axis=1), features)
            signs = []
            for w, b in layers[:-1]:
                z = h @ w + b
                signs.append(z > 0)
                h = act(z)
            packed = np.packbits(np.concatenate(signs, axis=1), axis=1)
            seen.update(row.tobytes() for row in np.unique(packed, axis=0))
    return len(seen)


def has_bends(activation: str) -> bool:
    """Whether a unit of this activation bends the plane where its input crosses 0
    (the linear activation never does; smooth ones have no exact bend)."""
    return activation in PIECEWISE_LINEAR and _inactive_slope(activation) != 1.0


def geometry_supported(activation: str, features: Sequence[str]) -> tuple[bool, str]:
    """Whether exact bends and regions exist for this net, and if not, why in plain words."""
    if activation not in PIECEWISE_LINEAR:
        return False, (
            f"{activation} is a smooth curve, not straight pieces, so the network has no "
            "exact linear regions."
        )
    if not is_raw(features):
        return False, (
            "The inputs include features other than x1 and x2 (such as x1² or sin x1), "
            "so even the first layer's bends are curves."
        )
    return True, ""


def bench_partition(
    width: int = 32,
    depth: int = 2,
    box: Box = (-6.0, 6.0, -6.0, 6.0),
    *,
    repeats: int = 7,
    seed: int = 0,
    bias_std: float = 0.0,
) -> dict:
    """Median time of the exact partition (with bends) of a random He-initialised net.

    Biases are N(0, bias_std) (0 is what a fresh net has). Returns milliseconds and counts.
    """
    rng = np.random.default_rng(seed)
    sizes = [2, *([width] * depth), 1]
    params = [
        (rng.normal(size=(i, o)) * np.sqrt(2.0 / i), rng.normal(size=o) * bias_std)
        for i, o in itertools.pairwise(sizes)
    ]
    times, regions = [], 0
    for _ in range(repeats):
        start = time.perf_counter()
        found, _ = regions_and_bends(params, "relu", box)
        times.append(time.perf_counter() - start)
        regions = len(found)
    return {
        "width": width,
        "depth": depth,
        "regions": regions,
        "median_ms": 1e3 * statistics.median(times),
        "min_ms": 1e3 * min(times),
    }


if __name__ == "__main__":
    for w, d, s in [(8, 2, 0.0), (8, 2, 1.0), (32, 2, 0.0), (32, 2, 1.0)]:
        print(bench_partition(w, d, bias_std=s))
