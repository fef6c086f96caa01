"""Snapshots of a live run: what the trainer records for the boundary to play back."""

import itertools
import time

import numpy as np

from playground.core.config import RunConfig
from playground.live.engine.limits import HostLimits
from playground.live.server.scheduler import Scheduler, SessionTrainer
from playground.live.session.live_run import LiveRun
from playground.live.session.snapshots import Snapshots


def BackgroundTrainer(snapshot_every: float = 0.04) -> SessionTrainer:
    """A session's trainer on a scheduler of its own (threads on, as in the app)."""
    return SessionTrainer(Scheduler(HostLimits(pictures_per_s=1 / snapshot_every)), "session")


def _run() -> LiveRun:
    return LiveRun(RunConfig(problem="xor", hidden=(8, 8), batch_size=10, speed="fast"))


def test_snapshot_is_the_run_as_it_is():
    run = _run()
    run.train_steps(50)
    snap = run.snapshot(32)
    xs, ys, grid = run.output_grid(32)
    np.testing.assert_array_equal(snap.grid, grid)
    np.testing.assert_array_equal(snap.xs, xs)
    assert snap.step == run.step == 50 and snap.epoch == 50 / run.steps_per_epoch
    assert [b.segments.tolist() for b in snap.bends] == [b.segments.tolist() for b in run.bends()]
    assert run.snapshot(32, bends=[]).bends == []
    # Points on the grid are predicted exactly as anywhere else.
    pts = np.stack(np.meshgrid(xs, ys), axis=-1).reshape(-1, 2)
    np.testing.assert_allclose(grid.ravel(), run.predict(pts), rtol=1e-6, atol=1e-7)


def test_snapshot_numbers_increase_across_runs():
    a, b = _run(), _run()
    seqs = [a.snapshot(8).seq, b.snapshot(8).seq, a.snapshot(8).seq]
    assert seqs == sorted(seqs) and len(set(seqs)) == 3


def test_ring_keeps_the_newest_and_reads_since():
    run = _run()
    ring = Snapshots(limit=3)
    snaps = [run.snapshot(4, bends=[]) for _ in range(5)]
    for s in snaps:
        ring.add(s)
    assert [s.seq for s in ring.since(0)] == [s.seq for s in snaps[2:]]
    assert [s.seq for s in ring.since(snaps[3].seq)] == [snaps[4].seq]
    assert ring.since(snaps[4].seq) == []


def test_trainer_takes_snapshots_while_it_trains():
    run = _run()
    trainer = BackgroundTrainer(snapshot_every=0.02)
    trainer.start(run, snapshot_grid=16)
    end = time.monotonic() + 60
    while len(run.snapshots.since(0)) < 5 and time.monotonic() < end:
        time.sleep(0.1)
        trainer.start(run, snapshot_grid=16)  # the page's heartbeat
    trainer.stop()
    snaps = run.snapshots.since(0)
    assert len(snaps) >= 5 and not trainer.error
    assert all(s.grid.shape == (16, 16) and np.isfinite(s.grid).all() for s in snaps)
    assert [s.step for s in snaps] == sorted(s.step for s in snaps) and snaps[-1].step > 0
    assert all(b.t > a.t for a, b in itertools.pairwise(snaps))
    assert snaps[-1].step <= run.step
    # Live pictures carry live bends (no exact geometry): layer 1's lines, layer 2's signs.
    assert all(s.bends == [] and s.lines.shape == (8, 2, 2) for s in snaps)
    assert all(len(s.signs) == 1 and s.signs[0].shape == (8, 12, 12) for s in snaps)


def test_trainer_without_snapshot_grid_takes_none():
    run = _run()
    trainer = BackgroundTrainer()
    trainer.start(run)
    end = time.monotonic() + 60
    while run.step == 0 and time.monotonic() < end:
        time.sleep(0.1)
        trainer.start(run)
    trainer.stop()
    assert run.step > 0 and run.snapshots.since(0) == []


def test_too_many_pieces_means_no_bends_and_a_note():
    run = LiveRun(RunConfig(problem="xor", hidden=(256, 256)))
    run.train_steps(5)
    assert run.bends() == []
    assert "more than" in run.bends_note and "pieces" in run.bends_note
    assert run.snapshot(16).bends == []  # a picture still comes, without bends


def test_costly_pictures_come_less_often(monkeypatch):
    """Pictures take at most ~1/4 of the trainer's time: a slow picture spaces them out."""
    run = _run()
    slow = run.live_snapshot

    def live_snapshot(n, *, bends=True):
        busy = time.thread_time() + 0.1  # a picture of a big net: 0.1 s of work
        while time.thread_time() < busy:
            pass
        return slow(n, bends=bends)

    monkeypatch.setattr(run, "live_snapshot", live_snapshot)
    trainer = BackgroundTrainer(snapshot_every=0.01)
    trainer.start(run, snapshot_grid=8)
    end = time.monotonic() + 60
    while len(run.snapshots.since(0)) < 5 and time.monotonic() < end:
        time.sleep(0.05)
        trainer.start(run, snapshot_grid=8)
    trainer.stop()
    times = [s.t for s in run.snapshots.since(0)]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    # >= 0.1 s picture + 3 x 0.1 s training (the first picture may compile: not counted)
    assert len(times) >= 5 and min(gaps[1:]) >= 0.3


def test_a_paced_run_is_not_kept_from_its_pictures_by_their_cost():
    """A run at a chosen speed trains little (its speed bounds it), so its pictures are
    spaced by the picture rate only, not by their cost; a flat-out run's wait for 3x a
    picture's cost of training."""
    from playground.live.server.scheduler import SNAPSHOT_COST_FACTOR, TrainTask

    waits = {}
    for speed in ("normal", "fast"):
        run = LiveRun(RunConfig(problem="xor", hidden=(8, 8), batch_size=10, speed=speed))
        task = TrainTask(run, grid_n=8, pictures_per_s=25, clock=lambda: 100.0)
        task.next_picture, task.picture_cost, task.trained_since_picture = 99.94, 0.1, 0.0
        task.pictured_step = -1  # the step changed since the last picture
        waits[speed] = task._picture_due(100.0)
    assert waits["normal"] == 0.0  # 0.1 s since the last picture: past 1/25 s
    assert waits["fast"] == SNAPSHOT_COST_FACTOR * 0.1  # 0.3 s of training first
