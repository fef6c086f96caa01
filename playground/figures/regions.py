"""Pure builders for the Bends & regions page: arrays in, Plotly figures and words out.

Drawing 1000+ polygons as one filled Scatter trace each is slow in the browser, so the
regions are rasterised instead: every cell of an n x n grid learns which exact region
(from ``geometry``) holds its centre, and one heatmap shows a colour per region (or the
slope of the output there), with the region's pattern and local linear function in the
hover data of each cell. The bends are drawn exactly on top as lines, one trace per layer.
Where exact regions do not exist (smooth activation, curved features) or are too many,
the cells are grouped by their activation pattern instead: a grid estimate, labelled so.

Also here: the readout that explains why fewer regions appear than one layer's maximum
1 + H + C(H, 2), the hidden-space figure and the capacity-sweep figure. No Streamlit.
"""

import math
import time
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from playground.analysis.geometry import (
    geometry_supported,
    grid_pattern_count,
    max_regions_one_layer,
    region_count,
    regions_and_bends,
)
from playground.analysis.hidden_space import HiddenSpace, layer_values, output_line
from playground.analysis.sweep import over_seeds
from playground.core.datasets import grid_points
from playground.core.errors import PlaygroundError
from playground.figures.boundary import (
    LAYER_COLOURS,
    LAYER_DASHES,
    bend_traces,
    point_traces,
    polylines_xy,
)

# ColorBrewer Set3 without its grey: light, so bends and points stay readable on top.
PALETTE = (
    "#8dd3c7",
    "#ffffb3",
    "#bebada",
    "#fb8072",
    "#80b1d3",
    "#fdb462",
    "#b3de69",
    "#fccde5",
    "#bc80bd",
    "#ccebc5",
    "#ffed6f",
)
SLOPE_SCALE = [[0.0, "#fff7ec"], [0.5, "#fdbb84"], [1.0, "#b30000"]]
HIGHLIGHT = "#0072B2"  # Okabe-Ito blue: apart from every layer colour
COLOUR_MODES = ("region", "slope")
PATTERN_BITS = 24  # widths up to this show their 0/1 pattern (exact in float32 hover data)
HOVER_NUMBERS = 160_000  # hover floats per figure (4 bytes each), to bound one update
RASTER_MAX, RASTER_MIN = 160, 96
MIN_LINE_NORM = 1e-12  # a first-layer unit with smaller weights has no bend at all
PARALLEL_SIN = 1e-9  # |sin| of the angle between two bends below which they are parallel


class LiveArray(NamedTuple):
    """A trace array that changes while training: floats, or a grid sent as bytes over
    [lo, hi] when lo is set (``live_plot.encode_grid``; NaN cells stay transparent)."""

    values: np.ndarray
    lo: float | None = None
    hi: float | None = None


# ---------------------------------------------------------------------------------------
# Rasterising exact regions


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


# ---------------------------------------------------------------------------------------
# What the page draws of the current network


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


# ---------------------------------------------------------------------------------------
# Colours and hover data per cell


def _adjacent(ids: np.ndarray) -> np.ndarray:
    """Pairs (a, b), a < b, of regions whose cells touch (left-right or up-down)."""
    a = np.concatenate([ids[:, :-1].ravel(), ids[:-1, :].ravel()])
    b = np.concatenate([ids[:, 1:].ravel(), ids[1:, :].ravel()])
    keep = (a != b) & (a >= 0) & (b >= 0)
    lo, hi = np.minimum(a[keep], b[keep]), np.maximum(a[keep], b[keep])
    key = np.unique(lo * (int(ids.max()) + 1) + hi)  # one integer per pair: a fast unique
    return np.stack(np.divmod(key, int(ids.max()) + 1), axis=1)


def region_colours(view: RegionView) -> np.ndarray:
    """A palette index per region (R,), different from its neighbours where it can be.

    Each region takes the colour its pattern hashes to, so it keeps its colour from frame
    to frame while the network trains; where two neighbours clash, the smaller one moves
    to the next colour free among its neighbours (bigger regions choose first).
    """
    n_colours = len(PALETTE)
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


