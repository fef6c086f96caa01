"""A learner's run as a typed state, and the steps over it: build, train, evaluate, read.

``Run`` is immutable: training returns a new one, so a page or a trainer that reads
``live.engine.run`` once sees a consistent set of weights, metrics and data. One chunk loop
(``train``) serves the page, the CLI and the lessons: it picks chunk lengths from a short
ladder (a scan's length is part of its compiled shape) to fill a number of steps or a
time budget. No Streamlit here.
"""

import functools
import math
import time
from itertools import pairwise
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from playground.analysis.grid_bends import first_layer_bends, signs_grid
from playground.core.config import FORMULA_PROBLEM, UPLOAD_PROBLEM, RunConfig
from playground.core.datasets import BOX, Dataset, grid_points, make_dataset, split
from playground.core.errors import PlaygroundError
from playground.core.features import feature_map
from playground.core.model import (
    ACTIVATIONS,
    dead_units,
    edited_params,
    forward_with_preactivations,
    hidden_activations,
    params_to_device,
    params_to_host,
)
from playground.core.modelfile import SavedModel
from playground.core.train import (
    Hyper,
    ModelSpec,
    TrainState,
    batch_plan,
    evaluate,
    hyper_from,
    init_state,
    make_optimizer,
    model_loss,
    predict,
    reset_optimizer,
    train_chunk,
)
from playground.live.engine.compile_cache import LEDGER, BackgroundCompiles, ChunkLedger, ChunkShape

# Chunk lengths the loop may use: each is compiled once per network, so few; the longest
# keeps a time slice of a small net to one call, the shortest fills an exact step count.
CHUNK_LADDER = (1, 16, 64, 256, 2048)
# Each call of a chunk costs ~1 ms of dispatch: within a time budget, no chunk shorter
# than this is started after the first (it would spend more on the call than on steps).
MIN_CHUNK_S = 0.002
# A train loss above this many times the best one seen (and above the untrained net's)
# is running away: weights from then on are not worth going back to.
EXPLODING = 10.0
# The early stop counts a test loss as better only when it beats the best by 1% and by
# this much: an XOR loss creeping from 1e-6 to 1e-7 is not learning anything new.
MIN_IMPROVEMENT = 1e-4


class Metrics(NamedTuple):
    train_loss: float
    test_loss: float
    train_metric: float
    test_metric: float


class Run(NamedTuple):
    """One run at one moment. ``arrays``: x_train, y_train, x_test, y_test on the device.

    ``counters``: the state's step and diverged_at as Python ints, read off the device
    once per change (each read of a device scalar waits for the device and costs ~25 us).
    ``metrics`` may lag the weights where a caller asked ``train`` not to measure them.
    ``dead``: per hidden layer, the units off at every training point, measured with the
    metrics (None until then).
    """

    cfg: RunConfig
    data: Dataset
    spec: ModelSpec
    arrays: tuple
    state: TrainState
    metrics: Metrics
    counters: tuple[int, int] = (0, -1)
    dead: tuple | None = None

    @property
    def step(self) -> int:
        return self.counters[0]

    @property
    def steps_per_epoch(self) -> int:
        return batch_plan(len(self.data.x_train), self.cfg.batch_size)[1]

    @property
    def epoch(self) -> float:
        return self.step / self.steps_per_epoch

    @property
    def diverged(self) -> bool:
        return self.counters[1] >= 0

    @property
    def diverged_at(self) -> int:
        return self.counters[1]


class TrainLog(NamedTuple):
    """What one call of ``train`` saw: per-step losses and gradients, and its timing.

    ``warm_steps`` / ``warm_seconds`` count only chunks that were compiled before.
    """

    loss: np.ndarray  # (steps,)
    grad_rms: np.ndarray  # (steps, layers)
    warm_steps: int = 0
    warm_seconds: float = 0.0
    compile_seconds: float = 0.0


# -- building ---------------------------------------------------------------------------
def user_dataset(data, *, train_ratio: float, seed: int) -> Dataset:
    """Split a ``userdata.UserData`` (upload or formula) like any other problem."""
    return split(
        data.source,
        data.task,
        data.n_classes,
        data.x,
        data.y,
        train_ratio=train_ratio,
        seed=seed,
        class_names=tuple(data.class_names),
        note=getattr(data, "note", ""),
    )


