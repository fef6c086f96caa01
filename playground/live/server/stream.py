"""The frames stream: a WebSocket route of the app's own that pushes a playing run's
pictures, readouts and side plots to its browser, so the page script reruns only when the
learner touches a control (a rerun costs the server 30-50 ms; 30 learners at 4 reruns a
second would need more cores than training).

``streamlit_app.py`` serves ``ROUTES`` beside Streamlit's own (``st.App(routes=...)``).
A session's page makes a ``StreamLink`` (an unguessable token, kept in that session only)
and gives the token to its own browser; the route serves a socket only its own session's
run, and only to a page of the same origin. The link lives as long as the session does
(the registry holds it weakly); the stream ends when the socket closes or the page stops
asking (``playing`` False).

Messages are ``figures.protocol.StreamMessage`` (JSON, built by ``encode_message``): any
of ``frames`` (pictures for a chart to play back), ``plots`` (the side plots' arrays by
path ``"<trace uid>.<attr>"``), ``figures`` (whole figures: the Network) and ``status``
(``StreamStatus``: the state, the readouts, what the live region says, ...).
"""

import asyncio
import gc
import secrets
import sys
import time
import weakref
from collections.abc import Callable
from urllib.parse import urlsplit

from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from playground.core.train import metric_name
from playground.figures.describe import progress_sentence, stopped_sentence
from playground.figures.protocol import StreamMessage, StreamStatus, WholeFigure, encode_message
from playground.live.server.frames import (
    BoundaryView,
    curve_arrays,
    frame,
    readouts,
    thin,
    thumbnail_arrays,
    thumbnails_fit,
)
from playground.live.server.scheduler import Scheduler

PATH = "/_playground/live"
TICK_S = 0.1  # pictures go out in batches this often; the browser plays them back smoothly
STATUS_S = 0.25  # readouts
CURVES_S = 1.0  # side plots (a Plotly redraw in the browser each)
THUMBS_S = 1.0  # unit pictures (a canvas repaint; ~1 ms of the server's lock each)
# The Network (a whole figure: ~10 ms of the lock for 8-8, ~80 ms for 8 layers of 16) at
# most this often, and never more than NETWORK_SHARE of the server's time over all the
# runs that play: the more learners, the rarer each one's.
NETWORK_S = 1.0
NETWORK_SHARE = 0.1
NETWORK_BYTES_S = 100_000  # and at most this many bytes a second (8-8: 51 KB a figure)
BAD_REQUEST = 1008  # WebSocket close code: policy violation

LINKS: "weakref.WeakValueDictionary[str, StreamLink]" = weakref.WeakValueDictionary()


class StreamLink:
    """One session's stream: its token, its run, and what its page shows.

    The page sets ``live``, ``view``, ``playing`` and ``resume`` (starts training again,
    e.g. when the browser reconnects after an idle stop) on each full run.
    """

    def __init__(self, key, scheduler: Scheduler):
        self.token = secrets.token_urlsafe(24)
        self.key, self.scheduler = key, scheduler
        self.live = None
        self.view: BoundaryView | None = None
        self.playing = False
        self.curves = True
        self.frames_key = "boundary"  # the page's chart that plays the pictures
        self.resume: Callable[[], object] | None = None
        # A class's learner: what should rerun the page (a new exercise, the spotlight),
        # and a note for the picture; read from memory (the class publisher's), never
        # from the store.
        self.attention: Callable[[], str] | None = None
        self.note: Callable[[], str] | None = None
        # The page's Network while it plays: a whole figure ``{spec, alt}`` of the run now.
        self.network: Callable[[], WholeFigure] | None = None
        LINKS[self.token] = self

    def status(self) -> StreamStatus:
        job, live = self.scheduler.job(self.key), self.live
        if not self.playing:
            state, why = "paused", ""
        elif job is None or job.stopped:
            # A job gone while its run had stopped by itself (the page's script, rerun,
            # took the job away first): the run's own reason, not a closed tab's.
            gone = (live.halted_why if live is not None else "") or "nobody is watching"
            state, why = "stopped", job.stopped if job else gone
        else:
            state, why = ("playing" if job.admitted else "waiting"), ""
        out: StreamStatus = {"state": state, "ahead": self.scheduler.ahead(self.key), "why": why}
        if live is not None:
            out["readouts"] = readouts(live.run)
            # What a screen reader hears (the page's live region, every few seconds).
            out["says"] = progress_sentence(out["readouts"])
            out["message"] = live.message
            out["compiling"] = state == "playing" and live.compile_pending()
        if state == "stopped":
            out["says"] = stopped_sentence(why)
        if self.attention is not None:
            out["attention"] = self.attention()
        if self.note is not None:
            out["note"] = self.note()
        return out


def same_origin(ws: WebSocket) -> bool:
    """The page that opens the socket was served by this host (browsers always send
    Origin on WebSocket requests; a page elsewhere cannot use a leaked token)."""
    origin = ws.headers.get("origin", "")
    host = ws.headers.get("host", "")
    return bool(origin and host) and urlsplit(origin).netloc == host


async def _plots(link: StreamLink, want_curves: bool, want_thumbs: bool) -> dict:
    live = link.live
    out = {}
    if want_curves:
        out.update(await asyncio.to_thread(curve_arrays, live, metric_name(live.spec.task)))
    if want_thumbs:
        out["thumbs"] = await asyncio.to_thread(thumbnail_arrays, live)
    return out


