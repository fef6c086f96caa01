"""Cohorts: several runs of one shape trained in one call give each run the numbers it
gets alone (its own seed, data, learning rate, penalty), a run that blows up keeps its
last good weights as alone, nothing trains before the program is compiled, and the
scheduler trains a class's runs together."""

import time

import jax
import numpy as np
import pytest

from playground.core.config import RunConfig
from playground.live.engine import cohort
from playground.live.engine import run as engine
from playground.live.engine.limits import HostLimits
from playground.live.server.scheduler import Scheduler, TrainTask
from playground.live.session.live_run import LiveRun

XOR = {"problem": "xor", "hidden": (8, 8), "batch_size": 10}


def same_run(a: engine.Run, b: engine.Run) -> None:
    assert a.step == b.step and a.diverged_at == b.diverged_at
    trees = (a.state.params, a.state.opt_state), (b.state.params, b.state.opt_state)
    for x, y in zip(*(jax.tree.leaves(t) for t in trees), strict=True):
        np.testing.assert_allclose(np.asarray(x), np.asarray(y), rtol=1e-5, atol=1e-6)


@pytest.fixture
def programs() -> cohort.CohortPrograms:
    return cohort.CohortPrograms(background=False)


@pytest.mark.parametrize("n_steps", cohort.STEP_COUNTS)
def test_each_run_of_a_cohort_gets_the_numbers_it_gets_alone(programs, n_steps: int):
    cfgs = [
        RunConfig(**XOR, seed=1, learning_rate=0.03),
        RunConfig(**XOR, seed=2, learning_rate=0.3),
        RunConfig(**XOR, seed=3, learning_rate=0.01, reg="l2", reg_rate=0.01),
        RunConfig(**XOR, seed=4, learning_rate=0.1, reg="l1", reg_rate=0.001),
        RunConfig(**XOR, seed=5, learning_rate=0.03),
    ]
    runs = [engine.train(engine.new_run(c), steps=7, measure=False)[0] for c in cfgs]
    assert len({cohort.cohort_key(r) for r in runs}) == 1
    together = cohort.train_cohort(runs, programs, n_steps=n_steps)  # 5 runs, padded to 16
    for run, (new, log) in zip(runs, together, strict=True):
        alone, alone_log = engine.train(run, steps=n_steps, measure=False)
        assert new.step == run.step + n_steps
        same_run(new, alone)
        np.testing.assert_allclose(log.loss, alone_log.loss, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(log.grad_rms, alone_log.grad_rms, rtol=1e-5, atol=1e-6)


def test_a_run_that_blows_up_in_a_cohort_keeps_its_last_good_weights(programs):
    calm = engine.new_run(RunConfig(**XOR, seed=1, learning_rate=0.03))
    wild = engine.new_run(RunConfig(**XOR, seed=2, learning_rate=1e30))
    (calm_new, _), (wild_new, _) = cohort.train_cohort([calm, wild], programs)
    alone, _ = engine.train(wild, steps=cohort.COHORT_STEPS, measure=False)
    assert wild_new.diverged and wild_new.diverged_at == alone.diverged_at >= 0
    same_run(wild_new, alone)
    assert all(np.isfinite(np.asarray(a)).all() for a in jax.tree.leaves(wild_new.state.params))
    same_run(calm_new, engine.train(calm, steps=cohort.COHORT_STEPS, measure=False)[0])


def test_nothing_trains_until_the_cohort_program_is_compiled_and_the_next_size_follows():
    programs = cohort.CohortPrograms()  # compiles on a thread of its own
    runs = [engine.new_run(RunConfig(**XOR, seed=s, learning_rate=0.07)) for s in (1, 2, 3)]
    assert cohort.train_cohort(runs, programs) is None
    deadline = time.monotonic() + 300  # a busy machine compiles slowly
    while (out := cohort.train_cohort(runs, programs)) is None:
        assert time.monotonic() < deadline, "the cohort program never compiled"
        time.sleep(0.2)
    assert [new.step for new, _ in out] == [cohort.COHORT_STEPS] * 3
    # The larger size too, unasked: a growing class needs it next.
    while not programs.compiled(cohort.cohort_key(runs[0]), cohort.COHORT_MAX):
        assert time.monotonic() < deadline, "the larger cohort program never compiled"
        time.sleep(0.2)


def test_big_or_diverged_runs_train_alone_and_a_cohort_has_2_to_16_runs(programs):
    big = engine.new_run(RunConfig(problem="xor", hidden=(512, 512), batch_size=256))
    assert cohort.cohort_key(big) is None
    wild = engine.new_run(RunConfig(**XOR, learning_rate=1e30))
    wild, _ = engine.train(wild, steps=cohort.COHORT_STEPS, measure=False)
    assert wild.diverged and cohort.cohort_key(wild) is None
    small = engine.new_run(RunConfig(**XOR))
    assert cohort.cohort_key(small) != cohort.cohort_key(
        engine.new_run(RunConfig(problem="xor", hidden=(8,), batch_size=10))
    )
    for n in (1, cohort.COHORT_MAX + 1):
        with pytest.raises(ValueError):
            cohort.train_cohort([small] * n, programs)
    assert [cohort.cohort_size(n) for n in (2, 4, 5, 16)] == [4, 4, 16, 16]
    # At full speed a call's padding costs steps: filled at least FAST_FILL, else alone.
    n_runs = (1, 2, 3, 5, 11, 12, 15, 16, 20)
    assert [cohort.fast_cohort_runs(n) for n in n_runs] == [0, 0, 3, 4, 4, 12, 15, 16, 16]


def counted_calls(monkeypatch) -> list[tuple[int, int]]:
    """Every cohort call from here on, as (runs, steps of each); programs compile at once."""
    monkeypatch.setattr(cohort, "PROGRAMS", cohort.CohortPrograms(background=False))
    calls = []
    real = cohort.train_cohort

    def counted(runs, **kw):
        calls.append((len(runs), kw.get("n_steps", cohort.COHORT_STEPS)))
        return real(runs, **kw)

    monkeypatch.setattr(cohort, "train_cohort", counted)
    return calls


def test_the_scheduler_trains_paced_runs_of_one_shape_together(monkeypatch):
    calls = counted_calls(monkeypatch)
    s = Scheduler(HostLimits(workers=1), threads=False, idle_stop=1e9)
    lives = {
        "a": LiveRun(RunConfig(**XOR, seed=1, speed="normal")),
        "other": LiveRun(RunConfig(problem="xor", hidden=(4,), batch_size=10, speed="normal")),
        "c": LiveRun(RunConfig(**XOR, seed=3, speed="normal")),
        "flat out": LiveRun(RunConfig(**XOR, seed=4, speed="fast")),
    }
    tasks = {k: TrainTask(live, grid_n=8, pictures_per_s=1000) for k, live in lives.items()}
    for key, task in tasks.items():
        s.play(key, task)
    time.sleep(0.05)  # steps are owed
    assert s.work_once()
    jobs = {k: s.job(k) for k in tasks}
    # "a" came first; "c" and "flat out" share its shape and went with it, not the other
    # shape. The run at full speed has no partner at its speed: its share alone.
    assert [jobs[k].slices for k in tasks] == [1, 0, 1, 1]
    assert calls == [(2, cohort.COHORT_STEPS)]
    assert lives["a"].step >= cohort.COHORT_STEPS and lives["c"].step >= cohort.COHORT_STEPS
    assert lives["other"].step == 0 and lives["flat out"].step > 0
    assert lives["a"].snapshots.since(0) and lives["c"].snapshots.since(0)  # pictures too
    assert jobs["a"].used == pytest.approx(jobs["c"].used)  # the slice's time, shared
    for _ in range(10):
        s.work_once()
    assert lives["other"].step > 0  # it has its turns


def test_runs_at_full_speed_train_together_in_long_calls(monkeypatch):
    """Three runs of one shape at full speed: each slice of theirs is one call for all
    three, FAST_COHORT_STEPS each; each still takes its pictures and its share."""
    calls = counted_calls(monkeypatch)
    s = Scheduler(HostLimits(workers=1), threads=False, idle_stop=1e9)
    lives = [LiveRun(RunConfig(**XOR, seed=i, speed="fast")) for i in range(3)]
    for i, live in enumerate(lives):
        s.play(i, TrainTask(live, grid_n=8, pictures_per_s=1000))
    for _ in range(5):
        assert s.work_once()
    assert calls and set(calls) == {(3, cohort.FAST_COHORT_STEPS)}
    steps = [live.step for live in lives]
    assert steps[0] >= cohort.FAST_COHORT_STEPS and len(set(steps)) == 1, steps
    assert all(live.snapshots.since(0) for live in lives)  # pictures too
    used = [s.job(i).used for i in range(3)]
    assert max(used) == pytest.approx(min(used))  # the slices' time, shared


def test_paced_runs_train_together_at_their_own_pace(monkeypatch):
    calls = counted_calls(monkeypatch)

    class Clock:
        now = 100.0

        def __call__(self):
            return self.now

    clock = Clock()
    s = Scheduler(HostLimits(workers=1), clock=clock, threads=False)
    lives = [LiveRun(RunConfig(**XOR, seed=i, speed="normal")) for i in range(3)]
    for i, live in enumerate(lives):
        live.clock = clock
        s.play(i, TrainTask(live, grid_n=8, pictures_per_s=25, clock=clock))
        s.watch(i, +1)
    for _ in range(100):  # 2 s in 20 ms ticks
        while s.work_once():
            pass
        clock.now += 0.02
    for live in lives:
        assert abs(live.step - 2.0 * live.pace) <= 64, (live.step, live.pace)
        assert 40 <= live.snapshots.added <= 55
    assert calls and max(n for n, _ in calls) == 3  # all three in one call, most of the time
    assert sum(n * steps for n, steps in calls) >= 0.8 * sum(live.step for live in lives)


def test_a_run_that_fails_in_a_shared_slice_stops_alone(monkeypatch):
    monkeypatch.setattr(cohort, "PROGRAMS", cohort.CohortPrograms(background=False))
    s = Scheduler(HostLimits(workers=1), threads=False, idle_stop=1e9)
    lives = [LiveRun(RunConfig(**XOR, seed=i, speed="normal")) for i in range(3)]
    tasks = [TrainTask(live, grid_n=8, pictures_per_s=1000) for live in lives]

    def broken():
        raise RuntimeError("no picture today")

    monkeypatch.setattr(tasks[1], "_picture", broken)
    for i, task in enumerate(tasks):
        s.play(i, task)
    time.sleep(0.05)  # steps are owed
    assert s.work_once()
    assert s.job(1).stopped == "Training stopped: no picture today"
    assert not s.job(0).stopped and not s.job(2).stopped
    assert lives[0].step >= cohort.COHORT_STEPS and lives[2].step >= cohort.COHORT_STEPS
    before = lives[0].step
    time.sleep(0.05)
    for _ in range(5):
        s.work_once()
    assert lives[0].step > before  # the others go on
