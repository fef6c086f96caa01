"""Figures of the lesson "saving, restoring and fine-tuning": test accuracy against
steps for each way of training on the changed problem, with the first step at which
each reaches the target."""

from collections.abc import Mapping

import numpy as np
import plotly.graph_objects as go

from playground.figures.style import BLACK, LESSON_LAYOUT, SERIES, base_layout

DASHES = ("solid", "dash", "dot", "dashdot")


def race_figure(curves: Mapping[str, object], target: float, *, height: int = 400):
    """Test accuracy every few steps, one line per way of training; a marker where each
    first reaches ``target``."""
    fig = go.Figure()
    for i, (name, c) in enumerate(curves.items()):
        colour = SERIES[i % len(SERIES)]
        fig.add_trace(
            go.Scatter(
                x=c.step,
                y=c.test_metric,
                name=name,
                mode="lines",
                line={"color": colour, "width": 3, "dash": DASHES[i % len(DASHES)]},
                hovertemplate="step %{x}: %{y:.1%}<extra>" + name + "</extra>",
            )
        )
        hit = c.first_step_reaching(target)
        if hit is not None:
            fig.add_trace(
                go.Scatter(
                    x=[hit],
                    y=[float(c.test_metric[np.flatnonzero(c.step == hit)[0]])],
                    mode="markers",
                    marker={"color": colour, "size": 13, "symbol": "diamond"},
                    showlegend=False,
                    hovertemplate=f"{name}: {target:.0%} reached at step {hit}<extra></extra>",
                )
            )
    fig.add_hline(
        y=target,
        line={"color": BLACK, "dash": "dot"},
        annotation_text=f"target {target:.0%}",
        annotation_position="bottom right",
    )
    base_layout(fig, "Test accuracy on the changed problem", height, **LESSON_LAYOUT)
    fig.update_xaxes(title_text="training step (all training points each step)")
    fig.update_yaxes(title_text="test accuracy", tickformat=".0%", range=[0.3, 1.02])
    return fig