def network_wait_s(cost_s: float, playing: int, size: int = 0) -> float:
    """Seconds until a run's next Network, one having cost ``cost_s`` and ``size`` bytes
    with ``playing`` runs playing: at most NETWORK_SHARE of the server's time for all of
    them, and NETWORK_BYTES_S for this one."""
    return max(NETWORK_S, cost_s * max(playing, 1) / NETWORK_SHARE, size / NETWORK_BYTES_S)


async def serve(ws: WebSocket, link: StreamLink) -> None:
    """Send what is new every tick until the socket closes."""
    seq = max((s.seq for s in link.live.snapshots.since(0)), default=0) if link.live else 0
    before: dict = {}
    last = {"status": 0.0, "curves": 0.0, "thumbs": 0.0}
    network_at = time.monotonic() + NETWORK_S  # the page drew the network as it started
    shown_live = link.live
    while True:
        now = time.monotonic()
        live = link.live
        if live is not shown_live:  # a new run (the page changed the network)
            shown_live, seq, before = live, 0, {}
        msg: StreamMessage = {}
        job = link.scheduler.job(link.key)
        if link.playing and job is None and link.resume is not None:
            link.resume()  # back after an idle stop: the same session goes on
        if live is not None:
            snaps = [s for s in live.snapshots.since(seq) if s.arrays is not None]
            if snaps:
                seq = snaps[-1].seq
                frames = thin([frame(s, s.arrays) for s in snaps], before)
                msg["frames"] = {link.frames_key: frames}
            playing = job is not None and job.admitted and not job.stopped
            curves_due = link.curves and now - last["curves"] >= CURVES_S
            thumbs_due = thumbnails_fit(live.spec.hidden) and now - last["thumbs"] >= THUMBS_S
            if playing and (curves_due or thumbs_due):
                msg["plots"] = await _plots(link, curves_due, thumbs_due)
                last["curves"] = now if curves_due else last["curves"]
                last["thumbs"] = now if thumbs_due else last["thumbs"]
            network = link.network
            if playing and network is not None and now >= network_at:
                start = time.perf_counter()
                figure = await asyncio.to_thread(network)
                msg["figures"] = {"network": figure}
                cost, size = time.perf_counter() - start, len(figure["spec"])
                network_at = now + network_wait_s(cost, link.scheduler.playing(), size)
        if now - last["status"] >= STATUS_S or msg:
            msg["status"] = link.status()
            last["status"] = now
        if msg:
            await ws.send_text(encode_message(msg))
        await asyncio.sleep(TICK_S)


async def live_socket(ws: WebSocket) -> None:
    """The route: check who asks, then stream that session's run."""
    link = LINKS.get(ws.query_params.get("token", ""))
    if link is None or not same_origin(ws):
        await ws.close(code=BAD_REQUEST)
        return
    await ws.accept()
    link.scheduler.watch(link.key, +1)
    try:
        await serve(ws, link)
    except (WebSocketDisconnect, RuntimeError, ConnectionError):
        pass  # the tab closed or the connection dropped: the scheduler's idle stop follows
    finally:
        link.scheduler.watch(link.key, -1)


ROUTES = [WebSocketRoute(PATH, live_socket)]

# Python's full collections walk every object of the process (JAX's, Plotly's, every
# session's) holding the interpreter lock; on a class server each stalled every
# learner's pictures for ~1 s at a time.
GC_THRESHOLDS = (20_000, 20, 20)


def quiet_collector() -> None:
    """What the server imported is kept out of the collector for good (``gc.freeze``),
    and collections come ~30x rarer: a server's garbage is mostly arrays that reference
    counting frees at once."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


# How often the interpreter lock may change hands between busy threads (Python's default
# is 5 ms). A trainer gives the lock up whenever XLA runs a chunk and waits up to one
# interval to get it back while another thread computes (a page's script, a compile):
# with 5 ms, one slice of 12 learners' runs took 0.8 s instead of 0.13 s while a class
# arrived, and each of them saw no picture for that long.
SWITCH_INTERVAL_S = 0.001


def prompt_lock_handover(interval: float = SWITCH_INTERVAL_S) -> None:
    """Threads waiting for the interpreter lock get it after ``interval`` at most."""
    sys.setswitchinterval(interval)


# zlib's level for the websockets' permessage-deflate (its default is 6). The pictures are
# quantised bytes in base64: level 6 took 16% of a class server's time (py-spy, 30
# learners at the default speed) for messages ~20% smaller than level 1's.
WS_DEFLATE_LEVEL = 1


def cheaper_compression(level: int = WS_DEFLATE_LEVEL) -> bool:
    """Give the server's websockets deflate ``level``; False where the server is not the
    one this knows (then nothing changes).

    Written here because uvicorn (under ``st.App``) has a switch for compression but no
    setting for its level: its protocol makes websockets' factory by name, so the name
    gets a factory that adds the level."""
    try:
        from uvicorn.protocols.websockets import websockets_sansio_impl as impl
        from websockets.extensions.permessage_deflate import ServerPerMessageDeflateFactory
    except ImportError:
        return False
    made = getattr(impl, "ServerPerMessageDeflateFactory", None)
    if made is None or not issubclass(made, ServerPerMessageDeflateFactory):
        return False

    class LeveledFactory(ServerPerMessageDeflateFactory):
        def __init__(self, *args, compress_settings=None, **kwargs):
            settings = {**(compress_settings or {}), "level": level}
            super().__init__(*args, compress_settings=settings, **kwargs)

    impl.ServerPerMessageDeflateFactory = LeveledFactory
    return True
