"""One process-wide scheduler shares the machine fairly among every learner's playing run.

A pool of worker threads (one per core) takes the playing runs in turn, each for a short
time slice, always the run that has had the least worker time so far: a learner's huge
network gets the same share of the machine as a small one, not more. Slices shrink as
learners join, so every run still comes round often enough for its pictures. At most
``max_playing`` runs play at once; more wait in line, told how many are ahead of them.
A run nobody watches any more (its tab closed, its connection lost) stops within
``idle_stop`` seconds; the session can start it again.

Written here, not taken from a library: Python's thread pools run each submitted task to
its end, while training is an endless task that must yield its core every few
milliseconds; XLA releases the GIL while a chunk runs, so plain threads use every core.
"""

import atexit
import math
import threading
import time
import weakref
from collections.abc import Callable, Hashable
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Protocol

from playground.live.engine import cohort
from playground.live.engine import run as engine
from playground.live.engine.limits import HostLimits
from playground.live.session.live_run import LiveRun

MIN_SLICE_S = 0.005  # shorter slices would spend more on switching than on training
MAX_SLICE_S = 0.06  # a lone run: long enough for 256+ step chunks between pictures
IDLE_STOP_S = 3.0  # no page and no stream for this long: the tab is gone
STOP_WAIT_S = 30.0  # a stop waits at most this long for the worker inside the job's slice
# A page that streams, before its stream first connects: a busy browser took over 3 s to
# open the socket after Play, and the run was stopped as if its tab had closed.
FIRST_STREAM_S = 20.0
WORKER_IDLE_EXIT_S = 2.0
# A picture (or the bends) that cost c seconds waits at least this many times c of
# training before the next: pictures never take more than a quarter of a run's time.
SNAPSHOT_COST_FACTOR = 3.0
# A worker that takes a run also takes the runs of its cohort (one shape: one call trains
# them all, ``engine.cohort``) that are ready now or within this many seconds.
COHORT_EARLY_S = 0.02
# A slice is charged its wall time, which on a busy machine includes waiting for a core
# or the interpreter lock: one slice's wall time 10x its usual put that run behind every
# other and left it unserved for 1-1.6 s (a class of 30 arriving). A slice is charged at
# most this many times the run's typical slice (a moving average with this weight), so
# a lasting change in a run's cost counts within a few slices and a spike does not.
SPIKE_CAP = 3.0
TYPICAL_WEIGHT = 0.2
# More runs of one shape than a cohort call holds: those left out longest go in first once
# they have waited this long, then the least served. By served time alone, the first
# learners of a class (charged whole slices while they trained alone, the later ones a
# sixteenth of a slice in cohorts) were left out of every call for 2-6 s, without a picture.
MATE_WAIT_S = 0.2


STOPPED_BY = "Training stopped"  # the start of what a failed task's page says


def stopped_by(err: Exception) -> str:
    return f"{STOPPED_BY}: {err}"


class Task(Protocol):
    def run_slice(self, seconds: float) -> float:
        """Work for about ``seconds`` (one training chunk at least); returns the seconds
        of it that are not the learner's to pay for (compiling a new shape)."""

    def stopped(self) -> str:
        """Why the task cannot go on, in plain words; "" while it can."""

    # Optional: ``ready_at() -> float``, the clock time before which the task has nothing
    # to do (a run at a chosen speed between its pictures); workers sleep meanwhile.
    # Optional: ``cohort_key() -> Hashable | None``; tasks of one key may run their slices
    # together, ``run_together(tasks, seconds)`` of the first one's type.


@dataclass(eq=False)
class Job:
    key: Hashable
    task: Task
    seen: float  # last sign of life from the page
    used: float = 0.0  # worker seconds this job has had
    admitted: bool = False  # training, not waiting in line
    busy: bool = False  # a worker is running its slice now
    removed: bool = False
    stopped: str = ""  # why it ended on its own ("" while it plays)
    slices: int = 0
    ready_at: float = -float("inf")  # the task's own word on when it next has work
    awaits_stream: bool = False  # its page streams, and no stream has connected yet
    typical: float = 0.0  # its usual slice's charge (0: none yet)
    served_at: float = -float("inf")  # when its last slice ended (or it was admitted)

    def charge(self, seconds: float, asked: float) -> None:
        """Add a slice's time to ``used``, at most SPIKE_CAP times the typical slice (at
        first the ``asked`` slice: a first slice slowed by a busy machine is a spike too)."""
        typical = self.typical or asked
        seconds = min(seconds, SPIKE_CAP * typical)
        self.typical = typical + TYPICAL_WEIGHT * (seconds - typical)
        self.used += seconds


