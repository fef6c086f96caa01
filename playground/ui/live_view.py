"""The live part of the Playground: readouts and plots that update while training runs.

Figures are built once per shape of the picture (data, task, view options) and cached in
the session; each frame sends only the arrays that move (the output grid as 8-bit, the
bends, the curves) through ``live_plot``, so a frame stays small and nothing remounts.
While playing, the decision boundary plays back the trainer's snapshots (~25 a second)
from a page refreshed ~4 times a second; it and the unit pictures are canvas-painted.
"""

import functools
import hashlib
import threading
from collections import OrderedDict

import numpy as np
import streamlit as st

from playground.analysis.geometry import bends_by_layer
from playground.core.train import metric_label, metric_name
from playground.figures.boundary import (
    canvas_uids,
    decision_boundary_figure,
    picked_bend_trace,
)
from playground.figures.curves import (
    PLOTS,
    TRAIN,
    clipped,
    gradient_curves_figure,
    history_arrays,
    loss_curves_figure,
    metric_curves_figure,
)
from playground.figures.describe import (
    boundary_description,
    curves_description,
    gradients_description,
    network_description,
    units_description,
)
from playground.figures.readouts import readout_tiles
from playground.figures.units import neuron_thumbnails_arrays, neuron_thumbnails_figure
from playground.live.server.frames import (
    GRID_N,
    THUMB_MAX_WIDTH,
    THUMB_N,
    BoundaryView,
    PictureEncoder,
    epoch_label,
    frame,
)
from playground.live.server.frames import (
    thumbnails_fit as _fits,
)
from playground.live.session.live_run import LiveRun
from playground.ui import picks
from playground.ui.escape import escape_markdown
from playground.ui.live_plot import LiveFrame, encode_live, live_plot

# On a phone the tiles' numbers are set smaller, so the readouts take two rows and the
# plot starts within the first screen.
PHONE_READOUTS_CSS = """<style>@media (max-width: 640px) {
  [data-testid="stMetricValue"] { font-size: 1.5rem; }
  [data-testid="stMetric"] { min-height: 0; }
}</style>"""
R2_HELP = (
    "1 is a perfect fit, 0 is no better than always guessing the mean; a fit worse than "
    "that goes below 0 (the chart draws anything below -1 at -1)."
)
# While playing, the curves (Plotly draws, 25-110 ms each in software-rendered Chromium)
# refresh every other page refresh; canvas-painted unit pictures cost ~2 ms.
CURVES_EVERY = 2


def _due(name: str, every: int) -> bool:
    """Whether a side plot refreshes this frame (always when paused or never drawn)."""
    ss = st.session_state
    if not ss.get("playing") or f"_last_{name}" not in ss:
        return True
    return ss.get("_frame", 0) % every == 0


def _show(name: str, fig: dict, height: int, arrays: dict, alt: str) -> None:
    st.session_state[f"_last_{name}"] = (fig, height, arrays, alt)
    live_plot(fig, key=name, height=height, arrays=arrays, alt=alt)


def _show_last(name: str) -> None:
    """Redraw a skipped plot from its last arrays: an element missing from a rerun
    disappears, and unchanged arrays cost the browser no draw."""
    fig, height, arrays, alt = st.session_state[f"_last_{name}"]
    live_plot(fig, key=name, height=height, arrays=arrays, alt=alt)


# Figures whose key says all they show, whatever the session: built once per process
# (a class opening one link builds each once, not thirty times: a figure takes 30-300 ms
# of the interpreter lock that every learner's training shares). Never mutated.
_SHARED_FIGURES: "OrderedDict[tuple, dict]" = OrderedDict()
_SHARED_LOCK = threading.Lock()
SHARED_FIGURES_MAX = 64


def _shared_figure(key: tuple, build) -> dict:
    with _SHARED_LOCK:
        fig = _SHARED_FIGURES.get(key)
        if fig is not None:
            _SHARED_FIGURES.move_to_end(key)
            return fig
    fig = build()[0].to_dict()
    with _SHARED_LOCK:
        _SHARED_FIGURES[key] = fig
        while len(_SHARED_FIGURES) > SHARED_FIGURES_MAX:
            _SHARED_FIGURES.popitem(last=False)
    return fig


def _cached_figure(name: str, key: tuple, build, *, shared: bool = False) -> dict:
    """A figure as a plain dict, built once per key (building one takes ~30 ms); later
    refreshes send only the arrays of the figure's ``*_arrays`` builder. ``shared``: the
    key alone fixes the figure (its live arrays aside), so sessions share it."""
    cache = st.session_state.setdefault("_figures", {})
    hit = cache.get(name)
    if hit is None or hit[0] != key:
        fig = _shared_figure((name, *key), build) if shared else build()[0].to_dict()
        cache[name] = (key, fig)
    return cache[name][1]


