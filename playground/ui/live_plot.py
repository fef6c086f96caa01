"""A Plotly chart that updates in place, for live training views.

``st.plotly_chart`` remounts its chart whenever the data changes (flicker, lost zoom).
``live_plot`` is a components-v2 element instead: the first call for a key draws the
figure with Plotly.newPlot; later calls patch it with Plotly.react on the same DOM node,
and ``layout.uirevision`` keeps the user's zoom and pan.

Wire format (the ``data`` of the component, JSON; ``figures.protocol.PlotData``):

- ``key``: the caller's key; ``spec``: a digest of the figure without its live arrays;
  ``paths``: ``{path: digest}`` for every live array of this call; ``height``: pixels.
- ``fig`` (a JSON string), ``lib`` (the URL of plotly.min.js) and ``module`` (the URL of
  the renderer, ``live_plot_js/main.js``) only when this session has not sent this spec
  for this key yet; every
  other frame carries only the changed arrays and a ~0.5 KB loader as the element's JS.
- ``arrays``: ``{"<uid>.<prop>[.<prop>...]": CompactArray}``, only the arrays whose
  content changed since the last call, e.g. ``"surface.z"`` is the ``z`` of the trace
  whose ``uid`` is ``"surface"``, ``"train.marker.color"`` trace ``train``'s
  ``marker.color``. The browser keeps the rest. Traces are named by their Plotly ``uid``
  (the figure builders set it), never by index: a trace added moves no array. The
  browser looks each figure's uids up once; Python refuses a path whose uid the figure
  lacks.

Two additions keep a training view smooth where Plotly's own drawing is too slow
(a Plotly.react of a heatmap figure takes 45-100 ms in software-rendered Chromium):

- ``canvas``: uids of traces (heatmaps, line traces) that the browser paints itself on a
  canvas laid over Plotly's plot area, under its WebGL points, in the trace's own
  colours, axes, dashes and legend visibility. A frame that changes only these arrays
  costs a ~2 ms repaint instead of a Plotly draw; Plotly gets them too once the chart
  comes to rest (so hover reads the latest values).
- ``frames``: pictures of the canvas traces taken at times ``t`` (seconds, any clock),
  played back in order at the pace they were taken, a fraction of a second behind: a
  few messages a second show every picture the trainer took. Where frames carry
  a path, the last of them must hold the call's own ``arrays[path]``, which is then not
  sent again; an array equal to the one before it is not sent either (the browser
  carries it over), e.g. bends that are recomputed less often than the heatmap.
- ``label``: the caption of a still picture of the canvas traces (e.g. its epoch), shown
  with it at once instead of the last played frame's; frames carry their own.
- ``alt``: the figure's text alternative (a sentence with its numbers): the chart
  becomes a labelled figure described by it. ``say``: words for the chart's polite live
  region (on the chart that plays the pictures), read at once; while the stream plays,
  its ``says`` is read every few seconds.
- ``stream`` (with ``on_stopped``, on the one chart that plays the pictures):
  ``{url, token, key}`` of the page's frames stream (``live/server/stream.py``). While it is
  given, the browser keeps one WebSocket open and the server pushes frames to chart
  ``key``, arrays to the side plots named in its messages, whole figures (``figures``:
  ``{key: {spec, alt}}``, e.g. the Network) and the readout tiles' numbers, with no page
  rerun; ``on_stopped`` runs when the server says training stopped.
- ``clicks`` (with ``on_click``): the chart reports a click on a point that has an id
  (``{trace, id}``) or else on its plane (``{x, y, per_px}``); ``clicked(key)`` reads it.

The frontend may skip a frame's data when frames come faster than it renders, and a
page may lack what its session sent (a reload into an old session). The digests let the
JS notice anything missing or stale; it then fires the ``resync`` trigger (at most once
a second) and the next run sends everything again.

Plotly's own ``plotly.min.js`` (inside the plotly package) is served by the app's own
route (``live.server.vendor``: gzipped once, cached by the browser for a year under a
versioned path); where that route is not served (AppTest, a test's small app), by
Streamlit's component asset route, for which the package's ``package_data`` folder is
declared as the asset directory of a name-only component, as an installed package's
pyproject would declare it. No CDN is involved.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import plotly
import plotly.graph_objects as go
import plotly.io.json as pio_json
import streamlit as st

from playground.figures.protocol import CompactArray, LiveFrame, PlotData, split_path
from playground.figures.wire import (
    array_digest,
    decode_array,
    digest,
    encode_floats,
    encode_grid,
    encode_live,
)
from playground.live.server import startup, vendor

__all__ = [
    "CompactArray",
    "LiveFrame",
    "decode_array",
    "encode_floats",
    "encode_grid",
    "encode_live",
    "live_plot",
    "plotly_js_url",
]

_HERE = Path(__file__).parent
_COMPONENT = "playground.live_plot"
# "<manifest>.<component>", as Streamlit names manifest-declared components.
_VENDOR_MANIFEST = "playground_vendor"
_VENDOR_COMPONENT = "plotly"
_VENDOR = f"{_VENDOR_MANIFEST}.{_VENDOR_COMPONENT}"
_RENDERER_MANIFEST = "playground_live_plot"
_RENDERER_COMPONENT = "renderer"
_RENDERER_DIR = _HERE / "live_plot_js"
_SESSION_KEY = "_playground_live_plot_sent"


def plotly_js_url() -> str:
    """Where the browser fetches plotly.min.js (honours ``server.baseUrlPath``): the app's
    own cacheable route (``live.server.vendor``) where it is served, else Streamlit's
    asset route."""
    base = (st.get_option("server.baseUrlPath") or "").strip("/")
    prefix = f"/{base}" if base else ""
    if startup.ROUTES_SERVED:
        return prefix + vendor.PLOTLY_PATH
    return f"{prefix}/_stcore/bidi-components/{_VENDOR}/plotly.min.js?v={plotly.__version__}"


def _serve_assets() -> None:
    """Declare plotly's ``package_data`` and our renderer's modules (``live_plot_js/``)
    as the asset dirs of name-only components.

    This is what Streamlit does for an installed package whose pyproject declares
    ``[[tool.streamlit.component.components]] asset_dir = ...``; plotly declares none, so
    we register the same manifests ourselves, once per runtime (AppTest makes new ones).
    """
    from streamlit.runtime import Runtime

    try:
        from streamlit.components.v2.manifest_scanner import ComponentConfig, ComponentManifest
    except ImportError as err:  # the pin in pyproject.toml keeps us on 1.67.x
        raise RuntimeError(f"live_plot needs Streamlit 1.67's components v2: {err}") from err
    if not Runtime.exists():
        return
    manager = Runtime.instance().bidi_component_registry
    for manifest_name, component, asset_dir, root, version in (
        (
            _VENDOR_MANIFEST,
            _VENDOR_COMPONENT,
            "package_data",
            Path(plotly.__file__).parent,
            plotly.__version__,
        ),
        (_RENDERER_MANIFEST, _RENDERER_COMPONENT, _RENDERER_DIR.name, _HERE, _renderer_digest()),
    ):
        if manager.get_component_path(f"{manifest_name}.{component}") is not None:
            continue
        manifest = ComponentManifest(
            name=manifest_name,
            version=version,
            components=[ComponentConfig(name=component, asset_dir=asset_dir)],
        )
        manager.register_from_manifest(manifest, root)


# The component's own JS, sent with every frame, is only this loader. The renderer is
# ES modules (``live_plot_js/``: codec, theme, painter, player, chart, stream and the
# entry ``main.js``) served by the asset route like plotly.min.js; its URL travels in
# ``data["module"]`` with the figure spec, i.e. once per key and session. Its module
# state (the cached figures) lives as long as the page does.
_LOADER_JS = """
export default function (component) {
  const { data } = component;
  const box = (window.__playgroundLivePlot ??= { askedAt: -1e9 });
  if (data?.module && box.url !== data.module) {
    box.url = data.module;
    // Absolute: this loader runs from a blob: URL, against which "/..." cannot resolve.
    box.module = import(new URL(data.module, window.location.href).href).catch((err) => {
      box.url = box.module = null; // a later frame tries again
      throw err;
    });
  }
  if (!box.module) {
    // The frame that carried the renderer was skipped or this page never got it.
    if (performance.now() - (box.askedAt ?? -1e9) > 1000) {
      box.askedAt = performance.now();
      component.setTriggerValue("resync", data?.spec ?? "");
    }
    return undefined;
  }
  return box.module.then((module) => module.default(component));
}
"""


@functools.cache
def _renderer_digest() -> str:
    """A digest of the renderer's modules: a new version is a new URL."""
    return digest("".join(p.read_text(encoding="utf-8") for p in _renderer_files()))[:16]


