"""Load test: many learners playing at once, without a browser per learner.

``python -m playground.loadtest --sessions N --seconds S [--json] [--url URL] [--query QS]``

Each simulated learner is a real Streamlit session driven over Streamlit's own
websocket protocol (``/_stcore/stream``, Streamlit's protobuf classes), doing what the
browser's frontend does: it loads the page (keeping its cookies), opens the stream,
asks for the first run, presses **Play** (a rerun whose widget states carry the
button's trigger next to every widget value the page reported), then keeps the page
alive: it sends the fragment reruns that ``st.fragment(run_every=...)`` asks the
client for, keeps the forward-message cache Streamlit expects, and follows the URL's
query string. It counts the pictures of the decision boundary that arrive and the
epochs trained. A headless Chromium per learner would eat the very cores the test
measures; this client used 0.01-0.03 of a core for 1 to 30 learners here.

Without ``--url`` the tool starts ``streamlit run streamlit_app.py`` itself on a free
port and measures the server's CPU (cores used over the window in which every session
plays) and memory; with ``--url`` (for instance replicas behind nginx) it only drives
sessions, and records the ``X-Playground-Upstream`` header that tells which replica
served each one.

This module speaks the wire protocol, so it imports Streamlit's protobuf classes
(``streamlit.proto``); it never imports the app or Streamlit's runtime API.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import requests
import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ClientState_pb2 import ClientState, ContextInfo
from streamlit.proto.Element_pb2 import Element
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.NumberInput_pb2 import NumberInput
from streamlit.proto.WidgetStates_pb2 import WidgetState

REPO = Path(__file__).resolve().parents[1]
UPSTREAM_HEADER = "X-Playground-Upstream"
XSRF_COOKIE = "_streamlit_xsrf"
PLAY_LABEL, PAUSE_LABEL, EPOCH_LABEL = "Play", "Pause", "Epoch"
BOUNDARY_KEY = "boundary"  # the live_plot key of the decision boundary (ui/live_view.py)
STARTUP_TIMEOUT_S = 90.0
# A session that has not pressed Play this long after connecting counts as failed
# (a class of 30 arriving at once waits for 30 first runs on one server).
PLAY_TIMEOUT_S = 120.0
MAX_ERROR_MESSAGES = 5


# -- results ------------------------------------------------------------------------------------
@dataclass
class SessionResult:
    """What one simulated learner saw. Times are ``time.monotonic()`` seconds."""

    index: int
    upstream: str | None = None  # X-Playground-Upstream of the websocket handshake (or page)
    pictures: int = 0  # boundary pictures received after Play
    picture_times: list[float] = field(default_factory=list)
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

    @property
    def pictures_per_s(self) -> float:
        return self.pictures / self.seconds if self.seconds > 0 else 0.0

    @property
    def epochs_per_s(self) -> float:
        if self.first_epoch is None or self.last_epoch is None or self.seconds <= 0:
            return 0.0
        return (self.last_epoch - self.first_epoch) / self.seconds

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
            "epochs_per_s": round(self.epochs_per_s, 1),
            "first_epoch": self.first_epoch,
            "last_epoch": self.last_epoch,
            "seconds": round(self.seconds, 2),
            "fragment_runs": self.fragment_runs,
            "fragment_runs_dropped": self.fragment_runs_dropped,
            "cached_refs": self.cached_refs,
            "errors": _counted(self.errors)[:3],
        }


def _counted(errors: list[str]) -> list[str]:
    """Distinct errors in order, each with how often it occurred when more than once."""
    counts = Counter(errors)
    return [e if counts[e] == 1 else f"{e} (x{counts[e]})" for e in dict.fromkeys(errors)]


# -- the server ---------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """``streamlit run streamlit_app.py`` on a free port (or ``port``), healthy on return.

    A context manager; ``stop()`` ends it (its own process group, so exactly what it
    started). ``env`` adds to (overrides) this process's environment.
    """

    def __init__(
        self,
        port: int | None = None,
        *,
        env: dict | None = None,
        cwd: str | Path = REPO,
        app: str = "streamlit_app.py",
        args: tuple[str, ...] = (),
    ):
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._log = tempfile.NamedTemporaryFile(  # noqa: SIM115 - lives as long as the server
            prefix=f"loadtest-streamlit-{self.port}-", suffix=".log", delete=False
        )
        cmd = [
            sys.executable, "-m", "streamlit", "run", app,
            "--server.headless", "true",
            "--server.port", str(self.port),
            "--server.address", "127.0.0.1",
            "--browser.gatherUsageStats", "false",
            *args,
        ]  # fmt: skip
        self.proc = subprocess.Popen(
            cmd,
            cwd=str(cwd),
            env={**os.environ, **(env or {})},
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.pid = self.proc.pid
        try:
            self._wait_healthy()
        except BaseException:
            self.stop()
            raise

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return Path(self._log.name).read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def _wait_healthy(self) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"streamlit exited with {self.proc.returncode}:\n{self.log_tail()}"
                )
            with contextlib.suppress(requests.RequestException):
                if requests.get(f"{self.url}/_stcore/health", timeout=2).status_code == 200:
                    return
            time.sleep(0.25)
        raise RuntimeError(f"streamlit not healthy after {STARTUP_TIMEOUT_S} s:\n{self.log_tail()}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        self._log.close()
        with contextlib.suppress(OSError):
            os.unlink(self._log.name)

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


# -- server CPU and memory, from /proc ----------------------------------------------------------
_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _tree(pid: int) -> list[int]:
    """``pid`` and its descendants (the server may start helpers)."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        parents.setdefault(ppid, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(parents.get(p, []))
    return out


