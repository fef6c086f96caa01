"""The session's one live run, shared by every page that shows it.

Pages call ``sidebar_config`` (widgets -> config), ``sync_run`` (config -> the session's
LiveRun), ``play_controls`` (Play / Pause, Step, Reset) and read the run inside
``trainer().reading()``. Training itself happens on the server's scheduler (live.scheduler), which
every full rerun stops first, so nothing changes the run while it trains.
"""

import math
import uuid

import streamlit as st

from playground.core.config import (
    FIELDS,
    UPLOAD_PROBLEM,
    Lesson,
    RunConfig,
    from_query,
    lesson_from_query,
    lesson_query,
    to_query,
)
from playground.core.errors import PlaygroundError
from playground.core.train import metric_label, metric_name
from playground.figures.readouts import fmt_metric
from playground.live.server import startup, stream
from playground.live.server.frames import GRID_N, PictureEncoder
from playground.live.server.precompile import precompile_in_background
from playground.live.server.scheduler import SessionTrainer, process_scheduler
from playground.live.server.startup import host_limits
from playground.live.session.live_run import NARROW_WIDTH, UPLOAD_CHANGE, LiveRun
from playground.ui import challenge_panel, classroom, controls, data_panel, links
from playground.ui.escape import escape_markdown

WAITING_FOR_UPLOAD = (
    "Upload a CSV file in the sidebar (under Data) to train on your own points; until "
    "then the page keeps showing the problem it showed before."
)

# Session key: a callback of a control inside the page's live fragment paused training.
# Streamlit reruns only that fragment after such a callback, so ``stop_on_trouble`` then
# redraws the whole page, whose Play / Pause button is outside the fragment.
REDRAW_PAGE = "_redraw_page"
# Session key: the query this page last wrote into the address bar (another one means a
# lesson's Try-it link brought settings of its own).
WRITTEN_QUERY = "_written_query"


def trainer() -> SessionTrainer:
    """This session's handle on the server's one scheduler."""
    ss = st.session_state
    if "trainer" not in ss:
        ss.trainer = SessionTrainer(process_scheduler(host_limits()), uuid.uuid4().hex)
    return ss.trainer


def streaming() -> bool:
    """Whether this server pushes pictures over the frames stream (``streamlit run``
    serves the app's own routes; a test harness without a server does not)."""
    return startup.ROUTES_SERVED


def stream_link() -> stream.StreamLink:
    """This session's frames stream (its token stays in this session)."""
    ss = st.session_state
    if "stream_link" not in ss:
        ss.stream_link = stream.StreamLink(trainer().key, trainer().scheduler)
    return ss.stream_link


def hold() -> None:
    """Stop training until the page says otherwise: nothing may change the run while it
    trains, and the stream must not start it again meanwhile."""
    if "stream_link" in st.session_state:
        st.session_state.stream_link.playing = False
    trainer().stop()


def pause_from_fragment() -> None:
    """Pause, from a callback of a control inside the page's live fragment (the page is
    redrawn whole next, see REDRAW_PAGE)."""
    ss = st.session_state
    hold()
    if ss.get("playing"):
        ss.playing = False
        ss[REDRAW_PAGE] = True


def on_stream_stopped() -> None:
    """The stream says training stopped by itself (the boundary chart's trigger, inside
    the live fragment): pause, so that the button reads Play at once."""
    pause_from_fragment()


def on_class_attention() -> None:
    """The stream says the class asks something of this learner (a new exercise, the
    spotlight on or off): the whole page runs again to show it; training goes on."""
    st.session_state[REDRAW_PAGE] = True


def go_back_to_best() -> None:
    """The "Go back to the best weights" button: pause, then restore them."""
    pause_from_fragment()
    st.session_state.run.restore_best()


def start_run(cfg: RunConfig) -> LiveRun:
    """A run for the config; on bad data settings, say why and fall back to XOR."""
    try:
        return LiveRun(cfg, upload=st.session_state.get("upload"), limits=host_limits())
    except PlaygroundError as err:
        st.error(f"{escape_markdown(err)}. Showing the XOR problem instead.")
        return LiveRun(cfg.replace(problem="xor"), limits=host_limits())


