"""Training: losses, optax optimizers, and one jit-compiled ``lax.scan`` chunk of steps.

The chunk is a pure function of (state, data, hyper): learning rate, penalty and dropout
rate are traced values, so changing them between chunks neither recompiles nor resets
the run. A step whose loss or new weights are not finite is not applied; the run keeps
its last good weights and records the step where it diverged.

Small nets are bound by per-step overhead (kernel launches, library calls), not flops;
``train_chunk`` picks how a chunk is built by size (``_Packed``, ``is_small_net``,
``_dense_t``): the same numbers, only faster (``python -m playground.bench train``).
"""

import itertools
from collections.abc import Callable, Sequence
from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import optax
from jax.flatten_util import ravel_pytree

from playground.core.features import feature_map
from playground.core.model import (
    ACTIVATIONS,
    dense,
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

# How the learning rate moves over a run: name -> label. Each is optax's own schedule.
SCHEDULES = {"constant": "Constant", "cosine": "Cosine decay", "exponential": "Exponential decay"}
EXPONENTIAL_FALL = 0.1  # exponential: the rate falls tenfold every ``decay_steps``
DECAY_STEPS = 5000  # the CLI's default run length: a cosine ends where it ends


class Schedule(NamedTuple):
    """The learning-rate schedule (static: a new one compiles the chunk anew). The rate
    rises from 0 over ``warmup_steps``; then "constant" holds it, "cosine" falls to 0 at
    step ``decay_steps`` (warm-up included) and "exponential" falls tenfold every
    ``decay_steps`` steps after the warm-up."""

    kind: str = "constant"
    warmup_steps: int = 0
    decay_steps: int = DECAY_STEPS

    @property
    def varies(self) -> bool:
        return self.kind != "constant" or self.warmup_steps > 0


CONSTANT = Schedule()


def schedule_fn(schedule: Schedule, peak: float = 1.0) -> Callable:
    """The learning rate at each step (0-based) as an optax schedule, peaking at ``peak``."""
    warm, decay = int(schedule.warmup_steps), int(schedule.decay_steps)
    if schedule.kind == "cosine":
        # optax wants a decay after the warm-up: at least one step of it.
        return optax.warmup_cosine_decay_schedule(0.0, peak, warm, max(decay, warm + 1))
    if schedule.kind == "exponential":
        return optax.warmup_exponential_decay_schedule(0.0, peak, warm, decay, EXPONENTIAL_FALL)
    if schedule.kind != "constant":
        raise ValueError(f"unknown schedule {schedule.kind!r}")
    if warm == 0:
        return optax.constant_schedule(peak)
    return optax.join_schedules(
        [optax.linear_schedule(0.0, peak, warm), optax.constant_schedule(peak)], [warm]
    )


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
        # Labels are 0 or 1: the loss is softplus(-o) for a 1 and softplus(o) for a 0.
        # One transcendental a point where optax's general form takes two (~1.2x a small
        # net's training step), and exact for confident points too.
        o = out[:, 0]
        return jax.nn.softplus(o * (1 - 2 * y.astype(o.dtype))).mean()
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


class _Packed(NamedTuple):
    """The params and optimizer state as a training step carries them.

    Nets of at most FLAT_PARAMS parameters: the params as one vector, and every
    params-shaped part of the optimizer state (Adam's moments, momentum's trace) as one
    vector too. A small net's step is bound by how many kernels XLA runs, not by flops:
    with one array per W and b, the update, the divergence checks and the rollback copies
    ran once per array (6 for 2-8-8-1, ~80 kernels a step, ~50 on one vector; 1.2-1.8x
    the steps/s). Big nets keep their arrays: there slicing and joining the vector would
    cost more (~5% of a 256x4 step). Elementwise maths is the same per number either way.
    """

    params: object  # one (n_params,) vector: W0, b0, W1, b1, ... raveled; or [(W, b), ...]
    opt_state: optax.OptState
    unpack: Callable  # carried params -> [(W, b), ...]
    restore: Callable  # carried optimizer state -> the pytree form kept in TrainState
    grad_rms: Callable  # carried gradient -> (n_layers,) as ``layer_grad_rms``


def _pack(params, opt_state, *, flat: bool) -> _Packed:
    if not flat:
        same = lambda tree: tree  # noqa: E731
        return _Packed(params, opt_state, same, same, layer_grad_rms)
    vector, unravel = ravel_pytree(params)
    params_def = jax.tree.structure(params)
    is_params = lambda node: jax.tree.structure(node) == params_def  # noqa: E731
    leaves, state_def = jax.tree.flatten(opt_state, is_leaf=is_params)
    shaped = [is_params(leaf) for leaf in leaves]
    flat_leaves = [ravel_pytree(a)[0] if s else a for a, s in zip(leaves, shaped, strict=True)]

    def restore(flat_state):
        parts = state_def.flatten_up_to(flat_state)
        return jax.tree.unflatten(
            state_def, [unravel(a) if s else a for a, s in zip(parts, shaped, strict=True)]
        )

    # Each layer's (W, b) is one contiguous run of the vector.
    ends = tuple(itertools.accumulate(w.size + b.size for w, b in params))

    def grad_rms(g):
        runs = zip((0, *ends[:-1]), ends, strict=True)
        return jnp.stack([jnp.sqrt(jnp.mean(g[a:b] * g[a:b])) for a, b in runs])

    return _Packed(vector, jax.tree.unflatten(state_def, flat_leaves), unravel, restore, grad_rms)


def _all_finite(tree) -> jax.Array:
    return jnp.all(jnp.stack([jnp.all(jnp.isfinite(a)) for a in jax.tree.leaves(tree)]))


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
    schedule: Schedule = CONSTANT,
) -> tuple[TrainState, ChunkLog]:
    """Run ``n_steps`` optimizer steps on (x, y) in one compiled scan.

    Minibatches follow a fresh permutation each epoch, derived from the state's key and
    the epoch number, so splitting a run into chunks never changes its result.

    A step whose loss or new weights are not finite is not applied (see the module
    docstring). Checking that at every step costs a small net ~5% and a 256x4 net ~10%
    (a rollback copy of the weights and selects over weights and moments each step), and
    a run diverges at most once. So the chunk first runs without the checks; only when
    a loss or the final weights are not finite (weights that once became NaN or inf
    stay so) does it run again from the same state with them. Both give the same
    numbers; the checked one is compiled the first time a run diverges.

    ``hyper.learning_rate`` is the schedule's peak; each step takes the rate of its own
    step number (the run's, so chunks of any length agree).
    """
    kw = dict(
        spec=spec,
        optimizer=optimizer,
        batch_size=batch_size,
        n_steps=n_steps,
        use_dropout=use_dropout,
        schedule=schedule,
    )
    chunk = chunk_program(spec, x.shape[0], batch_size)
    new_state, log, clean = chunk(state, x, y, hyper, checked=False, **kw)
    if bool(clean):
        return new_state, log
    new_state, log, _ = chunk(state, x, y, hyper, checked=True, **kw)
    return new_state, log


