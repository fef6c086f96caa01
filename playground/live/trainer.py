"""The background trainer: trains one live run on a thread while a page draws it, and
takes snapshots of it for playback."""

import threading
import time
from contextlib import contextmanager

from playground.live.live_run import LiveRun

# A picture (or the bends) that cost c seconds waits at least this many times c of
# training before the next: pictures never take more than a quarter of the trainer's
# time. Small nets get ~25 pictures/s; a 1024x3 net (~0.3 s a grid) about one.
SNAPSHOT_COST_FACTOR = 3.0
# A paced run (a chosen speed) with no step due yet: wait this long before asking again.
PACE_WAIT_S = 0.005


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
        shot_at = None  # the step of the last picture: an unchanged run needs none
        while not self._stop.is_set() and not run.halted:
            now = time.monotonic()
            if now - self._seen > self.idle_stop:
                break
            try:
                if not self.snapshot_grid:
                    if not run.train_for(self.slice_seconds) and run.pace:
                        self._stop.wait(PACE_WAIT_S)
                    continue
                # Train until the next picture is due.
                if not run.train_for(max(due - now, 0.005)) and run.pace:
                    self._stop.wait(PACE_WAIT_S)
                if run.step == shot_at or time.monotonic() < due:
                    continue
                shot_at = run.step
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
