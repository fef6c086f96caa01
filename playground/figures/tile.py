"""Pictures of a learner's run for the teacher: a small PNG of the decision boundary for
the wall (one per learner per second, made once whoever watches), and the spotlight's
large figure built from the arrays the learner's server published."""

import base64
import io

import numpy as np
import plotly.graph_objects as go
from PIL import Image
from plotly.colors import hex_to_rgb

from playground.figures.boundary import (
    decision_boundary_figure,
    output_surface,
    surface_colourscale,
)
from playground.figures.curves import loss_curves_figure

TILE_PX = 96  # the wall's picture, in pixels (a tile is ~160 px wide on a laptop)


def scale_colours(z: np.ndarray, scale: list, lo: float, hi: float) -> np.ndarray:
    """The colour of each value on a Plotly colour scale (piecewise linear), as RGB."""
    stops = np.array([float(s[0]) for s in scale])
    rgb = np.array([hex_to_rgb(s[1]) for s in scale], np.float64)
    t = np.clip((np.nan_to_num(z, nan=(lo + hi) / 2) - lo) / (hi - lo), 0.0, 1.0)
    out = np.stack([np.interp(t, stops, rgb[:, c]) for c in range(3)], axis=-1)
    return out.round().astype(np.uint8)


def boundary_tile_png(grid: np.ndarray, task: str, n_classes: int, discretize: bool) -> str:
    """The output over the plane as a TILE_PX square PNG, base64 (rows of ``grid``
    follow y upwards, so the image is flipped: up is +x₂ as on the big plot)."""
    z = output_surface(np.asarray(grid), task, n_classes, discretize)
    scale, lo, hi = surface_colourscale(task, n_classes)
    return rgb_png(scale_colours(z[::-1], scale, lo, hi), TILE_PX)


def rgb_png(rgb: np.ndarray, px: int) -> str:
    """An (h, w, 3) uint8 picture resized to a ``px`` square, as a base64 PNG."""
    image = Image.fromarray(rgb, "RGB").resize((px, px), Image.Resampling.BILINEAR)
    buf = io.BytesIO()
    # zlib's fastest level, not optimize=True: `python -m playground.bench network`, three
    # pairs, took 9-12 against 12-17 ms for 8-8 and 58-82 against 105-122 ms for 8 layers
    # of 16, for 4-10 % more bytes. The pixels are the same (PNG is lossless).
    image.save(buf, format="PNG", compress_level=1)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def spotlight_figures(view: dict, data, *, height: int = 640) -> tuple[go.Figure, dict, go.Figure]:
    """The spotlit learner's boundary (with their first layer's bends), its live arrays
    (``decision_boundary_figure``'s), and loss curves, from a published view
    (``classroom.publish.spotlight_view``); ``data`` carries the points and the task."""
    xs, ys = np.asarray(view["xs"]), np.asarray(view["ys"])
    grid = np.asarray(view["grid"], np.float32)
    lines = np.asarray(view["lines"], np.float64).reshape(-1, 2, 2)
    fig, arrays = decision_boundary_figure(
        xs,
        ys,
        grid,
        data,
        discretize=bool(view.get("discretize")),
        bends_by_layer=[lines] if len(lines) else [],
        title=f"{view['name']}'s network",
        height=height,
    )
    epochs = np.asarray(view["epochs"], np.float64)
    curves, _ = loss_curves_figure(
        epochs,
        np.asarray(view["train_loss"], np.float64),
        np.asarray(view["test_loss"], np.float64),
        height=height // 2,
    )
    return fig, arrays, curves
