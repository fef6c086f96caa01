"""One learner's session on Streamlit's own wire (``/_stcore/stream``, Streamlit's
protobuf classes), doing what the browser's frontend does; and the pictures of the
decision boundary as they arrive, from the app's frames stream or the page's fragment
reruns. The app's own messages are read by its schema (``playground.figures.protocol``,
types and the standard library only: the one module of the app this client imports)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time
import urllib.parse
from collections.abc import AsyncIterator
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

from playground.figures.protocol import PlotData, StreamSpec, decode_message, frames_for

UPSTREAM_HEADER = "X-Playground-Upstream"
XSRF_COOKIE = "_streamlit_xsrf"
PLAY_LABEL, PAUSE_LABEL, EPOCH_LABEL = "Play", "Pause", "Epoch"
BOUNDARY_KEY = "boundary"  # the live_plot key of the decision boundary (ui/live_view.py)
# The Class page's wall (ui/class_wall.py): its head "**N learners**: ..." opens each
# refresh, and each tile's caption ends "... · seen 0.4 s ago" (the server's clock).
WALL_HEAD = re.compile(r"\*\*(\d+) learners?\*\*")
TILE_AGE = re.compile(r"\bseen (\d+(?:\.\d+)?) s ago")
# A learner in a class sees "Class CODE · you appear as: NAME" (ui/classroom.py class_box).
IN_CLASS = re.compile(r"Class (\S+) · you appear as: ")


class WallRefresh(NamedTuple):
    """One refresh of a Class page's wall as it arrived: when (this client's
    ``time.monotonic()``) and each tile's age as the server said it (seconds)."""

    arrived: float
    ages: list[float]


def _where(stack_trace: list[str]) -> str:
    """`` (at folder/file.py:59)`` for the innermost frame of a page's traceback."""
    frames = [re.search(r'File "([^"]+)", line (\d+)', line) for line in stack_trace]
    frames = [m for m in frames if m]
    if not frames:
        return ""
    path, line = frames[-1].groups()
    return f" (at {'/'.join(Path(path).parts[-2:])}:{line})"


# -- pictures: the one place that knows where the boundary's pictures come from -----------------
class Picture(NamedTuple):
    seq: int
    epoch: float | None
    taken: float | None = None  # the server's time.monotonic() when it took the picture


def epoch_of(label: str) -> float | None:
    """The number in a label such as ``"epoch 1,234"`` or a metric body ``"1,234"``."""
    m = re.search(r"\d[\d,]*(?:\.\d+)?", label or "")
    return float(m.group(0).replace(",", "")) if m else None


