"""The live part of the Playground: readouts and plots that update while training runs.

Figures are built once per shape of the picture (data, task, view options) and cached in
the session; each frame sends only the arrays that move (the output grid as 8-bit, the
bends, the curves) through ``live_plot``, so a frame stays small and nothing remounts.
While playing, the decision boundary plays back the trainer's snapshots (~25 a second)
from a page refreshed ~4 times a second; it and the unit pictures are canvas-painted.
"""

import numpy as np
import streamlit as st

from playground.analysis.geometry import bends_by_layer
from playground.core.model import param_count
from playground.core.train import metric_label, metric_name
from playground.figures.boundary import (
    bend_arrays,
    decision_boundary_figure,
    first_bend_trace,
    surface_arrays,
)
from playground.figures.curves import (
    clipped,
    gradient_curves_arrays,
    gradient_curves_figure,
    loss_curves_arrays,
    loss_curves_figure,
    metric_curves_arrays,
    metric_curves_figure,
)
from playground.figures.units import neuron_thumbnails_arrays, neuron_thumbnails_figure
from playground.live.live_run import LiveRun
from playground.live.snapshots import Snapshot
from playground.ui.live_plot import CompactArray, LiveFrame, encode_live, live_plot

GRID_N = 64  # output grid drawn under the points: 4 KB a picture
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
THUMB_N = 24  # grid of each unit's thumbnail
CURVE_POINTS = 300  # history points drawn per curve
THUMB_MAX_WIDTH, THUMB_MAX_DEPTH = 8, 4
# While playing, the curves (Plotly draws, 25-110 ms each in software-rendered Chromium)
# refresh every other page refresh; canvas-painted unit pictures cost ~2 ms.
CURVES_EVERY = 2
CURVE_PLOTS = ("metric", "loss", "grads")  # top to bottom


def _due(name: str, every: int) -> bool:
    """Whether a side plot refreshes this frame (always when paused or never drawn)."""
    ss = st.session_state
    if not ss.get("playing") or f"_last_{name}" not in ss:
        return True
    return ss.get("_frame", 0) % every == 0


def _show(name: str, fig: dict, height: int, arrays: dict) -> None:
    st.session_state[f"_last_{name}"] = (fig, height, arrays)
    live_plot(fig, key=name, height=height, arrays=arrays)


def _show_last(name: str) -> None:
    """Redraw a skipped plot from its last arrays: an element missing from a rerun
    disappears, and unchanged arrays cost the browser no draw."""
    fig, height, arrays = st.session_state[f"_last_{name}"]
    live_plot(fig, key=name, height=height, arrays=arrays)


def _cached_figure(name: str, key: tuple, build) -> dict:
    """A figure as a plain dict, built once per key (building one takes ~30 ms); later
    refreshes send only the arrays of the figure's ``*_arrays`` builder."""
    cache = st.session_state.setdefault("_figures", {})
    hit = cache.get(name)
    if hit is None or hit[0] != key:
        fig, _ = build()
        cache[name] = (key, fig.to_dict())
    return cache[name][1]


def fmt(v: float) -> str:
    """Short enough for a metric tile: 0.123, 0.0123, 1.2e-4, -2.9e14."""
    if not np.isfinite(v):
        return "—"
    if v == 0 or 0.01 <= abs(v) < 1000:
        return f"{v:.3g}"
    mantissa, exp = f"{v:.1e}".split("e")
    return f"{mantissa}e{int(exp)}"


COMPACT = ((1e9, "B"), (1e6, "M"), (1e3, "k"))  # counts from 100,000 on


def fmt_count(n: int) -> str:
    """A count for a tile: 12,345 in full; from 100,000 on compact (123k, 1.73M)."""
    if abs(n) < 100_000:
        return f"{n:,}"
    for size, suffix in COMPACT:
        if abs(n) >= size:
            return f"{n / size:.3g}{suffix}"
    return f"{n:,}"


def fmt_metric(v: float, metric: str) -> str:
    if not np.isfinite(v):
        return "—"
    return f"{100 * v:.1f}%" if metric == "accuracy" else fmt(v)


def readouts(run: LiveRun) -> None:
    """The numbers of the run in one wrapping row: 2-3 rows of tiles on a phone, each as
    wide as its number (none cut off)."""
    m, task = run.metrics, run.spec.task
    label = metric_label(task)
    metric = metric_name(task)
    sizes = run.spec.sizes
    tiles = [
        ("Epoch", fmt_count(run.epoch), None),
        ("Step", fmt_count(run.step), None),
        ("Train loss", fmt(m.train_loss), None),
        ("Test loss", fmt(m.test_loss), None),
        (f"Train {label}", fmt_metric(m.train_metric, metric), None),
        (f"Test {label}", fmt_metric(m.test_metric, metric), R2_HELP if metric == "r2" else None),
        ("Parameters", fmt_count(param_count(sizes)), None),
    ]
    st.html(PHONE_READOUTS_CSS)
    with st.container(horizontal=True, gap="medium"):
        for name, value, help_text in tiles:
            st.metric(name, value, help=help_text, width="content")
    if not run.spec.hidden:
        n, k = sizes[0], sizes[-1]
        st.caption(
            f"A linear model with N = {n} inputs and K = {k} outputs has (N + 1)·K = "
            f"{(n + 1) * k} parameters: one weight per input and one bias, per output."
        )


def _boundary_arrays(
    run: LiveRun, snap: Snapshot, first_bend: int, n_layers: int, bends_cache: dict | None = None
) -> dict[str, CompactArray]:
    """The moving arrays of one picture. Snapshots between two computations of costly
    bends share one bends list: ``bends_cache`` (per call) encodes it once."""
    arrays = encode_live(surface_arrays(snap.grid, run.data, discretize=run.cfg.discretize))
    cache = {} if bends_cache is None else bends_cache
    if id(snap.bends) not in cache:
        layers = bends_by_layer(snap.bends, n_layers)
        cache[id(snap.bends)] = encode_live(bend_arrays(layers, first_bend))
    return {**arrays, **cache[id(snap.bends)]}


