"""One learner's live run between page reruns: the current ``Run``, its history, its
snapshots and what went wrong, in plain words.

A thin holder over the functions of ``live.engine.run``: each method replaces ``self.run``
whole, so a reader on another thread (the page while the trainer trains) always sees
one consistent run. No Streamlit here, so tests and the CLI drive it directly.
"""

import math
import time
from typing import NamedTuple

import numpy as np

from playground.analysis.geometry import TooManyPieces, bends, geometry_supported, has_bends
from playground.analysis.grid_bends import first_layer_bends
from playground.core.config import PATIENCE_EPOCHS, SPEEDS, RunConfig, reset_fields
from playground.core.datasets import BOX, Dataset
from playground.core.errors import PlaygroundError
from playground.core.model import ACTIVATIONS
from playground.core.modelfile import SavedModel
from playground.core.train import divergence_message
from playground.live.engine import run as engine
from playground.live.engine.limits import HostLimits, capped, capped_dataset, model_message
from playground.live.session.history import History
from playground.live.session.kept import KeptRuns
from playground.live.session.snapshots import Snapshot, Snapshots, next_seq

# A layer seen dead is declared dead once it has stayed so this many steps: by then
# Adam's and momentum's remembered updates (shrinking by 0.9 a step) have died out too,
# so nothing can bring it back.
DEAD_CONFIRM_STEPS = 100
# Paced play never makes up more than this many seconds of steps at once, so a stall
# (a compile, a busy machine) does not end in a jump.
PACE_BURST_S = 0.25
UPLOAD_CHANGE = "upload"  # apply()'s name for a new uploaded dataset
# Why a layer died, likeliest first (``dead_layer_cause``). A minibatch loss above this
# many times the untrained network's: a step too large threw the layer off.
LOSS_JUMP = 1.5
# A layer this narrow (up to the dead one) is easily switched off whole: one or two units
# off at every point are one unlucky step away (1x8 and 2x8 nets die at lr 0.01).
NARROW_WIDTH = 2
# From this rate on Adam kills layer 2 of the default 8-8 net on the spiral (README).
HIGH_LEARNING_RATE = 0.03
# This many hidden layers: each ReLU layer passes on only part of the signal, so a deep
# stack starves a layer (3x8 and 4x8 nets lose layer 7 on the spiral at lr 0.01).
DEEP_LAYERS = 5
# The test score (accuracy or R²) counts as fallen when this far below its best.
SCORE_DROP = 0.10


class DeadLayer(NamedTuple):
    """A hidden layer all of whose units are off at every training point."""

    layer: int  # 0-based
    width: int
    step: int  # the step it was first seen dead
    cause: str  # the likeliest reason, one of DEAD_CAUSES


DEAD_CAUSES = ("step", "narrow", "deep")  # too large a step, too narrow, too deep


def dead_layer_cause(
    hidden: tuple[int, ...], layer: int, learning_rate: float, *, loss_jumped: bool
) -> str:
    """The likeliest reason why hidden layer ``layer`` died, from what the run shows:
    "step" (the loss jumped first, or the rate is high), "narrow" (a layer up to it has at
    most NARROW_WIDTH units) or "deep" (DEEP_LAYERS or more layers); else "step"."""
    if loss_jumped:
        return "step"
    if min(hidden[: layer + 1]) <= NARROW_WIDTH:
        return "narrow"
    if learning_rate >= HIGH_LEARNING_RATE:
        return "step"
    if len(hidden) >= DEEP_LAYERS:
        return "deep"
    return "step"


class Pinned(NamedTuple):
    """A run kept to compare with ("Pin this run"): its settings, data, weights (an
    immutable ``Run``) and a copy of its history, as they were when pinned."""

    cfg: RunConfig
    run: engine.Run
    history: History


class ScoreDrop(NamedTuple):
    """The test score fell well below its best (by more than SCORE_DROP)."""

    best: float
    now: float
    best_epoch: int


class EarlyStop(NamedTuple):
    """Why the optional early stop paused training: the test loss has not improved
    (``engine.improved``) on its value at ``since_epoch`` for ``patience`` epochs."""

    test_loss: float  # now
    since_epoch: int
    patience: int


def _finite_mean(a: np.ndarray):
    """Mean over the first axis of the finite values (NaN where there are none), with no
    warning: NumPy's nanmean warns, and warning filters are not thread-safe."""
    finite = np.isfinite(a)
    count = finite.sum(axis=0)
    with np.errstate(all="ignore"):
        mean = np.where(finite, a, 0.0).sum(axis=0) / count
    return float(mean) if np.ndim(mean) == 0 else mean


