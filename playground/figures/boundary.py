"""Pure figure builders: arrays in, ``plotly.graph_objects.Figure`` out. No Streamlit.

Colours: orange / blue for two classes (TensorFlow Playground's pair, which colour-blind
readers can tell apart), the Okabe-Ito palette for more classes, with a marker shape per
class so colour is never the only cue.
"""

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

ORANGE, BLUE, NEUTRAL = "#f59322", "#0877bd", "#f2f2f2"
CLASS_COLOURS = (
    "#E69F00",
    "#0072B2",
    "#009E73",
    "#CC79A7",
    "#D55E00",
    "#56B4E9",
    "#F0E442",
    "#000000",
)
CLASS_SYMBOLS = ("circle", "square", "diamond", "triangle-up", "cross", "x", "star", "hexagon")
LAYER_COLOURS = (
    "#222222",
    "#7B3294",
    "#1B7837",
    "#B2182B",
    "#2166AC",
    "#8C510A",
    "#01665E",
    "#C51B7D",
)
LAYER_DASHES = ("solid", "dash", "dot", "dashdot", "longdash", "longdashdot", "solid", "dash")
DIVERGING = [[0.0, ORANGE], [0.5, NEUTRAL], [1.0, BLUE]]
FONT = {"size": 13}


def _base_layout(fig: go.Figure, title: str, height: int) -> go.Figure:
    fig.update_layout(
        title={"text": title, "x": 0.01, "font": {"size": 15}},
        height=height,
        margin={"l": 60, "r": 15, "t": 40, "b": 95},
        font=FONT,
        plot_bgcolor="white",
        uirevision="keep",  # zoom and legend choices survive data updates
        # Below the axes, so it never covers the title or the data.
        legend={
            "orientation": "h",
            "yref": "container",
            "yanchor": "bottom",
            "y": 0.0,
            "x": 0,
            "xanchor": "left",
        },
    )
    return fig


def class_colour(k: int) -> str:
    return CLASS_COLOURS[k % len(CLASS_COLOURS)]


def two_class_colours(n_classes: int) -> tuple[str, ...]:
    return (ORANGE, BLUE) if n_classes == 2 else CLASS_COLOURS


def output_surface(grid: np.ndarray, task: str, n_classes: int, discretize: bool) -> np.ndarray:
    """The (n, n) value drawn as the background: P(class 1), a class index, or a value."""
    if task == "multiclass":
        return np.argmax(grid, axis=-1).astype(np.float32)
    if task == "binary" and discretize:
        return (grid > 0.5).astype(np.float32)
    if task == "regression" and discretize:
        return np.sign(grid).astype(np.float32)
    return grid.astype(np.float32)


def surface_colourscale(task: str, n_classes: int):
    """Colour scale and range of the background for a task."""
    if task == "multiclass":
        step = 1.0 / n_classes
        scale = []
        for k in range(n_classes):
            scale += [[k * step, class_colour(k)], [(k + 1) * step, class_colour(k)]]
        return scale, -0.5, n_classes - 0.5
    if task == "binary":
        return DIVERGING, 0.0, 1.0
    return DIVERGING, -1.0, 1.0


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
    colours = two_class_colours(n_classes)
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


def bend_traces(bends_by_layer: list[list[np.ndarray]], *, visible=True) -> list[go.Scatter]:
    """One line trace per hidden layer; segments (2, 2) are joined with None gaps."""
    traces = []
    for layer, segments in enumerate(bends_by_layer):
        xs, ys = polylines_xy(segments)
        traces.append(
            go.Scatter(
                x=xs,
                y=ys,
                mode="lines",
                name=f"bends of layer {layer + 1}",
                line={
                    "color": LAYER_COLOURS[layer % len(LAYER_COLOURS)],
                    "width": 1.6,
                    "dash": LAYER_DASHES[layer % len(LAYER_DASHES)],
                },
                hoverinfo="skip",
                visible=visible,
            )
        )
    return traces