def compile_chunk(state, x, y, hyper, **kw) -> None:
    """Compile (or load from the persistent cache) the chunk ``train_chunk`` runs for these
    shapes, without running it: for pre-compiling the shapes a learner may pick next."""
    chunk = chunk_program(kw["spec"], x.shape[0], kw["batch_size"])
    chunk.lower(state, x, y, hyper, checked=False, **kw).compile()


# How a step is built, by size (all measured side by side on 2 cores; same numbers):
# - XLA:CPU hands matrix products and reductions to libraries (YNNPACK, Eigen on a
#   thread pool) whose fixed cost per call is the whole cost of a minibatch step: where
#   every product has at most SMALL_NET_PRODUCT multiply-adds (TensorFlow Playground's
#   batches of 10), the chunk is built without them (SMALL_NET_XLA), and a layer of at
#   most TINY_PRODUCT is written as a broadcast multiply and a sum that XLA fuses with
#   its neighbours (8-8, batch 10: ~1.8x; 8x4, batch 30: ~3x the steps/s).
# - Bigger products (a full batch of 1000) keep the libraries and run feature-major
#   (``_dense_t``), which gives every product the library's own layout (16-16: ~1.5x,
#   256x4: ~1.1x).
SMALL_NET_PRODUCT = 1 << 15
TINY_PRODUCT = 4096
FLAT_PARAMS = 1 << 16
SMALL_NET_XLA = {"xla_cpu_experimental_ynn_fusion_type": "", "xla_cpu_multi_thread_eigen": False}


def _products(spec: ModelSpec, n_train: int, batch_size: int) -> list[int]:
    """Multiply-adds of each layer's product in one step: batch x fan_in x fan_out."""
    b = batch_plan(n_train, batch_size)[0]
    return [b * i * o for i, o in itertools.pairwise(spec.sizes)]


