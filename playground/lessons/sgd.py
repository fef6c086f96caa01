"""Lesson: SGD, minibatches and the learning rate. The math behind its page (no Streamlit).

One small ReLU network on the x1·x2 regression problem. First the whole network trained
by the engine with plain SGD, full batch and minibatches of 100, 10 and 1. Then a 2D
slice of its loss surface: every weight frozen at its trained value except the output
weights of two hidden units. With squared error the slice is exactly a bowl (a quadratic),
so its minimum, its curvature and the largest stable learning rate (2 / largest
curvature) are known in closed form, and every step can be drawn on it.
"""

import functools
from itertools import combinations
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from playground.core.config import RunConfig
from playground.core.train import OPTIMIZERS, ModelSpec, divergence_message, model_loss
from playground.lessons import tools
from playground.live.engine import run as engine

SGD_CFG = RunConfig(
    problem="product", hidden=(8,), optimizer="sgd", learning_rate=0.01, batch_size=10
)
BATCH_SIZES = (0, 100, 10, 1)  # 0: the full batch, all training points
CURVE_STEPS = 256
CURVE_EVERY = 16
BASE_STEPS = 1024  # Adam steps that train the network the slice is cut from
TOO_LARGE_LR = 0.1  # a learning rate at which SGD on the whole network blows up

SLICE_GRID = 81
START_RISE = 0.3  # the start point lies where the slice's loss is this much above its minimum
START_DIRECTION = (0.6, 0.8)  # along (steep, shallow) axes of the bowl: off both axes
SLICE_STEPS = 150  # every path on the slice: one compile per optimizer and batch size
NOISE_BATCHES = (1, 2, 5, 10, 20, 50, 100)
NOISE_DRAWS = 500
# Learning rates as a share of the largest stable one, 2 / (largest curvature).
LR_SHARES = {"too small": 0.05, "about right": 0.5, "oscillates": 0.95, "too large": 1.5}
PATH_LR_SHARE = 0.1  # SGD and momentum on the slice; Adam's rate is in weight units
ADAM_RATE = 0.02  # as a share of the start's distance from the minimum, per step


def batch_label(batch_size: int, n_train: int) -> str:
    if batch_size <= 0 or batch_size >= n_train:
        return f"full batch ({n_train})"
    return f"minibatch of {batch_size}"


# -- the whole network, four batch sizes -------------------------------------------------
def batch_curve(batch_size: int, learning_rate: float = SGD_CFG.learning_rate) -> tools.Curve:
    """The whole network trained by the engine with SGD at one batch size."""
    cfg = SGD_CFG.replace(batch_size=batch_size, learning_rate=learning_rate)
    _, curve, _ = tools.train_curve(engine.new_run(cfg), CURVE_STEPS, CURVE_EVERY)
    return curve


class Blowup(NamedTuple):
    curve: tools.Curve
    diverged_at: int
    message: str  # the engine's own words


def whole_network_blowup(learning_rate: float = TOO_LARGE_LR) -> Blowup:
    """The whole network with a learning rate far too large: the engine stops it."""
    cfg = SGD_CFG.replace(learning_rate=learning_rate)
    run, curve, _ = tools.train_curve(engine.new_run(cfg), CURVE_STEPS, CURVE_EVERY)
    at = int(run.state.diverged_at)
    return Blowup(curve, at, divergence_message(at, learning_rate) if at >= 0 else "")


# -- the slice ---------------------------------------------------------------------------
def base_network() -> engine.Run:
    run, _ = engine.train(engine.new_run(SGD_CFG.replace(optimizer="adam")), steps=BASE_STEPS)
    return run


def slice_params(params, units, theta):
    """``params`` with the output weights of hidden units ``units`` (2,) set to theta (2,)."""
    *hidden, (w, b) = params
    return [*hidden, (w.at[units, 0].set(theta), b)]


@functools.cache
def _slice_fns(spec: ModelSpec):
    """(loss, watch) for ``tools.descend`` on a slice; ``ctx`` = (params, units, x, y).
    The loss is the engine's, on the points idx; watch is the full-batch loss."""

    def loss(theta, idx, ctx):
        params, units, x, y = ctx
        return model_loss(slice_params(params, units, theta), x[idx], y[idx], spec)

    def watch(theta, ctx):
        params, units, x, y = ctx
        return model_loss(slice_params(params, units, theta), x, y, spec)[None]

    return loss, watch


def _ctx(run: engine.Run, units) -> tuple:
    return run.state.params, jnp.asarray(units, jnp.int32), run.arrays[0], run.arrays[1]


