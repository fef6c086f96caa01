"""The live plot's protocol, defined once: what the server sends a page and how arrays
are addressed. The frames stream (``live/server/stream.py``) builds its messages with
``encode_message``; the load test reads them with ``decode_message``; the tests hold the
renderer (``ui/live_plot_js/``) to the same keys.

Standard library only: the load test, a client from outside the app, imports this
module and nothing else of the package (``tests/test_layers.py``).

Array paths are ``"<uid>.<attr>[.<attr>...]"``: the trace's Plotly ``uid`` (each live
figure builder names its traces, e.g. ``"surface"``, ``"bends-1"``, ``"train"``) and the
property the array replaces (``x``, ``y``, ``z``, or ``signs``: sign bits the browser
traces into lines). A trace added to a figure moves no array.
"""

import json
from typing import Literal, NotRequired, Required, TypedDict


class CompactArray(TypedDict):
    """A numeric array packed for the wire; ``wire.decode_array`` and the JS unpack it.

    ``dtype`` is ``"f4"`` (little-endian float32) or ``"u1"``/``"u2"`` (codes
    ``0..top-1`` spread evenly over ``[lo, hi]``, the top code 255/65535 meaning NaN).
    ``shape`` is ``[n]`` or ``[rows, cols]``; a 2D array becomes a list of rows.
    ``"b1"``: sign bits of ``shape`` ``[units, n, n]`` on an n x n grid over ``box``,
    packed 8 to a byte (``wire.encode_signs``); the browser traces each unit's
    zero line through them (``traceSigns`` in live_plot_js/codec.js, ``grid_bends.sign_segments``).
    """

    dtype: Literal["f4", "u1", "u2", "b1"]
    shape: list[int]
    lo: float
    hi: float
    b64: str
    box: NotRequired[list[float]]  # "b1" only: the grid's (x0, x1, y0, y1)


class LiveFrame(TypedDict):
    """One picture to play back: arrays of canvas traces as they were at time ``t``.

    ``seq`` increases from frame to frame (the browser drops what it has played);
    ``label`` is drawn in the plot's corner, e.g. the epoch the picture shows.
    """

    seq: int
    t: float
    label: str
    arrays: dict[str, CompactArray]  # by path: "<uid>.<attr>"


State = Literal["playing", "waiting", "stopped", "paused"]


class StreamStatus(TypedDict, total=False):
    """The run's state and numbers, in every few messages of the frames stream."""

    state: Required[State]
    ahead: Required[int]  # runs in line before this one (state "waiting")
    why: Required[str]  # why it stopped ("" unless "stopped"): the page reruns to say so
    readouts: dict[str, str]  # the readout tiles' texts by label
    says: str  # the sentence the chart's live region reads (screen readers)
    message: str  # the run's own words on a stop (the rerun page shows them itself)
    compiling: bool  # its first chunk is being compiled
    attention: str  # changes when the class asks something of the page (it reruns)
    note: str  # words drawn in the plot's corner instead of the epoch


class WholeFigure(TypedDict):
    """A figure sent whole (the Network): ``live_plot.spec_json``'s text and its alt."""

    spec: str
    alt: str


class StreamMessage(TypedDict, total=False):
    """One message of the frames stream (JSON), any of its parts: pictures for a chart
    to play back, side plots' arrays, whole figures and the status, by chart key."""

    frames: dict[str, list[LiveFrame]]
    plots: dict[str, dict[str, CompactArray]]  # chart key -> {path: array}
    figures: dict[str, WholeFigure]
    status: StreamStatus


class StreamSpec(TypedDict):
    """Where a page's frames stream is: ``{url}?token={token}``; ``key`` is the chart
    that plays the pictures."""

    url: str
    token: str
    key: str


class PlotData(TypedDict, total=False):
    """The ``data`` of one ``live_plot`` element (``ui/live_plot.py`` says what each
    key means); the renderer's ``main.js`` reads it."""

    key: Required[str]
    spec: Required[str]  # digest of the figure without its arrays
    paths: Required[dict[str, str]]  # every array's digest, by path
    height: Required[int]
    fig: str  # spec_json's text, when the spec changed
    lib: str
    module: str
    arrays: dict[str, CompactArray]
    frames: list[LiveFrame]
    label: str
    alt: str
    say: str
    owns_stream: bool
    stream: StreamSpec
    clicks: bool


def keys(schema: type) -> frozenset[str]:
    """Every key a TypedDict defines, required or not."""
    return frozenset(schema.__required_keys__ | schema.__optional_keys__)


MESSAGE_KEYS = keys(StreamMessage)
STATUS_KEYS = keys(StreamStatus)
# The page shows a stopped run's message itself (the stop reruns it); the key is for
# the stream's other readers.
PAGE_IGNORES = frozenset({"message"})


def split_path(path: str) -> tuple[str, list[str]]:
    """``"bends-1.x"`` -> ``("bends-1", ["x"])``; a path not of that form is an error."""
    uid, *props = path.split(".")
    if not uid or not props or not all(p.isidentifier() for p in props):
        raise ValueError(f"array path {path!r} is not '<trace uid>.<prop>[.<prop>...]'")
    return uid, props


def _check(msg: dict) -> None:
    extra = set(msg) - MESSAGE_KEYS
    extra |= {f"status.{k}" for k in set(msg.get("status") or {}) - STATUS_KEYS}
    if extra:
        raise ValueError(f"not in the stream's schema: {sorted(extra)}")


def encode_message(msg: StreamMessage) -> str:
    """A message as the stream sends it (JSON); a key the schema lacks is an error."""
    _check(msg)
    return json.dumps(msg, separators=(",", ":"))


def decode_message(text: str | bytes) -> StreamMessage:
    """A message as it arrived; a key the schema lacks is an error (the two drifted)."""
    msg = json.loads(text)
    if not isinstance(msg, dict):
        raise ValueError(f"a stream message is a JSON object, got {type(msg).__name__}")
    _check(msg)
    return msg


def frames_for(msg: StreamMessage, key: str) -> list[LiveFrame]:
    """The pictures a message brings chart ``key`` (none: an empty list)."""
    return (msg.get("frames") or {}).get(key, [])
