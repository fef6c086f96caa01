"""Small pictures of every hidden unit's activation over the plane, with its bend, and
which units are dead (off at every training point).
Live contract: ``neuron_thumbnails_figure`` returns ``(figure, arrays)``;
``neuron_thumbnails_arrays`` gives the arrays alone. Arrays name their trace by uid:
``picture_uid`` and ``unit_bend_uid`` of each unit."""

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from playground.figures.style import (
    DEAD_COLOUR,
    DIVERGING,
    MODEBAR_REMOVE,
    NO_LINE,
    TOOLBAR_PX,
    LiveArray,
)
from playground.figures.traces import bend_traces, polylines_xy


def scaled_unit(a: np.ndarray) -> np.ndarray:
    """A unit's activation divided by its largest magnitude, so it spans [-1, 1]."""
    top = float(np.max(np.abs(a))) if a.size else 0.0
    return a / top if top > 0 else a


def thumbnail_units(hidden: tuple[int, ...], max_units: int) -> list[tuple[int, int]]:
    """(layer, unit) of every thumbnail, in trace order."""
    return [(layer, j) for layer, w in enumerate(hidden) for j in range(min(w, max_units))]


def picture_uid(layer: int, unit: int) -> str:
    """The uid of a unit's picture (0-based layer and unit): ``"unit-1-2"``..."""
    return f"unit-{layer + 1}-{unit + 1}"


def unit_bend_uid(layer: int, unit: int) -> str:
    """The uid of a unit's bend line: ``"bend-1-2"``..."""
    return f"bend-{layer + 1}-{unit + 1}"


def _unit_segments(bends, layer: int, unit: int) -> np.ndarray:
    for b in bends:
        if (b.layer, b.unit) == (layer, unit):
            return np.asarray(b.segments).reshape(-1, 2, 2)
    return np.zeros((0, 2, 2))


def neuron_thumbnails_arrays(
    unit_grids: list[np.ndarray], bends, *, max_units: int = 8
) -> dict[str, LiveArray]:
    """Every thumbnail's picture (scaled to ±1) and bend."""
    hidden = tuple(g.shape[-1] for g in unit_grids)
    arrays = {}
    for layer, j in thumbnail_units(hidden, max_units):
        z = scaled_unit(unit_grids[layer][..., j])
        arrays[f"{picture_uid(layer, j)}.z"] = LiveArray(z, -1.0, 1.0)
        bx, by = polylines_xy(_unit_segments(bends, layer, j))
        arrays[f"{unit_bend_uid(layer, j)}.x"] = LiveArray(bx, bits=16)
        arrays[f"{unit_bend_uid(layer, j)}.y"] = LiveArray(by, bits=16)
    return arrays


def neuron_thumbnails_live_arrays(
    unit_grids: list[np.ndarray], first_lines, box, *, max_units: int = 8
) -> dict[str, LiveArray]:
    """The thumbnails' arrays with live bends (``analysis.grid_bends``): first-layer
    units' lines ``first_lines`` (H1, 2, 2) as they are; a deeper unit's bend as its
    signs on its own grid (``.signs``, traced by the browser). ``first_lines`` None: the
    net has no bends to draw. A unit's sign is that of its activation, which for the
    activations with bends (ReLU, leaky ReLU) is the sign of its input."""
    arrays = neuron_thumbnails_arrays(unit_grids, (), max_units=max_units)
    if first_lines is None:
        return arrays
    hidden = tuple(g.shape[-1] for g in unit_grids)
    for layer, j in thumbnail_units(hidden, max_units):
        bend = unit_bend_uid(layer, j)
        if layer == 0:
            bx, by = polylines_xy(first_lines[j : j + 1])
            arrays[f"{bend}.x"] = LiveArray(bx, bits=16)
            arrays[f"{bend}.y"] = LiveArray(by, bits=16)
        else:
            arrays[f"{bend}.x"] = arrays[f"{bend}.y"] = LiveArray(NO_LINE, bits=16)
            signs = unit_grids[layer][None, ..., j] > 0
            arrays[f"{bend}.signs"] = LiveArray(signs, box=tuple(box))
    return arrays


