"""The live run: data, network and optimizer state between page reruns, trained in
time-budgeted chunks, with a bounded history. No Streamlit here, so tests and the CLI
drive it directly.
"""

import functools
import os
import threading
import time
from collections import deque
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import count, pairwise

import jax
import jax.numpy as jnp
import numpy as np

from playground.core.config import FORMULA_PROBLEM, UPLOAD_PROBLEM, RunConfig, reset_fields
from playground.core.datasets import BOX, Dataset, grid_points, make_dataset, split
from playground.core.errors import PlaygroundError
from playground.core.features import feature_map
from playground.core.model import hidden_activations
from playground.core.modelfile import SavedModel
from playground.core.train import (
    ModelSpec,
    batch_plan,
    divergence_message,
    evaluate,
    hyper_from,
    init_state,
    make_optimizer,
    predict,
    reset_optimizer,
    train_chunk,
)

# Scan lengths are part of the compiled shape, so chunks come from a short ladder.
CHUNK_LADDER = (1, 16, 256, 2048)
MAX_HISTORY = 600
MAX_SNAPSHOTS = 64  # a few seconds of pictures; a page that reads slower skips the oldest
# A picture (or the bends) that cost c seconds waits at least this many times c of
# training before the next: pictures never take more than a quarter of the trainer's
# time. Small nets get ~25 pictures/s; a 1024x3 net (~0.3 s a grid) about one.
SNAPSHOT_COST_FACTOR = 3.0
_SNAPSHOT_SEQ = count(1)  # next() is atomic under the GIL


def enable_compile_cache(path: str | None = None) -> None:
    """Keep compiled chunks on disk, so a new process or session starts in milliseconds."""
    path = path or os.environ.get(
        "PLAYGROUND_JAX_CACHE", os.path.join(os.path.expanduser("~"), ".cache", "playground-jax")
    )
    jax.config.update("jax_compilation_cache_dir", path)
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", -1)


def dataset_for(cfg: RunConfig, upload: Dataset | None = None) -> Dataset:
    """The dataset a config asks for: a registered problem, a formula, or an upload."""
    if cfg.problem == UPLOAD_PROBLEM:
        if upload is None:
            raise PlaygroundError("no uploaded data yet: upload a CSV file first")
        return upload
    if cfg.problem == FORMULA_PROBLEM:
        from playground.userdata.points import formula_dataset, parse_formula

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


def spec_for(cfg: RunConfig, data: Dataset) -> ModelSpec:
    return ModelSpec(
        tuple(cfg.features), tuple(cfg.hidden), cfg.activation, data.task, data.n_classes
    )


@dataclass
class History:
    """Per-frame records, thinned by half whenever they pass ``limit`` rows."""

    limit: int = MAX_HISTORY

    def __post_init__(self):
        self.rows: dict[str, list] = {}
        self._lock = threading.Lock()  # the trainer appends while a page reads

    def append(self, **values) -> None:
        with self._lock:
            for k, v in values.items():
                self.rows.setdefault(k, []).append(v)
            if len(self.rows["step"]) > self.limit:
                for k in self.rows:
                    self.rows[k] = self.rows[k][::2]

    def copy(self) -> "History":
        """A consistent snapshot (all columns the same length) for drawing."""
        other = History(self.limit)
        with self._lock:
            other.rows = {k: list(v) for k, v in self.rows.items()}
        return other

    def __len__(self) -> int:
        return len(self.rows.get("step", []))

    def array(self, key: str) -> np.ndarray:
        return np.asarray(self.rows.get(key, []), dtype=np.float64)

    def to_csv(self) -> bytes:
        """Every record as CSV; per-layer gradients become columns grad_rms_1, ... ."""
        rows = self.copy().rows
        keys = [k for k in rows if k != "grad_rms"]
        grads = np.stack(rows["grad_rms"]) if rows.get("grad_rms") else None
        n_layers = 0 if grads is None else grads.shape[1]
        header = keys + [f"grad_rms_{i + 1}" for i in range(n_layers)]
        lines = [",".join(header)]
        for r in range(len(rows.get("step", []))):
            values = [rows[k][r] for k in keys]
            values += [] if grads is None else list(grads[r])
            lines.append(",".join(f"{float(v):.9g}" for v in values))
        return ("\n".join(lines) + "\n").encode()