def readouts(run: LiveRun) -> None:
    """The numbers of the run in one wrapping row: 2-3 rows of tiles on a phone, each as
    wide as its number (none cut off)."""
    tiles = readout_tiles(
        run.metrics, step=run.step, epoch=run.epoch, task=run.spec.task, sizes=run.spec.sizes
    )
    r2 = metric_name(run.spec.task) == "r2"
    st.html(PHONE_READOUTS_CSS)
    with st.container(horizontal=True, gap="medium"):
        for label, text in tiles:
            help_text = R2_HELP if r2 and label.startswith("Test") and "R²" in label else None
            st.metric(label, text, help=help_text, width="content")
    if not run.spec.hidden:
        n, k = run.spec.sizes[0], run.spec.sizes[-1]
        st.caption(
            f"A linear model with N = {n} inputs and K = {k} outputs has (N + 1)·K = "
            f"{(n + 1) * k} parameters: one weight per input and one bias, per output."
        )


def _data_key(data) -> str:
    """A digest of a dataset's points, labels and names (the same data, the same key)."""
    h = hashlib.blake2b(digest_size=16)
    for a in (data.x_train, data.y_train, data.x_test, data.y_test):
        h.update(np.ascontiguousarray(a).tobytes())
    h.update(repr((data.task, data.n_classes, tuple(data.class_names))).encode())
    return h.hexdigest()


def bend_layers_shown(run: LiveRun, show_bends: bool) -> int:
    """How many layers of bends the boundary draws (none where they are not exact)."""
    return len(run.spec.hidden) if show_bends and not run.geometry_note() else 0


def boundary_figure(run: LiveRun, *, show_bends: bool, height: int = 520):
    """The boundary figure as a dict (built once per picture shape) and how it is drawn
    (``BoundaryView``: the layers of bends the pictures update, the picked unit's bend)."""
    cfg = run.cfg
    n_layers = bend_layers_shown(run, show_bends)
    key = (_data_key(run.data), cfg.show_test, cfg.discretize, n_layers, height)

    def build():
        snap = run.snapshot(GRID_N, bends=None if n_layers else [])
        fig, arrays = decision_boundary_figure(
            snap.xs,
            snap.ys,
            snap.grid,
            run.data,
            show_test=cfg.show_test,
            discretize=cfg.discretize,
            bends_by_layer=bends_by_layer(snap.bends, n_layers),
            height=height,
        )
        if n_layers:  # the last trace, over every layer's bends
            fig.add_trace(picked_bend_trace())
        return fig, arrays

    # The points are the figure's; the output and the bends go as arrays: learners on
    # the same data share one figure.
    fig = _cached_figure("boundary", key, build, shared=True)
    if not n_layers:
        return fig, BoundaryView(0, cfg.discretize)
    picked = picks.picked_unit(run)
    return fig, BoundaryView(n_layers, cfg.discretize, picked_bend=True, picked=picked)


def boundary_plot(
    run: LiveRun,
    *,
    show_bends: bool,
    playing: bool,
    height: int = 520,
    stream: dict | None = None,
    on_stopped=None,
    on_attention=None,
) -> None:
    """The output over the plane with points and bends. While playing (without a
    ``stream``) it plays back the trainer's snapshots taken since the last refresh;
    otherwise it shows the run now, and a ``stream`` brings the pictures after it."""
    ss = st.session_state
    fig, view = boundary_figure(run, show_bends=show_bends, height=height)
    encoder = PictureEncoder(run.data, view)
    last = ss.get("_boundary_last")
    mine = last is not None and last["snapshots"] is run.snapshots and last["view"] == view
    playback = playing and mine and stream is None
    snaps = run.snapshots.since(last["seq"]) if playback else []
    if not playback:
        snaps = [run.snapshot(GRID_N, bends=None if view.n_layers else [])]
    canvas = canvas_uids(fig)
    frames: list[LiveFrame] = []
    if playback and snaps:
        frames = [frame(s, encoder.arrays(s)) for s in snaps]
        arrays = frames[-1]["arrays"]
    elif playback:
        arrays = last["arrays"]  # no new picture yet: the browser keeps what it shows
    else:
        arrays = encoder.arrays(snaps[-1])
    seq = snaps[-1].seq if snaps else last["seq"]
    data = run.data
    alt = boundary_description(
        data.x_test,
        data.y_test,
        run.predict(data.x_test),
        task=run.spec.task,
        n_classes=data.n_classes,
        class_names=data.class_names,
        epoch=run.epoch,
        problem=data.name,
    )
    ss["_boundary_last"] = {"snapshots": run.snapshots, "seq": seq, "view": view, "arrays": arrays}
    live_plot(
        fig,
        key="boundary",
        height=height,
        arrays=arrays,
        canvas=canvas,
        frames=frames,
        # A still picture is the run now: it says the same epoch as the readouts above.
        label=None if playback else epoch_label(snaps[-1].epoch),
        alt=alt,
        say=_description_asked(run),
        stream=stream,
        on_stopped=on_stopped,
        on_attention=on_attention,
        on_click=functools.partial(picks.on_plane_click, "boundary") if view.n_layers else None,
    )
    if caption := picks.picked_caption(run) if view.n_layers else None:
        st.caption(caption)


