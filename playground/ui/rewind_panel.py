"""Time travel on the Playground: "Rewind to step" shows the run at any kept step (the
boundary, bends, network and numbers), "Continue from here" goes on training from those
weights with the current settings, "Restart from the same weights" starts again from the
run's first weights and data. The run keeps the steps (``live.kept``)."""

import streamlit as st

from playground.live.session.live_run import LiveRun
from playground.ui import run_state

TITLE = "Rewind, continue or restart"
REWIND = "Rewind to step"
CONTINUE = "Continue from here"
RESTART = "Restart from the same weights"


def _rewind() -> None:
    run_state.hold()
    ss = st.session_state
    try:
        ss.run.rewind(int(ss["rewind_step"]))
    except KeyError:
        ss["_rewind_error"] = "that step is no longer kept: pick another"


def _continue() -> None:
    run_state.hold()
    ss = st.session_state
    ss.run.continue_here()
    if ss.run.halted:
        ss.run.resume()
    ss.playing = True


def _restart() -> None:
    run_state.hold()
    st.session_state.run.restart()
    st.session_state.playing = False


def rewind_panel(run: LiveRun, *, playing: bool) -> None:
    """The slider and the two buttons (paused only: the slider needs a still run)."""
    ss = st.session_state
    with st.expander(TITLE):
        steps = run.kept_steps()
        if playing:
            st.caption("Pause to rewind: the run keeps its weights at steps spread over it.")
        elif len(steps) < 2:
            st.caption("Train a little first: the run keeps its weights as it goes.")
        else:
            # The slider shows the step the run is at (the nearest kept one).
            now = min(steps, key=lambda s: abs(s - run.step))
            if ss.get("rewind_step") not in steps or ss.get("_rewind_shown") != run.step:
                ss["rewind_step"] = now
                ss["_rewind_shown"] = run.step
            st.select_slider(
                REWIND,
                options=steps,
                key="rewind_step",
                format_func=lambda s: f"{s:,}",
                on_change=_rewind,
                help="The run's weights at steps kept as it trained (more of them early "
                "on, where it changes fastest): the boundary, bends, network and numbers "
                "show that step.",
            )
            if error := ss.pop("_rewind_error", None):
                st.error(error)
        with st.container(horizontal=True, gap="small"):
            st.button(
                CONTINUE,
                on_click=_continue,
                disabled=playing,
                help="Train on from the weights shown, with the current settings; the "
                "later steps are forgotten.",
            )
            st.button(
                RESTART,
                on_click=_restart,
                help="Start again from this run's first weights and data, with the current "
                "settings: change one setting and see only its effect.",
            )