def change_notice(changed: list[str]) -> str:
    """What a change that started a new run did, in plain words."""
    names = [
        "The uploaded data" if name == UPLOAD_CHANGE else FIELDS[name].label for name in changed
    ]
    what = " and ".join(names) if len(names) < 3 else ", ".join(names[:-1]) + " and " + names[-1]
    return f"{what} changed: a new network starts from epoch 0."


def sync_run(cfg: RunConfig) -> LiveRun:
    """The session's run, created or brought up to the widgets' config."""
    ss = st.session_state
    run: LiveRun | None = ss.get("run")
    if cfg.problem == UPLOAD_PROBLEM and ss.get("upload") is None:
        # Nothing to train on yet: not an error, the sidebar asks for the file.
        st.info(WAITING_FOR_UPLOAD)
        cfg = cfg.replace(problem=run.cfg.problem if run else "xor")
    upload = ss.get("upload")
    if run is None:
        ss.run = run = start_run(cfg)
    # Another file with the same settings is a change too: the run takes its points.
    elif cfg != run.cfg or (cfg.problem == UPLOAD_PROBLEM and upload is not run.upload):
        try:
            changed = run.apply(cfg, upload=upload)
        except PlaygroundError as err:
            st.error(f"{escape_markdown(err)}. The previous run is kept.")
        else:
            if changed:
                st.toast(change_notice(changed))
                ss.playing = False
    for note in run.limit_notes:  # the host's limits, in plain words, as long as they bind
        st.warning(escape_markdown(note))
    ss[WRITTEN_QUERY] = {**to_query(run.cfg), **lesson_query(lesson()), **classroom.query()}
    st.query_params.from_dict(ss[WRITTEN_QUERY])
    return run


def toggle_play() -> None:
    hold()
    ss = st.session_state
    if not ss.get("playing") and ss.run.halted:
        ss.run.resume()  # Play after a stop goes on (a dead layer stays dead)
    ss.playing = not ss.get("playing", False)


def step_epoch() -> None:
    hold()
    run: LiveRun = st.session_state.run
    if run.halted:
        run.resume()
    run.train_steps(run.steps_per_epoch)
    st.session_state.playing = False


def reset_run() -> None:
    hold()
    st.session_state.run.reset()
    st.session_state.playing = False


def lesson() -> Lesson:
    """What the link this session opened hides and starts (a teacher's link)."""
    return controls.lesson()


def take_lesson_settings(params: dict[str, str]) -> None:
    """A lesson's Try-it link opened the Playground in this session: its settings go
    into the widgets (the next ``sync_run`` starts their run), except those a teacher's
    link fixed."""
    ss = st.session_state
    cfg, notices = from_query(params)
    fixed = {n: getattr(ss.run.cfg, n) for n in lesson().hide}
    controls.init_widgets(cfg.replace(**fixed), force=True)
    ss.link_notices = notices
    ss.playing = False


def lesson_box(cfg: RunConfig) -> None:
    """A teacher's exercise at the top of the page: its task and goal, and the settings
    the link fixed (with their values), as plain text."""
    task, goal = lesson().task, lesson().goal
    lines = [f"**Your task:** {escape_markdown(task)}"] if task else []
    if goal is not None:
        lines.append(f"**Goal:** {escape_markdown(goal.words())}.")
    if challenge := challenge_panel.teacher_challenge():
        lines.append(
            f"**A challenge:** {escape_markdown(challenge.limits_text())}; press "
            "Submit under Challenges, and the server grades your network."
        )
    if fixed := controls.fixed_text(cfg):
        lines.append(f"This link fixes: {escape_markdown(fixed)}.")
    if lines:
        st.info("\n\n".join(lines), icon=":material/school:")


def goal_note(run: LiveRun) -> None:
    """Say so once the run reaches the link's goal (its test score at or above it)."""
    goal = lesson().goal
    if goal is None:
        return
    if goal.metric != metric_name(run.spec.task):
        st.caption(
            f"The goal is a {escape_markdown(goal.words())}, but this problem is scored by "
            f"{metric_label(run.spec.task)}."
        )
        return
    score = run.metrics.test_metric
    if math.isfinite(score) and score >= goal.at_least and run.step > 0:
        units = sum(run.spec.hidden)
        kind = "ReLUs" if run.cfg.activation == "relu" else "hidden units"
        net = f"{units} {kind} (layers {list(run.spec.hidden)})" if units else "no hidden layer"
        st.success(
            f"Goal reached at epoch {run.epoch:,}: test {metric_label(run.spec.task)} "
            f"{fmt_metric(score, goal.metric)}, with {net}.",
            icon=":material/check_circle:",
        )


