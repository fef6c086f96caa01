"""Lesson page: the Playground's network as Keras and JAX code, and proof that the code
computes what the app computes.

The session's Playground run when there is one, else an example network (a shared
resource). Code from ``playground.lessons.export_code`` via ``playground.ui.code_panel``.
"""

import streamlit as st

from playground.core.modelfile import save_model
from playground.lessons import to_code
from playground.live.engine import run as engine
from playground.ui import pages
from playground.ui.code_panel import code_tabs
from playground.ui.links import try_it


@st.cache_resource(show_spinner="Training an example network…")
def example_run():
    return to_code.example_run()


@st.cache_data(show_spinner="Running the exported code…")
def example_check() -> float:
    return to_code.check_on_grid(example_run())


def current_run():
    """(run, whose): the session's Playground run if it has one, else the example."""
    live = st.session_state.get("run")
    if live is not None:
        return live.run, "yours"
    return example_run(), "example"


def page() -> None:
    pages.heading(__file__)
    st.markdown(
        "Everything the Playground trains is an ordinary network: a stack of dense layers, "
        "each a matrix product plus a bias followed by an activation. Here is the same "
        "network as code you can paste into a notebook, twice: with **Keras** (a "
        "`Sequential` list of `Dense` layers) and in plain **JAX** (the matrix products "
        "written out). Both load the trained weights from the Playground's model file."
    )
    run, whose = current_run()
    if whose == "yours":
        st.success(
            f"This is the network on your Playground page: {run.cfg.problem}, hidden layers "
            f"{list(run.cfg.hidden) or 'none'}, after {run.step} steps."
        )
        difference = to_code.check_on_grid(run)
    else:
        st.info(
            "No Playground network in this session yet, so here is an example: XOR learnt "
            f"by two layers of 8 ReLUs in {to_code.EXAMPLE_STEPS} steps. Train your own in "
            "the Playground and come back: this page will show it."
        )
        difference = example_check()
    code_tabs(
        run.spec, run.cfg.problem, lambda: save_model(engine.saved_model(run)), key="lesson_code"
    )
    st.header("Does the code compute what the app computes?")
    st.markdown(
        "We saved the weights to a model file, ran the JAX code above on it (as a notebook "
        f"would) over a {to_code.CHECK_GRID}×{to_code.CHECK_GRID} grid of the plane, and "
        "compared its predictions with the app's."
    )
    st.metric("Largest difference from the app's predictions", f"{difference:.2g}")
    st.markdown(
        "Keras stores each `Dense` layer as a kernel of shape (inputs, units) and a bias, "
        "the same layout as the file's `W` and `b`, so `set_weights` takes them in file "
        "order: W0, b0, W1, b1, ... One thing the network does not do by itself: compute "
        "its input features. If you gave it x₁², sin x₁ and friends, the `features` "
        "function builds them from (x₁, x₂) first."
    )
    st.divider()
    st.markdown("Change the network in the Playground, then come back for its code:")
    try_it(run.cfg)


page()