def cpu_seconds(pid: int) -> float:
    """utime + stime of ``pid`` and its children, in seconds."""
    total = 0
    for p in _tree(pid):
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15)
    return total / _TICK


def rss_mb(pid: int) -> float:
    """Resident memory (VmRSS) of ``pid`` and its children, in MB."""
    total_kb = 0
    for p in _tree(pid):
        try:
            status = Path(f"/proc/{p}/status").read_text()
        except OSError:
            continue
        m = re.search(r"^VmRSS:\s+(\d+)\s+kB", status, re.M)
        total_kb += int(m.group(1)) if m else 0
    return total_kb / 1024


class ServerMonitor:
    """The server's CPU (cores: CPU seconds / wall seconds) and memory over a window,
    ``start()`` to ``stop()``; RSS is sampled every ``every`` seconds in between.
    ``result()`` is the ``cpu`` argument of ``summarize``. The window's CPU time of this
    process (the load client) comes along: it shares the machine with the server."""

    def __init__(self, pid: int, every: float = 1.0):
        self.pid, self.every = pid, every
        self.rss_max = 0.0
        self.rss_samples: list[tuple[float, float]] = []  # (seconds into the window, MB)
        self._start: tuple[float, float, float] | None = None  # wall, server CPU, client CPU
        self._end: tuple[float, float, float, float] | None = None  # ... and RSS
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True, name="rss-sampler")

    def _now(self) -> tuple[float, float, float]:
        return time.monotonic(), cpu_seconds(self.pid), time.process_time()

    def _sample(self) -> None:
        while not self._done.wait(self.every):
            rss = rss_mb(self.pid)
            self.rss_max = max(self.rss_max, rss)
            self.rss_samples.append((time.monotonic() - self._start[0], rss))

    def start(self) -> None:
        if self._start is None:
            self._start = self._now()
            self.rss_max = rss_mb(self.pid)
            self._thread.start()

    def stop(self) -> None:
        if self._end is not None:
            return
        self.start()  # a window never opened is an empty one
        self._end = (*self._now(), rss_mb(self.pid))
        self._done.set()
        self._thread.join(timeout=5)

    def result(self) -> dict[str, float | None]:
        self.stop()
        (t0, server0, client0), (t1, server1, client1, rss) = self._start, self._end
        wall = t1 - t0
        return {
            "server_cpu_cores": (server1 - server0) / wall if wall > 0 else None,
            "server_rss_mb": rss,
            "server_rss_max_mb": max(self.rss_max, rss),
            "server_rss_slope_mb_per_min": rss_slope(self.rss_samples),
            "client_cpu_cores": (client1 - client0) / wall if wall > 0 else None,
            "window_s": wall,
        }


