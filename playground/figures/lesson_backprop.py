"""Figures and LaTeX of the lesson "Backpropagation, step by step"."""

import numpy as np
import plotly.graph_objects as go

from playground.figures.style import BLUE, LESSON_LAYOUT, ORANGE, base_layout


def _number(v: float, digits: int) -> str:
    text = f"{v:.{digits}f}"
    return "0" if float(text) == 0 else text  # no "-0.000"


def latex_matrix(a, digits: int = 2) -> str:
    """A vector or matrix as a LaTeX bmatrix (a vector is shown as one row)."""
    a = np.atleast_2d(np.asarray(a, np.float64))
    rows = [" & ".join(_number(v, digits) for v in row) for row in a]
    return r"\begin{bmatrix}" + r" \\ ".join(rows) + r"\end{bmatrix}"


def cost_figure(report, *, height: int = 340):
    """Forward vs forward + backward, in flops and in bytes, relative to the forward pass."""
    kinds = ["floating-point operations", "bytes read and written"]
    forward = [report.forward_flops, report.forward_bytes]
    total = [report.total_flops, report.total_bytes]
    fig = go.Figure()
    for name, values, colour in (
        ("forward pass (loss only)", forward, BLUE),
        ("forward + backward (loss and gradient)", total, ORANGE),
    ):
        fig.add_trace(
            go.Bar(
                x=kinds,
                y=[v / f for v, f in zip(values, forward, strict=True)],
                name=name,
                marker_color=colour,
                text=[f"{v:,.0f}" for v in values],
                textposition="outside",
                hovertemplate="%{x}: %{text} (%{y:.2f}× forward)<extra></extra>",
            )
        )
    base_layout(fig, "What XLA counts in the compiled programs", height, **LESSON_LAYOUT)
    fig.update_layout(barmode="group")
    top = max(report.flop_ratio, report.bytes_ratio)
    fig.update_yaxes(title_text="× the forward pass", range=[0, top * 1.25])
    fig.update_xaxes(title_text="what is counted")
    return fig


def loss_steps_figure(losses: np.ndarray, *, title: str, height: int = 300):
    """Minibatch loss after 0, 1, 2, ... SGD steps."""
    fig = go.Figure(
        go.Scatter(
            x=np.arange(len(losses)),
            y=losses,
            mode="lines+markers",
            name="minibatch loss",
            line={"color": BLUE, "width": 2},
        )
    )
    base_layout(fig, title, height, **LESSON_LAYOUT)
    fig.update_xaxes(title_text="SGD steps taken")
    fig.update_yaxes(title_text="cross-entropy loss", rangemode="tozero")
    return fig
