"""A learner in a class, on the Playground: joining from the join link (``?class=CODE``),
the name others see, the class's exercise (its fixed settings are the class's, whatever
the address bar or a loaded model says), the note when the teacher shows this run on the
class's screen, the offer of a new exercise when the teacher sends one, and the learner's
value of the knob in a class experiment (fixed like any of the class's settings)."""

import contextlib
import math
import secrets
import time
import weakref

import streamlit as st

from playground.classroom.host_store import class_store
from playground.classroom.model import (
    KNOBS,
    ClassInfo,
    Experiment,
    clean_name,
    knob_exercise,
    normal_code,
)
from playground.classroom.publish import PUBLISHER, Member
from playground.classroom.store import ClassStore, StoreUnavailable
from playground.core.config import FIELDS, from_query, lesson_from_query, number_text
from playground.core.errors import PlaygroundError
from playground.live.session.live_run import LiveRun
from playground.ui import controls
from playground.ui.escape import escape_markdown

MEMBER = "class_member"  # session key: this session's Member, while in a class
# A paused learner's page looks this often for the class's news. Not shorter: a fragment
# ticking during a slow first run lost that run's last messages (Streamlit replaces the
# script runner; seen in the load test with 10 learners arriving).
WATCH_S = 5.0
APPLY = "_class_apply"  # session key: take the class's new exercise on the next run


def store() -> ClassStore | None:
    """The server's class store; None (said on the page) when the host's setting is bad."""
    try:
        return class_store()
    except PlaygroundError as err:
        st.error(f"Classes are off on this server: {escape_markdown(err)}.")
        return None


def member() -> Member | None:
    return st.session_state.get(MEMBER)


def query() -> dict[str, str]:
    """What the address bar keeps of the class: reopening it joins again under the same
    name (as a new tile: the address is also the share link, so it names no learner)."""
    m = member()
    return {"class": m.code, "name": m.name} if m else {}


def _apply_exercise(m: Member, exercise: dict[str, str], version: int) -> None:
    """Put the class's exercise into this session: its settings into the widgets, its
    lesson (task, goal, fixed controls) into the page."""
    ss = st.session_state
    cfg, _ = from_query(exercise)
    ss.lesson, _ = lesson_from_query(exercise)
    controls.init_widgets(cfg, force=True)
    ss.playing = ss.lesson.play
    m.version = m.class_version = version


def member_exercise(m: Member, info: ClassInfo) -> dict[str, str]:
    """The class's exercise for this learner: in a class experiment, with their value of
    the knob, fixed. Their place comes from the store (one counter for the class, so
    learners on every replica get the values in order). May raise StoreUnavailable."""
    m.experiment, m.knob, m.value = "", "", math.nan
    if info.experiment is None:
        return info.exercise
    try:
        experiment = Experiment.from_json(info.experiment)
    except (PlaygroundError, KeyError, TypeError, ValueError):
        return info.exercise  # one this server cannot read (a newer replica's)
    place = m.store.assign(m.code, m.member)
    if place is None:
        return info.exercise
    value = experiment.value(place)
    m.experiment, m.knob, m.value = experiment.id, experiment.knob, value
    return knob_exercise(info.exercise, experiment.knob, value)


def experiment_text(m: Member) -> str:
    """ "Your value in the class experiment: learning rate 0.003" (or "")."""
    if not m.knob or not math.isfinite(m.value):
        return ""
    return f"Your value in the class experiment: {KNOBS[m.knob].label} {number_text(m.value)}"


def join_from_link(params: dict[str, str], max_size: int) -> list[str]:
    """On a session's first run: join the class the link names (if any) and take its
    exercise. Returns notices for the page (plain text)."""
    if "class" not in params:
        return []
    code = normal_code(params["class"])
    s = store()
    if s is None:
        return []
    try:
        info = s.info(code) if code else None
        if info is None:
            return ["This class has ended, or its code is wrong: you are on your own."]
        roster = s.roster(code)
        ident = secrets.token_urlsafe(12)
        name, cut = clean_name(params.get("name", ""))
        name = name or f"Learner {len(roster) + 1}"
        if not s.join(code, ident, name, max_size):
            return [f"This class is full ({max_size} learners): you are on your own."]
        m = Member(store=s, code=code, member=ident, name=name, version=info.version)
        exercise = member_exercise(m, info)
    except StoreUnavailable as err:
        return [f"{err}. You are on your own for now."]
    st.session_state[MEMBER] = m
    _apply_exercise(m, exercise, info.version)
    PUBLISHER.add(m)
    return [f"Your name was cut to {len(name)} characters."] if cut else []