def sidebar_config() -> RunConfig:
    """Stop training, seed widgets from a share link on the first visit, draw the
    sidebar, and return the config it shows."""
    ss = st.session_state
    hold()  # a full rerun may change the run: never while it trains
    controls.keep_values()
    if "run" in ss:
        params = st.query_params.to_dict()
        classroom.apply_pending()
        if links.arrived_with(params, ss.get(WRITTEN_QUERY)):
            if held := classroom.fixed_settings_hold(params):
                st.info(held)
            take_lesson_settings(params)
        controls.init_widgets(ss.run.cfg)  # any widget value still missing: the run's
    elif "link_notices" not in ss:
        params = st.query_params.to_dict()
        cfg, notices = from_query(params)
        ss.lesson, lesson_notices = lesson_from_query(params)
        controls.init_widgets(cfg)
        ss.link_notices = notices + lesson_notices
        ss.playing = ss.lesson.play  # a teacher's link may start training at once
        # A class's join link: the class's exercise, not the address's, from here on.
        class_notices = classroom.join_from_link(params, host_limits().max_class_size)
        if classroom.member() is not None:
            ss.link_notices = []
        ss.class_notices = class_notices
    for notice in ss.pop("link_notices", []):
        st.warning(f"Share link: {escape_markdown(notice)}")
    for notice in ss.pop("class_notices", []):
        st.warning(escape_markdown(notice))
    sb = st.sidebar
    sections = {
        "data": sb.expander("Data", expanded=True),
        "model": sb.expander("Network", expanded=True),
        "training": sb.expander("Training", expanded=True),
        "view": sb.expander("View", expanded=False),
    }
    hidden = lesson().hide
    if "seed" not in hidden:
        sections["data"].button(
            "Regenerate", on_click=controls.bump_seed, help="New points and new first weights."
        )
    cfg = controls.read_config(sections, after={"problem": data_panel.upload_box}, hidden=hidden)
    ss["_view_box"] = sections["view"]
    # Once per process: the widths and depths next to this one compile on a thread.
    precompile_in_background(cfg)
    return cfg


def view_section():
    """The sidebar's "View" expander, for a page's own display options."""
    return st.session_state["_view_box"]


def play_controls(note: str = "") -> bool:
    """Play / Pause, Step and Reset in one row (on a phone too); returns whether
    training is playing. Play and Pause are one button under one key, so it keeps the
    keyboard focus when its label changes."""
    playing = st.session_state.get("playing", False)
    with st.container(horizontal=True, gap="small", vertical_alignment="center"):
        # No tooltip on Play: it would cover the text above while the pointer or the
        # keyboard focus rests on the button.
        st.button("Pause" if playing else "Play", key="play_pause", on_click=toggle_play,
                  type="primary", width=90)  # fmt: skip
        st.button("Step", on_click=step_epoch, help="Train one epoch.", width=80)
        st.button("Reset", on_click=reset_run, help="Fresh weights.", width=80)
    if note:
        st.caption(note)
    return playing


def train_in_background(
    run: LiveRun, *, snapshot_grid: int | None = None, snapshot_bends: bool = True
) -> None:
    """Called by a page's live fragment: keep training while Play is on (taking
    snapshots of the run for playback when ``snapshot_grid`` is set)."""
    ss = st.session_state
    if ss.get("playing") and not run.halted:
        trainer().start(run, snapshot_grid=snapshot_grid, snapshot_bends=snapshot_bends)
        ss._frame = ss.get("_frame", 0) + 1


