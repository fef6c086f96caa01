"""How many ReLUs does a problem need? Train a grid of networks at once and compare them.

A sweep trains every (depth, width, seed) network of a grid on one dataset, full batch,
for a fixed number of steps. Networks of one depth train together in one jit-compiled
call per group of widths: ``jax.vmap`` over networks, ``lax.scan`` over the steps of a
chunk. Networks of different widths share one shape by padding to a common width (the
largest of the group; ``width_groups`` says which widths group together):

* a padded network starts from the small network's params (the engine's ``init_params``
  with the key ``init_state`` uses, so it starts exactly where a live run with that seed
  starts), embedded into zero arrays of the padded shape;
* a 0/1 mask per weight keeps every unit beyond the network's width switched off: the
  forward pass sees ``params * mask``, so those units add nothing to the output, and by
  the chain rule their gradient is ``grad * mask = 0``, so the optimizer never moves them.

So a padded network computes and trains like the small one (up to float rounding, as the
matmuls sum in another order). The forward pass, loss, optimizer and metrics are the
engine's (``predict_raw``, ``data_loss``, ``make_optimizer``, ``evaluate``).

Shapes: ``D`` depths, ``W`` widths, ``S`` seeds; per-network results are (D, W, S).
One algorithm in one module (~560 lines): padding, masks, the vmapped chunk and the
result's readers depend on one another's shapes.
"""

import math
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from playground.core.datasets import BOX, make_dataset
from playground.core.errors import PlaygroundError
from playground.core.features import RAW_FEATURES
from playground.core.model import (
    ACTIVATIONS,
    MAX_DEPTH,
    MAX_WIDTH,
    PIECEWISE_LINEAR,
    init_params,
    param_count,
)
from playground.core.train import (
    METRIC_LABELS,
    OPTIMIZERS,
    ModelSpec,
    data_loss,
    evaluate,
    make_optimizer,
    metric_name,
    predict_raw,
)

DEFAULT_WIDTHS = (1, 2, 3, 4, 6, 8, 16, 32)
DEFAULT_DEPTHS = (1, 2, 3, 4)
DEFAULT_SEEDS = (0, 1, 2)
DEFAULT_CHUNK = 200  # steps per compiled call: one progress update each
MAX_NETS = 4096  # networks in one sweep, to bound memory and time


class SweepProgress(NamedTuple):
    """One progress event. ``fraction`` runs from 0 to 1; the last event has the result.

    phase: "train" (one chunk of one depth done), "regions" (one depth's regions counted)
    or "done". steps_done: training steps finished at the current depth.
    """

    phase: str
    depth: int
    steps_done: int
    steps: int
    events_done: int
    events_total: int
    elapsed_s: float
    result: "SweepResult | None" = None

    @property
    def fraction(self) -> float:
        return self.events_done / self.events_total