DESCRIBE = "Describe the network"
_DESCRIBE_ASKED = "_describe_asked"  # session keys: the button was pressed; its text
_DESCRIPTION = "_description"


def _ask_description() -> None:
    st.session_state[_DESCRIBE_ASKED] = True


def _description_asked(run: LiveRun) -> str | None:
    """The network in words when "Describe the network" was just pressed (the boundary's
    live region reads it), else None."""
    if not st.session_state.pop(_DESCRIBE_ASKED, False):
        return None
    lines = network_description(
        run.params_numpy(),
        run.dead_units(),
        activation=run.spec.activation,
        features=run.spec.features,
    )
    st.session_state[_DESCRIPTION] = (run.step, run.spec, lines)
    return " ".join(lines)


def describe_button(run: LiveRun) -> None:
    """The "Describe the network" button, and its words while the network is unchanged."""
    st.button(
        DESCRIBE,
        key="describe",
        on_click=_ask_description,
        help="The current network in words: units alive and dead, regions, largest weights.",
    )
    said = st.session_state.get(_DESCRIPTION)
    if said and said[:2] == (run.step, run.spec):
        st.markdown("\n".join(f"- {escape_markdown(line)}" for line in said[2]))


def curves(run: LiveRun, height: int = 260) -> None:
    """Accuracy (or R²), loss and per-layer gradient curves, top to bottom, from one copy
    of the history."""
    if not _due(PLOTS[0], CURVES_EVERY):  # all three are drawn together
        for name in PLOTS:
            _show_last(name)
        return
    metric = metric_name(run.spec.task)
    h = run.history.copy()
    arrays = history_arrays(h, metric)
    # Built once per key with placeholder data; every refresh sends the arrays.
    x = arrays["loss"][f"{TRAIN}.x"].values
    n = len(run.spec.sizes) - 1
    train, test = h.array("train_metric"), h.array("test_metric")
    cut = clipped(train, test)  # a clipped R² chart says so in its title
    builders = {
        "metric": (
            (metric, cut),
            lambda: metric_curves_figure(x, train[: len(x)], test[: len(x)], metric, height=height),
        ),
        "loss": ((), lambda: loss_curves_figure(x, x, x, height=height)),
        "grads": ((n,), lambda: gradient_curves_figure(x, np.ones((len(x), n)), height=height)),
    }
    epochs = h.array("epoch")
    grads = np.stack(h.rows["grad_rms"]) if len(h) else np.full((1, n), np.nan)
    alts = {
        "metric": curves_description(
            epochs, train, test, what=f"Test {metric_label(run.spec.task)}", metric=metric
        ),
        "loss": curves_description(
            epochs, h.array("train_loss"), h.array("test_loss"), what="Loss"
        ),
        "grads": gradients_description(grads[-1], epoch=run.epoch),
    }
    for name in PLOTS:
        key, build = builders[name]
        # Built from placeholders: the key says all (the arrays go separately).
        fig = _cached_figure(name, (*key, height), build, shared=True)
        arrays_now = encode_live(arrays[name])
        _show(name, fig, fig["layout"].get("height", height), arrays_now, alts[name])


def thumbnails_fit(run: LiveRun) -> bool:
    return _fits(run.spec.hidden)


def thumbnails(run: LiveRun) -> None:
    """Per-unit pictures for small nets, canvas-painted: cheap on every refresh. Dead
    units (off at every training point) are marked; the figure is rebuilt only when the
    set of dead units changes."""
    xs, ys, grids = run.unit_grids(THUMB_N)
    bends = run.bends()
    dead = [d.copy() for d in run.dead_units()]
    fig = _cached_figure(
        "thumbs",
        (run.spec.hidden, tuple(tuple(bool(v) for v in d) for d in dead), THUMB_N),
        lambda: neuron_thumbnails_figure(
            xs, ys, grids, bends, max_units=THUMB_MAX_WIDTH, dead=dead
        ),
        shared=True,  # the grid is the same box everywhere; pictures and bends are arrays
    )
    arrays = encode_live(neuron_thumbnails_arrays(grids, bends, max_units=THUMB_MAX_WIDTH))
    height, canvas = fig["layout"]["height"], [t["uid"] for t in fig["data"]]
    alt = units_description(dead)
    live_plot(fig, key="thumbs", height=height, arrays=arrays, canvas=canvas, alt=alt)
