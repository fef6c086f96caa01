"""Figures of the lesson "Why linear models fail": prediction maps (the Playground's own
boundary figure), slopes along a line, the stack-vs-matrix scatter, the ReLU search."""

from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go

from playground.analysis.geometry import bends_by_layer
from playground.figures.boundary import decision_boundary_figure
from playground.figures.style import (
    BLACK,
    BLUE,
    GREEN,
    LESSON_LAYOUT,
    ORANGE,
    SERIES,
    base_layout,
)
from playground.figures.traces import bend_traces


def prediction_map(
    fit,
    title: str,
    *,
    lines: Sequence[go.Scatter] = (),
    height: int = 430,
    show_test: bool = False,
    legend: bool = True,
):
    """A trained lesson model's output over the plane, with its training points (and its
    test points, drawn open, with ``show_test``). Without ``legend``, for small maps side by
    side, the page says once what the markers mean."""
    fig, _ = decision_boundary_figure(
        fit.xs, fit.ys, fit.grid, fit.data, title=title, height=height, show_test=show_test
    )
    for trace in lines:
        fig.add_trace(trace)
    bottom = 95 if legend else 50
    fig.update_layout(margin={"l": 55, "r": 10, "b": bottom}, showlegend=legend)
    fig.update_yaxes(constrain="domain")  # shrink the plot to a square, never widen the range
    return fig


def relu_bend_traces(bends) -> list[go.Scatter]:
    """The bends of the hidden layers' ReLUs (``geometry.Bend`` list) as line traces."""
    n_layers = max((b.layer for b in bends), default=-1) + 1
    return bend_traces(bends_by_layer(bends, n_layers))


def slope_figure(x1: np.ndarray, slopes: Mapping[str, np.ndarray], x2: float, *, height=330):
    """d(output)/d(x1) along the horizontal line x2 = const, one curve per model."""
    fig = go.Figure()
    for (name, s), colour, dash in zip(slopes.items(), SERIES, ("solid", "dash"), strict=False):
        fig.add_trace(
            go.Scatter(
                x=x1, y=s, name=name, mode="lines", line={"color": colour, "width": 3, "dash": dash}
            )
        )
    base_layout(fig, f"Slope of the output along the line x₂ = {x2:g}", height, **LESSON_LAYOUT)
    fig.update_xaxes(title_text="x₁")
    fig.update_yaxes(title_text="∂ output / ∂x₁")
    return fig


def collapse_scatter(stack_out: np.ndarray, single_out: np.ndarray, *, height: int = 380):
    """Each test point's output from the stack (x) against the single matrix (y)."""
    lo = float(min(stack_out.min(), single_out.min()))
    hi = float(max(stack_out.max(), single_out.max()))
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=[lo, hi],
            y=[lo, hi],
            mode="lines",
            name="equal outputs (y = x)",
            line={"color": "#888888", "dash": "dot"},
        )
    )
    fig.add_trace(
        go.Scatter(
            x=stack_out,
            y=single_out,
            mode="markers",
            name="a test point",
            marker={"color": BLUE, "size": 6, "opacity": 0.7},
        )
    )
    base_layout(fig, "Same outputs, point by point", height, **LESSON_LAYOUT)
    fig.update_xaxes(title_text="output of the stack of layers (logit)")
    fig.update_yaxes(title_text="output of the single matrix (logit)")
    return fig


def relu_search_figure(
    widths: Sequence[int], accuracies: Sequence[float], target: float, *, height: int = 330
):
    """Test accuracy on XOR for each number of ReLUs tried, with the 'solved' line."""
    colours = [GREEN if a >= target else ORANGE for a in accuracies]
    fig = go.Figure(
        go.Bar(
            x=[str(w) for w in widths],
            y=list(accuracies),
            marker_color=colours,
            text=[f"{a:.0%}" for a in accuracies],
            textposition="outside",
            name="test accuracy",
            showlegend=False,
        )
    )
    fig.add_hline(
        y=target,
        line={"color": BLACK, "dash": "dash"},
        annotation_text=f"solved ({target:.0%})",
        annotation_position="top left",
    )
    base_layout(fig, "XOR test accuracy with H ReLUs in one hidden layer", height, **LESSON_LAYOUT)
    fig.update_xaxes(title_text="ReLUs in the hidden layer (H)", type="category")
    fig.update_yaxes(title_text="test accuracy", range=[0, 1.12], tickformat=".0%")
    return fig
