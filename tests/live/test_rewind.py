"""Time travel (issue 22): kept weights at log-spaced steps in bounded memory; "Rewind to
step" equals retraining to that step from the same seed; "Continue from here" forks;
"Restart from the same weights" repeats the run's start."""

import math

import numpy as np
import pytest

from playground.core.config import RunConfig
from playground.live.session.kept import MAX_KEPT, KeptRuns, state_bytes
from playground.live.session.live_run import LiveRun

CFG = RunConfig(problem="spiral", hidden=(8, 8), speed="fast")


def trained(cfg: RunConfig = CFG, calls: int = 60, steps: int = 25) -> LiveRun:
    run = LiveRun(cfg)
    for _ in range(calls):
        run.train_steps(steps)  # each call records (and keeps) its step
    return run


def same_params(a, b) -> None:
    for (w0, b0), (w1, b1) in zip(a, b, strict=True):
        np.testing.assert_array_equal(w0, w1)
        np.testing.assert_array_equal(b0, b1)


def test_kept_steps_are_log_spaced_and_bounded():
    run = trained(calls=200, steps=16)
    steps = run.kept_steps()
    assert steps[0] == 0 and steps[-1] == run.step == 3200
    assert 3 <= len(steps) <= MAX_KEPT and steps == sorted(set(steps))
    # Log-spaced: dense near the start, spread out later (evenly spaced steps would put
    # a tenth of them in the first tenth of the run, and every gap would be the same).
    early = sum(s <= run.step / 10 for s in steps)
    assert early >= 0.3 * len(steps)
    gaps = np.diff(steps)
    assert gaps[-3:].min() > 5 * gaps[1:4].max()
    # On a log scale no later gap is many times another.
    logs = np.diff([math.log1p(s) for s in steps])[3:]
    assert logs.max() / logs.min() < 4


def test_memory_bounds_the_number_of_kept_runs():
    run = LiveRun(CFG)
    one = state_bytes(run.run)
    kept = KeptRuns(limit=100, budget=5 * one)
    for _ in range(30):
        run.train_steps(16)
        kept.add(run.run)
    assert len(kept) == 5 and kept.steps()[0] == 16 and kept.steps()[-1] == run.step
    tiny = KeptRuns(budget=1)
    for _ in range(5):
        run.train_steps(1)
        tiny.add(run.run)
    assert len(tiny) == 2  # the first and the newest, whatever the budget


def test_a_rewound_step_equals_retraining_to_it_from_the_same_seed():
    run = trained()
    steps = run.kept_steps()
    back = steps[len(steps) // 2]
    assert 0 < back < run.step
    run.rewind(back)
    again = LiveRun(CFG)
    again.train_steps(back)
    assert run.step == back
    np.testing.assert_allclose(run.output_grid(40)[2], again.output_grid(40)[2], atol=1e-5)
    assert run.metrics.test_loss == pytest.approx(again.metrics.test_loss, rel=1e-5)
    # Scrubbing back and forth: the later kept steps stay until training goes on.
    assert run.kept_steps() == steps
    run.rewind(steps[-1])
    assert run.step == steps[-1]


def test_continue_from_here_then_rewind_to_that_step_gives_the_same_weights():
    run = trained(calls=20)
    back = run.kept_steps()[-3]
    run.rewind(back)
    at_back = run.params_numpy()
    run.continue_here()
    assert run.kept_steps()[-1] == back  # the old future is gone
    assert run.history.array("step").max() == back
    run.train_steps(200)
    assert run.step == back + 200
    run.rewind(back)
    same_params(run.params_numpy(), at_back)


def test_training_after_a_rewind_forks_by_itself():
    run = trained(calls=10)
    back = run.kept_steps()[-2]
    run.rewind(back)
    run.train_steps(5)
    assert run.kept_steps()[-2:] == [back, back + 5]


def test_restart_from_the_same_weights_repeats_the_first_loss_with_new_settings():
    run = LiveRun(CFG)
    first = run.params_numpy()
    run.train_steps(300)
    original = run.history.array("batch_loss")[1]  # the first training record's loss
    run.restart()
    assert run.step == 0 and run.kept_steps() == [0]
    same_params(run.params_numpy(), first)
    run.train_steps(300)
    assert run.history.array("batch_loss")[1] == pytest.approx(original, rel=1e-6)
    # A changed training setting: the same start, a different path.
    run.apply(CFG.replace(learning_rate=0.1))
    run.restart()
    same_params(run.params_numpy(), first)
    run.train_steps(300)
    assert run.history.array("batch_loss")[1] != pytest.approx(original, rel=1e-6)


# -- the page ------------------------------------------------------------------------------
def test_the_page_rewinds_continues_and_restarts():
    from playground.figures.readouts import fmt
    from playground.ui.live_plot import decode_array
    from playground.ui.live_view import GRID_N
    from tests.pages.test_network_page import network_sent
    from tests.pages.test_playground_page import (
        _boundary_data,
        app,
        button,
        metric,
        no_exceptions,
        pause,
    )

    at = app(problem="circle", noise="0.2", hidden="8,8")
    first = at.session_state["run"].params_numpy()
    for _ in range(4):
        button(at, "Step").click().run()
    run = at.session_state["run"]
    per_epoch = run.steps_per_epoch
    assert run.kept_steps() == [k * per_epoch for k in range(5)]
    back = 2 * per_epoch
    at.select_slider(key="rewind_step").set_value(back).run()
    no_exceptions(at)
    run = at.session_state["run"]
    assert run.step == back and metric(at, "Step") == f"{back:,}"
    again = LiveRun(run.cfg)
    again.train_steps(back)  # retrained to that step from the same seed
    assert metric(at, "Test loss") == fmt(again.metrics.test_loss)
    z = decode_array(_boundary_data(at)["arrays"]["surface.z"])
    assert np.abs(z - again.output_grid(GRID_N)[2]).max() < 1 / 250
    at_back = run.params_numpy()
    from tests.figures.test_network_figure import check_against

    check_against(network_sent(at), at_back)

    button(at, "Continue from here").click().run()
    no_exceptions(at)
    assert at.session_state["playing"]
    pause(at)
    assert at.session_state["run"].kept_steps()[:3] == [0, per_epoch, back]
    at.select_slider(key="rewind_step").set_value(back).run()
    same_params(at.session_state["run"].params_numpy(), at_back)

    button(at, "Restart from the same weights").click().run()
    no_exceptions(at)
    assert metric(at, "Step") == "0" and not at.session_state["playing"]
    same_params(at.session_state["run"].params_numpy(), first)