def rss_slope(samples: list[tuple[float, float]]) -> float | None:
    """Least-squares growth of the RSS over the window, MB per minute (None for fewer
    than 10 samples): a soak's memory should stay flat."""
    if len(samples) < 10:
        return None
    t = [a for a, _ in samples]
    mb = [b for _, b in samples]
    return 60 * statistics.linear_regression(t, mb).slope


# -- pictures: the one place that knows where the boundary's pictures come from -----------------
class Picture(NamedTuple):
    seq: int
    epoch: float | None


def epoch_of(label: str) -> float | None:
    """The number in a label such as ``"epoch 1,234"`` or a metric body ``"1,234"``."""
    m = re.search(r"\d[\d,]*(?:\.\d+)?", label or "")
    return float(m.group(0).replace(",", "")) if m else None


async def picture_stream(session: StreamSession) -> AsyncIterator[Picture]:
    """Every picture of the decision boundary that reaches ``session``, as it arrives.

    While a run plays, the page gives the boundary's components-v2 element
    (``ui/live_plot.py``) the spec of the frames stream: ``{"stream": {"url", "token",
    "key"}}``; the pictures then come over that WebSocket of the app's own
    (``server/stream.py``) as ``{"frames": {key: [{seq, t, label, arrays}, ...]}}``,
    opened here like the browser opens it (same cookies, Origin and upstream). Where no
    stream is served, the frames ride in the element's data instead; both are read.
    """
    pictures: asyncio.Queue = asyncio.Queue()
    streams: dict[str, asyncio.Task] = {}

    async def read_stream(spec: dict) -> None:
        path = f"{spec['url'].lstrip('/')}?token={urllib.parse.quote(spec['token'])}"
        try:
            async with await session.connect(path) as ws:
                async for raw in ws:
                    msg = json.loads(raw)
                    for frame in (msg.get("frames") or {}).get(spec.get("key", BOUNDARY_KEY), []):
                        pictures.put_nowait(Picture(int(frame["seq"]), epoch_of(frame["label"])))
        except Exception as err:
            session.error(f"frames stream: {type(err).__name__}: {err}")

    async def read_payloads() -> None:
        async for name, text in session.component_payloads():
            if name != "playground.live_plot" or (
                '"frames"' not in text and '"stream"' not in text
            ):
                continue  # cheap test first: most payloads carry no pictures
            data = json.loads(text)
            if data.get("key") != BOUNDARY_KEY:
                continue
            for frame in data.get("frames") or []:
                pictures.put_nowait(Picture(int(frame["seq"]), epoch_of(str(frame["label"]))))
            spec = data.get("stream")
            if spec and spec["token"] not in streams:
                for task in streams.values():
                    task.cancel()
                streams[spec["token"]] = asyncio.create_task(read_stream(spec))
        pictures.put_nowait(None)

    reader = asyncio.create_task(read_payloads())
    try:
        while (picture := await pictures.get()) is not None:
            yield picture
    finally:
        reader.cancel()
        for task in streams.values():
            task.cancel()


# -- widget values as the browser reports them ---------------------------------------------------
def widget_state(el: Element) -> WidgetState | None:
    """The value the frontend commits for a widget element when it mounts (or when the
    server sets it: ``set_value``), or None for elements that hold no value (buttons
    carry triggers only when pressed)."""
    kind = el.WhichOneof("type")
    w = getattr(el, kind) if kind else None
    if kind == "checkbox":  # st.checkbox and st.toggle
        return WidgetState(id=w.id, bool_value=w.value if w.set_value else w.default)
    if kind == "slider":
        if w.options:  # st.select_slider: the formatted options
            if w.set_value and w.raw_value:
                values = list(w.raw_value)
            else:
                values = [w.options[int(i)] for i in (w.value if w.set_value else w.default)]
            s = WidgetState(id=w.id)
            s.string_array_value.data.extend(values)
            return s
        s = WidgetState(id=w.id)
        s.double_array_value.data.extend(w.value if w.set_value else w.default)
        return s
    if kind == "selectbox":
        if w.set_value:
            return WidgetState(id=w.id, string_value=w.raw_value)
        if w.HasField("default") and 0 <= w.default < len(w.options):
            return WidgetState(id=w.id, string_value=w.options[w.default])
        return None
    if kind == "multiselect":
        s = WidgetState(id=w.id)
        values = w.raw_values if w.set_value else [w.options[i] for i in w.default]
        s.string_array_value.data.extend(values)
        return s
    if kind in ("text_input", "text_area"):
        if w.set_value:
            return WidgetState(id=w.id, string_value=w.value) if w.HasField("value") else None
        return WidgetState(id=w.id, string_value=w.default) if w.HasField("default") else None
    if kind == "number_input":
        has = w.HasField("value") if w.set_value else w.HasField("default")
        if not has:
            return None
        value = w.value if w.set_value else w.default
        if w.data_type == NumberInput.INT:
            return WidgetState(id=w.id, int_value=int(value))
        return WidgetState(id=w.id, double_value=value)
    if kind == "file_uploader":  # no file chosen
        s = WidgetState(id=w.id)
        s.file_uploader_state_value.SetInParent()
        return s
    return None


