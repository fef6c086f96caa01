"""The three lesson pages through Streamlit's AppTest: they render, their controls change
the numbers, and the numbers shown are the core's (``playground.lessons``)."""

import base64
import json
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from playground.lessons import backprop
from playground.lessons import depth as depth_lesson
from playground.lessons import linear as linear_lesson
from tests.pages.test_playground_page import app as playground_with

TIMEOUT = 240
ROOT = Path(__file__).resolve().parents[2]


def open_page(path: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=TIMEOUT)
    at.switch_page(path)
    at.run()
    no_exceptions(at)
    return at


def no_exceptions(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def metrics(at: AppTest, label: str) -> list[str]:
    return [m.value for m in at.metric if m.label == label]


def figures(at: AppTest) -> list[dict]:
    return [json.loads(el.proto.spec) for el in at.get("plotly_chart")]


def array(value) -> np.ndarray:
    """A figure's array: Plotly sends NumPy data as base64 with its dtype."""
    if isinstance(value, dict) and "bdata" in value:
        return np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])
    return np.asarray(value)


def links(at: AppTest) -> list[str]:
    """The lessons' Try-it links into the Playground (the app's root), as addresses.
    They are in-app links: same tab, same session (issue 25)."""
    protos = [el.proto for el in at.get("page_link")]
    assert not any(p.external for p in protos)
    return [f"/?{p.query_string}" if p.query_string else "/" for p in protos]


def assert_axes_labelled(figs: list[dict]) -> None:
    for fig in figs:
        layout = fig["layout"]
        assert layout["title"]["text"]
        assert layout["xaxis"]["title"]["text"] and layout["yaxis"]["title"]["text"]


# ---------------------------------------------------------------------------------------
# Why linear models fail


@pytest.fixture(scope="module")
def linear_page() -> AppTest:
    return open_page("app_pages/lesson_linear.py")


def test_linear_page_shows_the_cores_numbers(linear_page):
    at = linear_page
    assert at.title[0].value == "Why linear models fail"
    linear, mlp = linear_lesson.compare_linear_and_mlp("product")
    assert metric(at, "Linear model: test R²") == f"{linear.metric:.3f}"
    assert metric(at, "ReLU network: test R²") == f"{mlp.metric:.3f}"
    assert float(metric(at, "Linear model: test R²")) < 0.1
    assert metric(at, "Parameters (N + 1)·K") == "7,850"
    assert metric(at, "Linear model: spread of its slope over the plane") == "0"
    search = linear_lesson.fewest_relus()
    assert metric(at, "ReLUs it took to solve XOR") == str(search.solved_by)
    assert float(metric(at, "Stack vs one matrix: largest gap")) < 1e-5
    assert metric(at, "Linear, plus x₁·x₂: test accuracy") == "1.000"
    urls = links(at)
    # The Playground is the app's default page: st.navigation serves it at the root.
    assert len(urls) == 6 and all(u.startswith("/?") for u in urls)
    assert f"/?hidden={search.solved_by}" in urls
    assert "/?features=x1%2Cx2%2Cx1x2&hidden=" in urls
    assert_axes_labelled(figures(at))


def test_linear_page_controls_change_the_numbers(linear_page):
    at = linear_page
    at.radio(key="linear_problem").set_value("sum").run()
    no_exceptions(at)
    linear, _ = linear_lesson.compare_linear_and_mlp("sum")
    assert metric(at, "Linear model: test R²") == f"{linear.metric:.3f}"
    assert float(metric(at, "Linear model: test R²")) > 0.99
    at.number_input(key="count_inputs").set_value(2).run()
    at.number_input(key="count_outputs").set_value(3).run()
    assert metric(at, "Parameters (N + 1)·K") == "9"
    at.slider(key="stack_layers").set_value(2).run()
    no_exceptions(at)
    c = linear_lesson.linear_stack_lesson(2, "moons")
    assert metric(at, "Parameters: stack → one matrix") == f"{c.fit.n_params} → 3"
    assert metric(at, "Stack: test accuracy") == f"{c.fit.metric:.3f}"
    # two layers of 8 is the Playground's default width, so the link leaves it out
    assert "/?problem=moons&activation=linear" in links(at)


def test_linear_page_says_why_a_count_is_missing(linear_page):
    at = linear_page
    at.number_input(key="count_inputs").set_value(200_000).run()
    no_exceptions(at)
    assert metric(at, "Parameters (N + 1)·K") == "—"
    assert any("N can be at most 100,000 here" in c.value for c in at.caption)
    at.number_input(key="count_inputs").set_value(4).run()
    outputs = at.number_input(key="count_outputs").value
    assert metric(at, "Parameters (N + 1)·K") == f"{5 * outputs:,}"
    spread = next(m for m in at.metric if m.label.startswith("ReLU network: spread"))
    assert "whole plane" in spread.help and "∂ output/∂x₂" in spread.help