def stream_training(run: LiveRun, view, *, bends: bool) -> dict | None:
    """Called once per full run of a page that streams: while Play is on, train with
    pictures packed for this page's ``view`` and return the stream's spec for the
    browser; None when paused."""
    ss = st.session_state
    link = stream_link()
    link.live, link.view = run, view
    if not (ss.get("playing") and not run.halted):
        link.playing = False
        return None
    encode = PictureEncoder(run.data, view)

    def resume():
        return trainer().start(run, snapshot_grid=GRID_N, snapshot_bends=bends, encode=encode)

    link.resume, link.playing = resume, True
    if (m := classroom.member()) is not None:  # the stream tells the page what the class asks
        link.attention, link.note = m.attention, m.note
    resume()
    base = (st.get_option("server.baseUrlPath") or "").strip("/")
    url = f"/{base}{stream.PATH}" if base else stream.PATH
    return {"url": url, "token": link.token, "key": link.frames_key}


def waiting_note() -> None:
    """Say so when the server is full and this run waits for a free place. (With the
    stream the plot says so instead, and stops saying it when the run is let in.)"""
    ahead = trainer().scheduler.ahead(trainer().key)
    if st.session_state.get("playing") and ahead and not streaming():
        st.info(
            f"The server is full: your run waits ({ahead} ahead of you). It starts by "
            "itself when a place frees up."
        )


def dead_layer_message(run: LiveRun) -> str:
    """Why training stopped, and the likeliest cause (``live_run.dead_layer_cause``)."""
    d, hidden = run.dead_layer, run.spec.hidden
    units = {1: "the only unit", 2: "both units"}.get(d.width, f"all {d.width} units")
    verb = "is" if d.width == 1 else "are"
    text = (
        f"Training stopped: {units} of layer {d.layer + 1} {verb} off for every training "
        "point, so no gradient reaches that layer or any before it: the network cannot "
        "learn any more. "
    )
    if d.cause == "narrow":
        narrowest = min(hidden[: d.layer + 1])
        where = hidden.index(narrowest) + 1
        units = "1 unit" if narrowest == 1 else f"{narrowest} units"
        return text + (
            f"The likely cause: layer {where} is too narrow ({units}), and so few units can "
            f"all turn off at once. Give every layer at least {NARROW_WIDTH + 1} units and "
            "press Reset."
        )
    if d.cause == "deep":
        return text + (
            f"The likely cause: the network is deep ({len(hidden)} hidden layers), and each "
            "layer of ReLUs passes on only part of the signal. Use fewer layers (or wider "
            "ones) and press Reset."
        )
    return text + (
        f"The likely cause: steps too large for this network (learning rate "
        f"{run.cfg.learning_rate:g}). Lower the learning rate and press Reset."
    )


def score_drop_message(run: LiveRun) -> str:
    d, task = run.score_drop, run.spec.task
    metric = metric_name(task)
    return (
        f"Test {metric_label(task)} fell from {fmt_metric(d.best, metric)} (epoch "
        f"{d.best_epoch:,}) to {fmt_metric(d.now, metric)}: the steps are too large for this "
        "point of training. Lower the learning rate or turn on "
        f'"{FIELDS["early_stop"].label}", or go back to the best weights.'
    )


def early_stop_message(run: LiveRun) -> str:
    e = run.early_stop
    return (
        f"Paused: the test loss ({e.test_loss:.3g}) has not improved by more than 1% since "
        f"epoch {e.since_epoch:,}, {e.patience} epochs ago. Press Play to train on."
    )


def stop_on_trouble(run: LiveRun) -> None:
    """Say why training stopped (or that it is compiling), and when the test score fell
    far below its best, with a way back to its weights. If training stopped by itself
    while playing, or a control of the fragment paused it, redraw the whole page."""
    ss = st.session_state
    if trainer().error:
        st.error(escape_markdown(trainer().error))
    if run.message:
        st.error(escape_markdown(run.message))
    elif run.dead_layer is not None:
        st.error(dead_layer_message(run))
    elif run.early_stop is not None:
        st.info(early_stop_message(run))
    elif ss.get("playing") and run.compile_pending() and not streaming():
        # (With the stream the plot itself says so, and stops saying it once it trains.)
        st.info("Compiling the network (first time only)…", icon=":material/hourglass_top:")
    if run.score_drop is not None:
        st.warning(escape_markdown(score_drop_message(run)))
        st.button("Go back to the best weights", key="best_weights", on_click=go_back_to_best)
    redraw = ss.pop(REDRAW_PAGE, False)
    if run.halted and ss.get("playing"):
        ss.playing = False
        redraw = True
    if redraw:
        st.rerun(scope="app")
