"""Weights kept to go back to: a run's states at log-spaced steps, in bounded memory.

A ``live.engine.run.Run`` is immutable, so keeping one costs a reference to its weights and
optimizer state (no copy). ``KeptRuns`` holds at most ``MAX_KEPT`` of them and at most
``KEPT_BYTES`` of arrays; past that it drops the run whose neighbours lie closest on a
log scale of steps, so what stays is dense near the start (where a run changes fastest)
and spread out later: steps like 0, 1, 3, 10, 30, 100, ... and always the newest.
"""

import math
import threading

import jax
import numpy as np

MAX_KEPT = 32
# Per learner: a class of 30 on one server holds at most ~1 GB of kept weights (a 256x4
# net with Adam: ~2.4 MB a run, 13 kept; a 1024x8 one: ~100 MB, only the first and the
# newest, which the run holds anyway).
KEPT_BYTES = 32 * 2**20


def state_bytes(run) -> int:
    """Bytes of a run's weights and optimizer state."""
    leaves = jax.tree_util.tree_leaves((run.state.params, run.state.opt_state))
    return int(sum(np.dtype(a.dtype).itemsize * math.prod(a.shape) for a in leaves))


def _log_step(step: int) -> float:
    return math.log1p(step)


class KeptRuns:
    """Runs at log-spaced steps (ascending, one per step); safe to read while the
    trainer adds."""

    def __init__(self, limit: int = MAX_KEPT, budget: int = KEPT_BYTES):
        self.limit, self.budget = limit, budget
        self._runs: list = []
        self._lock = threading.Lock()

    def capacity(self, run) -> int:
        """How many runs of this size fit (at least two: the first and the newest)."""
        return max(2, min(self.limit, self.budget // max(state_bytes(run), 1)))

    def add(self, run) -> None:
        """Keep ``run`` (replacing a kept one of the same step), then thin to capacity."""
        with self._lock:
            runs = [r for r in self._runs if r.step < run.step]
            runs.append(run)
            cap = self.capacity(run)
            while len(runs) > cap:
                logs = [_log_step(r.step) for r in runs]
                # Never the first or the newest: the one whose neighbours are closest.
                i = min(range(1, len(runs) - 1), key=lambda k: logs[k + 1] - logs[k - 1])
                del runs[i]
            self._runs = runs

    def steps(self) -> list[int]:
        with self._lock:
            return [r.step for r in self._runs]

    def at(self, step: int):
        """The kept run of ``step``; KeyError when none is kept there."""
        with self._lock:
            for r in self._runs:
                if r.step == step:
                    return r
        raise KeyError(step)

    def truncate(self, step: int) -> None:
        """Drop the runs after ``step`` (a new branch grows from there)."""
        with self._lock:
            self._runs = [r for r in self._runs if r.step <= step]

    def __len__(self) -> int:
        with self._lock:
            return len(self._runs)