def decision_boundary_figure(
    xs: np.ndarray,
    ys: np.ndarray,
    surface: np.ndarray,
    data,
    *,
    show_test: bool = False,
    discretize: bool = False,
    bends_by_layer: list | None = None,
    title: str | None = None,
    height: int = 520,
) -> go.Figure:
    """The network's output over the plane with the data points (and optional bends).

    ``surface`` is the raw prediction grid (n, n[, K]) whose rows follow ``ys``.
    """
    task, k = data.task, data.n_classes
    z = output_surface(surface, task, k, discretize)
    scale, zmin, zmax = surface_colourscale(task, k)
    bar_title = {"binary": "P(class 1)", "multiclass": "class", "regression": "prediction"}[task]
    fig = go.Figure(
        go.Heatmap(
            x=xs,
            y=ys,
            z=z,
            colorscale=scale,
            zmin=zmin,
            zmax=zmax,
            opacity=0.8,
            # Probabilities and values blend smoothly between cells; classes do not.
            zsmooth="best" if task != "multiclass" and not discretize else False,
            colorbar={"title": {"text": bar_title}, "thickness": 12, "len": 0.8},
            hovertemplate="x₁=%{x:.2f}<br>x₂=%{y:.2f}<br>output=%{z:.3f}<extra></extra>",
            showscale=task != "multiclass",
        )
    )
    names = data.class_names or tuple(str(i) for i in range(k))
    for t in point_traces(data.x_train, data.y_train, task, k, names, part="train"):
        fig.add_trace(t)
    if show_test:
        for t in point_traces(data.x_test, data.y_test, task, k, names, part="test"):
            fig.add_trace(t)
    for t in bend_traces(bends_by_layer or []):
        fig.add_trace(t)
    if title is None:
        title = {
            "binary": "Decision boundary",
            "multiclass": "Predicted class",
            "regression": "Predicted surface",
        }[task]
    _base_layout(fig, title, height)
    lim = [float(xs[0]), float(xs[-1])], [float(ys[0]), float(ys[-1])]
    fig.update_xaxes(title_text="x₁", range=lim[0], constrain="domain", showgrid=False)
    fig.update_yaxes(title_text="x₂", range=lim[1], scaleanchor="x", showgrid=False)
    return fig


def loss_curves_figure(
    epoch: np.ndarray, train_loss: np.ndarray, test_loss: np.ndarray, *, height: int = 300
) -> go.Figure:
    """Train and test loss against epochs, log scale."""
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=epoch, y=train_loss, name="train loss", mode="lines", line={"color": BLUE, "width": 2}
        )
    )
    fig.add_trace(
        go.Scatter(
            x=epoch,
            y=test_loss,
            name="test loss",
            mode="lines",
            line={"color": ORANGE, "width": 2, "dash": "dash"},
        )
    )
    _base_layout(fig, "Loss", height)
    fig.update_xaxes(title_text="epoch", gridcolor="#e5e5e5")
    fig.update_yaxes(
        title_text="loss (log scale)", type="log", gridcolor="#e5e5e5", exponentformat="power"
    )
    return fig


def layer_names(n_layers: int) -> list[str]:
    """Names of weight layers: hidden 1..L-1, then the output layer."""
    return [f"hidden layer {i + 1}" for i in range(n_layers - 1)] + ["output layer"]


def gradient_curves_figure(
    epoch: np.ndarray, grad_rms: np.ndarray, *, height: int = 300
) -> go.Figure:
    """Per-layer gradient RMS (one line per layer) against epochs, log scale.

    ``grad_rms`` has shape (n_records, n_layers).
    """
    fig = go.Figure()
    grad_rms = np.atleast_2d(grad_rms)
    names = layer_names(grad_rms.shape[1])
    for i, name in enumerate(names):
        fig.add_trace(
            go.Scatter(
                x=epoch,
                y=grad_rms[:, i],
                name=name,
                mode="lines",
                line={
                    "color": LAYER_COLOURS[i % len(LAYER_COLOURS)],
                    "dash": LAYER_DASHES[i % len(LAYER_DASHES)],
                    "width": 2,
                },
            )
        )
    _base_layout(fig, "Gradient size per layer (RMS per weight)", height)
    fig.update_xaxes(title_text="epoch", gridcolor="#e5e5e5")
    fig.update_yaxes(
        title_text="gradient RMS (log scale)",
        type="log",
        gridcolor="#e5e5e5",
        exponentformat="power",
    )
    return fig


