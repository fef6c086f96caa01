"""Learners at work: each session loads the page, presses Play and counts the
pictures and epochs that arrive (``SessionResult``); many run at once on one event loop.
With a class, a teacher first creates it on the Class page, the learners join it, and
the teacher's wall is watched while they play (``WallResult``)."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import itertools
import math
import time
import urllib.parse
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import requests
import websockets

from playground.loadtest.protocol import StreamSession, WallRefresh, picture_stream
from playground.loadtest.server import ServerMonitor

# A session that has not pressed Play this long after connecting counts as failed
# (a class of 30 arriving at once waits for 30 first runs on one server).
PLAY_TIMEOUT_S = 120.0
CLASS_PAGE = "class"  # the Class page's URL path (streamlit_app.py)
CREATE_LABEL = "Create a class"  # its button (ui/class_wall.py create_form)


# -- results ------------------------------------------------------------------------------------
@dataclass
class SessionResult:
    """What one simulated learner saw. Times are ``time.monotonic()`` seconds."""

    index: int
    upstream: str | None = None  # X-Playground-Upstream of the websocket handshake (or page)
    pictures: int = 0  # boundary pictures received after Play
    picture_times: list[float] = field(default_factory=list)
    # When the server took each (its monotonic clock: this machine's, for a local one).
    taken_times: list[float | None] = field(default_factory=list)
    opened_at: float | None = None  # when the page was asked for
    played_at: float | None = None  # when Play was pressed
    first_epoch: float | None = None
    last_epoch: float | None = None
    seconds: float = 0.0  # from Play pressed to the end
    errors: list[str] = field(default_factory=list)
    cached_refs: int = 0  # messages that came as a reference to the client's cache
    # Fragment reruns that finished, and those whose output the server dropped unsent:
    # when the next run starts before a run's messages left the server, Streamlit
    # clears them from its queue and reports that run FINISHED_EARLY_FOR_RERUN
    # (ForwardMsgQueue.clear). Many dropped runs: the server cannot keep up.
    fragment_runs: int = 0
    fragment_runs_dropped: int = 0
    # Full runs whose end Streamlit never sent (a fragment's rerun came in between:
    # StreamSession.handle); the next run tells they are over.
    full_runs_unfinished: int = 0

    @property
    def pictures_per_s(self) -> float:
        return self.pictures / self.seconds if self.seconds > 0 else 0.0

    @property
    def epochs_per_s(self) -> float:
        if self.first_epoch is None or self.last_epoch is None or self.seconds <= 0:
            return 0.0
        return (self.last_epoch - self.first_epoch) / self.seconds

    @property
    def first_picture_s(self) -> float | None:
        """Seconds from opening the page to the first picture (a class arrives at once:
        the last learner's first picture waits for everyone's first run)."""
        if self.opened_at is None or not self.picture_times:
            return None
        return self.picture_times[0] - self.opened_at

    def _longest_gap(self) -> tuple[float, float] | None:
        """(start, end) of the longest time between two pictures the server took (their
        arrival times where the frames carry no time)."""
        t = [x for x in self.taken_times if x is not None]
        t = t if len(t) == len(self.picture_times) else self.picture_times
        return max(itertools.pairwise(t), key=lambda ab: ab[1] - ab[0]) if len(t) > 1 else None

    @property
    def longest_gap_s(self) -> float | None:
        """The longest time between two pictures the server took while playing: a stall
        the eye sees (the browser plays pictures at the pace they were taken, ~0.4 s
        behind, so a late message alone shows no stall)."""
        gap = self._longest_gap()
        return gap[1] - gap[0] if gap else None

    @property
    def longest_gap_starts_s(self) -> float | None:
        """When the longest gap began, in seconds after this page was opened (the
        server's clock is this machine's only for a local server): a stall while the
        class still arrives or one in its steady state."""
        gap = self._longest_gap()
        return gap[0] - self.opened_at if gap and self.opened_at is not None else None

    @property
    def longest_arrival_gap_s(self) -> float | None:
        """The longest wait between two pictures arriving here."""
        t = self.picture_times
        return max(b - a for a, b in itertools.pairwise(t)) if len(t) > 1 else None

    @property
    def p10_pictures_per_s(self) -> float:
        """The 10th percentile of the pictures that came in each whole second after the
        first one: how the worst seconds feel, not the average."""
        t = self.picture_times
        if len(t) < 2 or self.played_at is None:
            return 0.0
        end = self.played_at + self.seconds
        counts = [0] * max(1, int(end - t[0]))
        for x in t:
            k = int(x - t[0])
            if k < len(counts):
                counts[k] += 1
        return float(sorted(counts)[len(counts) // 10])

    def epoch_seen(self, epoch: float | None) -> None:
        if epoch is None:
            return
        if self.first_epoch is None:
            self.first_epoch = epoch
        self.last_epoch = epoch if self.last_epoch is None else max(self.last_epoch, epoch)

    def small(self) -> dict[str, Any]:
        """The per-session entry of the JSON summary."""
        return {
            "index": self.index,
            "upstream": self.upstream,
            "pictures": self.pictures,
            "pictures_per_s": round(self.pictures_per_s, 2),
            "p10_pictures_per_s": round(self.p10_pictures_per_s, 1),
            "first_picture_s": _round(self.first_picture_s, 2),
            "longest_gap_s": _round(self.longest_gap_s, 3),
            "longest_gap_starts_s": _round(self.longest_gap_starts_s, 2),
            "longest_arrival_gap_s": _round(self.longest_arrival_gap_s, 3),
            "epochs_per_s": round(self.epochs_per_s, 1),
            "first_epoch": self.first_epoch,
            "last_epoch": self.last_epoch,
            "seconds": round(self.seconds, 2),
            "fragment_runs": self.fragment_runs,
            "fragment_runs_dropped": self.fragment_runs_dropped,
            "full_runs_unfinished": self.full_runs_unfinished,
            "cached_refs": self.cached_refs,
            "errors": _counted(self.errors)[:3],
        }


@dataclass
class WallResult:
    """What the teacher's wall showed while every learner played: the refreshes that
    arrived in the measured window, each with its tiles' ages as the server wrote them
    ("seen 0.4 s ago": the server's clock, so a slow client does not make them older)."""

    code: str | None = None  # the class's code
    upstream: str | None = None
    refreshes: list[WallRefresh] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def ages(self) -> list[float]:
        return sorted(a for r in self.refreshes for a in r.ages)

    def summary(self) -> dict[str, Any]:
        """The wall's entries of the JSON summary."""
        ages = self.ages
        arrived = [r.arrived for r in self.refreshes]
        gaps = [b - a for a, b in itertools.pairwise(arrived)]
        return {
            "class_code": self.code,
            "wall_upstream": self.upstream,
            "wall_refreshes": len(self.refreshes),
            # Tiles in the last refresh: one per learner when every learner is on the wall.
            "wall_tiles_last": len(self.refreshes[-1].ages) if self.refreshes else None,
            "wall_tile_age_p95_s": _round(percentile(ages, 95), 2),
            "wall_tile_age_max_s": _round(max(ages, default=None), 2),
            # The longest wait between two refreshes arriving (the page asks every 1 s).
            "wall_refresh_gap_max_s": _round(max(gaps, default=None), 2),
            "wall_errors": _counted(self.errors)[:3],
        }


def percentile(values: list[float], q: float) -> float | None:
    """The nearest-rank ``q``-th percentile (None for no values)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def _round(v: float | None, digits: int) -> float | None:
    return None if v is None else round(v, digits)


def _counted(errors: list[str]) -> list[str]:
    """Distinct errors in order, each with how often it occurred when more than once."""
    counts = Counter(errors)
    return [e if counts[e] == 1 else f"{e} (x{counts[e]})" for e in dict.fromkeys(errors)]


async def _wait_for(
    session: StreamSession, ready: Callable[[], bool], timeout: float, what: str
) -> None:
    """Wait until ``ready()`` (re-checked on every change the session reports); raise
    if the stream closes first or ``timeout`` passes."""
    deadline = time.monotonic() + timeout
    while not ready():
        if session.closed:
            raise RuntimeError(f"websocket closed early ({session.closed}) waiting for {what}")
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError(f"no {what} in {timeout:.0f} s")
        session.changed.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(session.changed.wait(), min(left, 1.0))


def _record(error: BaseException) -> str:
    if isinstance(error, websockets.ConnectionClosed):
        return f"websocket closed early: {error}"
    if isinstance(error, requests.ConnectionError):
        return f"ConnectionError: cannot load the page: {error}"
    return f"{type(error).__name__}: {error}".strip()


async def _drive(
    url: str,
    seconds: float,
    *,
    index: int,
    query: str,
    playing: Callable[[float | None], None] | None = None,
    end: Awaitable[None] | None = None,
    play_timeout: float = PLAY_TIMEOUT_S,
    class_code: str | None = None,
) -> SessionResult:
    """One learner: load, connect, first run, Play, watch. ``playing(t)`` is called once
    with the time Play was pressed (None if it never was); the session then ends when
    ``end`` completes, or ``seconds`` after Play without one. With ``class_code``, the
    first run must say the learner is in that class."""
    result = SessionResult(index=index)
    session = StreamSession(url, query=query, index=index)
    tasks: list[asyncio.Task] = []
    reported = False

    def report(t: float | None) -> None:
        nonlocal reported
        if not reported and playing is not None:
            reported = True
            playing(t)

    async def count_pictures() -> None:
        last_seq = -1
        async for pic in picture_stream(session):
            if pic.seq > last_seq and play_at is not None:
                last_seq = pic.seq
                result.pictures += 1
                result.picture_times.append(time.monotonic())
                result.taken_times.append(pic.taken)
                result.epoch_seen(pic.epoch)

    play_at: float | None = None
    result.opened_at = time.monotonic()
    try:
        await asyncio.to_thread(session.load_page)
        result.upstream = session.upstream
        await session.open_stream()
        result.upstream = session.upstream
        tasks.append(asyncio.create_task(session.run()))
        tasks.append(asyncio.create_task(count_pictures()))
        await session.rerun()
        await _wait_for(session, lambda: session.full_runs_finished > 0, play_timeout, "first run")
        if class_code is not None and session.in_class != class_code:
            said = "; ".join(session.warnings) or "the page does not say so"
            raise RuntimeError(f"not in class {class_code}: {said}")
        if session.play_id is None:
            raise RuntimeError("no button labelled 'Play' on the page")
        before = session.full_runs_finished
        play_at = result.played_at = time.monotonic()
        await session.rerun(trigger=session.play_id)  # the click
        result.epoch_seen(session.epoch)
        await _wait_for(session, lambda: session.full_runs_finished > before, 60, "run after Play")
        if not session.playing:
            raise RuntimeError("pressed Play, but the page does not say it is playing")
        report(play_at)
        own = end is None
        done = asyncio.ensure_future(
            asyncio.sleep(max(0.0, play_at + seconds - time.monotonic())) if own else end
        )
        reader = tasks[0]
        await asyncio.wait([done, reader], return_when=asyncio.FIRST_COMPLETED)
        if own:
            done.cancel()  # (the shared end of run_sessions is not ours to cancel)
        if reader.done() and not done.done():
            raise RuntimeError(f"websocket closed early ({session.closed or 'reader ended'})")
    except Exception as err:
        result.errors.append(_record(err))
    finally:
        report(None)
        ended = time.monotonic()
        result.seconds = ended - play_at if play_at is not None else 0.0
        if session.epoch is not None and play_at is not None:
            result.epoch_seen(session.epoch)
        await session.close()
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(BaseException):
                await task
        result.errors[:0] = [e for e in session.errors if e not in result.errors]
        result.cached_refs = session.cache_hits
        result.fragment_runs = session.fragment_runs
        result.fragment_runs_dropped = session.fragment_runs_dropped
        result.full_runs_unfinished = session.full_runs_unfinished
    return result


async def _create_class(session: StreamSession, timeout: float) -> asyncio.Task:
    """The teacher: open the Class page, press "Create a class", and read the class's
    code and secret from the query string the server gives the page
    (``class=CODE&teacher=SECRET``). Returns the task reading the session's stream; the
    session stays on the teacher's wall."""
    await asyncio.to_thread(session.load_page)
    await session.open_stream()
    reader = asyncio.create_task(session.run())
    before = 0

    def created() -> bool:
        return bool(session.errors) or (
            session.full_runs_finished > before and "teacher" in _query(session)
        )

    try:
        await session.rerun()
        first = lambda: bool(session.errors) or session.full_runs_finished > 0  # noqa: E731
        await _wait_for(session, first, timeout, "first run of the Class page")
        if session.errors:
            raise RuntimeError(f"on the Class page: {session.errors[0]}")
        button = session.buttons.get(CREATE_LABEL)
        if button is None:
            raise RuntimeError(f"no button labelled {CREATE_LABEL!r} on the Class page")
        before = session.full_runs_finished
        await session.rerun(trigger=button)  # the click
        await _wait_for(session, created, 60, "class code and teacher link")
        if session.errors:
            raise RuntimeError(f"creating a class: {session.errors[0]}")
    except BaseException:
        reader.cancel()
        raise
    return reader


def _query(session: StreamSession) -> dict[str, str]:
    return dict(urllib.parse.parse_qsl(session.query))


def class_query(code: str, index: int, query: str = "") -> str:
    """A learner's join link: the class, a name, then the given settings."""
    name = urllib.parse.quote(f"Learner {index + 1}")
    own = query.lstrip("?")
    return f"class={urllib.parse.quote(code)}&name={name}" + (f"&{own}" if own else "")


async def drive_session(
    url: str, seconds: float, *, index: int = 0, query: str = ""
) -> SessionResult:
    """One simulated learner: open the page at ``url``, press Play, watch for ``seconds``."""
    return await _drive(url, seconds, index=index, query=query)


async def _run_all(
    url: str,
    n: int,
    seconds: float,
    *,
    query: str,
    stagger: float,
    monitor: ServerMonitor | None,
    wall: WallResult | None = None,
) -> list[SessionResult]:
    """All sessions, staggered; the measured window opens once every session plays (or
    gave up) and lasts ``seconds``; every session ends with it. With ``wall``, a
    teacher creates a class first, every learner joins it, and the teacher's wall
    refreshes that arrive in the window go into ``wall``."""
    loop = asyncio.get_running_loop()
    end = loop.create_future()
    waiting = n
    window: list[float] = []  # when it opened, when it closed

    def close_window() -> None:
        window.append(time.monotonic())
        if monitor is not None:
            monitor.stop()
        if not end.done():
            end.set_result(None)

    def playing(_t: float | None) -> None:
        nonlocal waiting
        waiting -= 1
        if waiting == 0:
            window.append(time.monotonic())
            if monitor is not None:
                monitor.start()
            loop.call_later(seconds, close_window)

    queries = [query] * n
    teacher, reader = None, None
    if wall is not None:
        teacher = StreamSession(url, page=CLASS_PAGE, index=-1)
        try:
            reader = await _create_class(teacher, PLAY_TIMEOUT_S)
            wall.code = _query(teacher).get("class")
            queries = [class_query(wall.code or "", i, query) for i in range(n)]
        except Exception as err:
            wall.errors.append(_record(err))
        wall.upstream = teacher.upstream
        if wall.errors:  # no class to join: the learners would measure something else
            await teacher.close()
            why = f"no class to join: {wall.errors[-1]}"
            return [SessionResult(index=i, errors=[why]) for i in range(n)]

    async def one(i: int) -> SessionResult:
        await asyncio.sleep(i * stagger)
        return await _drive(
            url,
            seconds,
            index=i,
            query=queries[i],
            playing=playing,
            end=end,
            class_code=wall.code if wall is not None else None,
        )

    try:
        results = await asyncio.gather(*(one(i) for i in range(n)))
    finally:
        if monitor is not None:
            monitor.stop()
        if teacher is not None and wall is not None:
            opened = window[0] if window else math.inf
            closed = window[1] if len(window) > 1 else math.inf
            wall.refreshes = [r for r in teacher.wall_refreshes if opened <= r.arrived <= closed]
            if teacher.closed:
                wall.errors.append(f"the teacher's websocket closed early ({teacher.closed})")
            await teacher.close()
            if reader is not None:
                reader.cancel()
                with contextlib.suppress(BaseException):
                    await reader
            wall.errors[:0] = [e for e in teacher.errors if e not in wall.errors]
    return list(results)


@contextlib.contextmanager
def _steady_client():
    """The client's own collector out of the way: its full passes over thirty sessions'
    messages stalled every session's reading at once for ~1 s, which the server never
    did."""
    gc.collect()
    gc.freeze()
    old = gc.get_threshold()
    gc.set_threshold(50_000, 50, 50)
    try:
        yield
    finally:
        gc.set_threshold(*old)
        gc.unfreeze()


def run_sessions(
    url: str,
    n: int,
    seconds: float,
    *,
    query: str = "",
    stagger: float = 0.1,
    monitor: ServerMonitor | None = None,
) -> list[SessionResult]:
    """``n`` learners at once (started ``stagger`` s apart), all playing for at least
    ``seconds``: the common window in which all of them play is ``seconds`` long, and
    ``monitor`` (if given) measures the server over it."""
    with _steady_client():
        return asyncio.run(_run_all(url, n, seconds, query=query, stagger=stagger, monitor=monitor))


def run_class(
    url: str,
    n: int,
    seconds: float,
    *,
    query: str = "",
    stagger: float = 0.1,
    monitor: ServerMonitor | None = None,
) -> tuple[list[SessionResult], WallResult]:
    """``run_sessions`` in a class: a teacher creates it on the Class page before the
    learners arrive, each learner joins it (``class=CODE&name=Learner i``, then
    ``query``), and the teacher's wall stays open through the measured window."""
    wall = WallResult()
    with _steady_client():
        results = asyncio.run(
            _run_all(url, n, seconds, query=query, stagger=stagger, monitor=monitor, wall=wall)
        )
    return results, wall
