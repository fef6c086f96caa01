"""Lesson page: softmax turns logits into probabilities; cross-entropy scores them.

Widgets -> ``playground.lessons.softmax`` (cached by plain arguments) ->
``playground.figures.lesson_softmax``. Every number shown comes from the lesson module.
"""

import pandas as pd
import streamlit as st

from playground.figures import lesson_linear as linear_figures
from playground.figures import lesson_softmax as sf
from playground.lessons import softmax
from playground.ui import pages
from playground.ui.links import try_it


@st.cache_data(show_spinner="Training the three-class network…", max_entries=4)
def class_fit(steps: int):
    return softmax.class_fit(steps)


@st.cache_data(max_entries=64)
def readout(steps: int, x1: float, x2: float):
    return softmax.read_point(class_fit(steps), (x1, x2))


@st.cache_data(max_entries=64)
def gradients(steps: int, x1: float, x2: float, true_class: int):
    return softmax.class_gradients(readout(steps, x1, x2).logits[None, :], [true_class])


@st.cache_data
def sweep():
    return softmax.logit_sweep()


@st.cache_data(show_spinner="Training XOR, turning it upside down, training it back…")
def retrain(loss: str):
    return softmax.retrain(loss)


def class_names(fit) -> list[str]:
    return list(fit.data.class_names or [str(k) for k in range(fit.spec.n_classes)])


def section_softmax() -> tuple[int, float, float]:
    st.header("1 · From logits to probabilities")
    st.markdown(
        "A network that sorts points into K classes ends in K numbers, one per class: the "
        "**logits**. They can be any real numbers, so they are not probabilities yet. "
        "**Softmax** makes them so: raise e to each logit (now every number is positive) "
        "and divide by their sum (now they add up to 1). The largest logit gets the "
        "largest share; a logit a few units above the others takes nearly everything."
    )
    st.latex(r"p_k = \frac{e^{z_k}}{e^{z_1} + e^{z_2} + \dots + e^{z_K}}")
    st.markdown(
        "Below, a network of three hidden layers of 16 ReLUs learns the three-arm spiral. "
        "Move the star to read its three logits and probabilities at any point."
    )
    a, b, c = st.columns(3)
    steps = a.select_slider(
        "Training steps (Adam)", softmax.CLASS_STEPS, value=softmax.CLASS_STEPS[-1], key="sm_steps"
    )
    x1 = b.slider("Point: x₁", -6.0, 6.0, softmax.POINT[0], 0.25, key="sm_x1")
    x2 = c.slider("Point: x₂", -6.0, 6.0, softmax.POINT[1], 0.25, key="sm_x2")
    fit = class_fit(steps)
    r = readout(steps, x1, x2)
    left, right = st.columns(2)
    with left:
        title = f"Predicted class after {steps} steps"
        st.plotly_chart(
            linear_figures.prediction_map(fit, title, lines=[sf.point_marker(r.point)]),
            key="sm_map",
        )
    with right:
        st.plotly_chart(
            sf.logits_and_probs_figure(r.logits, r.probs, class_names(fit)), key="sm_bars"
        )
        m1, m2 = st.columns(2)
        m1.metric("Largest probability at the star", f"{r.probs.max():.3f}")
        m2.metric("Test accuracy of the network", f"{fit.metric:.3f}")
    st.caption(
        "Before training (0 steps) the weights are random: the network is sure in some "
        "places and undecided in others, and mostly wrong. At the origin it gives exactly a "
        "third to each class: every bias starts at zero, so all three logits are 0 there. "
        "Training moves the logits until the right class gets the largest share."
    )
    return steps, x1, x2


def section_temperature(steps: int, x1: float, x2: float) -> None:
    st.header("2 · The temperature of the logits")
    st.markdown(
        "Divide every logit by a number T before the softmax. T above 1 shrinks the gaps "
        "between the logits and evens the probabilities out; T below 1 widens the gaps "
        "and pushes the top class towards 100%. The order of the classes never changes, "
        "so neither does the predicted class: temperature changes how sure the network "
        "sounds, not what it says. (Language models sample their words this way.)"
    )
    fit = class_fit(steps)
    r = readout(steps, x1, x2)
    probs = softmax.with_temperature(r.logits)
    st.plotly_chart(
        sf.temperature_figure(probs, softmax.TEMPERATURES, class_names(fit)), key="sm_temperature"
    )