@dataclass(frozen=True)
class Snapshot:
    """One picture of the run as it was at one moment of training: the output on a grid
    and the exact bends. The trainer takes ~25 a second (fewer for big nets), so a page
    can play them back at the pace they were taken, however rarely it is refreshed."""

    seq: int  # increasing over the whole process, so pictures of two runs never tie
    t: float  # time.monotonic() when taken
    step: int
    epoch: float
    xs: np.ndarray
    ys: np.ndarray
    grid: np.ndarray  # predictions (n, n[, K]), rows follow ys
    bends: list  # geometry.Bend of every hidden unit, [] when not drawable


class Snapshots:
    """The latest snapshots of one run (a bounded ring), safe to read while it trains."""

    def __init__(self, limit: int = MAX_SNAPSHOTS):
        self._ring: deque[Snapshot] = deque(maxlen=limit)
        self._lock = threading.Lock()

    def add(self, snap: Snapshot) -> None:
        with self._lock:
            self._ring.append(snap)

    def since(self, seq: int) -> list[Snapshot]:
        """Snapshots newer than ``seq``, oldest first."""
        with self._lock:
            return [s for s in self._ring if s.seq > seq]


@dataclass
class Metrics:
    train_loss: float
    test_loss: float
    train_metric: float
    test_metric: float


