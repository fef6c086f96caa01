"""Each server's learners, published to the class store: one thread per process makes
every learner's tile once a second (and the spotlit learner's large picture twice a
second), whoever and however many watch the wall. It also brings back what the class
asks of each learner (a new exercise, being on screen, the class ended), so the learner's
page and stream read it from memory, never from the store."""

import contextlib
import math
import threading
import time
import weakref
from dataclasses import dataclass, field

import numpy as np

from playground.classroom.model import Tile, learner_status
from playground.classroom.store import ClassStore, StoreUnavailable
from playground.core.train import metric_name
from playground.figures.tile import boundary_tile_png
from playground.live.session.live_run import LiveRun
from playground.live.session.snapshots import Snapshot

TILE_S = 1.0  # the wall is at most this (plus its own refresh) behind
SPOT_S = 0.5
GRID_N = 48  # the tile's picture and the spotlight's grid (the spotlight's is finer)
SPOT_GRID_N = 80
SPOT_POINTS = 400  # points drawn on the spotlight, at most
CURVE_POINTS = 300


@dataclass(eq=False)
class Member:
    """A learner of a class, as this server's page of theirs keeps it (held by their
    session; the publisher holds it weakly, so a closed tab leaves the class)."""

    store: ClassStore
    code: str
    member: str
    name: str
    version: int  # the exercise version the learner's page runs
    run: "weakref.ref[LiveRun] | None" = None
    playing: bool = False
    waiting: bool = False
    touched: float = field(default_factory=time.monotonic)  # the learner's last control
    # In a class experiment: its id, the knob and this learner's value of it.
    experiment: str = ""
    knob: str = ""
    value: float = math.nan
    # Brought back by the publisher:
    class_version: int = 0  # the class's exercise version now (0: the class is gone)
    on_screen: bool = False
    _picture: tuple = (None, -1, "")  # (run, step, png) of the last tile picture

    def live(self) -> LiveRun | None:
        return None if self.run is None else self.run()

    def attention(self) -> str:
        """What the learner's page should show again for (a change of it reruns the
        page): a new exercise, the class ended, the spotlight on or off."""
        return f"{self.class_version}:{int(self.on_screen)}"

    def note(self) -> str:
        return "your teacher shows this on the class's screen" if self.on_screen else ""


def shape_text(sizes: list[int]) -> str:
    return " → ".join(str(s) for s in sizes)


def _latest(run: LiveRun) -> Snapshot | None:
    snaps = run.snapshots.since(0)
    return snaps[-1] if snaps else None


def _picture(m: Member, run: LiveRun) -> str:
    """The tile's PNG: from the trainer's latest picture when it is of the run as it is,
    else one small forward pass (once per step: a paused run costs nothing more)."""
    last_run, last_step, png = m._picture
    if last_run is run.run and last_step == run.step:
        return png
    snap = _latest(run)
    if snap is None or snap.step != run.step:
        snap = run.live_snapshot(GRID_N, bends=False)
    png = boundary_tile_png(snap.grid, run.spec.task, run.spec.n_classes, run.cfg.discretize)
    m._picture = (run.run, run.step, png)
    return png


def tile_of(m: Member, now: float | None = None) -> Tile:
    """The learner's tile as of now."""
    run = m.live()
    if run is None:
        return Tile(
            member=m.member,
            name=m.name,
            status="left",
            version=m.version,
            experiment=m.experiment,
            knob=m.knob,
            value=m.value,
        )
    history = run.history.copy()  # one consistent copy: the trainer appends meanwhile
    epochs = history.array("epoch")[-400:] if len(history) else np.zeros(0)
    losses = history.array("test_loss")[-400:] if len(history) else np.zeros(0)
    idle = (time.monotonic() if now is None else now) - m.touched
    status = learner_status(
        playing=m.playing and not run.halted,
        waiting=m.waiting,
        diverged=run.diverged,
        dead_layer=run.dead_layer is not None,
        test_losses=[float(v) for v in losses],
        epochs=[float(v) for v in epochs],
        idle_for=idle,
        score=float(run.metrics.test_metric),
    )
    metrics = run.metrics
    return Tile(
        member=m.member,
        name=m.name,
        status=status,
        epoch=int(run.epoch),
        test_loss=float(metrics.test_loss),
        score=float(metrics.test_metric),
        metric=metric_name(run.spec.task),
        shape=shape_text(run.spec.sizes),
        picture=_picture(m, run),
        version=m.version,
        experiment=m.experiment,
        knob=m.knob,
        value=m.value,
    )


