"""What a playing run sends to its browser: pictures of the boundary, the side plots'
arrays and the readouts, packed by the figures' own builders (one source with the page).

No Streamlit here: the page's live view and the frames stream both call these.
"""

import dataclasses
from typing import NamedTuple

import numpy as np

from playground.analysis.geometry import bends_by_layer
from playground.core.features import FEATURES
from playground.figures.boundary import (
    bend_arrays,
    live_bend_arrays,
    picked_bend_arrays,
    surface_arrays,
)
from playground.figures.curves import history_arrays
from playground.figures.network import network_alt, network_figure
from playground.figures.protocol import CompactArray, LiveFrame
from playground.figures.readouts import readout_tiles
from playground.figures.units import neuron_thumbnails_live_arrays
from playground.figures.wire import encode_live
from playground.live.engine import run as engine

GRID_N = 64  # output grid drawn under the points: 4 KB a picture
THUMB_N = 24  # grid of each unit's thumbnail
THUMB_MAX_WIDTH, THUMB_MAX_DEPTH = 8, 4
NETWORK_PICTURE_N = 25  # grid of each unit's picture in the Network


class BoundaryView(NamedTuple):
    """How one page draws the boundary: how many layers of bends, what the surface
    shows, the picked unit's bend. Fixed until the page builds its figure anew. (The
    arrays name their traces by uid: no trace index is needed.)"""

    n_layers: int  # bend layers drawn (0: none)
    discretize: bool
    picked_bend: bool = False  # the figure has the picked unit's bend trace
    picked: tuple[int, int] | None = None  # (hidden layer, unit), 0-based


class PictureEncoder:
    """Packs snapshots of one run for one ``BoundaryView``: the output grid of each, and
    the bends, packed once for all pictures that share one computation of them."""

    def __init__(self, data, view: BoundaryView):
        self.data, self.view = data, view
        self._bends: tuple[object, dict[str, CompactArray]] | None = None

    def arrays(self, snap) -> dict[str, CompactArray]:
        surface = surface_arrays(snap.grid, self.data, discretize=self.view.discretize)
        if snap.lines is not None:  # a live picture: its own bends, every time
            box = (snap.xs[0], snap.xs[-1], snap.ys[0], snap.ys[-1])
            view = self.view
            bends = live_bend_arrays(snap.lines, snap.signs, view.n_layers, box)
            return encode_live({**surface, **bends, **self._picked_live(snap, box)})
        if self._bends is None or self._bends[0] is not snap.bends:
            layers = bends_by_layer(snap.bends, self.view.n_layers)
            arrays = {**bend_arrays(layers), **self._picked_exact(snap)}
            self._bends = (snap.bends, encode_live(arrays))
        return {**encode_live(surface), **self._bends[1]}

    def _picked_live(self, snap, box) -> dict:
        view = self.view
        if view.picked is None or not view.picked_bend:
            return {}
        layer, unit = view.picked
        if layer == 0 and unit < len(snap.lines):
            return picked_bend_arrays(snap.lines[unit : unit + 1])
        if 0 < layer <= len(snap.signs) and unit < len(snap.signs[layer - 1]):
            signs = snap.signs[layer - 1][unit : unit + 1]
            return picked_bend_arrays(signs=signs, box=box)
        return picked_bend_arrays()  # not in this network

    def _picked_exact(self, snap) -> dict:
        view = self.view
        if view.picked is None or not view.picked_bend:
            return {}
        mine = [b.segments for b in snap.bends if (b.layer, b.unit) == view.picked]
        segments = np.concatenate([np.reshape(s, (-1, 2, 2)) for s in mine]) if mine else None
        return picked_bend_arrays(segments)

    def __call__(self, snap):
        """The snapshot with its packed arrays (the trainer calls this on each picture)."""
        return dataclasses.replace(snap, arrays=self.arrays(snap))


def epoch_label(epoch) -> str:
    """The caption a picture of the boundary carries (played frames and still pictures)."""
    return f"epoch {int(epoch):,}"


def frame(snap, arrays: dict[str, CompactArray]) -> LiveFrame:
    return {"seq": snap.seq, "t": snap.t, "label": epoch_label(snap.epoch), "arrays": arrays}


def thin(frames: list[LiveFrame], before: dict[str, CompactArray]) -> list[LiveFrame]:
    """The frames with only the arrays that are not the very object the browser got last
    (the bends of pictures between two computations of them); ``before`` is updated."""
    out = []
    for f in frames:
        kept = {p: a for p, a in f["arrays"].items() if before.get(p) is not a}
        before.update(f["arrays"])
        out.append({**f, "arrays": kept})
    return out


def readouts(run) -> dict[str, str]:
    """The readout tiles' texts of a ``live.engine.run.Run``, by label."""
    tiles = readout_tiles(
        run.metrics,
        step=run.step,
        epoch=int(run.epoch),
        task=run.spec.task,
        sizes=run.spec.sizes,
    )
    return dict(tiles)


def thumbnails_fit(hidden) -> bool:
    return bool(hidden) and len(hidden) <= THUMB_MAX_DEPTH and max(hidden) <= THUMB_MAX_WIDTH


def thumbnail_arrays(live) -> dict[str, CompactArray]:
    """Every unit's picture and live bend of a playing ``LiveRun``, packed."""
    xs, ys, grids = live.unit_grids(THUMB_N)
    box = (xs[0], xs[-1], ys[0], ys[-1])
    lines = live.first_layer_bends(box) if live.live_bends_drawable() else None
    arrays = neuron_thumbnails_live_arrays(grids, lines, box, max_units=THUMB_MAX_WIDTH)
    return encode_live(arrays)


def curve_arrays(live, metric: str) -> dict[str, dict[str, CompactArray]]:
    """The three curve figures' packed arrays from one copy of the history."""
    return {k: encode_live(v) for k, v in history_arrays(live.history.copy(), metric).items()}


def network_picture(live, *, gradients: bool, picked=None) -> tuple[dict, str]:
    """The Network figure of a ``LiveRun``'s weights now (a plain dict) and its sentence,
    both from one read of the run (the trainer may replace it meanwhile); ``picked``:
    (weight layer, unit, source), its unit outlined. The page draws it; while the run
    plays, the frames stream sends it again."""
    r = live.run
    _, _, pictures = engine.network_grids(r, NETWORK_PICTURE_N)
    dead = list(r.dead if r.dead is not None else engine.measured(r).dead)
    params = engine.params_numpy(r)
    labels = [FEATURES[n].label for n in r.spec.features]
    fig = network_figure(
        params,
        feature_labels=labels,
        pictures=pictures,
        dead=dead,
        gradients=engine.loss_gradients(r) if gradients else None,
        picked=None if picked is None else (picked[0] + 1, picked[1]),
    )
    return fig, network_alt(params, dead, labels, gradients=gradients)
