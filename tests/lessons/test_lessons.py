"""The lessons' math (``playground.lessons``) against independent references: the course
notes' quiz numbers, a hand-written softmax cross-entropy, central differences, matrix
products, and the reference gradient ratios of deep nets at initialisation."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from playground.core.model import forward, init_params
from playground.figures import lesson_backprop as backprop_figures
from playground.figures import lesson_depth as depth_figures
from playground.figures import lesson_linear as linear_figures
from playground.figures import style
from playground.lessons import backprop
from playground.lessons import depth as depth_lesson
from playground.lessons import linear as linear_lesson
from playground.live.engine.compile_cache import enable_compile_cache

# The lessons train many small models; reuse compiled programs across runs, as pages do.
enable_compile_cache()


def reference_loss(params, x, labels):
    """Mean softmax cross-entropy of relu(x W1 + b1) W2 + b2, written out independently."""
    (w1, b1), (w2, b2) = params
    logits = jnp.maximum(x @ w1 + b1[None, :], 0.0) @ w2 + b2[None, :]
    picked = jnp.take_along_axis(logits, jnp.asarray(labels)[:, None], axis=1)[:, 0]
    return jnp.mean(jax.nn.logsumexp(logits, axis=1) - picked)


def reference_grads(labels) -> np.ndarray:
    g = jax.grad(reference_loss)(
        backprop.quiz_params(), jnp.asarray(backprop.QUIZ_X), np.asarray(labels)
    )
    return backprop.flat([(np.asarray(a), np.asarray(b)) for a, b in g])


# ---------------------------------------------------------------------------------------
# Backpropagation


def test_quiz_forward_pass_gives_the_course_notes_logits():
    fw = backprop.forward_trace(backprop.quiz_params(), backprop.QUIZ_X, backprop.QUIZ_LABELS)
    np.testing.assert_allclose(fw.logits, backprop.QUIZ_LOGITS, atol=1e-4)
    np.testing.assert_allclose(fw.z[0], [5.6, 4.9, 5.1], atol=1e-5)
    assert np.all(fw.h[1] == 0)  # example 2: every ReLU is off
    np.testing.assert_allclose(fw.probs.sum(axis=1), 1.0, atol=1e-6)
    np.testing.assert_allclose(fw.loss, fw.losses.mean(), rtol=1e-6)
    expected = float(
        reference_loss(backprop.quiz_params(), jnp.asarray(backprop.QUIZ_X), np.array([0, 1, 1]))
    )
    np.testing.assert_allclose(fw.loss, expected, rtol=1e-6)


@pytest.mark.parametrize("labels", [(0, 1, 1), (1, 0, 0), (0, 0, 0), (1, 1, 0)])
def test_chain_rule_autodiff_and_finite_differences_agree(labels):
    check = backprop.gradient_check(backprop.quiz_params(), backprop.QUIZ_X, labels)
    expected = reference_grads(labels)
    assert len(check.names) == expected.size == 23
    np.testing.assert_allclose(check.chain_rule, expected, atol=2e-6)
    np.testing.assert_allclose(check.autodiff, expected, atol=2e-6)
    np.testing.assert_allclose(check.finite_diff, expected, atol=2e-6)
    assert check.max_gap_autodiff < 1e-5 and check.max_gap_finite_diff < 1e-5


def test_backward_blocks_follow_the_chain_rule():
    params = backprop.quiz_params()
    fw = backprop.forward_trace(params, backprop.QUIZ_X, (0, 1, 1))
    bw = backprop.chain_rule_backward(params, fw)
    np.testing.assert_array_equal(bw.relu_slope, (fw.z > 0).astype(float))
    np.testing.assert_array_equal(bw.relu_slope[1], 0.0)
    # Example 2 sends nothing to W1, and b2's gradient is the column sum of dL/dlogits.
    np.testing.assert_allclose(bw.d_z[1], 0.0)
    np.testing.assert_allclose(bw.d_b2, bw.d_logits.sum(axis=0))
    np.testing.assert_allclose(bw.d_logits.sum(axis=1), 0.0, atol=1e-7)  # softmax rows


def test_one_sgd_step_moves_each_weight_against_its_gradient():
    params = backprop.quiz_params()
    step = backprop.sgd_step(params, backprop.QUIZ_X, (0, 1, 1), [2, 0], 0.01)
    assert step.batch == (0, 2)
    for (w, b), (gw, gb), (w_new, b_new) in zip(params, step.grads, step.params_after, strict=True):
        np.testing.assert_allclose(w_new, np.asarray(w) - 0.01 * gw, atol=1e-7)
        np.testing.assert_allclose(b_new, np.asarray(b) - 0.01 * gb, atol=1e-7)
    batch_x = jnp.asarray(backprop.QUIZ_X[[0, 2]])
    g = jax.grad(reference_loss)(params, batch_x, np.array([0, 1]))
    np.testing.assert_allclose(step.grads[0][0], g[0][0], atol=1e-5)
    assert step.loss_after < step.loss_before
    after = [(jnp.asarray(w), jnp.asarray(b)) for w, b in step.params_after]
    np.testing.assert_allclose(
        step.loss_after, float(reference_loss(after, batch_x, np.array([0, 1]))), rtol=1e-5
    )
    curve = backprop.sgd_losses(params, backprop.QUIZ_X, (0, 1, 1), [0, 2], 0.01, 5)
    assert curve.shape == (6,) and curve[0] == pytest.approx(step.loss_before)
    assert curve[-1] < curve[0]
    with pytest.raises(ValueError):
        backprop.sgd_step(params, backprop.QUIZ_X, (0, 1, 1), [], 0.01)


def test_backprop_costs_about_twice_the_forward_pass():
    report = backprop.toy_cost(64, 4, 256)
    assert 1.7 < report.backward_flop_ratio < 2.3
    assert report.flop_ratio == pytest.approx(1 + report.backward_flop_ratio)
    assert report.total_bytes > report.forward_bytes > 0
    quiz = backprop.quiz_cost()
    assert quiz.total_flops > quiz.forward_flops > 0


# ---------------------------------------------------------------------------------------
# Why linear models fail


def test_parameter_count_is_n_plus_one_times_k():
    assert linear_lesson.linear_param_count(28 * 28, 10) == 7850
    for n, k in [(1, 1), (2, 1), (3, 5), (100, 7)]:
        assert linear_lesson.linear_param_count(n, k) == (n + 1) * k


def test_product_of_linear_layers_gives_the_same_outputs():
    rng = np.random.default_rng(1)
    params = [  # non-zero biases, so a dropped bias term shows
        (w, jnp.asarray(rng.normal(size=b.shape), jnp.float32))
        for w, b in init_params([2, 8, 8, 8, 1], key=jax.random.key(3))
    ]
    w, b = linear_lesson.collapse_linear_stack(params)
    assert w.shape == (2, 1) and b.shape == (1,)
    x = np.random.default_rng(0).uniform(-6, 6, (200, 2)).astype(np.float32)
    single = x.astype(np.float64) @ w + b[None, :]
    stack = np.asarray(forward(params, jnp.asarray(x), "linear"))  # float32, as the app runs
    np.testing.assert_allclose(stack, single, rtol=1e-5, atol=1e-5)
    with jax.enable_x64(True):  # in float64 they agree to rounding
        p64 = [(jnp.asarray(a, jnp.float64), jnp.asarray(c, jnp.float64)) for a, c in params]
        stack64 = np.asarray(forward(p64, jnp.asarray(x, jnp.float64), "linear"))
    np.testing.assert_allclose(stack64, single, atol=1e-9)


def test_trained_linear_stack_collapses_to_one_straight_boundary():
    c = linear_lesson.linear_stack_lesson(3, "moons")
    assert c.shapes == [(2, 8), (8, 8), (8, 8), (8, 1)]
    assert c.max_difference < 1e-5
    np.testing.assert_allclose(c.stack_out, c.single_out, atol=1e-5)
    assert c.boundary is not None
    # The boundary's ends sit on the line W·x + b = 0.
    np.testing.assert_allclose(c.boundary @ c.w[:, 0] + c.b[0], 0.0, atol=1e-6)
    assert c.fit.metric < 0.95  # a straight line cannot separate the moons


def test_line_in_box():
    ends = linear_lesson.line_in_box(np.array([1.0, -1.0]), 0.0, (-6, 6, -6, 6))  # the diagonal
    np.testing.assert_allclose(sorted(map(tuple, ends)), [(-6, -6), (6, 6)])
    ends = linear_lesson.line_in_box(np.array([0.0, 1.0]), -2.0, (-6, 6, -6, 6))  # x2 = 2
    np.testing.assert_allclose(sorted(map(tuple, ends)), [(-6, 2), (6, 2)])
    assert linear_lesson.line_in_box(np.array([1.0, 0.0]), -10.0, (-6, 6, -6, 6)) is None  # x1 = 10


@pytest.mark.parametrize(
    ("problem", "linear_fits"), [("sum", True), ("product", False), ("xor", False)]
)
def test_linear_model_fits_sum_but_not_product_or_xor_while_mlp_fits_all(problem, linear_fits):
    linear, mlp = linear_lesson.compare_linear_and_mlp(problem)
    assert linear.cfg.hidden == () and mlp.cfg.hidden == linear_lesson.MLP_HIDDEN
    assert mlp.metric > 0.9
    if linear_fits:
        assert linear.metric > 0.99
    else:
        assert linear.metric < (0.1 if problem == "product" else 0.7)
    assert linear.n_params == 3
    assert linear.grid.shape == (linear_lesson.GRID, linear_lesson.GRID)


def test_linear_models_slope_is_constant_and_the_mlps_is_not():
    linear, mlp = linear_lesson.compare_linear_and_mlp("product")
    assert linear_lesson.slope_range(linear) == 0.0
    x1, s = linear_lesson.slope_along_line(linear, 2.0)
    np.testing.assert_allclose(s, linear.params[0][0][0, 0], rtol=1e-6)
    assert linear_lesson.slope_range(mlp) > 0.05
    assert x1.shape == s.shape


def test_product_feature_lets_a_linear_model_solve_xor():
    fit = linear_lesson.train_fit(
        linear_lesson.linear_config("xor", linear_lesson.PRODUCT_FEATURES)
    )
    assert fit.metric >= 0.95
    assert fit.n_params == 4


def test_a_few_relus_solve_xor_and_one_does_not():
    search = linear_lesson.fewest_relus()
    assert search.solved_by is not None and 2 <= search.solved_by <= linear_lesson.MAX_RELUS
    assert search.widths == list(range(1, search.solved_by + 1))
    assert all(a < linear_lesson.SOLVED_ACCURACY for a in search.accuracies[:-1])
    assert search.accuracies[-1] >= linear_lesson.SOLVED_ACCURACY
    bends = linear_lesson.relu_bends(search.fits[-1])
    assert len(bends) == search.solved_by


# ---------------------------------------------------------------------------------------
# Gradients through depth (DESIGN.md reference values: depth 10, width 64, XOR, BCE)


@pytest.fixture(scope="module")
def presets():
    return {name: depth_lesson.preset_stats(name) for name in depth_lesson.PRESETS}


def test_sigmoid_with_uniform_init_vanishes(presets):
    s = presets["vanishing"]
    assert s.grad_rms.shape == (11,) and s.spread.shape == (10,)
    assert depth_lesson.first_to_last(s.grad_rms) < 1e-7  # measured ~3e-9 with seed 0
    assert np.all(np.diff(s.grad_rms) > 0)  # smaller at every step towards the input
    assert depth_lesson.verdict(s) == "vanishing"


@pytest.mark.parametrize("name", ["tanh", "relu_he"])
def test_tanh_glorot_and_relu_he_stay_level(presets, name):
    s = presets[name]
    assert depth_lesson.hidden_range(s.grad_rms) < 10
    assert 0.05 < depth_lesson.first_to_last(s.grad_rms) < 20
    assert depth_lesson.verdict(s) == "steady"


def test_relu_with_unit_normal_init_explodes(presets):
    s = presets["exploding"]
    he = presets["relu_he"]
    assert s.grad_rms.min() > 1e5  # every layer's gradient is huge (measured ~1e6-1e7)
    assert s.grad_rms.max() / he.grad_rms.max() > 1e5
    assert s.bias_grad_rms[0] / s.bias_grad_rms[-2] > 1e5  # the signal grows going back
    assert s.spread[-1] / s.spread[0] > 1e5  # and the activations grow going forward
    assert depth_lesson.verdict(s) == "exploding"


def test_training_the_vanishing_net_leaves_its_first_layers_behind():
    p = depth_lesson.PRESETS["vanishing"]
    run = depth_lesson.depth_run(
        p.activation, p.init, p.depth, p.width, steps=128, learning_rate=0.1
    )
    assert run.grad_history.shape == (128, 11)
    assert run.steps == 128 and run.diverged_at == -1
    assert np.all(run.grad_history[:, 0] < 1e-6 * run.grad_history[0, -1])
    assert run.accuracy_after < 0.7


def test_training_the_exploding_net_diverges_at_once():
    p = depth_lesson.PRESETS["exploding"]
    run = depth_lesson.depth_run(
        p.activation, p.init, p.depth, p.width, steps=64, learning_rate=0.1
    )
    assert 0 <= run.diverged_at <= 2
    assert len(run.loss_history) == run.diverged_at + 1


def test_depth_is_checked_and_links_stay_within_the_playground():
    with pytest.raises(ValueError):
        depth_lesson.depth_run("relu", "he", depth_lesson.MAX_LESSON_DEPTH + 1, 8)
    cfg = depth_lesson.depth_playground_config("relu", "he", 16, 64, 1.0, 0.1)
    assert len(cfg.hidden) == depth_lesson.MAX_DEPTH


def test_figures_label_their_axes():
    figs = [
        depth_figures.layer_bars(
            {"a": np.array([1e-9, 1e-3, 1.0])}, title="t", y_title="y", labels="12o"
        ),
        depth_figures.grad_history_figure(np.ones((5, 3))),
        depth_figures.training_loss_figure(np.array([1.0, 0.5])),
        linear_figures.relu_search_figure([1, 2], [0.6, 1.0], 0.95),
        linear_figures.slope_figure(np.arange(3.0), {"m": np.ones(3)}, 2.0),
        linear_figures.collapse_scatter(np.arange(3.0), np.arange(3.0)),
        backprop_figures.cost_figure(backprop.CostReport(1.0, 3.0, 2.0, 6.0)),
        backprop_figures.loss_steps_figure(np.array([2.0, 1.0]), title="t"),
    ]
    for fig in figs:
        assert fig.layout.title.text
        assert fig.layout.xaxis.title.text and fig.layout.yaxis.title.text
    assert figs[0].layout.yaxis.type == "log"  # spans decades
    assert style.log_ticks([3e-11, 1e-2])["tickvals"][0] == pytest.approx(1e-11)
    assert style.log_ticks([0.5, 3])["ticktext"][:3] == ["0.1", "0.2", "0.5"]
    assert (
        backprop_figures.latex_matrix([[1, -0.0001]], 2) == r"\begin{bmatrix}1.00 & 0\end{bmatrix}"
    )