def fixed_settings_hold(params: dict[str, str]) -> str:
    """In a class, the address bar cannot change the settings the class fixed: the
    message saying so when it tried (else "")."""
    m = member()
    if m is None:
        return ""
    hidden = st.session_state.get("lesson")
    tried = [n for n in (hidden.hide if hidden else ()) if n in params]
    if not tried:
        return ""
    names = ", ".join(FIELDS[n].label for n in tried)
    return f"Your class fixes {names}: the address bar cannot change them."


def _rename() -> None:
    m = member()
    name, _ = clean_name(st.session_state.get("class_name", ""))
    if m is None or not name:
        return
    try:
        if m.store.join(m.code, m.member, name, 10**9):  # already in: no size check
            m.name = name
    except StoreUnavailable as err:
        st.toast(escape_markdown(err))


def _leave() -> None:
    m = st.session_state.pop(MEMBER, None)
    if m is None:
        return
    PUBLISHER.remove(m.member)
    with contextlib.suppress(StoreUnavailable):  # else its tile goes stale: "left"
        m.store.leave(m.code, m.member)


def apply_pending() -> None:
    """Before the widgets are drawn: the new exercise a locked class applies by itself."""
    if st.session_state.pop(APPLY, False):
        _take_new_exercise()


def _take_new_exercise() -> None:
    m = member()
    if m is None:
        return
    try:
        info = m.store.info(m.code)
        exercise = None if info is None else member_exercise(m, info)
    except StoreUnavailable as err:
        st.toast(escape_markdown(err))
        return
    if info is not None:
        _apply_exercise(m, exercise, info.version)


def _watch(m: Member, *, streamed: bool) -> None:
    """While no stream runs (paused), look every WATCH_S whether the class asks
    something of this page, and run it whole again when it does. A tiny fragment: it
    reads the publisher's memory, never the store. Drawn on every run (idle while the
    stream carries the news): a fragment left out of a run keeps its timer in the
    browser, which then asked for a fragment the server no longer had."""
    seen = m.attention()

    @st.fragment(run_every=None if streamed else WATCH_S)
    def watch() -> None:
        if m.attention() != seen:
            st.rerun(scope="app")

    watch()


def class_box(run: LiveRun, *, playing: bool, waiting: bool, streamed: bool) -> None:
    """The class's part of the Playground: who the learner is in it, the spotlight note,
    a new exercise to take, or that the class ended. ``streamed``: the frames stream
    carries the class's news while it plays."""
    m = member()
    if m is None:
        return
    _watch(m, streamed=streamed)
    m.run, m.playing, m.waiting = weakref.ref(run), playing, waiting
    m.touched = time.monotonic()  # a full run: the learner touched something
    if m.class_version == 0 and m.version:
        try:
            gone = m.store.info(m.code) is None
        except StoreUnavailable:
            gone = False
        if gone:
            _leave()
            st.info("Your class has ended. Your network stays here; go on as you like.")
            return
    with st.container(border=True):
        st.text(f"Class {m.code} · you appear as: {m.name}")
        if text := experiment_text(m):
            st.text(text)
        st.text_input(
            "Your name",
            value=m.name,
            max_chars=24,
            key="class_name",
            on_change=_rename,
            help="What your teacher and the class see on the wall (plain text).",
        )
        if m.on_screen:
            st.caption(":material/cast: Your teacher shows your network on the class's screen.")
        if m.class_version > m.version:
            _new_exercise(m)


def _new_exercise(m: Member) -> None:
    """The teacher sent a new exercise: it applies at once where it fixes controls (the
    class works on one idea), else the learner is offered it."""
    try:
        info = m.store.info(m.code)
    except StoreUnavailable as err:
        st.warning(escape_markdown(err))
        return
    if info is None:
        return
    lesson, _ = lesson_from_query(info.exercise)
    # An experiment fixes its knob; one that ended frees it: both apply by themselves.
    if lesson.hide or info.experiment is not None or m.knob:
        # Widgets take new values only before they are drawn: on the next run.
        st.session_state[APPLY] = True
        st.toast("Your teacher changed the exercise: it applies now.")
        st.rerun()
    st.info("Your teacher changed the exercise.")
    st.button("Take the new exercise", on_click=_take_new_exercise, type="primary")