def _renderer_files() -> list[Path]:
    return sorted(_RENDERER_DIR.glob("*.js"))


def renderer_url() -> str:
    """Where the browser imports the renderer's entry module from."""
    base = (st.get_option("server.baseUrlPath") or "").strip("/")
    prefix = f"/{base}" if base else ""
    return (
        f"{prefix}/_stcore/bidi-components/{_RENDERER_MANIFEST}.{_RENDERER_COMPONENT}"
        f"/main.js?v={_renderer_digest()}"
    )


@functools.cache
def _component() -> Any:
    # isolate_styles=False: Plotly puts its CSS in document.head, which a shadow root
    # would not see (the SVG layers would stack instead of overlapping).
    return st.components.v2.component(_COMPONENT, js=_LOADER_JS, isolate_styles=False)


def clicked(key: str) -> dict | None:
    """The click chart ``key`` reported (``on_click``): ``{trace, id}`` of a point it
    hit (the trace's name, the point's entry in its ``ids``) or ``{x, y, per_px}``, the
    plot's data coordinates of a click on its plane and its data units per pixel."""
    state = st.session_state.get(f"live_plot:{key}")
    value = state.get("click") if hasattr(state, "get") else None
    return value if isinstance(value, dict) else None


def _trace_index(traces: list[dict[str, Any]]) -> dict[str, int]:
    """Trace index by uid; two traces of one uid are an error (an array could not tell
    them apart)."""
    index: dict[str, int] = {}
    for i, trace in enumerate(traces):
        uid = trace.get("uid")
        if uid is None:
            continue
        if uid in index:
            raise ValueError(f"traces {index[uid]} and {i} have the same uid {uid!r}")
        index[uid] = i
    return index


