"""The class experiment on the wall: every learner's test loss and test score against
their value of the one knob the class turns, one named point per learner."""

import html
import math

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from playground.figures.style import BLUE, ORANGE, base_layout, log_ticks, spans_decades

MAX_LABELS = 12  # more names than this overlap: they go to the hover text


def class_experiment_figure(
    names: list[str],
    values: list[float],
    losses: list[float],
    scores: list[float],
    *,
    knob_label: str,
    metric_label: str,
    log_x: bool,
    height: int = 420,
) -> go.Figure:
    """Two panels side by side, the same x: test loss (left) and test ``metric_label``
    (right) against ``knob_label``; each point labelled with the learner's name.

    Names are plain lists of data; Plotly reads a few HTML-like tags in text, so they
    go in escaped (Plotly shows "&lt;b&gt;" as "<b>"). Lists, not arrays: the figure's
    JSON carries the numbers as they are (a test reads them back)."""
    shown = [html.escape(str(n), quote=False) for n in names]
    xs = [float(v) for v in values]

    def finite(ys):
        return [float(y) if math.isfinite(y) else None for y in ys]

    fig = make_subplots(
        rows=1,
        cols=2,
        horizontal_spacing=0.12,
    )
    for col, ys, colour, what in (
        (1, finite(losses), ORANGE, "test loss"),
        (2, finite(scores), BLUE, f"test {metric_label}"),
    ):
        fig.add_trace(
            go.Scatter(
                x=xs,
                y=ys,
                # Names beside the points while they fit; beyond, on hover only.
                mode="markers+text" if len(xs) <= MAX_LABELS else "markers",
                text=shown,
                textposition="top center",
                textfont={"size": 11},
                marker={"size": 10, "color": colour, "line": {"width": 1, "color": "white"}},
                name=what,
                showlegend=False,
                hovertemplate=(
                    f"%{{text}}<br>{knob_label} %{{x:.4~g}}<br>{what} %{{y:.4~g}}<extra></extra>"
                ),
            ),
            row=1,
            col=col,
        )
    title = f"Class experiment: test loss and test {metric_label} against {knob_label}"
    base_layout(fig, title, height, grid=True)
    axis = {"title_text": knob_label + (" (log scale)" if log_x else ""), "type": "linear"}
    if log_x:
        axis.update(type="log", **log_ticks(xs))
    fig.update_xaxes(**axis)
    # Across a learning-rate sweep the loss may span decades (a diverging one far above).
    loss_log = spans_decades(losses)
    # Each panel says what it plots on its own axis (subplot titles sat on the title).
    fig.update_yaxes(
        title_text="test loss" + (" (log scale)" if loss_log else ""),
        type="log" if loss_log else "linear",
        row=1,
        col=1,
    )
    fig.update_yaxes(title_text=f"test {metric_label}", row=1, col=2)
    return fig
