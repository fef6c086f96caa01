"""The five later lesson pages (and the Playground's code panel) through Streamlit's
AppTest: they render without exceptions, their titles say what they teach, their
controls change the numbers, and the numbers shown are the lesson modules'."""

import numpy as np
import pytest

from playground.core.train import divergence_message
from playground.lessons import export_code, finetune, overfit, sgd, softmax, to_code
from playground.live.session.live_run import LiveRun
from tests.pages.test_lesson_pages import (
    assert_axes_labelled,
    figures,
    links,
    metric,
    metrics,
    no_exceptions,
    open_page,
)


def titles(at) -> str:
    return at.title[0].value


def query(url: str) -> str:
    """The settings part of a link (its path is another page's business)."""
    return url.split("?", 1)[1] if "?" in url else ""


def all_axes_labelled(at) -> None:
    """Every figure has a title and labelled axes (each panel of one with subplots)."""
    assert_axes_labelled(figures(at))
    for fig in figures(at):
        for name, axis in fig["layout"].items():
            if name.startswith(("xaxis", "yaxis")) and name not in ("xaxis", "yaxis"):
                assert axis.get("title", {}).get("text"), name


# -- softmax and cross-entropy -----------------------------------------------------------
@pytest.fixture(scope="module")
def softmax_page():
    return open_page("app_pages/lesson_softmax.py")


def test_softmax_page_shows_the_lessons_numbers(softmax_page):
    at = softmax_page
    assert "softmax" in titles(at)
    steps = softmax.CLASS_STEPS[-1]
    fit = softmax.class_fit(steps)
    r = softmax.read_point(fit, softmax.POINT)
    assert metric(at, "Largest probability at the star") == f"{r.probs.max():.3f}"
    assert metric(at, "Test accuracy of the network") == f"{fit.metric:.3f}"
    table = next(d.value for d in at.dataframe if "probability p" in d.value.columns)
    y = np.eye(len(r.probs))[r.least_likely]  # the class ruled out, by default
    assert r.probs[r.least_likely] < 0.01
    np.testing.assert_allclose(table["cross-entropy: ∂L/∂z"], r.probs - y, atol=1e-6)
    np.testing.assert_allclose(table["probability p"], r.probs, atol=1e-7)
    ce, mse = softmax.retrain("ce"), softmax.retrain("mse")
    n = len(ce.train_loss)
    assert metric(at, "Cross-entropy: gradient size at the start") == f"{ce.grad_norm[0]:.3g}"
    assert metric(at, "Squared error: gradient size at the start") == f"{mse.grad_norm[0]:.3g}"
    assert metric(at, f"Cross-entropy: test accuracy after {n} steps") == "1.000"
    assert float(metric(at, f"Squared error: test accuracy after {n} steps")) < 0.5
    bars = next(
        f for f in figures(at) if f["layout"]["title"]["text"] == "From logits to probabilities"
    )
    assert len(bars["data"]) == 2
    all_axes_labelled(at)
    assert "problem=spiral" in query(links(at)[0])


def test_softmax_page_controls_move_the_star_and_the_true_class(softmax_page):
    at = softmax_page
    at.slider(key="sm_x1").set_value(-3.0).run()
    at.slider(key="sm_x2").set_value(0.0).run()
    at.radio(key="sm_true").set_value(2).run()
    no_exceptions(at)
    r = softmax.read_point(softmax.class_fit(softmax.CLASS_STEPS[-1]), (-3.0, 0.0))
    assert metric(at, "Largest probability at the star") == f"{r.probs.max():.3f}"
    table = next(d.value for d in at.dataframe if "probability p" in d.value.columns)
    np.testing.assert_allclose(table["cross-entropy: ∂L/∂z"], r.probs - np.eye(3)[2], atol=1e-6)
    at.select_slider(key="sm_steps").set_value(0).run()
    no_exceptions(at)
    fit0 = softmax.class_fit(0)
    assert metric(at, "Test accuracy of the network") == f"{fit0.metric:.3f}"


