"""The lessons' math: pure functions the three lesson pages call (no Streamlit here).

Everything reuses the engine: ``LiveRun`` trains the Playground-sized models,
``forward`` / ``forward_with_preactivations`` run every network, ``data_loss`` is the only
loss, ``layer_grad_rms`` the only per-layer gradient measure, optax the only optimizer.
What is written out by hand here is what a lesson is about: the chain rule, block by
block, so that it can be checked against ``jax.grad`` and finite differences.

Three groups, one per page:

- why linear models fail: linear model vs small ReLU net, the collapse of a stack of
  linear layers into one matrix, parameter counts, slopes, the x1·x2 feature, and the
  fewest ReLUs that solve XOR;
- backpropagation: the course notes' quiz network, its forward pass with every
  intermediate, the backward pass block by block, gradient checks, one SGD step, and
  XLA's cost analysis of forward vs forward + backward;
- gradients through depth: per-layer gradient RMS and activation spread of deep nets
  at initialisation and during training.
"""

from collections.abc import Sequence
from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.flatten_util import ravel_pytree

from playground.analysis.geometry import bends
from playground.core.config import RunConfig
from playground.core.datasets import BOX, Dataset, grid_points, make_dataset
from playground.core.features import RAW_FEATURES
from playground.core.model import (
    ACTIVATIONS,
    MAX_DEPTH,
    forward,
    forward_with_preactivations,
    hidden_activations,
    init_params,
    output_to_prediction,
    param_count,
)
from playground.core.train import (
    Hyper,
    ModelSpec,
    data_loss,
    evaluate,
    init_state,
    layer_grad_rms,
    predict_raw,
    train_chunk,
)
from playground.live.run import LiveRun

# =======================================================================================
# Lesson 1: why linear models fail
# =======================================================================================

