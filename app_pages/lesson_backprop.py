"""Lesson page: backpropagation on a small worked example, one block at a time.

The example is the course notes' quiz network; the learner has no notes, so the page calls
it a worked example and its reference logits "expected".

Widgets -> ``playground.lessons`` -> LaTeX, tables and ``playground.figures.lesson_linear``.
Every number shown comes from the core; compiled pieces are cached by plain arguments.
"""

import pandas as pd
import streamlit as st

from playground.figures import lesson_backprop as backprop_figures
from playground.lessons import backprop
from playground.ui import pages
from playground.ui.links import try_it

LEARNING_RATES = (0.001, 0.003, 0.01, 0.03, 0.1, 0.3)
REPEATS = 20


@st.cache_data(max_entries=16)
def traces(labels: tuple[int, ...]):
    params = backprop.quiz_params()
    fw = backprop.forward_trace(params, backprop.QUIZ_X, labels)
    return fw, backprop.chain_rule_backward(params, fw)


@st.cache_data(show_spinner="Checking every gradient three ways…", max_entries=16)
def gradient_check(labels: tuple[int, ...]):
    return backprop.gradient_check(backprop.quiz_params(), backprop.QUIZ_X, labels)


@st.cache_data(max_entries=64)
def sgd(labels: tuple[int, ...], batch: tuple[int, ...], learning_rate: float):
    params = backprop.quiz_params()
    step = backprop.sgd_step(params, backprop.QUIZ_X, labels, batch, learning_rate)
    curve = backprop.sgd_losses(params, backprop.QUIZ_X, labels, batch, learning_rate, REPEATS)
    return step, curve


@st.cache_data(show_spinner="Compiling and asking XLA for its counts…", max_entries=16)
def quiz_cost(labels: tuple[int, ...]):
    return backprop.quiz_cost(labels)


@st.cache_data(show_spinner="Compiling and asking XLA for its counts…", max_entries=32)
def toy_cost(width: int, depth: int, batch: int):
    return backprop.toy_cost(width, depth, batch)


def latex(name: str, value, digits: int = 2) -> None:
    st.latex(f"{name} = {backprop_figures.latex_matrix(value, digits)}")


def latex_row(*items) -> None:
    """Several small 'name = matrix' items on one line: (name, value, digits) each."""
    st.latex(r" \qquad ".join(f"{n} = {backprop_figures.latex_matrix(v, d)}" for n, v, d in items))


def pick_labels() -> tuple[int, ...]:
    st.markdown(
        "To get gradients we need a loss, and for a loss we need the right answers. "
        "Choose the class of each example; the loss is the mean softmax cross-entropy."
    )
    cols = st.columns(3)
    return tuple(
        cols[i].selectbox(
            f"Class of example {i + 1}", (0, 1), index=backprop.QUIZ_LABELS[i], key=f"label_{i}"
        )
        for i in range(3)
    )


def section_forward(labels) -> None:
    fw, _ = traces(labels)
    st.header("1 · Forward pass")
    st.markdown(
        "A worked example: a network of 4 inputs, a hidden layer of 3 ReLUs and 2 "
        "outputs, all biases zero. Each row of X is one example."
    )
    latex_row(("X", fw.x, 0), ("W_1", backprop.QUIZ_W1, 1), ("W_2", backprop.QUIZ_W2, 1))
    latex("Z = X W_1", fw.z, 2)
    latex(r"H = \mathrm{ReLU}(Z) = \max(Z, 0)", fw.h, 2)
    latex(r"\text{logits} = H W_2", fw.logits, 2)
    st.markdown(
        "Example 2 is the negative of example 1, so all its pre-activations are negative: "
        "its three ReLUs are off and its logits are exactly zero. The logits match the "
        "expected ones, worked out by hand to two decimals:"
    )
    table = pd.DataFrame(
        {
            "logit 0": fw.logits[:, 0],
            "logit 1": fw.logits[:, 1],
            "expected logit 0": backprop.QUIZ_LOGITS[:, 0],
            "expected logit 1": backprop.QUIZ_LOGITS[:, 1],
            "P(class 0)": fw.probs[:, 0],
            "P(class 1)": fw.probs[:, 1],
            "class": fw.labels,
            "loss": fw.losses,
        },
        index=[f"example {i + 1}" for i in range(len(fw.labels))],
    )
    st.dataframe(table, key="forward_table")
    st.metric("Mean loss L", f"{fw.loss:.4f}")