def neuron_thumbnails_figure(
    xs: np.ndarray,
    ys: np.ndarray,
    unit_grids: list[np.ndarray],
    bends=(),
    *,
    max_units: int = 8,
    height_per_row: int = 120,
    dead=None,
) -> tuple[go.Figure, dict[str, LiveArray]]:
    """Each hidden unit's activation over the plane, one row per layer, with its bend.

    ``unit_grids[l]`` has shape (n, n, width_l); ``bends``: ``geometry.Bend`` of any
    units; ``dead[l]``: (width_l,) bools, units off at every training point, marked
    "dead". Traces: every unit's heatmap (``picture_uid``) first, then every unit's bend
    line (``unit_bend_uid``), both in ``thumbnail_units`` order. Each unit is scaled to
    ±1. Columns are titled by unit ("unit 1", ...), rows by layer (short labels: they fit
    a phone's width).
    """
    hidden = tuple(g.shape[-1] for g in unit_grids)
    units = thumbnail_units(hidden, max_units)
    arrays = neuron_thumbnails_arrays(unit_grids, bends, max_units=max_units)
    rows, cols = len(unit_grids), max(1, min(max_units, max(hidden)))
    titles = [f"unit {j + 1}" for j in range(cols)]
    fig = make_subplots(
        rows=rows,
        cols=cols,
        column_titles=titles,
        row_titles=[f"layer {r + 1}" for r in range(rows)],
        horizontal_spacing=0.015,
        vertical_spacing=0.06 / max(rows, 1),
    )
    for layer, j in units:
        fig.add_trace(
            go.Heatmap(
                x=xs,
                y=ys,
                z=arrays[f"{picture_uid(layer, j)}.z"].values,
                uid=picture_uid(layer, j),
                zmin=-1,
                zmax=1,
                zsmooth="best",
                colorscale=DIVERGING,
                showscale=False,
                hovertemplate=f"layer {layer + 1}, unit {j + 1}<br>x₁=%{{x:.1f}}, "
                "x₂=%{y:.1f}<br>activation / max=%{z:.2f}<extra></extra>",
            ),
            row=layer + 1,
            col=j + 1,
        )
    for layer, j in units:
        tr = bend_traces([_unit_segments(bends, layer, j)])[0]
        tr.update(
            line={"color": "#222222", "width": 1, "dash": "solid"},
            showlegend=False,
            uid=unit_bend_uid(layer, j),
        )
        fig.add_trace(tr, row=layer + 1, col=j + 1)
    fig.update_xaxes(showticklabels=False, ticks="", range=[float(xs[0]), float(xs[-1])])
    fig.update_yaxes(showticklabels=False, ticks="", range=[float(ys[0]), float(ys[-1])])
    fig.update_annotations(font_size=10)
    for layer, j in units:
        if dead is not None and bool(dead[layer][j]):
            axis = layer * cols + j + 1  # make_subplots numbers axes row by row
            fig.add_annotation(
                text="dead",
                xref=f"x{axis if axis > 1 else ''} domain",
                yref=f"y{axis if axis > 1 else ''} domain",
                x=0.5,
                y=0.5,
                showarrow=False,
                font={"size": 11, "color": "white"},
                bgcolor=DEAD_COLOUR,
                hovertext="off at every training point: no gradient reaches it",
            )
    height = 100 + height_per_row * rows
    fig.update_layout(
        height=height,
        margin={"l": 10, "r": 30, "t": 100, "b": 10},
        title={
            "text": "What each hidden unit computes<br><sup>orange: negative, white: zero, "
            "blue: positive; line: its bend<br>dead: off at every training point</sup>",
            "x": 0.01,
            # Below the row the toolbar takes on hover, so it never covers the title.
            # (Plotly sets a title's first baseline at y: a line's height lower.)
            "y": 1 - (TOOLBAR_PX + 16) / height,
            "yref": "container",
            "yanchor": "top",
            "font": {"size": 14},
        },
        showlegend=False,
        plot_bgcolor="white",
        uirevision="keep",
        modebar={"remove": MODEBAR_REMOVE},
    )
    return fig, arrays
