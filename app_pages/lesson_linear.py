"""Lesson page: why linear models fail, and what a few ReLUs change.

Widgets -> ``playground.lessons`` -> ``playground.figures.lesson_linear``. Training runs in
``st.cache_data`` functions of plain arguments, so a page revisit costs nothing.
"""

import streamlit as st

from playground.core.datasets import PROBLEMS
from playground.figures import lesson_backprop as backprop_figures
from playground.figures import lesson_linear as linear_figures
from playground.figures import traces
from playground.lessons import linear as linear_lesson
from playground.ui import pages
from playground.ui.links import try_it


@st.cache_data(show_spinner="Training the linear model and the ReLU network…", max_entries=6)
def compare(problem: str):
    return linear_lesson.compare_linear_and_mlp(problem)


@st.cache_data(show_spinner="Training a stack of linear layers…", max_entries=8)
def linear_stack(n_layers: int, problem: str):
    return linear_lesson.linear_stack_lesson(n_layers, problem)


@st.cache_data(show_spinner="Measuring slopes…", max_entries=6)
def slopes(problem: str, x2: float):
    linear, mlp = compare(problem)
    x1, s_linear = linear_lesson.slope_along_line(linear, x2)
    _, s_mlp = linear_lesson.slope_along_line(mlp, x2)
    return x1, s_linear, s_mlp, linear_lesson.slope_range(linear), linear_lesson.slope_range(mlp)


@st.cache_data(show_spinner="Training linear models on XOR…")
def xor_linear_models():
    raw = linear_lesson.train_fit(linear_lesson.linear_config("xor"))
    with_product = linear_lesson.train_fit(
        linear_lesson.linear_config("xor", linear_lesson.PRODUCT_FEATURES)
    )
    return raw, with_product


@st.cache_data(show_spinner="Training one hidden layer of 1, 2, 3, … ReLUs on XOR…")
def relu_search():
    return linear_lesson.fewest_relus()


@st.cache_data(max_entries=8)
def relu_bends(width: int):
    search = relu_search()
    return linear_lesson.relu_bends(search.fits[search.widths.index(width)])


MAX_INPUTS, MAX_OUTPUTS = 100_000, 1000  # what the parameter count takes


def metric_label(fit) -> str:
    return "test R²" if fit.task == "regression" else "test accuracy"


def show_fit(fit, title: str, name: str, key: str) -> None:
    st.metric(f"{name}: {metric_label(fit)}", f"{fit.metric:.3f}")
    st.plotly_chart(linear_figures.prediction_map(fit, title), key=f"map_{key}")
    st.caption(f"{fit.n_params} parameters · test loss {fit.test_loss:.4f}")
    try_it(fit.cfg)


PROBLEM_STORY = {
    "sum": (
        "The target x₁ + x₂ is itself a tilted plane, so the linear model can match it exactly. "
        "The ReLU network gets there too, with far more parameters."
    ),
    "product": (
        "The target x₁·x₂ is a saddle: it rises along one diagonal and falls along the other. "
        "A plane can tilt one way only, so the best it can do is stay flat near zero "
        "(R² ≈ 0). The ReLU network folds the plane along a few lines and follows the saddle."
    ),
    "xor": (
        "The classes follow the sign of x₁·x₂: top-right and bottom-left against the other "
        "two corners. A linear model's boundary is one straight line, and no line puts both "
        "blue corners on one side and both orange corners on the other: the best line gets "
        "three corners of four right, and gradient descent does not even find that one. "
        "The ReLU network bends its boundary around the corners."
    ),
}


def section_compare() -> str:
    st.header("1 · Same points, two models")
    st.markdown(
        "A linear model multiplies each input by a weight, adds them up and adds a bias. "
        "Over the plane its output is a flat, tilted sheet, and its class boundary a "
        "straight line. Next to it: a small network with two hidden layers of 8 ReLUs. "
        f"Both are trained the same way ({linear_lesson.LESSON_STEPS} steps of Adam)."
    )
    problem = st.radio(
        "Problem",
        linear_lesson.COMPARE_PROBLEMS,
        index=linear_lesson.COMPARE_PROBLEMS.index("product"),
        format_func=lambda p: PROBLEMS[p].label,
        horizontal=True,
        key="linear_problem",
    )
    linear, mlp = compare(problem)
    left, right = st.columns(2)
    with left:
        show_fit(linear, "Linear model (no hidden layer)", "Linear model", "linear")
    with right:
        show_fit(mlp, "ReLU network (8, 8)", "ReLU network", "mlp")
    st.info(PROBLEM_STORY[problem])
    return problem