def _per_cell(view: RegionView, values: np.ndarray) -> np.ndarray:
    """Per-region values (R, ...) spread over the cells: (n, n, ...), NaN where no region."""
    values = np.asarray(values, np.float64)
    pad = np.full((1, *values.shape[1:]), np.nan)
    table = np.concatenate([values, pad])
    return table[np.where(view.ids >= 0, view.ids, len(values))]


def colour_grid(view: RegionView, colour_by: str) -> np.ndarray:
    """The heatmap's z (n, n): palette index per region, or its slope."""
    if colour_by not in COLOUR_MODES:
        raise PlaygroundError(f"colour_by must be one of {', '.join(COLOUR_MODES)}")
    if colour_by == "slope":
        return _per_cell(view, region_slopes(view))
    return _per_cell(view, region_colours(view))


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


def hover_template(view: RegionView, out_names: Sequence[str]) -> str:
    """The hover text of a cell, reading ``hover_table``'s columns from customdata."""
    lines = ["x₁ = %{x:.3~g}, x₂ = %{y:.3~g}"]
    first = 3 * len(out_names) if view.gradient is not None else 0
    layers = []
    for i, width in enumerate(view.widths):
        col = first + i
        if width <= PATTERN_BITS:
            layers.append(f"L{i + 1}: %{{customdata[{col}]:0>{width}b}}")
        else:
            layers.append(f"L{i + 1}: %{{customdata[{col}]}} of {width} on")
    if layers:
        label = "pattern" if view.exact else "sign pattern"
        lines.append(f"{label} {', '.join(layers)}")
    if view.gradient is not None:
        for o, name in enumerate(out_names):
            g1, g2, c = 3 * o, 3 * o + 1, 3 * o + 2
            lines.append(
                f"{name} = %{{customdata[{g1}]:.3~g}}·x₁ %{{customdata[{g2}]:+.3~g}}·x₂ "
                f"%{{customdata[{c}]:+.3~g}}"
            )
    else:
        lines.append("(grid estimate: not a linear piece)")
    return "<br>".join(lines) + "<extra></extra>"


def output_names(task: str, n_classes: int, class_names: Sequence[str] = ()) -> tuple[str, ...]:
    """What each raw network output is called in the hover text."""
    if task == "binary":
        return ("logit",)
    if task == "multiclass":
        names = list(class_names) or [str(k) for k in range(n_classes)]
        return tuple(f"logit {names[k] if k < len(names) else k}" for k in range(n_classes))
    return ("out",)


# ---------------------------------------------------------------------------------------
# The region figure


def bends_per_layer(view: RegionView) -> list[np.ndarray]:
    """All bend segments of each hidden layer: per layer (S, 2, 2)."""
    layers = [[] for _ in view.widths]
    for bend in view.bends:
        layers[bend.layer].append(np.asarray(bend.segments).reshape(-1, 2, 2))
    return [np.concatenate(s) if s else np.zeros((0, 2, 2)) for s in layers]


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


def highlight_arrays(view: RegionView, unit: tuple[int, int] | None):
    """Shading (n, n) (1 where the unit is on, NaN elsewhere) and its bend's x, y."""
    if not unit:
        return np.full(view.ids.shape, np.nan), np.zeros(0), np.zeros(0)
    col = _unit_column(view.widths, unit)
    on = _per_cell(view, view.patterns[:, col].astype(np.float64))
    shade = np.where(on > 0.5, 1.0, np.nan)
    segs = [b.segments for b in view.bends if (b.layer, b.unit) == unit]
    x, y = polylines_xy(segs[0] if segs else np.zeros((0, 2, 2)))
    return shade, x, y


def region_traces(n_layers: int) -> dict[str, int]:
    """Trace indices of the region figure, fixed for a given number of hidden layers."""
    return {"regions": 0, "shade": 1, "bends": 2, "highlight": 2 + n_layers, "points": 3 + n_layers}