ZERO_ROW_WORDS = {
    "relu": "Example {example}'s row of ∂L/∂Z is all zeros because every ReLU was off for "
    "it (Z ≤ 0): it sends nothing back to W₁.",
    "confident": "Example {example}'s row shows zeros for another reason: the network "
    "already gives its class a probability of {probability:.6f}, so P − Y, and every "
    "gradient it sends back, is tiny (at most {largest:.1e}).",
}


def section_backward(labels) -> None:
    fw, bw = traces(labels)
    n = len(fw.labels)
    st.header("2 · Backward pass, block by block")
    st.markdown(
        "The chain rule says: the derivative of a chain of blocks is the product of each "
        "block's own (local) derivative. Backpropagation starts at the loss and walks the "
        "chain backwards; each block takes the gradient arriving from above, multiplies "
        "by its local derivative and passes the result down."
    )
    st.subheader("Loss block: softmax and cross-entropy")
    st.markdown(
        f"For the mean over {n} examples, the gradient with respect to the logits is "
        "(probabilities − one-hot answers) / N."
    )
    latex(
        rf"\frac{{\partial L}}{{\partial\,\text{{logits}}}} = \frac{{P - Y}}{{{n}}}", bw.d_logits, 4
    )
    st.subheader("Output layer: logits = H W₂ + b₂")
    st.markdown(
        "Its local derivatives are H (for W₂), 1 (for b₂) and W₂ (for H). So W₂'s "
        "gradient is Hᵀ times the incoming gradient, b₂'s is its column sum, and what "
        "goes further down is the incoming gradient times W₂ᵀ."
    )
    latex(
        r"\frac{\partial L}{\partial W_2} = H^\top \frac{\partial L}{\partial\,\text{logits}}",
        bw.d_w2,
        4,
    )
    latex(r"\frac{\partial L}{\partial b_2} = \sum_{\text{examples}}", bw.d_b2, 4)
    latex(
        r"\frac{\partial L}{\partial H} = \frac{\partial L}{\partial\,\text{logits}} W_2^\top",
        bw.d_h,
        4,
    )
    st.subheader("ReLU block: H = max(Z, 0)")
    st.markdown(
        "A ReLU's derivative is 1 where its input was positive and 0 where it was not: it "
        "either passes the gradient through unchanged or blocks it."
    )
    latex(r"\mathrm{ReLU}'(Z) = [Z > 0]", bw.relu_slope, 0)
    latex(
        r"\frac{\partial L}{\partial Z} = \frac{\partial L}{\partial H} \odot [Z > 0]",
        bw.d_z,
        4,
    )
    for row in backprop.zero_gradient_rows(fw, bw, digits=4):
        st.markdown(f"- {ZERO_ROW_WORDS[row.reason].format(**row._asdict())}")
    st.subheader("Hidden layer: Z = X W₁ + b₁")
    st.markdown("The same rule as the output layer, with X in place of H.")
    latex(r"\frac{\partial L}{\partial W_1} = X^\top \frac{\partial L}{\partial Z}", bw.d_w1, 4)
    latex(r"\frac{\partial L}{\partial b_1} = \sum_{\text{examples}}", bw.d_b1, 4)


def section_check(labels) -> None:
    check = gradient_check(labels)
    st.header("3 · Check every gradient")
    st.markdown(
        "The same 23 gradients three ways: by hand with the chain rule (above), by "
        "`jax.grad` (automatic differentiation of the engine's forward pass and loss), and "
        "by central finite differences: nudge one parameter by ±10⁻⁶, rerun the forward "
        "pass in float64 and divide the change in the loss by the nudge."
    )
    m1, m2 = st.columns(2)
    m1.metric("Largest gap: chain rule vs jax.grad", f"{check.max_gap_autodiff:.1e}")
    m2.metric("Largest gap: chain rule vs finite differences", f"{check.max_gap_finite_diff:.1e}")
    table = pd.DataFrame(
        {
            "chain rule": check.chain_rule,
            "jax.grad": check.autodiff,
            "finite differences": check.finite_diff,
        },
        index=check.names,
    )
    st.dataframe(table, key="gradient_table", height=300)