@dataclass(eq=False)
class Scheduler:
    """Fair time slices of a pool of threads for every playing job.

    ``clock`` and ``threads=False`` let tests drive it step by step (``work_once``).
    """

    limits: HostLimits = field(default_factory=HostLimits)
    clock: Callable[[], float] = time.monotonic
    idle_stop: float = IDLE_STOP_S
    threads: bool = True

    def __post_init__(self):
        self._jobs: dict[Hashable, Job] = {}
        self._watchers: dict[Hashable, int] = {}  # open streams per key, whatever its job
        self._line: list[Job] = []  # admitted jobs first come, then those waiting, in order
        self._cv = threading.Condition()
        self._workers: list[threading.Thread] = []
        self._closing = False
        self.errors: list[str] = []
        _ALL.add(self)

    def shutdown(self, timeout: float = 10.0) -> None:
        """Stop every job and let the workers end (the process is exiting: a thread
        still inside XLA then would abort it)."""
        with self._cv:
            self._closing = True
            for job in self._line:
                job.removed = True
            self._line.clear()
            self._jobs.clear()
            self._cv.notify_all()
            workers = list(self._workers)
        for t in workers:
            t.join(timeout=timeout)

    # -- what pages call -------------------------------------------------------------
    def play(self, key: Hashable, task: Task, *, streamed: bool = False) -> Job:
        """Start (or keep) training ``task`` for ``key``; a new task replaces the old.
        ``streamed``: its page watches through a stream (see FIRST_STREAM_S)."""
        with self._cv:
            job = self._jobs.get(key)
            if job is not None and job.task is task and not job.removed and not job.stopped:
                job.seen = self.clock()
                return job
            # The old job stays the key's until the new one takes its place: a stream
            # that asked in between read "stopped", and its page paused itself (seen in
            # the class tests, after a page ran again for the spotlight or a resync).
            self._retire(key, STOP_WAIT_S)
            job = Job(key=key, task=task, seen=self.clock())
            job.awaits_stream = streamed and not self._watchers.get(key)
            self._jobs[key] = job
            self._line.append(job)
            self._admit()
            self._cv.notify_all()
        self._ensure_workers()
        return job

    def stop(self, key: Hashable, *, wait: float = STOP_WAIT_S) -> None:
        """Stop ``key``'s job; returns once no worker runs it (at most ``wait`` s)."""
        with self._cv:
            self._retire(key, wait)
            self._jobs.pop(key, None)

    def _retire(self, key: Hashable, wait: float) -> None:
        """Take ``key``'s job out of the line and wait, at most ``wait`` s, until no
        worker runs it; it stays ``job(key)`` meanwhile. Called with the lock held (which
        the wait releases)."""
        end = self.clock() + wait
        while (job := self._jobs.get(key)) is not None:
            if not job.removed:
                job.removed = True
                self._drop(job)
            if not job.busy or self.clock() >= end:
                return
            self._cv.wait(timeout=0.05)

    def touch(self, key: Hashable) -> None:
        """The page is still open."""
        with self._cv:
            if (job := self._jobs.get(key)) is not None:
                job.seen = self.clock()

    def watch(self, key: Hashable, delta: int) -> None:
        """A stream showing ``key`` opened (+1) or closed (-1)."""
        with self._cv:
            n = max(0, self._watchers.get(key, 0) + delta)
            if n:
                self._watchers[key] = n
            else:
                self._watchers.pop(key, None)
            if (job := self._jobs.get(key)) is not None:
                job.seen = self.clock()
                job.awaits_stream = False

    def watchers(self, key: Hashable) -> int:
        with self._cv:
            return self._watchers.get(key, 0)

    def job(self, key: Hashable) -> Job | None:
        with self._cv:
            return self._jobs.get(key)

    def ahead(self, key: Hashable) -> int:
        """How many waiting jobs are before ``key``'s (0 when it trains or is unknown)."""
        with self._cv:
            job = self._jobs.get(key)
            if job is None or job.admitted:
                return 0
            waiting = [j for j in self._line if not j.admitted]
            return waiting.index(job) + 1 if job in waiting else 0

    def playing(self) -> int:
        with self._cv:
            return sum(j.admitted for j in self._line)

    def slice_seconds(self) -> float:
        """Each playing run comes round about ``pictures_per_s`` times a second, as far
        as slices no shorter than MIN_SLICE_S allow."""
        n = max(1, self.playing())
        share = self.limits.worker_count() / (n * self.limits.pictures_per_s)
        return min(MAX_SLICE_S, max(MIN_SLICE_S, share))

    # -- the workers -----------------------------------------------------------------
    def work_once(self, *, block: float = 0.0) -> bool:
        """Run one slice of the job that has had least; False when none could run."""
        with self._cv:
            self._reap()
            job = self._next()
            if job is None and block:
                self._cv.wait(timeout=self._sleep_s(block))
                self._reap()
                job = self._next()
            if job is None:
                return False
            jobs = [job, *self._mates(job)]
            for j in jobs:
                j.busy = True
            slice_s = self.slice_seconds()
        start, free, failed = self.clock(), 0.0, ""
        try:
            if len(jobs) > 1:
                slice_s = min(slice_s * len(jobs), MAX_SLICE_S)
                free = type(job.task).run_together([j.task for j in jobs], slice_s)
            else:
                free = job.task.run_slice(slice_s)
        except Exception as err:  # a page must still show what went wrong
            failed = stopped_by(err)
            self.errors.append(failed)
        done = self.clock()
        share = max(done - start - (free or 0.0), 1e-6) / len(jobs)
        with self._cv:
            for j in jobs:
                why = failed or self._stopped(j)
                j.charge(share, slice_s / len(jobs))
                j.slices += 1
                j.served_at = done
                if (ready_at := getattr(j.task, "ready_at", None)) is not None:
                    j.ready_at = ready_at()
                j.busy = False
                if why and not j.removed:
                    j.stopped = why
                    self._drop(j)
            self._cv.notify_all()
        return True

    def _stopped(self, job: Job) -> str:
        try:
            return job.task.stopped()
        except Exception as err:
            return stopped_by(err)

    def _ensure_workers(self) -> None:
        if not self.threads:
            return
        with self._cv:
            for i in range(len(self._workers), self.limits.worker_count()):
                t = threading.Thread(target=self._work, name=f"playground-worker-{i}", daemon=True)
                self._workers.append(t)
                t.start()

    def _work(self) -> None:
        idle_since = self.clock()
        while not self._closing:
            if self.work_once(block=0.5):
                idle_since = self.clock()
                continue
            with self._cv:
                # No run plays: the thread ends (play() starts another), so an idle
                # server holds no threads and a process can exit while none trains.
                if not self._line and self.clock() - idle_since > WORKER_IDLE_EXIT_S:
                    self._workers.remove(threading.current_thread())
                    return

    # -- bookkeeping, with the lock held ---------------------------------------------
    def _mates(self, job: Job) -> list[Job]:
        """Jobs that may run their slice in one go with ``job``'s: the same cohort key,
        admitted, free, and ready now or within COHORT_EARLY_S; those that waited
        MATE_WAIT_S first (longest first), then the least served."""
        key = _cohort_key(job.task)
        if key is None:
            return []
        now = self.clock()
        soon = now + COHORT_EARLY_S
        mates = [
            j
            for j in self._line
            if j is not job and j.admitted and not j.busy and j.ready_at <= soon
            and _cohort_key(j.task) == key
        ]  # fmt: skip

        def turn(j: Job) -> tuple:
            waited = now - j.served_at
            return (0, -waited) if waited >= MATE_WAIT_S else (1, j.used)

        mates.sort(key=turn)
        return mates[: cohort.COHORT_MAX - 1]

    def _next(self) -> Job | None:
        now = self.clock()
        ready = [j for j in self._line if j.admitted and not j.busy and j.ready_at <= now]
        return min(ready, key=lambda j: j.used, default=None)

    def _sleep_s(self, most: float) -> float:
        """How long a worker with nothing to run may sleep: until the first job that
        waits for its own time is ready (a new job or a finished slice wakes it too)."""
        soon = min((j.ready_at for j in self._line if j.admitted and not j.busy), default=None)
        if soon is None:
            return most
        return min(most, max(soon - self.clock(), 0.0005))

    def _drop(self, job: Job) -> None:
        if job in self._line:
            self._line.remove(job)
        self._admit()

    def _admit(self) -> None:
        playing = [j for j in self._line if j.admitted]
        floor = min((j.used for j in playing), default=0.0)
        for job in self._line:
            if len(playing) >= self.limits.playing_limit():
                break
            if not job.admitted:
                # It starts level with the others, not owed the time it waited.
                job.admitted, job.used = True, max(job.used, floor)
                job.served_at = self.clock()
                playing.append(job)

    def _reap(self) -> None:
        now = self.clock()
        for job in list(self._line):
            idle = max(self.idle_stop, FIRST_STREAM_S) if job.awaits_stream else self.idle_stop
            if not self._watchers.get(job.key) and now - job.seen > idle:
                job.stopped = "nobody is watching"
                self._jobs.pop(job.key, None)
                job.removed = True
                self._drop(job)
                if not job.busy and hasattr(job.task, "release"):
                    job.task.release()  # a closed tab's pictures are nobody's