# -- one session on the wire ----------------------------------------------------------------------
class StreamSession:
    """One browser tab's worth of Streamlit protocol: page load, stream, reruns.

    ``run()`` reads ForwardMsgs until the stream closes and answers as the frontend
    would; the driver watches ``play_id``, ``playing``, ``epoch`` and the component
    payloads, and calls ``rerun()``.
    """

    def __init__(self, url: str, *, query: str = "", index: int = 0):
        self.base = url if url.endswith("/") else url + "/"
        self.query = query.lstrip("?")
        self.index = index
        self.http = requests.Session()  # this learner's cookie jar
        self.upstream: str | None = None
        self.ws: Any = None
        self.errors: list[str] = []
        # Frontend state.
        self.widgets: dict[str, WidgetState] = {}
        self.widgets_this_run: set[str] = set()
        self.page_script_hash = ""
        self.cache: dict[str, list] = {}  # hash -> [encoded msg, run count, fragment id]
        self.run_count = 0
        self.cache_hits = 0
        self.max_cache_age = 2
        self.new_session_seen = False
        self.auto_reruns: dict[str, tuple[float, asyncio.Task]] = {}
        # What the driver watches.
        self.play_id: str | None = None
        self.playing: bool | None = None  # None until a Play/Pause button was seen
        self.epoch: float | None = None
        self.full_runs_finished = 0
        self.fragment_runs = self.fragment_runs_dropped = 0
        self.changed = asyncio.Event()
        self._payloads: asyncio.Queue[tuple[str, str] | None] = asyncio.Queue()

    # The page, like a browser: index.html, then the two endpoints the frontend polls.
    def load_page(self) -> None:
        page = self.base + (f"?{self.query}" if self.query else "")
        resp = self.http.get(page, timeout=30)
        resp.raise_for_status()
        self.upstream = resp.headers.get(UPSTREAM_HEADER) or self.upstream
        for path in ("_stcore/health", "_stcore/host-config"):
            self.http.get(self.base + path, timeout=30)

    def _handshake_headers(self, http_url: str) -> dict[str, str]:
        prepared = requests.Request("GET", http_url).prepare()
        cookie = requests.cookies.get_cookie_header(self.http.cookies, prepared)
        headers = {"Cookie": cookie} if cookie else {}
        if self.upstream:
            headers[UPSTREAM_HEADER] = self.upstream
        return headers

    async def connect(self, path: str = "_stcore/stream", **kw: Any) -> Any:
        """A websocket to ``path`` under the app with this learner's cookies, Origin and
        upstream, as the browser opens it (no keepalive pings: browsers send none)."""
        parts = urllib.parse.urlsplit(urllib.parse.urljoin(self.base, path))
        scheme = "wss" if parts.scheme == "https" else "ws"
        return await websockets.connect(
            urllib.parse.urlunsplit((scheme, parts.netloc, parts.path, parts.query, "")),
            origin=f"{parts.scheme}://{parts.netloc}",
            additional_headers=self._handshake_headers(self.base + path),
            max_size=2**28,
            ping_interval=None,
            open_timeout=60,
            **kw,
        )

    async def open_stream(self) -> None:
        xsrf = self.http.cookies.get(XSRF_COOKIE)
        # The frontend passes its XSRF token as the second "subprotocol".
        protocols = ["streamlit", xsrf] if xsrf else ["streamlit"]
        self.ws = await self.connect(subprotocols=protocols)
        headers = self.ws.response.headers if self.ws.response else {}
        self.upstream = headers.get(UPSTREAM_HEADER) or self.upstream

    @property
    def closed(self) -> str:
        """Why the stream closed ("" while it is open)."""
        ws = self.ws
        if ws is None or ws.close_code is None:
            return ""
        return f"code {ws.close_code}" + (f", {ws.close_reason}" if ws.close_reason else "")

    def error(self, text: str) -> None:
        self.errors.append(text)
        self.changed.set()

    # -- BackMsgs
    async def rerun(
        self,
        *,
        fragment_id: str = "",
        trigger: str | None = None,
        is_auto_rerun: bool = False,
    ) -> None:
        """A rerun_script BackMsg, as the frontend's sendRerunBackMsg builds it."""
        state = ClientState(
            query_string=self.query,
            page_script_hash=self.page_script_hash,
            # The page's URL path under the app: "" is the default page (the Playground).
            # Once the server has named the page by its hash, the frontend sends "" too.
            page_name="",
            fragment_id=fragment_id,
            is_auto_rerun=is_auto_rerun,
            cached_message_hashes=list(self.cache),
            context_info=ContextInfo(
                timezone="UTC",
                timezone_offset=0,
                locale="en-US",
                url=self.base + (f"?{self.query}" if self.query else ""),
                is_embedded=False,
                color_scheme="light",
            ),
        )
        state.widget_states.widgets.extend(self.widgets.values())
        if trigger is not None:
            state.widget_states.widgets.append(WidgetState(id=trigger, trigger_value=True))
        self.new_session_seen = False
        await self.ws.send(BackMsg(rerun_script=state).SerializeToString())

    def _auto_rerun(self, fragment_id: str, interval: float) -> None:
        """``st.fragment(run_every=...)``: the client reruns the fragment on a timer
        (the browser's setInterval), whether or not the last run has finished."""
        old = self.auto_reruns.get(fragment_id)
        if old and old[0] == interval:
            return
        self._stop_auto_rerun(fragment_id)
        task = asyncio.create_task(self._tick(fragment_id, interval))
        self.auto_reruns[fragment_id] = (interval, task)

    async def _tick(self, fragment_id: str, interval: float) -> None:
        due = time.monotonic() + interval
        while True:
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            # Late timers fire once, not in a burst (as setInterval does).
            due = max(due + interval, time.monotonic() + 0.5 * interval)
            try:
                await self.rerun(fragment_id=fragment_id, is_auto_rerun=True)
            except websockets.ConnectionClosed:
                return

    def _stop_auto_rerun(self, fragment_id: str) -> None:
        old = self.auto_reruns.pop(fragment_id, None)
        if old:
            old[1].cancel()

    def stop_timers(self) -> None:
        for fragment_id in list(self.auto_reruns):
            self._stop_auto_rerun(fragment_id)

    # -- ForwardMsgs
    async def component_payloads(self) -> AsyncIterator[tuple[str, str]]:
        """(component name, JSON text of its data) of every components-v2 element."""
        while (item := await self._payloads.get()) is not None:
            yield item

    async def run(self) -> None:
        """Read the stream until it closes, answering as the browser would."""
        try:
            async for raw in self.ws:
                if isinstance(raw, str):
                    self.error("text frame on the stream")
                    continue
                self.handle(raw)
        finally:
            self.stop_timers()
            self._payloads.put_nowait(None)
            self.changed.set()

    def _resolve(self, raw: bytes) -> ForwardMsg | None:
        """Parse a ForwardMsg, substituting cached messages for references (the
        server sends a ``ref_hash`` for a big element the client said it has)."""
        msg = ForwardMsg()
        msg.ParseFromString(raw)
        if msg.WhichOneof("type") == "ref_hash":
            entry = self.cache.get(msg.ref_hash)
            if entry is None:
                self.error(f"forward message cache miss: {msg.ref_hash}")
                return None
            entry[1] = self.run_count  # touched: it ages from now
            self.cache_hits += 1
            full = ForwardMsg()
            full.ParseFromString(entry[0])
            full.metadata.CopyFrom(msg.metadata)  # delta path of this use
            return full
        if msg.metadata.cacheable and msg.hash and msg.hash not in self.cache:
            fragment = msg.delta.fragment_id if msg.HasField("delta") else ""
            self.cache[msg.hash] = [raw, self.run_count, fragment]
        return msg

    def _age_cache(self, fragment_ids: list[str]) -> None:
        """The frontend's cache ages by finished runs; a fragment run ages only the
        messages of its own fragments."""
        self.run_count += 1
        for h, (_, count, fragment) in list(self.cache.items()):
            if fragment_ids and (not fragment or fragment not in fragment_ids):
                continue
            if self.run_count - count > self.max_cache_age:
                del self.cache[h]

    def handle(self, raw: bytes) -> None:
        msg = self._resolve(raw)
        if msg is None:
            return
        kind = msg.WhichOneof("type")
        if kind == "new_session":
            ns = msg.new_session
            self.new_session_seen = True
            self.max_cache_age = ns.config.max_cached_message_age or self.max_cache_age
            if not msg.metadata.run.fragment_ids:  # a full run: timers restart from it
                self.stop_timers()
                self.page_script_hash = ns.page_script_hash
                self.widgets_this_run = set()
        elif kind == "delta":
            if msg.delta.WhichOneof("type") == "new_element":
                self._element(msg.delta.new_element)
        elif kind == "script_finished":
            status = msg.script_finished
            fragment_ids = list(msg.metadata.run.fragment_ids)
            if status == ForwardMsg.FINISHED_WITH_COMPILE_ERROR:
                self.error("script failed to compile")
            if (
                status != ForwardMsg.FINISHED_EARLY_FOR_RERUN
                and msg.metadata.HasField("run")
                and self.new_session_seen
            ):
                self._age_cache(fragment_ids)
            if fragment_ids and status == ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY:
                self.fragment_runs += 1
            elif fragment_ids and status == ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                self.fragment_runs_dropped += 1
            if status == ForwardMsg.FINISHED_SUCCESSFULLY and not fragment_ids:
                # Widgets no longer on the page drop out of the state sent back.
                for wid in set(self.widgets) - self.widgets_this_run:
                    del self.widgets[wid]
                self.full_runs_finished += 1
                self.changed.set()
        elif kind == "page_info_changed":
            self.query = msg.page_info_changed.query_string
        elif kind == "auto_rerun":
            if msg.auto_rerun.fragment_id:
                self._auto_rerun(msg.auto_rerun.fragment_id, msg.auto_rerun.interval)
        elif kind == "stop_auto_rerun":
            for fragment_id in msg.stop_auto_rerun.fragment_ids:
                self._stop_auto_rerun(fragment_id)
        elif kind == "page_not_found":
            self.error(f"Page not found: {msg.page_not_found.page_name!r}")
        elif (
            kind == "session_event"
            and msg.session_event.WhichOneof("type") == "script_compilation_exception"
        ):
            exc = msg.session_event.script_compilation_exception
            self.error(f"compile error: {exc.type}: {exc.message}")

    def _element(self, el: Element) -> None:
        kind = el.WhichOneof("type")
        if kind == "button" and el.button.label in (PLAY_LABEL, PAUSE_LABEL):
            self.playing = el.button.label == PAUSE_LABEL
            self.play_id = el.button.id if not self.playing else self.play_id
            self.changed.set()
        elif kind == "metric" and el.metric.label == EPOCH_LABEL:
            self.epoch = epoch_of(el.metric.body)
        elif kind == "bidi_component":
            bc = el.bidi_component
            text = bc.json or (bc.mixed.json if bc.HasField("mixed") else "")
            if text:
                self._payloads.put_nowait((bc.component_name, text))
        elif kind == "exception":
            exc = el.exception
            self.error(f"exception in the page: {exc.type}: {exc.message}{_where(exc.stack_trace)}")
        elif kind == "alert" and el.alert.format == el.alert.ERROR:
            self.error(f"error in the page: {el.alert.body}")
        state = widget_state(el) if kind else None
        if state is not None:
            self.widgets_this_run.add(state.id)
            w = getattr(el, kind)
            # The frontend keeps a widget's own value unless the server sets it.
            if state.id not in self.widgets or getattr(w, "set_value", False):
                self.widgets[state.id] = state

    async def close(self) -> None:
        self.stop_timers()
        if self.ws is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.ws.close(), 5)
        self.http.close()