# ---------------------------------------------------------------------------------------
# Backpropagation


def reference_grads(labels) -> np.ndarray:
    """jax.grad of softmax cross-entropy written independently of the app."""

    def loss(params):
        (w1, b1), (w2, b2) = params
        logits = jnp.maximum(jnp.asarray(backprop.QUIZ_X) @ w1 + b1[None, :], 0) @ w2 + b2[None, :]
        picked = jnp.take_along_axis(logits, jnp.asarray(labels)[:, None], axis=1)[:, 0]
        return jnp.mean(jax.nn.logsumexp(logits, axis=1) - picked)

    g = jax.grad(loss)(backprop.quiz_params())
    return np.concatenate([np.ravel(a) for pair in g for a in pair])


def gradient_table(at: AppTest):
    return next(df.value for df in at.dataframe if "jax.grad" in df.value.columns)


@pytest.fixture(scope="module")
def backprop_page() -> AppTest:
    return open_page("app_pages/lesson_backprop.py")


def test_backprop_page_shows_the_quiz_logits_and_checked_gradients(backprop_page):
    at = backprop_page
    assert at.title[0].value == "Backpropagation, step by step"
    forward = at.dataframe[0].value
    np.testing.assert_allclose(
        forward[["logit 0", "logit 1"]].to_numpy(), backprop.QUIZ_LOGITS, atol=1e-4
    )
    table = gradient_table(at)
    expected = reference_grads(np.array(backprop.QUIZ_LABELS))
    assert len(table) == 23
    for column in ("chain rule", "jax.grad", "finite differences"):
        np.testing.assert_allclose(table[column].to_numpy(), expected, atol=2e-6)
    fw = backprop.forward_trace(backprop.quiz_params(), backprop.QUIZ_X, backprop.QUIZ_LABELS)
    assert metric(at, "Mean loss L") == f"{fw.loss:.4f}"
    step = backprop.sgd_step(
        backprop.quiz_params(), backprop.QUIZ_X, backprop.QUIZ_LABELS, (0, 2), 0.01
    )
    assert metric(at, "Minibatch loss before") == f"{step.loss_before:.4f}"
    assert metric(at, "Minibatch loss after one step") == f"{step.loss_after:.4f}"
    # Both ratios are forward + backward over forward, as the bars beside them.
    ratios = metrics(at, "Flops, × forward pass")
    assert ratios == [
        f"{backprop.quiz_cost(backprop.QUIZ_LABELS).flop_ratio:.2f}",
        f"{backprop.toy_cost(64, 4, 256).flop_ratio:.2f}",
    ]
    assert 2.7 < float(ratios[1]) < 3.3
    assert len(metrics(at, "Bytes, × forward pass")) == 2
    # Each cost label differs from the others within what a column shows (~20
    # characters): they were cut to the same words before.
    labels = {m.label for m in at.metric if "forward pass" in m.label}
    assert len(labels) == 2 and len({lb[:20] for lb in labels}) == 2
    # 0.01 is the Playground's default learning rate: the link leaves it out.
    assert links(at) == ["/?features=x1%2Cx2%2Cx1sq%2Cx2sq&hidden=3&optimizer=sgd&batch_size=2"]
    words = " ".join(m.value for m in at.markdown)
    assert "Example 2's row of ∂L/∂Z is all zeros because every ReLU was off" in words
    assert "Example 3's row shows zeros for another reason" in words
    assert_axes_labelled(figures(at))


def test_backprop_page_speaks_of_what_the_learner_sees(backprop_page):
    """The learner has no course notes: the page calls the network a worked example and
    its reference logits "expected", and names neither notes nor a quiz."""
    at = backprop_page
    forward = at.dataframe[0].value
    np.testing.assert_allclose(
        forward[["expected logit 0", "expected logit 1"]].to_numpy(), backprop.QUIZ_LOGITS
    )
    shown = [el.value for kind in (at.markdown, at.subheader, at.caption) for el in kind]
    shown += [str(c) for df in at.dataframe for c in df.value.columns]
    assert any("worked example" in text for text in shown)
    assert not [t for t in shown if "notes" in t.lower() or "quiz" in t.lower()]


