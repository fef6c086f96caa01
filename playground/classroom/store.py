"""The class store: one interface for every class's state (the class and its exercise,
the roster, the learners' tiles, the spotlight), kept in this process's memory by default
and in Redis when ``PLAYGROUND_CLASS_STORE=redis://host:6379/0`` (a class spanning the
replicas behind a balancer). A class nobody touched for its idle time is gone, with all
of its data; so is an ended one."""

import functools
import os
import threading
import time
from abc import ABC, abstractmethod

from playground.classroom.model import ClassInfo, Tile
from playground.core.errors import PlaygroundError

STORE_ENV = "PLAYGROUND_CLASS_STORE"
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


class _Class:
    def __init__(self, info: ClassInfo, idle_s: float):
        self.info, self.idle_s = info, idle_s
        self.roster: dict[str, str] = {}
        self.tiles: dict[str, Tile] = {}
        self.spotlight: str | None = None
        self.view: tuple[float, str, dict] | None = None
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


@functools.cache
def class_store(url: str | None = None) -> ClassStore:
    """This process's store: ``url`` or ``$PLAYGROUND_CLASS_STORE`` (redis://...), else
    memory. A bad address is the host's to fix: a PlaygroundError saying so."""
    url = (os.environ.get(STORE_ENV, "") if url is None else url).strip()
    if url in ("", "memory"):
        return MemoryStore()
    if url.startswith(("redis://", "rediss://", "unix://")):
        from playground.classroom.redis_store import RedisStore

        return RedisStore(url)
    raise PlaygroundError(
        f"{STORE_ENV} must be a redis:// address such as redis://localhost:6379/0, not {url[:80]!r}"
    )