@dataclass
class SweepResult:
    """Everything a sweep found. Arrays indexed [depth index, width index, seed index].

    train_loss, test_loss, train_metric, test_metric: (D, W, S) float, after the last step
    (metric: R² for regression, accuracy for classes). n_params: (D, W, S) int.
    regions: (D, W, S) float, exact linear regions in ``box``, NaN where not counted.
    loss_curve: (D, W, S, steps) full-batch training loss before each step.
    padded: per depth, its params padded to the largest width, one pair per layer:
    (weights (W, S, P_in, P_out), biases (W, S, P_out)); ``params_for`` cuts one out.
    """

    problem: str
    task: str
    n_classes: int
    activation: str
    optimizer: str
    learning_rate: float
    steps: int
    widths: tuple[int, ...]
    depths: tuple[int, ...]
    seeds: tuple[int, ...]
    box: tuple[float, float, float, float]
    train_loss: np.ndarray
    test_loss: np.ndarray
    train_metric: np.ndarray
    test_metric: np.ndarray
    n_params: np.ndarray
    regions: np.ndarray
    loss_curve: np.ndarray
    padded: dict[int, list[tuple[np.ndarray, np.ndarray]]] = field(repr=False)
    seconds: dict[str, float] = field(default_factory=dict)  # "train" and "regions" time
    regions_note: str = ""  # why regions were not counted, in plain words

    @property
    def metric(self) -> str:
        return metric_name(self.task)

    def index(self, depth: int, width: int, seed: int) -> tuple[int, int, int]:
        try:
            return self.depths.index(depth), self.widths.index(width), self.seeds.index(seed)
        except ValueError:
            raise PlaygroundError(
                f"no network of depth {depth}, width {width}, seed {seed} in this sweep"
            ) from None

    def spec(self, depth: int, width: int) -> ModelSpec:
        """The engine's spec of the unpadded network (depth hidden layers of ``width``)."""
        return _spec(depth, width, self.activation, self.task, self.n_classes)

    def params_for(self, depth: int, width: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
        """The trained network, unpadded: [(W (fan_in, fan_out), b (fan_out,)), ...]."""
        _, wi, si = self.index(depth, width, seed)
        net = _unpad(self.padded[depth], self.spec(depth, width).sizes, wi, si)
        return [(np.array(w), np.array(b)) for w, b in net]


# -- padding ------------------------------------------------------------------------------
def _spec(depth: int, width: int, activation: str, task: str, n_classes: int) -> ModelSpec:
    return ModelSpec(RAW_FEATURES, (width,) * depth, activation, task, n_classes)


def padded_masks(sizes: Sequence[int], padded_sizes: Sequence[int]) -> list[tuple]:
    """0/1 masks [(M_W (P_in, P_out), m_b (P_out,)), ...] that keep only the small net.

    ``sizes`` are the small net's layer sizes, ``padded_sizes`` the padded ones.
    """
    masks = []
    for n_in, n_out, p_in, p_out in zip(
        sizes[:-1], sizes[1:], padded_sizes[:-1], padded_sizes[1:], strict=True
    ):
        keep_in = np.arange(p_in) < n_in
        keep_out = np.arange(p_out) < n_out
        mw = (keep_in[:, None] & keep_out[None, :]).astype(np.float32)
        masks.append((mw, keep_out.astype(np.float32)))
    return masks


def embed(params, padded_sizes: Sequence[int]) -> list[tuple[np.ndarray, np.ndarray]]:
    """Small params in the top-left corner of zero arrays of the padded shapes
    [(W (P_in, P_out), b (P_out,)), ...]. NumPy, so no shape compiles anything."""
    out = []
    for (w, b), p_in, p_out in zip(params, padded_sizes[:-1], padded_sizes[1:], strict=True):
        w, b = np.asarray(w, np.float32), np.asarray(b, np.float32)
        pad_w = ((0, p_in - w.shape[0]), (0, p_out - w.shape[1]))
        out.append((np.pad(w, pad_w), np.pad(b, (0, p_out - b.shape[0]))))
    return out


def apply_masks(params, masks):
    """params * masks, leaf by leaf: padded units switched off (and their gradient zero)."""
    return jax.tree.map(lambda p, m: p * m, params, masks)


# -- the compiled work ----------------------------------------------------------------------
def _train_one(params, opt_state, masks, x, y, lr, *, spec: ModelSpec, optimizer, n_steps):
    """``n_steps`` full-batch steps of one (padded) network; also its loss before each step."""
    tx = make_optimizer(optimizer)

    def loss_fn(p):
        # Masking inside the loss masks the gradient too: d(p * m)/dp = m.
        return data_loss(predict_raw(apply_masks(p, masks), x, spec), y, spec.task)

    def step(carry, _):
        p, s = carry
        loss, grads = jax.value_and_grad(loss_fn)(p)
        updates, s = tx.update(grads, s, p)
        return (optax.apply_updates(p, updates), s), loss

    # The learning rate lives in the optimizer state (as in the engine's train_chunk).
    hyper = {**opt_state.hyperparams, "learning_rate": jnp.asarray(lr, jnp.float32)}
    carry = (params, opt_state._replace(hyperparams=hyper))
    (params, opt_state), losses = jax.lax.scan(step, carry, None, length=n_steps)
    return params, opt_state, losses


@partial(jax.jit, static_argnames=("spec", "optimizer", "n_steps"))
def train_nets(params, opt_state, masks, x, y, lr, *, spec: ModelSpec, optimizer, n_steps):
    """Train N padded networks at once: every leaf of params, opt_state, masks has a
    leading axis of N; x (n, 2) and y (n,) are shared. Returns params, opt_state and
    losses (N, n_steps)."""
    one = partial(_train_one, spec=spec, optimizer=optimizer, n_steps=n_steps)
    return jax.vmap(one, in_axes=(0, 0, 0, None, None, None))(params, opt_state, masks, x, y, lr)


@partial(jax.jit, static_argnames=("spec",))
def evaluate_nets(params, masks, x_train, y_train, x_test, y_test, *, spec: ModelSpec):
    """The engine's ``evaluate`` for N padded networks: a dict of (N,) arrays."""
    one = lambda p, m: evaluate(  # noqa: E731
        apply_masks(p, m), x_train, y_train, x_test, y_test, spec=spec
    )
    return jax.vmap(one)(params, masks)


def _stack(trees):
    """A list of equal pytrees of NumPy arrays -> one pytree of (N, ...) device arrays."""
    return jax.tree.map(lambda *a: jnp.asarray(np.stack(a)), *trees)


def _chunks(steps: int, chunk: int) -> list[int]:
    """Chunk lengths summing to ``steps``: full chunks, then one shorter if needed."""
    full, rest = divmod(steps, chunk)
    return [chunk] * full + ([rest] if rest else [])


# -- checks ---------------------------------------------------------------------------------
def _ints(name: str, values, lo: int, hi: int) -> tuple[int, ...]:
    try:
        out = tuple(int(v) for v in values)
    except (TypeError, ValueError):
        raise PlaygroundError(f"{name} must be whole numbers") from None
    if not out:
        raise PlaygroundError(f"give at least one value for {name}")
    if len(set(out)) != len(out):
        raise PlaygroundError(f"{name} must not repeat a value")
    if any(not lo <= v <= hi for v in out):
        raise PlaygroundError(f"{name} must lie between {lo} and {hi}")
    return out


def _check(widths, depths, seeds, steps, chunk, activation, optimizer):
    widths = tuple(sorted(_ints("widths", widths, 1, MAX_WIDTH)))
    depths = tuple(sorted(_ints("depths", depths, 1, MAX_DEPTH)))
    seeds = _ints("seeds", seeds, 0, 2**31 - 1)
    if int(steps) < 1 or int(chunk) < 1:
        raise PlaygroundError("steps and chunk must be at least 1")
    if activation not in ACTIVATIONS:
        raise PlaygroundError(f"unknown activation {activation!r}")
    if optimizer not in OPTIMIZERS:
        raise PlaygroundError(f"unknown optimizer {optimizer!r}")
    if len(widths) * len(depths) * len(seeds) > MAX_NETS:
        raise PlaygroundError(f"a sweep trains at most {MAX_NETS} networks")
    return widths, depths, seeds


def _region_counter(activation: str) -> tuple[Callable | None, str]:
    """geometry.region_count when it can count this net's regions, else (None, why)."""
    if activation not in PIECEWISE_LINEAR:
        return None, f"{activation} is not piecewise linear: it has no linear regions"
    try:
        from playground.analysis.geometry import region_count
    except ImportError:
        return None, "region counting is not available (playground.analysis.geometry is missing)"
    return region_count, ""


# -- the sweep ------------------------------------------------------------------------------
PAD_MODES = ("max", "pow2", "none")
# Below this width a step costs about the same whatever the width (overhead, not
# arithmetic), so "pow2" pads the smallest widths together: fewer calls and compiles.
MIN_PAD = 8


def width_groups(widths: Sequence[int], pad: str) -> list[tuple[int, tuple[int, ...]]]:
    """Which widths train together, each as (padded width, indices into ``widths``).

    "max": all widths in one call, padded to the largest (fewest compiles). "pow2" (the
    default): widths padded up to the next power of two, at least ``MIN_PAD`` and at most
    the largest width, one call per size. "none": one call per width (vmap over seeds).

    Measured on 2 CPU cores, the default sweep (widths 1-32, depths 1-4, 3 seeds, 2000
    steps): "max" spends most of its time on the padding of the small widths (about 5x
    slower warm); MIN_PAD 1, 4, 8 train warm in 6.5, 6.3, 7.0 s, but compile 59, 41, 35 s
    cold (fewer groups, fewer compiles).
    """
    if pad not in PAD_MODES:
        raise PlaygroundError(f"pad must be one of {', '.join(PAD_MODES)}")
    if pad == "max":
        return [(max(widths), tuple(range(len(widths))))]
    top = max(widths)
    pow2 = lambda w: min(max(1 << (w - 1).bit_length(), MIN_PAD), top)  # noqa: E731
    size = pow2 if pad == "pow2" else (lambda w: w)
    groups: dict[int, list[int]] = {}
    for i, w in enumerate(widths):
        groups.setdefault(size(w), []).append(i)
    return [(p, tuple(ix)) for p, ix in sorted(groups.items())]


def _unpad(padded, sizes: Sequence[int], wi: int, si: int) -> list[tuple]:
    """One network's params cut out of (W, S, P_in, P_out) / (W, S, P_out) arrays."""
    return [
        (w[wi, si, :n_in, :n_out], b[wi, si, :n_out])
        for (w, b), n_in, n_out in zip(padded, sizes[:-1], sizes[1:], strict=True)
    ]


def start_params(sizes: Sequence[int], seed: int) -> list[tuple]:
    """The params ``init_state`` starts from with ``key=jax.random.key(seed)`` (the first
    half of its key split), so a sweep net with seed s starts where a live run with seed s
    does.

    Called eagerly on purpose: each random draw then compiles once per shape (~0.1 s) and
    is reused by every seed and depth, while one jit (or vmap) over all of a sweep's draws
    compiles for many seconds (threefry is slow to compile on CPU).
    """
    pkey, _ = jax.random.split(jax.random.key(seed))
    return init_params(sizes, key=pkey)


@partial(jax.jit, static_argnames=("optimizer",))
def init_opt_states(params, *, optimizer: str):
    """Fresh optimizer states for N networks (leaves of params lead with N)."""
    return jax.vmap(make_optimizer(optimizer).init)(params)


def _put(padded, params, ix, n_seeds: int) -> None:
    """Write a group's params (leaves (len(ix) * S, p_in, p_out)) into the depth's padded
    arrays (W, S, P_in, P_out) at widths ``ix``; the rest of each row stays zero."""
    for (pw, pb), (w, b) in zip(padded, params, strict=True):
        pw[ix, :, : w.shape[1], : w.shape[2]] = np.asarray(w).reshape(-1, n_seeds, *w.shape[1:])
        pb[ix, :, : b.shape[1]] = np.asarray(b).reshape(-1, n_seeds, b.shape[1])


class _Group:
    """Networks of one depth trained in one vmapped call; leaves lead with (len(ix) * S)."""

    def __init__(self, depth, pad_width, ix, widths, seeds, *, spec_of, optimizer):
        self.ix = np.asarray(ix)  # indices into the sweep's widths
        self.spec = spec_of(depth, pad_width)
        padded_sizes = tuple(self.spec.sizes)
        all_sizes = tuple(tuple(spec_of(depth, widths[i]).sizes) for i in ix)
        masks = [padded_masks(sizes, padded_sizes) for sizes in all_sizes for _ in seeds]
        nets = [embed(start_params(sz, seed), padded_sizes) for sz in all_sizes for seed in seeds]
        self.masks, self.params = _stack(masks), _stack(nets)
        self.opt_state = init_opt_states(self.params, optimizer=optimizer)


def iter_sweep(
    problem: str = "product",
    widths: Sequence[int] = DEFAULT_WIDTHS,
    depths: Sequence[int] = DEFAULT_DEPTHS,
    seeds: Sequence[int] = DEFAULT_SEEDS,
    steps: int = 2000,
    lr: float = 0.01,
    n_points: int = 500,
    activation: str = "relu",
    *,
    optimizer: str = "adam",
    noise: float = 0.0,
    train_ratio: float = 0.5,
    data_seed: int = 0,
    classes: int = 2,
    chunk: int = DEFAULT_CHUNK,
    pad: str = "pow2",
    regions: bool = True,
    box=BOX,
) -> Iterator[SweepProgress]:
    """Train the sweep, yielding a ``SweepProgress`` after every chunk of every depth,
    after counting each depth's regions (when ``regions`` and geometry can), and once at
    the end with ``phase="done"`` and ``result`` set.

    So there are len(depths) * (ceil(steps / chunk) + counted) + 1 events, where counted
    is 1 when regions are counted, else 0. ``pad`` says which widths share a call
    (``width_groups``); it changes the speed, not the result (beyond float rounding).
    """
    widths, depths, seeds = _check(widths, depths, seeds, steps, chunk, activation, optimizer)
    groups = width_groups(widths, pad)
    steps, plan = int(steps), _chunks(int(steps), int(chunk))
    counter, note = _region_counter(activation) if regions else (None, "not asked for")
    data = make_dataset(
        problem,
        n_points=n_points,
        noise=noise,
        train_ratio=train_ratio,
        seed=data_seed,
        classes=classes,
    )
    arrays = [jnp.asarray(a) for a in (data.x_train, data.y_train, data.x_test, data.y_test)]
    spec_of = partial(_spec, activation=activation, task=data.task, n_classes=data.n_classes)
    n_w, n_s = len(widths), len(seeds)
    grid = (len(depths), n_w, n_s)
    res = {k: np.full(grid, np.nan) for k in ("train_loss", "test_loss", "train_metric")}
    res["test_metric"] = np.full(grid, np.nan)
    res["regions"] = np.full(grid, np.nan)
    n_params = np.zeros(grid, np.int64)
    curves = np.full((*grid, steps), np.nan, np.float32)
    padded, seconds = {}, {"train": 0.0, "regions": 0.0}
    total = len(depths) * (len(plan) + (counter is not None)) + 1
    events, t0 = 0, time.perf_counter()

    def event(phase, depth, done, result=None):
        nonlocal events
        events += 1
        elapsed = time.perf_counter() - t0
        return SweepProgress(phase, depth, done, steps, events, total, elapsed, result)

    for di, depth in enumerate(depths):
        t_train = time.perf_counter()
        big = spec_of(depth, widths[-1])
        n_params[di] = np.array([param_count(spec_of(depth, w).sizes) for w in widths])[:, None]
        todo = [
            _Group(depth, p, ix, widths, seeds, spec_of=spec_of, optimizer=optimizer)
            for p, ix in groups
        ]
        done = 0
        for n in plan:
            for g in todo:
                g.params, g.opt_state, losses = train_nets(
                    g.params, g.opt_state, g.masks, arrays[0], arrays[1], lr,
                    spec=g.spec, optimizer=optimizer, n_steps=n,
                )  # fmt: skip
                curves[di, g.ix, :, done : done + n] = np.asarray(losses).reshape(-1, n_s, n)
            done += n
            seconds["train"] += time.perf_counter() - t_train
            yield event("train", depth, done)
            t_train = time.perf_counter()
        # Every group's nets go into arrays padded to this depth's largest width.
        padded[depth] = [
            (np.zeros((n_w, n_s, a, b), np.float32), np.zeros((n_w, n_s, b), np.float32))
            for a, b in zip(big.sizes[:-1], big.sizes[1:], strict=True)
        ]
        for g in todo:
            scores = evaluate_nets(g.params, g.masks, *arrays, spec=g.spec)
            for k, v in scores.items():
                res[k][di, g.ix] = np.asarray(v).reshape(-1, n_s)
            _put(padded[depth], g.params, g.ix, n_s)
        seconds["train"] += time.perf_counter() - t_train
        if counter is not None:
            t_regions = time.perf_counter()
            for wi, width in enumerate(widths):
                sizes = spec_of(depth, width).sizes
                for si in range(n_s):
                    net = _unpad(padded[depth], sizes, wi, si)
                    res["regions"][di, wi, si] = _count(counter, net, activation, box)
            seconds["regions"] += time.perf_counter() - t_regions
            yield event("regions", depth, done)

    result = SweepResult(
        problem=problem,
        task=data.task,
        n_classes=data.n_classes,
        activation=activation,
        optimizer=optimizer,
        learning_rate=float(lr),
        steps=steps,
        widths=widths,
        depths=depths,
        seeds=seeds,
        box=tuple(float(v) for v in box),
        n_params=n_params,
        loss_curve=curves,
        padded=padded,
        seconds=seconds,
        regions_note=note,
        **res,
    )
    yield event("done", depths[-1], steps, result)


def _count(counter, params, activation, box) -> float:
    """Exact region count of one net; NaN where the exact partition gives up (too many)."""
    try:
        return float(counter(params, activation, box))
    except PlaygroundError:
        return math.nan


def sweep(
    problem: str = "product",
    widths: Sequence[int] = DEFAULT_WIDTHS,
    depths: Sequence[int] = DEFAULT_DEPTHS,
    seeds: Sequence[int] = DEFAULT_SEEDS,
    steps: int = 2000,
    lr: float = 0.01,
    n_points: int = 500,
    activation: str = "relu",
    on_progress: Callable[[SweepProgress], None] | None = None,
    **kwargs,
) -> SweepResult:
    """Train the whole grid and return its ``SweepResult``.

    ``on_progress`` is called with every event of ``iter_sweep`` (the last one is "done").
    Other keyword arguments (optimizer, noise, chunk, regions, ...) go to ``iter_sweep``.
    """
    for ev in iter_sweep(problem, widths, depths, seeds, steps, lr, n_points, activation, **kwargs):
        if on_progress is not None:
            on_progress(ev)
        if ev.result is not None:
            return ev.result
    raise AssertionError("iter_sweep ended without a result")  # pragma: no cover


# -- reading the result ---------------------------------------------------------------------
def sweep_table(result: SweepResult) -> list[dict]:
    """Tidy rows, one per network: depth, width, seed, n_params, losses, metric, regions."""
    rows = []
    for di, depth in enumerate(result.depths):
        for wi, width in enumerate(result.widths):
            for si, seed in enumerate(result.seeds):
                at = (di, wi, si)
                regions = result.regions[at]
                rows.append(
                    {
                        "depth": depth,
                        "width": width,
                        "seed": seed,
                        "n_params": int(result.n_params[at]),
                        "train_loss": float(result.train_loss[at]),
                        "test_loss": float(result.test_loss[at]),
                        "train_metric": float(result.train_metric[at]),
                        "test_metric": float(result.test_metric[at]),
                        "metric": result.metric,
                        "regions": None if math.isnan(regions) else int(regions),
                    }
                )
    return rows


def over_seeds(values: np.ndarray, how: str = "median") -> np.ndarray:
    """(D, W, S) -> (D, W): the median (or mean, min, max) over seeds, ignoring NaN."""
    fn = {"median": np.nanmedian, "mean": np.nanmean, "min": np.nanmin, "max": np.nanmax}[how]
    with warnings.catch_warnings():  # an all-NaN cell (regions not counted) stays NaN
        warnings.simplefilter("ignore", RuntimeWarning)
        return fn(values, axis=-1)


def sweep_summary(result, threshold: float | None = None) -> list[str]:
    """For each depth, the smallest width whose median test score reaches ``threshold``
    (R² 0.95 or accuracy 0.95 by default), in sentences."""
    label = METRIC_LABELS[result.metric]
    threshold = 0.95 if threshold is None else float(threshold)
    metric = over_seeds(result.test_metric)
    lines = []
    for di, depth in enumerate(result.depths):
        reached = [w for w, m in zip(result.widths, metric[di], strict=True) if m >= threshold]
        layers = f"{depth:,} hidden layer" + ("" if depth == 1 else "s")
        if reached:
            h = min(reached)
            lines.append(
                f"{layers}: H = {h} reaches test {label} ≥ {threshold:g} "
                f"({depth * h} ReLUs in all)."
            )
        else:
            best = float(np.nanmax(metric[di])) if np.isfinite(metric[di]).any() else float("nan")
            lines.append(
                f"{layers}: no width tried reaches test {label} ≥ {threshold:g} (best {best:.3f})."
            )
    return lines