def dataset_for(cfg: RunConfig, upload: Dataset | None = None) -> Dataset:
    """The dataset a config asks for: a registered problem, a formula, or an upload."""
    if cfg.problem == UPLOAD_PROBLEM:
        if upload is None:
            raise PlaygroundError("no uploaded data yet: upload a CSV file first")
        return upload
    if cfg.problem == FORMULA_PROBLEM:
        from playground.userdata.formula import formula_dataset, parse_formula

        data = formula_dataset(
            parse_formula(cfg.formula), n_points=cfg.n_points, noise=cfg.noise, seed=cfg.seed
        )
        return user_dataset(data, train_ratio=cfg.train_ratio, seed=cfg.seed)
    return make_dataset(
        cfg.problem,
        n_points=cfg.n_points,
        noise=cfg.noise,
        train_ratio=cfg.train_ratio,
        seed=cfg.seed,
        classes=cfg.classes,
    )


def spec_for(cfg: RunConfig, data: Dataset) -> ModelSpec:
    return ModelSpec(
        tuple(cfg.features), tuple(cfg.hidden), cfg.activation, data.task, data.n_classes
    )


@functools.partial(jax.jit, static_argnames=("spec",))
def _measure(params, x_train, y_train, x_test, y_test, *, spec: ModelSpec):
    """Metrics and dead units in one call: a live run measures both several times a
    second, and each call and each read off the device holds the interpreter lock."""
    res = evaluate(params, x_train, y_train, x_test, y_test, spec=spec)
    return res, dead_units(params, feature_map(x_train, spec.features, jnp), spec.activation)


def evaluate_run(run: Run) -> Metrics:
    return measured(run).metrics


def with_state(run: Run, state: TrainState, *, measure: bool = True) -> Run:
    """The run with new weights (and optimizer), its metrics measured afresh (or kept,
    as they were, when not ``measure``)."""
    step, diverged_at = jax.device_get((state.step, state.diverged_at))
    run = run._replace(state=state, counters=(int(step), int(diverged_at)), dead=None)
    return measured(run) if measure else run


def measured(run: Run) -> Run:
    """The run with its metrics and dead units measured for its current weights."""
    res, dead = jax.device_get(_measure(run.state.params, *run.arrays, spec=run.spec))
    metrics = Metrics(**{k: float(v) for k, v in res.items()})
    return run._replace(metrics=metrics, dead=tuple(np.asarray(d) for d in dead))


def new_run(
    cfg: RunConfig, *, upload: Dataset | None = None, saved: SavedModel | None = None
) -> Run:
    """A fresh run of ``cfg`` (same seed: same data and first weights), or ``saved``'s
    weights when given."""
    data = dataset_for(cfg, upload)
    spec = spec_for(cfg, data)
    state = init_state(
        spec, cfg.optimizer, key=jax.random.key(cfg.seed), init=cfg.init, sigma=cfg.init_sigma
    )
    arrays = tuple(jnp.asarray(a) for a in (data.x_train, data.y_train, data.x_test, data.y_test))
    run = Run(cfg, data, spec, arrays, state, Metrics(*(np.nan,) * 4))
    return with_saved(run, saved) if saved is not None else with_state(run, state)


def with_saved(run: Run, saved: SavedModel) -> Run:
    """The run going on from a saved model's weights (and its step count, when the file
    has one); its shapes must fit the network."""
    want = list(pairwise(run.spec.sizes))
    have = [tuple(w.shape) for w, _ in saved.params]
    if want != have:
        raise PlaygroundError(
            f"the file's layers {have} do not fit this network's {want}; "
            "adopt the file's architecture to load it"
        )
    params = params_to_device(saved.params)
    step = saved.meta.get("step", 0)
    step = int(step) if isinstance(step, int | np.integer) and 0 <= step < 2**31 else 0
    state = run.state._replace(
        params=params,
        opt_state=make_optimizer(run.cfg.optimizer).init(params),
        step=jnp.asarray(step, jnp.int32),
        diverged_at=jnp.full((), -1, jnp.int32),
    )
    return with_state(run, state)


def with_optimizer(run: Run, optimizer: str) -> Run:
    """Keep the weights, start the named optimizer afresh."""
    return run._replace(state=reset_optimizer(run.state, optimizer))


def resumed(run: Run) -> Run:
    """Clear a divergence so training goes on from the last good weights."""
    return with_state(run, run.state._replace(diverged_at=jnp.full((), -1, jnp.int32)))


# -- training -----------------------------------------------------------------------------
def chunk_shape(run: Run, n_steps: int) -> ChunkShape:
    c = run.cfg
    return ChunkShape(run.spec, c.optimizer, c.batch_size, c.dropout > 0, n_steps, c.lr_schedule)


