"""The Class page's parts: creating a class (its join link, QR code and the teacher's
link), the teacher's live wall of tiles, the spotlight for the projector, the class
experiment (one knob, a value per learner, plotted live), the leaderboard, sending a new
exercise, and ending the class. Every part past creation needs the teacher's secret; a
wrong or missing one shows no learner at all."""

import base64
import html
import io
import re
import time
from urllib.parse import urlencode

import numpy as np
import segno
import streamlit as st

from playground.classroom.model import (
    KNOBS,
    STUCK,
    ClassInfo,
    Experiment,
    Tile,
    experiment_csv,
    experiment_tiles,
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
from playground.core.errors import PlaygroundError
from playground.core.presets import PRESETS
from playground.core.train import METRIC_LABELS
from playground.figures.boundary import canvas_uids
from playground.figures.class_experiment import class_experiment_figure
from playground.figures.readouts import fmt_metric
from playground.figures.tile import spotlight_figures
from playground.figures.wire import encode_live
from playground.ui import challenge_panel, classroom, links, run_state, teacher
from playground.ui.escape import escape_markdown
from playground.ui.live_plot import live_plot

WALL_S = 1.0  # the wall's refresh: tiles are made once a second (classroom.publish)
SPOT_S = 1.0
SPOT_DRAWN = "_class_spot_drawn"  # session key: the spotlight the page was drawn with
BOARD_S = 2.0  # the leaderboard changes only when someone passes
QR_ALT = "QR code of the join link"
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
        "class", cfg, fixed_word="Fix these controls (learners cannot change them)"
    )
    return {**to_query(cfg), **lesson_query(lesson)}


def experiment_inputs(preset: str | None = None) -> Experiment | None:
    """The knob, its range and the number of values; None (with the reason shown) when
    they make no experiment. ``preset``: the knob to preselect (a lesson's link)."""
    knobs = list(KNOBS)
    knob = st.selectbox(
        "Knob every learner turns",
        knobs,
        index=knobs.index(preset) if preset in KNOBS else 0,
        format_func=lambda k: KNOBS[k].label,
        key="exp_knob",
    )
    k = KNOBS[knob]
    kind = {"step": 1, "format": "%d"} if k.whole else {"format": "%g"}
    cast = int if k.whole else float
    left, mid, right = st.columns(3)
    # A key per knob: each knob keeps its own range when the teacher switches between them.
    start = left.number_input(
        "From",
        cast(k.lo),
        cast(k.hi),
        cast(k.start),
        key=f"exp_from_{knob}",
        **kind,
    )
    stop = mid.number_input(
        "To", cast(k.lo), cast(k.hi), cast(k.stop), key=f"exp_to_{knob}", **kind
    )
    count = right.number_input(
        "Values (N)",
        1,
        200,
        10,
        key="exp_count",
        help="The n-th learner to join gets the n-th value; past N, the first again.",
    )
    log = st.toggle("Log spacing", value=k.log, key=f"exp_log_{knob}")
    try:
        experiment = Experiment(knob, float(start), float(stop), int(count), bool(log))
    except PlaygroundError as err:
        st.warning(escape_markdown(err))
        return None
    values = experiment.values()
    shown = ", ".join(f"{v:g}" for v in values[:8]) + (", …" if len(values) > 8 else "")
    st.caption(f"Values: {shown}. {escape_markdown(k.lesson)}")
    return experiment


