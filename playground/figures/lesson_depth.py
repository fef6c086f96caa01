"""Figures of the lesson "Gradients through depth": per-layer bars, gradient size per
layer while training, and the training loss; values that span decades go on a log axis."""

from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go

from playground.figures.style import (
    BLUE,
    LESSON_LAYOUT,
    SERIES,
    base_layout,
    layer_colours,
    layer_names,
    log_axis,
    spans_decades,
)


def layer_bars(
    series: Mapping[str, np.ndarray],
    *,
    title: str,
    y_title: str,
    labels: Sequence[str],
    x_title: str = "layer (1 = next to the input)",
    log: bool | None = None,
    height: int = 360,
):
    """Grouped bars per layer, one colour per series.

    log: True / False, or None for a log axis only when the values span decades.
    """
    fig = go.Figure()
    if log is None:
        log = spans_decades(np.concatenate([np.ravel(v) for v in series.values()]))
    for (name, values), colour in zip(series.items(), SERIES, strict=False):
        v = np.asarray(values, np.float64)
        fig.add_trace(
            go.Bar(
                x=list(labels)[: len(v)],
                y=v,
                name=name,
                marker_color=colour,
                hovertemplate="layer %{x}: %{y:.3g}<extra>" + name + "</extra>",
            )
        )
    base_layout(fig, title, height, **LESSON_LAYOUT)
    fig.update_layout(barmode="group")
    fig.update_xaxes(title_text=x_title, type="category")
    log_axis(fig, y_title, np.concatenate([np.ravel(v) for v in series.values()]), log)
    return fig


def grad_history_figure(grad_rms: np.ndarray, *, height: int = 380):
    """Per-layer gradient RMS at every training step, one line per layer, log axis."""
    n_layers = grad_rms.shape[1]
    labels = layer_names(n_layers, short=True)
    fig = go.Figure()
    for i, colour in enumerate(layer_colours(n_layers)):
        fig.add_trace(
            go.Scatter(
                x=np.arange(grad_rms.shape[0]),
                y=grad_rms[:, i],
                mode="lines" if grad_rms.shape[0] > 20 else "lines+markers",
                name=f"layer {labels[i]}",
                line={"color": colour, "width": 2.5 if i in (0, n_layers - 1) else 1.5},
            )
        )
    base_layout(
        fig, "Gradient size per layer while training", height, **{**LESSON_LAYOUT, "legend": "side"}
    )
    fig.update_xaxes(title_text="SGD step")
    log_axis(fig, "gradient RMS per parameter", grad_rms, True)
    return fig


def training_loss_figure(loss: np.ndarray, *, height: int = 300):
    """Full-batch training loss at every step; a log axis when it falls by decades."""
    fig = go.Figure(
        go.Scatter(
            x=np.arange(len(loss)),
            y=loss,
            mode="lines" if len(loss) > 20 else "lines+markers",
            name="training loss",
            line={"color": BLUE, "width": 2},
        )
    )
    base_layout(fig, "Training loss", height, **LESSON_LAYOUT)
    fig.update_xaxes(title_text="SGD step")
    log_axis(fig, "cross-entropy loss", loss, spans_decades(loss))
    return fig
