"""Lesson page: what minibatches and the learning rate do to gradient descent.

Widgets -> ``playground.lessons.sgd`` (cached by plain arguments) ->
``playground.figures.lesson_sgd``. The base network is one shared resource; every
number shown comes from the lesson module.
"""

import streamlit as st

from playground.figures import lesson_sgd as sgd_figures
from playground.lessons import sgd
from playground.ui import links, pages
from playground.ui.links import try_it


@st.cache_resource(show_spinner="Training the network the slice is cut from…")
def paths_on_slice(sl, paths, title: str, names, *, key: str) -> None:
    """Paths drawn on the loss slice (left) and their distance from its bottom (right)."""
    left, right = st.columns([3, 2])
    with left:
        st.plotly_chart(sgd_figures.slice_figure(sl, paths, title=title, names=names), key=key)
    with right:
        st.plotly_chart(
            sgd_figures.excess_figure(sl, paths, title="Distance from the bottom, in loss"),
            key=f"{key}_loss",
        )


def base_network():
    return sgd.base_network()


@st.cache_data(show_spinner="Training the whole network at four batch sizes…")
def batch_curves():
    return {b: sgd.batch_curve(b) for b in sgd.BATCH_SIZES}


@st.cache_data
def blowup():
    return sgd.whole_network_blowup()


@st.cache_data
def pairs():
    return sgd.pairs_by_shape(base_network())


@st.cache_data
def default_pair():
    return sgd.default_pair(base_network())


@st.cache_data(show_spinner="Cutting the slice and walking down it…", max_entries=16)
def slice_and_paths(units: tuple[int, int]):
    run = base_network()
    sl = sgd.loss_slice(run, units)
    return (
        sl,
        sgd.batch_paths(run, sl),
        sgd.lr_paths(run, sl),
        sgd.optimizer_paths(run, sl),
        sgd.gradient_noise(run, sl),
    )


def weight_names(units: tuple[int, int]) -> tuple[str, str]:
    return tuple(f"weight from hidden unit {u + 1} to the output" for u in units)


def section_batches() -> None:
    st.header("1 · One step, many points: full batch or minibatch")
    n_train = len(base_network().data.x_train)
    st.markdown(
        "Gradient descent moves every weight a little against the gradient of the loss. "
        f"The loss is an average over the training points ({n_train} here), and so is "
        "its gradient. Computing it over all of them for every step (**full batch**) is "
        "exact but slow when there are millions of points. **Stochastic gradient descent** "
        "(SGD) estimates it from a small random **minibatch** instead, and takes many more, "
        "cheaper steps. One pass through all the training points is an **epoch**."
    )
    st.markdown(
        "Below, one network (2 inputs, 8 ReLUs, 1 output) learns the saddle x₁·x₂ with "
        f"plain SGD at learning rate {sgd.SGD_CFG.learning_rate:g}, four times: with the "
        "full batch and with minibatches of 100, 10 and 1 points."
    )
    curves = batch_curves()
    labels = {b: sgd.batch_label(b, n_train) for b in curves}
    left, right = st.columns(2)
    with left:
        st.plotly_chart(
            sgd_figures.curves_figure(
                {labels[b]: c.train_loss for b, c in curves.items()},
                {labels[b]: c.step for b, c in curves.items()},
                title="Loss on all training points",
                x_title="step",
                y_title="training loss",
            ),
            key="sgd_curves",
        )
    with right:
        st.plotly_chart(
            sgd_figures.curves_figure(
                {labels[b]: c.batch_loss for b, c in curves.items()},
                {labels[b]: c.batch_steps for b, c in curves.items()},
                title="Loss on each step's own minibatch",
                x_title="step",
                y_title="minibatch loss",
                width=1.2,
            ),
            key="sgd_batch_loss",
        )
    cols = st.columns(len(curves))
    for col, (b, c) in zip(cols, curves.items(), strict=True):
        col.metric(f"{labels[b]}: training loss", f"{c.train_loss[-1]:.4f}")
    st.caption(
        "Per step, minibatches of 100 and 10 do about as well as the full batch at a "
        "fraction of the work; a single point per step is noisy and lags. Each step's own "
        "minibatch loss (right) jumps around: it is measured on different points each time."
    )


def pick_pair() -> tuple[int, int]:
    options = pairs()
    ratios = dict(options)
    default = default_pair()
    return st.selectbox(
        "The two free weights: output weights of hidden units",
        [units for units, _ in options],
        index=[u for u, _ in options].index(default),
        format_func=lambda u: (
            f"{u[0] + 1} and {u[1] + 1} (bowl {ratios[u]:.0f}× steeper one way than the other)"
        ),
        key="sgd_pair",
    )