def metric_curves_figure(
    epoch: np.ndarray, train: np.ndarray, test: np.ndarray, metric: str, *, height: int = 300
) -> go.Figure:
    """Train and test accuracy (or R²) against epochs."""
    label = "R²" if metric == "r2" else "accuracy"
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=epoch, y=train, name=f"train {label}", mode="lines", line={"color": BLUE, "width": 2}
        )
    )
    fig.add_trace(
        go.Scatter(
            x=epoch,
            y=test,
            name=f"test {label}",
            mode="lines",
            line={"color": ORANGE, "width": 2, "dash": "dash"},
        )
    )
    _base_layout(fig, label.capitalize() if metric != "r2" else "R²", height)
    fig.update_xaxes(title_text="epoch", gridcolor="#e5e5e5")
    fig.update_yaxes(
        title_text=label, gridcolor="#e5e5e5", range=[0, 1.02] if metric != "r2" else None
    )
    return fig


def scaled_unit(a: np.ndarray) -> np.ndarray:
    """A unit's activation divided by its largest magnitude, so it spans [-1, 1]."""
    top = float(np.max(np.abs(a))) if a.size else 0.0
    return a / top if top > 0 else a


def thumbnail_units(hidden: tuple[int, ...], max_units: int) -> list[tuple[int, int]]:
    """(layer, unit) of every thumbnail, in trace order."""
    return [(layer, j) for layer, w in enumerate(hidden) for j in range(min(w, max_units))]


def neuron_thumbnails_figure(
    xs: np.ndarray,
    ys: np.ndarray,
    unit_grids: list[np.ndarray],
    bends_by_unit: list[list[list[np.ndarray]]] | None = None,
    *,
    max_units: int = 8,
    height_per_row: int = 120,
) -> go.Figure:
    """Each hidden unit's activation over the plane, one row per layer, with its bend.

    ``unit_grids[l]`` has shape (n, n, width_l); ``bends_by_unit[l][j]`` lists the
    (2, 2) segments of unit j's bend. Traces: every unit's heatmap first, then every
    unit's bend line, both in ``thumbnail_units`` order. Each unit is scaled to ±1.
    """
    hidden = tuple(g.shape[-1] for g in unit_grids)
    units = thumbnail_units(hidden, max_units)
    rows, cols = len(unit_grids), max(1, min(max_units, max(hidden)))
    titles = [
        f"layer {layer + 1}, unit {j + 1}" if j < hidden[layer] else ""
        for layer in range(rows)
        for j in range(cols)
    ]
    fig = make_subplots(
        rows=rows,
        cols=cols,
        subplot_titles=titles,
        horizontal_spacing=0.015,
        vertical_spacing=0.14 / max(rows, 1),
    )
    for layer, j in units:
        fig.add_trace(
            go.Heatmap(
                x=xs,
                y=ys,
                z=scaled_unit(unit_grids[layer][..., j]),
                zmin=-1,
                zmax=1,
                zsmooth="best",
                colorscale=DIVERGING,
                showscale=False,
                hovertemplate=f"layer {layer + 1}, unit {j + 1}<br>x₁=%{{x:.1f}}, "
                "x₂=%{y:.1f}<br>activation / max=%{z:.2f}<extra></extra>",
            ),
            row=layer + 1,
            col=j + 1,
        )
    for layer, j in units:
        segs = bends_by_unit[layer][j] if bends_by_unit else []
        tr = bend_traces([segs])[0]
        tr.update(line={"color": "#222222", "width": 1, "dash": "solid"}, showlegend=False)
        fig.add_trace(tr, row=layer + 1, col=j + 1)
    fig.update_xaxes(showticklabels=False, range=[float(xs[0]), float(xs[-1])])
    fig.update_yaxes(showticklabels=False, range=[float(ys[0]), float(ys[-1])])
    fig.update_annotations(font_size=10)
    fig.update_layout(
        height=50 + height_per_row * rows,
        margin={"l": 10, "r": 10, "t": 50, "b": 10},
        title={
            "text": "What each hidden unit computes (orange: negative, white: zero, blue: "
            "positive; line: the unit's bend)",
            "x": 0.01,
            "font": {"size": 14},
        },
        showlegend=False,
        plot_bgcolor="white",
        uirevision="keep",
    )
    return fig