def _where(stack_trace: list[str]) -> str:
    """`` (at folder/file.py:59)`` for the innermost frame of a page's traceback."""
    frames = [re.search(r'File "([^"]+)", line (\d+)', line) for line in stack_trace]
    frames = [m for m in frames if m]
    if not frames:
        return ""
    path, line = frames[-1].groups()
    return f" (at {'/'.join(Path(path).parts[-2:])}:{line})"


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
) -> SessionResult:
    """One learner: load, connect, first run, Play, watch. ``playing(t)`` is called once
    with the time Play was pressed (None if it never was); the session then ends when
    ``end`` completes, or ``seconds`` after Play without one."""
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
                result.epoch_seen(pic.epoch)

    play_at: float | None = None
    try:
        await asyncio.to_thread(session.load_page)
        result.upstream = session.upstream
        await session.open_stream()
        result.upstream = session.upstream
        tasks.append(asyncio.create_task(session.run()))
        tasks.append(asyncio.create_task(count_pictures()))
        await session.rerun()
        await _wait_for(session, lambda: session.full_runs_finished > 0, play_timeout, "first run")
        if session.play_id is None:
            raise RuntimeError("no button labelled 'Play' on the page")
        before = session.full_runs_finished
        play_at = time.monotonic()
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
    return result


