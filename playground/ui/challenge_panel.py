"""Challenges under the Playground: pick one, press "Submit", and the server grades the
network's current weights on the challenge's own test points (``core.challenges``).

The grade comes from the weights the server holds, never from a number the browser
sends, and the challenge's points never leave the server.
"""

import streamlit as st

from playground.core.challenges import CHALLENGES, Grade, grade
from playground.live.live_run import LiveRun
from playground.ui import controls

GRADE_KEY = "challenge_grade"  # the last grade, kept across reruns


def load_problem(name: str) -> None:
    """Set the sidebar to the challenge's problem (the network stays the learner's)."""
    run: LiveRun = st.session_state.run
    controls.init_widgets(CHALLENGES[name].run_config(run.cfg), force=True)


def submit(name: str) -> None:
    """Grade the session's run as it is now."""
    run: LiveRun = st.session_state.run
    st.session_state[GRADE_KEY] = grade(CHALLENGES[name], run.saved_model())


def grade_text(result: Grade) -> str:
    """The grade in a sentence: passed or not, why, and what was graded."""
    head = "Passed" if result.passed else "Not passed"
    step = "" if result.steps is None else f" (the weights of step {result.steps:,})"
    return f"{head}: {result.reason}{step}."


def challenge_panel(run: LiveRun) -> None:
    """An expander: pick a challenge, load its problem, submit the current network."""
    with st.expander("Challenges"):
        st.caption(
            "Solve a problem within a budget of ReLUs. Submit grades your network's current "
            "weights on test points of the challenge's own, which no run trains on."
        )
        name = st.selectbox(
            "Challenge",
            list(CHALLENGES),
            format_func=lambda n: f"{n}: {CHALLENGES[n].title}",
            key="challenge_name",
        )
        challenge = CHALLENGES[name]
        st.markdown(challenge.describe())
        with st.container(horizontal=True, gap="small"):
            st.button(
                "Submit",
                key="challenge_submit",
                on_click=submit,
                args=(name,),
                type="primary",
                help="Grade the network as it is now.",
            )
            if (challenge.problem, challenge.n_classes) != (run.cfg.problem, run.spec.n_classes):
                st.button(
                    "Load this problem",
                    key="challenge_load",
                    on_click=load_problem,
                    args=(name,),
                    help="Set the sidebar to the challenge's problem; your network stays.",
                )
        result: Grade | None = st.session_state.get(GRADE_KEY)
        if result is not None and result.challenge == name:
            (st.success if result.passed else st.error)(grade_text(result))
