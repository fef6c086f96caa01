"""The hidden-space view: the input plane as two hidden units of one layer see it.

ConvNetJS's 2D classification demo draws the data in the space of two hidden units;
TensorFlow Playground does not. A layer of ReLUs sets every negative pre-activation to 0,
so it folds half of the plane onto an axis; after a few folds, classes that no straight
line could split in the input plane can lie on the two sides of one line. To see it, a
grid of lines of constant x1 and constant x2 and the data points are mapped through the
network, and each point is placed at (value of unit a, value of unit b) of the chosen
layer, before ("pre", z) or after ("post", h) its activation.

Only math here: NumPy around the engine's own forward pass
(``model.forward_with_preactivations``), no plotting and no Streamlit.
"""

from collections.abc import Sequence
from typing import NamedTuple

import jax.numpy as jnp
import numpy as np

from playground.core.errors import PlaygroundError
from playground.core.features import feature_map
from playground.core.model import ACTIVATIONS, forward_with_preactivations, params_to_device

STAGES = ("post", "pre")  # after the activation (h), or before it (z)


class GridLines(NamedTuple):
    """Lines of the input plane, sampled as polylines.

    points: (L, P, 2) samples along each line. axis: (L,) 0 for a line of constant x1
    (vertical), 1 for constant x2 (horizontal). value: (L,) that constant.
    """

    points: np.ndarray
    axis: np.ndarray
    value: np.ndarray


class HiddenSpace(NamedTuple):
    """The plane mapped into the space of units ``units`` of hidden layer ``layer`` (0-based).

    grid: the input-plane lines; lines: (L, P, 2) the same samples at (unit a, unit b);
    points: (N, 2) the data points at (unit a, unit b).
    """

    layer: int
    units: tuple[int, int]
    stage: str
    grid: GridLines
    lines: np.ndarray
    points: np.ndarray


def grid_lines(box, n_lines: int = 13, n_samples: int = 241) -> GridLines:
    """``n_lines`` lines of constant x1 then ``n_lines`` of constant x2 across the box.

    Many samples per line, so the kinks where a line crosses a bend stay sharp.
    """
    x0, x1, y0, y1 = (float(v) for v in box)
    if not (x0 < x1 and y0 < y1):
        raise PlaygroundError("The box needs x0 < x1 and y0 < y1.")
    if n_lines < 2 or n_samples < 2:
        raise PlaygroundError("The grid needs at least 2 lines of at least 2 samples.")
    xv, yv = np.linspace(x0, x1, n_lines), np.linspace(y0, y1, n_lines)
    ts, tt = np.linspace(y0, y1, n_samples), np.linspace(x0, x1, n_samples)
    vertical = np.stack(np.broadcast_arrays(xv[:, None], ts[None, :]), axis=-1)
    horizontal = np.stack(np.broadcast_arrays(tt[None, :], yv[:, None]), axis=-1)
    return GridLines(
        points=np.concatenate([vertical, horizontal]),
        axis=np.repeat([0, 1], n_lines),
        value=np.concatenate([xv, yv]),
    )


def layer_values(params, activation: str, features: Sequence[str], x, *, stage: str = "post"):
    """Every hidden layer's values at the points x (N, 2): a list of (N, width_l) arrays.

    stage "pre" gives z_l = h_{l-1} W_l + b_l, "post" gives h_l = activation(z_l).
    """
    if stage not in STAGES:
        raise PlaygroundError(f"stage must be one of {', '.join(STAGES)}, not {stage!r}")
    if activation not in ACTIVATIONS:
        raise PlaygroundError(f"Unknown activation {activation!r}.")
    params = params_to_device(params, jnp.float32)
    feats = feature_map(jnp.asarray(np.asarray(x, np.float32)), tuple(features), jnp)
    _, pre = forward_with_preactivations(params, feats, activation)
    act = ACTIVATIONS[activation].fn
    return [np.asarray(z if stage == "pre" else act(z), np.float64) for z in pre]


def check_units(widths: Sequence[int], layer: int, units: Sequence[int]) -> tuple[int, int]:
    """The pair of distinct units of hidden layer ``layer``, or a plain-words error."""
    if not widths:
        raise PlaygroundError("The linear model has no hidden layer to look into.")
    if not 0 <= layer < len(widths):
        raise PlaygroundError(f"There is no hidden layer {layer + 1}; the net has {len(widths)}.")
    a, b = (int(u) for u in units)
    width = widths[layer]
    if width < 2:
        raise PlaygroundError(f"Layer {layer + 1} has one unit; two are needed for a plane.")
    if not (0 <= a < width and 0 <= b < width) or a == b:
        raise PlaygroundError(f"Pick two different units of layer {layer + 1} (1 to {width}).")
    return a, b


def hidden_space(
    params,
    activation: str,
    features: Sequence[str],
    box,
    points,
    *,
    layer: int,
    units: Sequence[int],
    stage: str = "post",
    n_lines: int = 13,
    n_samples: int = 241,
) -> HiddenSpace:
    """Map the box's grid lines and the data ``points`` (N, 2) to (unit a, unit b).

    One forward pass for the grid samples and the points together.
    """
    widths = [int(np.shape(w)[1]) for w, _ in list(params)[:-1]]
    a, b = check_units(widths, layer, units)
    grid = grid_lines(box, n_lines, n_samples)
    points = np.asarray(points, np.float64).reshape(-1, 2)
    samples = grid.points.reshape(-1, 2)
    values = layer_values(
        params, activation, features, np.concatenate([samples, points]), stage=stage
    )
    pair = values[layer][:, [a, b]]
    n_grid = len(samples)
    return HiddenSpace(
        layer=layer,
        units=(a, b),
        stage=stage,
        grid=grid,
        lines=pair[:n_grid].reshape(grid.points.shape),
        points=pair[n_grid:],
    )


def output_line(params, layer: int, units: Sequence[int], stage: str = "post"):
    """(a, b, c) such that the output is a·u_a + b·u_b + c, or None when it is not.

    That holds when ``layer`` is the last hidden layer, it has exactly these two units,
    the stage is "post" (the output layer reads h) and there is one output: then
    a·u_a + b·u_b + c = 0 is the decision line (binary logit 0) or the zero level.
    """
    params = list(params)
    w, bias = (np.asarray(p, np.float64) for p in params[-1])
    last = len(params) - 2
    if layer != last or stage != "post" or w.shape != (2, 1):
        return None
    i, j = (int(u) for u in units)
    if sorted((i, j)) != [0, 1]:
        return None
    return float(w[i, 0]), float(w[j, 0]), float(bias[0])