def region_figure(
    view: RegionView,
    *,
    colour_by: str = "region",
    highlight: tuple[int, int] | None = None,
    data=None,
    out_names: Sequence[str] = ("out",),
    hover: bool = True,
    height: int = 600,
) -> tuple[go.Figure, dict[str, LiveArray]]:
    """The regions as a heatmap with every bend on top, and the arrays that move.

    Traces follow ``region_traces``: the region heatmap, the highlighted unit's shading,
    one bend trace per layer (coloured and dashed by layer), the highlighted bend, then
    the data points (``data``: a Dataset, optional). ``hover`` adds each cell's pattern
    and linear function as customdata (large: leave it out while the picture moves).
    The returned arrays (trace paths as for ``live_plot``) are already in the figure.
    """
    if colour_by == "slope" and not view.exact:
        colour_by = "region"  # a grid estimate has no linear pieces to take a slope of
    z = colour_grid(view, colour_by)
    shade, hx, hy = highlight_arrays(view, highlight)
    layers = bends_per_layer(view)
    idx = region_traces(len(view.widths))
    heat = {
        "x": view.xs,
        "y": view.ys,
        "z": z,
        "name": "regions",
        "showlegend": False,
        "hoverongaps": False,
    }
    if colour_by == "region":
        n_col = len(PALETTE)
        scale = [[s, c] for k, c in enumerate(PALETTE) for s in (k / n_col, (k + 1) / n_col)]
        heat.update(colorscale=scale, zmin=-0.5, zmax=n_col - 0.5, showscale=False)
    else:
        heat.update(
            colorscale=SLOPE_SCALE,
            zauto=True,  # the range follows the data as the network trains
            colorbar={"title": {"text": "slope |∇out|"}, "thickness": 12, "len": 0.75},
        )
    if hover:
        heat["customdata"] = _per_cell(view, hover_table(view)).astype(np.float32)
        heat["hovertemplate"] = hover_template(view, out_names)
    else:
        heat["hovertemplate"] = (
            "x₁ = %{x:.3~g}, x₂ = %{y:.3~g}<br>(pause to read each region)<extra></extra>"
        )
    traces = [
        go.Heatmap(**heat),
        go.Heatmap(
            x=view.xs,
            y=view.ys,
            z=shade,
            zmin=0,
            zmax=1,
            colorscale=[[0, "rgba(0,114,178,0.22)"], [1, "rgba(0,114,178,0.22)"]],
            showscale=False,
            hoverinfo="skip",
            name="unit on",
        ),
    ]
    for trace, segs in zip(bend_traces([[] for _ in layers]), layers, strict=True):
        trace.x, trace.y = polylines_xy(segs)
        trace.line.width = 1.4
        traces.append(trace)
    traces.append(
        go.Scatter(
            x=hx,
            y=hy,
            mode="lines",
            name=f"bend of {unit_label(highlight)} (shaded: on)",
            line={"color": HIGHLIGHT, "width": 4},
            hoverinfo="skip",
            showlegend=bool(highlight),
        )
    )
    if data is not None:
        names = data.class_names or tuple(str(k) for k in range(data.n_classes))
        traces += point_traces(
            data.x_train, data.y_train, data.task, data.n_classes, names, size=6, hover=False
        )
    x0, x1, y0, y1 = view.box
    # One Figure call with the whole layout: each update_* call re-validates the figure.
    fig = go.Figure(
        data=traces,
        layout={
            "height": height,
            "margin": {"l": 55, "r": 15, "t": 36, "b": 90},
            "font": {"size": 13},
            "plot_bgcolor": "white",
            "uirevision": "keep",
            # Below the plot, clear of the toolbar and the data.
            "legend": {
                "orientation": "h",
                "yref": "container",
                "yanchor": "bottom",
                "y": 0.0,
                "x": 0,
            },
            "hoverlabel": {"font": {"family": "monospace", "size": 12}},
            "xaxis": {
                "title": {"text": "x₁"},
                "range": [x0, x1],
                "constrain": "domain",
                "showgrid": False,
            },
            "yaxis": {
                "title": {"text": "x₂"},
                "range": [y0, y1],
                "scaleanchor": "x",
                "constrain": "domain",
                "showgrid": False,
            },
        },
    )

    arrays = {
        f"{idx['regions']}.z": _grid_array(z, colour_by),
        f"{idx['shade']}.z": LiveArray(shade, 0.0, 1.0),
        f"{idx['highlight']}.x": LiveArray(hx),
        f"{idx['highlight']}.y": LiveArray(hy),
    }
    for i, segs in enumerate(layers):
        bx, by = polylines_xy(segs)
        arrays[f"{idx['bends'] + i}.x"] = LiveArray(bx)
        arrays[f"{idx['bends'] + i}.y"] = LiveArray(by)
    return fig, arrays


