"""The hidden space of two units: the input plane beside the same grid lines and points
as two hidden units see them, with the output's zero line when it is straight there.
Returns ``(figure, arrays)``; the arrays (the right plot's, which move with training) name
their trace by uid: ``lines_uid``, ``points_uid`` and ``OUTPUT``."""

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from playground.analysis.hidden_space import HiddenSpace, output_line
from playground.analysis.lines import line_in_box
from playground.figures.style import LiveArray, base_layout
from playground.figures.traces import point_traces, polylines_xy

LINE_STYLE = {0: ("lines of constant x₁", "#009E73"), 1: ("lines of constant x₂", "#CC79A7")}
OUTPUT = "output"  # uid of the output's zero line


def lines_uid(axis: int) -> str:
    """The uid of the hidden plot's lines of constant x₁ (axis 0) or x₂: ``"lines-1"``."""
    return f"lines-{axis + 1}"


def points_uid(k: int) -> str:
    """The uid of the hidden plot's points of class ``k`` (regression: 0): ``"points-0"``."""
    return f"points-{k}"


def _span(values: np.ndarray) -> tuple[float, float]:
    finite = values[np.isfinite(values)]
    if not finite.size:
        return -1.0, 1.0
    lo, hi = float(finite.min()), float(finite.max())
    pad = 0.05 * (hi - lo) if hi > lo else 1.0
    return lo - pad, hi + pad


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
                    uid=lines_uid(axis) if col == 2 else None,
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
                arrays[f"{lines_uid(axis)}.x"] = LiveArray(lx)
                arrays[f"{lines_uid(axis)}.y"] = LiveArray(ly)
        traces = point_traces(
            pts, data.y_train, data.task, data.n_classes, names, size=5, hover=False
        )
        for k, t in enumerate(traces):
            t.legendgroup, t.showlegend = t.name, col == 1
            if col == 2:
                t.uid = points_uid(k)
                sel = slice(None) if data.task == "regression" else np.asarray(data.y_train) == k
                arrays[f"{points_uid(k)}.x"] = LiveArray(np.asarray(pts)[sel, 0])
                arrays[f"{points_uid(k)}.y"] = LiveArray(np.asarray(pts)[sel, 1])
            fig.add_trace(t, row=1, col=col)
    both = np.concatenate([hs.lines.reshape(-1, 2), hs.points])
    xr, yr = _span(both[:, 0]), _span(both[:, 1])
    coef = output_line(params, hs.layer, hs.units, hs.stage)
    ends = None if coef is None else line_in_box(coef[:2], coef[2], (*xr, *yr))
    lx, ly = (np.zeros(0), np.zeros(0)) if ends is None else (ends[:, 0], ends[:, 1])
    level = "decision line (logit 0)" if data.task == "binary" else "output = 0"
    fig.add_trace(
        go.Scatter(
            x=lx,
            y=ly,
            mode="lines",
            name=level,
            uid=OUTPUT,
            line={"color": "#000000", "width": 2.5, "dash": "dash"},
            hoverinfo="skip",
            showlegend=len(lx) > 0,
        ),
        row=1,
        col=2,
    )
    arrays[f"{OUTPUT}.x"] = LiveArray(lx)
    arrays[f"{OUTPUT}.y"] = LiveArray(ly)
    fig.update_xaxes(title_text="x₁", row=1, col=1, showgrid=False, zeroline=False)
    fig.update_yaxes(title_text="x₂", row=1, col=1, showgrid=False, zeroline=False)
    fig.update_yaxes(scaleanchor="x", row=1, col=1)
    fig.update_xaxes(title_text=f"unit {a + 1}", row=1, col=2, gridcolor="#eeeeee")
    fig.update_yaxes(title_text=f"unit {b + 1}", row=1, col=2, gridcolor="#eeeeee")
    base_layout(fig, None, height, margin={"l": 55, "r": 15, "t": 60, "b": 85}, live=True)
    return fig, arrays