def section_gradients(steps: int, x1: float, x2: float) -> None:
    st.header("3 · What each loss sends back")
    st.markdown(
        "**Cross-entropy** scores the probabilities with −log(probability of the right "
        "class): 0 when the network gives the right class 100%, large when it gives it "
        "almost nothing. Its gradient with respect to the logits is as simple as a "
        "gradient gets: **probabilities minus the one-hot answer** (divided by the "
        "number of points N, as the loss is a mean). The more wrong, the harder the push."
    )
    st.latex(r"\frac{\partial L}{\partial z_k} = \frac{p_k - y_k}{N}")
    fit = class_fit(steps)
    names = class_names(fit)
    true_class = st.radio(
        "Suppose the star's true class is",
        range(len(names)),
        index=readout(steps, x1, x2).least_likely,
        format_func=lambda k: f"class {names[k]}",
        horizontal=True,
        key="sm_true",
    )
    g = gradients(steps, x1, x2, true_class)
    one_hot = [1.0 if k == true_class else 0.0 for k in range(len(names))]
    table = pd.DataFrame(
        {
            "probability p": g.probs[0],
            "one-hot answer y": one_hot,
            "cross-entropy: ∂L/∂z": g.ce[0],
            "squared error through softmax: ∂L/∂z": g.mse[0],
        },
        index=[f"class {n}" for n in names],
    )
    st.dataframe(table, key="sm_gradients")
    st.markdown(
        "Squared error on the probabilities looks just as reasonable, but its gradient "
        "has to pass back through the softmax (or, with two classes, the sigmoid), and "
        "that squashing function is nearly flat when it is sure. When the network is "
        "confidently wrong, the probability of the right class is near 0, the slope there "
        "is near 0, and the gradient vanishes exactly when it is needed most. The table "
        "starts with the class the network rules out at the star: compare the two gradient "
        "columns, then pick the class it favours."
    )
    st.plotly_chart(sf.sweep_figure(sweep(), LABELS), key="sm_sweep")
    st.markdown(
        "For **values** (regression) the last layer has no squashing function: the output "
        "is the prediction itself, and squared error's gradient, 2·(prediction − target), "
        "grows with the error. That is why we use squared error for values and "
        "cross-entropy for classes: each sends back a gradient that grows with the mistake."
    )


LABELS = {
    "ce": "cross-entropy through the sigmoid: p − y",
    "mse_sigmoid": "squared error through the sigmoid: 2(p − y)·p(1 − p)",
    "mse_value": "squared error on a value: 2(z − y)",
}


def section_race() -> None:
    st.header("4 · One network, two losses")
    ce, mse = retrain("ce"), retrain("mse")
    n = len(ce.train_loss)
    st.markdown(
        "A network of two layers of 8 ReLUs learns XOR perfectly. Then we flip the sign of "
        "its output layer: every answer is now wrong, and just as confident as before. "
        f"From there we train it back for {n} steps of plain gradient descent (learning "
        f"rate {ce.learning_rate:g}, all training points each step), once with "
        "cross-entropy and once with squared error through the sigmoid."
    )
    m = st.columns(2)
    m[0].metric("Cross-entropy: gradient size at the start", f"{ce.grad_norm[0]:.3g}")
    m[1].metric("Squared error: gradient size at the start", f"{mse.grad_norm[0]:.3g}")
    m[0].metric(f"Cross-entropy: test accuracy after {n} steps", f"{ce.test_accuracy[-1]:.3f}")
    m[1].metric(f"Squared error: test accuracy after {n} steps", f"{mse.test_accuracy[-1]:.3f}")
    left, right = st.columns(2)
    names = [softmax.LOSSES[r.loss] for r in (ce, mse)]
    with left:
        acc = dict(zip(names, (ce.test_accuracy, mse.test_accuracy), strict=True))
        st.plotly_chart(
            sf.race_figure(acc, title="Test accuracy", y_title="test accuracy", log=False),
            key="sm_race_acc",
        )
    with right:
        grad = dict(zip(names, (ce.grad_norm, mse.grad_norm), strict=True))
        st.plotly_chart(
            sf.race_figure(grad, title="Size of the gradient", y_title="gradient norm", log=True),
            key="sm_race_grad",
        )
    cols = st.columns(3)
    for col, fit, title, key in (
        (cols[0], ce.start, "Start: confidently wrong", "sm_map_start"),
        (cols[1], ce.end, f"Cross-entropy, {n} steps later", "sm_map_ce"),
        (cols[2], mse.end, f"Squared error, {n} steps later", "sm_map_mse"),
    ):
        with col:
            st.plotly_chart(
                linear_figures.prediction_map(fit, title, height=320, legend=False), key=key
            )
    st.caption(
        "Orange points are class 0, blue points class 1; the background is the network's "
        "P(class 1). Cross-entropy's gradient is largest where the network is most wrong, so it "
        "recovers within a few steps. Squared error's gradient is multiplied by the "
        "sigmoid's slope p(1 − p), which is tiny where the network is sure, and the network "
        "barely moves."
    )


def page() -> None:
    pages.heading(__file__)
    st.markdown(
        'How does a network say "class 2, I\'m 90% sure"? And why do classifiers train '
        "with cross-entropy rather than the squared error we use for values? This page "
        "follows a classifier's last step: from raw scores to probabilities to the loss, "
        "and back to the gradient that trains it."
    )
    steps, x1, x2 = section_softmax()
    section_temperature(steps, x1, x2)
    section_gradients(steps, x1, x2)
    section_race()
    st.divider()
    st.markdown(
        "The Playground trains every classification problem with softmax cross-entropy "
        "(a sigmoid for two classes). Train the spiral live:"
    )
    try_it(softmax.playground_config())


page()