def section_slice() -> tuple[int, int]:
    st.header("2 · Watching two weights move")
    st.markdown(
        "A network has too many weights to draw its loss surface. So we freeze all of them "
        "at their trained values except two: the output weights of two hidden units. The "
        "loss over those two is a surface we can draw (a slice of the whole). With squared "
        "error it is an exact bowl, and its lowest point is known."
    )
    units = pick_pair()
    sl, batch_paths, _, _, noise = slice_and_paths(units)
    names = weight_names(units)
    st.markdown(
        "Every path starts at the same point (the black ring) and takes "
        f"{len(batch_paths[0].points) - 1} steps at the same learning rate "
        f"({batch_paths[0].learning_rate:.3g}), with the full batch or minibatches."
    )
    paths_on_slice(sl, batch_paths, "Paths down the slice", names, key="sgd_slice")
    st.markdown(
        "The full batch follows the slope exactly: a smooth curve. Each minibatch sees "
        "a different sample of points, so its gradient is the true one plus noise, and its "
        "path wobbles. The smaller the batch, the louder the noise: with one point per "
        "step the weights never settle at the bottom but keep jittering around it. "
        "How loud? The spread of a mean of b random points shrinks like 1/√b:"
    )
    left, right = st.columns([3, 2])
    with left:
        st.plotly_chart(sgd_figures.noise_figure(noise), key="sgd_noise")
    with right:
        for b in (1, 100):
            st.metric(f"Typical gradient error, batch of {b}", f"{noise.error_at(b):.3g}")
        st.metric("Size of the full-batch gradient", f"{noise.full_size:.3g}")
        st.caption(
            "Measured at the start of the paths over many random minibatches. Noise is "
            "not all bad: it can shake the weights out of a poor spot, and a minibatch "
            "step costs a tiny part of a full-batch step."
        )
    return units


def section_learning_rate(units) -> None:
    sl, _, lr_paths, _, _ = slice_and_paths(units)
    names = weight_names(units)
    st.header("3 · The learning rate")
    lo, hi = sl.curvatures
    st.markdown(
        "The learning rate η sets the length of each step: η times the gradient. On a "
        "bowl there is a hard limit. Along its steepest direction (curvature λ) a step "
        "multiplies the distance to the bottom by (1 − η·λ): below η = 1/λ the weights "
        "slide down, between 1/λ and 2/λ they overshoot and swing back and forth, and "
        "above **2/λ** every swing is larger than the last. This bowl's curvatures are "
        f"{lo:.3g} and {hi:.3g}, so its largest stable learning rate is 2 / {hi:.3g} = "
        f"**{sl.max_stable_lr:.3g}**."
    )
    st.metric("Largest stable learning rate, 2 / λ_max", f"{sl.max_stable_lr:.4g}")
    for first in range(0, len(lr_paths), 2):
        row = list(enumerate(lr_paths[first : first + 2], first))
        for col, (i, p) in zip(st.columns(2), row, strict=False):
            with col:
                title = f"{p.label}: η = {p.learning_rate:.3g}"
                st.plotly_chart(
                    sgd_figures.slice_figure(
                        sl,
                        [p],
                        title=title,
                        names=names,
                        height=380,
                        first_style=i,
                        colour_bar=False,
                    ),
                    key=f"sgd_lr_{i}",
                )
                if p.diverged_at >= 0:
                    st.error(p.message)
    st.plotly_chart(
        sgd_figures.excess_figure(sl, lr_paths, title="Distance from the bottom, in loss"),
        key="sgd_lr_loss",
    )
    b = blowup()
    st.markdown(
        "The same happens to the whole network: with plain SGD at learning rate "
        f"{sgd.TOO_LARGE_LR:g} the loss grows step after step until it is no longer a "
        "finite number. The Playground checks every step for this and stops with:"
    )
    st.error(b.message)


def section_optimizers(units) -> None:
    sl, _, _, opt_paths, _ = slice_and_paths(units)
    names = weight_names(units)
    st.header("4 · Momentum and Adam")
    st.markdown(
        "In a long, narrow valley plain SGD is slow: a learning rate small enough for the "
        "steep walls crawls along the flat floor. **Momentum** keeps a running sum of past "
        "gradients (here 90% of the last velocity plus the new gradient), so steps along the "
        "floor add up while the back-and-forth across the walls cancels out. **Adam** "
        "divides each weight's step by the typical size of its recent gradients, so every "
        "weight moves at about the same pace whatever its slope; its learning rate is a "
        "step length in weight units."
    )
    paths_on_slice(sl, opt_paths, "Three optimizers, same start", names, key="sgd_optimizers")
    st.caption(
        " · ".join(f"{p.label}: η = {p.learning_rate:.3g}" for p in opt_paths)
        + f" · {len(opt_paths[0].points) - 1} steps, full batch."
    )


def page() -> None:
    pages.heading(__file__)
    st.markdown(
        "Training is walking downhill on the loss. This page looks at the walk itself: "
        "how many points each step looks at, how long the steps are, and what momentum "
        "and Adam change about the route."
    )
    section_batches()
    units = section_slice()
    section_learning_rate(units)
    section_optimizers(units)
    st.divider()
    st.markdown("Train the same network live, with SGD and minibatches of 10:")
    try_it(sgd.playground_config(10, sgd.SGD_CFG.learning_rate))
    links.class_experiment(
        "learning_rate",
        "each learner trains with another learning rate, and the wall plots the whole "
        "class's test loss against it: too small is slow, too large diverges.",
    )


page()
