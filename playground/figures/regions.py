"""The Bends & regions figure: a ``RegionView`` (``analysis.raster``) as a heatmap of
regions (or slopes) with every bend on top, a highlighted unit, and the hover text that
reads each cell's pattern and local linear function. Returns ``(figure, arrays)``; the
arrays name their trace by uid (``REGIONS_UID``, ``SHADE_UID``, ``traces.bend_uid``,
``HIGHLIGHT_UID``)."""

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from playground.analysis.geometry import bends_by_layer
from playground.analysis.raster import (
    PATTERN_BITS,
    RegionView,
    colour_grid,
    hover_table,
    per_cell,
    unit_highlight,
    unit_label,
)
from playground.figures.style import (
    HIGHLIGHT,
    PALETTE,
    SLOPE_SCALE,
    LiveArray,
    layout_dict,
)
from playground.figures.traces import bend_traces, bend_uid, point_traces, polylines_xy

# Uids of the traces that move (with ``bend_uid`` for each layer's bends).
REGIONS_UID, SHADE_UID, HIGHLIGHT_UID = "regions", "shade", "highlight"


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


def slope_title(out_names: Sequence[str]) -> str:
    """What the slope colouring measures: the steepness of the raw outputs (the logits
    before the sigmoid or softmax, for classes), not of a probability."""
    if len(out_names) == 1 and out_names[0] == "logit":
        return "slope of the logit |∇ logit|"
    if all(n.startswith("logit") for n in out_names):
        return "slope of the logits |∇ logits|"
    return "slope of the output |∇ out|"


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

    Traces: the region heatmap, the highlighted unit's shading, one bend trace per layer
    (coloured and dashed by layer), the highlighted bend, then the data points
    (``data``: a Dataset, optional). ``hover`` adds each cell's pattern
    and linear function as customdata (large: leave it out while the picture moves).
    The returned arrays (paths as ``live_plot`` takes them) are already in the figure.
    """
    if colour_by == "slope" and not view.exact:
        colour_by = "region"  # a grid estimate has no linear pieces to take a slope of
    z = colour_grid(view, colour_by, len(PALETTE))
    shade, lit = unit_highlight(view, highlight)
    hx, hy = polylines_xy(lit)
    layers = bends_by_layer(view.bends, len(view.widths))
    heat = {
        "x": view.xs,
        "y": view.ys,
        "z": z,
        "uid": REGIONS_UID,
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
            colorbar={
                "title": {"text": slope_title(out_names), "side": "right"},
                "thickness": 12,
                "len": 0.75,
            },
        )
    if hover:
        heat["customdata"] = per_cell(view, hover_table(view)).astype(np.float32)
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
            uid=SHADE_UID,
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
            uid=HIGHLIGHT_UID,
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
            **layout_dict(None, height, margin={"l": 55, "r": 15, "t": 36, "b": 90}, live=True),
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
        f"{REGIONS_UID}.z": _grid_array(z, colour_by),
        f"{SHADE_UID}.z": LiveArray(shade, 0.0, 1.0),
        f"{HIGHLIGHT_UID}.x": LiveArray(hx),
        f"{HIGHLIGHT_UID}.y": LiveArray(hy),
    }
    for i, segs in enumerate(layers):
        bx, by = polylines_xy(segs)
        arrays[f"{bend_uid(i)}.x"] = LiveArray(bx)
        arrays[f"{bend_uid(i)}.y"] = LiveArray(by)
    return fig, arrays


def _grid_array(z: np.ndarray, colour_by: str) -> LiveArray:
    if colour_by == "region":
        return LiveArray(z, -0.5, len(PALETTE) - 0.5)
    finite = z[np.isfinite(z)]
    top = float(finite.max()) if finite.size else 1.0
    return LiveArray(z, 0.0, top if top > 0 else 1.0)