class LiveRun:
    """One learner's run. Methods change it in place; figures read ``snapshot`` values."""

    def __init__(self, cfg: RunConfig, *, upload: Dataset | None = None, saved=None):
        self.cfg = cfg
        self.upload = upload
        self.message = ""  # why training paused, in plain words; "" when all is well
        self.bends_note = ""  # why the exact bends are not drawn; "" when they are
        self._rate = None  # measured steps per second, for budgeting
        self._compiled: set[tuple] = set()
        self._build(saved)

    # -- building -----------------------------------------------------------------
    def _build(self, saved: SavedModel | None = None) -> None:
        self.data = dataset_for(self.cfg, self.upload)
        self.spec = spec_for(self.cfg, self.data)
        key = jax.random.key(self.cfg.seed)
        self.state = init_state(
            self.spec, self.cfg.optimizer, key=key, init=self.cfg.init, sigma=self.cfg.init_sigma
        )
        if saved is not None:
            self._adopt(saved)
        self._arrays = tuple(
            jnp.asarray(a)
            for a in (self.data.x_train, self.data.y_train, self.data.x_test, self.data.y_test)
        )
        self.history = History()
        self.snapshots = Snapshots()
        self.message = ""
        self.metrics = self._evaluate()
        self._record(np.full(len(self.spec.sizes) - 1, np.nan), self.metrics.train_loss)

    def _adopt(self, saved: SavedModel) -> None:
        want = list(pairwise(self.spec.sizes))
        have = [tuple(w.shape) for w, _ in saved.params]
        if want != have:
            raise PlaygroundError(
                f"the file's layers {have} do not fit this network's {want}; "
                "adopt the file's architecture to load it"
            )
        params = [(jnp.asarray(w), jnp.asarray(b)) for w, b in saved.params]
        self.state = self.state._replace(
            params=params, opt_state=make_optimizer(self.cfg.optimizer).init(params)
        )

    def apply(self, new: RunConfig, *, upload: Dataset | None = None) -> list[str]:
        """Switch to a new config. Data or model changes restart; the rest applies live.

        Returns notices to show. On a bad config the old run stays and the error rises.
        """
        changed = reset_fields(self.cfg, new)
        if upload is not None and upload is not self.upload:
            changed.append("uploaded data")
        old = (self.cfg, self.upload, self.data, self.spec, self.state, self.history, self.metrics)
        old_opt = self.cfg.optimizer
        self.cfg = new
        if upload is not None:
            self.upload = upload
        if changed:
            try:
                self._build()
            except Exception:
                (self.cfg, self.upload, self.data, self.spec, self.state, self.history,
                 self.metrics) = old  # fmt: skip
                raise
            return [f"Changed {', '.join(changed)}: started a new run."]
        if new.optimizer != old_opt:
            self.state = reset_optimizer(self.state, new.optimizer)
        return []

    def reset(self) -> None:
        """Fresh weights (same seed: same start) and an empty history."""
        self._build()

    def load(self, saved: SavedModel) -> None:
        """Continue from a saved model whose shapes fit the current architecture."""
        self._adopt(saved)
        self.history = History()
        self.snapshots = Snapshots()
        self.metrics = self._evaluate()
        self._record(np.full(len(self.spec.sizes) - 1, np.nan), self.metrics.train_loss)

    # -- training -----------------------------------------------------------------
    @property
    def steps_per_epoch(self) -> int:
        return batch_plan(len(self.data.x_train), self.cfg.batch_size)[1]

    @property
    def step(self) -> int:
        return int(self.state.step)

    @property
    def epoch(self) -> int:
        return self.step // self.steps_per_epoch

    @property
    def diverged(self) -> bool:
        return int(self.state.diverged_at) >= 0

    def resume(self) -> None:
        """Clear a divergence so training goes on from the last good weights."""
        self.state = self.state._replace(diverged_at=jnp.full((), -1, jnp.int32))
        self.message = ""

    def _chunk(self, n_steps: int):
        c = self.cfg
        hyper = hyper_from(c.learning_rate, c.reg, c.reg_rate, c.dropout)
        x, y = self._arrays[0], self._arrays[1]
        self.state, log = train_chunk(
            self.state,
            x,
            y,
            hyper,
            spec=self.spec,
            optimizer=c.optimizer,
            batch_size=c.batch_size,
            n_steps=n_steps,
            use_dropout=c.dropout > 0,
        )
        return log

    def train_steps(self, n: int) -> int:
        """Train exactly n steps (fewer if it diverges); returns the steps taken.

        ``warm_steps`` and ``warm_seconds`` count only chunks that did not compile.
        """
        start, logs = self.step, []
        self.warm_steps, self.warm_seconds, self.compile_seconds = 0, 0.0, 0.0
        remaining = int(n)
        while remaining > 0 and not self.diverged:
            size = max(s for s in CHUNK_LADDER if s <= remaining)
            key = self._compile_key(size)
            t = time.perf_counter()
            logs.append(self._chunk(size))
            jax.block_until_ready(self.state.step)
            dt = time.perf_counter() - t
            if key in self._compiled:
                self.warm_steps, self.warm_seconds = self.warm_steps + size, self.warm_seconds + dt
            else:
                self.compile_seconds += dt
            self._compiled.add(key)
            remaining -= size
        self._finish(logs)
        return self.step - start

    def _compile_key(self, size: int) -> tuple:
        c = self.cfg
        return (self.spec, c.optimizer, c.batch_size, c.dropout > 0, size)

    def train_for(self, seconds: float) -> int:
        """Train in chunks until ``seconds`` have passed; returns the steps taken.

        The speed is measured only on chunks that were compiled before, so a compile
        never makes the next frame plan thousands of steps too many.
        """
        start_step, logs = self.step, []
        t0 = time.perf_counter()
        while not self.diverged:
            left = seconds - (time.perf_counter() - t0)
            if left <= 0:
                break
            want = CHUNK_LADDER[1] if self._rate is None else self._rate * left
            fitting = [s for s in CHUNK_LADDER if s <= want]
            if not fitting and logs:
                break  # each call costs ~1 ms of dispatch: no one-step chunks to fill a gap
            size = max(fitting or [CHUNK_LADDER[0]])
            key = self._compile_key(size)
            t = time.perf_counter()
            logs.append(self._chunk(size))
            jax.block_until_ready(self.state.step)
            dt = time.perf_counter() - t
            if key in self._compiled and dt > 0:
                self._rate = size / dt
            self._compiled.add(key)
        self._finish(logs)
        return self.step - start_step

    def _finish(self, logs) -> None:
        if not logs:
            return
        loss = np.concatenate([np.asarray(lg.loss) for lg in logs])
        grads = np.concatenate([np.asarray(lg.grad_rms) for lg in logs])
        if self.diverged:
            at = int(self.state.diverged_at)
            self.message = divergence_message(at, self.cfg.learning_rate)
            good = loss[np.isfinite(loss)]
            loss = good if good.size else loss
            grads = grads[np.isfinite(grads).all(axis=1)] if np.isfinite(grads).any() else grads
        self.metrics = self._evaluate()
        with np.errstate(all="ignore"):
            self._record(np.nanmean(grads, axis=0) if len(grads) else grads, np.nanmean(loss))

    def _evaluate(self) -> Metrics:
        r = evaluate(self.state.params, *self._arrays, spec=self.spec)
        return Metrics(**{k: float(v) for k, v in r.items()})

    def _record(self, grad_rms, batch_loss) -> None:
        m = self.metrics
        self.history.append(
            step=self.step,
            epoch=self.step / self.steps_per_epoch,
            train_loss=m.train_loss,
            test_loss=m.test_loss,
            train_metric=m.train_metric,
            test_metric=m.test_metric,
            batch_loss=float(batch_loss),
            grad_rms=np.asarray(grad_rms, np.float64),
        )

    # -- reading ------------------------------------------------------------------
    def params_numpy(self) -> list[tuple[np.ndarray, np.ndarray]]:
        return [(np.asarray(w), np.asarray(b)) for w, b in self.state.params]

    def predict(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(_predict(self.state.params, jnp.asarray(x, jnp.float32), self.spec))

    def output_grid(self, n: int = 100, box=BOX) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Axis values xs (n,), ys (n,) and predictions on the grid, (n, n[, K]) row = y."""
        xs, ys, pts = _grid(n, tuple(box))
        pred = np.asarray(_predict(self.state.params, pts, self.spec))
        return xs, ys, pred.reshape((n, n, *pred.shape[1:]))

    def unit_grids(self, n: int = 25, box=BOX) -> tuple[np.ndarray, np.ndarray, list]:
        """Every hidden unit's activation on an n x n grid: per layer (n, n, width)."""
        xs, ys, pts = _grid(n, tuple(box))
        acts = _unit_activations(self.state.params, pts, self.spec)
        return xs, ys, [np.asarray(a).reshape(n, n, -1) for a in acts]

    def geometry_note(self) -> str:
        """'' when exact bends can be drawn, else why not, in plain words."""
        from playground.analysis.geometry import geometry_supported

        ok, why = geometry_supported(self.spec.activation, self.spec.features)
        return "" if ok else why

    def bends(self, box=BOX) -> list:
        """Exact bends of every hidden unit (``geometry.Bend``), or [] when they cannot be
        drawn; ``bends_note`` then says why (it is "" when they were drawn)."""
        from playground.analysis.geometry import TooManyPieces, bends

        if not self.spec.hidden or self.geometry_note():
            return []
        # The trainer's pictures and the page's unit pictures ask for the same bends:
        # compute them once per set of weights.
        key = (self.state.params, box)
        hit = getattr(self, "_bends", None)
        if hit is None or hit[0][0] is not key[0] or hit[0][1] != box:
            try:
                found, self.bends_note = bends(self.params_numpy(), self.spec.activation, box), ""
            except TooManyPieces as err:
                found = []
                self.bends_note = (
                    f"the network cuts the plane into more than {err.limit:,} pieces, too "
                    "many to draw every bend exactly."
                )
            self._bends = (key, found)
        return self._bends[1]

    def snapshot(self, grid_n: int, *, bends: list | None = None) -> Snapshot:
        """The run as it is now: the output grid, and the exact bends (computed now when
        ``bends`` is None, else the given ones, e.g. [] or the last ones computed)."""
        xs, ys, grid = self.output_grid(grid_n)
        return Snapshot(
            seq=next(_SNAPSHOT_SEQ),
            t=time.monotonic(),
            step=self.step,
            epoch=self.step / self.steps_per_epoch,
            xs=xs,
            ys=ys,
            grid=grid,
            bends=self.bends() if bends is None else bends,
        )

    def saved_model(self) -> SavedModel:
        return SavedModel(
            self.params_numpy(),
            self.cfg.activation,
            tuple(self.cfg.features),
            {
                "task": self.spec.task,
                "n_classes": self.spec.n_classes,
                "problem": self.cfg.problem,
                "step": self.step,
            },
        )


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


class BackgroundTrainer:
    """Trains a LiveRun on a thread while a page draws it, so training speed does not
    wait for drawing (XLA releases the GIL while it runs).

    The page stops it before changing the run; frames read while it trains (weights and
    metrics are replaced whole, the history copies under its own lock) and call
    ``reading()`` as a heartbeat. The thread stops by itself when no frame came for
    ``idle_stop`` seconds (the tab was closed), when training diverges, or on ``stop()``.
    With ``snapshot_grid`` set, it takes a snapshot of the run every ``snapshot_every``
    seconds of wall time (training in between) into ``run.snapshots``, less often when
    pictures are costly (big nets: see SNAPSHOT_COST_FACTOR); costly bends are reused
    by the pictures between two computations of them.
    """

    # Each chunk call needs the GIL, which the server's threads also want, so slices are
    # long enough for 256+ step chunks. 25 pictures/s: some margin over 20 a second.
    def __init__(
        self, slice_seconds: float = 0.06, snapshot_every: float = 0.04, idle_stop: float = 3.0
    ):
        self.slice_seconds = slice_seconds
        self.snapshot_every = snapshot_every
        self.idle_stop = idle_stop
        self.error = ""
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._seen = time.monotonic()
        self.snapshot_grid: int | None = None
        self.snapshot_bends = True

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(
        self, run: LiveRun, *, snapshot_grid: int | None = None, snapshot_bends: bool = True
    ) -> None:
        """Train ``run`` on the thread (a no-op while it runs, besides the heartbeat)."""
        self._seen = time.monotonic()
        self.snapshot_grid, self.snapshot_bends = snapshot_grid, snapshot_bends
        if self.running:
            return
        self._stop.clear()
        self.error = ""
        self._thread = threading.Thread(
            target=self._loop, args=(run,), name="playground-trainer", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        self._thread = None

    @contextmanager
    def reading(self):
        """A frame is being drawn: the page is still open, keep training."""
        self._seen = time.monotonic()
        yield

    def _loop(self, run: LiveRun) -> None:
        due = bends_due = time.monotonic()
        last_bends: list = []
        while not self._stop.is_set() and not run.diverged:
            now = time.monotonic()
            if now - self._seen > self.idle_stop:
                break
            try:
                if not self.snapshot_grid:
                    run.train_for(self.slice_seconds)
                    continue
                # Train until the next picture is due.
                run.train_for(max(due - now, 0.005))
                start = time.monotonic()
                if self.snapshot_bends and start >= bends_due:
                    last_bends = run.bends()
                    bends_due = start + SNAPSHOT_COST_FACTOR * (time.monotonic() - start)
                middle = time.monotonic()
                bends = last_bends if self.snapshot_bends else []
                run.snapshots.add(run.snapshot(self.snapshot_grid, bends=bends))
                end = time.monotonic()
                due = max(due + self.snapshot_every, end + SNAPSHOT_COST_FACTOR * (end - middle))
            except Exception as err:  # a page must still show what went wrong
                self.error = f"Training stopped: {err}"
                break