def compile_pending(run: Run) -> bool:
    """Whether no training chunk of this run's shape is compiled yet: its first chunk
    will compile first (a second or more), whatever its length."""
    return not any(LEDGER.compiled(chunk_shape(run, s)) for s in CHUNK_LADDER)


def exploding(loss: float, best: float, start: float) -> bool:
    """Whether a train loss has run away: not finite, or above both ``EXPLODING`` times
    the ``best`` loss seen and the untrained network's loss ``start``."""
    return not math.isfinite(loss) or loss > max(start, EXPLODING * best)


def improved(loss: float, best: float) -> bool:
    """Whether a test loss beats ``best`` by more than noise (1% and MIN_IMPROVEMENT)."""
    return math.isfinite(loss) and loss < best - max(0.01 * best, MIN_IMPROVEMENT)


def run_hyper(run: Run) -> Hyper:
    """The run's settings that training reads as values (changing them compiles nothing)."""
    c = run.cfg
    return hyper_from(c.learning_rate, c.reg, c.reg_rate, c.dropout)


def train_one_chunk(run: Run, n_steps: int) -> tuple[TrainState, object]:
    """``n_steps`` optimizer steps in one compiled call (metrics not measured)."""
    # A chunk's shape names exactly train_chunk's static keywords.
    shape = chunk_shape(run, n_steps)._asdict()
    return train_chunk(run.state, run.arrays[0], run.arrays[1], run_hyper(run), **shape)


# Chunk lengths a live run has not compiled yet, compiled off its trainer's thread.
CHUNK_COMPILES = BackgroundCompiles("playground-compile")


def compile_chunk(run: Run, n_steps: int, ledger: ChunkLedger = LEDGER) -> float:
    """Compile (or load from the disk cache) the ``n_steps`` chunk of ``run``'s shape by
    running it once (results dropped), recorded in ``ledger`` as compiled; its seconds."""
    start = time.perf_counter()
    state, _ = train_one_chunk(run, n_steps)
    jax.block_until_ready(state.step)
    took = time.perf_counter() - start
    ledger.record(chunk_shape(run, n_steps), took, warm=False)
    return took


def _compiled_shorter(run: Run, size: int) -> int | None:
    """For a ``size`` chunk not compiled yet: the longest compiled rung below it, the
    compile of ``size`` started on a thread (``CHUNK_COMPILES``); None when nothing
    shorter is compiled (a run's first chunk compiles where it runs)."""
    shorter = [s for s in CHUNK_LADDER if s < size and LEDGER.compiled(chunk_shape(run, s))]
    if not shorter:
        return None
    CHUNK_COMPILES.start(chunk_shape(run, size), lambda: compile_chunk(run, size))
    return max(shorter)


def _next_chunk(run: Run, steps_left: int | None, seconds_left: float | None, first: bool):
    """The next chunk length, or None when the budget is spent."""
    if steps_left is not None:
        return max(s for s in CHUNK_LADDER if s <= steps_left) if steps_left > 0 else None
    if seconds_left is None or seconds_left <= 0:
        return None
    known = [(s, LEDGER.steps_per_s(chunk_shape(run, s))) for s in CHUNK_LADDER]
    rate = max((r for _, r in known if r), default=None)
    if rate is None:
        return CHUNK_LADDER[1]  # speed unknown: a short chunk measures it
    fitting = [s for s in CHUNK_LADDER if s <= rate * seconds_left]
    if first:
        # A speed measured on 1-step chunks is mostly the call's overhead: sized by it,
        # chunks would stay 1 step long (seen: a busy server training at 20 steps/s).
        # The second rung, wherever ten budgets would hold it, measures the real speed.
        floor = CHUNK_LADDER[1] if rate * seconds_left * 10 >= CHUNK_LADDER[1] else 1
        return max([*fitting, floor])
    if not fitting or max(fitting) < rate * MIN_CHUNK_S:
        return None
    return max(fitting)


