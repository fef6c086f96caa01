"""The class store: one interface for every class's state (the class and its exercise,
the roster, the learners' tiles, the spotlight, the leaderboard, the class experiment's
places), kept in this process's memory (``MemoryStore``) or in Redis (``redis_store``);
``host_store`` picks one from the host's setting. A class nobody touched for its idle
time is gone, with all of its data; so is an ended one."""

import threading
import time
from abc import ABC, abstractmethod

from playground.classroom.model import ClassInfo, Tile, better_entry, rank_entries
from playground.core.errors import PlaygroundError

SPOTLIGHT_VIEW_S = 5.0  # a spotlight picture older than this is not shown


class StoreUnavailable(PlaygroundError):
    """The store cannot be reached (Redis down or restarting): said in plain words."""


class ClassStore(ABC):
    """Every method is safe from any thread. ``code`` is a class's code; a class that
    ended or expired reads as missing (``info`` None, empty roster and tiles)."""

    @abstractmethod
    def create(self, info: ClassInfo, idle_s: float) -> None: ...

    @abstractmethod
    def info(self, code: str) -> ClassInfo | None: ...

    @abstractmethod
    def send_exercise(self, code: str, exercise: dict[str, str]) -> int:
        """Replace the exercise; returns its new version (0 when the class is gone)."""

    @abstractmethod
    def end(self, code: str) -> None:
        """Delete the class and everything of it."""

    @abstractmethod
    def join(self, code: str, member: str, name: str, max_size: int) -> bool:
        """Add (or rename) a learner; False when the class is gone or full."""

    @abstractmethod
    def leave(self, code: str, member: str) -> None: ...

    @abstractmethod
    def roster(self, code: str) -> dict[str, str]:
        """member -> name."""

    @abstractmethod
    def put_tile(self, code: str, tile: Tile) -> None:
        """The learner's tile (ignored when they are not in the class)."""

    @abstractmethod
    def tiles(self, code: str) -> list[Tile]: ...

    @abstractmethod
    def set_spotlight(self, code: str, member: str | None) -> None: ...

    @abstractmethod
    def spotlight(self, code: str) -> str | None: ...

    @abstractmethod
    def put_spotlight_view(self, code: str, member: str, view: dict) -> None:
        """The spotlit learner's large picture (JSON-able), kept SPOTLIGHT_VIEW_S."""

    @abstractmethod
    def spotlight_view(self, code: str) -> dict | None:
        """The current spotlight's picture, when fresh; None otherwise."""

    @abstractmethod
    def submit(self, code: str, entry: dict) -> None:
        """A passed challenge (``model.ENTRY_KEYS``): kept when it is the learner's best
        for that challenge (``model.better_entry``); ignored for non-members."""

    @abstractmethod
    def entries(self, code: str) -> list[dict]:
        """Every learner's best entry of every challenge, in no order."""

    def leaderboard(self, code: str, challenge: str) -> list[dict]:
        """Those who passed ``challenge``, best first (``model.rank_entries``)."""
        return rank_entries([e for e in self.entries(code) if e["challenge"] == challenge])

    def leaderboards(self, code: str) -> dict[str, list[dict]]:
        """challenge -> its leaderboard, for every challenge someone passed (by name)."""
        entries = self.entries(code)
        names = sorted({e["challenge"] for e in entries})
        return {n: rank_entries([e for e in entries if e["challenge"] == n]) for n in names}

    @abstractmethod
    def start_experiment(self, code: str, experiment: dict | None) -> int:
        """Start a class experiment (``model.Experiment.to_json``), or end it (None): the
        places start again from 0, and the exercise's version is counted up so every
        learner takes it. Returns the new version (0 when the class is gone)."""

    @abstractmethod
    def assign(self, code: str, member: str) -> int | None:
        """The learner's place in the class experiment: 0 for the first to ask, 1 for
        the next, ..., the same on every later call; one counter for the class, however
        many replicas ask at once. None without an experiment, class or membership."""


class _Class:
    def __init__(self, info: ClassInfo, idle_s: float):
        self.info, self.idle_s = info, idle_s
        self.roster: dict[str, str] = {}
        self.tiles: dict[str, Tile] = {}
        self.spotlight: str | None = None
        self.view: tuple[float, str, dict] | None = None
        self.board: dict[tuple[str, str], dict] = {}  # (challenge, member) -> best entry
        self.places: dict[str, int] = {}  # member -> place in the class experiment
        self.touched = time.monotonic()