def section_stack() -> None:
    st.header("2 · Stacking linear layers does not help")
    st.markdown(
        "What if we stack many linear layers? Below, a network of hidden layers with *no* "
        "activation (the identity) is trained on two classes. Each layer sends h to h·W + b, and "
        "the next layer sees (h·W₁ + b₁)·W₂ + b₂ = h·(W₁W₂) + (b₁W₂ + b₂): multiplying the "
        "matrices out leaves one matrix and one bias. However deep the stack, it is one "
        "linear model in disguise."
    )
    left, right = st.columns(2)
    problem = left.radio(
        "Problem",
        linear_lesson.STACK_PROBLEMS,
        format_func=lambda p: PROBLEMS[p].label,
        horizontal=True,
        key="stack_problem",
    )
    n_layers = right.slider(
        "Linear layers in the stack (8 units each)", 1, 6, 3, key="stack_layers"
    )
    c = linear_stack(n_layers, problem)
    chain = " · ".join(f"{a}×{b}" for a, b in c.shapes)
    st.markdown(f"Matrix shapes, input to output: **{chain} = {c.w.shape[0]}×{c.w.shape[1]}**")
    product, bias = backprop_figures.latex_matrix(c.w, 4), backprop_figures.latex_matrix(c.b, 4)
    st.latex(rf"W_1 W_2 \cdots W_{{{len(c.shapes)}}} = {product}, \qquad b = {bias}")
    m1, m2, m3 = st.columns(3)
    m1.metric("Stack: test accuracy", f"{c.fit.metric:.3f}")
    m2.metric(
        "Stack vs one matrix: largest gap",
        f"{c.max_difference:.1e}",
        help="Over the test points and the whole map grid; float32 rounding only.",
    )
    m3.metric("Parameters: stack → one matrix", f"{c.fit.n_params} → {c.w.size + c.b.size}")
    left, right = st.columns(2)
    fit = c.fit
    lines = [traces.contour_trace(fit.xs, fit.ys, fit.grid, 0.5, "the stack's 50% boundary")]
    if c.boundary is not None:
        lines.append(traces.segment_trace(c.boundary, "single matrix: W·x + b = 0"))
    with left:
        title = "The stack's output and its boundary"
        st.plotly_chart(linear_figures.prediction_map(fit, title, lines=lines), key="map_stack")
    with right:
        st.plotly_chart(
            linear_figures.collapse_scatter(c.stack_out, c.single_out), key="stack_scatter"
        )
    st.caption(
        "The stack's 50% boundary (solid) and the single matrix's line W·x + b = 0 "
        "(dashed) lie on top of each other: one straight boundary, whatever the depth. "
        "On XOR the best straight line is nearly useless, so training pushes it towards "
        "the edge of the plane (or out of it)."
    )
    try_it(c.fit.cfg)


def section_cheap(problem: str) -> None:
    st.header("3 · Why we still like linear models")
    mnist = linear_lesson.linear_param_count(
        linear_lesson.MNIST_INPUTS, linear_lesson.MNIST_CLASSES
    )
    st.markdown(
        "Linear models are cheap: with N inputs and K outputs there is one weight per "
        "input-output pair plus one bias per output, **(N + 1)·K** numbers, and running them "
        "is one matrix product, the thing GPUs do best. A 28×28 image flattened to 784 "
        "inputs, with 10 classes, gives 785 × 10 = "
        f"{mnist} parameters."
    )
    a, b, c = st.columns(3)
    # No upper bound on the boxes: out of range, the count says why instead of the box
    # silently keeping its old value (and the count an old number).
    n = a.number_input("Inputs N", 1, None, linear_lesson.MNIST_INPUTS, key="count_inputs")
    k = b.number_input("Outputs K", 1, None, linear_lesson.MNIST_CLASSES, key="count_outputs")
    too_big = [
        f"{name} can be at most {top:,}"
        for name, value, top in (("N", n, MAX_INPUTS), ("K", k, MAX_OUTPUTS))
        if value > top
    ]
    if too_big:
        c.metric("Parameters (N + 1)·K", "—")
        c.caption(" and ".join(too_big) + " here.")
    else:
        c.metric("Parameters (N + 1)·K", f"{linear_lesson.linear_param_count(n, k):,}")
    st.markdown(
        "They are also stable: the slope of a linear model is the same everywhere, so a "
        "small nudge to the input can only move the output by a small, fixed amount, and "
        "its derivative is a constant. The slope of a ReLU network jumps each time a unit "
        "switches on or off. Here are the slopes of the two models from section 1."
    )
    x2 = st.slider("Height of the line (x₂)", -5.0, 5.0, 2.0, 0.5, key="slope_x2")
    x1, s_lin, s_mlp, range_lin, range_mlp = slopes(problem, x2)
    st.plotly_chart(
        linear_figures.slope_figure(x1, {"linear model": s_lin, "ReLU network": s_mlp}, x2),
        key="slopes",
    )
    m1, m2 = st.columns(2)
    spread_help = (
        "Over the whole plane, not just the line above: the largest minus the smallest "
        "slope, ∂ output/∂x₁ or ∂ output/∂x₂, on a 41 × 41 grid. One line crosses few of "
        "the network's pieces, so the chart can stay within a smaller range."
    )
    m1.metric(
        "Linear model: spread of its slope over the plane", f"{range_lin:.3g}", help=spread_help
    )
    m2.metric(
        "ReLU network: spread of its slope over the plane", f"{range_mlp:.3g}", help=spread_help
    )
    st.caption(
        "The spread counts both directions over the whole plane; the chart shows "
        "∂ output/∂x₁ along one line only."
    )


