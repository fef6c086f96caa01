"""When training stops by itself, and how fast it goes: dead layers, the weights kept for
after a divergence, the optional early stop, the chosen speed, the first compile and a
loaded model's step count. Checked against independent references (NumPy forward passes,
JAX gradients, a fake clock)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from playground.core.config import PATIENCE_EPOCHS, RunConfig
from playground.core.model import dead_units
from playground.core.modelfile import SavedModel
from playground.core.train import ModelSpec, model_loss
from playground.live.engine import run as engine
from playground.live.session.live_run import (
    DEAD_CONFIRM_STEPS,
    SCORE_DROP,
    DeadLayer,
    LiveRun,
    dead_layer_cause,
)


def dead_net(seed: int = 0, bias: float = -100.0) -> list[tuple[np.ndarray, np.ndarray]]:
    """A 2-4-3-1 ReLU net whose second hidden layer is off everywhere in the plane's box:
    its weights are small and its biases very negative."""
    rng = np.random.default_rng(seed)
    w0, b0 = rng.normal(size=(2, 4)).astype(np.float32), np.zeros(4, np.float32)
    w1 = (0.01 * rng.normal(size=(4, 3))).astype(np.float32)
    b1 = np.full(3, bias, np.float32)
    w2, b2 = rng.normal(size=(3, 1)).astype(np.float32), np.zeros(1, np.float32)
    return [(w0, b0), (w1, b1), (w2, b2)]


def numpy_off(params, x) -> list[np.ndarray]:
    """Reference: units whose pre-activation is <= 0 at every point, in float64 NumPy."""
    h, off = np.asarray(x, np.float64), []
    for w, b in params[:-1]:
        z = h @ w.astype(np.float64) + b
        off.append((z <= 0).all(axis=0))
        h = np.maximum(z, 0)
    return off


def test_dead_units_match_a_numpy_forward_pass():
    x = np.random.default_rng(1).uniform(-6, 6, (300, 2)).astype(np.float32)
    for params in (dead_net(), dead_net(bias=0.5)):
        got = [np.asarray(d) for d in dead_units(params, jnp.asarray(x), "relu")]
        want = numpy_off(params, x)
        assert [g.tolist() for g in got] == [w.tolist() for w in want]
    assert np.asarray(dead_units(dead_net(), jnp.asarray(x), "relu")[1]).all()
    assert not np.asarray(dead_units(dead_net(bias=0.5), jnp.asarray(x), "relu")[1]).any()
    # tanh has no flat zero: nothing can die.
    assert not any(np.asarray(d).any() for d in dead_units(dead_net(), jnp.asarray(x), "tanh"))


def test_a_dead_layer_passes_no_gradient_to_itself_or_before():
    """Why a dead layer cannot recover: every weight up to it has a zero gradient."""
    spec = ModelSpec(("x1", "x2"), (4, 3), "relu", "binary", 2)
    x = jnp.asarray(np.random.default_rng(2).uniform(-6, 6, (200, 2)), jnp.float32)
    y = (x[:, 0] * x[:, 1] > 0).astype(jnp.int32)
    grads = jax.grad(model_loss)([tuple(map(jnp.asarray, p)) for p in dead_net()], x, y, spec)
    for gw, gb in grads[:2]:
        assert not np.asarray(gw).any() and not np.asarray(gb).any()
    assert np.asarray(grads[2][1]).any()  # the output bias still moves: a constant guess


def loaded(params, **cfg) -> LiveRun:
    run = LiveRun(RunConfig(hidden=tuple(w.shape[1] for w, _ in params[:-1]), **cfg))
    run.load(SavedModel(params, "relu", meta={"step": 0}))
    return run


def test_a_dead_layer_stops_training_once_it_stays_dead():
    run = loaded(dead_net())
    assert run.dead_units()[1].all() and run.dead_layer is None
    run.train_steps(DEAD_CONFIRM_STEPS // 2)
    assert run.dead_layer is None and not run.halted  # seen, not yet sure
    run.train_steps(DEAD_CONFIRM_STEPS)
    # Loaded dead at 4-3 and lr 0.01: no jump, not narrow, deep or fast; a step it was.
    assert run.dead_layer == DeadLayer(1, 3, DEAD_CONFIRM_STEPS // 2, cause="step")
    assert run.halted and run.train_steps(16) == 0 and run.train_for(0.05) == 0
    run.resume()  # Play again: a dead layer stays dead
    assert run.halted
    run.reset()
    assert run.dead_layer is None and not run.halted


def test_a_healthy_net_is_never_called_dead():
    run = LiveRun(RunConfig(problem="circle", hidden=(8, 8)))
    run.train_steps(3 * DEAD_CONFIRM_STEPS)
    assert run.dead_layer is None and not any(d.all() for d in run.dead_units())


def test_divergence_goes_back_to_weights_worth_having():
    """Product, SGD, learning rate 10: the last finite weights have a loss of ~1e13.
    Play after lowering the rate goes on from the last weights whose loss had not run
    away (here the first ones), and the network then learns."""
    run = LiveRun(RunConfig(problem="product", optimizer="sgd", learning_rate=10.0, speed="fast"))
    start_loss = run.metrics.train_loss
    run.train_steps(500)
    assert run.diverged
    assert engine.exploding(run.metrics.train_loss, start_loss, start_loss)  # the last finite
    assert not engine.exploding(run.checkpoint.metrics.train_loss, start_loss, start_loss)
    assert f"weights of step {run.checkpoint.step:,}" in run.message or (
        run.checkpoint.step == 0 and "the first weights" in run.message
    )
    assert "Reset" in run.message
    run.apply(run.cfg.replace(learning_rate=0.01))
    run.resume()
    assert not run.diverged and run.step == run.checkpoint.step
    assert run.history.array("step").max() <= run.step  # the curves go back too
    run.train_steps(3000)
    assert not run.diverged and run.metrics.test_metric > 0.5  # R²: it learns


def test_exploding_and_improved_rules():
    assert engine.exploding(float("nan"), 0.1, 1.0) and engine.exploding(5e13, 0.1, 1.0)
    assert not engine.exploding(0.9, 0.01, 1.0)  # worse than the best, not worse than the start
    assert engine.exploding(1.1, 0.01, 1.0) and not engine.exploding(0.05, 0.01, 1.0)
    assert engine.improved(0.5, 1.0) and not engine.improved(0.995, 1.0)
    assert not engine.improved(0.99e-4, 1.5e-4)  # 1% better but by less than MIN_IMPROVEMENT
    assert not engine.improved(float("nan"), 1.0)


def test_the_early_stop_pauses_when_the_test_loss_stops_improving():
    run = LiveRun(RunConfig(problem="gauss", early_stop=True, speed="fast"))
    for _ in range(200):
        if run.halted:
            break
        run.train_steps(10 * run.steps_per_epoch)
    e = run.early_stop
    assert e is not None and e.patience == PATIENCE_EPOCHS
    assert run.epoch - e.since_epoch >= PATIENCE_EPOCHS and e.test_loss == run.metrics.test_loss
    # Reference: no test loss recorded in the last PATIENCE_EPOCHS epochs beat the one
    # at their start by the margin ``improved`` asks for.
    epochs, losses = run.history.array("epoch"), run.history.array("test_loss")
    start = losses[epochs <= e.since_epoch][-1]
    assert not any(engine.improved(v, start) for v in losses[epochs > e.since_epoch])
    assert run.train_steps(16) == 0
    run.resume()  # Play goes on for another while
    assert run.train_steps(16) == 16
    off = LiveRun(RunConfig(problem="gauss", speed="fast"))
    off.train_steps(run.step)
    assert off.early_stop is None and not off.halted


class FakeClock:
    def __init__(self):
        self.t = 100.0

    def __call__(self):
        return self.t


@pytest.mark.parametrize("speed", ["slow", "normal"])
def test_a_chosen_speed_trains_that_many_epochs_a_second(speed):
    from playground.core.config import SPEEDS

    run = LiveRun(RunConfig(speed=speed))
    run.clock = clock = FakeClock()
    rate = SPEEDS[speed].epochs_per_s * run.steps_per_epoch
    assert run.pace == rate
    for _ in range(40):  # 2 seconds in steps of 0.05 s
        run.train_for(0.05)
        clock.t += 0.05
    # One step at once, then the rate, in whole chunks of the ladder's longest rung that
    # fits what is owed (the rest waits for the next call).
    assert abs(run.step - (1 + 39 * 0.05 * rate)) <= engine.CHUNK_LADDER[1]
    clock.t += 60  # a long pause is not made up for in one jump
    before = run.step
    run.train_for(0.05)
    assert run.step - before <= rate * 0.25 + 1
    run.apply(run.cfg.replace(speed="fast"))
    assert run.pace is None


def test_a_paced_run_waits_for_its_grain_and_trains_a_late_visit_in_long_chunks():
    """Below ``grain`` owed steps nothing trains (``pace_wait`` says how long till then);
    a visit that comes late trains what is owed in whole 64-step chunks, not in 16s."""
    run = LiveRun(RunConfig(speed="normal"))  # 750 steps a second
    run.clock = clock = FakeClock()
    run.train_for(0.05)  # the first step
    assert run.step == 1
    clock.t += 0.01  # 7.5 steps owed
    assert run.train_for(0.05, grain=16) == 0
    assert run.pace_wait(16) == pytest.approx((16 - 7.5) / 750)
    clock.t += run.pace_wait(16)
    assert run.train_for(0.05, grain=16) == 16
    clock.t += 0.2  # a busy server comes back after 150 steps are owed
    assert run.train_for(0.05, grain=16) == 128
    assert run.pace_wait(16) == 0.0  # 22 are still owed: the next visit trains 16
    run.apply(run.cfg.replace(speed="fast"))
    assert run.pace_wait(16) == 0.0


def test_compile_pending_until_the_first_chunk_of_a_new_shape():
    run = LiveRun(RunConfig(hidden=(7, 3), batch_size=13, optimizer="momentum", speed="fast"))
    assert run.compile_pending()
    run.train_steps(1)
    assert not run.compile_pending()
    same = LiveRun(RunConfig(hidden=(7, 3), batch_size=13, optimizer="momentum", seed=4))
    assert not same.compile_pending()  # the shape, not the run, is compiled


def test_a_loaded_model_keeps_its_step_count():
    source = LiveRun(RunConfig(problem="circle", noise=0.2, speed="fast"))
    source.train_steps(125)
    saved = source.saved_model()
    assert saved.meta["step"] == 125
    run = LiveRun(RunConfig())
    run.load(saved)
    assert run.step == 125 and run.epoch == 125 // run.steps_per_epoch
    assert run.history.array("step").tolist() == [125]
    np.testing.assert_array_equal(run.params_numpy()[0][0], source.params_numpy()[0][0])
    bad = SavedModel(saved.params, "relu", meta={"step": -5})
    run.load(bad)
    assert run.step == 0


@pytest.mark.parametrize(("problem", "lr"), [("xor", 10.0), ("xor", 1.0), ("spiral", 0.1)])
def test_networks_that_die_in_the_issues_ways_are_caught(problem, lr):
    """The default 8-8 net with Adam's rate too high (xor at its maximum, as the issue
    found; the spiral at 0.1): every unit of layer 2 goes off for every point and
    training stops. (The issue's spiral at 0.03 died after ~4,700 epochs; with another
    summation order it may survive longer, so that exact trajectory is not pinned.)"""
    run = LiveRun(RunConfig(problem=problem, learning_rate=lr, speed="fast"))
    while run.step < 150_000 and not run.halted:
        run.train_steps(2048)
    assert run.dead_layer is not None and run.dead_layer.layer == 1
    assert run.metrics.test_metric < 0.6  # one class everywhere
    assert all(d.all() for d in run.dead_units()[1:2])


def test_the_spiral_lives_and_learns_at_the_default_rate():
    """At the default rate the same net learns the 3-arm spiral (test accuracy past 0.9 on
    the way) and no layer dies in 150k steps; trained that long, Adam may wobble (seed
    0 ends at ~0.7), which is the early stop's business, not a dead network."""
    run = LiveRun(RunConfig(problem="spiral", speed="fast"))
    best = 0.0
    while run.step < 150_000 and not run.halted:
        run.train_steps(2048)
        best = max(best, run.metrics.test_metric)
    assert not run.halted and run.dead_layer is None
    assert best > 0.9 and run.metrics.test_metric > 0.5  # chance is 1/3


