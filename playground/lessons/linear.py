"""Lesson: why linear models fail. The math behind its page (no Streamlit here).

A linear model vs a small ReLU net on the same data, the collapse of a stack of linear
layers into one matrix, parameter counts, input slopes, the x1·x2 feature, and the
fewest ReLUs that solve XOR. Every model is a Playground run (``live.engine.run``), trained by
the same chunk loop as the page.
"""

from collections.abc import Sequence
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from playground.analysis.geometry import bends
from playground.core.config import RunConfig
from playground.core.datasets import BOX, Dataset, grid_points
from playground.core.features import RAW_FEATURES
from playground.core.model import param_count, params_to_device
from playground.core.train import ModelSpec, predict_raw
from playground.live.engine import run as engine

LESSON_STEPS = 1024
GRID = 60  # grid points per side of the prediction maps
COMPARE_PROBLEMS = ("sum", "product", "xor")
STACK_PROBLEMS = ("moons", "xor", "circle")  # two classes: the boundary is one line
MLP_HIDDEN = (8, 8)
PRODUCT_FEATURES = ("x1", "x2", "x1x2")
STACK_WIDTH = 8
SOLVED_ACCURACY = 0.95  # test accuracy that counts as "solved" for XOR
MAX_RELUS = 8
MNIST_INPUTS, MNIST_CLASSES = 28 * 28, 10


def linear_config(problem: str, features: Sequence[str] = RAW_FEATURES) -> RunConfig:
    """The linear model (no hidden layer) on a problem, with the Playground's defaults."""
    return RunConfig(problem=problem, hidden=(), features=tuple(features))


def mlp_config(problem: str, hidden: Sequence[int] = MLP_HIDDEN) -> RunConfig:
    """A small ReLU network on a problem, with the Playground's defaults."""
    return RunConfig(problem=problem, hidden=tuple(hidden))


def linear_stack_config(
    n_layers: int, problem: str = "moons", width: int = STACK_WIDTH
) -> RunConfig:
    """A deep net whose activation is the identity: a stack of linear layers."""
    return RunConfig(problem=problem, hidden=(width,) * n_layers, activation="linear")


def relu_config(width: int) -> RunConfig:
    """One hidden layer of ``width`` ReLUs on the raw XOR inputs."""
    return RunConfig(problem="xor", hidden=(width,))


class Fit(NamedTuple):
    """A trained Playground model, read back as plain arrays (picklable, cacheable).

    grid: predictions on the GRID x GRID map, rows follow ys: P(class 1) or the value.
    metric: test accuracy (classes) or test R² (regression).
    """

    cfg: RunConfig
    spec: ModelSpec
    params: list  # [(W (fan_in, fan_out), b (fan_out,))] as numpy
    metric: float
    test_loss: float
    xs: np.ndarray
    ys: np.ndarray
    grid: np.ndarray
    data: Dataset

    @property
    def task(self) -> str:
        return self.spec.task

    @property
    def n_params(self) -> int:
        return param_count(self.spec.sizes)


def train_fit(cfg: RunConfig, steps: int = LESSON_STEPS, grid: int = GRID) -> Fit:
    """Train a Playground run for ``steps`` and read back everything a lesson draws."""
    run, _ = engine.train(engine.new_run(cfg), steps=steps)
    xs, ys, pred = engine.output_grid(run, grid)
    return Fit(
        cfg=cfg,
        spec=run.spec,
        params=engine.params_numpy(run),
        metric=run.metrics.test_metric,
        test_loss=run.metrics.test_loss,
        xs=xs,
        ys=ys,
        grid=pred,
        data=run.data,
    )


def compare_linear_and_mlp(problem: str, steps: int = LESSON_STEPS) -> tuple[Fit, Fit]:
    """The linear model and the small ReLU net, trained alike on the same data."""
    return train_fit(linear_config(problem), steps), train_fit(mlp_config(problem), steps)


def input_slopes(fit: Fit, points: np.ndarray) -> np.ndarray:
    """d(raw output)/d(x1, x2) at each point, (N, 2): the model's local slope."""
    params = params_to_device(fit.params)

    def out(p):
        return predict_raw(params, p[None, :], fit.spec)[0, 0]

    return np.asarray(jax.vmap(jax.grad(out))(jnp.asarray(points, jnp.float32)))


def slope_along_line(fit: Fit, x2: float = 2.0, n: int = 241) -> tuple[np.ndarray, np.ndarray]:
    """x1 values across the plane at height x2, and d(output)/d(x1) there."""
    x1 = np.linspace(BOX[0], BOX[1], n, dtype=np.float32)
    pts = np.stack([x1, np.full_like(x1, x2)], axis=1)
    return x1, input_slopes(fit, pts)[:, 0]


def slope_range(fit: Fit, n: int = 41) -> float:
    """Largest minus smallest slope (either direction) over a grid of the plane."""
    g = np.linspace(BOX[0], BOX[1], n, dtype=np.float32)
    s = input_slopes(fit, grid_points(g, g))
    return float(np.max(s.max(axis=0) - s.min(axis=0)))


