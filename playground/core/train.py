"""Training: losses, optax optimizers, and one jit-compiled ``lax.scan`` chunk of steps.

The chunk is a pure function of (state, data, hyper): learning rate, penalty and dropout
rate are traced values, so changing them between chunks neither recompiles nor resets
the run. A step whose loss or new weights are not finite is not applied; the run keeps
its last good weights and records the step where it diverged.
"""

from collections.abc import Callable
from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import optax

from playground.core.features import feature_map
from playground.core.model import (
    forward,
    init_params,
    layer_sizes,
    output_size,
    output_to_prediction,
)


class ModelSpec(NamedTuple):
    """Everything static about a network: changing any of it means a new compile."""

    features: tuple[str, ...]
    hidden: tuple[int, ...]
    activation: str
    task: str
    n_classes: int

    @property
    def sizes(self) -> list[int]:
        return layer_sizes(len(self.features), self.hidden, output_size(self.task, self.n_classes))


class Hyper(NamedTuple):
    """Settings that may change while a run goes on (traced, not static)."""

    learning_rate: float
    l1: float = 0.0
    l2: float = 0.0
    dropout: float = 0.0


class TrainState(NamedTuple):
    params: list
    opt_state: optax.OptState
    step: jax.Array  # int32 scalar: steps taken so far
    key: jax.Array  # drives minibatch order and dropout
    diverged_at: jax.Array  # int32 scalar: first step whose update was not finite, else -1


class ChunkLog(NamedTuple):
    loss: jax.Array  # (n_steps,) minibatch loss before each update
    grad_rms: jax.Array  # (n_steps, n_layers) RMS of each layer's gradient, per parameter


class Optimizer(NamedTuple):
    label: str
    make: Callable[[float], optax.GradientTransformation]  # learning rate -> optax


OPTIMIZERS: dict[str, Optimizer] = {
    "sgd": Optimizer("SGD", lambda learning_rate: optax.sgd(learning_rate)),
    "momentum": Optimizer(
        "SGD + momentum", lambda learning_rate: optax.sgd(learning_rate, momentum=0.9)
    ),
    "adam": Optimizer("Adam", lambda learning_rate: optax.adam(learning_rate)),
}
METRIC_LABELS = {"accuracy": "accuracy", "r2": "R²"}


def make_optimizer(name: str) -> optax.GradientTransformation:
    """An optax optimizer whose learning rate lives in its state, so it can change live."""
    return optax.inject_hyperparams(OPTIMIZERS[name].make)(learning_rate=0.01)


def hyper_from(learning_rate: float, reg: str, reg_rate: float, dropout: float) -> Hyper:
    return Hyper(
        learning_rate=float(learning_rate),
        l1=float(reg_rate) if reg == "l1" else 0.0,
        l2=float(reg_rate) if reg == "l2" else 0.0,
        dropout=float(dropout),
    )


def predict_raw(params, x, spec: ModelSpec, **kw):
    """Network outputs (N, n_out) for points x (N, 2) in the plane."""
    return forward(params, feature_map(x, spec.features, jnp), spec.activation, **kw)


def predict(params, x, spec: ModelSpec):
    """P(class 1) (N,), class probabilities (N, K), or regression values (N,)."""
    return output_to_prediction(predict_raw(params, x, spec), spec.task)


def data_loss(out, y, task: str):
    """Mean cross-entropy (binary or K-class) or mean squared error."""
    if task == "binary":
        return optax.sigmoid_binary_cross_entropy(out[:, 0], y.astype(out.dtype)).mean()
    if task == "multiclass":
        return optax.softmax_cross_entropy_with_integer_labels(out, y).mean()
    return jnp.mean((out[:, 0] - y) ** 2)


def model_loss(params, x, y, spec: ModelSpec):
    """Mean data loss of the network on points x (N, 2) with targets y (no penalty)."""
    return data_loss(predict_raw(params, x, spec), y, spec.task)


def weight_penalty(params, l1, l2):
    """L1 and L2 penalties on weights (biases are left free, as is usual)."""
    ws = [w for w, _ in params]
    return l1 * sum(jnp.abs(w).sum() for w in ws) + l2 * sum((w * w).sum() for w in ws)


def layer_grad_rms(grads):
    """One size-free number per layer: sqrt(mean of squared gradients over W and b)."""
    return jnp.stack(
        [jnp.sqrt((jnp.sum(gw * gw) + jnp.sum(gb * gb)) / (gw.size + gb.size)) for gw, gb in grads]
    )


def init_state(spec: ModelSpec, optimizer: str, *, key, init="he", sigma=1.0) -> TrainState:
    pkey, tkey = jax.random.split(key)
    params = init_params(spec.sizes, key=pkey, init=init, sigma=sigma)
    return TrainState(
        params=params,
        opt_state=make_optimizer(optimizer).init(params),
        step=jnp.zeros((), jnp.int32),
        key=tkey,
        diverged_at=jnp.full((), -1, jnp.int32),
    )


def reset_optimizer(state: TrainState, optimizer: str) -> TrainState:
    """Keep the weights, start a new optimizer (its moments belong to the old one)."""
    return state._replace(opt_state=make_optimizer(optimizer).init(state.params))


def batch_plan(n_train: int, batch_size: int) -> tuple[int, int]:
    """(points per step, steps per epoch); batch_size 0 or >= n means full batch.

    A last partial batch is dropped, so every step has the same shape.
    """
    b = n_train if batch_size <= 0 or batch_size >= n_train else batch_size
    return b, n_train // b


def _all_finite(tree) -> jax.Array:
    return jnp.all(jnp.stack([jnp.all(jnp.isfinite(a)) for a in jax.tree.leaves(tree)]))


