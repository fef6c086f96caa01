"""The Class page's parts: creating a class (its join link, QR code and the teacher's
link), the teacher's live wall of tiles, the spotlight for the projector, sending a new
exercise, and ending the class. Every part past creation needs the teacher's secret; a
wrong or missing one shows no learner at all."""

import html
import io
import re
import time
from urllib.parse import urlencode

import numpy as np
import segno
import streamlit as st

from playground.classroom.model import (
    STUCK,
    ClassInfo,
    Tile,
    is_teacher,
    new_code,
    new_secret,
    normal_code,
    secret_hash,
    sorted_tiles,
    status_counts,
)
from playground.classroom.store import ClassStore, StoreUnavailable
from playground.core.config import RunConfig, lesson_query, to_query
from playground.core.datasets import Dataset
from playground.core.presets import PRESETS
from playground.core.train import metric_label
from playground.figures.readouts import fmt_metric
from playground.figures.tile import spotlight_figures
from playground.figures.wire import encode_live
from playground.ui import classroom, links, run_state, teacher
from playground.ui.escape import escape_markdown
from playground.ui.live_plot import live_plot

WALL_S = 1.0  # the wall's refresh: tiles are made once a second (classroom.publish)
SPOT_S = 1.0
NOT_TEACHER = "This link is not a teacher's link."
CURRENT = "The Playground's current settings"
STATUS_ICONS = {
    "diverged": ":material/error:",
    "dead layer": ":material/heart_broken:",
    "stalled": ":material/hourglass_empty:",
    "waiting": ":material/schedule:",
    "playing": ":material/play_arrow:",
    "paused": ":material/pause:",
    "idle": ":material/bedtime:",
    "left": ":material/logout:",
}
SORTS = {"status": "Stuck first", "score": "Best score", "name": "Name"}
COLUMNS = 6
BASE64 = re.compile(r"[A-Za-z0-9+/]+={0,2}")  # a tile's picture goes into an attribute


def class_url(query: dict[str, str]) -> tuple[str, str | None]:
    """The Class page's whole link with ``query`` (the teacher's), and the warning when
    learners on other computers cannot open the app's address."""
    where = links.app_address(run_state.host_limits().public_url)
    return f"{where.url.rstrip('/')}/class?{urlencode(query)}", where.warning


def _exercise_choice() -> dict[str, str]:
    """What the class starts with (or is sent): the Playground's settings with the
    controls to fix, the task and the goal; or a preset's."""
    names = [CURRENT, *PRESETS]
    pick = st.selectbox(
        "Start from",
        names,
        format_func=lambda n: n if n == CURRENT else f"Exercise: {PRESETS[n].title}",
        key="class_start",
    )
    if pick != CURRENT:
        preset = PRESETS[pick]
        st.caption(f"Task: {escape_markdown(preset.task)}")
        return preset.query()
    run = st.session_state.get("run")
    cfg = run.cfg if run is not None else RunConfig()
    lesson = teacher.exercise_inputs(
        "class", fixed_word="Fix these controls (learners cannot change them)"
    )
    return {**to_query(cfg), **lesson_query(lesson)}


def create_form(store: ClassStore) -> None:
    st.write(
        "Create a class, share its join link (or QR code), and watch every learner's "
        "network live on one wall."
    )
    with st.container(border=True):
        title = st.text_input("Name of the class (optional)", max_chars=60)
        exercise = _exercise_choice()
        created = st.button("Create a class", type="primary")
    if not created:
        return
    code = new_code()
    secret = new_secret()
    limits = run_state.host_limits()
    info = ClassInfo(code, secret_hash(secret), exercise, title=title.strip()[:60])
    try:
        store.create(info, idle_s=limits.class_idle_minutes * 60)
    except StoreUnavailable as err:
        st.error(escape_markdown(err))
        return
    st.query_params.from_dict({"class": code, "teacher": secret})
    st.rerun()


def _qr_png(url: str) -> bytes:
    buf = io.BytesIO()
    segno.make(url, error="m").save(buf, kind="png", scale=6, border=2)
    return buf.getvalue()


