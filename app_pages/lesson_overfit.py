"""Lesson page: a big network overfits a few noisy points; four remedies close the gap.

Widgets -> ``playground.lessons.overfit`` (cached by plain arguments) ->
``playground.figures.lesson_overfit``. Every number shown comes from the lesson module.
"""

import pandas as pd
import streamlit as st

from playground.figures import lesson_linear as linear_figures
from playground.figures import lesson_overfit as overfit_figures
from playground.lessons import overfit
from playground.ui import links, pages
from playground.ui.links import try_it

SPARSE_TOL = 1e-3


@st.cache_data(show_spinner="Training the big network…", max_entries=16)
def regularised(method: str, rate: float | None = None):
    return overfit.regularised(method, rate)


@st.cache_data(show_spinner="Training with plain SGD and each penalty…", max_entries=4)
def sparse(kind: str):
    return overfit.sparse(kind)


def section_overfit() -> None:
    cfg = overfit.BASE_CFG
    base = regularised("none")
    n_train = len(base.fit.data.x_train)
    st.header("1 · Learning the noise")
    st.markdown(
        f"Two interleaved half-moons, but only {n_train} training points and a lot of noise: "
        "some points sit deep in the other class's territory. The network is big for "
        f"this: two hidden layers of {cfg.hidden[0]} ReLUs, "
        f"{base.fit.n_params:,} weights and biases for {n_train} points. Adam trains it on "
        "all training points at every step. The test points (open markers) are never "
        "trained on."
    )
    left, right = st.columns(2)
    with left:
        title = f"No regularisation, {base.stop_step} steps"
        st.plotly_chart(
            linear_figures.prediction_map(base.fit, title, show_test=True, height=460),
            key="of_map_base",
        )
    with right:
        st.plotly_chart(
            overfit_figures.loss_curves_figure(
                base.curve, title="Training and test loss part ways"
            ),
            key="of_curves_base",
        )
        m = st.columns(3)
        m[0].metric("Training loss", f"{base.train_loss:.4f}")
        m[1].metric("Test loss", f"{base.test_loss:.3f}")
        m[2].metric("Gap (test − training)", f"{base.gap:.3f}")
    st.markdown(
        "With enough weights a network can bend its boundary around every training "
        "point, noise included: the training loss falls towards zero. But the noise of "
        "the test points is different noise, so the bends it learnt for the training "
        "points are wrong there, and confidently so: the test loss climbs. That is "
        "**overfitting**: the model learns its training set rather than the problem."
    )


def controls() -> dict[str, float]:
    c = st.columns(3)
    return {
        "l2": c[0].select_slider("L2 rate", overfit.L2_RATES, overfit.DEFAULTS["l2"], key="of_l2"),
        "l1": c[1].select_slider("L1 rate", overfit.L1_RATES, overfit.DEFAULTS["l1"], key="of_l1"),
        "dropout": c[2].select_slider(
            "Dropout rate", overfit.DROPOUTS, overfit.DEFAULTS["dropout"], key="of_dropout"
        ),
    }


def section_remedies() -> dict[str, float]:
    st.header("2 · Four ways to close the gap")
    st.markdown(
        "- **L2 penalty**: add rate × (sum of squared weights) to the loss. Its gradient, "
        "2 × rate × w, shrinks every weight in proportion to its size: large weights, "
        "which make sharp bends, cost the most.\n"
        "- **L1 penalty**: add rate × (sum of |w|). Its gradient, rate × sign(w), pulls "
        "every weight towards zero by the same amount, however small it already is, so "
        "many weights end up at about zero: the network uses fewer of them.\n"
        "- **Dropout**: at every training step, switch off a random share of the hidden "
        "units (and scale up the others). No unit can count on any other being there, "
        "so the network cannot build fragile combinations that fit single points.\n"
        "- **Early stopping**: keep checking the loss on a *validation set* (fresh points, "
        "not the test set) and keep the weights from the step where it was lowest."
    )
    rates = controls()
    results = {m: regularised(m, rates.get(m)) for m in overfit.METHODS}
    n_train = len(results["none"].fit.data.x_train)
    st.caption(
        f"Filled markers: the {n_train} training points. Open markers: the test points. The "
        "colour is the network's P(class 1): blue for class 1, orange for class 0."
    )
    labels = overfit.METHODS
    cols = st.columns(3)
    for i, (m, r) in enumerate(results.items()):
        rate = f" {r.rate:g}" if r.rate is not None else ""
        with cols[i % 3]:
            fig = linear_figures.prediction_map(
                r.fit, f"{labels[m]}{rate}", show_test=True, legend=False, height=320
            )
            st.plotly_chart(fig, key=f"of_map_{m}")
            st.metric(f"{labels[m]}: gap (test − training loss)", f"{r.gap:.3f}")
            st.caption(
                f"training loss {r.train_loss:.3f} · test loss {r.test_loss:.3f} · "
                f"test accuracy {r.fit.metric:.0%}"
            )
    with cols[len(results) % 3]:
        st.plotly_chart(
            overfit_figures.gap_figure(
                {labels[m]: r.train_loss for m, r in results.items()},
                {labels[m]: r.test_loss for m, r in results.items()},
                height=400,
            ),
            key="of_gaps",
        )
    early = results["early"]
    left, right = st.columns(2)
    with left:
        st.plotly_chart(
            overfit_figures.loss_curves_figure(
                early.curve,
                val_loss=early.val_loss,
                stop_step=early.stop_step,
                title="Early stopping: watch the validation loss",
            ),
            key="of_curves_early",
        )
    with right:
        shown = st.selectbox(
            "Curves of",
            [m for m in results if m not in ("none", "early")],
            format_func=labels.get,
            key="of_curves_method",
        )
        st.plotly_chart(
            overfit_figures.loss_curves_figure(results[shown].curve, title=f"With {labels[shown]}"),
            key="of_curves_method_fig",
        )
    st.caption(
        "Each penalty trades a little training loss for a smoother boundary. Dropout slows "
        "the drift but, on 40 points, does not stop it; it shines in large networks with "
        "many units that can stand in for each other. Early stopping keeps the best "
        f"moment, here after {early.stop_step} steps."
    )
    return rates


