"""The later lessons' math against independent references: softmax and its gradients
written out in NumPy, the closed-form bowl of a two-weight slice, sampling theory for
minibatch noise, weights counted by hand, a NumPy forward pass over a saved model file,
and the engine itself for the lessons' own optimizer loop."""

import io

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from playground.core.config import RunConfig
from playground.core.modelfile import load_model
from playground.core.train import batch_plan, divergence_message
from playground.lessons import finetune, overfit, sgd, softmax, tools
from playground.live.engine import run as engine
from playground.live.engine.compile_cache import enable_compile_cache

enable_compile_cache()


# -- independent references -----------------------------------------------------------------
def np_forward(params, x, activation="relu"):
    """Raw outputs of a dense stack in float64 NumPy."""
    h = np.asarray(x, np.float64)
    for w, b in params[:-1]:
        z = h @ np.asarray(w, np.float64) + np.asarray(b, np.float64)
        h = np.maximum(z, 0.0) if activation == "relu" else np.tanh(z)
    w, b = params[-1]
    return h @ np.asarray(w, np.float64) + np.asarray(b, np.float64)


def np_softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def np_sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def np_bce(params, x, y):
    """Mean binary cross-entropy of a one-logit network, from its logits."""
    z = np_forward(params, x)[:, 0]
    return float(np.mean(np.logaddexp(0.0, z) - y * z))


# -- the lessons' own loop against the engine -------------------------------------------------
@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_descend_takes_the_engines_steps(optimizer):
    cfg = RunConfig(problem="xor", hidden=(8, 8), optimizer=optimizer, batch_size=0)
    start = engine.new_run(cfg)
    trained, log = engine.train(start, steps=32)
    d = tools.descend(
        tools.engine_loss(start.spec),
        start.state.params,
        tools.optimizer(optimizer),
        tools.full_batches(len(start.data.x_train), 32),
        ctx=tools.data_ctx(start.data),
        learning_rate=cfg.learning_rate,
        watch=tools.metrics_watch(start.spec),
    )
    np.testing.assert_allclose(d.loss, log.loss, rtol=1e-5, atol=1e-6)
    for (w, b), (we, be) in zip(d.params, engine.params_numpy(trained), strict=True):
        np.testing.assert_allclose(w, we, atol=1e-5)
        np.testing.assert_allclose(b, be, atol=1e-5)
    assert d.diverged_at == -1 and d.watch.shape == (33, len(tools.METRIC_KEYS))
    np.testing.assert_allclose(d.watch[-1, 1], trained.metrics.test_loss, rtol=1e-5)


def test_descend_stops_at_the_first_step_that_blows_up():
    # Gradient descent on x² with a step of 3: x -> x - 6x = -5x, so it overflows float32.
    def loss(p, idx, ctx):
        return jnp.sum(p**2)

    d = tools.descend(loss, jnp.ones(2), optax.sgd(3.0), tools.full_batches(1, 200), keep_path=True)
    assert 0 < d.diverged_at < 200
    assert np.all(np.isfinite(d.params)) and np.all(np.isfinite(d.path))
    assert (
        np.isnan(d.loss[d.diverged_at + 1 :]).all() and np.isfinite(d.loss[: d.diverged_at]).all()
    )
    np.testing.assert_allclose(d.path[1], [-5.0, -5.0])


def test_minibatches_follow_the_engines_plan():
    rows = tools.minibatches(25, 10, 7, seed=3)
    b, per_epoch = batch_plan(25, 10)
    assert rows.shape == (7, b) and per_epoch == 2
    for epoch in range(3):  # no point twice within an epoch
        seen = rows[epoch * per_epoch : (epoch + 1) * per_epoch].ravel()
        assert len(set(seen.tolist())) == seen.size
    assert tools.minibatches(25, 0, 4).shape == (4, 25)


# -- softmax and cross-entropy ---------------------------------------------------------------
@pytest.fixture(scope="module")
def class_fit():
    return softmax.class_fit(256)