def invite(info: ClassInfo, secret: str, *, learners: int) -> None:
    """The join link (text, copy button, QR code) and the teacher's own link."""
    join, warning = links.teacher_link({"class": info.code}, run_state.host_limits().public_url)
    with st.expander(f"Invite your learners: class code {info.code}", expanded=learners == 0):
        if warning:
            st.warning(escape_markdown(warning))
        left, right = st.columns([3, 1])
        with left:
            st.write("**Join link** (learners open it and give a name):")
            teacher.copy_url(join, key="class_join_copy")
            teacher_url, _ = class_url({"class": info.code, "teacher": secret})
            st.write(
                "**Your teacher link** (keep it to yourself: whoever opens it runs this class):"
            )
            teacher.copy_url(teacher_url, key="class_teacher_copy")
        with right:
            st.image(_qr_png(join), caption="QR code of the join link", width=200)


def _tile(tile: Tile, spot: str | None, store: ClassStore, code: str, now: float) -> None:
    status = tile.seen_status(now)
    with st.container(border=True, key=f"tile_{tile.member}"):
        if BASE64.fullmatch(tile.picture):
            # Inline, not st.image: a media file per tile per second, replaced before
            # the browser fetched it, showed as a broken image.
            alt = html.escape(f"{tile.name}'s decision boundary", quote=True)
            st.html(
                f'<img src="data:image/png;base64,{tile.picture}" alt="{alt}" '
                'style="width:100%;image-rendering:auto;border-radius:4px">'
            )
        st.text(tile.name)  # plain text: a name is never HTML or Markdown
        st.markdown(
            f"{STATUS_ICONS[status]} **{status}**" + (" · on screen" if spot == tile.member else "")
        )
        score = fmt_metric(tile.score, tile.metric) if np.isfinite(tile.score) else "–"
        loss = f"{tile.test_loss:.3g}" if np.isfinite(tile.test_loss) else "–"
        # "seen": how old this tile is (the load test reads it: the wall's staleness).
        st.caption(
            f"epoch {tile.epoch:,} · test loss {loss} · test {metric_label(tile.metric)} "
            f"{score}  \n{tile.shape} · seen {max(0.0, now - tile.updated):.1f} s ago"
        )
        on = spot == tile.member
        st.button(
            "Stop showing" if on else "Show on screen",
            key=f"spot_{tile.member}",
            on_click=_set_spotlight,
            args=(store, code, None if on else tile.member),
            width="stretch",
        )


def _set_spotlight(store: ClassStore, code: str, member: str | None) -> None:
    try:
        store.set_spotlight(code, member)
    except StoreUnavailable as err:
        st.toast(escape_markdown(err))


def wall(store: ClassStore, code: str) -> None:
    """One tile per learner, refreshed every WALL_S: the counts of each status, then the
    tiles in the chosen order."""

    @st.fragment(run_every=WALL_S)
    def tiles() -> None:
        try:
            all_tiles = store.tiles(code)
            spot = store.spotlight(code)
        except StoreUnavailable as err:
            st.error(escape_markdown(err))
            return
        now = time.time()
        counts = status_counts(all_tiles, now)
        shown = [f"{n} {s}" for s, n in counts.items() if n]
        stuck = sum(counts[s] for s in STUCK)
        n = len(all_tiles)
        head = f"**{n} learner{'' if n == 1 else 's'}**"
        head += ": " + " · ".join(shown) if shown else ""
        if stuck:
            head += f"  \n:red[{stuck} may be stuck]"
        st.markdown(head)
        if not all_tiles:
            st.info("No learner has joined yet: share the join link.")
            return
        by = st.segmented_control(
            "Order", list(SORTS), format_func=SORTS.get, default="status", key="wall_sort"
        )
        ordered = sorted_tiles(all_tiles, by or "status", now)
        for start in range(0, len(ordered), COLUMNS):
            for col, tile in zip(
                st.columns(COLUMNS), ordered[start : start + COLUMNS], strict=False
            ):
                with col:
                    _tile(tile, spot, store, code, now)

    tiles()