def linear_param_count(n_inputs: int, n_outputs: int) -> int:
    """(N + 1) K: a weight for every input-output pair plus a bias per output."""
    return param_count([int(n_inputs), int(n_outputs)])


def collapse_linear_stack(params) -> tuple[np.ndarray, np.ndarray]:
    """The single (W, b) that equals a stack of linear layers: W = W1 W2 ... Wk.

    Each layer maps h to h W + b, so the next one sees (h W1 + b1) W2 + b2
    = h (W1 W2) + (b1 W2 + b2). Multiplied out in float64.
    """
    w = np.asarray(params[0][0], np.float64)
    b = np.asarray(params[0][1], np.float64)
    for wi, bi in params[1:]:
        wi = np.asarray(wi, np.float64)
        b = b @ wi + np.asarray(bi, np.float64)
        w = w @ wi
    return w, b


class Collapse(NamedTuple):
    """A trained stack of linear layers next to the one matrix it multiplies out to."""

    fit: Fit
    shapes: list[tuple[int, int]]  # each layer's W shape, input to output
    w: np.ndarray  # (n_in, n_out) product matrix
    b: np.ndarray  # (n_out,)
    stack_out: np.ndarray  # raw outputs of the stack on the test points, (N,)
    single_out: np.ndarray  # raw outputs of the single layer on the same points, (N,)
    max_difference: float  # largest |stack - single| over test points and the map grid
    boundary: np.ndarray | None  # (2, 2) ends of the line w·x + b = 0 inside BOX


def single_layer_outputs(w: np.ndarray, b: np.ndarray, x: np.ndarray, spec: ModelSpec):
    """Raw outputs of the one-layer model (W, b) through the engine's forward pass."""
    single = [(jnp.asarray(w, jnp.float32), jnp.asarray(b, jnp.float32))]
    return np.asarray(predict_raw(single, jnp.asarray(x), spec._replace(hidden=())))


def linear_stack_lesson(
    n_layers: int, problem: str = "moons", steps: int = LESSON_STEPS
) -> Collapse:
    """Train a linear stack on a two-class problem and compare it with its product matrix."""
    fit = train_fit(linear_stack_config(n_layers, problem), steps)
    w, b = collapse_linear_stack(fit.params)
    stack = [(jnp.asarray(wi), jnp.asarray(bi)) for wi, bi in fit.params]
    pts = np.concatenate([fit.data.x_test, grid_points(fit.xs, fit.ys)])
    stack_out = np.asarray(predict_raw(stack, jnp.asarray(pts), fit.spec))[:, 0]
    single_out = single_layer_outputs(w, b, pts, fit.spec)[:, 0]
    n_test = len(fit.data.x_test)
    return Collapse(
        fit=fit,
        shapes=[tuple(p[0].shape) for p in fit.params],
        w=w,
        b=b,
        stack_out=stack_out[:n_test],
        single_out=single_out[:n_test],
        max_difference=float(np.max(np.abs(stack_out - single_out))),
        boundary=line_in_box(w[:, 0], float(b[0]), BOX),
    )


def line_in_box(normal: np.ndarray, offset: float, box=BOX) -> np.ndarray | None:
    """Ends (2, 2) of the line normal·x + offset = 0 inside box (x0, x1, y0, y1), or None."""
    a, c = float(normal[0]), float(normal[1])
    x0, x1, y0, y1 = box
    hits = []
    if c != 0.0:  # crossings of the left and right edges
        hits += [(x, -(a * x + offset) / c) for x in (x0, x1)]
    if a != 0.0:  # crossings of the bottom and top edges
        hits += [(-(c * y + offset) / a, y) for y in (y0, y1)]
    eps = 1e-9 * (x1 - x0)
    inside = [p for p in hits if x0 - eps <= p[0] <= x1 + eps and y0 - eps <= p[1] <= y1 + eps]
    if len(inside) < 2:
        return None
    pts = np.array(sorted(set(inside)))
    return np.array([pts[0], pts[-1]])


def relu_bends(fit: Fit) -> list:
    """Each hidden unit's bend (``geometry.Bend``): the line where its ReLU switches."""
    return bends(fit.params, fit.spec.activation, BOX)


class ReluSearch(NamedTuple):
    """Widths tried in order, their fits, and the first that solved XOR (None if none)."""

    fits: list[Fit]
    solved_by: int | None

    @property
    def widths(self) -> list[int]:
        return [f.cfg.hidden[0] for f in self.fits]

    @property
    def accuracies(self) -> list[float]:
        return [f.metric for f in self.fits]


def fewest_relus(
    target: float = SOLVED_ACCURACY, max_width: int = MAX_RELUS, steps: int = LESSON_STEPS
) -> ReluSearch:
    """Train one hidden layer of H = 1, 2, ... ReLUs on XOR until one reaches ``target``."""
    fits = []
    for h in range(1, max_width + 1):
        fits.append(train_fit(relu_config(h), steps))
        if fits[-1].metric >= target:
            return ReluSearch(fits, h)
    return ReluSearch(fits, None)
