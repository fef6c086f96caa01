"""Compiling the shapes a learner is likely to pick next, ahead, on a background thread.

A slider change (a new width or depth) is a new compiled shape: ~1 s of compiling per
chunk length when nothing is cached, ~0.2 s each from the disk cache, for the lengths of
``run.CHUNK_LADDER``. ``precompile`` pays that before anyone asks, for the widths and
depths next to the one on screen, and records each shape in the ledger
(``compile_cache.LEDGER``) as any run would, so a page that asks ``LEDGER.compiled(shape)``
sees them as compiled.

``python -m playground.live.server.precompile`` compiles the default network's neighbours
into the disk cache in a process of its own and exits: the class server runs it once for
all its replicas, which then load a shape from disk (~0.2 s) when a learner picks it,
rather than each holding every guess in memory (~240 MB a replica). Every app process
keeps the default network's own programs (``warm_in_background``), loaded at start.
"""

import contextlib
import functools
import math
import os
import sys
import threading
import time
from collections.abc import Iterable, Sequence

from playground.core.config import COMMON_WIDTHS, DEFAULT, RunConfig
from playground.core.errors import PlaygroundError
from playground.core.model import MAX_DEPTH
from playground.live.engine import cohort
from playground.live.engine import run as engine
from playground.live.engine.compile_cache import (
    EXITING,
    LEDGER,
    ChunkLedger,
    ChunkShape,
    compile_thread,
)
from playground.live.engine.limits import PRECOMPILE_ENV, PRECOMPILE_OWN
from playground.live.server.frames import GRID_N, THUMB_N
from playground.live.server.startup import start_process

PRECOMPILE_SHAPES = 8  # networks next to the one on screen, nearest first
# Only the chunk a run starts with is compiled ahead (the ladder's second rung: a slider
# change trains again at once); the longer ones follow in the first second of training.
# Every compiled program stays in the process: the whole ladder for 12 networks held
# ~0.9 GB, measured with the load test.
PRECOMPILE_STEPS_RUNG = 1
PRECOMPILE_MAX_WIDTH = 32  # wider nets cost more to compile than a guess is worth
DEPTH_STEP = 0.3  # one layer more or less ranks like a width ~1.35x away
PRECOMPILE_DELAY_S = 3.0  # the first page is drawn before the thread starts working
# The grids a live run draws on: its boundary picture and its units' thumbnails.
PICTURE_GRIDS = {"grids": (GRID_N,), "unit_grid": THUMB_N}
_started = threading.Lock()
_thread: threading.Thread | None = None


def neighbours(
    cfg: RunConfig, widths: Sequence[int] = COMMON_WIDTHS, *, limit: int = PRECOMPILE_SHAPES
):
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
    ledger: ChunkLedger | None = None,
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
    ledger = LEDGER if ledger is None else ledger
    took: dict[ChunkShape, float] = {}
    if steps is None:
        steps = (engine.CHUNK_LADDER[PRECOMPILE_STEPS_RUNG],)
    for cfg in configs:
        if EXITING.is_set() or (stop is not None and stop.is_set()):
            break
        try:
            run = engine.new_run(cfg)
        except PlaygroundError:
            continue  # e.g. a formula or an upload: nothing to guess
        for n_steps in steps:
            shape = engine.chunk_shape(run, n_steps)
            if not ledger.compiled(shape):
                took[shape] = engine.compile_chunk(run, n_steps, ledger)
        for n in grids:
            engine.output_grid(run, n)
            engine.live_picture(run, n)
        if unit_grid:
            engine.unit_grids(run, unit_grid)
    return took


def precompile_in_background(cfg: RunConfig, *, widths: Sequence[int] = COMMON_WIDTHS, **kw):
    """Start ``precompile(neighbours(cfg, widths), **kw)`` (default: on the pictures'
    grids) on a daemon thread, once per process (later calls return the same thread).
    ``PLAYGROUND_PRECOMPILE=0`` turns it off (the tests do: it would compete with them
    for the CPU), ``own`` too (a class server's replica: its compile-ahead process
    compiled the neighbours)."""
    global _thread
    if os.environ.get(PRECOMPILE_ENV, "1") in ("0", PRECOMPILE_OWN):
        return None
    with _started:
        if _thread is None:
            configs, kw = neighbours(cfg, widths), kw or PICTURE_GRIDS
            work = functools.partial(precompile, configs, **kw)
            _thread = _later("playground-precompile", work, PRECOMPILE_DELAY_S)
    return _thread


def warm_default_network() -> int:
    """Compile (or load from the disk cache) what every run of the default network needs
    first, and keep it in this process: its first chunk and its pictures (an idle class
    server replica holds 460 MB with them, 268 MB without: JAX's backend starts too). Its
    longer chunks and cohort programs are compiled on threads when runs need them
    (``engine.run.CHUNK_COMPILES``, ``cohort.CohortPrograms``). Returns the chunks it
    compiled."""
    return len(precompile([DEFAULT], **PICTURE_GRIDS))


def warm_in_background() -> threading.Thread | None:
    """``warm_default_network`` on a thread as an app process starts, unless
    ``PLAYGROUND_PRECOMPILE=0``: the first learners of a class compiled these on the
    trainer's thread, where every other learner of the process waited for them."""
    if os.environ.get(PRECOMPILE_ENV, "1") == "0":
        return None
    # At once: it is done before a class arrives (a class server says its address once
    # its compile-ahead process is done, which takes longer).
    return _later("playground-warm", warm_default_network, 0.0)


def _later(name: str, work, delay: float) -> threading.Thread:
    def run() -> None:
        if EXITING.wait(delay):
            return
        # Not niced (see compile_cache.BackgroundCompiles). A compile that fails must not
        # disturb the server: what it was for compiles when a run needs it.
        with contextlib.suppress(Exception):
            work()

    return compile_thread(name, run)


def precompile_cohorts(cfg: RunConfig) -> int:
    """Compile the cohort programs (``engine.cohort``) of ``cfg``'s network, every size
    and length, into the process's; returns how many."""
    run = engine.new_run(cfg)
    key = cohort.cohort_key(run)
    if key is None:
        return 0
    jobs = [(size, n) for size in cohort.COHORT_SIZES for n in cohort.STEP_COUNTS]
    for size, n_steps in jobs:
        cohort.PROGRAMS.ready(key, size, run, n_steps, wait=True)
    return len(jobs)


def main() -> int:
    """Compile into the disk cache what a class of the default network needs first (its
    whole chunk ladder and its cohort programs) and, as a page would, its neighbours. A
    server then loads them (small) instead of compiling them (a compile's peak memory
    stays with the process: ~250 MB for the cohort programs)."""
    start_process()
    start = time.perf_counter()
    nearby = neighbours(DEFAULT)
    took = precompile([DEFAULT], steps=engine.CHUNK_LADDER, **PICTURE_GRIDS)
    took |= precompile(nearby, **PICTURE_GRIDS)
    cohorts = precompile_cohorts(DEFAULT)
    print(
        f"compiled {len(took)} chunks of {len(nearby) + 1} networks and "
        f"{cohorts} cohort programs ahead in {time.perf_counter() - start:.1f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