def test_the_dead_layers_cause_is_the_likeliest_one_the_run_shows():
    """A jump in the loss means a step too large; else a layer of 1-2 units up to the
    dead one is too narrow; else a high rate means too large steps; else many layers."""
    assert dead_layer_cause((8, 8), 1, 0.01, loss_jumped=True) == "step"
    assert dead_layer_cause((1,) * 8, 1, 0.01, loss_jumped=False) == "narrow"
    assert dead_layer_cause((2, 8, 8), 2, 0.01, loss_jumped=False) == "narrow"  # layer 1
    assert dead_layer_cause((8, 8, 2), 1, 0.01, loss_jumped=False) == "step"  # not up to it
    assert dead_layer_cause((8, 8), 1, 0.1, loss_jumped=False) == "step"
    assert dead_layer_cause((4,) * 8, 6, 0.01, loss_jumped=False) == "deep"
    assert dead_layer_cause((4,) * 8, 6, 0.1, loss_jumped=False) == "step"


@pytest.mark.parametrize(
    ("cfg", "cause"),
    [
        # The issue's case: depth 8, width 1 at the default rate.
        (dict(problem="xor", hidden=(1,) * 8), "narrow"),
        # The rate at its maximum: the loss jumps before layer 2 dies.
        (dict(problem="xor", learning_rate=10.0), "step"),
    ],
)
def test_a_dead_layer_names_its_likeliest_cause(cfg, cause):
    run = LiveRun(RunConfig(speed="fast", **cfg))
    while run.step < 50_000 and not run.halted:
        run.train_steps(256)
    assert run.dead_layer is not None and run.dead_layer.cause == cause