class MemoryStore(ClassStore):
    """One server's classes, in its memory: nothing to install."""

    clock = staticmethod(time.monotonic)

    def __init__(self):
        self._classes: dict[str, _Class] = {}
        self._lock = threading.Lock()

    def _get(self, code: str, touch: bool = False) -> _Class | None:
        c = self._classes.get(code)
        now = self.clock()
        if c is not None and now - c.touched > c.idle_s:
            del self._classes[code]
            return None
        if c is not None and touch:
            c.touched = now
        return c

    def create(self, info: ClassInfo, idle_s: float) -> None:
        with self._lock:
            # A copy: the caller's object never changes behind its back (as with Redis).
            self._classes[info.code] = _Class(ClassInfo.from_json(info.to_json()), idle_s)
            self._classes[info.code].touched = self.clock()

    def info(self, code: str) -> ClassInfo | None:
        with self._lock:
            c = self._get(code)
            return None if c is None else ClassInfo.from_json(c.info.to_json())

    def send_exercise(self, code: str, exercise: dict[str, str]) -> int:
        with self._lock:
            c = self._get(code, touch=True)
            if c is None:
                return 0
            c.info.exercise = dict(exercise)
            c.info.version += 1
            return c.info.version

    def start_experiment(self, code: str, experiment: dict | None) -> int:
        with self._lock:
            c = self._get(code, touch=True)
            if c is None:
                return 0
            c.info.experiment = None if experiment is None else dict(experiment)
            c.places = {}
            c.info.version += 1
            return c.info.version

    def assign(self, code: str, member: str) -> int | None:
        with self._lock:  # the next place is taken under the lock: no two alike
            c = self._get(code, touch=True)
            if c is None or c.info.experiment is None or member not in c.roster:
                return None
            return c.places.setdefault(member, len(c.places))

    def submit(self, code: str, entry: dict) -> None:
        with self._lock:
            c = self._get(code, touch=True)
            if c is None or entry["member"] not in c.roster:
                return
            key = (str(entry["challenge"]), str(entry["member"]))
            if better_entry(entry, c.board.get(key)):
                c.board[key] = dict(entry)

    def entries(self, code: str) -> list[dict]:
        with self._lock:
            c = self._get(code)
            return [] if c is None else [dict(e) for e in c.board.values()]

    def end(self, code: str) -> None:
        with self._lock:
            self._classes.pop(code, None)

    def join(self, code: str, member: str, name: str, max_size: int) -> bool:
        with self._lock:
            c = self._get(code, touch=True)
            if c is None or (member not in c.roster and len(c.roster) >= max_size):
                return False
            c.roster[member] = name
            return True

    def leave(self, code: str, member: str) -> None:
        with self._lock:
            c = self._get(code, touch=True)
            if c is not None:
                c.roster.pop(member, None)
                c.tiles.pop(member, None)
                if c.spotlight == member:
                    c.spotlight, c.view = None, None

    def roster(self, code: str) -> dict[str, str]:
        with self._lock:
            c = self._get(code)
            return {} if c is None else dict(c.roster)

    def put_tile(self, code: str, tile: Tile) -> None:
        with self._lock:
            c = self._get(code, touch=True)
            if c is not None and tile.member in c.roster:
                c.tiles[tile.member] = tile

    def tiles(self, code: str) -> list[Tile]:
        with self._lock:
            c = self._get(code)
            return [] if c is None else list(c.tiles.values())

    def set_spotlight(self, code: str, member: str | None) -> None:
        with self._lock:
            c = self._get(code, touch=True)
            if c is not None:
                c.spotlight = member if member in c.roster else None
                c.view = None

    def spotlight(self, code: str) -> str | None:
        with self._lock:
            c = self._get(code)
            return None if c is None else c.spotlight

    def put_spotlight_view(self, code: str, member: str, view: dict) -> None:
        with self._lock:
            c = self._get(code)
            if c is not None and c.spotlight == member:
                c.view = (self.clock(), member, view)

    def spotlight_view(self, code: str) -> dict | None:
        with self._lock:
            c = self._get(code)
            if c is None or c.view is None:
                return None
            t, member, view = c.view
            fresh = member == c.spotlight and self.clock() - t <= SPOTLIGHT_VIEW_S
            return view if fresh else None
