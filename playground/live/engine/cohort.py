"""Training several learners' runs of one shape in one call: a cohort.

A class trains many small nets of the same shape (the exercise fixes it). Each chunk call
of a small net costs mostly its call (~0.7 ms of the machine for 16 steps of an 8-8 net
on 250 points, of which the steps are a fraction); one ``vmap``'d call trains 16 of them
for the CPU time of ~6 separate calls. Even 256 steps, where the steps are the cost, take
half the CPU in one call for 16 runs (``python -m playground.bench cohort``): each op of
a tiny net costs its dispatch, whatever its width. Each run still gets its own numbers:
its state, data, learning rate and minibatch order.

A cohort's program is compiled once per shape, size and length, on a background thread
(a second or so; less from the disk cache): until it is ready, ``train_cohort`` says so
(None) and each run trains alone, as before.
"""

import threading
from collections.abc import Sequence
from typing import NamedTuple

import jax
import numpy as np

from playground.core.train import is_small_net, train_cohort_chunk
from playground.live.engine import run as engine
from playground.live.engine.compile_cache import BackgroundCompiles

# Runs in one call are padded up to one of these sizes (each is a compile of its own).
COHORT_SIZES = (4, 16)
COHORT_MAX = COHORT_SIZES[-1]
# Steps of each run in one cohort call: for paced runs the ladder's second rung, what a
# run at the default speed owes between two pictures; for runs at full speed a longer
# one (16 runs' 256 steps: ~2x less CPU a step than alone, ``bench cohort``).
COHORT_STEPS = engine.CHUNK_LADDER[1]
FAST_COHORT_STEPS = engine.CHUNK_LADDER[3]
STEP_COUNTS = (COHORT_STEPS, FAST_COHORT_STEPS)
FAST_FILL = 0.75


class CohortKey(NamedTuple):
    """What runs must share to train in one call."""

    shape: engine.ChunkShape
    data: tuple  # shapes and dtypes of x_train and y_train


def cohort_key(run: engine.Run) -> CohortKey | None:
    """The key of ``run``'s cohort, or None when it trains better alone: a net large
    enough that its steps, not its calls, are the cost, or a run that has diverged."""
    x, y = run.arrays[0], run.arrays[1]
    if run.diverged or not is_small_net(run.spec, x.shape[0], run.cfg.batch_size):
        return None
    data = (x.shape, str(x.dtype), y.shape, str(y.dtype))
    return CohortKey(engine.chunk_shape(run, COHORT_STEPS), data)


def cohort_size(n: int) -> int:
    """The padded size for ``n`` runs (1 < n <= COHORT_MAX)."""
    return next(s for s in COHORT_SIZES if s >= n)


def fast_cohort_runs(n: int) -> int:
    """How many of ``n`` runs at full speed to train in one call (0: none). Their long
    calls cost their steps, padding included: a call is filled at least FAST_FILL, and
    the runs that do not fit train alone."""
    return min(n, max((s for s in COHORT_SIZES if s * FAST_FILL <= n), default=0))


def _call(runs: Sequence[engine.Run], n_steps: int):
    return train_cohort_chunk(
        [r.state for r in runs],
        [r.arrays[0] for r in runs],
        [r.arrays[1] for r in runs],
        [engine.run_hyper(r) for r in runs],
        **engine.chunk_shape(runs[0], n_steps)._asdict(),
    )


class CohortPrograms:
    """Which cohort programs this process has compiled, and the compiling of new ones."""

    def __init__(self, background: bool = True):
        self.background = background
        self._ready: set[tuple[CohortKey, int, int]] = set()
        self._lock = threading.Lock()
        self._compiling = BackgroundCompiles("playground-cohort")

    def ready(
        self,
        key: CohortKey,
        size: int,
        example: engine.Run,
        n_steps: int = COHORT_STEPS,
        *,
        wait: bool = False,
    ) -> bool:
        """Whether the program for ``size`` runs of ``key`` and ``n_steps`` is compiled;
        if not, it is compiled (on a thread, from ``example``, unless ``background`` is
        off or this is to ``wait`` for it) and this says False meanwhile."""
        job = (key, size, n_steps)
        # The larger sizes too: a growing class needs them next, and compiled then, they
        # slowed every run of the process that had come before.
        with self._lock:
            if job in self._ready:
                return True
            larger = [(key, s, n_steps) for s in COHORT_SIZES if s > size]
            todo = [job, *(j for j in larger if j not in self._ready)]
        if wait or not self.background:
            self._compile(job, example)
            return True
        for j in todo:
            self._compiling.start(j, lambda j=j: self._compile(j, example))
        return False

    def compiled(self, key: CohortKey, size: int, n_steps: int = COHORT_STEPS) -> bool:
        """Whether that program is compiled (starts nothing)."""
        with self._lock:
            return (key, size, n_steps) in self._ready

    def _compile(self, job, example: engine.Run) -> None:
        _, size, n_steps = job
        # A call (results dropped) leaves jit's own cache warm, as a real one would.
        jax.block_until_ready(_call([example] * size, n_steps))
        with self._lock:
            self._ready.add(job)


PROGRAMS = CohortPrograms()


def train_cohort(
    runs: Sequence[engine.Run],
    programs: CohortPrograms | None = None,
    *,
    n_steps: int = COHORT_STEPS,
) -> list[tuple[engine.Run, engine.TrainLog]] | None:
    """``n_steps`` (one of STEP_COUNTS) steps of each of ``runs`` (2 to COHORT_MAX runs of
    one cohort key) in one call: each run's new run (metrics not measured) and its log,
    in order. None while their program is not compiled yet (nothing trained). A run whose
    steps were not finite trains again alone, with the checks that keep its last good
    weights."""
    programs = PROGRAMS if programs is None else programs
    key = cohort_key(runs[0])
    if key is None or not 1 < len(runs) <= COHORT_MAX:
        raise ValueError(f"no cohort of {len(runs)} runs for this key")
    size = cohort_size(len(runs))
    if not programs.ready(key, size, runs[0], n_steps):
        return None
    padded = [*runs, *[runs[0]] * (size - len(runs))]
    states, log, clean, counters = _call(padded, n_steps)
    loss, grad_rms, clean, counters = jax.device_get((log.loss, log.grad_rms, clean, counters))
    out = []
    for i, run in enumerate(runs):
        if not clean[i]:
            out.append(engine.train(run, steps=n_steps, measure=False))
            continue
        step, diverged_at = (int(c) for c in counters[i])
        new = run._replace(state=states[i], counters=(step, diverged_at), dead=None)
        out.append((new, engine.TrainLog(np.asarray(loss[i]), np.asarray(grad_rms[i]))))
    return out
