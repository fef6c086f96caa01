"""Which compiled training chunks this process has, and how fast each runs; compiling
the shapes a learner is likely to pick next, ahead, on a background thread.

XLA's compiled programs are cached per process (and on disk, with ``enable_compile_cache``),
so what a chunk shape costs is a fact about the process, not about one learner's run: a
second run of the same shape starts warm and knows its speed at once.

A slider change (a new width or depth) is a new compiled shape: ~1 s of compiling per
chunk length when nothing is cached, ~0.2 s each from the disk cache, for the 4 lengths
of ``run.CHUNK_LADDER``. ``precompile`` pays that before anyone asks, for the widths and
depths next to the one on screen, and records each shape in ``LEDGER`` as any run would,
so a page that asks ``LEDGER.compiled(shape)`` sees them as compiled.
"""

import contextlib
import math
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from typing import NamedTuple

import jax

from playground.core.config import RunConfig
from playground.core.errors import PlaygroundError
from playground.core.model import MAX_DEPTH
from playground.core.train import CONSTANT, ModelSpec, Schedule

MAX_SHAPES = 256  # chunk shapes remembered; older ones are forgotten (jit keeps its own)


def enable_compile_cache(path: str | None = None) -> None:
    """Keep compiled chunks on disk, so a new process or session starts in milliseconds."""
    path = path or os.environ.get(
        "PLAYGROUND_JAX_CACHE", os.path.join(os.path.expanduser("~"), ".cache", "playground-jax")
    )
    jax.config.update("jax_compilation_cache_dir", path)
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", -1)


class ChunkShape(NamedTuple):
    """Everything static about one compiled chunk: a new value means a new compile."""

    spec: ModelSpec
    optimizer: str
    batch_size: int
    use_dropout: bool
    n_steps: int
    schedule: Schedule = CONSTANT


class ChunkLedger:
    """Chunk shapes this process has run, with their measured steps per second."""

    def __init__(self, limit: int = MAX_SHAPES):
        self._speed: OrderedDict[ChunkShape, float | None] = OrderedDict()
        self._limit = limit
        self._lock = threading.Lock()  # trainers of many sessions record at once

    def compiled(self, shape: ChunkShape) -> bool:
        with self._lock:
            return shape in self._speed

    def record(self, shape: ChunkShape, seconds: float, *, warm: bool) -> None:
        """A chunk of this shape ran in ``seconds``; only warm runs measure its speed, and
        the fastest run is its speed: a slow one measured a busy server (waits for the
        interpreter lock, other threads), and chunks sized by that speed would shrink to
        single steps, each paying a call's overhead, which slows the next ones further."""
        with self._lock:
            old = self._speed.get(shape)
            speed = shape.n_steps / seconds if warm and seconds > 0 else None
            self._speed[shape] = max(speed or 0.0, old or 0.0) or None
            self._speed.move_to_end(shape)
            while len(self._speed) > self._limit:
                self._speed.popitem(last=False)

    def steps_per_s(self, shape: ChunkShape) -> float | None:
        """Measured speed of this shape (None until a warm run of it)."""
        with self._lock:
            return self._speed.get(shape)


LEDGER = ChunkLedger()


# -- compiling ahead --------------------------------------------------------------------
PRECOMPILE_SHAPES = 8  # networks next to the one on screen, nearest first
# Only the chunk a run starts with is compiled ahead (the ladder's second rung: a slider
# change trains again at once); the longer ones follow in the first second of training.
# Every compiled program stays in the process: the whole ladder for 12 networks held
# ~0.9 GB, measured with the load test.
PRECOMPILE_STEPS_RUNG = 1
PRECOMPILE_MAX_WIDTH = 32  # wider nets cost more to compile than a guess is worth
DEPTH_STEP = 0.3  # one layer more or less ranks like a width ~1.35x away
PRECOMPILE_DELAY_S = 3.0  # the first page is drawn before the thread starts working
PRECOMPILE_NICE = 10  # the thread yields the CPU to trainers and pages (Linux)
_started = threading.Lock()
_thread: threading.Thread | None = None