def test_a_fallen_test_score_is_told_and_the_best_weights_come_back():
    """tanh xor (no unit can die) learns at the default rate; at a rate of 3 its test
    accuracy falls far below its best. ``score_drop`` says so, and ``restore_best`` brings
    back the very weights of the best score (the same predictions) and their step."""
    run = LiveRun(RunConfig(activation="tanh", speed="fast"))
    run.train_steps(1000)
    best_step, best_score = run.step, run.metrics.test_metric
    points = np.random.default_rng(0).uniform(-6, 6, (500, 2)).astype(np.float32)
    at_best = run.predict(points)
    assert best_score > 0.95 and run.score_drop is None
    run.apply(run.cfg.replace(learning_rate=3.0))
    for _ in range(10):
        run.train_steps(64)
    drop = run.score_drop
    assert drop is not None and run.best.step == best_step
    assert drop.best == best_score and drop.now == run.metrics.test_metric
    assert drop.now < best_score - SCORE_DROP and drop.best_epoch == best_step // 25
    run.restore_best()
    assert run.score_drop is None and run.step == best_step
    assert run.cfg.learning_rate == 3.0  # the settings stay the learner's
    np.testing.assert_array_equal(run.predict(points), at_best)
    assert run.history.array("step").max() <= best_step  # the curves go back too
    run.train_steps(16)  # and training goes on from there
    assert run.step == best_step + 16
