"""One learner's live run between page reruns: the current ``Run``, its history, its
snapshots and what went wrong, in plain words.

A thin holder over the functions of ``live.run``: each method replaces ``self.run``
whole, so a reader on another thread (the page while the trainer trains) always sees
one consistent run. No Streamlit here, so tests and the CLI drive it directly.
"""

import time

import numpy as np

from playground.analysis.geometry import TooManyPieces, bends, geometry_supported
from playground.core.config import RunConfig, reset_fields
from playground.core.datasets import BOX, Dataset
from playground.core.modelfile import SavedModel
from playground.core.train import divergence_message
from playground.live import run as R
from playground.live.history import History
from playground.live.snapshots import Snapshot, Snapshots, next_seq

RECORD_EVERY_S = 0.05  # metrics and a history row, at most this often while playing


class LiveRun:
    """One learner's run. Methods change it in place; figures read ``snapshot`` values."""

    def __init__(self, cfg: RunConfig, *, upload: Dataset | None = None, saved=None):
        self.upload = upload
        self.compile_seconds = 0.0  # spent compiling new chunk shapes, all told
        self._start(R.new_run(cfg, upload=upload, saved=saved))

    def _start(self, run: R.Run) -> None:
        self.run = run
        self.history = History()
        self.snapshots = Snapshots()
        self.message = ""  # why training paused, in plain words; "" when all is well
        self.bends_note = ""  # why the exact bends are not drawn; "" when they are
        self._bends = None  # (params, box, bends) of the last computation
        self._pending: list[R.TrainLog] = []  # trained but not yet in the history
        self._recorded_at = time.monotonic()
        self._record(R.TrainLog(np.zeros(0), np.zeros((0, len(run.spec.sizes) - 1))))

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

    # -- changing it --------------------------------------------------------------------
    def apply(self, new: RunConfig, *, upload: Dataset | None = None) -> list[str]:
        """Switch to a new config. Data or model changes restart; the rest applies live.

        Returns notices to show. On a bad config the old run stays and the error rises.
        """
        changed = reset_fields(self.cfg, new)
        if upload is not None and upload is not self.upload:
            changed.append("uploaded data")
        if changed:
            self._start(R.new_run(new, upload=upload or self.upload))
            if upload is not None:
                self.upload = upload
            return [f"Changed {', '.join(changed)}: started a new run."]
        old = self.run
        self.run = old._replace(cfg=new)
        if new.optimizer != old.cfg.optimizer:
            self.run = R.with_optimizer(self.run, new.optimizer)
        return []

    def reset(self) -> None:
        """Fresh weights (same seed: same start) and an empty history."""
        self._start(R.new_run(self.cfg, upload=self.upload))

    def load(self, saved: SavedModel) -> None:
        """Continue from a saved model whose shapes fit the current architecture."""
        self._start(R.with_saved(self.run, saved))

    def resume(self) -> None:
        """Clear a divergence so training goes on from the last good weights."""
        self.run = R.resumed(self.run)
        self.message = ""

    # -- training -----------------------------------------------------------------------
    def train_steps(self, n: int) -> int:
        """Train exactly n steps (fewer if it diverges); returns the steps taken. The
        metrics and the history are brought up to date."""
        return self._train(0.0, steps=int(n))

    def train_for(self, seconds: float) -> int:
        """Train in chunks until ``seconds`` have passed; returns the steps taken. The
        metrics and the history follow at most every RECORD_EVERY_S (measuring them
        after every short slice would cost as much as the slice)."""
        return self._train(RECORD_EVERY_S, seconds=seconds)

    def _train(self, record_every: float, **budget) -> int:
        start = self.step
        self.run, log = R.train(self.run, measure=False, **budget)
        self.compile_seconds += log.compile_seconds
        if len(log.loss):
            self._pending.append(log)
        now = time.monotonic()
        if self._pending and (self.diverged or now - self._recorded_at >= record_every):
            self.run = R.measured(self.run)
            if self.diverged:
                self.message = divergence_message(self.run.diverged_at, self.cfg.learning_rate)
            pending, self._pending, self._recorded_at = self._pending, [], now
            self._record(
                R.TrainLog(
                    np.concatenate([lg.loss for lg in pending]),
                    np.concatenate([lg.grad_rms for lg in pending]),
                )
            )
        return self.step - start

    def _record(self, log: R.TrainLog) -> None:
        loss, grads = log.loss, log.grad_rms
        if self.diverged:  # the records of the step that blew up are not worth a point
            loss = loss[np.isfinite(loss)] if np.isfinite(loss).any() else loss
            finite = np.isfinite(grads).all(axis=1)
            grads = grads[finite] if finite.any() else grads
        with np.errstate(all="ignore"):
            batch_loss = float(np.nanmean(loss)) if len(loss) else self.metrics.train_loss
            grad_rms = np.nanmean(grads, axis=0) if len(grads) else np.full(grads.shape[1], np.nan)
        m = self.metrics
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
        return R.params_numpy(self.run)

    def predict(self, x: np.ndarray) -> np.ndarray:
        return R.predict_points(self.run, x)

    def output_grid(self, n: int = 100, box=BOX):
        return R.output_grid(self.run, n, box)

    def unit_grids(self, n: int = 25, box=BOX):
        return R.unit_grids(self.run, n, box)

    def saved_model(self) -> SavedModel:
        return R.saved_model(self.run)

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
                    bends(R.params_numpy(self.run), self.spec.activation, box),
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
        xs, ys, grid = R.output_grid(run, grid_n)
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