# -- SGD, minibatches and the learning rate ---------------------------------------------------
@pytest.fixture(scope="module")
def sgd_page():
    return open_page("app_pages/lesson_sgd.py")


def test_sgd_page_shows_the_lessons_numbers(sgd_page):
    at = sgd_page
    assert "minibatch" in titles(at)
    base = sgd.base_network()
    units = sgd.default_pair(base)
    sl = sgd.loss_slice(base, units)
    assert metric(at, "Largest stable learning rate, 2 / λ_max") == f"{sl.max_stable_lr:.4g}"
    noise = sgd.gradient_noise(base, sl)
    assert metric(at, "Typical gradient error, batch of 1") == f"{noise.error_at(1):.3g}"
    curve = sgd.batch_curve(0)
    assert metric(at, "full batch (250): training loss") == f"{curve.train_loss[-1]:.4f}"
    big = next(p for p in sgd.lr_paths(base, sl) if p.diverged_at >= 0)
    errors = [e.value for e in at.error]
    assert big.message in errors
    blow = sgd.whole_network_blowup()
    assert divergence_message(blow.diverged_at, sgd.TOO_LARGE_LR) in errors
    all_axes_labelled(at)
    assert "optimizer=sgd" in query(links(at)[0]) and "problem=product" in query(links(at)[0])


def test_sgd_page_pair_choice_cuts_another_slice(sgd_page):
    at = sgd_page
    base = sgd.base_network()
    pair = next(u for u, _ in sgd.pairs_by_shape(base) if u != sgd.default_pair(base))
    at.selectbox(key="sgd_pair").set_value(pair).run()
    no_exceptions(at)
    sl = sgd.loss_slice(base, pair)
    assert metric(at, "Largest stable learning rate, 2 / λ_max") == f"{sl.max_stable_lr:.4g}"
    slice_fig = next(
        f for f in figures(at) if f["layout"]["title"]["text"] == "Paths down the slice"
    )
    assert f"unit {pair[0] + 1}" in slice_fig["layout"]["xaxis"]["title"]["text"]


# -- overfitting and regularisation -----------------------------------------------------------
@pytest.fixture(scope="module")
def overfit_page():
    return open_page("app_pages/lesson_overfit.py")


def test_overfit_page_shows_the_lessons_numbers(overfit_page):
    at = overfit_page
    assert "overfit" in titles(at)
    for m, label in overfit.METHODS.items():
        r = overfit.regularised(m)
        assert metric(at, f"{label}: gap (test − training loss)") == f"{r.gap:.3f}"
    none = overfit.regularised("none")
    assert metric(at, "Test loss") == f"{none.test_loss:.3f}"
    for kind, label in overfit.SPARSE_LABELS.items():
        s = overfit.sparse(kind)
        assert metric(at, f"{label}: exactly zero") == f"{s.exact_zeros:,}"
        assert metric(at, f"{label}: weights below 0.001") == f"{s.count_below(1e-3):,}"
    assert int(metric(at, "L1, proximal step: exactly zero").replace(",", "")) > 1000
    table = next(d.value for d in at.dataframe if "gap" in d.value.columns)
    assert table.loc["early stopping", "gap"] == pytest.approx(overfit.regularised("early").gap)
    all_axes_labelled(at)
    link = query(links(at)[0])
    assert "reg=l2" in link and "reg_rate=0.01" in link and "problem=moons" in link


def test_overfit_page_rates_retrain(overfit_page):
    at = overfit_page
    at.select_slider(key="of_l2").set_value(1e-3).run()
    at.select_slider(key="of_dropout").set_value(0.7).run()
    no_exceptions(at)
    assert metric(at, "L2 penalty: gap (test − training loss)") == (
        f"{overfit.regularised('l2', 1e-3).gap:.3f}"
    )
    assert metric(at, "dropout: gap (test − training loss)") == (
        f"{overfit.regularised('dropout', 0.7).gap:.3f}"
    )
    assert "reg=l2" in query(links(at)[0])  # the rate 0.001 is the Playground's default


