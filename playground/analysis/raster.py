"""The exact regions of a network drawn as a raster, and what each cell shows.

Drawing 1000+ polygons as one filled Scatter trace each is slow in the browser, so the
regions are rasterised instead: every cell of an n x n grid learns which exact region
(from ``geometry``) holds its centre (a vectorised scanline over convex polygons). Where
exact regions do not exist (smooth activation, curved features) or are too many, the
cells are grouped by their activation pattern instead: a grid estimate, labelled so.
Also here: colouring the regions so that neighbours differ (a greedy graph colouring
that keeps each region's colour while it trains), slopes, and per-cell hover numbers.
No plotting here: ``figures.regions`` draws a ``RegionView``.
"""

import math
import time
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from playground.analysis.geometry import (
    geometry_supported,
    grid_pattern_count,
    regions_and_bends,
)
from playground.analysis.hidden_space import layer_values
from playground.core.datasets import grid_points
from playground.core.errors import PlaygroundError

COLOUR_MODES = ("region", "slope")


PATTERN_BITS = 24  # widths up to this show their 0/1 pattern (exact in float32 hover data)


HOVER_NUMBERS = 160_000  # hover floats per figure (4 bytes each), to bound one update


RASTER_MAX, RASTER_MIN = 160, 96


def cell_centres(box, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Centres xs (n,), ys (n,) of n x n equal cells of the box (as geometry's grid)."""
    x0, x1, y0, y1 = (float(v) for v in box)
    steps = np.arange(n) + 0.5
    return x0 + steps * (x1 - x0) / n, y0 + steps * (y1 - y0) / n


def _padded(polygons: Sequence[np.ndarray]) -> np.ndarray:
    """Polygons (V_r, 2) as one (R, V, 2) array, each padded with copies of its last vertex."""
    counts = np.array([len(p) for p in polygons])
    flat = np.concatenate([np.asarray(p, np.float64).reshape(-1, 2) for p in polygons])
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    slots = np.minimum(np.arange(counts.max())[None, :], counts[:, None] - 1)
    return flat[starts[:, None] + slots]


def _spans(lo: np.ndarray, hi: np.ndarray, start: float, step: float, n: int):
    """Index ranges [first, stop) of the cells whose centre c satisfies lo <= c < hi."""
    first = np.clip(np.ceil((lo - start) / step - 0.5), 0, n).astype(np.int64)
    stop = np.clip(np.ceil((hi - start) / step - 0.5), 0, n).astype(np.int64)
    return first, np.maximum(stop, first)


def _expand(owner: np.ndarray, first: np.ndarray, stop: np.ndarray):
    """For every owner, every index in [first, stop): (owner index, index) flat arrays."""
    size = stop - first
    rep = np.repeat(np.arange(len(owner)), size)
    offset = np.arange(len(rep)) - np.repeat(np.cumsum(size) - size, size)
    return rep, first[rep] + offset


def rasterise(polygons: Sequence[np.ndarray], box, n: int) -> np.ndarray:
    """Index of the polygon holding each cell centre: (n, n) int, row = y; -1 where none.

    Convex polygons only (as geometry's regions are). Scanline, vectorised over all
    polygons: each polygon meets each cell row in one x-interval.
    """
    ids = np.full((n, n), -1, np.int64)
    if len(polygons) == 0:
        return ids
    x0, x1, y0, y1 = (float(v) for v in box)
    dx, dy = (x1 - x0) / n, (y1 - y0) / n
    verts = _padded(polygons)
    rows_first, rows_stop = _spans(verts[..., 1].min(1), verts[..., 1].max(1), y0, dy, n)
    poly, row = _expand(np.arange(len(verts)), rows_first, rows_stop)
    yc = y0 + (row + 0.5) * dy
    a = verts[poly]
    b = np.roll(a, -1, axis=1)  # edge k runs from vertex k to k + 1 (the last closes it)
    ya, yb = a[..., 1], b[..., 1]
    hit = (np.minimum(ya, yb) <= yc[:, None]) & (yc[:, None] <= np.maximum(ya, yb)) & (ya != yb)
    t = np.where(hit, (yc[:, None] - ya) / np.where(hit, yb - ya, 1.0), 0.0)
    x = a[..., 0] + t * (b[..., 0] - a[..., 0])
    left = np.where(hit, x, np.inf).min(axis=1)
    right = np.where(hit, x, -np.inf).max(axis=1)
    ok = np.isfinite(left) & np.isfinite(right)
    cols_first, cols_stop = _spans(left[ok], right[ok], x0, dx, n)
    pair, col = _expand(np.flatnonzero(ok), cols_first, cols_stop)
    pair = np.flatnonzero(ok)[pair]
    ids[row[pair], col] = poly[pair]
    return _fill_gaps(ids)


def _fill_gaps(ids: np.ndarray) -> np.ndarray:
    """Give cells no polygon claimed (rounding on an edge) their row neighbour's region."""
    if not (ids < 0).any() or (ids < 0).all():
        return ids
    for axis in (1, 0):
        for flip in (False, True):
            a = np.flip(ids, axis) if flip else ids
            a = np.moveaxis(a, axis, 1)
            known = a >= 0
            pos = np.where(known, np.arange(a.shape[1])[None, :], 0)
            pos = np.maximum.accumulate(pos, axis=1)
            filled = np.where(known, a, np.take_along_axis(a, pos, axis=1))
            filled = np.moveaxis(filled, 1, axis)
            ids = np.flip(filled, axis) if flip else filled
    return ids


@dataclass(frozen=True)
class RegionView:
    """The regions of a network in a box, ready to draw (one per frame).

    ids: (n, n) region index of each cell (row = y), -1 where none. patterns: (R, units)
    bool. For an exact view also gradient (R, n_out, 2), offset (R, n_out), area (R,) and
    the bends; for a grid estimate those are None / empty and ``count`` is the number of
    activation patterns seen on a grid (it can only undercount).
    """

    box: tuple[float, float, float, float]
    xs: np.ndarray
    ys: np.ndarray
    ids: np.ndarray
    patterns: np.ndarray
    widths: tuple[int, ...]
    count: int
    exact: bool
    note: str = ""
    gradient: np.ndarray | None = None
    offset: np.ndarray | None = None
    area: np.ndarray | None = None
    bends: tuple = ()
    count_grid: int = 0  # cells per side of the grid the estimated count comes from
    partition_s: float = 0.0
    raster_s: float = 0.0

    @property
    def n_regions(self) -> int:
        return len(self.patterns)


def raster_size(n_out: int, n_layers: int) -> int:
    """Cells per side, so the hover data (3 numbers per output, 1 per layer) stays small."""
    per_cell = 3 * n_out + max(n_layers, 1)
    return int(np.clip(math.isqrt(HOVER_NUMBERS // per_cell), RASTER_MIN, RASTER_MAX))


def _widths(params) -> tuple[int, ...]:
    return tuple(int(np.shape(w)[1]) for w, _ in list(params)[:-1])


def exact_view(params, activation: str, box, n: int, *, max_regions: int) -> RegionView:
    """Exact regions and bends (raw x1, x2 inputs, piecewise-linear activation)."""
    t0 = time.perf_counter()
    regions, bends = regions_and_bends(params, activation, box, max_regions=max_regions)
    t1 = time.perf_counter()
    xs, ys = cell_centres(box, n)
    ids = rasterise([r.polygon for r in regions], box, n)
    widths = _widths(params)
    patterns = np.array([sum(r.pattern, ()) for r in regions], dtype=bool).reshape(
        len(regions), sum(widths)
    )
    return RegionView(
        box=tuple(float(v) for v in box),
        xs=xs,
        ys=ys,
        ids=ids,
        patterns=patterns,
        widths=widths,
        count=len(regions),
        exact=True,
        gradient=np.array([r.gradient for r in regions]),
        offset=np.array([r.offset for r in regions]),
        area=np.array([r.area for r in regions]),
        bends=tuple(bends),
        partition_s=t1 - t0,
        raster_s=time.perf_counter() - t1,
    )


def unique_rows(bits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct rows of a (N, k) bool array and each row's index among them.

    Rows are packed to bytes and compared as one opaque value each: much faster than
    ``np.unique(axis=0)``.
    """
    if bits.shape[1] == 0:  # no hidden units: one pattern, the empty one
        return np.zeros((min(len(bits), 1), 0), bool), np.zeros(len(bits), np.int64)
    packed = np.ascontiguousarray(np.packbits(bits, axis=1))
    keys = packed.view(np.dtype((np.void, packed.shape[1]))).ravel()
    _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    return bits[first], inverse.ravel()


def estimate_view(
    params, activation: str, features: Sequence[str], box, n: int, *, note: str, count_n: int
) -> RegionView:
    """Cells grouped by the sign pattern of every hidden pre-activation at their centre.

    ``count`` is ``geometry.grid_pattern_count`` on a finer ``count_n`` grid.
    """
    t0 = time.perf_counter()
    xs, ys = cell_centres(box, n)
    pts = grid_points(xs, ys)
    widths = _widths(params)
    if widths:
        signs = np.concatenate(layer_values(params, activation, features, pts, stage="pre"), 1) > 0
    else:
        signs = np.zeros((len(pts), 0), bool)
    patterns, inverse = unique_rows(signs)
    count = grid_pattern_count(params, activation, box, count_n, features)
    return RegionView(
        box=tuple(float(v) for v in box),
        xs=xs,
        ys=ys,
        ids=inverse.reshape(n, n),
        patterns=patterns,
        widths=widths,
        count=count,
        exact=False,
        note=note,
        count_grid=count_n,
        raster_s=time.perf_counter() - t0,
    )


def region_view(
    params,
    activation: str,
    features: Sequence[str],
    box,
    n: int,
    *,
    max_regions: int = 5_000,
    count_n: int = 400,
) -> RegionView:
    """Exact when it can be (and has at most ``max_regions`` regions), else the estimate."""
    ok, why = geometry_supported(activation, tuple(features))
    if ok:
        try:
            return exact_view(params, activation, box, n, max_regions=max_regions)
        except PlaygroundError as err:
            why = f"{err} The picture and the count come from a grid of points: an estimate."
    else:
        why += " The count shown is an estimate from a grid of points."
    return estimate_view(params, activation, features, box, n, note=why, count_n=count_n)


def _adjacent(ids: np.ndarray) -> np.ndarray:
    """Pairs (a, b), a < b, of regions whose cells touch (left-right or up-down)."""
    a = np.concatenate([ids[:, :-1].ravel(), ids[:-1, :].ravel()])
    b = np.concatenate([ids[:, 1:].ravel(), ids[1:, :].ravel()])
    keep = (a != b) & (a >= 0) & (b >= 0)
    lo, hi = np.minimum(a[keep], b[keep]), np.maximum(a[keep], b[keep])
    key = np.unique(lo * (int(ids.max()) + 1) + hi)  # one integer per pair: a fast unique
    return np.stack(np.divmod(key, int(ids.max()) + 1), axis=1)


def region_colours(view: RegionView, n_colours: int) -> np.ndarray:
    """A palette index per region (R,), different from its neighbours where it can be.

    Each region takes the colour its pattern hashes to, so it keeps its colour from frame
    to frame while the network trains; where two neighbours clash, the smaller one moves
    to the next colour free among its neighbours (bigger regions choose first).
    """
    packed = np.packbits(view.patterns, axis=1)
    colour = np.array([zlib.crc32(row.tobytes()) % n_colours for row in packed], dtype=np.int64)
    pairs = _adjacent(view.ids) if view.n_regions else np.zeros((0, 2), np.int64)
    clash = pairs[colour[pairs[:, 0]] == colour[pairs[:, 1]]]
    if not len(clash):
        return colour
    size = np.bincount(view.ids[view.ids >= 0], minlength=view.n_regions)
    movers = np.unique(np.where(size[clash[:, 0]] < size[clash[:, 1]], clash[:, 0], clash[:, 1]))
    touching = pairs[np.isin(pairs, movers).any(axis=1)]
    neighbours: dict[int, list[int]] = {int(r): [] for r in movers}
    for a, b in touching.tolist():
        for me, other in ((a, b), (b, a)):
            if me in neighbours:
                neighbours[me].append(other)
    for r in sorted(neighbours, key=lambda r: -size[r]):
        taken = {int(colour[k]) for k in neighbours[r]}
        free = [c for c in range(n_colours) if c not in taken]
        if free:
            colour[r] = min(free, key=lambda c: (c - colour[r]) % n_colours)
    return colour


def region_slopes(view: RegionView) -> np.ndarray:
    """Steepness |∇ out| per region (R,): the norm over every output's gradient."""
    if view.gradient is None:
        raise PlaygroundError("A grid estimate has no linear pieces, so no slopes.")
    return np.linalg.norm(view.gradient.reshape(view.n_regions, -1), axis=1)


def per_cell(view: RegionView, values: np.ndarray) -> np.ndarray:
    """Per-region values (R, ...) spread over the cells: (n, n, ...), NaN where no region."""
    values = np.asarray(values, np.float64)
    pad = np.full((1, *values.shape[1:]), np.nan)
    table = np.concatenate([values, pad])
    return table[np.where(view.ids >= 0, view.ids, len(values))]


def colour_grid(view: RegionView, colour_by: str, n_colours: int) -> np.ndarray:
    """The heatmap's z (n, n): palette index (of ``n_colours``) per region, or its slope."""
    if colour_by not in COLOUR_MODES:
        raise PlaygroundError(f"colour_by must be one of {', '.join(COLOUR_MODES)}")
    if colour_by == "slope":
        return per_cell(view, region_slopes(view))
    return per_cell(view, region_colours(view, n_colours))


def pattern_numbers(view: RegionView) -> np.ndarray:
    """Per region and layer (R, L): the 0/1 pattern read as binary (unit 1 first), or,
    for layers wider than PATTERN_BITS, the number of active units."""
    out, start = [], 0
    for width in view.widths:
        bits = view.patterns[:, start : start + width].astype(np.float64)
        if width <= PATTERN_BITS:
            out.append(bits @ (2.0 ** np.arange(width - 1, -1, -1)))
        else:
            out.append(bits.sum(axis=1))
        start += width
    return np.stack(out, axis=1) if out else np.zeros((view.n_regions, 0))


def hover_table(view: RegionView) -> np.ndarray:
    """Per region (R, k): for each output g1, g2, c (out = g1·x1 + g2·x2 + c), then one
    pattern number per layer. A grid estimate has only the pattern numbers."""
    parts = []
    if view.gradient is not None:
        per_out = np.concatenate([view.gradient, view.offset[:, :, None]], axis=2)  # (R, O, 3)
        parts.append(per_out.reshape(view.n_regions, -1))
    parts.append(pattern_numbers(view))
    return np.concatenate(parts, axis=1)


def unit_choices(widths: Sequence[int]) -> list[tuple[int, int]]:
    """Every (layer, unit) of the hidden layers, 0-based, in order."""
    return [(layer, j) for layer, w in enumerate(widths) for j in range(w)]


def unit_label(unit: tuple[int, int] | None) -> str:
    """ "layer 1, unit 3" for (0, 2); "none" for None or ()."""
    return f"layer {unit[0] + 1}, unit {unit[1] + 1}" if unit else "none"


def _unit_column(widths: Sequence[int], unit: tuple[int, int]) -> int:
    layer, j = unit
    if not (0 <= layer < len(widths) and 0 <= j < widths[layer]):
        raise PlaygroundError(f"There is no {unit_label(unit)} in this network.")
    return sum(widths[:layer]) + j


def unit_highlight(view: RegionView, unit: tuple[int, int] | None):
    """Shading (n, n) (1 where the unit is on, NaN elsewhere) and its bend's segments."""
    if not unit:
        return np.full(view.ids.shape, np.nan), np.zeros((0, 2, 2))
    col = _unit_column(view.widths, unit)
    on = per_cell(view, view.patterns[:, col].astype(np.float64))
    shade = np.where(on > 0.5, 1.0, np.nan)
    segs = [b.segments for b in view.bends if (b.layer, b.unit) == unit]
    return shade, np.asarray(segs[0]).reshape(-1, 2, 2) if segs else np.zeros((0, 2, 2))