def is_small_net(spec: ModelSpec, n_train: int, batch_size: int) -> bool:
    """Whether a step's products are small enough to skip XLA's matmul libraries (on a
    CPU: elsewhere XLA's defaults serve every size)."""
    return (
        jax.default_backend() == "cpu"
        and max(_products(spec, n_train, batch_size)) <= SMALL_NET_PRODUCT
    )


def _tiny_dense(h, w, b):
    """h W + b as a broadcast multiply and a sum over fan_in (see TINY_PRODUCT)."""
    return (h[:, :, None] * w[None, :, :]).sum(axis=1) + b[None, :]


def _training_layer(h, w, b):
    if h.shape[0] * w.shape[0] * w.shape[1] <= TINY_PRODUCT:
        return _tiny_dense(h, w, b)
    return dense(h, w, b)


@jax.custom_vjp
def _dense_t(h_t, w, b):
    """A layer on feature-major activations: h_t (fan_in, N) -> (fan_out, N).

    Row-major activations make the weight gradient h^T g, a product XLA:CPU cannot give
    its matrix library (it contracts h's first axis) and runs in a slower generic one.
    Feature-major, all three products of a layer take the library's layouts, at the
    price of transposing the (small) weights. Measured on 256x4, batch 1000: ~5% a step.
    """
    w_t = jax.lax.optimization_barrier(w.T)  # a real transpose: kept out of the product
    return w_t @ h_t + b[:, None]


def _dense_t_fwd(h_t, w, b):
    return _dense_t(h_t, w, b), (h_t, w)


def _dense_t_bwd(saved, g_t):
    h_t, w = saved
    return w @ g_t, h_t @ g_t.T, g_t.sum(axis=1)


_dense_t.defvjp(_dense_t_fwd, _dense_t_bwd)


def _forward_feature_major(params, x, activation: str, *, dropout: float = 0.0, key=None):
    """``model.forward`` (same outputs, same dropout masks) computed on transposed
    activations; for training big nets, reverse mode only."""
    act = ACTIVATIONS[activation].fn
    # Transposed for real too: else XLA folds x.T into the first layer's weight gradient,
    # which again contracts x's first axis (2-8-8-1, batch 1000: ~1.4x the steps/s).
    h_t = jax.lax.optimization_barrier(x.T)
    for i, (w, b) in enumerate(params[:-1]):
        h_t = act(_dense_t(h_t, w, b))
        if key is not None:
            keep = jax.random.bernoulli(jax.random.fold_in(key, i), 1.0 - dropout, h_t.shape[::-1])
            h_t = jnp.where(keep.T, h_t / (1.0 - dropout), 0.0)
    w, b = params[-1]
    return _dense_t(h_t, w, b).T


def chunk_program(spec: ModelSpec, n_train: int, batch_size: int):
    """The jitted scan ``train_chunk`` runs: XLA's defaults, or its small-net build."""
    return _chunk_small if is_small_net(spec, n_train, batch_size) else _chunk_default