@partial(jax.jit, static_argnames=("spec", "optimizer", "batch_size", "n_steps", "use_dropout"))
def train_chunk(
    state: TrainState,
    x,
    y,
    hyper: Hyper,
    *,
    spec: ModelSpec,
    optimizer: str,
    batch_size: int,
    n_steps: int,
    use_dropout: bool = False,
) -> tuple[TrainState, ChunkLog]:
    """Run ``n_steps`` optimizer steps on (x, y) in one compiled scan.

    Minibatches follow a fresh permutation each epoch, derived from the state's key and
    the epoch number, so splitting a run into chunks never changes its result.
    """
    tx = make_optimizer(optimizer)
    n = x.shape[0]
    b, per_epoch = batch_plan(n, batch_size)
    full = b == n
    data_key, drop_key = jax.random.split(state.key)

    # Each epoch's order, for every epoch this chunk touches (a static count).
    first_epoch = state.step // per_epoch
    n_epochs = 1 if full else n_steps // per_epoch + 2
    orders = jax.vmap(lambda e: jax.random.permutation(jax.random.fold_in(data_key, e), n))(
        first_epoch + jnp.arange(n_epochs)
    )

    def loss_fn(params, xb, yb, step):
        kw = {}
        if use_dropout:
            kw = {"dropout": hyper.dropout, "key": jax.random.fold_in(drop_key, step)}
        out = predict_raw(params, xb, spec, **kw)
        fit = data_loss(out, yb, spec.task)
        return fit + weight_penalty(params, hyper.l1, hyper.l2), fit

    def one_step(carry, _):
        params, opt_state, prev, step, diverged_at = carry
        if full:
            xb, yb = x, y
        else:
            order = orders[step // per_epoch - first_epoch]
            idx = jax.lax.dynamic_slice(order, ((step % per_epoch) * b,), (b,))
            xb, yb = x[idx], y[idx]
        (_, fit), grads = jax.value_and_grad(loss_fn, has_aux=True)(params, xb, yb, step)
        updates, new_opt = tx.update(grads, opt_state, params)
        new_params = optax.apply_updates(params, updates)
        running = diverged_at < 0
        ok = running & jnp.isfinite(fit) & _all_finite(new_params)
        # A non-finite loss means the current weights are already bad: go back one step.
        bad_now = running & ~jnp.isfinite(fit)
        pick = lambda c, a, o: jax.tree.map(lambda u, v: jnp.where(c, u, v), a, o)  # noqa: E731
        kept = pick(bad_now, prev, params)
        out_params = pick(ok, new_params, kept)
        opt_state = pick(ok, new_opt, opt_state)
        prev = pick(ok, params, prev)
        diverged_at = jnp.where(running & ~ok, step, diverged_at)
        step = step + ok.astype(step.dtype) - (bad_now & (step > 0)).astype(step.dtype)
        carry = (out_params, opt_state, prev, step, diverged_at)
        return carry, (fit, layer_grad_rms(grads))

    opt_state = state.opt_state
    opt_state.hyperparams["learning_rate"] = jnp.asarray(hyper.learning_rate, jnp.float32)
    carry = (state.params, opt_state, state.params, state.step, state.diverged_at)
    (params, opt_state, _, step, diverged_at), (loss, gnorm) = jax.lax.scan(
        one_step, carry, None, length=n_steps
    )
    new_state = TrainState(params, opt_state, step, state.key, diverged_at)
    return new_state, ChunkLog(loss, gnorm)


def _metric(pred, y, task: str):
    """Accuracy for classes, R² for regression."""
    if task == "binary":
        return jnp.mean((pred > 0.5) == (y == 1))
    if task == "multiclass":
        return jnp.mean(jnp.argmax(pred, axis=-1) == y)
    sst = jnp.sum((y - y.mean()) ** 2)
    return 1.0 - jnp.sum((pred - y) ** 2) / jnp.maximum(sst, 1e-12)


@partial(jax.jit, static_argnames=("spec",))
def evaluate(params, x_train, y_train, x_test, y_test, *, spec: ModelSpec):
    """Loss and accuracy (or R²) on the train and test sets, without any penalty."""
    res = {}
    for part, x, y in (("train", x_train, y_train), ("test", x_test, y_test)):
        out = predict_raw(params, x, spec)
        res[f"{part}_loss"] = data_loss(out, y, spec.task)
        res[f"{part}_metric"] = _metric(output_to_prediction(out, spec.task), y, spec.task)
    return res


def metric_name(task: str) -> str:
    """How a task is scored: "r2" for regression, "accuracy" for classes."""
    return "r2" if task == "regression" else "accuracy"


def metric_label(task: str) -> str:
    """The score's name as people read it: "R²" or "accuracy"."""
    return METRIC_LABELS[metric_name(task)]


def divergence_message(step: int, learning_rate: float, *, back_to: int | None = None) -> str:
    """Why training stopped, and the ways out. ``back_to``: the step whose weights Play
    goes back to (the last before the loss ran away), if the caller keeps them."""
    text = (
        f"Training stopped at step {step:,}: the loss or the weights became infinite or NaN, "
        f"so that update was not applied. The learning rate ({learning_rate:g}) is probably "
        "too high for this network. "
    )
    if back_to is None:
        return text + "Lower it and start again from fresh weights."
    where = "the first weights" if back_to == 0 else f"the weights of step {back_to:,}"
    return text + (
        f"Lower it (or add L2) and press Play to go on from {where}, the last before the "
        "loss ran away; or press Reset for fresh weights."
    )