async def drive_session(
    url: str, seconds: float, *, index: int = 0, query: str = ""
) -> SessionResult:
    """One simulated learner: open the page at ``url``, press Play, watch for ``seconds``."""
    return await _drive(url, seconds, index=index, query=query)


async def _run_all(
    url: str, n: int, seconds: float, *, query: str, stagger: float, monitor: ServerMonitor | None
) -> list[SessionResult]:
    """All sessions, staggered; the measured window opens once every session plays (or
    gave up) and lasts ``seconds``; every session ends with it."""
    loop = asyncio.get_running_loop()
    end = loop.create_future()
    waiting = n

    def close_window() -> None:
        if monitor is not None:
            monitor.stop()
        if not end.done():
            end.set_result(None)

    def playing(_t: float | None) -> None:
        nonlocal waiting
        waiting -= 1
        if waiting == 0:
            if monitor is not None:
                monitor.start()
            loop.call_later(seconds, close_window)

    async def one(i: int) -> SessionResult:
        await asyncio.sleep(i * stagger)
        return await _drive(url, seconds, index=i, query=query, playing=playing, end=end)

    try:
        results = await asyncio.gather(*(one(i) for i in range(n)))
    finally:
        if monitor is not None:
            monitor.stop()
    return list(results)


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
    return asyncio.run(_run_all(url, n, seconds, query=query, stagger=stagger, monitor=monitor))