def _rounded(a, digits: int = 4) -> list:
    a = np.asarray(a, np.float64)
    return np.where(np.isfinite(a), np.round(a, digits), None).tolist()


def spotlight_view(m: Member) -> dict | None:
    """The spotlit learner's picture as JSON: the output on a grid, the first layer's
    bends, a sample of the points, the loss curves."""
    run = m.live()
    if run is None:
        return None
    snap = run.live_snapshot(SPOT_GRID_N, bends=True)
    data = run.data
    pick = np.linspace(0, len(data.x_train) - 1, min(SPOT_POINTS, len(data.x_train))).astype(int)
    history = run.history.copy()  # one consistent copy: the trainer appends meanwhile
    n = len(history)
    keep = np.linspace(0, n - 1, min(n, CURVE_POINTS)).astype(int) if n else np.zeros(0, int)

    def curve(key):
        return _rounded(history.array(key)[keep]) if n else []

    lines = snap.lines if snap.lines is not None else np.zeros((0, 2, 2))
    return {
        "name": m.name,
        "epoch": int(run.epoch),
        "task": data.task,
        "n_classes": int(data.n_classes),
        "class_names": list(data.class_names),
        "discretize": bool(run.cfg.discretize),
        "xs": _rounded(snap.xs),
        "ys": _rounded(snap.ys),
        "grid": _rounded(snap.grid, 3),
        "lines": _rounded(lines),
        "x_train": _rounded(data.x_train[pick]),
        "y_train": np.asarray(data.y_train[pick]).tolist(),
        "epochs": curve("epoch"),
        "train_loss": curve("train_loss"),
        "test_loss": curve("test_loss"),
        "shape": shape_text(run.spec.sizes),
        "test_loss_now": None
        if not math.isfinite(run.metrics.test_loss)
        else run.metrics.test_loss,
    }


class Publisher:
    """This process's one publishing thread (started with the first learner)."""

    def __init__(self):
        self.members: weakref.WeakValueDictionary[str, Member] = weakref.WeakValueDictionary()
        self._last_tile: dict[str, tuple[ClassStore, str, Tile]] = {}
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self.errors = 0

    def add(self, m: Member) -> None:
        with self._lock:
            self.members[m.member] = m
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="class-publisher")
                self._thread.daemon = True
                self._thread.start()

    def remove(self, member: str) -> None:
        with self._lock:
            self.members.pop(member, None)
            self._last_tile.pop(member, None)

    def _loop(self) -> None:
        due = 0.0
        while True:
            time.sleep(SPOT_S)
            now = time.monotonic()
            tiles = now >= due
            if tiles:
                due = now + TILE_S
            try:
                self.publish(tiles=tiles)
            except Exception as err:  # the thread outlives any one bad pass
                self.errors += 1
                if self.errors <= 3:
                    print(f"playground: class publisher: {err!r}", flush=True)

    def publish(self, *, tiles: bool = True) -> None:
        """One pass: every learner's tile (when ``tiles``), the spotlight's picture, and
        what each class asks of its learners."""
        with self._lock:
            members = list(self.members.values())
            gone = [k for k in self._last_tile if k not in self.members]
        classes: dict[tuple[int, str], tuple[int, str | None]] = {}
        for m in members:
            key = (id(m.store), m.code)
            try:
                if key not in classes:
                    info = m.store.info(m.code)
                    spot = m.store.spotlight(m.code) if info else None
                    classes[key] = (info.version if info else 0, spot)
                m.class_version, spot = classes[key]
                m.on_screen = spot == m.member
                if tiles:
                    tile = tile_of(m)
                    m.store.put_tile(m.code, tile)
                    self._last_tile[m.member] = (m.store, m.code, tile)
                if m.on_screen and (view := spotlight_view(m)) is not None:
                    m.store.put_spotlight_view(m.code, m.member, view)
            except StoreUnavailable:
                continue  # said on the learner's page; the next pass tries again
        for member in gone:  # a closed tab: the wall says so at once
            store, code, tile = self._last_tile.pop(member)
            tile.status, tile.updated = "left", time.time()
            with contextlib.suppress(StoreUnavailable):
                store.put_tile(code, tile)


PUBLISHER = Publisher()
