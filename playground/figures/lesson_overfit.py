"""Figures of the lesson "overfitting and regularisation": train / test (and validation)
loss against steps, the decision boundary of each method with its test points, train vs
test loss per method, and where the weights end up under L2, L1 and a proximal L1."""

from collections.abc import Mapping
from itertools import pairwise

import numpy as np
import plotly.graph_objects as go

from playground.figures.style import (
    BLACK,
    BLUE,
    GREEN,
    LESSON_LAYOUT,
    ORANGE,
    SERIES,
    base_layout,
    log_axis,
    log_ticks,
)

LOSS_FLOOR = 1e-4  # a training loss of 0.0000… is drawn here on the log axis


def loss_curves_figure(curve, *, val_loss=None, stop_step=None, title: str, height: int = 360):
    """Training, test (and validation) loss against steps, with the early-stopping step."""
    fig = go.Figure()
    lines = [
        ("training loss", curve.train_loss, BLUE, "solid"),
        ("test loss", curve.test_loss, ORANGE, "dash"),
    ]
    if val_loss is not None:
        lines.append(("validation loss (fresh points)", val_loss, GREEN, "dot"))
    for name, y, colour, dash in lines:
        fig.add_trace(
            go.Scatter(
                x=curve.step,
                y=np.maximum(y, LOSS_FLOOR),
                name=name,
                mode="lines",
                line={"color": colour, "width": 3, "dash": dash},
                hovertemplate="step %{x}: %{y:.3g}<extra>" + name + "</extra>",
            )
        )
    if stop_step is not None:
        fig.add_vline(
            x=stop_step,
            line={"color": BLACK, "dash": "dash"},
            annotation_text=f"stop: step {stop_step}",
            annotation_position="top right",
        )
    base_layout(fig, title, height, **LESSON_LAYOUT)
    fig.update_xaxes(title_text="step (full batch: one step is one epoch)")
    values = np.concatenate([np.maximum(y, LOSS_FLOOR) for _, y, _, _ in lines])
    log_axis(fig, "cross-entropy loss", values, True)
    return fig


def gap_figure(train: Mapping[str, float], test: Mapping[str, float], *, height: int = 380):
    """Training vs test loss at the end, a pair of horizontal bars per method."""
    names = list(train)
    fig = go.Figure()
    for part, values, colour in (("training loss", train, BLUE), ("test loss", test, ORANGE)):
        fig.add_trace(
            go.Bar(
                y=names,
                x=[values[n] for n in names],
                name=part,
                orientation="h",
                marker_color=colour,
                text=[f"{values[n]:.2f}" for n in names],
                textposition="outside",
                cliponaxis=False,
            )
        )
    base_layout(fig, "Training vs test loss", height, **LESSON_LAYOUT)
    fig.update_layout(barmode="group", margin={"l": 130, "r": 30, "b": 60})
    top = max(max(train.values()), max(test.values()))
    fig.update_xaxes(title_text="cross-entropy loss", range=[0, top * 1.25])
    fig.update_yaxes(title_text="method", autorange="reversed")
    return fig


def histogram_figure(hists: Mapping[str, tuple], *, height: int = 380):
    """How many weights have each size (log bins), exact zeros in a bar of their own."""
    fig = go.Figure()
    for (name, (edges, counts, zeros)), colour in zip(hists.items(), SERIES, strict=False):
        labels = ["exactly 0"] + [f"10^{lo:g}–10^{hi:g}" for lo, hi in pairwise(edges)]
        fig.add_trace(
            go.Bar(
                x=labels,
                y=[zeros, *counts],
                name=name,
                marker_color=colour,
                hovertemplate="|w| %{x}: %{y} weights<extra>" + name + "</extra>",
            )
        )
    base_layout(fig, "Sizes of all the weights after training", height, **LESSON_LAYOUT)
    fig.update_layout(barmode="group", bargap=0.1)
    fig.update_xaxes(title_text="size of the weight |w|", type="category")
    fig.update_yaxes(title_text="number of weights")
    return fig


def weight_matrix_figure(magnitude: np.ndarray, title: str, *, height: int = 360):
    """|w| of one weight matrix (rows: from unit, columns: to unit) on a log colour scale;
    exact zeros are left blank."""
    with np.errstate(divide="ignore"):
        z = np.where(magnitude > 0, np.log10(np.maximum(magnitude, 1e-12)), np.nan)
    lo = -6.0
    ticks = log_ticks([10.0**lo, max(float(np.nanmax(magnitude)), 1e-3)])
    fig = go.Figure(
        go.Heatmap(
            z=np.maximum(z, lo),
            x=np.arange(1, magnitude.shape[1] + 1),
            y=np.arange(1, magnitude.shape[0] + 1),
            colorscale="Viridis",
            zmin=lo,
            zmax=float(np.nanmax(z)) if np.isfinite(z).any() else 0.0,
            colorbar={
                "title": {"text": "|w|"},
                "thickness": 12,
                "tickvals": np.log10(ticks.get("tickvals", [])),
                "ticktext": ticks.get("ticktext", []),
            },
            hovertemplate="from unit %{y} to unit %{x}<extra></extra>",
        )
    )
    base_layout(fig, title, height, **LESSON_LAYOUT)
    fig.update_xaxes(title_text="to unit of hidden layer 2", showgrid=False)
    fig.update_yaxes(title_text="from unit of layer 1", autorange="reversed", showgrid=False)
    fig.update_layout(plot_bgcolor="white")
    return fig