def bend_layers_shown(run: LiveRun, show_bends: bool) -> int:
    """How many layers of bends the boundary draws (none where they are not exact)."""
    return len(run.spec.hidden) if show_bends and not run.geometry_note() else 0


def boundary_plot(run: LiveRun, *, show_bends: bool, playing: bool, height: int = 520) -> None:
    """The output over the plane with points and bends. While playing it plays back the
    trainer's snapshots taken since the last refresh; otherwise it shows the run now."""
    ss = st.session_state
    cfg, data = run.cfg, run.data
    n_layers = bend_layers_shown(run, show_bends)
    key = (id(data), cfg.show_test, cfg.discretize, n_layers)
    last = ss.get("_boundary_last")
    mine = last is not None and last["snapshots"] is run.snapshots and last["key"] == key
    playback = playing and mine
    snaps = run.snapshots.since(last["seq"]) if playback else []
    if not playback:
        snaps = [run.snapshot(GRID_N, bends=None if n_layers else [])]

    def build():
        snap = snaps[-1] if snaps else run.snapshot(GRID_N, bends=None if n_layers else [])
        layers = bends_by_layer(snap.bends, n_layers)
        return decision_boundary_figure(
            snap.xs,
            snap.ys,
            snap.grid,
            data,
            show_test=cfg.show_test,
            discretize=cfg.discretize,
            bends_by_layer=layers,
            height=height,
        )

    fig = _cached_figure("boundary", key, build)
    first_bend = first_bend_trace(len(fig["data"]), n_layers)
    canvas = [0, *range(first_bend, len(fig["data"]))]
    frames: list[LiveFrame] = []
    if playback and snaps:
        bends_cache: dict = {}
        for s in snaps:
            frame_arrays = _boundary_arrays(run, s, first_bend, n_layers, bends_cache)
            label = f"epoch {int(s.epoch):,}"
            frames.append({"seq": s.seq, "t": s.t, "label": label, "arrays": frame_arrays})
        arrays = frames[-1]["arrays"]
    elif playback:
        arrays = last["arrays"]  # no new picture yet: the browser keeps what it shows
    else:
        arrays = _boundary_arrays(run, snaps[-1], first_bend, n_layers)
    seq = snaps[-1].seq if snaps else last["seq"]
    ss["_boundary_last"] = {"snapshots": run.snapshots, "seq": seq, "key": key, "arrays": arrays}
    live_plot(fig, key="boundary", height=height, arrays=arrays, canvas=canvas, frames=frames)


def _thin(n: int) -> np.ndarray:
    """Indices of at most CURVE_POINTS records, always keeping the latest."""
    if n <= CURVE_POINTS:
        return np.arange(n)
    return np.unique(np.r_[np.linspace(0, n - 1, CURVE_POINTS).astype(int), n - 1])


def curves(run: LiveRun, height: int = 260) -> None:
    """Accuracy (or R²), loss and per-layer gradient curves, top to bottom, from one copy
    of the history."""
    if not _due(CURVE_PLOTS[0], CURVES_EVERY):  # all three are drawn together
        for name in CURVE_PLOTS:
            _show_last(name)
        return
    h = run.history.copy()
    idx = _thin(len(h))
    epoch = h.array("epoch")[idx]
    col = lambda key: h.array(key)[idx]  # noqa: E731

    metric = metric_name(run.spec.task)
    train, test = col("train_metric"), col("test_metric")
    fig = _cached_figure(
        "metric",
        (metric, clipped(train, test)),  # a clipped R² chart says so in its title
        lambda: metric_curves_figure(epoch, train, test, metric, height=height),
    )
    arrays = metric_curves_arrays(epoch, train, test)
    _show("metric", fig, height, encode_live(arrays))

    fig = _cached_figure("loss", (), lambda: loss_curves_figure(epoch, epoch, epoch, height=height))
    arrays = loss_curves_arrays(epoch, col("train_loss"), col("test_loss"))
    _show("loss", fig, height, encode_live(arrays))

    grads = np.stack(h.rows["grad_rms"])[idx]
    fig = _cached_figure(
        "grads", (grads.shape[1],), lambda: gradient_curves_figure(epoch, grads, height=height)
    )
    _show("grads", fig, height, encode_live(gradient_curves_arrays(epoch, grads)))


def thumbnails_fit(run: LiveRun) -> bool:
    hidden = run.spec.hidden
    return bool(hidden) and len(hidden) <= THUMB_MAX_DEPTH and max(hidden) <= THUMB_MAX_WIDTH


def thumbnails(run: LiveRun) -> None:
    """Per-unit pictures for small nets, canvas-painted: cheap on every refresh. Dead
    units (off at every training point) are marked; the figure is rebuilt only when the
    set of dead units changes."""
    xs, ys, grids = run.unit_grids(THUMB_N)
    bends = run.bends()
    dead = [d.copy() for d in run.dead_units()]
    fig = _cached_figure(
        "thumbs",
        (run.spec.hidden, tuple(tuple(d) for d in dead)),
        lambda: neuron_thumbnails_figure(
            xs, ys, grids, bends, max_units=THUMB_MAX_WIDTH, dead=dead
        ),
    )
    arrays = encode_live(neuron_thumbnails_arrays(grids, bends, max_units=THUMB_MAX_WIDTH))
    height, canvas = fig["layout"]["height"], list(range(len(fig["data"])))
    live_plot(fig, key="thumbs", height=height, arrays=arrays, canvas=canvas)