def _grid_array(z: np.ndarray, colour_by: str) -> LiveArray:
    if colour_by == "region":
        return LiveArray(z, -0.5, len(PALETTE) - 0.5)
    finite = z[np.isfinite(z)]
    top = float(finite.max()) if finite.size else 1.0
    return LiveArray(z, 0.0, top if top > 0 else 1.0)


# ---------------------------------------------------------------------------------------
# Why fewer regions than one layer's maximum


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


def bends_in_view(view: RegionView, params) -> tuple[int, int] | None:
    """(first-layer bends crossing the view, first-layer units), or None without them."""
    if not (view.exact and view.widths):
        return None
    w0, b0 = next(iter(params))
    stats = first_layer_lines(w0, b0, view.box)
    return stats.crossing, stats.units


def box_label(box) -> str:
    x0, x1, y0, y1 = (float(v) for v in box)
    if (x0, y0) == (-x1, -y1) and x1 == y1:
        return f"[−{x1:g}, {x1:g}]²"
    return f"[{x0:g}, {x1:g}] × [{y0:g}, {y1:g}]"


def lines_reach(w, b) -> float:
    """Half-width h of the smallest centred square [-h, h]² every first-layer bend meets.

    The line w1·x1 + w2·x2 + b = 0 meets [-h, h]² exactly when |b| <= h (|w1| + |w2|).
    """
    w, b = np.asarray(w, np.float64), np.asarray(b, np.float64)
    l1 = np.abs(w).sum(axis=0)
    real = l1 > MIN_LINE_NORM
    return float(np.max(np.abs(b[real]) / l1[real])) if real.any() else 0.0


def _count_phrase(n: int, one: str, many: str) -> str:
    return f"{n:,} {one if n == 1 else many}"