def test_backprop_page_controls_change_the_numbers(backprop_page):
    at = backprop_page
    before = gradient_table(at)["chain rule"].to_numpy()
    at.selectbox(key="label_0").set_value(1).run()
    no_exceptions(at)
    after = gradient_table(at)
    assert not np.allclose(after["chain rule"].to_numpy(), before)
    expected = reference_grads(np.array([1, 1, 1]))
    for column in ("chain rule", "jax.grad", "finite differences"):
        np.testing.assert_allclose(after[column].to_numpy(), expected, atol=2e-6)
    at.select_slider(key="sgd_lr").set_value(0.1).run()
    at.multiselect(key="sgd_batch").set_value([2]).run()
    step = backprop.sgd_step(backprop.quiz_params(), backprop.QUIZ_X, (1, 1, 1), (1,), 0.1)
    assert metric(at, "Minibatch loss after one step") == f"{step.loss_after:.4f}"
    assert "learning_rate=0.1&batch_size=1" in links(at)[0]
    at.select_slider(key="cost_width").set_value(16).run()
    at.slider(key="cost_depth").set_value(2).run()
    no_exceptions(at)
    shown = metrics(at, "Flops, × forward pass")[1]
    assert shown == f"{backprop.toy_cost(16, 2, 256).flop_ratio:.2f}"
    at.multiselect(key="sgd_batch").set_value([]).run()
    no_exceptions(at)
    assert any("at least one example" in w.value for w in at.warning)


# ---------------------------------------------------------------------------------------
# Gradients through depth


@pytest.fixture(scope="module")
def gradients_page() -> AppTest:
    return open_page("app_pages/lesson_gradients.py")


def test_gradients_page_shows_vanishing_gradients_by_default(gradients_page):
    at = gradients_page
    assert at.title[0].value == "Gradients through depth"
    p = depth_lesson.PRESETS["vanishing"]
    run = depth_lesson.depth_run(
        p.activation, p.init, p.depth, p.width, steps=128, learning_rate=0.1
    )
    shown = metric(at, "First ÷ last layer")
    assert shown == f"{depth_lesson.first_to_last(run.at_init.grad_rms):.1e}"
    assert float(shown) < 1e-6
    assert metric(at, "Steps kept") == "128"
    figs = figures(at)
    assert_axes_labelled(figs)
    grads = next(f for f in figs if f["layout"]["title"]["text"].startswith("Gradient size per"))
    assert grads["layout"]["yaxis"]["type"] == "log"
    assert len(grads["data"][0]["x"]) == 11  # 10 hidden layers and the output layer
    np.testing.assert_allclose(array(grads["data"][0]["y"]), run.at_init.grad_rms, rtol=1e-6)
    assert any("Vanishing" in m.value for m in at.markdown)


def test_gradients_page_presets_and_controls(gradients_page):
    at = gradients_page
    at.select_slider(key="depth_steps").set_value(64).run()
    at.selectbox(key="depth_preset").set_value("exploding").run()
    no_exceptions(at)
    assert at.selectbox(key="depth_activation").value == "relu"
    assert at.selectbox(key="depth_init").value == "normal"
    assert float(metric(at, "Largest gradient RMS")) > 1e5
    assert any("Exploding" in m.value for m in at.markdown)
    # SGD blew up on the first steps; the warning and "Steps kept" tell the same story.
    kept = metric(at, "Steps kept")
    assert f'so "Steps kept" reads {kept}' in at.warning[0].value
    at.selectbox(key="depth_preset").set_value("relu_he").run()
    shown = float(metric(at, "Hidden max ÷ min"))
    assert shown < 10
    at.slider(key="depth_layers").set_value(3).run()
    at.select_slider(key="depth_width").set_value(16).run()
    at.select_slider(key="depth_steps").set_value(0).run()
    no_exceptions(at)
    run = depth_lesson.depth_run("relu", "he", 3, 16, steps=0)
    assert metric(at, "First ÷ last layer") == (
        f"{depth_lesson.first_to_last(run.at_init.grad_rms):.1e}"
    )
    assert "hidden=16%2C16%2C16&" in links(at)[0]


# ---------------------------------------------------------------------------------------
# Try it in the Playground


@pytest.mark.parametrize("lesson", ["linear_page", "backprop_page", "gradients_page"])
def test_every_try_it_link_lands_on_the_playground_with_its_settings(lesson, request):
    """Each link, followed: the Playground takes every setting without a word of warning
    and writes the same settings back into the address (the browser test follows two)."""
    urls = links(request.getfixturevalue(lesson))
    assert urls
    for url in urls:
        asked = parse_qs(urlparse(url).query)
        at = playground_with(**{key: values[0] for key, values in asked.items()})
        no_exceptions(at)
        assert not at.warning, (url, [w.value for w in at.warning])
        written = {k: v if isinstance(v, list) else [v] for k, v in at.query_params.items()}
        assert written == asked, url