# -- saving, restoring and fine-tuning ---------------------------------------------------------
@pytest.fixture(scope="module")
def finetune_page():
    return open_page("app_pages/lesson_finetune.py")


def test_finetune_page_shows_the_lessons_numbers(finetune_page):
    at = finetune_page
    assert "fine-tun" in titles(at)
    r = finetune.save_and_restore("grow")
    assert metric(at, "Size of the model file") == f"{len(r.file):,} bytes"
    assert metric(at, "Largest difference in prediction over 100×100 points") == "0"
    race = finetune.race("grow", finetune.DEFAULT_AMOUNT["grow"])
    for mode, label in finetune.MODES.items():
        assert metric(at, f"Steps to 98%: {label}") == str(race.steps_to_target(mode))
    assert int(metric(at, "Steps to 98%: fine-tune all layers")) < int(
        metric(at, "Steps to 98%: from scratch")
    )
    shown = metric(at, "Loss of the saved model on the changed training points")
    assert shown == f"{race.saved_loss:.4f}"
    all_axes_labelled(at)
    assert "problem=circle" in query(links(at)[0])


def test_finetune_page_other_change(finetune_page):
    at = finetune_page
    at.radio(key="ft_change").set_value("rotate").run()
    no_exceptions(at)
    race = finetune.race("rotate", finetune.DEFAULT_AMOUNT["rotate"])
    steps = race.steps_to_target("all")
    assert metric(at, "Steps to 98%: fine-tune all layers") == str(steps)
    assert "problem=" not in query(links(at)[0])  # XOR is the Playground's default problem


# -- the network as code ----------------------------------------------------------------------
def code_blocks(at) -> list[str]:
    return [c.value.strip() for c in at.code]


def test_code_page_shows_an_example_and_checks_it():
    at = open_page("app_pages/lesson_code.py")
    assert titles(at) == "From the playground to code"
    blocks = code_blocks(at)
    assert any("keras.Sequential([" in b for b in blocks)
    assert any("def predict(params, points):" in b for b in blocks)
    run = to_code.example_run()
    assert metric(at, "Largest difference from the app's predictions") == (
        f"{to_code.check_on_grid(run):.2g}"
    )
    assert float(metric(at, "Largest difference from the app's predictions")) < 1e-5
    assert [b.proto.label for b in at.get("download_button")] == [
        "Model weights (playground-xor.npz)"
    ]


def test_code_page_shows_the_sessions_playground_network():
    from streamlit.testing.v1 import AppTest

    from tests.pages.test_lesson_pages import ROOT, TIMEOUT

    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=TIMEOUT)
    live = LiveRun(to_code.EXAMPLE_CFG.replace(problem="circle", hidden=(5,), activation="tanh"))
    at.session_state["run"] = live
    at.switch_page("app_pages/lesson_code.py")
    at.run()
    no_exceptions(at)
    assert any("your Playground page" in s.value for s in at.success)
    spec = live.spec
    assert export_code.keras_code(spec, "playground-circle.npz", "circle").strip() in code_blocks(
        at
    )
    assert export_code.jax_code(spec, "playground-circle.npz", "circle").strip() in code_blocks(at)
    assert float(metric(at, "Largest difference from the app's predictions")) < 1e-5


def test_playground_page_offers_its_network_as_code():
    at = open_page("app_pages/playground.py")
    blocks = code_blocks(at)
    assert any("layers.Dense(8" in b for b in blocks)
    assert any("jax.nn.relu" in b for b in blocks)
    assert any(e.label == "Your network as code (Keras, JAX)" for e in at.expander)
    assert metrics(at, "Epoch")