# -- summary and command line ---------------------------------------------------------------------
def _stats(values: list[float]) -> tuple[float, float]:
    return (min(values), statistics.median(values)) if values else (0.0, 0.0)


def summarize(
    results: list[SessionResult],
    *,
    seconds: float,
    server_pid: int | None = None,
    cpu: dict | None = None,
) -> dict:
    """The JSON summary: per-session rates (min and median), errors, upstreams and the
    server's CPU and memory (``cpu`` from ``ServerMonitor.result()``; with only
    ``server_pid``, its memory now; null when neither, e.g. a remote server)."""
    pics = [r.pictures_per_s for r in results]
    epochs = [r.epochs_per_s for r in results]
    min_pics, med_pics = _stats(pics)
    min_epochs, med_epochs = _stats(epochs)
    cpu = dict(cpu or {})
    if not cpu and server_pid is not None:
        rss = rss_mb(server_pid)
        cpu = {"server_rss_mb": rss, "server_rss_max_mb": rss}
    messages = list(dict.fromkeys(e for r in results for e in r.errors))
    upstreams = Counter(r.upstream or "(none)" for r in results)
    rnd = lambda v, d=2: None if v is None else round(v, d)  # noqa: E731
    return {
        "sessions": len(results),
        "seconds": seconds,
        "min_pictures_per_s": round(min_pics, 2),
        "median_pictures_per_s": round(med_pics, 2),
        "min_epochs_per_s": round(min_epochs, 1),
        "median_epochs_per_s": round(med_epochs, 1),
        "server_cpu_cores": rnd(cpu.get("server_cpu_cores")),
        "server_rss_mb": rnd(cpu.get("server_rss_mb"), 1),
        "server_rss_max_mb": rnd(cpu.get("server_rss_max_mb"), 1),
        "server_rss_slope_mb_per_min": rnd(cpu.get("server_rss_slope_mb_per_min"), 2),
        "client_cpu_cores": rnd(cpu.get("client_cpu_cores")),
        "window_s": rnd(cpu.get("window_s")),
        "errors": sum(len(r.errors) for r in results),
        "error_messages": messages[:MAX_ERROR_MESSAGES],
        "upstreams": dict(upstreams),
        "per_session": [r.small() for r in results],
    }


