"""Training end to end: what a linear model can and cannot learn, what a small ReLU net
learns, determinism, chunking, live changes and divergence."""

import jax
import numpy as np
import pytest

from playground.core.config import RunConfig
from playground.core.train import ModelSpec, hyper_from, init_state, train_chunk
from playground.live.session.history import History
from playground.live.session.live_run import LiveRun


def trained(steps: int, **cfg) -> LiveRun:
    run = LiveRun(RunConfig(**cfg))
    run.train_steps(steps)
    return run


def test_linear_model_stays_near_chance_on_xor_while_relu_net_learns_it():
    linear = trained(1000, problem="xor", hidden=())
    mlp = trained(1500, problem="xor", hidden=(8, 8))
    assert linear.metrics.test_metric < 0.7
    assert mlp.metrics.test_metric >= 0.95


def test_linear_model_cannot_fit_product_but_an_mlp_can():
    linear = trained(1500, problem="product", hidden=(), batch_size=0, learning_rate=0.05)
    mlp = trained(3000, problem="product", hidden=(16, 16), batch_size=0, learning_rate=0.01)
    assert abs(linear.metrics.test_metric) < 0.1
    assert mlp.metrics.test_metric > 0.9


def test_linear_model_fits_sum():
    linear = trained(1500, problem="sum", hidden=(), batch_size=0, learning_rate=0.05)
    assert linear.metrics.test_metric > 0.99


def test_linear_model_with_product_feature_solves_xor():
    run = trained(1000, problem="xor", hidden=(), features=("x1", "x2", "x1x2"))
    assert run.metrics.test_metric >= 0.95


def test_three_class_spiral_is_learnt():
    run = trained(
        3000,
        problem="spiral",
        classes=3,
        hidden=(32, 32, 32),
        batch_size=0,
        learning_rate=0.01,
        n_points=600,
    )
    assert run.spec.task == "multiclass"
    assert run.metrics.train_metric > 0.95
    assert run.metrics.test_metric > 0.85


def test_same_seed_same_run_other_seed_other_run():
    a, b = trained(64, seed=3), trained(64, seed=3)
    c = trained(64, seed=4)
    np.testing.assert_array_equal(a.data.x_train, b.data.x_train)
    np.testing.assert_array_equal(a.history.array("train_loss"), b.history.array("train_loss"))
    for (wa, _), (wb, _) in zip(a.params_numpy(), b.params_numpy(), strict=True):
        np.testing.assert_array_equal(wa, wb)
    assert not np.array_equal(a.data.x_train, c.data.x_train)
    assert a.metrics.train_loss != c.metrics.train_loss


def test_splitting_a_run_into_chunks_does_not_change_it():
    one, two = LiveRun(RunConfig()), LiveRun(RunConfig())
    one.train_steps(32)  # 16 + 16
    two.train_steps(17)  # 16 + 1
    two.train_steps(15)  # 15 x 1
    assert one.step == two.step == 32
    for (wa, ba), (wb, bb) in zip(one.params_numpy(), two.params_numpy(), strict=True):
        np.testing.assert_allclose(wa, wb, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(ba, bb, rtol=1e-5, atol=1e-6)


def test_minibatches_cover_every_point_once_per_epoch():
    # With a zero learning rate and SGD the weights never move, so the per-step loss
    # is the loss of each minibatch under fixed weights: their mean is the full loss.
    run = LiveRun(RunConfig(optimizer="sgd", learning_rate=1e-5, batch_size=25, n_points=100))
    spec = run.spec
    state = init_state(spec, "sgd", key=jax.random.key(0))
    x, y = run.data.x_train, run.data.y_train
    _, log = train_chunk(
        state,
        x,
        y,
        hyper_from(0.0, "none", 0, 0),
        spec=spec,
        optimizer="sgd",
        batch_size=25,
        n_steps=2,
    )
    _, full = train_chunk(
        state,
        x,
        y,
        hyper_from(0.0, "none", 0, 0),
        spec=spec,
        optimizer="sgd",
        batch_size=0,
        n_steps=1,
    )
    assert np.mean(np.asarray(log.loss)) == pytest.approx(float(full.loss[0]), rel=1e-5)


def test_learning_rate_and_penalty_change_live_but_data_change_resets():
    run = trained(100)
    weights = run.params_numpy()
    changed = run.apply(run.cfg.replace(learning_rate=0.001, reg="l2", reg_rate=0.01))
    assert changed == [] and run.step == 100
    np.testing.assert_array_equal(run.params_numpy()[0][0], weights[0][0])
    run.train_steps(16)
    assert run.step == 116
    changed = run.apply(run.cfg.replace(problem="circle", hidden=(4,)))
    assert run.step == 0 and changed == ["problem", "hidden"]


def test_l2_penalty_shrinks_weights():
    free = trained(500, hidden=(8,), batch_size=0)
    tied = trained(500, hidden=(8,), batch_size=0, reg="l2", reg_rate=0.1)
    norm = lambda r: sum(float(np.sum(w * w)) for w, _ in r.params_numpy())  # noqa: E731
    assert norm(tied) < 0.5 * norm(free)


def test_huge_learning_rate_stops_cleanly_with_finite_weights():
    run = trained(
        500, problem="product", hidden=(8,), optimizer="sgd", learning_rate=10.0, batch_size=0
    )
    assert run.diverged
    assert run.step < 500
    assert "learning rate" in run.message and f"step {int(run.state.diverged_at)}" in run.message
    for w, b in run.params_numpy():
        assert np.isfinite(w).all() and np.isfinite(b).all()
    assert np.isfinite(run.history.array("batch_loss")).all()
    # It stays stopped until the learner resumes; resuming never crashes or leaves
    # non-finite weights, and a reset with a lower rate trains normally.
    assert run.train_steps(16) == 0
    run.apply(run.cfg.replace(learning_rate=1e-4))
    run.resume()
    run.train_steps(16)
    assert all(np.isfinite(w).all() for w, _ in run.params_numpy())
    run.reset()
    assert run.train_steps(16) == 16 and not run.diverged and run.message == ""


def test_gradient_magnitudes_are_reported_per_layer():
    run = trained(64, hidden=(8, 8, 8))
    g = run.history.rows["grad_rms"][-1]
    assert g.shape == (4,) and np.all(g > 0) and np.isfinite(g).all()


def test_history_stays_bounded():
    h = History(limit=50)
    for i in range(1000):
        h.append(step=i, loss=float(i))
    assert len(h) <= 50
    steps = h.array("step")
    assert steps[0] == 0 and np.all(np.diff(steps) > 0)


def test_time_budget_trains_and_stops():
    run = LiveRun(RunConfig(speed="fast"))
    run.train_for(0.3)
    first = run.step
    run.train_for(0.3)
    assert first > 0 and run.step > first


def test_spec_is_hashable_and_static():
    spec = ModelSpec(("x1", "x2"), (4,), "relu", "binary", 2)
    assert hash(spec) == hash(ModelSpec(("x1", "x2"), (4,), "relu", "binary", 2))
