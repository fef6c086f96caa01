"""What the later lessons share: training curves from the engine, a trained model read
back as a ``Fit``, and a small optimizer loop for lessons whose subject is the update
itself (a loss of their own, a proximal step, frozen layers, two free weights).

Ordinary training goes through the engine (``live.engine.run.train``). ``descend`` is for what
the engine does not do; given the engine's loss and optimizer it takes the same steps
(a test holds it to that), and like the engine it stops at the first step whose loss or
new weights are not finite, keeping the last good weights.
"""

import functools
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.flatten_util import ravel_pytree

from playground.core.config import RunConfig
from playground.core.datasets import BOX, Dataset, grid_points
from playground.core.model import params_to_device, params_to_host
from playground.core.train import (
    ModelSpec,
    batch_plan,
    evaluate,
    make_optimizer,
    model_loss,
    predict,
)
from playground.lessons.linear import GRID, Fit
from playground.live.engine import run as engine


class Curve(NamedTuple):
    """Metrics measured every few steps of a run (the first row: before any step)."""

    step: np.ndarray  # (M,)
    train_loss: np.ndarray
    test_loss: np.ndarray
    train_metric: np.ndarray
    test_metric: np.ndarray
    batch_loss: np.ndarray  # (steps,) the loss on each step's minibatch, before its update

    @property
    def batch_steps(self) -> np.ndarray:
        """The step of each ``batch_loss`` entry."""
        return self.step[0] + np.arange(len(self.batch_loss))

    def first_step_reaching(self, target: float) -> int | None:
        """The first measured step whose test metric is at least ``target``."""
        hit = np.flatnonzero(self.test_metric >= target)
        return int(self.step[hit[0]]) if hit.size else None


def train_curve(
    run: engine.Run, steps: int, every: int, *, keep_params: bool = False
) -> tuple[engine.Run, Curve, list]:
    """Train ``run`` for ``steps`` with the engine, measuring it every ``every`` steps.

    Returns the trained run, its curve and, with ``keep_params``, the weights (host
    arrays) at each measured step. Stops early if the run diverges. Steps count from
    where the run was (a loaded model keeps the step count of its file).
    """
    start = run.step
    rows, kept, losses = [_row(run, start)], [engine.params_numpy(run)] if keep_params else [], []
    while run.step - start < steps and not run.diverged:
        run, log = engine.train(run, steps=min(every, steps - (run.step - start)))
        rows.append(_row(run, start))
        losses.append(log.loss)
        if keep_params:
            kept.append(engine.params_numpy(run))
    cols = np.asarray(rows, np.float64).T
    batch_loss = np.concatenate(losses) if losses else np.zeros(0)
    return run, Curve(cols[0].astype(int), *cols[1:], batch_loss), kept


def _row(run: engine.Run, start: int) -> tuple:
    m = run.metrics
    return run.step - start, m.train_loss, m.test_loss, m.train_metric, m.test_metric


_predict = jax.jit(predict, static_argnames=("spec",))


def fit_from_params(cfg: RunConfig, spec: ModelSpec, params, data: Dataset, grid=GRID) -> Fit:
    """Weights trained anywhere, read back like a lesson's trained run (``linear.Fit``)."""
    params = params_to_device(params, jnp.float32)
    arrays = [jnp.asarray(a) for a in (data.x_train, data.y_train, data.x_test, data.y_test)]
    res = evaluate(params, *arrays, spec=spec)
    xs = np.linspace(BOX[0], BOX[1], grid, dtype=np.float32)
    ys = np.linspace(BOX[2], BOX[3], grid, dtype=np.float32)
    pred = np.asarray(_predict(params, jnp.asarray(grid_points(xs, ys)), spec))
    return Fit(
        cfg=cfg,
        spec=spec,
        params=params_to_host(params),
        metric=float(res["test_metric"]),
        test_loss=float(res["test_loss"]),
        xs=xs,
        ys=ys,
        grid=pred.reshape((grid, grid, *pred.shape[1:])),
        data=data,
    )


def fit_of(run: engine.Run, grid=GRID) -> Fit:
    """A trained engine run read back as a ``Fit``."""
    return fit_from_params(run.cfg, run.spec, engine.params_numpy(run), run.data, grid)


# -- the lessons' own optimizer loop -----------------------------------------------------
def full_batches(n: int, steps: int) -> np.ndarray:
    """(steps, n): every step sees every point."""
    return np.tile(np.arange(n, dtype=np.int32), (steps, 1))