def _spot_data(view: dict) -> Dataset:
    x = np.asarray(view["x_train"], np.float32).reshape(-1, 2)
    y = np.asarray(view["y_train"])
    return Dataset(
        name="spotlight",
        task=view["task"],
        n_classes=int(view["n_classes"]),
        x_train=x,
        y_train=y,
        x_test=x[:0],
        y_test=y[:0],
        class_names=tuple(view.get("class_names") or ()),
    )


def spotlight(store: ClassStore, code: str) -> None:
    """The spotlit learner's boundary, bends and loss, large and live."""

    @st.fragment(run_every=SPOT_S)
    def show() -> None:
        try:
            member = store.spotlight(code)
            view = store.spotlight_view(code) if member else None
            names = store.roster(code) if member else {}
        except StoreUnavailable as err:
            st.error(escape_markdown(err))
            return
        if member is None:
            return
        st.subheader(f"On screen: {escape_markdown(names.get(member, 'a learner'))}")
        st.button(
            "Stop showing", key="spot_stop", on_click=_set_spotlight, args=(store, code, None)
        )
        if view is None:
            st.caption("Waiting for the learner's picture…")
            return
        boundary, arrays, losses = spotlight_figures(view, _spot_data(view), height=620)
        left, right = st.columns([3, 2])
        # The Playground's own live chart, the output painted on its canvas: it updates
        # in place (st.plotly_chart in a fragment rerun every second left a blank chart
        # behind each time).
        with left:
            fig = boundary.to_dict()
            bends = [i for i, t in enumerate(fig["data"]) if t.get("mode") == "lines"]
            live_plot(
                fig, key="spot_boundary", height=620, arrays=encode_live(arrays), canvas=[0, *bends]
            )
            st.caption(f"Epoch {view['epoch']:,}")
        with right:
            live_plot(losses.to_dict(), key="spot_loss", height=310)
        right.caption(
            f"{escape_markdown(view['shape'])}: the lines are the first layer's bends. "
            "Full screen: the plot's toolbar."
        )

    show()


def send_exercise(store: ClassStore, code: str) -> None:
    with st.expander("Send a new exercise to the class"):
        exercise = _exercise_choice()
        sent = st.button("Send to class", type="primary")
        if sent:
            try:
                version = store.send_exercise(code, exercise)
            except StoreUnavailable as err:
                st.error(escape_markdown(err))
                return
            if version:
                st.success(
                    "Sent: every learner is told; where you fixed controls, it applies by itself."
                )


def _end(store: ClassStore, code: str) -> None:
    try:
        store.end(code)
    except StoreUnavailable as err:
        st.toast(escape_markdown(err))
        return
    st.query_params.clear()
    st.session_state["class_ended"] = code


def teacher_view(store: ClassStore, info: ClassInfo, secret: str) -> None:
    name = info.title or f"Class {info.code}"
    st.subheader(escape_markdown(name))
    try:
        learners = len(store.roster(info.code))
    except StoreUnavailable:
        learners = 0
    invite(info, secret, learners=learners)
    spotlight(store, info.code)
    wall(store, info.code)
    send_exercise(store, info.code)
    with st.popover("End class"):
        st.write("Ending the class deletes its roster, tiles and exercise for good.")
        st.button("End the class for everyone", on_click=_end, args=(store, info.code))


def class_page() -> None:
    ss = st.session_state
    if ended := ss.pop("class_ended", None):
        st.success(f"Class {ended} has ended and its data is deleted.")
    store = classroom.store()
    if store is None:
        return
    params = st.query_params.to_dict()
    code, secret = normal_code(params.get("class", "")), params.get("teacher", "")
    if not (code or secret):
        create_form(store)
        return
    try:
        info = store.info(code) if code else None
    except StoreUnavailable as err:
        st.error(escape_markdown(err))
        return
    if not is_teacher(info, secret):
        st.error(NOT_TEACHER)
        if code and not secret:
            st.caption("Learners join a class with its join link, on the Playground.")
        elif secret and info is None:
            st.caption("Or the class has ended (a class nobody uses for a while ends too).")
        return
    teacher_view(store, info, secret)
