"""The current network as code a learner can paste into a notebook: Keras and plain JAX
(``lessons.export_code``), with the model file both snippets load."""

from collections.abc import Callable

import streamlit as st

from playground.core.modelfile import save_model
from playground.core.train import ModelSpec
from playground.lessons import export_code


def code_tabs(spec: ModelSpec, problem: str, model_bytes: Callable[[], bytes], *, key: str):
    """Keras and JAX tabs for a network and a download of its weights. The code depends
    on the architecture only; ``model_bytes`` runs when the button is pressed."""
    name = export_code.model_file_name(problem)
    st.markdown(
        f"Both snippets read the trained weights from **{name}**: download it with the "
        "button below and put it next to your notebook. Each layer is a weight matrix W "
        "of shape (inputs, units) and a bias b; the hidden layers apply the activation, "
        "and the output layer's numbers become the prediction."
    )
    keras_tab, jax_tab = st.tabs(["Keras", "JAX"])
    keras_tab.code(export_code.keras_code(spec, name, problem), language="python")
    jax_tab.code(export_code.jax_code(spec, name, problem), language="python")
    st.download_button(
        f"Model weights ({name})",
        model_bytes,
        file_name=name,
        mime="application/octet-stream",
        on_click="ignore",
        key=f"{key}_download",
        help="W0, b0, ... as plain arrays, with the activation and the features.",
    )


def code_panel(run) -> None:
    """An expander under the Playground: the network of the session's ``LiveRun``."""
    with st.expander("Your network as code (Keras, JAX)"):
        code_tabs(
            run.spec, run.cfg.problem, lambda: save_model(run.saved_model()), key="playground_code"
        )
