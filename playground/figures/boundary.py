"""The decision boundary: the network's output over the plane, the data points and every
layer's bends. Live contract: ``decision_boundary_figure`` returns ``(figure, arrays)``;
``surface_arrays`` and ``bend_arrays`` give the same arrays for a later picture of the
same figure (the bends, costlier, are often shared by several pictures). Arrays name
their trace by uid: ``SURFACE``, ``traces.bend_uid(layer)`` and ``PICKED``."""

import numpy as np
import plotly.graph_objects as go

from playground.figures.style import (
    BLACK,
    DIVERGING,
    NO_LINE,
    LiveArray,
    base_layout,
    class_colour,
)
from playground.figures.traces import bend_traces, bend_uid, point_traces, polylines_xy

# Uids of the traces that pictures change (with ``bend_uid``): the paths of their arrays
# ("surface.z", "bends-1.x", "picked.signs") stay put whatever traces the figure adds.
SURFACE = "surface"
PICKED = "picked"


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


BAR_TITLES = {"binary": "P(class 1)", "multiclass": "class", "regression": "prediction"}


def discrete_colourbar(task: str, names) -> tuple[list, dict]:
    """Colour scale and colour bar of a discretized output: two flat colours, labelled
    with the classes (or the prediction's sign), not a continuous probability."""
    lo, hi = DIVERGING[0][1], DIVERGING[-1][1]
    scale = [[0.0, lo], [0.5, lo], [0.5, hi], [1.0, hi]]
    if task == "binary":
        ticks = {"tickvals": [0.25, 0.75], "ticktext": [f"class {n}" for n in names[:2]]}
        title = "predicted class"
    else:
        ticks = {"tickvals": [-0.5, 0.5], "ticktext": ["below 0", "above 0"]}
        title = "prediction"
    return scale, {"title": {"text": title, "side": "right"}, **ticks}


TITLES = {
    "binary": "Decision boundary",
    "multiclass": "Predicted class",
    "regression": "Predicted surface",
}


def surface_arrays(surface: np.ndarray, data, *, discretize: bool) -> dict[str, LiveArray]:
    """The output grid of one picture, as bytes over the colour range."""
    _, zmin, zmax = surface_colourscale(data.task, data.n_classes)
    z = output_surface(surface, data.task, data.n_classes, discretize)
    return {f"{SURFACE}.z": LiveArray(z, zmin, zmax)}


def bend_arrays(bends_by_layer: list) -> dict[str, LiveArray]:
    """Every layer's bends, exact (segments (S, 2, 2) per layer)."""
    arrays = {}
    for i, segments in enumerate(bends_by_layer):
        bx, by = polylines_xy(segments)
        arrays[f"{bend_uid(i)}.x"] = LiveArray(bx, bits=16)
        arrays[f"{bend_uid(i)}.y"] = LiveArray(by, bits=16)
    return arrays


def live_bend_arrays(lines, signs, n_layers: int, box) -> dict[str, LiveArray]:
    """A live picture's bends (``analysis.grid_bends``) for the bend traces: the first
    layer's lines (H1, 2, 2) as they are; each deeper layer as its units' signs on the grid
    (``.signs``, traced by the browser), its exact lines emptied."""
    if not n_layers:
        return {}
    bx, by = polylines_xy(lines)
    first = bend_uid(0)
    arrays = {f"{first}.x": LiveArray(bx, bits=16), f"{first}.y": LiveArray(by, bits=16)}
    for i, s in enumerate(signs[: n_layers - 1], start=1):
        uid = bend_uid(i)
        arrays[f"{uid}.x"] = arrays[f"{uid}.y"] = LiveArray(NO_LINE, bits=16)
        arrays[f"{uid}.signs"] = LiveArray(s, box=tuple(box))
    return arrays


def canvas_uids(fig: dict) -> list[str]:
    """The traces of boundary figure ``fig`` (a dict) that the browser paints itself: the
    output and every line the pictures move, in trace order."""
    uids = [t.get("uid") for t in fig["data"]]
    live = {SURFACE, PICKED, *map(bend_uid, range(len(uids)))}
    return [uid for uid in uids if uid in live]