def section_feature() -> None:
    st.header("4 · Hand the model the product")
    st.markdown(
        "The linear model failed on XOR because the answer depends on x₁·x₂, which it cannot "
        "form. Give it x₁·x₂ as a third input and the problem becomes linear in what it "
        "sees: one weight on that feature solves it. The boundary in the plane is now "
        "curved, though the model is as linear as before."
    )
    raw, with_product = xor_linear_models()
    left, right = st.columns(2)
    with left:
        show_fit(raw, "Inputs x₁, x₂", "Linear, x₁ and x₂", "xor_raw")
    with right:
        show_fit(with_product, "Inputs x₁, x₂, x₁·x₂", "Linear, plus x₁·x₂", "xor_product")


def section_relus() -> None:
    st.header("5 · Take the feature away, put ReLUs in")
    st.markdown(
        "Handing over x₁·x₂ works only because we knew the answer. Instead, drop that "
        "feature and put one hidden layer of H ReLUs between the inputs and the output. "
        "Each ReLU is zero on one side of a line and grows on the other, so the network "
        "can bend its output along lines it picks for itself. We try H = 1, 2, 3, … and "
        f"stop at the first that reaches {linear_lesson.SOLVED_ACCURACY:.0%} test accuracy."
    )
    search = relu_search()
    left, right = st.columns(2)
    with left:
        took = "none up to 8" if search.solved_by is None else str(search.solved_by)
        st.metric("ReLUs it took to solve XOR", took)
        cfg = linear_lesson.relu_config(1)
        # The classroom preset counts something else (issue 25): say what this counts.
        st.caption(
            f"Each width trains once, for {linear_lesson.LESSON_STEPS:,} steps at learning "
            f"rate {cfg.learning_rate:g} (seed {cfg.seed}): this counts what that budget "
            "finds, not the fewest that can. Trained longer, as in the Playground's "
            'exercise "Fewest ReLUs that solve XOR" (until you pause), fewer may do.'
        )
        st.plotly_chart(
            linear_figures.relu_search_figure(
                search.widths, search.accuracies, linear_lesson.SOLVED_ACCURACY
            ),
            key="relu_search",
        )
    with right:
        widths = search.widths
        h = st.select_slider(
            "Show the network with H ReLUs", widths, value=widths[-1], key="relu_width"
        )
        fit = search.fits[widths.index(h)]
        lines = linear_figures.relu_bend_traces(relu_bends(h))
        st.plotly_chart(
            linear_figures.prediction_map(
                fit, f"{h} ReLU(s): lines show where each switches", lines=lines
            ),
            key="map_relus",
        )
        try_it(fit.cfg)


def page() -> None:
    pages.heading(__file__)
    st.markdown(
        "Linear models are fast, cheap and well behaved, and they can only draw flat "
        "surfaces and straight boundaries. This page shows where that stops being enough, "
        "why piling up more linear layers does not help, and how a few ReLUs do."
    )
    problem = section_compare()
    section_stack()
    section_cheap(problem)
    section_feature()
    section_relus()


page()