def neighbours(cfg: RunConfig, widths: Sequence[int], *, limit: int = PRECOMPILE_SHAPES):
    """Configs a learner reaches next from ``cfg`` by one slider: other widths at the same
    depth and other depths at the same width, nearest first (widths by ratio)."""
    if not cfg.hidden:
        width, depth = 8, 0
    else:
        width, depth = cfg.hidden[0], len(cfg.hidden)
    ranked = []
    if depth:
        for w in widths:
            if w != width and w <= PRECOMPILE_MAX_WIDTH:
                ranked.append((abs(math.log(w / width)), (w,) * depth))
    for d in range(MAX_DEPTH + 1):
        if d != depth and width <= PRECOMPILE_MAX_WIDTH:
            ranked.append((DEPTH_STEP * abs(d - depth), (width,) * d))
    ranked.sort(key=lambda r: r[0])
    return [cfg.replace(hidden=hidden) for _, hidden in ranked[:limit]]


def precompile(
    configs: Iterable[RunConfig],
    *,
    grids: Sequence[int] = (),
    unit_grid: int | None = None,
    steps: Sequence[int] | None = None,
    ledger: "ChunkLedger | None" = None,
    stop: threading.Event | None = None,
) -> dict[ChunkShape, float]:
    """Compile what a new run of each config needs before it trains and is drawn: its
    first weights and metrics, a train chunk of every length in ``steps`` (default: the
    one a run starts with, ``CHUNK_LADDER[PRECOMPILE_STEPS_RUNG]``), and the output on
    each grid size in ``grids`` (and the unit pictures on ``unit_grid``).

    Each chunk runs once on the config's own data (a small net's longest chunk takes
    milliseconds), which leaves jit's dispatch cache as warm as a real run would, and is
    recorded in ``ledger`` (default ``LEDGER``) as compiled. Shapes the ledger already
    has are skipped. Returns the seconds each new shape took.
    """
    from playground.live import run as R  # run imports this module

    ledger = LEDGER if ledger is None else ledger
    took: dict[ChunkShape, float] = {}
    if steps is None:
        steps = (R.CHUNK_LADDER[PRECOMPILE_STEPS_RUNG],)
    for cfg in configs:
        if stop is not None and stop.is_set():
            break
        try:
            run = R.new_run(cfg)
        except PlaygroundError:
            continue  # e.g. a formula or an upload: nothing to guess
        for n_steps in steps:
            shape = R.chunk_shape(run, n_steps)
            if ledger.compiled(shape):
                continue
            start = time.perf_counter()
            state, _ = R.train_one_chunk(run, n_steps)
            jax.block_until_ready(state.step)
            took[shape] = time.perf_counter() - start
            ledger.record(shape, took[shape], warm=False)
        for n in grids:
            R.output_grid(run, n)
            R.live_picture(run, n)
        if unit_grid:
            R.unit_grids(run, unit_grid)
    return took


def precompile_in_background(cfg: RunConfig, *, widths: Sequence[int], **kw):
    """Start ``precompile(neighbours(cfg, widths), **kw)`` on a daemon thread, once per
    process (later calls return the same thread). ``PLAYGROUND_PRECOMPILE=0`` turns it off
    (the tests do: it would compete with them for the CPU)."""
    global _thread
    if os.environ.get("PLAYGROUND_PRECOMPILE", "1") == "0":
        return None
    with _started:
        if _thread is None:
            configs = neighbours(cfg, widths)
            _thread = threading.Thread(
                target=_precompile_later,
                args=(configs,),
                kwargs=kw,
                name="playground-precompile",
                daemon=True,
            )
            _thread.start()
    return _thread


def _precompile_later(configs, **kw) -> None:
    time.sleep(PRECOMPILE_DELAY_S)
    # Linux gives each thread its own nice value: trainers and pages go first.
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), PRECOMPILE_NICE)
    # A guess that fails must not disturb the server: that run compiles when it comes.
    with contextlib.suppress(Exception):
        precompile(configs, **kw)