def train(
    run: Run,
    *,
    steps: int | None = None,
    seconds: float | None = None,
    measure: bool = True,
    compile_elsewhere: bool = False,
):
    """Train exactly ``steps`` steps (fewer if it diverges), or until ``seconds`` have
    passed. Returns the new run (metrics measured once, at the end, unless not
    ``measure``) and its ``TrainLog``. ``compile_elsewhere``: a chunk length not compiled
    yet is compiled on another thread, and shorter compiled chunks train meanwhile (a live
    run's trainer serves every learner's pictures).

    Splitting a run into calls never changes its result: each chunk picks its minibatches
    from the state's key and step.
    """
    if (steps is None) == (seconds is None):
        raise ValueError("train needs steps or seconds")
    t0 = time.perf_counter()
    losses, grads, done = [], [], 0
    warm_steps, warm_s, compile_s = 0, 0.0, 0.0
    while not run.diverged:
        left = None if seconds is None else seconds - (time.perf_counter() - t0)
        size = _next_chunk(run, None if steps is None else steps - done, left, not losses)
        if size is None:
            break
        shape = chunk_shape(run, size)
        warm = LEDGER.compiled(shape)
        if compile_elsewhere and not warm and (shorter := _compiled_shorter(run, size)):
            size, shape, warm = shorter, chunk_shape(run, shorter), True
        t = time.perf_counter()
        state, log = train_one_chunk(run, size)
        run = with_state(run, state, measure=False)  # waits for the chunk
        dt = time.perf_counter() - t
        LEDGER.record(shape, dt, warm=warm)
        if warm:
            warm_steps, warm_s = warm_steps + size, warm_s + dt
        else:
            compile_s += dt
        done += size
        losses.append(np.asarray(log.loss))
        grads.append(np.asarray(log.grad_rms))
    n_layers = len(run.spec.sizes) - 1
    out = TrainLog(
        np.concatenate(losses) if losses else np.zeros(0),
        np.concatenate(grads) if grads else np.zeros((0, n_layers)),
        warm_steps,
        warm_s,
        compile_s,
    )
    return (measured(run) if losses and measure else run), out


# -- reading ------------------------------------------------------------------------------
# Jitted: eager op-by-op dispatch took ~2 ms a grid, each op holding the GIL that the
# trainer and the server share.
_predict = jax.jit(predict, static_argnames=("spec",))


@functools.partial(jax.jit, static_argnames=("spec",))
def _unit_activations(params, pts, spec: ModelSpec):
    return hidden_activations(params, feature_map(pts, spec.features, jnp), spec.activation)


@functools.lru_cache(maxsize=8)
def _grid(n: int, box: tuple) -> tuple[np.ndarray, np.ndarray, jax.Array]:
    """Axis values and the n*n grid points (row = y), on the device once per size."""
    xs = np.linspace(box[0], box[1], n, dtype=np.float32)
    ys = np.linspace(box[2], box[3], n, dtype=np.float32)
    return xs, ys, jnp.asarray(grid_points(xs, ys))


def predict_points(run: Run, x: np.ndarray) -> np.ndarray:
    return np.asarray(_predict(run.state.params, jnp.asarray(x, jnp.float32), run.spec))


def output_grid(run: Run, n: int = 100, box=BOX) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Axis values xs (n,), ys (n,) and predictions on the grid, (n, n[, K]) row = y."""
    xs, ys, pts = _grid(n, tuple(box))
    pred = np.asarray(_predict(run.state.params, pts, run.spec))
    return xs, ys, pred.reshape((n, n, *pred.shape[1:]))


@functools.partial(jax.jit, static_argnames=("spec", "box"))
def _picture(params, pts, sign_pts, spec: ModelSpec, box: tuple):
    """Predictions on ``pts`` and (with ``sign_pts``) the live bends: the first layer's
    lines in ``box`` and, per hidden layer after the first, whether each unit's
    pre-activation is above 0 at ``sign_pts`` (width, points). One call: the interpreter
    lock is free while it runs."""
    pred = predict(params, pts, spec)
    if sign_pts is None:
        return pred, None, []
    x = feature_map(sign_pts, spec.features, jnp)
    _, pre = forward_with_preactivations(params, x, spec.activation)
    lines = first_layer_bends(*params[0], box, xp=jnp)
    return pred, lines, [z.T > 0 for z in pre[1:]]


class LivePicture(NamedTuple):
    """One live picture: the output grid and the live bends (``analysis.grid_bends``):
    the first layer's lines, the deeper layers' signs on the grid (the browser traces
    them)."""

    xs: np.ndarray  # (n,)
    ys: np.ndarray  # (n,)
    grid: np.ndarray  # predictions (n, n[, K]), rows follow ys
    lines: np.ndarray | None  # first hidden layer's ends (H1, 2, 2), NaN where none
    # deeper layers: pre-activation > 0 on the signs' grid (``grid_bends.signs_grid``),
    # (width, m, m) each
    signs: tuple[np.ndarray, ...]


def live_picture(run: Run, n: int, box=BOX, *, signs: bool = True) -> LivePicture:
    """The output grid and, with ``signs``, the live bends."""
    box = tuple(float(v) for v in box)
    xs, ys, pts = _grid(n, box)
    m = signs_grid(n)
    sign_pts = _grid(m, box)[2] if signs else None
    pred, lines, bits = _picture(run.state.params, pts, sign_pts, run.spec, box)
    pred = np.asarray(pred)
    return LivePicture(
        xs,
        ys,
        pred.reshape((n, n, *pred.shape[1:])),
        None if lines is None else np.asarray(lines),
        tuple(np.asarray(s).reshape(-1, m, m) for s in bits),
    )


def unit_grids(run: Run, n: int = 25, box=BOX) -> tuple[np.ndarray, np.ndarray, list]:
    """Every hidden unit's activation on an n x n grid: per layer (n, n, width)."""
    xs, ys, pts = _grid(n, tuple(box))
    acts = _unit_activations(run.state.params, pts, run.spec)
    return xs, ys, [np.asarray(a).reshape(n, n, -1) for a in acts]