def region_story(view: RegionView, params, activation: str) -> list[str]:
    """Why the view shows the number of regions it does, in specific plain sentences."""
    if not view.exact:
        return [view.note]
    widths = view.widths
    if not widths:
        return ["The linear model has no hidden units, so nothing bends: one region, the plane."]
    if activation == "linear":
        return ["With the linear activation no unit ever switches off, so nothing bends."]
    h = widths[0]
    most = max_regions_one_layer(h)
    w0, b0 = (np.asarray(p, np.float64) for p in next(iter(params)))
    s = first_layer_lines(w0, b0, view.box)
    story = [
        f"One hidden layer of H = {h} units cuts the whole plane into at most "
        f"1 + H + C(H, 2) = 1 + {h} + {math.comb(h, 2)} = **{most}** regions: each unit adds "
        "one straight bend, and the maximum needs every two bends to cross and no three "
        "to meet in one point."
    ]
    where = f"In {box_label(view.box)}, {s.crossing} of the {h} first-layer bends cross the view"
    if s.missing:
        reach = lines_reach(w0, b0)
        where += (
            f"; {_count_phrase(s.missing, 'lies', 'lie')} outside it "
            f"(all of them cross [−{reach:.3g}, {reach:.3g}]²: zoom out to see)"
        )
    if s.flat:
        where += f"; {_count_phrase(s.flat, 'unit has', 'units have')} zero weights and no bend"
    story.append(where + ".")
    if s.crossing >= 2:
        pairs = math.comb(s.crossing, 2)
        parts = [_count_phrase(s.pairs_inside, "meets", "meet") + " inside the view"]
        if s.pairs_outside:
            parts.append(_count_phrase(s.pairs_outside, "meets", "meet") + " outside it")
        if s.pairs_parallel:
            parts.append(_count_phrase(s.pairs_parallel, "is", "are") + " parallel")
        said = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
        if pairs == 1:
            said = said.split(" ", 1)[1].replace("meets", "meet").replace("is ", "are ")
            story.append(f"The two bends {said}.")
        else:
            story.append(f"Of the {pairs:,} pairs of those bends, {said}.")
    r1 = first_layer_regions(params, activation, view.box)
    alone = f"So layer 1 alone makes 1 + {s.crossing} + {s.pairs_inside} = {s.general_count}"
    if r1 < s.general_count:
        alone += (
            " regions if no three bends met in one point; here some meet at shared points, "
            f"which leaves **{r1}**"
        )
        if not np.any(b0):
            alone += " (every bias is still 0, so every first-layer bend passes through the origin)"
    else:
        alone += " regions" + (": the most one layer can make." if r1 == most else "")
    story.append(alone.rstrip(".") + ".")
    if len(widths) > 1:
        later = "Layer 2" if len(widths) == 2 else f"Layers 2–{len(widths)}"
        deeper = (
            f"{later} {'bends' if len(widths) == 2 else 'bend'} again inside each of those "
            "pieces (a deeper bend kinks where it meets an earlier one) and "
            f"{'splits' if len(widths) == 2 else 'split'} them further: "
            f"**{view.count:,}** regions in all"
        )
        if view.count > most:
            deeper += ", more than one layer of this width could ever make"
        story.append(deeper + ".")
    return story


# ---------------------------------------------------------------------------------------
# Hidden space


LINE_STYLE = {0: ("lines of constant x₁", "#009E73"), 1: ("lines of constant x₂", "#CC79A7")}


def _span(values: np.ndarray) -> tuple[float, float]:
    finite = values[np.isfinite(values)]
    if not finite.size:
        return -1.0, 1.0
    lo, hi = float(finite.min()), float(finite.max())
    pad = 0.05 * (hi - lo) if hi > lo else 1.0
    return lo - pad, hi + pad


def output_line_xy(coef, xr, yr) -> tuple[np.ndarray, np.ndarray]:
    """The line a·u + b·v + c = 0 clipped to the ranges xr, yr (as 2 points, or none)."""
    if coef is None:
        return np.zeros(0), np.zeros(0)
    a, b, c = coef
    pts = []
    for u in xr:
        if b != 0:
            pts.append((u, -(a * u + c) / b))
    for v in yr:
        if a != 0:
            pts.append((-(b * v + c) / a, v))
    tol = 1e-9 * (1 + max(abs(r) for r in (*xr, *yr)))
    inside = [
        p for p in pts if xr[0] - tol <= p[0] <= xr[1] + tol and yr[0] - tol <= p[1] <= yr[1] + tol
    ]
    if len(inside) < 2:
        return np.zeros(0), np.zeros(0)
    inside.sort()
    return np.array([inside[0][0], inside[-1][0]]), np.array([inside[0][1], inside[-1][1]])