def test_readout_is_the_softmax_of_the_networks_logits(class_fit):
    r = softmax.read_point(class_fit, softmax.POINT)
    logits = np_forward(class_fit.params, np.array([softmax.POINT]))[0]
    np.testing.assert_allclose(r.logits, logits, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(r.probs, np_softmax(logits), atol=1e-6)
    assert r.probs.sum() == pytest.approx(1.0, abs=1e-6)


def test_an_untrained_network_gives_a_third_to_each_class_at_the_origin():
    r = softmax.read_point(softmax.class_fit(0), (0.0, 0.0))
    np.testing.assert_array_equal(r.logits, 0.0)  # every bias starts at zero
    np.testing.assert_allclose(r.probs, 1 / 3, atol=1e-7)


def test_temperature_flattens_or_sharpens_but_keeps_the_order():
    z = np.array([2.0, -1.0, 0.5])
    probs = softmax.with_temperature(z)
    for row, t in zip(probs, softmax.TEMPERATURES, strict=True):
        np.testing.assert_allclose(row, np_softmax(z / t), atol=1e-6)
        assert np.argmax(row) == 0
    assert np.all(np.diff(probs[:, 0]) < 0)  # hotter: the top class gets less


def test_each_losss_gradient_matches_its_closed_form():
    for target in (0, 1):
        sw = softmax.logit_sweep(target=target)
        s = np_sigmoid(sw.z)
        np.testing.assert_allclose(sw.ce, s - target, atol=1e-6)
        np.testing.assert_allclose(sw.mse_sigmoid, 2 * (s - target) * s * (1 - s), atol=1e-6)
        np.testing.assert_allclose(sw.mse_value, 2 * (sw.z - target), rtol=1e-5)
    sw = softmax.logit_sweep(target=1)
    wrong = sw.z < -8  # confidently wrong: squared error through the sigmoid fades away
    assert np.all(np.abs(sw.mse_sigmoid[wrong]) < 1e-3 * np.abs(sw.ce[wrong]))


def test_softmax_cross_entropy_gradient_is_p_minus_y_over_n():
    rng = np.random.default_rng(0)
    z = rng.normal(size=(4, 3)) * 3
    labels = np.array([0, 2, 1, 2])
    g = softmax.class_gradients(z, labels)
    p = np_softmax(z)
    y = np.eye(3)[labels]
    np.testing.assert_allclose(g.probs, p, atol=1e-6)
    np.testing.assert_allclose(g.ce, (p - y) / len(z), atol=1e-6)
    # Squared error through the softmax: the softmax's Jacobian diag(p) - p pᵀ times 2(p - y).
    mse = np.stack(
        [(np.diag(pi) - np.outer(pi, pi)) @ (2 * (pi - yi)) for pi, yi in zip(p, y, strict=True)]
    )
    np.testing.assert_allclose(g.mse, mse / len(z), atol=1e-6)


@pytest.fixture(scope="module")
def race():
    return softmax.retrain("ce"), softmax.retrain("mse")


def test_a_confidently_wrong_network_recovers_with_cross_entropy_only(race):
    ce, mse = race
    trained = softmax.train_fit(softmax.FLIP_CFG, softmax.FLIP_TRAIN_STEPS)
    for pair, trained_pair in zip(ce.start.params[:-1], trained.params[:-1], strict=True):
        np.testing.assert_array_equal(pair[0], trained_pair[0])
        np.testing.assert_array_equal(pair[1], trained_pair[1])
    for flipped, original in zip(ce.start.params[-1], trained.params[-1], strict=True):
        np.testing.assert_array_equal(flipped, -original)
    # Every answer flipped: accuracy 1 - the trained network's.
    assert ce.start.metric == pytest.approx(1 - trained.metric, abs=1e-6)
    assert ce.test_accuracy[0] == mse.test_accuracy[0] < 0.05
    assert ce.test_accuracy[-1] > 0.95 and mse.test_accuracy[-1] < 0.5
    assert mse.grad_norm[0] < 1e-2 * ce.grad_norm[0]
    # The first loss of each run is its loss at the flipped start, computed in NumPy.
    z = np_forward(ce.start.params, ce.start.data.x_train)[:, 0]
    y = ce.start.data.y_train
    assert ce.train_loss[0] == pytest.approx(np.mean(np.logaddexp(0, z) - y * z), rel=1e-5)
    assert mse.train_loss[0] == pytest.approx(np.mean((np_sigmoid(z) - y) ** 2), rel=1e-5)


# -- SGD, minibatches and the learning rate ----------------------------------------------------
@pytest.fixture(scope="module")
def base():
    return sgd.base_network()


@pytest.fixture(scope="module")
def bowl(base):
    return sgd.loss_slice(base, sgd.default_pair(base))


def numpy_slice(base, units):
    """The slice's residuals written out: f = rest + θ_a h_a + θ_b h_b; loss = mean (f - y)²."""
    (w0, b0), (w1, b1) = engine.params_numpy(base)
    x, y = base.data.x_train.astype(np.float64), base.data.y_train.astype(np.float64)
    h = np.maximum(x @ w0 + b0, 0.0)
    rest = h @ w1[:, 0] + b1[0] - h[:, list(units)] @ w1[list(units), 0]
    return h[:, list(units)], rest, y


def test_the_slice_is_the_bowl_numpy_finds(base, bowl):
    hs, rest, y = numpy_slice(base, bowl.units)
    n = len(y)
    hessian = 2.0 / n * hs.T @ hs
    minimum, *_ = np.linalg.lstsq(hs, y - rest, rcond=None)
    np.testing.assert_allclose(bowl.hessian, hessian, rtol=1e-4)
    np.testing.assert_allclose(bowl.minimum, minimum, atol=1e-4)
    assert bowl.max_stable_lr == pytest.approx(2.0 / np.linalg.eigvalsh(hessian)[-1], rel=1e-4)
    assert bowl.min_loss == pytest.approx(np.mean((rest + hs @ minimum - y) ** 2), rel=1e-4)
    # The start lies START_RISE above the bottom, off both axes of the bowl.
    d = bowl.start - bowl.minimum
    assert d @ hessian @ d / 2 == pytest.approx(sgd.START_RISE, rel=1e-6)
    assert bowl.loss.min() >= bowl.min_loss - 1e-6
    assert 1 < np.divide(*bowl.curvatures[::-1]) < 100


def test_learning_rates_crawl_converge_oscillate_and_diverge(base, bowl):
    paths = {p.label: p for p in sgd.lr_paths(base, bowl)}
    excess = {k: p.loss - bowl.min_loss for k, p in paths.items()}
    assert excess["about right"][-1] < 1e-4 < excess["too small"][-1] < excess["too small"][0]
    steep = np.linalg.eigh(bowl.hessian)[1][:, 1]
    side = np.sign((paths["oscillates"].points - bowl.minimum) @ steep)[:20]
    assert np.all(side[1:] != side[:-1])  # it jumps across the valley every step
    big = paths["too large"]
    assert big.diverged_at > 0 and big.learning_rate > bowl.max_stable_lr
    assert big.message == divergence_message(big.diverged_at, big.learning_rate)
    assert all(p.diverged_at == -1 for k, p in paths.items() if k != "too large")


def test_minibatch_noise_follows_sampling_theory(base, bowl):
    noise = sgd.gradient_noise(base, bowl)
    hs, rest, y = numpy_slice(base, bowl.units)
    residual = rest + hs @ bowl.start - y
    per_point = 2 * residual[:, None] * hs  # d/dθ of (f - y)², one row per point
    n = len(y)
    np.testing.assert_allclose(noise.full_gradient, per_point.mean(axis=0), rtol=1e-4)
    spread = per_point.var(axis=0).sum()
    b = noise.batch_sizes
    expected = np.sqrt(spread / b * (n - b) / (n - 1))
    np.testing.assert_allclose(noise.expected, expected, rtol=1e-3)
    np.testing.assert_allclose(noise.measured, expected, rtol=0.15)
    assert np.all(np.diff(noise.measured) < 0)


def test_batch_sizes_on_the_whole_network_and_a_blowup():
    curves = {b: sgd.batch_curve(b) for b in (0, 1)}
    assert curves[0].train_loss[0] == curves[1].train_loss[0]  # same network, same start
    assert curves[0].train_loss[-1] < 0.05 * curves[0].train_loss[0]
    assert len(curves[1].batch_loss) == sgd.CURVE_STEPS
    blow = sgd.whole_network_blowup()
    assert blow.diverged_at >= 0
    assert blow.message == divergence_message(blow.diverged_at, sgd.TOO_LARGE_LR)


def test_momentum_gets_further_down_the_valley_than_sgd(base, bowl):
    paths = {p.optimizer: p for p in sgd.optimizer_paths(base, bowl)}
    assert paths["momentum"].loss[-1] < paths["sgd"].loss[-1]
    assert paths["sgd"].learning_rate == paths["momentum"].learning_rate


# -- overfitting and regularisation --------------------------------------------------------------
@pytest.fixture(scope="module")
def methods():
    return {m: overfit.regularised(m) for m in overfit.METHODS}


def test_a_big_network_overfits_and_every_method_closes_the_gap(methods):
    none = methods["none"]
    assert none.train_loss < 0.01 and none.gap > 1.0
    assert none.curve.test_loss[-1] > 2 * none.curve.test_loss.min()  # it climbs
    for m in ("l2", "l1", "dropout", "early"):
        assert methods[m].gap < 0.7 * none.gap, m
    # The numbers are the engine's: the kept weights' losses, recomputed in NumPy.
    for r in methods.values():
        d = r.fit.data
        assert r.train_loss == pytest.approx(
            np_bce(r.fit.params, d.x_train, d.y_train), rel=1e-4, abs=1e-6
        )
        assert r.test_loss == pytest.approx(np_bce(r.fit.params, d.x_test, d.y_test), rel=1e-4)


def test_early_stopping_keeps_the_weights_with_the_lowest_validation_loss(methods):
    early = methods["early"]
    val = overfit.validation_set()
    assert early.stop_step == early.curve.step[np.argmin(early.val_loss)]
    assert early.val_loss.min() == pytest.approx(
        np_bce(early.fit.params, val.x_train, val.y_train), rel=1e-4
    )
    assert 0 < early.stop_step < overfit.STEPS
    # Chosen on fresh points, never on the test set.
    assert not np.isin(val.x_train, early.fit.data.x_test).all(axis=1).any()


def test_l1_leaves_many_more_weights_near_zero_than_l2(methods):
    def near_zero(params, tol):
        return sum(int(np.sum(np.abs(np.asarray(w)) < tol)) for w, _ in params)

    assert near_zero(methods["l1"].fit.params, 1e-3) > 1.5 * near_zero(
        methods["l2"].fit.params, 1e-3
    )
    l2, l1, prox = (overfit.sparse(k) for k in overfit.SPARSE_LABELS)
    assert near_zero(l1.fit.params, 1e-3) > 10 * near_zero(l2.fit.params, 1e-3)
    assert l1.count_below(1e-3) == near_zero(l1.fit.params, 1e-3)
    # A plain L1 step leaves weights hovering at about one step's size, never at zero...
    assert near_zero(l1.fit.params, 0.0) == 0 == l1.exact_zeros
    step = overfit.SPARSE_LR * overfit.SPARSE_RATES["l1"]
    small = np.abs(l1.weights[np.abs(l1.weights) < 1e-3])
    assert 0.1 * step < np.median(small) < 2 * step
    # ...the proximal step puts them exactly at zero.
    assert prox.exact_zeros == int(np.sum(prox.weights == 0)) > 0.5 * l1.count_below(1e-3)


def test_soft_threshold_shrinks_weights_and_stops_at_zero():
    params = [(jnp.array([[0.5, -0.05], [-2.0, 0.1]]), jnp.array([0.01, -0.01]))]
    zero_update = jax.tree.map(jnp.zeros_like, params)
    tx = overfit.soft_threshold(0.1)
    updates, _ = tx.update(zero_update, tx.init(params), params)
    new = optax.apply_updates(params, updates)
    np.testing.assert_allclose(new[0][0], [[0.4, 0.0], [-1.9, 0.0]], atol=1e-7)
    np.testing.assert_array_equal(new[0][1], params[0][1])  # biases untouched


# -- saving, restoring and fine-tuning -----------------------------------------------------------
def test_a_saved_model_loads_into_a_fresh_run_unchanged():
    r = finetune.save_and_restore("grow")
    assert r.max_difference == 0.0
    keys = dict(r.keys)
    assert keys["W0"] == "array 2 × 8" and keys["activation"] == "relu"
    with np.load(io.BytesIO(r.file), allow_pickle=False) as z:
        for i, (w, b) in enumerate(r.before.params):
            np.testing.assert_array_equal(z[f"W{i}"], w)
            np.testing.assert_array_equal(z[f"b{i}"], b)
    assert load_model(r.file).hidden == (8, 8)
    assert r.after.metric == r.before.metric


@pytest.fixture(scope="module")
def grow_race():
    return finetune.race("grow", finetune.DEFAULT_AMOUNT["grow"])


def test_fine_tuning_starts_at_the_saved_models_loss(grow_race):
    saved = load_model(finetune.save_and_restore("grow").file)
    d = grow_race.data
    expected = np_bce(saved.params, d.x_train, d.y_train)
    assert grow_race.saved_loss == pytest.approx(expected, rel=1e-5)
    for mode in ("all", "freeze_first", "last_only"):
        assert grow_race.curves[mode].train_loss[0] == pytest.approx(expected, rel=1e-5)
    assert grow_race.curves["scratch"].train_loss[0] != pytest.approx(expected, rel=1e-2)


def test_fine_tuning_reaches_the_target_in_fewer_steps_than_scratch(grow_race):
    tuned, scratch = grow_race.steps_to_target("all"), grow_race.steps_to_target("scratch")
    assert tuned is not None and scratch is not None and tuned < scratch
    c = grow_race.curves["scratch"]
    assert c.test_metric[np.flatnonzero(c.step == scratch)[0]] >= finetune.TARGET
    assert np.all(c.test_metric[c.step < scratch] < finetune.TARGET)


def test_the_changed_problem_turns_or_grows_the_points():
    data = finetune.save_and_restore("rotate").before.data
    turned = finetune.changed_data("rotate", 90.0, data)
    # Turned anticlockwise: (x1, x2) -> (-x2, x1).
    np.testing.assert_allclose(turned.x_train[:, 0], -data.x_train[:, 1], atol=1e-5)
    np.testing.assert_allclose(turned.x_train[:, 1], data.x_train[:, 0], atol=1e-5)
    np.testing.assert_array_equal(turned.y_train, data.y_train)
    grown = finetune.changed_data("grow", 1.5, data)
    np.testing.assert_allclose(grown.x_test, 1.5 * data.x_test, rtol=1e-6)


def test_frozen_layers_keep_the_saved_weights_and_the_rest_learn():
    r = finetune.save_and_restore("grow")
    data = finetune.changed_data("grow", 1.4, r.before.data)
    run = engine.new_run(r.before.cfg.replace(problem="upload"), upload=data)
    for mode, frozen in (("freeze_first", (0,)), ("last_only", (0, 1))):
        _, params = finetune.fine_tune(run, r.saved, mode, steps=32)
        for i, ((w, b), (ws, bs)) in enumerate(zip(params, r.saved.params, strict=True)):
            if i in frozen:
                np.testing.assert_array_equal(w, ws)
                np.testing.assert_array_equal(b, bs)
            else:
                assert not np.array_equal(w, ws)
    # With nothing frozen, the loop takes the engine's steps.
    curve, _ = finetune.fine_tune(run, r.saved, "all", steps=64)
    engine_run = engine.new_run(run.cfg, upload=data, saved=r.saved)
    _, engine_curve, _ = tools.train_curve(engine_run, 64, finetune.EVERY)
    np.testing.assert_array_equal(curve.step, engine_curve.step)
    np.testing.assert_allclose(curve.train_loss, engine_curve.train_loss, rtol=1e-4, atol=1e-6)


def test_the_engine_trains_with_dropout():
    """Dropout's rate is a traced value in the compiled chunk (it can change live)."""
    cfg = RunConfig(problem="xor", hidden=(8, 8), batch_size=0)
    plain, _ = engine.train(engine.new_run(cfg), steps=16)
    dropped, log = engine.train(engine.new_run(cfg.replace(dropout=0.5)), steps=16)
    again, _ = engine.train(engine.new_run(cfg.replace(dropout=0.5)), steps=16)
    assert not dropped.diverged and np.all(np.isfinite(log.loss))
    w_plain, w_drop, w_again = (engine.params_numpy(r)[0][0] for r in (plain, dropped, again))
    assert not np.allclose(w_plain, w_drop)
    np.testing.assert_array_equal(w_drop, w_again)  # seeded: the same units drop each time