def minibatches(n: int, batch_size: int, steps: int, *, seed: int = 0) -> np.ndarray:
    """(steps, b): a fresh shuffle each epoch, cut into batches; the engine's plan
    (``batch_plan``: a last partial batch is dropped, 0 or >= n means full batch)."""
    b, per_epoch = batch_plan(n, batch_size)
    rng = np.random.default_rng([seed, 2])
    epochs = -(-steps // per_epoch)
    order = np.concatenate([rng.permutation(n)[: b * per_epoch] for _ in range(epochs)])
    return order[: steps * b].reshape(steps, b).astype(np.int32)


class Descent(NamedTuple):
    """What ``descend`` saw. Rows after a divergence repeat the last good values."""

    params: Any  # the final (last good) params, host arrays
    loss: np.ndarray  # (steps,) loss on each step's batch, before its update (NaN after)
    grad_norm: np.ndarray  # (steps,) global norm of that gradient
    watch: np.ndarray  # (steps + 1, W) ``watch(params, ctx)`` before each step, and at the end
    path: np.ndarray  # (steps + 1, P) the flattened params (with keep_path), else (0, 0)
    diverged_at: int  # the first step whose loss or update was not finite, else -1


@functools.cache
def optimizer(name: str) -> optax.GradientTransformation:
    """The engine's optimizer ``name`` (learning rate in its state), one object per name,
    so ``descend`` compiles once per optimizer and batch shape, whatever the rate."""
    return make_optimizer(name)


def _no_watch(params, ctx):
    return jnp.zeros((0,), jnp.float32)


def descend(
    loss_fn: Callable,
    params,
    tx: optax.GradientTransformation,
    batches: np.ndarray,
    *,
    ctx=None,
    learning_rate: float | None = None,
    watch: Callable = _no_watch,
    keep_path: bool = False,
) -> Descent:
    """Take one ``tx`` step per row of ``batches`` on ``loss_fn(params, idx, ctx)``.

    ``idx`` is that row: indices into the data ``ctx`` holds (any pytree of arrays).
    ``watch(params, ctx)`` returns a small vector recorded before every step and after
    the last (e.g. a test accuracy). ``learning_rate`` goes into the state of a ``tx``
    from ``optimizer(name)``. One compiled ``lax.scan``; it is reused when ``loss_fn``,
    ``tx`` and ``watch`` are the same objects and the shapes match.
    """
    params = params_to_device(params, jnp.float32) if isinstance(params, list) else params
    lr = None if learning_rate is None else jnp.asarray(learning_rate, jnp.float32)
    out = _descend(
        params, jnp.asarray(batches), ctx, lr,
        loss_fn=loss_fn, tx=tx, watch=watch, keep_path=keep_path,
    )  # fmt: skip
    p, loss, gnorm, seen, path, at = jax.tree.map(np.asarray, out)
    return Descent(
        params=p,
        loss=loss.astype(np.float64),
        grad_norm=gnorm.astype(np.float64),
        watch=seen.astype(np.float64),
        path=path.astype(np.float64) if keep_path else np.zeros((0, 0)),
        diverged_at=int(at),
    )


def _finite(tree) -> jax.Array:
    return jnp.all(jnp.stack([jnp.all(jnp.isfinite(a)) for a in jax.tree.leaves(tree)]))


@functools.partial(jax.jit, static_argnames=("loss_fn", "tx", "watch", "keep_path"))
def _descend(params, batches, ctx, lr, *, loss_fn, tx, watch, keep_path):
    flat = (lambda p: ravel_pytree(p)[0]) if keep_path else (lambda p: jnp.zeros((0,)))

    def step(carry, idx):
        p, opt, alive, at, i = carry
        loss, grads = jax.value_and_grad(loss_fn)(p, idx, ctx)
        updates, new_opt = tx.update(grads, opt, p)
        new_p = optax.apply_updates(p, updates)
        ok = alive & jnp.isfinite(loss) & _finite(new_p)
        keep = lambda a, b: jax.tree.map(lambda u, v: jnp.where(ok, u, v), a, b)  # noqa: E731
        at = jnp.where(alive & ~ok, i, at)
        row = (jnp.where(alive, loss, jnp.nan), optax.tree.norm(grads), watch(p, ctx), flat(p))
        return (keep(new_p, p), keep(new_opt, opt), ok, at, i + 1), row

    opt = tx.init(params)
    if lr is not None:
        opt.hyperparams["learning_rate"] = lr
    init = (params, opt, jnp.array(True), jnp.array(-1), jnp.array(0))
    (p, _, _, at, _), (loss, gnorm, seen, path) = jax.lax.scan(step, init, batches)
    seen = jnp.concatenate([seen, watch(p, ctx)[None]])
    path = jnp.concatenate([path, flat(p)[None]])
    return p, loss, gnorm, seen, path, at


def data_ctx(data: Dataset) -> tuple:
    """A dataset as ``ctx`` for ``descend``: (x_train, y_train, x_test, y_test) on device."""
    return tuple(jnp.asarray(a) for a in (data.x_train, data.y_train, data.x_test, data.y_test))


@functools.cache
def engine_loss(spec: ModelSpec) -> Callable:
    """``loss_fn(params, idx, ctx)``: the engine's mean data loss on training points idx."""
    return lambda p, idx, ctx: model_loss(p, ctx[0][idx], ctx[1][idx], spec)


METRIC_KEYS = ("train_loss", "test_loss", "train_metric", "test_metric")  # as in Curve


@functools.cache
def metrics_watch(spec: ModelSpec) -> Callable:
    """``watch(params, ctx)`` -> the engine's metrics in METRIC_KEYS order (``ctx`` from
    ``data_ctx``): what ``descent_curve`` reads back."""

    def watch(p, ctx):
        res = evaluate(p, *ctx, spec=spec)
        return jnp.stack([res[k] for k in METRIC_KEYS]).astype(jnp.float32)

    return watch


def descent_curve(d: Descent, every: int) -> Curve:
    """A ``descend`` run watched by ``metrics_watch``, as a Curve measured every ``every``
    steps (the same grid as ``train_curve``)."""
    steps = np.arange(0, len(d.loss) + 1, every)
    if steps[-1] != len(d.loss):
        steps = np.append(steps, len(d.loss))
    cols = d.watch[steps].T
    return Curve(steps, *cols, d.loss)
