"""Figures of the lesson "SGD, minibatches and the learning rate": loss curves per batch
size, a 2D slice of the loss surface with optimizer paths drawn on it, how far each path
is from the bottom, and the noise of minibatch gradients against the batch size."""

from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go

from playground.figures.style import (
    BLACK,
    GRID_COLOUR,
    LESSON_LAYOUT,
    SERIES,
    base_layout,
    log_axis,
    log_ticks,
)

DASHES = ("solid", "dash", "dot", "dashdot")
# Light, ordered: the paths on top must stay readable.
SURFACE_SCALE = [[0.0, "#f7fbff"], [0.5, "#c6dbef"], [1.0, "#6baed6"]]
EXCESS_FLOOR = 1e-9  # excess losses below this (float32 rounding) are drawn here


def _style(i: int) -> dict:
    return {"color": SERIES[i % len(SERIES)], "dash": DASHES[i % len(DASHES)]}


def curves_figure(
    series: Mapping[str, np.ndarray],
    x: Mapping[str, np.ndarray] | np.ndarray,
    *,
    title: str,
    x_title: str,
    y_title: str,
    height: int = 360,
    width: float = 2.5,
):
    """One line per series against steps, on a log axis (losses fall by decades)."""
    fig = go.Figure()
    for i, (name, y) in enumerate(series.items()):
        xi = x[name] if isinstance(x, Mapping) else x
        fig.add_trace(
            go.Scatter(
                x=xi,
                y=np.maximum(np.asarray(y, np.float64), EXCESS_FLOOR),
                name=name,
                mode="lines",
                line={**_style(i), "width": width},
                hovertemplate="step %{x}: %{y:.3g}<extra>" + name + "</extra>",
            )
        )
    base_layout(fig, title, height, **LESSON_LAYOUT)
    fig.update_xaxes(title_text=x_title)
    values = np.concatenate([np.ravel(v) for v in series.values()])
    log_axis(fig, y_title, np.maximum(values[np.isfinite(values)], EXCESS_FLOOR), True)
    return fig


def slice_figure(
    sl,
    paths: Sequence,
    *,
    title: str,
    names: tuple[str, str],
    height: int = 460,
    first_style: int = 0,
    colour_bar: bool = True,
):
    """The loss over two weights (contours) with each path's steps drawn on it. A path
    that leaves the picture is drawn up to its first point outside."""
    excess = np.maximum(sl.loss - sl.min_loss, EXCESS_FLOOR)
    z = np.log10(excess)
    lo, hi = float(np.floor(z.min())), float(np.ceil(z.max()))
    ticks = log_ticks(10.0 ** np.array([max(lo, -4.0), hi]))
    fig = go.Figure(
        go.Contour(
            x=sl.a,
            y=sl.b,
            z=z,
            colorscale=SURFACE_SCALE,
            contours={"start": max(lo, -4.0), "end": hi, "size": 0.5},
            line={"color": "#9ecae1", "width": 1},
            colorbar={
                "title": {"text": "loss above<br>the lowest"},
                "thickness": 12,
                "len": 0.8,
                "tickvals": np.log10(ticks.get("tickvals", [])),
                "ticktext": ticks.get("ticktext", []),
            },
            hovertemplate=f"{names[0]}=%{{x:.3f}}<br>{names[1]}=%{{y:.3f}}<extra></extra>",
            name="loss surface",
            showlegend=False,
            showscale=colour_bar,
        )
    )
    for i, p in enumerate(paths):
        pts = _until_outside(p.points, sl)
        fig.add_trace(
            go.Scatter(
                x=pts[:, 0],
                y=pts[:, 1],
                name=p.label,
                mode="lines+markers",
                line={**_style(first_style + i), "width": 2},
                marker={"size": 4, "color": _style(first_style + i)["color"]},
                hovertemplate="step %{pointNumber}<extra>" + p.label + "</extra>",
            )
        )
    fig.add_trace(
        go.Scatter(
            x=[sl.start[0]],
            y=[sl.start[1]],
            mode="markers",
            name="start",
            marker={"symbol": "circle-open", "size": 14, "color": BLACK, "line": {"width": 3}},
        )
    )
    fig.add_trace(
        go.Scatter(
            x=[sl.minimum[0]],
            y=[sl.minimum[1]],
            mode="markers",
            name="lowest point",
            marker={"symbol": "star", "size": 16, "color": BLACK},
        )
    )
    base_layout(fig, title, height, **LESSON_LAYOUT)
    fig.update_layout(margin={"l": 65, "r": 15, "b": 60})
    fig.update_xaxes(
        title_text=names[0], range=[sl.a[0], sl.a[-1]], constrain="domain", showgrid=False
    )
    fig.update_yaxes(
        title_text=names[1],
        range=[sl.b[0], sl.b[-1]],
        scaleanchor="x",
        constrain="domain",
        showgrid=False,
    )
    return fig


def _until_outside(points: np.ndarray, sl) -> np.ndarray:
    """The points up to and including the first one outside the slice's picture."""
    inside = (
        (points[:, 0] >= sl.a[0]) & (points[:, 0] <= sl.a[-1])
        & (points[:, 1] >= sl.b[0]) & (points[:, 1] <= sl.b[-1])
    )  # fmt: skip
    out = np.flatnonzero(~inside)
    return points if out.size == 0 else points[: out[0] + 1]


def excess_figure(sl, paths: Sequence, *, title: str, height: int = 360, first_style: int = 0):
    """How far above the lowest point of the slice each path is, step by step."""
    series = {p.label: p.loss - sl.min_loss for p in paths}
    fig = curves_figure(
        series,
        np.arange(len(paths[0].loss)),
        title=title,
        x_title="step",
        y_title="loss above the lowest",
        height=height,
    )
    for i, trace in enumerate(fig.data):
        trace.line.color = _style(first_style + i)["color"]
        trace.line.dash = _style(first_style + i)["dash"]
    return fig


def noise_figure(noise, *, height: int = 360):
    """Measured spread of minibatch gradients against batch size, with the formula."""
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=noise.batch_sizes,
            y=noise.expected,
            name="sampling theory: σ·√((n − b) / (b·(n − 1)))",
            mode="lines",
            line={"color": SERIES[1], "width": 3, "dash": "dash"},
        )
    )
    fig.add_trace(
        go.Scatter(
            x=noise.batch_sizes,
            y=noise.measured,
            name="measured over random minibatches",
            mode="markers",
            marker={"color": SERIES[0], "size": 11},
        )
    )
    full = noise.full_size
    fig.add_hline(
        y=full,
        line={"color": BLACK, "dash": "dot"},
        annotation_text="size of the full-batch gradient",
        annotation_position="top right",
    )
    base_layout(fig, "How far a minibatch gradient strays", height, **LESSON_LAYOUT)
    fig.update_xaxes(title_text="batch size b", type="log", gridcolor=GRID_COLOUR)
    log_axis(fig, "typical error of the gradient", np.append(noise.measured, full), True)
    return fig