def hidden_space_figure(
    hs: HiddenSpace,
    params,
    data,
    *,
    activation: str = "relu",
    height: int = 480,
) -> tuple[go.Figure, dict[str, LiveArray]]:
    """The input plane (left) and the same grid and points at (unit a, unit b) (right).

    ``data``: the Dataset whose training points ``hs.points`` are (same order). When the
    output is a straight line in this plane (``hidden_space.output_line``), it is drawn.
    """
    a, b = hs.units
    stage = "after" if hs.stage == "post" else "before"
    right_title = f"layer {hs.layer + 1}: unit {a + 1} vs unit {b + 1}, {stage} {activation}"
    fig = make_subplots(
        rows=1,
        cols=2,
        subplot_titles=("input plane (x₁, x₂)", right_title),
        horizontal_spacing=0.08,
    )
    names = data.class_names or tuple(str(k) for k in range(data.n_classes))
    arrays: dict[str, LiveArray] = {}
    for col, lines, pts in ((1, hs.grid.points, data.x_train), (2, hs.lines, hs.points)):
        for axis, (label, colour) in LINE_STYLE.items():
            lx, ly = polylines_xy(lines[hs.grid.axis == axis])
            fig.add_trace(
                go.Scatter(
                    x=lx,
                    y=ly,
                    mode="lines",
                    name=label,
                    legendgroup=label,
                    showlegend=col == 1,
                    line={"color": colour, "width": 1},
                    opacity=0.7,
                    hoverinfo="skip",
                ),
                row=1,
                col=col,
            )
            if col == 2:
                arrays[f"{len(fig.data) - 1}.x"] = LiveArray(lx)
                arrays[f"{len(fig.data) - 1}.y"] = LiveArray(ly)
        traces = point_traces(
            pts, data.y_train, data.task, data.n_classes, names, size=5, hover=False
        )
        for k, t in enumerate(traces):
            t.legendgroup, t.showlegend = t.name, col == 1
            fig.add_trace(t, row=1, col=col)
            if col == 2:
                sel = slice(None) if data.task == "regression" else np.asarray(data.y_train) == k
                arrays[f"{len(fig.data) - 1}.x"] = LiveArray(np.asarray(pts)[sel, 0])
                arrays[f"{len(fig.data) - 1}.y"] = LiveArray(np.asarray(pts)[sel, 1])
    both = np.concatenate([hs.lines.reshape(-1, 2), hs.points])
    xr, yr = _span(both[:, 0]), _span(both[:, 1])
    lx, ly = output_line_xy(output_line(params, hs.layer, hs.units, hs.stage), xr, yr)
    level = "decision line (logit 0)" if data.task == "binary" else "output = 0"
    fig.add_trace(
        go.Scatter(
            x=lx,
            y=ly,
            mode="lines",
            name=level,
            line={"color": "#000000", "width": 2.5, "dash": "dash"},
            hoverinfo="skip",
            showlegend=len(lx) > 0,
        ),
        row=1,
        col=2,
    )
    arrays[f"{len(fig.data) - 1}.x"] = LiveArray(lx)
    arrays[f"{len(fig.data) - 1}.y"] = LiveArray(ly)
    fig.update_xaxes(title_text="x₁", row=1, col=1, showgrid=False, zeroline=False)
    fig.update_yaxes(title_text="x₂", row=1, col=1, showgrid=False, zeroline=False)
    fig.update_yaxes(scaleanchor="x", row=1, col=1)
    fig.update_xaxes(title_text=f"unit {a + 1}", row=1, col=2, gridcolor="#eeeeee")
    fig.update_yaxes(title_text=f"unit {b + 1}", row=1, col=2, gridcolor="#eeeeee")
    fig.update_layout(
        height=height,
        margin={"l": 55, "r": 15, "t": 60, "b": 85},
        font={"size": 13},
        plot_bgcolor="white",
        uirevision="keep",
        legend={"orientation": "h", "yref": "container", "yanchor": "bottom", "y": 0, "x": 0},
    )
    return fig, arrays


# ---------------------------------------------------------------------------------------
# Capacity sweep