def _cohort_key(task: Task) -> Hashable | None:
    try:
        return getattr(task, "cohort_key", lambda: None)()
    except Exception:  # a task that cannot say trains alone
        return None


_ALL: "weakref.WeakSet[Scheduler]" = weakref.WeakSet()


@atexit.register
def _shutdown_all() -> None:
    for scheduler in list(_ALL):
        scheduler.shutdown()


_SCHEDULER: Scheduler | None = None
_SCHEDULER_LOCK = threading.Lock()


def process_scheduler(limits: HostLimits | None = None) -> Scheduler:
    """The one scheduler of this server process (created on first use)."""
    global _SCHEDULER
    with _SCHEDULER_LOCK:
        if _SCHEDULER is None:
            _SCHEDULER = Scheduler(limits or HostLimits())
        return _SCHEDULER


class TrainTask:
    """A live run trained slice by slice, with a snapshot of it (output grid and live
    bends, ``LiveRun.live_snapshot``) for the page to play back: at most
    ``pictures_per_s`` a second, and only after SNAPSHOT_COST_FACTOR times its cost of
    the run's own training, so pictures never take more than a quarter of what the run
    gets, however busy the server. ``encode`` (optional) packs a snapshot for the
    browser while the run's own worker has it."""

    def __init__(
        self,
        live: LiveRun,
        *,
        grid_n: int | None = None,
        bends: bool = True,
        pictures_per_s: float = 25.0,
        encode: Callable | None = None,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.live, self.grid_n, self.with_bends = live, grid_n, bends
        self.every = 1.0 / pictures_per_s
        self.encode, self.clock = encode, clock
        self.next_picture = -float("inf")  # a cadence: a late picture does not delay the next
        self.pictured_step: int | None = None  # an unchanged run needs no new picture
        self.picture_cost = 0.0
        self.compiling = 0.0  # seconds its first picture took (it may compile a shape)
        self.trained_since_picture = float("inf")
        self.failed = ""  # what went wrong in a slice shared with other runs
        # (what the key came from: the run's cfg, arrays, diverged; the key)
        self._cohort: tuple[tuple, Hashable | None] = ((None, None, None), None)

    def follow(self, old: "TrainTask") -> None:
        """Take the place of ``old`` (a page run again, with a new encoder): for the same
        run and grid, the step it pictured last is the same picture until the run moves,
        and the pictures keep their cadence. (A new grid may compile: its first picture is
        then not charged to the run.)"""
        if old.live is self.live and old.grid_n == self.grid_n:
            self.pictured_step, self.next_picture = old.pictured_step, old.next_picture

    def _picture_due(self, now: float) -> float:
        """Seconds of training before the next picture may be taken (0: now, if the
        run has moved since the last one)."""
        wall = self.next_picture - now
        if self.live.pace:  # its speed already bounds its training: nothing to protect
            return max(wall, 0.0)
        owed = SNAPSHOT_COST_FACTOR * self.picture_cost - self.trained_since_picture
        return max(wall, owed, 0.0)

    def _train(self, seconds: float, grain: int = 1) -> int:
        t = self.clock()
        steps = self.live.train_for(seconds, grain=grain)
        spent = self.clock() - t
        self.trained_since_picture += spent
        return steps

    def _picture(self) -> None:
        live, start, cpu = self.live, self.clock(), time.thread_time()
        snap = live.live_snapshot(self.grid_n, bends=self.with_bends)
        if self.encode is not None:
            snap = self.encode(snap)
        live.snapshots.add(snap)
        done = self.clock()
        # Its cost is this thread's own time, not the wall's: on a busy server a picture
        # waits for the interpreter lock far longer than it works. A task's first picture
        # may compile its shape: its cost says nothing of the next ones.
        if self.pictured_step is not None:
            self.picture_cost = time.thread_time() - cpu
        else:  # not the learner's to pay for either: charged, it would starve the run
            self.compiling += done - start
        self.next_picture = max(self.next_picture + self.every, done - self.every)
        self.trained_since_picture = 0.0
        self.pictured_step = snap.step

    def _grain(self) -> int:
        """Fewest steps a paced run trains at once: what one picture's interval owes,
        up to the ladder's second rung (a call costs the same for 1 step as for 16)."""
        pace = self.live.pace or 0.0
        return int(min(engine.CHUNK_LADDER[1], max(1, math.ceil(pace * self.every))))

    def run_slice(self, seconds: float) -> float:
        live = self.live
        compiled, first_picture = live.compile_seconds, self.compiling
        end = self.clock() + seconds
        grain = self._grain()
        if not self.grid_n:
            live.train_for(seconds, grain=grain)
            return live.compile_seconds - compiled
        while not live.halted:
            now = self.clock()
            wait = self._picture_due(now)
            if wait <= 0 and live.step != self.pictured_step:
                self._picture()
            elif now >= end:
                break
            elif not self._train(max(min(wait, end - now), 0.002), grain) and live.pace:
                break  # a paced run with no step due: the worker goes to another run
        return live.compile_seconds - compiled + self.compiling - first_picture

    def cohort_key(self) -> Hashable | None:
        """The key of the runs this one may train with in one call (None: alone)."""
        live = self.live
        if live.halted:
            return None
        # Asked for every waiting run on every slice, under the scheduler's lock: the key
        # (~20 us) is computed again only when the run's settings or data change.
        run = live.run
        basis = (run.cfg, run.arrays, run.diverged)
        made_from, key = self._cohort
        if not all(a is b for a, b in zip(basis, made_from, strict=True)):
            key = cohort.cohort_key(run)
            self._cohort = (basis, key)
        return key

    @staticmethod
    def run_together(tasks: "list[TrainTask]", seconds: float) -> float:
        """One slice of several runs of one cohort: each takes its picture when due, as
        its own slice would, and their steps train in calls for all of them: paced runs
        the steps they owe (counted COHORT_EARLY_S ahead, so they keep training together)
        COHORT_STEPS at a time, runs at full speed FAST_COHORT_STEPS at a time (as many
        as fill a call well, ``fast_cohort_runs``). What no cohort call trains (a program
        still compiling, a run at full speed left over, a paced run's last few steps)
        trains alone. Returns the seconds not the learners' to pay for, as
        ``run_slice``."""
        clock = tasks[0].clock
        end = clock() + seconds
        before = sum(t.live.compile_seconds + t.compiling for t in tasks)
        owed = {t: t.live.steps_owed(t._grain(), ahead=COHORT_EARLY_S) for t in tasks}
        fast_trained: set[TrainTask] = set()

        def each(t: TrainTask, work: Callable[[], object]) -> None:
            # One run's failure is its own: the others of the slice go on.
            if not t.failed:
                try:
                    work()
                except Exception as err:
                    t.failed = stopped_by(err)

        def together(group: "list[TrainTask]", n_steps: int) -> bool:
            """``n_steps`` of each run of ``group`` in one call; False if none trained."""
            if len(group) < 2:
                return False
            start = clock()
            try:
                trained = cohort.train_cohort([t.live.run for t in group], n_steps=n_steps)
            except Exception:  # each run trains alone below, and fails alone if it must
                trained = None
            if trained is None:  # or its program is still compiling
                return False
            # Every run of the call trained for all of its time (its pictures' budget).
            spent = clock() - start
            for t, (run, log) in zip(group, trained, strict=True):
                each(t, lambda t=t, run=run, log=log: t.live.take_trained(run, log))
                t.trained_since_picture += spent
            return True

        while True:
            for t in tasks:
                live, now = t.live, clock()
                fresh = live.step != t.pictured_step
                if t.grid_n and not live.halted and fresh and t._picture_due(now) <= 0:
                    each(t, t._picture)
            going = [t for t in tasks if not (t.failed or t.live.halted)]
            paced = [t for t in going if (owed[t] or 0) >= cohort.COHORT_STEPS]
            fast = [t for t in going if owed[t] is None]
            fast = fast[: cohort.fast_cohort_runs(len(fast))]
            trained = together(paced, cohort.COHORT_STEPS)
            if trained:
                for t in paced:
                    owed[t] -= cohort.COHORT_STEPS
            if together(fast, cohort.FAST_COHORT_STEPS):
                fast_trained.update(fast)
                trained = True
            if not trained or clock() >= end:
                break
        for t in tasks:
            if owed[t]:
                each(t, lambda t=t: t.live.train_owed(owed[t]))  # what a run still owes
            elif owed[t] is None and t not in fast_trained and not t.live.halted:
                # No call for all: its share of the slice alone, as its own slice would.
                share = max(end - clock(), 0.0) / len(tasks) or MIN_SLICE_S
                each(t, lambda t=t, share=share: t.run_slice(share))
        return sum(t.live.compile_seconds + t.compiling for t in tasks) - before

    def ready_at(self) -> float:
        """A paced run has work again once a grain of steps is owed and, when it draws
        pictures, the next one is due (it trains just before it): till then no worker
        visits it. A run at full speed always has work."""
        if not self.live.pace:
            return -float("inf")
        trained = self.clock() + self.live.pace_wait(self._grain())
        return max(trained, self.next_picture) if self.grid_n else trained

    def stopped(self) -> str:
        live = self.live
        return self.failed or live.message or live.halted_why

    def release(self) -> None:
        """Drop the pictures nobody will see (the run itself stays, for a reconnect)."""
        self.live.snapshots.clear()


class SessionTrainer:
    """One session's handle on the process scheduler: start, stop and keep alive its run.

    ``error`` says why training stopped on its own (a failure, not a pause)."""

    def __init__(self, scheduler: Scheduler, key: Hashable, **task_options):
        self.scheduler, self.key, self.task_options = scheduler, key, task_options
        self._task: TrainTask | None = None

    @property
    def running(self) -> bool:
        job = self.scheduler.job(self.key)
        return job is not None and not job.stopped

    @property
    def error(self) -> str:
        job = self.scheduler.job(self.key)
        why = job.stopped if job is not None else ""
        return why if why.startswith(STOPPED_BY) else ""

    def start(
        self,
        run: LiveRun,
        *,
        snapshot_grid: int | None = None,
        snapshot_bends: bool = True,
        encode: Callable | None = None,
    ) -> Job:
        """Train ``run`` (a heartbeat while it already trains it the same way)."""
        options = (run, snapshot_grid, snapshot_bends, encode)
        if self._task is None or self._options != options or not self.running:
            old = self._task
            self._task = TrainTask(
                run,
                grid_n=snapshot_grid,
                bends=snapshot_bends,
                encode=encode,
                pictures_per_s=self.scheduler.limits.pictures_per_s,
                **self.task_options,
            )
            if old is not None:
                self._task.follow(old)
            self._options = options
        return self.scheduler.play(self.key, self._task, streamed=encode is not None)

    def stop(self) -> None:
        self.scheduler.stop(self.key)
        self._task = None

    @contextmanager
    def reading(self):
        """A page is being drawn: it is still open, keep training."""
        self.scheduler.touch(self.key)
        yield