def _chunk(
    state: TrainState,
    x,
    y,
    hyper: Hyper,
    *,
    spec: ModelSpec,
    optimizer: str,
    batch_size: int,
    n_steps: int,
    use_dropout: bool,
    checked: bool,
    schedule: Schedule = CONSTANT,
) -> tuple[TrainState, ChunkLog, jax.Array]:
    """``train_chunk``'s scan; ``checked``: keep the last good weights at every step.

    Also returns whether the run was and stayed finite (then both ways agree). Inside
    the scan small nets carry their params and moments as single vectors (``_Packed``).
    """
    tx = make_optimizer(optimizer)
    n = x.shape[0]
    b, per_epoch = batch_plan(n, batch_size)
    full = b == n
    small = is_small_net(spec, n, batch_size)
    flat = sum(w.size + c.size for w, c in state.params) <= FLAT_PARAMS
    data_key, drop_key = jax.random.split(state.key)

    # Each epoch's order, for every epoch this chunk touches (a static count).
    first_epoch = state.step // per_epoch
    n_epochs = 1 if full else n_steps // per_epoch + 2
    orders = jax.vmap(lambda e: jax.random.permutation(jax.random.fold_in(data_key, e), n))(
        first_epoch + jnp.arange(n_epochs)
    )
    packed = _pack(state.params, state.opt_state, flat=flat)
    rate_at = schedule_fn(schedule)

    def loss_fn(p, xb, yb, step):
        params = packed.unpack(p)
        kw = {}
        if use_dropout:
            kw = {"dropout": hyper.dropout, "key": jax.random.fold_in(drop_key, step)}
        features = feature_map(xb, spec.features, jnp)
        if small:
            out = forward(params, features, spec.activation, layer=_training_layer, **kw)
        else:
            out = _forward_feature_major(params, features, spec.activation, **kw)
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
        if schedule.varies:  # the rate of this step (a constant one was set once, below)
            rate = hyper.learning_rate * rate_at(step)
            opt_state.hyperparams["learning_rate"] = jnp.asarray(rate, jnp.float32)
        updates, new_opt = tx.update(grads, opt_state, params)
        new_params = optax.apply_updates(params, updates)
        log = (fit, packed.grad_rms(grads))
        if not checked:
            return (new_params, new_opt, prev, step + 1, diverged_at), log
        running = diverged_at < 0
        ok = running & jnp.isfinite(fit) & _all_finite(new_params)
        # A non-finite loss means the current weights are already bad: go back one step.
        bad_now = running & ~jnp.isfinite(fit)
        pick = lambda c, a, o: jax.tree.map(lambda u, v: jnp.where(c, u, v), a, o)  # noqa: E731
        out_params = pick(ok, new_params, pick(bad_now, prev, params))
        opt_state = pick(ok, new_opt, opt_state)
        prev = pick(ok, params, prev)
        diverged_at = jnp.where(running & ~ok, step, diverged_at)
        step = step + ok.astype(step.dtype) - (bad_now & (step > 0)).astype(step.dtype)
        return (out_params, opt_state, prev, step, diverged_at), log

    opt_state = packed.opt_state
    opt_state.hyperparams["learning_rate"] = jnp.asarray(hyper.learning_rate, jnp.float32)
    # Unchecked, ``prev`` is never read: a scalar stands in for it.
    prev = packed.params if checked else jnp.zeros(())
    carry = (packed.params, opt_state, prev, state.step, state.diverged_at)
    (params, opt_state, _, step, diverged_at), (loss, gnorm) = jax.lax.scan(
        one_step, carry, None, length=n_steps
    )
    clean = (state.diverged_at < 0) & jnp.all(jnp.isfinite(loss)) & _all_finite(params)
    params, opt_state = packed.unpack(params), packed.restore(opt_state)
    new_state = TrainState(params, opt_state, step, state.key, diverged_at)
    return new_state, ChunkLog(loss, gnorm), clean


_STATIC = ("spec", "optimizer", "batch_size", "n_steps", "use_dropout", "checked", "schedule")
_chunk_default = jax.jit(_chunk, static_argnames=_STATIC)
_chunk_small = jax.jit(_chunk, static_argnames=_STATIC, compiler_options=SMALL_NET_XLA)


def _cohort(states, xs, ys, hypers, **kw):
    """``_chunk`` for several runs of one shape in one call (``vmap``), unchecked. The
    states are stacked and unstacked inside the program, so a caller passes and gets one
    buffer per array, as for one run; the logs, clean flags and counters come stacked,
    for one read."""
    stack = lambda *a: jnp.stack(a)  # noqa: E731
    new, log, clean = jax.vmap(partial(_chunk, checked=False, **kw))(
        jax.tree.map(stack, *states), jnp.stack(xs), jnp.stack(ys), jax.tree.map(stack, *hypers)
    )
    states = tuple(jax.tree.map(lambda a, i=i: a[i], new) for i in range(len(states)))
    return states, log, clean, jnp.stack([new.step, new.diverged_at], axis=1)


_COHORT_STATIC = tuple(s for s in _STATIC if s != "checked")
_cohort_small = jax.jit(_cohort, static_argnames=_COHORT_STATIC, compiler_options=SMALL_NET_XLA)


def train_cohort_chunk(
    states: Sequence[TrainState], xs: Sequence, ys: Sequence, hypers: Sequence[Hyper], **shape
):
    """``n_steps`` unchecked steps of each of several small runs of one shape in one
    compiled call: one call's overhead for all of them, which for small nets is most of a
    chunk's cost. ``shape``: ``train_chunk``'s keywords (spec, optimizer, batch_size,
    n_steps, use_dropout, schedule), the same for every run, as are the data's shapes.

    Returns (states, log, clean, counters): a state per run; the log, whether each run
    stayed finite (a run that did not must train again with ``train_chunk``, which keeps
    its last good weights) and each run's (step, diverged_at), stacked along a first
    axis of runs. Each run gets the numbers ``train_chunk`` would give it alone, to float
    rounding.
    """
    return _cohort_small(tuple(states), tuple(xs), tuple(ys), tuple(hypers), **shape)


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