def _without(node: dict[str, Any], props: list[str]) -> dict[str, Any]:
    """A copy of ``node`` without the nested property ``props`` (copying only that path)."""
    if props[0] not in node:
        return node
    copy = dict(node)
    if len(props) == 1:
        del copy[props[0]]
    elif isinstance(copy[props[0]], dict):
        copy[props[0]] = _without(copy[props[0]], props[1:])
    return copy


def _spec(
    figure: go.Figure | dict[str, Any], paths: list[str], canvas: list[str]
) -> dict[str, Any]:
    """``{"data", "layout", "config", "canvas"}`` of the figure, minus the live arrays;
    ``canvas`` in trace order."""
    if isinstance(figure, go.Figure):
        figure = figure.to_plotly_json()
    traces = list(figure.get("data") or [])
    index = _trace_index(traces)
    for path in paths:
        uid, props = split_path(path)
        if uid not in index:
            raise ValueError(f"array path {path!r}: no trace has uid {uid!r}")
        traces[index[uid]] = _without(traces[index[uid]], props)
    for uid in canvas:
        if uid not in index:
            raise ValueError(f"canvas trace {uid!r}: no trace has that uid")
    return {
        "data": traces,
        "layout": figure.get("layout") or {},
        "config": figure.get("config") or {},
        "canvas": sorted(set(canvas), key=index.__getitem__),
    }


def spec_json(figure: go.Figure | dict[str, Any], paths=(), canvas=()) -> str:
    """The figure as the browser gets it (a page run's ``fig``, or the stream's whole
    figures): JSON of ``{"data", "layout", "config", "canvas"}`` without ``paths``."""
    return pio_json.to_json_plotly(_spec(figure, list(paths), list(canvas)))


def _sent_record(key: str) -> dict[str, Any]:
    sent = st.session_state.setdefault(_SESSION_KEY, {})
    return sent.setdefault(key, {"spec": None, "arrays": {}})


def _forget(key: str) -> None:
    """The browser asked for everything again (``resync``): drop what we think it has."""
    st.session_state.get(_SESSION_KEY, {}).pop(key, None)