# Metrics and a history row, at most this often while playing: 10 a second is more than
# the readouts show (4) and the curves draw (1); 30 learners then measure 300 times a second.
RECORD_EVERY_S = 0.1


class LiveRun:
    """One learner's run. Methods change it in place; figures read ``snapshot`` values."""

    clock = staticmethod(time.monotonic)  # paced play's clock (tests give their own)

    def __init__(
        self,
        cfg: RunConfig,
        *,
        upload: Dataset | None = None,
        saved=None,
        limits: HostLimits | None = None,
    ):
        self.upload = upload  # as given (a new file is a new object: ``apply``)
        self.limits = limits  # the host's (``live.engine.limits``); None: the app's own only
        self.limit_notes: list[str] = []  # what the host's limits changed, in words
        self.compile_seconds = 0.0  # spent compiling new chunk shapes, all told
        cfg = self._capped(cfg, upload)
        self._start(engine.new_run(cfg, upload=self._capped_upload(upload), saved=saved))

    def _capped(self, cfg: RunConfig, upload: Dataset | None) -> RunConfig:
        """``cfg`` within the host's limits; ``limit_notes`` says what they changed."""
        if self.limits is None:
            return cfg
        cfg, self.limit_notes = capped(cfg, self.limits, upload=upload)
        return cfg

    def _capped_upload(self, upload: Dataset | None) -> Dataset | None:
        if upload is None or self.limits is None:
            return upload
        return capped_dataset(upload, self.limits)[0]

    def _start(self, run: engine.Run) -> None:
        self.run = run
        # The weights this run started from ("Restart from the same weights"), and its
        # states at log-spaced steps ("Rewind to step").
        self.initial = run
        self.kept = KeptRuns()
        self._rewound = False  # showing a kept step, with later ones still kept
        self.history = History()
        self.snapshots = Snapshots()
        self.message = ""  # why training paused, in plain words; "" when all is well
        self.bends_note = ""  # why the exact bends are not drawn; "" when they are
        self._bends = None  # (params, box, bends) of the last computation
        self.dead_layer: DeadLayer | None = None  # set once a layer is dead for good
        self._dead_seen: DeadLayer | None = None  # a dead layer not yet confirmed
        self.early_stop: EarlyStop | None = None  # set when the early stop paused
        self._best_test = (run.metrics.test_loss, self.epoch)
        # The run at its best test score so far, to go back to: a Run is immutable, so
        # keeping it costs one reference (and keeps its weights alive, one copy).
        self.best = run
        # Weights worth going back to after a divergence: the last whose loss was not
        # running away (``engine.exploding``), and the losses that rule measures against.
        self.checkpoint = run
        self._start_loss = self._best_train = run.metrics.train_loss
        self._bucket: tuple[float, float] | None = None  # paced play: (steps owed, time)
        self._pending: list[engine.TrainLog] = []  # trained but not yet measured and recorded
        self._recorded_at = time.monotonic()
        self._record(engine.TrainLog(np.zeros(0), np.zeros((0, len(run.spec.sizes) - 1))))

    # -- what the run is ----------------------------------------------------------------
    cfg = property(lambda self: self.run.cfg)
    data = property(lambda self: self.run.data)
    spec = property(lambda self: self.run.spec)
    state = property(lambda self: self.run.state)
    metrics = property(lambda self: self.run.metrics)
    step = property(lambda self: self.run.step)
    steps_per_epoch = property(lambda self: self.run.steps_per_epoch)
    diverged = property(lambda self: self.run.diverged)

    @property
    def epoch(self) -> int:
        return self.step // self.steps_per_epoch

    @property
    def halted(self) -> bool:
        """Training stopped by itself: it diverged, a layer died or the early stop hit."""
        return self.diverged or self.dead_layer is not None or self.early_stop is not None

    @property
    def halted_why(self) -> str:
        """Why training stopped by itself, in plain words ("" while it can go on)."""
        return (self.message or "stopped by itself") if self.halted else ""

    @property
    def pace(self) -> float | None:
        """Steps a second Play trains at, or None: as fast as the machine can."""
        epochs = SPEEDS[self.cfg.speed].epochs_per_s
        return None if epochs is None else epochs * self.steps_per_epoch

    def compile_pending(self) -> bool:
        """Whether the next training will compile this network first (first time only)."""
        return engine.compile_pending(self.run)

    # -- changing it --------------------------------------------------------------------
    def apply(self, new: RunConfig, *, upload: Dataset | None = None) -> list[str]:
        """Switch to a new config. Data or model changes restart; the rest applies live.

        Returns the names of the changed fields that started a new run (``UPLOAD_CHANGE``
        for new uploaded data); [] when the change applied to the running one. On a bad
        config the old run stays and the error rises. The host's limits apply.
        """
        new = self._capped(new, upload or self.upload)
        changed = reset_fields(self.cfg, new)
        if upload is not None and upload is not self.upload:
            changed.append(UPLOAD_CHANGE)
        if changed:
            self._start(engine.new_run(new, upload=self._capped_upload(upload or self.upload)))
            if upload is not None:
                self.upload = upload
            return changed
        old = self.run
        self.run = old._replace(cfg=new)
        if new.optimizer != old.cfg.optimizer:
            self.run = engine.with_optimizer(self.run, new.optimizer)
        return []

    def reset(self) -> None:
        """Fresh weights (same seed: same start) and an empty history."""
        self._start(engine.new_run(self.cfg, upload=self._capped_upload(self.upload)))

    def load(self, saved: SavedModel) -> None:
        """Continue from a saved model whose shapes fit the current architecture, at the
        step the file says it reached. A model larger than the host allows is refused."""
        if self.limits is not None and (why := model_message(saved.hidden, self.limits)):
            raise PlaygroundError(why)
        self._start(engine.with_saved(self.run, saved))

    def pinned(self) -> Pinned:
        """This run as it is now, to keep beside the next ones."""
        return Pinned(self.cfg, self.run, self.history.copy())

    # -- going back ---------------------------------------------------------------------
    def kept_steps(self) -> list[int]:
        """Steps whose weights are kept to rewind to (log-spaced; always the first and
        the newest)."""
        return self.kept.steps()

    def _go_to(self, back: engine.Run) -> None:
        """Show and go on from ``back`` with the current settings."""
        if back.cfg.optimizer != self.cfg.optimizer:
            back = engine.with_optimizer(back, self.cfg.optimizer)
        back = back._replace(cfg=self.cfg)
        self.run = self.checkpoint = self.best = back
        self.message, self.dead_layer, self._dead_seen, self.early_stop = "", None, None, None
        self._best_test = (back.metrics.test_loss, self.epoch)
        self._pending, self._bucket = [], None

    def rewind(self, step: int) -> None:
        """Show the run as it was at kept step ``step`` (weights, numbers, pictures).
        The later kept steps and the history stay until training goes on from here
        (``continue_here``), so a learner can scrub back and forth. KeyError when
        ``step`` is not kept."""
        self._go_to(self.kept.at(step))
        self._rewound = True

    def continue_here(self) -> None:
        """Make the weights shown the run's present: the kept steps and the history
        after it are dropped, and training goes on from here with the current settings
        (training after a rewind does this by itself)."""
        if self._rewound:
            self.kept.truncate(self.step)
            self.history.truncate(self.step)
            self._rewound = False

    def restart(self) -> None:
        """Start again from this run's first weights and data, with the current settings
        and a fresh optimizer: the same first minibatches, so one changed setting shows
        only its own effect. The history and kept steps start anew."""
        self._start(engine.with_optimizer(self.initial._replace(cfg=self.cfg), self.cfg.optimizer))

    @property
    def score_drop(self) -> ScoreDrop | None:
        """The test score now and at its best, when it fell more than SCORE_DROP below
        it (long training with too large steps); None while it holds up."""
        best, now = self.best.metrics.test_metric, self.metrics.test_metric
        if not (math.isfinite(best) and math.isfinite(now)) or now >= best - SCORE_DROP:
            return None
        return ScoreDrop(best, now, int(self.best.epoch))

    def restore_best(self) -> None:
        """Go back to the weights of the best test score (and their optimizer state),
        with the current settings; the history after them is dropped."""
        back = self.best._replace(cfg=self.cfg)
        if back.cfg.optimizer != self.best.cfg.optimizer:
            back = engine.with_optimizer(back, self.cfg.optimizer)
        self.run = self.checkpoint = back
        self.message, self.dead_layer, self._dead_seen, self.early_stop = "", None, None, None
        self._best_test = (back.metrics.test_loss, self.epoch)
        self._best_train = min(self._best_train, back.metrics.train_loss)
        self._pending, self._bucket = [], None
        self.history.truncate(self.step)
        self.kept.truncate(self.step)

    def resume(self) -> None:
        """Go on after training stopped by itself. After a divergence: from the
        checkpoint (the last weights whose loss was not running away), with the current
        settings and a fresh optimizer. After the early stop: for another while. A dead
        layer stays dead (only Reset helps)."""
        if self.diverged:
            back = self.checkpoint._replace(cfg=self.cfg)
            self.run = engine.with_optimizer(engine.resumed(back), self.cfg.optimizer)
            self.message = ""
            self.history.truncate(self.step)
            self.kept.truncate(self.step)
        if self.early_stop is not None:
            self.early_stop = None
            self._best_test = (self._best_test[0], self.epoch)

    # -- training -----------------------------------------------------------------------
    def train_steps(self, n: int) -> int:
        """Train exactly n steps (fewer if it diverges); returns the steps taken. The
        metrics and the history are brought up to date."""
        return self._train(0.0, steps=int(n))

    def train_for(self, seconds: float, *, grain: int = 1) -> int:
        """Train in chunks until ``seconds`` have passed; returns the steps taken. A paced
        run (``pace``) trains only the steps due since the last call, once at least
        ``grain`` of them are, and never waits: it returns 0 when none are due yet. The
        metrics and the history follow at most every RECORD_EVERY_S (measuring them after
        every short slice of a busy server would cost as much as the slice)."""
        pace = self.pace
        if pace is None:
            return self._train(RECORD_EVERY_S, seconds=seconds)
        return self.train_owed(self._steps_due(pace, grain))

    def _owed(self, pace: float, grain: int) -> tuple[float, float, float]:
        """(steps owed at ``pace`` now, the fewest worth a call, now): a token bucket
        that holds at most PACE_BURST_S seconds of steps, so a stall does not end in a
        jump; a call waits for ``grain`` steps, or for a full bucket if that is less."""
        now = self.clock()
        full = max(pace * PACE_BURST_S, 1.0)
        owed, last = self._bucket or (1.0, now)
        return min(owed + (now - last) * pace, full), min(grain, int(full)), now

    def _steps_due(self, pace: float, grain: int = 1, ahead: float = 0.0) -> int:
        """Steps to train now: none until ``grain`` are owed (or the bucket is full), then
        whole chunks of the ladder's longest rung that fits. Each chunk call costs ~0.4 ms
        however short, and a busy server visits a run only every ~0.1 s, owing it ~90
        steps at "normal" speed: one 64-step call then, not 90 calls."""
        owed, least, now = self._owed(pace, grain)
        # ``ahead``: the steps of that many seconds from now count as owed (the bucket
        # goes below zero, and the next visit comes that much later).
        n = int(owed + ahead * pace + 1e-6)  # a visit at pace_wait's time finds its grain owed
        if n < least:
            self._bucket = (owed, now)
            return 0
        n -= n % max(r for r in engine.CHUNK_LADDER if r <= n)
        self._bucket = (owed - n, now)
        return n

    def pace_wait(self, grain: int = 1) -> float:
        """Seconds until a paced run owes ``grain`` steps (0 for a run at full speed)."""
        pace = self.pace
        if pace is None:
            return 0.0
        owed, least, _ = self._owed(pace, grain)
        return max(least - owed, 0.0) / pace

    def _train(self, record_every: float, **budget) -> int:
        start = self.step
        if self.halted:
            return 0
        self.continue_here()
        self.run, log = engine.train(self.run, measure=False, compile_elsewhere=True, **budget)
        self._took(log, record_every)
        return self.step - start

    def steps_owed(self, grain: int = 1, *, ahead: float = 0.0) -> int | None:
        """The steps a paced run trains now, counting ``ahead`` seconds from now (taken
        from its bucket: train them with ``train_owed`` or ``take_trained``), or None for
        a run at full speed (it trains as long as it is given)."""
        pace = self.pace
        return None if pace is None else self._steps_due(pace, grain, ahead)

    def train_owed(self, n: int) -> int:
        """Train ``n`` steps that ``steps_owed`` counted, as ``train_for`` would."""
        return self._train(RECORD_EVERY_S, steps=n) if n > 0 else 0

    def take_trained(self, run: engine.Run, log: engine.TrainLog) -> int:
        """Steps this run's present weights took elsewhere (one call for several runs of
        one shape, ``engine.train_cohort``), taken as its own training is; returns them."""
        start = self.step
        if self.halted:
            return 0
        self.continue_here()
        self.run = run
        self._took(log, RECORD_EVERY_S)
        return self.step - start

    def _took(self, log: engine.TrainLog, record_every: float) -> None:
        """After training: the log kept, and every ``record_every`` s the metrics, the
        checks and a history row."""
        self.compile_seconds += log.compile_seconds
        if len(log.loss):
            self._pending.append(log)
        now = time.monotonic()
        if self._pending and (self.diverged or now - self._recorded_at >= record_every):
            self.run = engine.measured(self.run)
            if self.diverged:
                back = self.checkpoint.step
                self.message = divergence_message(
                    self.run.diverged_at, self.cfg.learning_rate, back_to=back
                )
            else:
                self._check_progress()
            pending, self._pending, self._recorded_at = self._pending, [], now
            self._record(
                engine.TrainLog(
                    np.concatenate([lg.loss for lg in pending]),
                    np.concatenate([lg.grad_rms for lg in pending]),
                )
            )

    def _check_progress(self) -> None:
        """After training: keep a checkpoint, find dead layers, apply the early stop."""
        m = self.metrics
        if not engine.exploding(m.train_loss, self._best_train, self._start_loss):
            self.checkpoint = self.run
            self._best_train = min(self._best_train, m.train_loss)
        self._check_dead()
        self._keep_best()
        best, at = self._best_test
        if engine.improved(m.test_loss, best) or not math.isfinite(best):
            self._best_test = (m.test_loss, self.epoch)
        elif self.cfg.early_stop and self.epoch - at >= PATIENCE_EPOCHS:
            self.early_stop = EarlyStop(m.test_loss, at, PATIENCE_EPOCHS)

    def _keep_best(self) -> None:
        """Keep the run of the best test score (ties: the lower test loss)."""
        m, top = self.metrics, self.best.metrics
        better = m.test_metric > top.test_metric or (
            m.test_metric == top.test_metric and m.test_loss < top.test_loss
        )
        if better or not math.isfinite(top.test_metric):
            self.best = self.run

    def _loss_jumped(self) -> bool:
        """Whether a minibatch loss (the mean of a record) ran above LOSS_JUMP times the
        untrained network's: a step too large was taken."""
        recent = [self.history.array("batch_loss")]
        recent += [np.asarray([lg.loss.mean()]) for lg in self._pending if len(lg.loss)]
        losses = np.concatenate(recent)
        losses = losses[np.isfinite(losses)]
        start = self._start_loss
        return bool(math.isfinite(start) and len(losses) and losses.max() > LOSS_JUMP * start)

    def _check_dead(self) -> None:
        if not self.spec.hidden or not ACTIVATIONS[self.spec.activation].can_die:
            return
        dead = self.dead_units()
        layer = next((i for i, d in enumerate(dead) if d.all()), None)
        if layer is None:
            self._dead_seen = None
            return
        seen = self._dead_seen
        if seen is None or seen.layer != layer:
            cause = dead_layer_cause(
                self.spec.hidden, layer, self.cfg.learning_rate, loss_jumped=self._loss_jumped()
            )
            self._dead_seen = seen = DeadLayer(layer, len(dead[layer]), self.step, cause)
        if self.step - seen.step >= DEAD_CONFIRM_STEPS:
            self.dead_layer = seen

    def dead_units(self) -> list[np.ndarray]:
        """Per hidden layer, (width,) bools: units off at every training point (always
        False where the activation cannot die)."""
        run = self.run  # once: the trainer may replace it meanwhile (never written here)
        if run.dead is None:  # weights trained since the last measurement
            run = engine.measured(run)
        return list(run.dead)

    def _record(self, log: engine.TrainLog) -> None:
        loss, grads = log.loss, log.grad_rms
        if self.diverged:  # the records of the step that blew up are not worth a point
            loss = loss[np.isfinite(loss)] if np.isfinite(loss).any() else loss
            finite = np.isfinite(grads).all(axis=1)
            grads = grads[finite] if finite.any() else grads
        batch_loss = _finite_mean(loss) if len(loss) else self.metrics.train_loss
        grad_rms = _finite_mean(grads) if len(grads) else np.full(grads.shape[1], np.nan)
        m = self.metrics
        self.kept.add(self.run)
        self.history.append(
            step=self.step,
            epoch=self.step / self.steps_per_epoch,
            train_loss=m.train_loss,
            test_loss=m.test_loss,
            train_metric=m.train_metric,
            test_metric=m.test_metric,
            batch_loss=batch_loss,
            grad_rms=np.asarray(grad_rms, np.float64),
        )

    # -- reading ------------------------------------------------------------------------
    def params_numpy(self) -> list[tuple[np.ndarray, np.ndarray]]:
        return engine.params_numpy(self.run)

    def predict(self, x: np.ndarray) -> np.ndarray:
        return engine.predict_points(self.run, x)

    def output_grid(self, n: int = 100, box=BOX):
        return engine.output_grid(self.run, n, box)

    def unit_grids(self, n: int = 25, box=BOX):
        return engine.unit_grids(self.run, n, box)

    def network_grids(self, n: int = 25, box=BOX):
        return engine.network_grids(self.run, n, box)

    def loss_gradients(self) -> list[tuple[np.ndarray, np.ndarray]]:
        return engine.loss_gradients(self.run)

    def nearest_bend(self, x: float, y: float) -> tuple[int, int, float] | None:
        return engine.nearest_bend(self.run, x, y)

    def edit(self, layer: int, unit: int, source: int | None, value: float) -> None:
        """Set one weight (``source``: the input's index) or bias (``source`` None) of
        weight layer ``layer`` to ``value``, while paused; the metrics follow at once and
        the history gets a row for the edited network. Bad picks or values raise
        PlaygroundError and leave the run as it was."""
        self.run = engine.with_edit(self.run, layer, unit, source, value)
        self._record(engine.TrainLog(np.zeros(0), np.zeros((0, len(self.spec.sizes) - 1))))

    def saved_model(self) -> SavedModel:
        return engine.saved_model(self.run)

    def geometry_note(self) -> str:
        """'' when exact bends can be drawn, else why not, in plain words."""
        ok, why = geometry_supported(self.spec.activation, self.spec.features)
        return "" if ok else why

    def bends(self, box=BOX) -> list:
        """Exact bends of every hidden unit (``geometry.Bend``), or [] when they cannot be
        drawn; ``bends_note`` then says why (it is "" when they were drawn)."""
        if not self.spec.hidden or self.geometry_note():
            return []
        # The trainer's pictures and the page's unit pictures ask for the same bends:
        # compute them once per set of weights.
        params = self.state.params
        hit = self._bends
        if hit is None or hit[0] is not params or hit[1] != box:
            try:
                found, self.bends_note = (
                    bends(engine.params_numpy(self.run), self.spec.activation, box),
                    "",
                )
            except TooManyPieces as err:
                found = []
                self.bends_note = (
                    f"the network cuts the plane into more than {err.limit:,} pieces, too "
                    "many to draw every bend exactly."
                )
            self._bends = hit = (params, box, found)
        return hit[2]

    def snapshot(self, grid_n: int, *, bends: list | None = None) -> Snapshot:
        """The run as it is now: the output grid, and the exact bends (computed now when
        ``bends`` is None, else the given ones, e.g. [] or the last ones computed)."""
        run = self.run
        xs, ys, grid = engine.output_grid(run, grid_n)
        return Snapshot(
            seq=next_seq(),
            t=time.monotonic(),
            step=run.step,
            epoch=run.epoch,
            xs=xs,
            ys=ys,
            grid=grid,
            bends=self.bends() if bends is None else bends,
        )

    def live_bends_drawable(self) -> bool:
        """Whether live pictures draw bends: the net has hidden units that bend the plane
        in straight pieces (``geometry_note``)."""
        spec = self.spec
        return bool(spec.hidden) and not self.geometry_note() and has_bends(spec.activation)

    def first_layer_bends(self, box=BOX) -> np.ndarray:
        """Ends (H1, 2, 2) of the first hidden layer's bends in the box (NaN: none)."""
        w, b = self.params_numpy()[0]
        return first_layer_bends(w, b, box)

    def live_snapshot(self, grid_n: int, *, bends: bool = True) -> Snapshot:
        """The run as it is now, for a live picture: the output grid and, when ``bends``
        (and the net has any), the live bends of ``analysis.grid_bends``, from the same
        forward pass: no exact geometry, so it costs about what the grid costs."""
        run = self.run
        drawable = bends and self.live_bends_drawable()
        pic = engine.live_picture(run, grid_n, signs=drawable)
        return Snapshot(
            seq=next_seq(),
            t=time.monotonic(),
            step=run.step,
            epoch=run.epoch,
            xs=pic.xs,
            ys=pic.ys,
            grid=pic.grid,
            bends=[],
            lines=pic.lines,
            signs=pic.signs,
        )