class Slice(NamedTuple):
    """The loss over two output weights, everything else frozen; a bowl."""

    units: tuple[int, int]  # 0-based hidden units whose output weights are free
    trained: np.ndarray  # (2,) their values in the trained network
    minimum: np.ndarray  # (2,) the bowl's lowest point
    min_loss: float
    hessian: np.ndarray  # (2, 2) the curvature (constant: the slice is quadratic)
    start: np.ndarray  # (2,) where every path on the slice begins
    a: np.ndarray  # (G,) first weight's values on the picture's grid
    b: np.ndarray  # (G,) second weight's
    loss: np.ndarray  # (G, G) full-batch training loss, rows follow b
    n_train: int

    @property
    def curvatures(self) -> np.ndarray:
        """The bowl's curvature along its two axes, smallest first."""
        return np.linalg.eigvalsh(self.hessian)

    @property
    def max_stable_lr(self) -> float:
        """Plain full-batch gradient descent on a bowl converges only below 2 / λ_max."""
        return float(2.0 / self.curvatures[-1])


def output_curvature(run: engine.Run) -> np.ndarray:
    """(H, H): the full-batch loss's curvature over all output weights (constant: the
    loss is quadratic in them). The bowl of units (i, j) is its 2 x 2 block."""
    params, spec, x, y = run.state.params, run.spec, run.arrays[0], run.arrays[1]

    def loss(w_out):
        *hidden, (_, b) = params
        return model_loss([*hidden, (w_out[:, None], b)], x, y, spec)

    return np.asarray(jax.hessian(loss)(params[-1][0][:, 0]), np.float64)


def pairs_by_shape(run: engine.Run) -> list[tuple[tuple[int, int], float]]:
    """Every pair of hidden units with its bowl's curvature ratio λ_max / λ_min."""
    h = output_curvature(run)
    out = []
    for i, j in combinations(range(h.shape[0]), 2):
        lo, hi = np.linalg.eigvalsh(h[np.ix_([i, j], [i, j])])
        if lo > 1e-6 * hi:  # a unit that is off on every point makes a flat trough
            out.append(((i, j), float(hi / lo)))
    return out


def default_pair(run: engine.Run, ratio: float = 12.0) -> tuple[int, int]:
    """A pair whose bowl is clearly longer than wide (curvature ratio nearest ``ratio``)."""
    return min(pairs_by_shape(run), key=lambda p: abs(np.log(p[1] / ratio)))[0]


def loss_slice(run: engine.Run, units: tuple[int, int], grid: int = SLICE_GRID) -> Slice:
    ctx = _ctx(run, units)
    _, watch = _slice_fns(run.spec)
    # A quadratic: one Newton step from anywhere lands on its minimum.
    h = output_curvature(run)[np.ix_(units, units)]
    g0 = np.asarray(jax.grad(lambda t: watch(t, ctx)[0])(jnp.zeros(2)), np.float64)
    minimum = -np.linalg.solve(h, g0)
    curv, axes = np.linalg.eigh(h)  # columns: shallow axis, steep axis
    steep, shallow = START_DIRECTION
    u = steep * axes[:, 1] / np.sqrt(curv[1]) + shallow * axes[:, 0] / np.sqrt(curv[0])
    u /= np.sqrt(u @ h @ u / 2.0)  # so that the rise along u is exactly START_RISE
    start = minimum + np.sqrt(START_RISE) * u
    half = 1.35 * np.max(np.abs(start - minimum))
    a = np.linspace(minimum[0] - half, minimum[0] + half, grid)
    b = np.linspace(minimum[1] - half, minimum[1] + half, grid)
    ga, gb = np.meshgrid(a, b)
    thetas = jnp.asarray(np.stack([ga.ravel(), gb.ravel()], 1), jnp.float32)
    loss = np.asarray(_surface(thetas, ctx, spec=run.spec), np.float64).reshape(grid, grid)
    w_out = np.asarray(run.state.params[-1][0])[:, 0]
    return Slice(
        units=tuple(units),
        trained=w_out[list(units)].astype(np.float64),
        minimum=minimum,
        min_loss=float(watch(jnp.asarray(minimum, jnp.float32), ctx)[0]),
        hessian=h,
        start=start,
        a=a,
        b=b,
        loss=loss,
        n_train=int(ctx[2].shape[0]),
    )


@functools.partial(jax.jit, static_argnames=("spec",))
def _surface(thetas, ctx, *, spec):
    _, watch = _slice_fns(spec)
    return jax.vmap(lambda t: watch(t, ctx)[0])(thetas)


class Path(NamedTuple):
    """Steps on the slice: where the two weights were after each one."""

    label: str
    optimizer: str
    learning_rate: float
    batch_size: int
    points: np.ndarray  # (steps + 1, 2), the start first
    loss: np.ndarray  # (steps + 1,) full-batch loss at each point (NaN once diverged)
    diverged_at: int
    message: str  # the engine's divergence message, or ""