async def picture_stream(session: StreamSession) -> AsyncIterator[Picture]:
    """Every picture of the decision boundary that reaches ``session``, as it arrives.

    While a run plays, the page gives the boundary's components-v2 element
    (``ui/live_plot.py``) the spec of the frames stream: ``{"stream": {"url", "token",
    "key"}}``; the pictures then come over that WebSocket of the app's own
    (``live/server/stream.py``) as ``StreamMessage``s whose ``frames`` hold
    ``{key: [LiveFrame, ...]}``, opened here like the browser opens it (same cookies,
    Origin and upstream). Where no stream is served, the frames ride in the element's
    data (``PlotData``) instead; both are read. A message the schema does not know is an
    error of the session.
    """
    pictures: asyncio.Queue = asyncio.Queue()
    streams: dict[str, asyncio.Task] = {}

    async def read_stream(spec: StreamSpec) -> None:
        path = f"{spec['url'].lstrip('/')}?token={urllib.parse.quote(spec['token'])}"
        try:
            async with await session.connect(path) as ws:
                async for raw in ws:
                    for frame in frames_for(decode_message(raw), spec.get("key", BOUNDARY_KEY)):
                        seq, label = int(frame["seq"]), frame["label"]
                        pictures.put_nowait(Picture(seq, epoch_of(label), frame.get("t")))
        except Exception as err:
            session.error(f"frames stream: {type(err).__name__}: {err}")

    async def read_payloads() -> None:
        async for name, text in session.component_payloads():
            if name != "playground.live_plot" or (
                '"frames"' not in text and '"stream"' not in text
            ):
                continue  # cheap test first: most payloads carry no pictures
            data: PlotData = json.loads(text)
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

    def __init__(self, url: str, *, query: str = "", index: int = 0, page: str = ""):
        self.base = url if url.endswith("/") else url + "/"
        self.page = page.strip("/")  # the page's URL path: "" the Playground, "class"
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
        self.buttons: dict[str, str] = {}  # label -> widget id, of every button seen
        self.in_class: str | None = None  # the class the page says this learner is in
        self.warnings: list[str] = []  # the page's warnings (st.warning), as they came
        self.playing: bool | None = None  # None until a Play/Pause button was seen
        self.epoch: float | None = None
        self.full_runs_finished = 0
        # Full runs whose end never came (see handle): counted as finished.
        self.full_runs_unfinished = 0
        self._full_run_open = False
        self.fragment_runs = self.fragment_runs_dropped = 0
        # The Class page's wall: its refreshes, and the one whose messages are arriving.
        self.wall_refreshes: list[WallRefresh] = []
        self._wall_ages: list[float] | None = None
        self.changed = asyncio.Event()
        self._payloads: asyncio.Queue[tuple[str, str] | None] = asyncio.Queue()

    @property
    def page_url(self) -> str:
        """The address bar: the page's URL with its query string."""
        return self.base + self.page + (f"?{self.query}" if self.query else "")

    # The page, like a browser: index.html, then the two endpoints the frontend polls.
    def load_page(self) -> None:
        resp = self.http.get(self.page_url, timeout=30)
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
            # The page's URL path under the app ("" is the default page, the Playground;
            # "class" the Class page): the server finds the page by it. Once the server
            # has named the page by its hash, the frontend sends "".
            page_name="" if self.page_script_hash else self.page,
            fragment_id=fragment_id,
            is_auto_rerun=is_auto_rerun,
            cached_message_hashes=list(self.cache),
            context_info=ContextInfo(
                timezone="UTC",
                timezone_offset=0,
                locale="en-US",
                url=self.page_url,
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
            self._wall_ages = None  # a run begins: no wall in it yet
            if msg.metadata.run.fragment_ids and self._full_run_open:
                # A fragment's run began, but the full run before it never said it
                # ended. Streamlit drops a run's last events when a fragment's rerun
                # arrives after that ScriptRunner stopped but before the server sent
                # its end: the rerun starts a new ScriptRunner, and events of the old
                # one are ignored (AppSession.request_rerun says so). The full run is
                # over all the same; a browser goes on with the page it has.
                self.full_runs_unfinished += 1
                self._full_run_finished()
            if not msg.metadata.run.fragment_ids:  # a full run: timers restart from it
                self.stop_timers()
                self.page_script_hash = ns.page_script_hash
                self.widgets_this_run = set()
                self._full_run_open = True
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
            if self._wall_ages is not None and status in (
                ForwardMsg.FINISHED_SUCCESSFULLY,
                ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY,
            ):  # a whole wall arrived (a run cut short for the next sent only part of it)
                self.wall_refreshes.append(WallRefresh(time.monotonic(), self._wall_ages))
            self._wall_ages = None
            if fragment_ids and status == ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY:
                self.fragment_runs += 1
            elif fragment_ids and status == ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                self.fragment_runs_dropped += 1
            if not fragment_ids:
                self._full_run_open = False
            if status == ForwardMsg.FINISHED_SUCCESSFULLY and not fragment_ids:
                self._full_run_finished()
        elif kind == "navigation":
            # st.navigation runs the main script for every page and names the page it
            # ran here (new_session names the main script): the frontend sends this hash
            # with each rerun, so the next run stays on this page.
            self.page_script_hash = msg.navigation.page_script_hash or self.page_script_hash
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

    def _full_run_finished(self) -> None:
        self._full_run_open = False
        # Widgets no longer on the page drop out of the state sent back.
        for wid in set(self.widgets) - self.widgets_this_run:
            del self.widgets[wid]
        self.full_runs_finished += 1
        self.changed.set()

    def _element(self, el: Element) -> None:
        kind = el.WhichOneof("type")
        if kind == "button":
            self.buttons[el.button.label] = el.button.id
        if kind == "button" and el.button.label in (PLAY_LABEL, PAUSE_LABEL):
            self.playing = el.button.label == PAUSE_LABEL
            self.play_id = el.button.id if not self.playing else self.play_id
            self.changed.set()
        elif kind == "metric" and el.metric.label == EPOCH_LABEL:
            self.epoch = epoch_of(el.metric.body)
        elif kind == "markdown" and ("learner" in el.markdown.body or " s ago" in el.markdown.body):
            self._wall_text(el.markdown.body)  # (a cheap test first: most text is no wall)
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
        elif kind == "alert" and el.alert.format == el.alert.WARNING:
            self.warnings.append(el.alert.body)
        elif kind == "text" and (m := IN_CLASS.match(el.text.body)):
            self.in_class = m.group(1)
        state = widget_state(el) if kind else None
        if state is not None:
            self.widgets_this_run.add(state.id)
            w = getattr(el, kind)
            # The frontend keeps a widget's own value unless the server sets it.
            if state.id not in self.widgets or getattr(w, "set_value", False):
                self.widgets[state.id] = state

    def _wall_text(self, body: str) -> None:
        """The wall's head starts a refresh; each tile's caption adds its age."""
        if WALL_HEAD.match(body):
            self._wall_ages = []
        elif self._wall_ages is not None and (m := TILE_AGE.search(body)):
            self._wall_ages.append(float(m.group(1)))

    async def close(self) -> None:
        self.stop_timers()
        if self.ws is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.ws.close(), 5)
        self.http.close()
