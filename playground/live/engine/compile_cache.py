"""Which compiled training chunks this process has, and how fast each runs; the disk
cache of compiled programs.

XLA's compiled programs are cached per process (and on disk, with ``enable_compile_cache``),
so what a chunk shape costs is a fact about the process, not about one learner's run: a
second run of the same shape starts warm and knows its speed at once. Compiling ahead is
``live.server.precompile``'s (it needs the engine, which needs this ledger); compiling
off the trainers' thread, ``BackgroundCompiles``.
"""

import atexit
import contextlib
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import NamedTuple

import jax

from playground.core.train import CONSTANT, ModelSpec, Schedule

MAX_SHAPES = 256  # chunk shapes remembered; older ones are forgotten (jit keeps its own)
EXIT_WAIT_S = 30.0  # how long an exiting process waits for a compile still running


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


class BackgroundCompiles:
    """Programs being compiled on threads of their own, each job once at a time.

    The server's trainer (one thread a core) must not compile: a compile, even one loaded
    from the disk cache (0.2-1 s), holds up every other learner's pictures. Threads run at
    the process's own priority: a thread niced by the OS holds the interpreter lock while
    it waits for a core, and every thread of the server waits with it.
    """

    def __init__(self, name: str):
        self.name = name
        self._pending: set[Hashable] = set()
        self._failed: set[Hashable] = set()
        self._lock = threading.Lock()

    def pending(self, job: Hashable) -> bool:
        with self._lock:
            return job in self._pending

    def start(self, job: Hashable, compile_job: Callable[[], object]) -> bool:
        """Run ``compile_job`` on a thread unless ``job`` is being compiled already or
        failed once; whether this started it. After a failure the callers go on with what
        they have (shorter chunks, runs trained alone), without trying again each time."""
        with self._lock:
            if job in self._pending or job in self._failed:
                return False
            self._pending.add(job)

        def work() -> None:
            failed = True
            try:
                with contextlib.suppress(Exception):
                    compile_job()
                    failed = False
            finally:
                with self._lock:
                    self._pending.discard(job)
                    if failed:
                        self._failed.add(job)

        compile_thread(self.name, work)
        return True


# Compile threads are daemons (a server must exit without waiting on them), but one whose
# compile ends while the interpreter finalizes aborts the process ("terminate called"):
# exit tells them (``EXITING``) and waits for those still running.
EXITING = threading.Event()
_RUNNING: set[threading.Thread] = set()
_RUNNING_LOCK = threading.Lock()


def compile_thread(name: str, work: Callable[[], object]) -> threading.Thread:
    """Start ``work`` on a daemon thread that an exiting process waits for."""

    def run() -> None:
        try:
            work()
        finally:
            with _RUNNING_LOCK:
                _RUNNING.discard(threading.current_thread())

    thread = threading.Thread(target=run, name=name, daemon=True)
    with _RUNNING_LOCK:
        _RUNNING.add(thread)
    thread.start()
    return thread


@atexit.register
def _join_running_compiles(timeout: float = EXIT_WAIT_S) -> None:
    EXITING.set()
    with _RUNNING_LOCK:
        running = [t for t in _RUNNING if t.is_alive()]
        _RUNNING.clear()
    for thread in running:
        thread.join(timeout=timeout)