def slice_path(
    run: engine.Run,
    sl: Slice,
    *,
    optimizer: str = "sgd",
    learning_rate: float,
    batch_size: int = 0,
    steps: int = SLICE_STEPS,
    label: str = "",
    seed: int = 0,
) -> Path:
    """Descend the slice from its start with one of the Playground's optimizers."""
    loss, watch = _slice_fns(run.spec)
    n = sl.n_train
    d = tools.descend(
        loss,
        jnp.asarray(sl.start, jnp.float32),
        tools.optimizer(optimizer),
        tools.minibatches(n, batch_size, steps, seed=seed),
        ctx=_ctx(run, sl.units),
        learning_rate=learning_rate,
        watch=watch,
        keep_path=True,
    )
    full_loss = d.watch[:, 0].copy()
    if d.diverged_at >= 0:
        full_loss[d.diverged_at + 1 :] = np.nan
    return Path(
        label=label or batch_label(batch_size, n),
        optimizer=optimizer,
        learning_rate=float(learning_rate),
        batch_size=batch_size,
        points=d.path,
        loss=full_loss,
        diverged_at=d.diverged_at,
        message=divergence_message(d.diverged_at, learning_rate) if d.diverged_at >= 0 else "",
    )


def batch_paths(run: engine.Run, sl: Slice, steps: int = SLICE_STEPS) -> list[Path]:
    lr = PATH_LR_SHARE * sl.max_stable_lr
    return [slice_path(run, sl, learning_rate=lr, batch_size=b, steps=steps) for b in BATCH_SIZES]


def lr_paths(run: engine.Run, sl: Slice, steps: int = SLICE_STEPS) -> list[Path]:
    return [
        slice_path(run, sl, learning_rate=share * sl.max_stable_lr, steps=steps, label=name)
        for name, share in LR_SHARES.items()
    ]


def optimizer_paths(run: engine.Run, sl: Slice, steps: int = SLICE_STEPS) -> list[Path]:
    lr = PATH_LR_SHARE * sl.max_stable_lr
    adam_lr = ADAM_RATE * float(np.max(np.abs(sl.start - sl.minimum)))
    return [
        slice_path(run, sl, optimizer=name, learning_rate=rate, steps=steps, label=o.label)
        for (name, o), rate in zip(OPTIMIZERS.items(), (lr, lr, adam_lr), strict=True)
    ]


# -- the noise of small batches ----------------------------------------------------------
class Noise(NamedTuple):
    """How far minibatch gradients stray from the full-batch gradient, at the start."""

    batch_sizes: np.ndarray
    measured: np.ndarray  # RMS distance over NOISE_DRAWS random minibatches
    expected: np.ndarray  # from the spread of the per-point gradients (sampling theory)
    full_gradient: np.ndarray  # (2,)

    def error_at(self, batch_size: int) -> float:
        return float(self.measured[list(self.batch_sizes).index(batch_size)])

    @property
    def full_size(self) -> float:
        return float(np.linalg.norm(self.full_gradient))


def gradient_noise(run: engine.Run, sl: Slice, *, draws: int = NOISE_DRAWS, seed: int = 0) -> Noise:
    """The loss is a mean over points, so a minibatch's gradient is the mean of its points'
    gradients: one gradient per point, then many random minibatches drawn from them."""
    loss, _ = _slice_fns(run.spec)
    ctx = _ctx(run, sl.units)
    n = sl.n_train
    theta = jnp.asarray(sl.start, jnp.float32)
    grad = jax.grad(loss)
    per_point = np.asarray(
        jax.jit(jax.vmap(lambda i: grad(theta, i[None], ctx)))(jnp.arange(n)), np.float64
    )
    full = per_point.mean(axis=0)
    spread = np.sum(np.var(per_point, axis=0))  # trace of their covariance
    rng = np.random.default_rng([seed, 3])
    measured, expected = [], []
    for b in NOISE_BATCHES:
        idx = np.stack([rng.choice(n, b, replace=False) for _ in range(draws)])
        g = per_point[idx].mean(axis=1)
        measured.append(np.sqrt(np.mean(np.sum((g - full) ** 2, axis=1))))
        # The mean of b of n points drawn without replacement: variance spread/b·(n-b)/(n-1).
        expected.append(np.sqrt(spread / b * (n - b) / (n - 1)))
    return Noise(np.asarray(NOISE_BATCHES), np.asarray(measured), np.asarray(expected), full)


def playground_config(batch_size: int, learning_rate: float) -> RunConfig:
    return SGD_CFG.replace(batch_size=int(batch_size), learning_rate=float(learning_rate))
