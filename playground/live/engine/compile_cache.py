"""Which compiled training chunks this process has, and how fast each runs; the disk
cache of compiled programs.

XLA's compiled programs are cached per process (and on disk, with ``enable_compile_cache``),
so what a chunk shape costs is a fact about the process, not about one learner's run: a
second run of the same shape starts warm and knows its speed at once. Compiling ahead is
``live.server.precompile``'s (it needs the engine, which needs this ledger).
"""

import os
import threading
from collections import OrderedDict
from typing import NamedTuple

import jax

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