def section_sparse() -> None:
    st.header("3 · Near zero, or exactly zero")
    st.markdown(
        "Which weights do the penalties remove? To see the mechanics plainly we train "
        f"with plain SGD (learning rate {overfit.SPARSE_LR:g}, "
        f"{overfit.SPARSE_STEPS} full-batch steps) rather than Adam, which rescales every "
        "step. L2 shrinks each weight by a share of itself: weights get small but rarely "
        "tiny. L1 pulls each by the same small amount every step: a weight the data does "
        "not need reaches zero, overshoots, is pulled back, and hovers at about the size "
        "of one step. A **proximal step** fixes that: take the ordinary step on the data "
        "loss, then shrink every weight towards zero by learning rate × rate and stop at "
        "zero (soft-thresholding). Now the unneeded weights are exactly zero."
    )
    st.caption(
        f"L2 rate {overfit.SPARSE_RATES['l2']:g}, L1 rate {overfit.SPARSE_RATES['l1']:g} "
        f"(both L1 runs minimise the same loss). One step of L1 moves a weight by "
        f"{overfit.SPARSE_LR * overfit.SPARSE_RATES['l1']:g}."
    )
    runs = {k: sparse(k) for k in overfit.SPARSE_LABELS}
    m = st.columns(len(runs))
    for col, r in zip(m, runs.values(), strict=True):
        col.metric(f"{r.label}: weights below {SPARSE_TOL:g}", f"{r.count_below(SPARSE_TOL):,}")
        col.metric(f"{r.label}: exactly zero", f"{r.exact_zeros:,}")
        col.caption(f"of {r.weights.size:,} weights · test accuracy {r.fit.metric:.0%}")
    st.plotly_chart(
        overfit_figures.histogram_figure(
            {r.label: overfit.weight_histogram(r.weights) for r in runs.values()}
        ),
        key="of_histogram",
    )
    cols = st.columns(len(runs))
    for col, (k, r) in zip(cols, runs.items(), strict=True):
        with col:
            middle = overfit.layer_magnitudes(r.fit.params)[1]
            st.plotly_chart(
                overfit_figures.weight_matrix_figure(middle, f"{r.label}: layer 1 → 2"),
                key=f"of_matrix_{k}",
            )
    st.caption(
        "Each square is one weight from a unit of hidden layer 1 (row) to a unit of "
        "hidden layer 2 (column); the colour is its size, and blank squares are exactly "
        "zero. L2 leaves every weight small but alive; plain L1 leaves most of them "
        "flickering at about 10⁻⁴, the size of one step; the proximal step removes them."
    )


def summary_table(rates: dict[str, float]) -> None:
    rows = {}
    for m, label in overfit.METHODS.items():
        r = regularised(m, rates.get(m))
        rows[label] = {
            "training loss": r.train_loss,
            "test loss": r.test_loss,
            "gap": r.gap,
            "test accuracy": r.fit.metric,
            f"weights below {overfit.NEAR_ZERO:g}": r.near_zero,
        }
    st.dataframe(pd.DataFrame(rows).T, key="of_table")


def page() -> None:
    pages.heading(__file__)
    st.markdown(
        "A network with many weights can fit almost anything, including the noise in its "
        "training data. This page shows it happen, and four standard remedies."
    )
    section_overfit()
    rates = section_remedies()
    summary_table(rates)
    section_sparse()
    st.divider()
    st.markdown(
        "Try it with the same data and network in the Playground: switch on *Show test "
        "data*, then add L2 or dropout and watch the boundary calm down."
    )
    try_it(overfit.playground_config("l2", rates["l2"]))
    links.class_experiment(
        "reg_rate",
        "each learner trains with another L2 strength, and the wall plots the whole "
        "class's test loss against it: too weak overfits, too strong underfits.",
    )


page()