PICKED_BEND = "the picked unit's bend"
PICKED_WIDTH = 4.5  # px: thick and solid, apart from every layer's 1.6 px dashes


def picked_bend_trace() -> go.Scatter:
    """The bend of the unit picked in the Network (or by a click on the plane), drawn
    over the others; empty until one is picked (its arrays: ``picked_bend_arrays``)."""
    return go.Scatter(
        x=[],
        y=[],
        mode="lines",
        name=PICKED_BEND,
        uid=PICKED,
        line={"color": BLACK, "width": PICKED_WIDTH},
        hoverinfo="skip",
        showlegend=False,
    )


def picked_bend_arrays(segments=None, signs=None, box=None) -> dict[str, LiveArray]:
    """The picked unit's bend: exact or first-layer ``segments`` (S, 2, 2), or a deeper
    unit's ``signs`` (1, m, m) on ``box`` (traced by the browser); neither: an empty line."""
    if signs is not None:
        return {
            f"{PICKED}.x": LiveArray(NO_LINE, bits=16),
            f"{PICKED}.y": LiveArray(NO_LINE, bits=16),
            f"{PICKED}.signs": LiveArray(signs, box=tuple(box)),
        }
    bx, by = polylines_xy(segments if segments is not None else np.zeros((0, 2, 2)))
    return {f"{PICKED}.x": LiveArray(bx, bits=16), f"{PICKED}.y": LiveArray(by, bits=16)}


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
) -> tuple[go.Figure, dict[str, LiveArray]]:
    """The network's output over the plane with the data points (and optional bends).

    ``surface`` is the raw prediction grid (n, n[, K]) whose rows follow ``ys``. Traces:
    the output heatmap (uid ``SURFACE``), the points (train, then test), then one bend
    trace per layer (``bend_uid``). Returns the figure and its live arrays.
    """
    task, k = data.task, data.n_classes
    bends_by_layer = list(bends_by_layer or [])
    z = output_surface(surface, task, k, discretize)
    scale, zmin, zmax = surface_colourscale(task, k)
    names = data.class_names or tuple(str(i) for i in range(k))
    # A thin bar titled on its side: the plane keeps its width on a phone.
    bar = {"title": {"text": BAR_TITLES[task], "side": "right"}, "thickness": 10, "len": 0.8}
    if discretize and task != "multiclass":
        scale, discrete_bar = discrete_colourbar(task, names)
        bar.update(discrete_bar)
    fig = go.Figure(
        go.Heatmap(
            x=xs,
            y=ys,
            z=z,
            colorscale=scale,
            zmin=zmin,
            zmax=zmax,
            uid=SURFACE,
            opacity=0.8,
            # Probabilities and values blend smoothly between cells; classes do not.
            zsmooth="best" if task != "multiclass" and not discretize else False,
            colorbar=bar,
            hovertemplate="x₁=%{x:.2f}<br>x₂=%{y:.2f}<br>output=%{z:.3f}<extra></extra>",
            showscale=task != "multiclass",
        )
    )
    for t in point_traces(data.x_train, data.y_train, task, k, names, part="train"):
        fig.add_trace(t)
    if show_test:
        for t in point_traces(data.x_test, data.y_test, task, k, names, part="test"):
            fig.add_trace(t)
    for t in bend_traces(bends_by_layer):
        fig.add_trace(t)
    base_layout(fig, TITLES[task] if title is None else title, height, live=True)
    fig.update_layout(margin={"l": 50, "r": 10})
    lim = [float(xs[0]), float(xs[-1])], [float(ys[0]), float(ys[-1])]
    # Both axes keep their range and shrink their domain: a square plane whatever the
    # screen (on a narrow one the y range would otherwise grow to fill the height).
    fig.update_xaxes(
        title_text="x₁", range=lim[0], constrain="domain", constraintoward="left", showgrid=False
    )
    fig.update_yaxes(
        title_text="x₂",
        range=lim[1],
        scaleanchor="x",
        constrain="domain",
        constraintoward="top",  # any room left over goes below the plane, not above
        showgrid=False,
    )
    arrays = surface_arrays(surface, data, discretize=discretize)
    return fig, {**arrays, **bend_arrays(bends_by_layer)}