def section_sgd(labels) -> None:
    st.header("4 · One SGD step")
    st.markdown(
        "Stochastic gradient descent repeats four moves on a small batch of examples: run "
        "forward, run backward, move every weight a little against its gradient "
        "(W ← W − η·∂L/∂W), and see the new loss. Pick the minibatch and the step size η."
    )
    left, right = st.columns(2)
    picked = left.multiselect(
        "Examples in the minibatch", (1, 2, 3), default=(1, 3), key="sgd_batch"
    )
    lr = right.select_slider("Learning rate η", LEARNING_RATES, value=0.01, key="sgd_lr")
    if not picked:
        st.warning("Pick at least one example for the minibatch.")
        return None
    batch = tuple(sorted(i - 1 for i in picked))
    step, curve = sgd(labels, batch, lr)
    m1, m2, m3 = st.columns(3)
    m1.metric("Minibatch loss before", f"{step.loss_before:.4f}")
    m2.metric(
        "Minibatch loss after one step",
        f"{step.loss_after:.4f}",
        delta=f"{step.loss_after - step.loss_before:+.4f}",
        delta_color="inverse",
    )
    m3.metric("Loss on all 3 examples after", f"{step.all_loss_after:.4f}")
    (gw1, _), (gw2, _) = step.grads
    (w1, _), (w2, _) = step.params_after
    latex_row(
        (r"\frac{\partial L_{\text{batch}}}{\partial W_1}", gw1, 3),
        (r"\frac{\partial L_{\text{batch}}}{\partial W_2}", gw2, 3),
    )
    latex_row(
        (r"W_1 - \eta \frac{\partial L_{\text{batch}}}{\partial W_1}", w1, 3),
        (r"W_2 - \eta \frac{\partial L_{\text{batch}}}{\partial W_2}", w2, 3),
    )
    st.plotly_chart(
        backprop_figures.loss_steps_figure(curve, title=f"The same step repeated {REPEATS} times"),
        key="sgd_curve",
    )
    st.caption(
        "A big η can overshoot: the loss may go up instead of down. Try 0.3 with examples 1 and 3."
    )
    return batch, lr


def section_cost(labels) -> None:
    st.header("5 · What the backward pass costs")
    st.markdown(
        "For each layer the forward pass does one matrix product. The backward pass does "
        "two: one for the weights' gradient and one to hand the gradient to the layer "
        "below (the first layer skips the second). So we expect the backward pass to cost "
        "about twice the forward pass, and both together about three times (the ratios "
        "and bars below). Here we let "
        "XLA compile the loss alone, and the loss with its gradient, and read its own "
        "count of floating-point operations and bytes moved."
    )
    left, right = st.columns(2)
    with left:
        st.subheader("The worked example")
        report = quiz_cost(labels)
        show_cost(report, "quiz")
        st.caption(
            "So small that the softmax, the loss and the bookkeeping weigh as much as the "
            "matrix products: the ratio is off."
        )
    with right:
        st.subheader("A Playground network")
        a, b, c = st.columns(3)
        width = a.select_slider("Width", (8, 16, 32, 64, 128, 256), value=64, key="cost_width")
        depth = b.slider("Hidden layers", 1, 8, 4, key="cost_depth")
        batch = c.select_slider("Batch", (10, 32, 100, 256, 1000), value=256, key="cost_batch")
        show_cost(toy_cost(width, depth, batch), "toy")
        st.caption("2 inputs → ReLU layers → 1 logit, binary cross-entropy, XOR points.")


def show_cost(report, key: str) -> None:
    """Forward + backward over forward, in flops and in bytes: what the bars show."""
    m1, m2 = st.columns(2)
    m1.metric(
        "Flops, × forward pass",
        f"{report.flop_ratio:.2f}",
        help=f"Forward + backward over the forward pass alone; the backward pass alone: "
        f"{report.backward_flop_ratio:.2f} × the forward pass.",
    )
    m2.metric(
        "Bytes, × forward pass",
        f"{report.bytes_ratio:.2f}",
        help="Bytes read and written by forward + backward, over the forward pass alone.",
    )
    st.plotly_chart(backprop_figures.cost_figure(report), key=f"cost_{key}")


def page() -> None:
    pages.heading(__file__)
    st.markdown(
        "A network is a chain of simple blocks: matrix products, additions, ReLUs, a "
        "loss. Each block has an easy derivative, and the chain rule strings them "
        "together. On this page we follow one small network by hand, number by number, "
        "then check our arithmetic against JAX."
    )
    labels = pick_labels()
    section_forward(labels)
    section_backward(labels)
    section_check(labels)
    chosen = section_sgd(labels)
    section_cost(labels)
    batch, lr = chosen or ((0, 2), 0.01)
    st.divider()
    st.markdown(
        "The Playground's nearest network: 4 input features (x₁, x₂, x₁², x₂²) into 3 "
        "ReLUs, trained with the same plain SGD, step size and batch size."
    )
    try_it(backprop.playground_quiz_config(len(batch), lr))


page()
