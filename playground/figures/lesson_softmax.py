"""Figures of the lesson "softmax and cross-entropy": one point's logits and
probabilities, the same logits at several temperatures, each loss's gradient as the
logit sweeps from confidently wrong to confidently right, and a retraining race."""

from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from playground.figures.style import (
    BLACK,
    GRID_COLOUR,
    LESSON_LAYOUT,
    SERIES,
    base_layout,
    class_colours,
    log_axis,
)

SWEEP_FLOOR = 1e-5  # gradients below this are drawn on the axis (a log axis has no 0)


def point_marker(point, name: str = "the chosen point") -> go.Scatter:
    """A large black star at ``point`` (x1, x2), for a prediction map."""
    return go.Scatter(
        x=[float(point[0])],
        y=[float(point[1])],
        mode="markers",
        name=name,
        marker={
            "symbol": "star",
            "size": 18,
            "color": BLACK,
            "line": {"color": "white", "width": 1.5},
        },
        hovertemplate="x₁=%{x:.2f}<br>x₂=%{y:.2f}<extra></extra>",
    )


def logits_and_probs_figure(logits, probs, class_names: Sequence[str], *, height: int = 400):
    """Two panels: the raw logits of each class, and their softmax."""
    colours = class_colours(len(logits))
    names = [f"class {c}" for c in class_names]
    fig = make_subplots(
        rows=1,
        cols=2,
        subplot_titles=("logits (any numbers)", "probabilities (sum to 1)"),
        horizontal_spacing=0.16,
    )
    for col, values, fmt in ((1, logits, "{:.2f}"), (2, probs, "{:.3f}")):
        fig.add_trace(
            go.Bar(
                x=names,
                y=np.asarray(values, np.float64),
                marker_color=[colours[k % len(colours)] for k in range(len(values))],
                text=[fmt.format(v) for v in values],
                textposition="outside",
                cliponaxis=False,
                showlegend=False,
                hovertemplate="%{x}: %{y:.4g}<extra></extra>",
            ),
            row=1,
            col=col,
        )
    base_layout(fig, "From logits to probabilities", height, **LESSON_LAYOUT)
    fig.update_layout(margin={"l": 65, "r": 15, "t": 75, "b": 60})  # room for panel titles
    lo, hi = float(min(np.min(logits), 0)), float(max(np.max(logits), 0))
    pad = 0.2 * max(hi - lo, 1.0)
    fig.update_yaxes(title_text="logit", range=[lo - pad, hi + pad], row=1, col=1)
    fig.update_yaxes(title_text="probability", range=[0, 1.18], row=1, col=2)
    fig.update_xaxes(title_text="class", row=1, col=1)
    fig.update_xaxes(title_text="class", row=1, col=2)
    return fig


def temperature_figure(
    probs: np.ndarray, temperatures: Sequence[float], class_names: Sequence[str], *, height=330
):
    """One stacked bar per temperature: how softmax(logits / T) shares out the 100%."""
    colours = class_colours(probs.shape[1])
    labels = [f"T = {t:g}" for t in temperatures]
    fig = go.Figure()
    for k, name in enumerate(class_names):
        fig.add_trace(
            go.Bar(
                y=labels,
                x=probs[:, k],
                orientation="h",
                name=f"class {name}",
                marker_color=colours[k % len(colours)],
                text=[f"{p:.0%}" if p >= 0.06 else "" for p in probs[:, k]],
                textposition="inside",
                hovertemplate="%{y}: P(class " + str(name) + ") = %{x:.4f}<extra></extra>",
            )
        )
    base_layout(fig, "The same logits divided by a temperature T", height, **LESSON_LAYOUT)
    fig.update_layout(barmode="stack", legend={"traceorder": "normal"})
    fig.update_xaxes(title_text="probability (each bar sums to 1)", range=[0, 1], tickformat=".0%")
    fig.update_yaxes(title_text="temperature", autorange="reversed")
    return fig


def sweep_figure(sweep, labels: Mapping[str, str], *, height: int = 380):
    """|dL/dz| for one point of class 1 as its logit z sweeps, one line per loss."""
    fig = go.Figure()
    fig.add_vrect(
        x0=float(sweep.z[0]),
        x1=-4.0,
        fillcolor="#fdd9b5",
        opacity=0.5,
        line_width=0,
        annotation_text="confidently wrong",
        annotation_position="top left",
    )
    dashes = ("solid", "dash", "dot")
    for (key, label), colour, dash in zip(labels.items(), SERIES, dashes, strict=False):
        g = np.abs(getattr(sweep, key))
        fig.add_trace(
            go.Scatter(
                x=sweep.z,
                y=np.maximum(g, SWEEP_FLOOR),
                name=label,
                mode="lines",
                line={"color": colour, "width": 3, "dash": dash},
                hovertemplate="z = %{x:.1f}: |dL/dz| = %{y:.2g}<extra>" + label + "</extra>",
            )
        )
    base_layout(fig, "How hard each loss pushes the logit (true class: 1)", height, **LESSON_LAYOUT)
    fig.update_xaxes(title_text="the logit z (P(class 1) = sigmoid(z))")
    log_axis(fig, "size of the gradient |dL/dz|", [SWEEP_FLOOR, 100.0], True)
    fig.update_yaxes(range=[np.log10(SWEEP_FLOOR), 2.2])
    return fig


def race_figure(
    series: Mapping[str, np.ndarray], *, title: str, y_title: str, log: bool, height: int = 330
):
    """One line per loss against the SGD step (accuracy, or gradient size on a log axis)."""
    fig = go.Figure()
    for (name, values), colour, dash in zip(
        series.items(), SERIES, ("solid", "dash"), strict=False
    ):
        v = np.asarray(values, np.float64)
        fig.add_trace(
            go.Scatter(
                x=np.arange(len(v)),
                y=v,
                name=name,
                mode="lines",
                line={"color": colour, "width": 3, "dash": dash},
            )
        )
    base_layout(fig, title, height, **LESSON_LAYOUT)
    fig.update_xaxes(title_text="SGD step (full batch)")
    if log:
        log_axis(fig, y_title, np.concatenate([np.ravel(v) for v in series.values()]), True)
    else:
        fig.update_yaxes(title_text=y_title, range=[-0.02, 1.05], tickformat=".0%")
    fig.update_yaxes(gridcolor=GRID_COLOUR)
    return fig