def create_form(store: ClassStore) -> None:
    st.write(
        "Create a class, share its join link (or QR code), and watch every learner's "
        "network live on one wall."
    )
    # A lesson's "Run this as a class experiment" link names the knob to preselect.
    preset = st.query_params.get("experiment")
    with st.container(border=True):
        title = st.text_input("Name of the class (optional)", max_chars=60)
        exercise = _exercise_choice()
        experiment = None
        if st.toggle(
            "Run a class experiment",
            value=preset in KNOBS,
            key="class_experiment_on",
            help="Every learner gets another value of one knob, fixed; the wall plots "
            "everyone's result against it.",
        ):
            experiment = experiment_inputs(preset)
        created = st.button("Create a class", type="primary")
    if not created:
        return
    code = new_code()
    secret = new_secret()
    limits = run_state.host_limits()
    info = ClassInfo(
        code,
        secret_hash(secret),
        exercise,
        title=title.strip()[:60],
        experiment=None if experiment is None else experiment.to_json(),
    )
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
            # Inline with its alt text (st.image gives the picture none).
            qr = base64.b64encode(_qr_png(join)).decode("ascii")
            st.html(
                f'<img src="data:image/png;base64,{qr}" alt="{QR_ALT}" '
                'style="width:200px;max-width:100%">'
            )
            st.caption(QR_ALT)


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
        label = METRIC_LABELS.get(tile.metric, tile.metric)  # the tile says "r2", not a task
        # "seen": how old this tile is (the load test reads it: the wall's staleness).
        st.caption(
            f"epoch {tile.epoch:,} · test loss {loss} · test {label} "
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


def experiment_plot(tiles: list[Tile], experiment: Experiment) -> None:
    """Every learner's test loss and score against their value of the knob, live, with
    the lesson's sentence for the knob beside it."""
    shown = sorted(experiment_tiles(tiles, experiment), key=lambda t: (t.value, t.name))
    metric = shown[0].metric if shown else "accuracy"
    left, right = st.columns([4, 1])
    with right:
        st.markdown(f"**{escape_markdown(experiment.label.capitalize())}**")
        st.write(escape_markdown(KNOBS[experiment.knob].lesson))
        st.caption(
            f"{escape_markdown(experiment.describe())}. {len(shown)} learner"
            f"{'' if len(shown) == 1 else 's'} in it."
        )
    with left:
        if not shown:
            st.caption("The class experiment's plot fills as learners take their values.")
            return
        fig = class_experiment_figure(
            [t.name for t in shown],
            [t.value for t in shown],
            [t.test_loss for t in shown],
            [t.score for t in shown],
            knob_label=experiment.label,
            metric_label=METRIC_LABELS.get(metric, metric),
            log_x=experiment.log,
        )
        # Updated in place every second (st.plotly_chart would be remounted).
        live_plot(fig.to_dict(), key="exp_plot", height=420)


def wall(store: ClassStore, code: str, experiment: Experiment | None = None) -> None:
    """One tile per learner, refreshed every WALL_S: the counts of each status, the
    class experiment's plot (when one runs), then the tiles in the chosen order."""

    @st.fragment(run_every=WALL_S)
    def tiles() -> None:
        try:
            all_tiles = store.tiles(code)
            spot = store.spotlight(code)
        except StoreUnavailable as err:
            st.error(escape_markdown(err))
            return
        if spot != st.session_state.get(SPOT_DRAWN):
            # The spotlight (its own fragment, ticking only while someone is on screen)
            # came or went: draw the page again around it.
            st.rerun(scope="app")
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
        if experiment is not None:
            experiment_plot(all_tiles, experiment)
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


def spotlight(store: ClassStore, code: str, *, projector: bool = False) -> None:
    """The spotlit learner's boundary, bends and loss, large and live. Its fragment ticks
    only while someone is on screen: two fragments ticking together each second lost
    one of their redraws now and then (the load test's wall_refresh_gap_max_s)."""
    try:
        on = store.spotlight(code)
    except StoreUnavailable:
        on = None
    st.session_state[SPOT_DRAWN] = on

    @st.fragment(run_every=SPOT_S if on else None)
    def show() -> None:
        try:
            member = store.spotlight(code)
            view = store.spotlight_view(code) if member else None
            names = store.roster(code) if member else {}
        except StoreUnavailable as err:
            st.error(escape_markdown(err))
            return
        if member is None:
            if projector:
                st.info(
                    "No learner is on screen: turn Projector view off and press "
                    '"Show on screen" on a tile.'
                )
            return
        st.subheader(f"On screen: {escape_markdown(names.get(member, 'a learner'))}")
        st.button(
            "Stop showing", key="spot_stop", on_click=_set_spotlight, args=(store, code, None)
        )
        if view is None:
            st.caption("Waiting for the learner's picture…")
            return
        height = 700 if projector else 620  # a 1080-high projector shows it whole
        boundary, arrays, losses = spotlight_figures(view, _spot_data(view), height=height)
        left, right = st.columns([3, 2])
        # The Playground's own live chart, the output painted on its canvas: it updates
        # in place (st.plotly_chart in a fragment rerun every second left a blank chart
        # behind each time).
        with left:
            fig = boundary.to_dict()
            live_plot(
                fig,
                key="spot_boundary",
                height=height,
                arrays=encode_live(arrays),
                canvas=canvas_uids(fig),
            )
            st.caption(f"Epoch {view['epoch']:,}")
        with right:
            live_plot(losses.to_dict(), key="spot_loss", height=310)
        right.caption(
            f"{escape_markdown(view['shape'])}: the lines are the first layer's bends. "
            'For the projector: "Projector view" at the top, then the browser\'s full '
            "screen (F11)."
        )

    show()


def leaderboard(store: ClassStore, code: str) -> None:
    """One table per challenge someone passed, best first (names as plain text)."""

    @st.fragment(run_every=BOARD_S)
    def boards() -> None:
        try:
            all_boards = store.leaderboards(code)
        except StoreUnavailable as err:
            st.error(escape_markdown(err))
            return
        st.subheader("Leaderboard")
        if not all_boards:
            st.caption(
                "No one has passed a challenge yet (the Playground's Challenges panel: "
                "Submit grades a learner's network on the server)."
            )
            return
        for name, entries in all_boards.items():
            st.markdown(f"**{escape_markdown(challenge_panel.challenge_title(name))}**")
            if about := entries[0].get("about"):  # a teacher's own: its terms
                st.caption(escape_markdown(about))
            challenge_panel.show_leaderboard(entries, full=True)

    boards()


def _start_experiment(store: ClassStore, code: str, experiment: Experiment | None) -> None:
    try:
        store.start_experiment(code, None if experiment is None else experiment.to_json())
    except StoreUnavailable as err:
        st.toast(escape_markdown(err))


def experiment_controls(store: ClassStore, info: ClassInfo, experiment: Experiment | None) -> None:
    """Start a class experiment (or a new one), stop it, download its table."""
    with st.expander("Class experiment", expanded=experiment is not None):
        if experiment is not None:
            st.write(f"Running: {escape_markdown(experiment.describe())}.")

            def table() -> str:  # made when clicked: the table as it is then
                return experiment_csv(store.tiles(info.code), experiment)

            st.download_button(
                "Download the experiment (CSV)",
                table,
                file_name=f"class-{info.code}-{experiment.knob}.csv",
                mime="text/csv",
                on_click="ignore",
                key="exp_csv",
            )
            st.button(
                "Stop the experiment",
                key="exp_stop",
                on_click=_start_experiment,
                args=(store, info.code, None),
                help="Every learner goes back to the class's exercise; the knob is free again.",
            )
            st.divider()
        st.caption(
            "Every learner, already in or joining later, gets the next value of one knob, "
            "fixed; the wall plots everyone's test loss and score against it."
        )
        new = experiment_inputs()
        st.button(
            "Start a new experiment" if experiment is not None else "Start the experiment",
            key="exp_start",
            type="primary",
            disabled=new is None,
            on_click=_start_experiment,
            args=(store, info.code, new),
        )


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
    projector = st.toggle(
        "Projector view: only the learner on screen, large",
        key="projector",
        help="Hides the links and the wall; turn it off to pick another learner.",
    )
    if projector:
        spotlight(store, info.code, projector=True)
        return
    invite(info, secret, learners=learners)
    experiment = None
    if info.experiment is not None:
        try:
            experiment = Experiment.from_json(info.experiment)
        except (PlaygroundError, KeyError, TypeError, ValueError):
            st.warning("This class's experiment cannot be read by this server's version.")
    spotlight(store, info.code)
    wall(store, info.code, experiment)
    leaderboard(store, info.code)
    experiment_controls(store, info, experiment)
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