def _table(summary: dict) -> str:
    head = (
        f"{'#':>3} {'upstream':<18} {'pictures':>8} {'pics/s':>7} {'epochs/s':>9} "
        f"{'runs':>5} {'dropped':>7}  errors"
    )
    lines = [head, "-" * len(head)]
    for s in summary["per_session"]:
        lines.append(
            f"{s['index']:>3} {s['upstream'] or '-'!s:<18} {s['pictures']:>8} "
            f"{s['pictures_per_s']:>7.2f} {s['epochs_per_s']:>9.1f} "
            f"{s['fragment_runs']:>5} {s['fragment_runs_dropped']:>7}  {' | '.join(s['errors'])}"
        )
    fmt = lambda v, unit="": "n/a" if v is None else f"{v}{unit}"  # noqa: E731
    lines += [
        "",
        f"sessions {summary['sessions']}, {summary['seconds']} s playing",
        f"pictures/s: min {summary['min_pictures_per_s']}, "
        f"median {summary['median_pictures_per_s']}",
        f"epochs/s:   min {summary['min_epochs_per_s']}, median {summary['median_epochs_per_s']}",
        f"server: {fmt(summary['server_cpu_cores'], ' cores')}, "
        f"RSS {fmt(summary['server_rss_mb'], ' MB')} (max {fmt(summary['server_rss_max_mb'])}); "
        f"this client: {fmt(summary['client_cpu_cores'], ' cores')}",
        f"errors: {summary['errors']}" + "".join(f"\n  {m}" for m in summary["error_messages"]),
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m playground.loadtest", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--sessions", type=int, default=1, help="learners at once")
    parser.add_argument("--seconds", type=float, default=20.0, help="seconds all of them play")
    parser.add_argument("--json", action="store_true", help="print one JSON line last")
    parser.add_argument("--url", help="drive this server instead of starting one")
    parser.add_argument(
        "--server-pid", type=int, help="with --url: the server's process, to measure it"
    )
    parser.add_argument("--query", default="", help="query string of the page, e.g. width=16")
    parser.add_argument("--stagger", type=float, default=0.1, help="seconds between arrivals")
    args = parser.parse_args(argv)
    if args.sessions < 1 or args.seconds <= 0:
        parser.error("--sessions must be >= 1 and --seconds > 0")

    def go(url: str, pid: int | None) -> dict:
        monitor = ServerMonitor(pid) if pid is not None else None
        results = run_sessions(
            url, args.sessions, args.seconds, query=args.query, stagger=args.stagger,
            monitor=monitor,
        )  # fmt: skip
        cpu = monitor.result() if monitor is not None else None
        return summarize(results, seconds=args.seconds, server_pid=pid, cpu=cpu)

    if args.url:
        summary = go(args.url, args.server_pid)
    else:
        with Server() as server:
            summary = go(server.url, server.pid)
    if args.json:
        print(json.dumps(summary), flush=True)
    else:
        print(_table(summary), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
