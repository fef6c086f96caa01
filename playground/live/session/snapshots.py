"""Pictures of a run taken while it trains, kept in a bounded ring for playback."""

import threading
from collections import deque
from dataclasses import dataclass
from itertools import count

import numpy as np

# A second of pictures: the stream sends them every 0.1 s, and a page that reads slower
# skips the oldest. 64 cost ~3 MB more a playing run (a class server of 60 learners, 40
# playing: 121 MB more RSS, measured side by side).
MAX_SNAPSHOTS = 25
_SEQ = count(1)  # next() is atomic under the GIL


def next_seq() -> int:
    """A number that increases over the whole process, so pictures of two runs never tie."""
    return next(_SEQ)


@dataclass(frozen=True)
class Snapshot:
    """One picture of the run as it was at one moment of training: the output on a grid
    and the bends (exact, or the live kind). The trainer takes ~25 a second (fewer for
    big nets), so a page can play them back at the pace they were taken, however rarely
    it is refreshed."""

    seq: int  # next_seq()
    t: float  # time.monotonic() when taken
    step: int
    epoch: float
    xs: np.ndarray
    ys: np.ndarray
    grid: np.ndarray  # predictions (n, n[, K]), rows follow ys
    bends: list  # geometry.Bend of every hidden unit (exact), [] when not computed
    # A live picture's bends instead (``analysis.grid_bends``): the first layer's ends
    # (H1, 2, 2), and per deeper layer its units' signs on the grid (width, n, n) bools;
    # ``lines`` is None where the picture has no live bends.
    lines: np.ndarray | None = None
    signs: tuple = ()
    arrays: dict | None = None  # the picture packed for the browser, when a page asked


class Snapshots:
    """The latest snapshots of one run (a bounded ring), safe to read while it trains."""

    def __init__(self, limit: int = MAX_SNAPSHOTS):
        self._ring: deque[Snapshot] = deque(maxlen=limit)
        self._lock = threading.Lock()
        self.added = 0  # pictures taken over its life, the ring's dropped ones too (a rate)

    def add(self, snap: Snapshot) -> None:
        with self._lock:
            self._ring.append(snap)
            self.added += 1

    def clear(self) -> None:
        with self._lock:
            self._ring.clear()

    def since(self, seq: int) -> list[Snapshot]:
        """Snapshots newer than ``seq``, oldest first."""
        with self._lock:
            return [s for s in self._ring if s.seq > seq]