# A multiple of the engine's largest scan chunk (256), so each model compiles one chunk.
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
    run = LiveRun(cfg)
    run.train_steps(steps)
    xs, ys, pred = run.output_grid(grid)
    return Fit(
        cfg=cfg,
        spec=run.spec,
        params=run.params_numpy(),
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
    params = [(jnp.asarray(w), jnp.asarray(b)) for w, b in fit.params]

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


# =======================================================================================
# Lesson 2: backpropagation on the course notes' quiz network
# =======================================================================================

QUIZ_X = np.array([[1, 2, 3, 4], [-1, -2, -3, -4], [11, 12, 13, 14]], np.float32)
QUIZ_W1 = np.array([[0.1, 0.2, 0.4], [0.4, 0.6, 0.6], [0.5, 0.9, 0.1], [0.8, 0.2, 0.8]], np.float32)
QUIZ_W2 = np.array([[0.1, 0.6], [0.2, 0.1], [0.7, 0.9]], np.float32)
# The logits the notes print for this network (to two decimals).
QUIZ_LOGITS = np.array([[5.11, 8.44], [0.0, 0.0], [24.01, 38.24]])
QUIZ_LABELS = (0, 1, 1)  # a default choice of classes; the learner picks their own
QUIZ_ACTIVATION = "relu"
QUIZ_TASK = "multiclass"  # two logits, softmax cross-entropy
FD_EPS = 1e-6  # central-difference step, in float64


def quiz_params():
    """[(W1 (4, 3), b1 (3,)), (W2 (3, 2), b2 (2,))] with zero biases, as in the notes."""
    return [
        (jnp.asarray(QUIZ_W1), jnp.zeros((3,), jnp.float32)),
        (jnp.asarray(QUIZ_W2), jnp.zeros((2,), jnp.float32)),
    ]


def quiz_loss(params, x, labels):
    """Mean softmax cross-entropy of the quiz network: the engine's forward and loss."""
    out = forward(params, x, QUIZ_ACTIVATION)
    return data_loss(out, jnp.asarray(labels, jnp.int32), QUIZ_TASK)


class ForwardTrace(NamedTuple):
    """Every number of the forward pass for a batch of N examples."""

    x: np.ndarray  # (N, 4) inputs
    z: np.ndarray  # (N, 3) hidden pre-activations x W1 + b1
    h: np.ndarray  # (N, 3) ReLU outputs
    logits: np.ndarray  # (N, 2) h W2 + b2
    probs: np.ndarray  # (N, 2) softmax of the logits
    labels: np.ndarray  # (N,) chosen classes
    losses: np.ndarray  # (N,) cross-entropy of each example
    loss: float  # their mean


@jax.jit
def _forward_parts(params, x, y):
    logits, pre = forward_with_preactivations(params, x, QUIZ_ACTIVATION)
    h = ACTIVATIONS[QUIZ_ACTIVATION](pre[0])
    per_example = jax.vmap(lambda o, t: data_loss(o[None, :], t[None], QUIZ_TASK))(logits, y)
    probs = output_to_prediction(logits, QUIZ_TASK)
    return pre[0], h, logits, probs, per_example, data_loss(logits, y, QUIZ_TASK)


def forward_trace(params, x, labels) -> ForwardTrace:
    """Run the quiz network on a batch and keep every intermediate."""
    x = jnp.asarray(x, jnp.float32)
    y = jnp.asarray(labels, jnp.int32)
    z, h, logits, probs, losses, loss = _forward_parts(params, x, y)
    return ForwardTrace(
        x=np.asarray(x),
        z=np.asarray(z),
        h=np.asarray(h),
        logits=np.asarray(logits),
        probs=np.asarray(probs),
        labels=np.asarray(y),
        losses=np.asarray(losses),
        loss=float(loss),
    )


class BackwardTrace(NamedTuple):
    """The backward pass, block by block, each a local derivative times what came back."""

    d_logits: np.ndarray  # (N, 2) dL/dlogits = (softmax - one-hot) / N
    d_w2: np.ndarray  # (3, 2) h^T dL/dlogits
    d_b2: np.ndarray  # (2,) dL/dlogits summed over examples
    d_h: np.ndarray  # (N, 3) dL/dlogits W2^T
    relu_slope: np.ndarray  # (N, 3) the ReLU's derivative: 1 where z > 0, else 0
    d_z: np.ndarray  # (N, 3) dL/dh * relu_slope
    d_w1: np.ndarray  # (4, 3) x^T dL/dz
    d_b1: np.ndarray  # (3,) dL/dz summed over examples

    def grads(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """Same layout as params: [(dW1, db1), (dW2, db2)]."""
        return [(self.d_w1, self.d_b1), (self.d_w2, self.d_b2)]


def chain_rule_backward(params, fw: ForwardTrace) -> BackwardTrace:
    """The backward pass written out with the chain rule, in float64 NumPy."""
    w2 = np.asarray(params[1][0], np.float64)
    n, k = fw.logits.shape
    one_hot = np.eye(k)[fw.labels]
    d_logits = (fw.probs.astype(np.float64) - one_hot) / n  # softmax + cross-entropy
    d_h = d_logits @ w2.T
    relu_slope = (fw.z > 0).astype(np.float64)
    d_z = d_h * relu_slope
    return BackwardTrace(
        d_logits=d_logits,
        d_w2=fw.h.astype(np.float64).T @ d_logits,
        d_b2=d_logits.sum(axis=0),
        d_h=d_h,
        relu_slope=relu_slope,
        d_z=d_z,
        d_w1=fw.x.astype(np.float64).T @ d_z,
        d_b1=d_z.sum(axis=0),
    )


_quiz_grad = jax.jit(jax.grad(quiz_loss))


def autodiff_grads(params, x, labels) -> list[tuple[np.ndarray, np.ndarray]]:
    """jax.grad of the quiz loss."""
    g = _quiz_grad(params, jnp.asarray(x, jnp.float32), jnp.asarray(labels, jnp.int32))
    return [(np.asarray(gw), np.asarray(gb)) for gw, gb in g]


def finite_difference_grads(params, x, labels, eps: float = FD_EPS):
    """Central differences (L(θ + ε) - L(θ - ε)) / 2ε for every parameter, in float64."""
    with jax.enable_x64(True):
        p64 = [(jnp.asarray(w, jnp.float64), jnp.asarray(b, jnp.float64)) for w, b in params]
        x64 = jnp.asarray(x, jnp.float64)
        g = _central_differences(p64, x64, jnp.asarray(labels, jnp.int32), eps)
        return [(np.asarray(gw), np.asarray(gb)) for gw, gb in g]


@partial(jax.jit, static_argnames=("eps",))
def _central_differences(params, x, labels, eps: float):
    flat_params, unravel = ravel_pytree(params)
    nudges = eps * jnp.eye(flat_params.size, dtype=flat_params.dtype)
    loss_at = jax.vmap(lambda d: quiz_loss(unravel(flat_params + d), x, labels))
    return unravel((loss_at(nudges) - loss_at(-nudges)) / (2 * eps))


def parameter_names(params) -> list[str]:
    """'W1[i,j]' and 'b1[j]' names in the order ravel_pytree flattens the params."""
    names = []
    for layer, (w, b) in enumerate(params, start=1):
        rows, cols = w.shape
        names += [f"W{layer}[{i + 1},{j + 1}]" for i in range(rows) for j in range(cols)]
        names += [f"b{layer}[{j + 1}]" for j in range(b.shape[0])]
    return names


def flat(grads) -> np.ndarray:
    """Gradients laid out as [(dW, db), ...] -> one float64 vector, layer by layer."""
    return np.concatenate([np.ravel(a).astype(np.float64) for pair in grads for a in pair])


class GradientCheck(NamedTuple):
    names: list[str]
    chain_rule: np.ndarray  # by hand, block by block
    autodiff: np.ndarray  # jax.grad
    finite_diff: np.ndarray  # central differences

    @property
    def max_gap_autodiff(self) -> float:
        return float(np.max(np.abs(self.chain_rule - self.autodiff)))

    @property
    def max_gap_finite_diff(self) -> float:
        return float(np.max(np.abs(self.chain_rule - self.finite_diff)))


def gradient_check(params, x, labels) -> GradientCheck:
    """Every parameter's gradient three ways, for the same loss and batch."""
    bw = chain_rule_backward(params, forward_trace(params, x, labels))
    return GradientCheck(
        names=parameter_names(params),
        chain_rule=flat(bw.grads()),
        autodiff=flat(autodiff_grads(params, x, labels)),
        finite_diff=flat(finite_difference_grads(params, x, labels)),
    )


class SGDStep(NamedTuple):
    """One plain SGD update on a minibatch: forward, backward, update, new loss."""

    batch: tuple[int, ...]  # which examples (0-based) form the minibatch
    learning_rate: float
    loss_before: float  # minibatch loss with the old weights
    grads: list  # [(dW1, db1), (dW2, db2)] on the minibatch
    params_after: list  # [(W1', b1'), (W2', b2')] = old - learning_rate * grad
    loss_after: float  # minibatch loss with the new weights
    all_loss_before: float  # loss over all examples, before and after
    all_loss_after: float


def sgd_step(params, x, labels, batch: Sequence[int], learning_rate: float) -> SGDStep:
    """Take one optax SGD step on the examples ``batch`` of (x, labels)."""
    idx = np.asarray(sorted(set(batch)), np.int32)
    if idx.size == 0:
        raise ValueError("a minibatch needs at least one example")
    x = jnp.asarray(x, jnp.float32)
    y = jnp.asarray(labels, jnp.int32)
    loss_before, grads, new, loss_after, all_before, all_after = _sgd_update(
        params, x, y, jnp.asarray(idx), jnp.asarray(learning_rate, jnp.float32)
    )
    return SGDStep(
        batch=tuple(int(i) for i in idx),
        learning_rate=float(learning_rate),
        loss_before=float(loss_before),
        grads=[(np.asarray(gw), np.asarray(gb)) for gw, gb in grads],
        params_after=[(np.asarray(w), np.asarray(b)) for w, b in new],
        loss_after=float(loss_after),
        all_loss_before=float(all_before),
        all_loss_after=float(all_after),
    )


@jax.jit
def _sgd_update(params, x, y, idx, learning_rate):
    """Forward, backward and one optax SGD update on the rows ``idx``; one compile."""
    xb, yb = x[idx], y[idx]
    loss_before, grads = jax.value_and_grad(quiz_loss)(params, xb, yb)
    tx = optax.sgd(learning_rate)
    updates, _ = tx.update(grads, tx.init(params), params)
    new = optax.apply_updates(params, updates)
    return (
        loss_before,
        grads,
        new,
        quiz_loss(new, xb, yb),
        quiz_loss(params, x, y),
        quiz_loss(new, x, y),
    )


def sgd_losses(params, x, labels, batch: Sequence[int], learning_rate: float, n_steps: int):
    """Minibatch loss before each of ``n_steps`` repeated SGD steps, and after the last."""
    losses = []
    for _ in range(n_steps):
        step = sgd_step(params, x, labels, batch, learning_rate)
        losses.append(step.loss_before)
        params = [(jnp.asarray(w), jnp.asarray(b)) for w, b in step.params_after]
    losses.append(step.loss_after)
    return np.asarray(losses)


class CostReport(NamedTuple):
    """XLA's own estimate of the work in one compiled call (not a timing)."""

    forward_flops: float  # the loss alone
    total_flops: float  # the loss and its gradient: forward + backward
    forward_bytes: float
    total_bytes: float

    @property
    def flop_ratio(self) -> float:
        """(forward + backward) / forward."""
        return self.total_flops / self.forward_flops

    @property
    def backward_flop_ratio(self) -> float:
        """backward / forward, with backward = total - forward."""
        return (self.total_flops - self.forward_flops) / self.forward_flops

    @property
    def bytes_ratio(self) -> float:
        return self.total_bytes / self.forward_bytes


def _cost(compiled) -> dict:
    c = compiled.cost_analysis()
    return c[0] if isinstance(c, list | tuple) else c  # older JAX returned one per device


def cost_of_backprop(loss_fn, params) -> CostReport:
    """Compile loss_fn(params) and value_and_grad(loss_fn)(params); read XLA's counts."""
    f = _cost(jax.jit(loss_fn).lower(params).compile())
    fb = _cost(jax.jit(jax.value_and_grad(loss_fn)).lower(params).compile())
    return CostReport(
        forward_flops=float(f["flops"]),
        total_flops=float(fb["flops"]),
        forward_bytes=float(f["bytes accessed"]),
        total_bytes=float(fb["bytes accessed"]),
    )


def quiz_cost(labels=QUIZ_LABELS) -> CostReport:
    """Backprop's cost for the quiz network on its three examples."""
    x = jnp.asarray(QUIZ_X)
    return cost_of_backprop(lambda p: quiz_loss(p, x, labels), quiz_params())


def toy_cost(width: int, depth: int, batch: int, *, seed: int = 0) -> CostReport:
    """Backprop's cost for a Playground-style net: 2 inputs, ``depth`` x ``width`` ReLUs,
    one logit, binary cross-entropy, on a batch of XOR points."""
    spec = ModelSpec(RAW_FEATURES, (int(width),) * int(depth), "relu", "binary", 2)
    params = init_params(spec.sizes, key=jax.random.key(seed))
    d = make_dataset("xor", n_points=2 * int(batch), train_ratio=0.5, seed=seed)
    x, y = jnp.asarray(d.x_train), jnp.asarray(d.y_train)
    return cost_of_backprop(lambda p: _loss(p, x, y, spec), params)


def playground_quiz_config(batch_size: int, learning_rate: float) -> RunConfig:
    """The nearest Playground setting: 4 input features -> 3 ReLUs, plain SGD."""
    return RunConfig(
        problem="xor",
        features=("x1", "x2", "x1sq", "x2sq"),
        hidden=(3,),
        optimizer="sgd",
        learning_rate=float(learning_rate),
        batch_size=int(batch_size),
    )


# =======================================================================================
# Lesson 3: gradients through depth
# =======================================================================================

DEPTH_PROBLEM = "xor"  # labels by the sign of x1·x2
DEPTH_POINTS = 500  # half for training, full batch
DEPTH_CHUNK = 64  # steps per compiled training chunk (one compile per network)
MAX_LESSON_DEPTH = 16


class Preset(NamedTuple):
    label: str
    activation: str
    init: str
    sigma: float = 1.0
    depth: int = 10
    width: int = 64


PRESETS: dict[str, Preset] = {
    "vanishing": Preset("Vanishing: sigmoid, uniform ±1/√n", "sigmoid", "uniform"),
    "tanh": Preset("Steady: tanh, Glorot", "tanh", "glorot"),
    "relu_he": Preset("Steady: ReLU, He", "relu", "he"),
    "exploding": Preset("Exploding: ReLU, Normal(0, 1)", "relu", "normal", 1.0),
}


def depth_spec(activation: str, depth: int, width: int) -> ModelSpec:
    return ModelSpec(RAW_FEATURES, (int(width),) * int(depth), activation, "binary", 2)


def depth_data(seed: int = 0):
    return make_dataset(DEPTH_PROBLEM, n_points=DEPTH_POINTS, seed=seed)


def _loss(params, x, y, spec: ModelSpec):
    return data_loss(predict_raw(params, x, spec), y, spec.task)


def _grads(params, x, y, spec: ModelSpec):
    return jax.grad(_loss)(params, x, y, spec)


_grads_jit = jax.jit(_grads, static_argnames=("spec",))


class LayerStats(NamedTuple):
    """Per-layer numbers of one network on the training points.

    grad_rms: (depth + 1,) RMS per parameter of each layer's gradient (W and b), the last
    entry the output layer. bias_grad_rms: the same for the biases alone: dL/db_l is the
    signal the backward pass hands to layer l. spread: (depth,) standard deviation of each
    hidden layer's outputs.
    """

    grad_rms: np.ndarray
    bias_grad_rms: np.ndarray
    spread: np.ndarray


def layer_stats(params, x, y, spec: ModelSpec) -> LayerStats:
    g = _grads_jit(params, x, y, spec=spec)
    acts = hidden_activations(params, x, spec.activation)
    return LayerStats(
        grad_rms=np.asarray(layer_grad_rms(g), np.float64),
        bias_grad_rms=np.array([float(jnp.sqrt(jnp.mean(gb * gb))) for _, gb in g]),
        spread=np.array([float(jnp.std(a)) for a in acts]),
    )


def first_to_last(rms: np.ndarray) -> float:
    """First layer's gradient RMS over the last (output) layer's: < 1 means it fades."""
    return float(rms[0] / rms[-1])


def hidden_range(rms: np.ndarray) -> float:
    """Largest over smallest gradient RMS among the hidden layers (1 = perfectly level)."""
    hidden = rms[:-1]
    return float(hidden.max() / hidden.min()) if hidden.size else 1.0


VANISHING_BELOW = 1e-3  # first ÷ last layer gradient RMS
EXPLODING_ABOVE = 1e3  # largest gradient RMS, or last ÷ first hidden spread
STEADY_WITHIN = 10.0  # largest ÷ smallest hidden-layer gradient RMS


def verdict(stats: LayerStats) -> str:
    """'vanishing', 'exploding', 'steady' or 'uneven', from the per-layer numbers."""
    spread_growth = stats.spread[-1] / stats.spread[0] if stats.spread.size else 1.0
    if stats.grad_rms.max() > EXPLODING_ABOVE or spread_growth > EXPLODING_ABOVE:
        return "exploding"
    if first_to_last(stats.grad_rms) < VANISHING_BELOW:
        return "vanishing"
    return "steady" if hidden_range(stats.grad_rms) <= STEADY_WITHIN else "uneven"


class DepthRun(NamedTuple):
    """A deep net at initialisation and after plain SGD training."""

    preset: Preset  # the settings used (label "custom" when not a preset)
    at_init: LayerStats
    trained: LayerStats
    grad_history: np.ndarray  # (steps, depth + 1) gradient RMS per layer at every step
    loss_history: np.ndarray  # (steps,) training loss before every step
    steps: int  # steps applied
    diverged_at: int  # first step whose update was not finite, else -1
    accuracy_before: float  # test accuracy
    accuracy_after: float


def depth_run(
    activation: str,
    init: str,
    depth: int,
    width: int,
    *,
    sigma: float = 1.0,
    steps: int = 0,
    learning_rate: float = 0.1,
    seed: int = 0,
) -> DepthRun:
    """Per-layer gradients and spreads of a deep net, at init and after ``steps`` of SGD.

    Full-batch SGD so a step is exactly learning_rate x gradient: a layer with tiny
    gradients barely moves, one with huge gradients jumps. Steps run in chunks of
    DEPTH_CHUNK (rounded up), one compiled scan per network.
    """
    if not 1 <= depth <= MAX_LESSON_DEPTH:
        raise ValueError(f"depth must lie in 1..{MAX_LESSON_DEPTH}")
    spec = depth_spec(activation, depth, width)
    d = depth_data(seed)
    arrays = [jnp.asarray(a) for a in (d.x_train, d.y_train, d.x_test, d.y_test)]
    x, y = arrays[0], arrays[1]
    state = init_state(spec, "sgd", key=jax.random.key(seed), init=init, sigma=sigma)
    before = layer_stats(state.params, x, y, spec)
    acc_before = float(evaluate(state.params, *arrays, spec=spec)["test_metric"])
    hyper = Hyper(learning_rate=float(learning_rate))
    grads, losses = [], []
    for _ in range(-(-int(steps) // DEPTH_CHUNK)):
        state, log = train_chunk(
            state, x, y, hyper, spec=spec, optimizer="sgd", batch_size=0, n_steps=DEPTH_CHUNK
        )
        grads.append(np.asarray(log.grad_rms))
        losses.append(np.asarray(log.loss))
        if int(state.diverged_at) >= 0:
            break
    diverged_at = int(state.diverged_at)
    after = layer_stats(state.params, x, y, spec)
    acc_after = float(evaluate(state.params, *arrays, spec=spec)["test_metric"])
    n_layers = depth + 1
    history = np.concatenate(grads) if grads else np.zeros((0, n_layers))
    loss = np.concatenate(losses) if losses else np.zeros((0,))
    if diverged_at >= 0:  # keep the records up to the step that blew up
        history, loss = history[: diverged_at + 1], loss[: diverged_at + 1]
    return DepthRun(
        preset=Preset("custom", activation, init, sigma, depth, width),
        at_init=before,
        trained=after,
        grad_history=history,
        loss_history=loss,
        steps=int(state.step),
        diverged_at=diverged_at,
        accuracy_before=acc_before,
        accuracy_after=acc_after,
    )


def preset_stats(name: str, *, seed: int = 0) -> LayerStats:
    """The preset's network at initialisation (no training)."""
    p = PRESETS[name]
    spec = depth_spec(p.activation, p.depth, p.width)
    d = depth_data(seed)
    state = init_state(spec, "sgd", key=jax.random.key(seed), init=p.init, sigma=p.sigma)
    return layer_stats(state.params, jnp.asarray(d.x_train), jnp.asarray(d.y_train), spec)


def depth_playground_config(
    activation: str, init: str, depth: int, width: int, sigma: float, learning_rate: float
) -> RunConfig:
    """The Playground's nearest setting (it allows at most MAX_DEPTH hidden layers)."""
    return RunConfig(
        problem=DEPTH_PROBLEM,
        hidden=(int(width),) * min(int(depth), MAX_DEPTH),
        activation=activation,
        init=init,
        init_sigma=float(sigma),
        optimizer="sgd",
        learning_rate=float(learning_rate),
        batch_size=0,
    )