def sweep_figure(result, *, height: int = 440) -> go.Figure:
    """Test score and region count against the width H (log axis), one line per depth.

    ``result``: a ``sweep.SweepResult``. Lines are medians over seeds; the faint dots
    are the single seeds. The grey dashes are one layer's maximum 1 + H + C(H, 2).
    """
    label = "R²" if result.metric == "r2" else "accuracy"
    widths = np.asarray(result.widths)
    box = box_label(result.box)
    fig = make_subplots(
        rows=1,
        cols=2,
        subplot_titles=(
            f"test {label} after {result.steps:,} steps",
            f"linear regions in {box}",
        ),
        horizontal_spacing=0.1,
    )
    metric, regions = over_seeds(result.test_metric), over_seeds(result.regions)
    for di, depth in enumerate(result.depths):
        style = {
            "color": LAYER_COLOURS[(di + 1) % len(LAYER_COLOURS)],
            "dash": LAYER_DASHES[di % len(LAYER_DASHES)],
            "width": 2.2,
        }
        name = f"depth {depth}"
        for col, med, raw in ((1, metric, result.test_metric), (2, regions, result.regions)):
            fig.add_trace(
                go.Scatter(
                    x=widths,
                    y=med[di],
                    mode="lines+markers",
                    name=name,
                    legendgroup=name,
                    showlegend=col == 1,
                    line=style,
                    hovertemplate=f"{name}, H = %{{x}}<br>median: %{{y:.4~g}}<extra></extra>",
                ),
                row=1,
                col=col,
            )
            seeds = raw[di]  # (W, S)
            fig.add_trace(
                go.Scatter(
                    x=np.repeat(widths, seeds.shape[1]),
                    y=seeds.ravel(),
                    mode="markers",
                    name=f"{name}, single seeds",
                    legendgroup=name,
                    showlegend=False,
                    marker={"color": style["color"], "size": 5, "opacity": 0.35},
                    hovertemplate=f"{name}, H = %{{x}}<br>one seed: %{{y:.4~g}}<extra></extra>",
                ),
                row=1,
                col=col,
            )
    fine = np.unique(np.round(np.geomspace(widths.min(), widths.max(), 60)))
    fig.add_trace(
        go.Scatter(
            x=fine,
            y=[max_regions_one_layer(int(h)) for h in fine],
            mode="lines",
            name="one layer's maximum 1 + H + C(H, 2)",
            line={"color": "#999999", "dash": "dot", "width": 1.5},
            hoverinfo="skip",
        ),
        row=1,
        col=2,
    )
    ticks = {"tickvals": widths.tolist(), "ticktext": [str(w) for w in widths.tolist()]}
    for col in (1, 2):
        fig.update_xaxes(
            type="log",
            title_text="hidden units per layer H (log scale)",
            gridcolor="#eeeeee",
            row=1,
            col=col,
            **ticks,
        )
    finite = result.test_metric[np.isfinite(result.test_metric)]
    low = max(float(finite.min()) if finite.size else 0.0, -0.5)
    fig.update_yaxes(
        title_text=f"test {label}",
        range=[min(low, 0.0) - 0.03, 1.03],
        gridcolor="#eeeeee",
        row=1,
        col=1,
    )
    fig.update_yaxes(
        title_text="regions (log scale)", type="log", dtick=1, gridcolor="#eeeeee", row=1, col=2
    )
    fig.update_layout(
        height=height,
        margin={"l": 60, "r": 15, "t": 50, "b": 95},
        font={"size": 13},
        plot_bgcolor="white",
        legend={"orientation": "h", "yref": "container", "yanchor": "bottom", "y": 0, "x": 0},
    )
    return fig


def sweep_summary(result, threshold: float | None = None) -> list[str]:
    """For each depth, the smallest width whose median test score reaches ``threshold``
    (R² 0.95 or accuracy 0.95 by default), in sentences."""
    label = "R²" if result.metric == "r2" else "accuracy"
    threshold = 0.95 if threshold is None else float(threshold)
    metric = over_seeds(result.test_metric)
    lines = []
    for di, depth in enumerate(result.depths):
        reached = [w for w, m in zip(result.widths, metric[di], strict=True) if m >= threshold]
        layers = _count_phrase(depth, "hidden layer", "hidden layers")
        if reached:
            h = min(reached)
            lines.append(
                f"{layers}: H = {h} reaches test {label} ≥ {threshold:g} "
                f"({depth * h} ReLUs in all)."
            )
        else:
            best = float(np.nanmax(metric[di])) if np.isfinite(metric[di]).any() else float("nan")
            lines.append(
                f"{layers}: no width tried reaches test {label} ≥ {threshold:g} (best {best:.3f})."
            )
    return lines
