"""Challenges under the Playground: pick one, press "Submit", and the server grades the
network's current weights on the challenge's own test points (``core.challenges``).

The grade comes from the weights the server holds, never from a number the browser
sends, and the challenge's points never leave the server. A learner in a class who
passes goes on the class's leaderboard (the class store), and sees it here: names and
scores only.
"""

import time

import pandas as pd
import streamlit as st

from playground.classroom.store import StoreUnavailable
from playground.core.challenges import (
    CHALLENGES,
    TEACHER_CHALLENGE,
    TEACHER_TITLE,
    Challenge,
    Grade,
    grade,
    lesson_challenge,
)
from playground.core.errors import PlaygroundError
from playground.figures.readouts import fmt_metric
from playground.live.session.live_run import LiveRun
from playground.ui import classroom, controls
from playground.ui.escape import escape_markdown

GRADE_KEY = "challenge_grade"  # the last grade, kept across reruns
BOARD_NOTE = "challenge_board_note"  # what became of the last grade on the leaderboard


def teacher_challenge() -> Challenge | None:
    """The challenge of the teacher's link or class exercise (a goal with a budget);
    None without one, or with one that makes none (the teacher's form said why, a
    link's bad budget gave a notice)."""
    try:
        return lesson_challenge(controls.lesson())
    except PlaygroundError:
        return None


def challenges_here() -> dict[str, Challenge]:
    """The built-in challenges, and the teacher's first when there is one."""
    own = teacher_challenge()
    return CHALLENGES if own is None else {own.name: own, **CHALLENGES}


def load_problem(challenge: Challenge) -> None:
    """Set the sidebar to the challenge's problem (the network stays the learner's)."""
    run: LiveRun = st.session_state.run
    controls.init_widgets(challenge.run_config(run.cfg), force=True)


def submit(challenge: Challenge) -> None:
    """Grade the session's run as it is now; in a class, a pass goes on its leaderboard."""
    run: LiveRun = st.session_state.run
    result = grade(challenge, run.saved_model())
    st.session_state[GRADE_KEY] = result
    st.session_state.pop(BOARD_NOTE, None)
    m = classroom.member()
    if m is None or not result.passed:
        return
    entry = {
        "name": m.name,
        "member": m.member,
        "challenge": result.challenge,
        "relus": result.relus,
        "parameters": result.parameters,
        "steps": result.steps,
        "score": result.score,
        "metric": challenge.metric,
        "about": challenge.describe(),
        "time": time.time(),
    }
    try:
        m.store.submit(m.code, entry)
        st.session_state[BOARD_NOTE] = "On your class's leaderboard (your best entry counts)."
    except StoreUnavailable as err:
        st.session_state[BOARD_NOTE] = f"Not on the leaderboard for now: {err}."


def grade_text(result: Grade) -> str:
    """The grade in a sentence: passed or not, why, and what was graded."""
    head = "Passed" if result.passed else "Not passed"
    step = "" if result.steps is None else f" (the weights of step {result.steps:,})"
    return f"{head}: {result.reason}{step}."


def challenge_title(name: str) -> str:
    if name.startswith(TEACHER_CHALLENGE):
        return TEACHER_TITLE
    c = CHALLENGES.get(name)
    return f"{name}: {c.title}" if c is not None else name


def leaderboard_table(entries: list[dict], *, full: bool = False) -> pd.DataFrame:
    """A ranked leaderboard as a table of plain text and numbers: rank, name and the
    scores that rank it (``full``, the teacher's: the time too)."""
    rows = []
    for rank, e in enumerate(entries, 1):
        metric = e.get("metric") or getattr(CHALLENGES.get(e["challenge"]), "metric", "")
        score = e.get("score")
        row = {
            "Rank": rank,
            "Name": str(e["name"]),
            "ReLUs": int(e["relus"]),
            "Parameters": int(e["parameters"]),
            "Steps": "–" if e.get("steps") is None else f"{int(e['steps']):,}",
            "Score": "–"
            if score is None
            else (fmt_metric(score, metric) if metric else f"{score:.4g}"),
        }
        if full:
            row["Submitted"] = time.strftime("%H:%M:%S", time.localtime(float(e["time"])))
        rows.append(row)
    return pd.DataFrame(rows)


def class_leaderboard(name: str) -> None:
    """In a class: the challenge's leaderboard of the class (names and scores only)."""
    m = classroom.member()
    if m is None:
        return
    try:
        entries = m.store.leaderboard(m.code, name)
    except StoreUnavailable as err:
        st.caption(escape_markdown(err))
        return
    st.markdown("**Your class's leaderboard**")
    if not entries:
        st.caption("No one in your class has passed this challenge yet.")
        return
    show_leaderboard(entries)


def show_leaderboard(entries: list[dict], *, full: bool = False) -> None:
    """A leaderboard as an HTML table (read by screen readers, unlike the canvas of
    st.dataframe). Its cells are Markdown: names are escaped."""
    table = leaderboard_table(entries, full=full)
    table["Name"] = [escape_markdown(n) for n in table["Name"]]
    st.table(table, hide_index=True, alt="Leaderboard: rank, name and the scores that rank it")


def challenge_panel(run: LiveRun) -> None:
    """An expander: pick a challenge, load its problem, submit the current network."""
    with st.expander("Challenges"):
        st.caption(
            "Solve a problem within a budget of ReLUs. Submit grades your network's current "
            "weights on test points of the challenge's own, which no run trains on."
        )
        here = challenges_here()
        if st.session_state.get("challenge_name") not in here:
            st.session_state.pop("challenge_name", None)  # the teacher's is gone
        name = st.selectbox(
            "Challenge", list(here), format_func=challenge_title, key="challenge_name"
        )
        challenge = here[name]
        st.markdown(challenge.describe())
        with st.container(horizontal=True, gap="small"):
            st.button(
                "Submit",
                key="challenge_submit",
                on_click=submit,
                args=(challenge,),
                type="primary",
                help="Grade the network as it is now.",
            )
            if (challenge.problem, challenge.n_classes) != (run.cfg.problem, run.spec.n_classes):
                st.button(
                    "Load this problem",
                    key="challenge_load",
                    on_click=load_problem,
                    args=(challenge,),
                    help="Set the sidebar to the challenge's problem; your network stays.",
                )
        result: Grade | None = st.session_state.get(GRADE_KEY)
        if result is not None and result.challenge == name:
            (st.success if result.passed else st.error)(grade_text(result))
            if note := st.session_state.get(BOARD_NOTE):
                st.caption(escape_markdown(note))
        class_leaderboard(name)
