"""Trace builders every view shares: data points, polylines with NaN gaps, bends per
layer, straight segments and contour lines."""

import numpy as np
import plotly.graph_objects as go

from playground.figures.style import (
    BLACK,
    CLASS_SYMBOLS,
    DIVERGING,
    VERMILION,
    class_colours,
    layer_line,
)


def point_traces(
    x, y, task, n_classes, class_names, *, part: str = "", size: int = 7, hover: bool = True
) -> list[go.Scattergl]:
    """Data points: one trace per class (colour and marker shape), or one coloured by target.

    ``part`` ("train", "test" or "") names the traces; test points are drawn open.
    """
    # WebGL markers: redrawing 500 SVG markers was half of each live frame's draw time.
    x, y = np.asarray(x), np.asarray(y)
    test = part == "test"
    suffix = f" ({part})" if part else ""
    marker_line = {"width": 1.5 if test else 0.8, "color": "black" if test else "white"}
    common = {"mode": "markers"} | ({} if hover else {"hoverinfo": "skip"})
    if task == "regression":
        return [
            go.Scattergl(
                x=x[:, 0],
                y=x[:, 1],
                name=f"{part or 'data'} points (colour: target)",
                marker={
                    "color": y,
                    "colorscale": DIVERGING,
                    "cmin": -1,
                    "cmax": 1,
                    "size": size,
                    "line": marker_line,
                    "symbol": "circle-open" if test else "circle",
                },
                hovertemplate="x₁=%{x:.2f}<br>x₂=%{y:.2f}<br>target=%{marker.color:.3f}",
                **common,
            )
        ]
    colours = class_colours(n_classes)
    traces = []
    for k in range(n_classes):
        sel = y == k
        label = class_names[k] if k < len(class_names) else str(k)
        traces.append(
            go.Scattergl(
                x=x[sel, 0],
                y=x[sel, 1],
                name=f"class {label}{suffix}",
                marker={
                    "color": colours[k % len(colours)],
                    "size": size,
                    "line": marker_line,
                    "symbol": CLASS_SYMBOLS[k % len(CLASS_SYMBOLS)] + ("-open" if test else ""),
                },
                hovertemplate=f"class {label}<br>x₁=%{{x:.2f}}<br>x₂=%{{y:.2f}}<extra></extra>",
                **common,
            )
        )
    return traces


def polylines_xy(lines) -> tuple[np.ndarray, np.ndarray]:
    """Polylines (L, P, 2), e.g. segments (S, 2, 2), as x and y arrays with a NaN gap
    after each line: one Plotly trace draws them all."""
    a = np.asarray(lines, np.float64)
    if a.size == 0:
        return np.zeros(0), np.zeros(0)
    a = a.reshape(-1, a.shape[-2], 2)
    gap = np.full((len(a), 1), np.nan)
    return (
        np.concatenate([a[..., 0], gap], axis=1).ravel(),
        np.concatenate([a[..., 1], gap], axis=1).ravel(),
    )


def bend_uid(layer: int) -> str:
    """The uid of hidden layer ``layer``'s (0-based) bend trace: ``"bends-1"`` for the
    first. Live arrays name the trace by it (``"bends-1.x"``)."""
    return f"bends-{layer + 1}"


def bend_traces(bends_by_layer: list, *, visible=True) -> list[go.Scatter]:
    """One line trace per hidden layer, in the layer's colour and dash; each layer's
    segments (S, 2, 2) are joined with NaN gaps. Uids: ``bend_uid``."""
    n = len(bends_by_layer)
    traces = []
    for layer, segments in enumerate(bends_by_layer):
        xs, ys = polylines_xy(segments)
        traces.append(
            go.Scatter(
                x=xs,
                y=ys,
                mode="lines",
                name=f"bends of layer {layer + 1}",
                uid=bend_uid(layer),
                line={**layer_line(layer, n), "width": 1.6},
                hoverinfo="skip",
                visible=visible,
            )
        )
    return traces


def segment_trace(ends: np.ndarray, name: str, *, colour: str = BLACK, dash: str = "dash"):
    """A straight segment from ends[0] to ends[1] (x1, x2)."""
    return go.Scatter(
        x=ends[:, 0],
        y=ends[:, 1],
        mode="lines",
        name=name,
        line={"color": colour, "width": 3, "dash": dash},
        hoverinfo="skip",
    )


def contour_trace(xs, ys, grid, level: float, name: str, *, colour: str = VERMILION):
    """The curve where the map's value equals ``level`` (e.g. P(class 1) = 0.5)."""
    return go.Contour(
        x=xs,
        y=ys,
        z=grid,
        contours={"start": level, "end": level, "size": 1.0, "coloring": "lines"},
        colorscale=[[0, colour], [1, colour]],
        line={"width": 6},
        showscale=False,
        showlegend=True,
        name=name,
        hoverinfo="skip",
    )