def _thin_frames(
    frames: list[LiveFrame], have: dict[str, str], digests: dict[str, str], canvas: list[str]
) -> tuple[list[LiveFrame], set[str]]:
    """The frames with only the arrays that differ from the frame before (the browser
    carries the rest over), and the paths they bring up to date, which ``arrays`` then
    need not send. ``have``: digests the browser holds; ``digests``: those of ``arrays``."""
    seqs = [f["seq"] for f in frames]
    if seqs != sorted(set(seqs)):
        raise ValueError(f"frame seq numbers must increase, got {seqs}")
    have, thinned, carried = dict(have), [], set()
    for frame in frames:
        kept = {}
        for path, enc in frame["arrays"].items():
            if split_path(path)[0] not in canvas:
                raise ValueError(f"frame array {path!r} is not on a canvas trace {canvas}")
            d = array_digest(enc)
            if have.get(path) != d:
                kept[path] = enc
                have[path] = d
            carried.add(path)
        thinned.append({**frame, "arrays": kept})
    for path in carried:
        if have[path] != digests.get(path):
            raise ValueError(f"the last frame with {path!r} differs from arrays[{path!r}]")
    return thinned, carried


def live_plot(
    figure: go.Figure | dict[str, Any],
    *,
    key: str,
    height: int = 400,
    arrays: dict[str, CompactArray] | None = None,
    canvas: tuple[str, ...] | list[str] = (),
    frames: list[LiveFrame] | None = None,
    label: str | None = None,
    alt: str | None = None,
    say: str | None = None,
    stream: dict | None = None,
    on_stopped=None,
    on_attention=None,
    on_click=None,
) -> None:
    """Show ``figure`` under ``key``, updating the chart in place on later calls.

    ``arrays`` maps ``"<trace uid>.<prop>[.<prop>...]"`` to a CompactArray from
    ``encode_grid`` / ``encode_floats``; these replace (or supply) those trace
    properties, so the figure itself can hold empty placeholders. ``canvas``: uids of
    the traces the browser paints itself. The rest of the
    figure is hashed and sent only when it changes. Works in normal reruns and in
    ``st.fragment(run_every=...)`` reruns. Measured ~2.5 ms per call with a dict figure
    (mostly Streamlit's element bookkeeping); a ``go.Figure`` adds plotly's ~2.5 ms deep
    copy, so build the figure once and pass ``fig.to_dict()``.

    Example::

        live_plot(fig_dict, key="boundary", height=360, arrays={
            "surface.z": encode_grid(probabilities, 0.0, 1.0),  # heatmap, uid "surface"
            "train.y": encode_floats(loss_history, bits=16),    # line, uid "train"
        })
    """
    arrays = dict(arrays or {})
    frames = list(frames or [])
    canvas_traces = list(canvas)
    fig_json = spec_json(figure, arrays, canvas_traces)
    spec = digest(fig_json)
    record = _sent_record(key)

    digests = {path: array_digest(enc) for path, enc in sorted(arrays.items())}
    frames, carried = _thin_frames(frames, record["arrays"], digests, canvas_traces)
    data: PlotData = {"key": key, "spec": spec, "paths": digests, "height": height}
    if record["spec"] != spec:
        _serve_assets()
        data["fig"] = fig_json
        data["lib"] = plotly_js_url()
        data["module"] = renderer_url()
        record["spec"] = spec
    changed = {
        path: arrays[path]
        for path, d in digests.items()
        if record["arrays"].get(path) != d and path not in carried
    }
    record["arrays"] = digests
    if changed:
        data["arrays"] = changed
    if frames:
        data["frames"] = frames
    if label is not None:
        data["label"] = label
    if alt is not None:
        data["alt"] = alt
    if say:
        data["say"] = say
    if on_stopped is not None:  # this chart decides whether the page streams
        data["owns_stream"] = True
        if stream is not None:
            data["stream"] = stream
    callbacks = {"on_resync_change": functools.partial(_forget, key)}
    if on_stopped is not None:
        callbacks["on_stopped_change"] = on_stopped
    if on_attention is not None:  # the stream says the class asks something of the page
        callbacks["on_attention_change"] = on_attention
    if on_click is not None:  # ``clicked(key)`` reads where
        data["clicks"] = True
        callbacks["on_click_change"] = on_click
    _component()(key=f"live_plot:{key}", data=data, height=height, **callbacks)