@functools.partial(jax.jit, static_argnames=("spec",))
def _network_values(params, pts, spec: ModelSpec):
    x = feature_map(pts, spec.features, jnp)
    out, pre = forward_with_preactivations(params, x, spec.activation)
    act = ACTIVATIONS[spec.activation].fn
    return [x, *(act(z) for z in pre), out]


def network_grids(run: Run, n: int = 25, box=BOX) -> tuple[np.ndarray, np.ndarray, list]:
    """What every node of the network computes on an n x n grid, column by column: the
    input features (n, n, F), each hidden layer's activations (n, n, width) and the
    output layer's raw outputs (n, n, K) (before the sigmoid or softmax)."""
    xs, ys, pts = _grid(n, tuple(box))
    cols = _network_values(run.state.params, pts, run.spec)
    return xs, ys, [np.asarray(c).reshape(n, n, -1) for c in cols]


@functools.partial(jax.jit, static_argnames=("spec",))
def _bend_distances(params, point, spec: ModelSpec):
    def pre(p):
        _, pres = forward_with_preactivations(
            params, feature_map(p[None, :], spec.features, jnp), spec.activation
        )
        return jnp.concatenate([z[0] for z in pres])

    return jnp.abs(pre(point)) / jnp.linalg.norm(jax.jacfwd(pre)(point), axis=1)


def nearest_bend(run: Run, x: float, y: float) -> tuple[int, int, float] | None:
    """The hidden unit whose bend passes nearest the point (x, y): (layer, unit,
    distance), layers and units 0-based; None without hidden units. The distance is
    |z| / |grad z| of the unit's pre-activation z at the point: exact for a first-layer
    line, a first-order estimate for a deeper unit's bent line. A unit flat at the point
    (no gradient: a dead one) is never the nearest."""
    widths = run.spec.hidden
    if not widths:
        return None
    point = jnp.asarray([x, y], jnp.float32)
    d = np.asarray(_bend_distances(run.state.params, point, run.spec), np.float64)
    d = np.where(np.isfinite(d), d, np.inf)
    k = int(np.argmin(d))
    if not np.isfinite(d[k]):
        return None
    layer = int(np.searchsorted(np.cumsum(widths), k, side="right"))
    return layer, k - int(sum(widths[:layer])), float(d[k])


@functools.partial(jax.jit, static_argnames=("spec",))
def _loss_gradients(params, x, y, spec: ModelSpec):
    return jax.grad(model_loss)(params, x, y, spec)


def loss_gradients(run: Run) -> list[tuple[np.ndarray, np.ndarray]]:
    """The gradient of the mean training loss (all training points, no penalty, no
    dropout) with respect to every weight and bias: [(dW, db), ...] like the params."""
    return params_to_host(_loss_gradients(run.state.params, *run.arrays[:2], run.spec))


def with_edit(run: Run, layer: int, unit: int, source: int | None, value: float) -> Run:
    """The run with one weight (``source`` an input index) or bias (``source`` None)
    set to ``value`` (``core.model.edited_params``), measured afresh; the optimizer's
    state and the step count go on."""
    params = params_to_device(edited_params(params_numpy(run), layer, unit, source, value))
    return with_state(run, run.state._replace(params=params))


def params_numpy(run: Run) -> list[tuple[np.ndarray, np.ndarray]]:
    return params_to_host(run.state.params)


def saved_model(run: Run) -> SavedModel:
    return SavedModel(
        params_numpy(run),
        run.cfg.activation,
        tuple(run.cfg.features),
        {
            "task": run.spec.task,
            "n_classes": run.spec.n_classes,
            "problem": run.cfg.problem,
            "step": run.step,
            "init": run.cfg.init,
            "schedule": run.cfg.schedule,
            "warmup_steps": run.cfg.warmup_steps,
            "decay_steps": run.cfg.decay_steps,
        },
    )
