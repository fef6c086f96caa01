"""The session's one live run, shared by every page that shows it.

Pages call ``sidebar_config`` (widgets -> config), ``sync_run`` (config -> the session's
LiveRun), ``play_controls`` (Play / Pause, Step, Reset) and read the run inside
``trainer().reading()``. Training itself happens on the BackgroundTrainer's thread, which
every full rerun stops first, so nothing changes the run while it trains.
"""

import streamlit as st

from playground.core.config import RunConfig, from_query, to_query
from playground.core.errors import PlaygroundError
from playground.live.compile_cache import enable_compile_cache, precompile_in_background
from playground.live.live_run import LiveRun
from playground.live.trainer import BackgroundTrainer
from playground.ui import controls, data_panel, live_view


def trainer() -> BackgroundTrainer:
    return st.session_state.setdefault("trainer", BackgroundTrainer())


def start_run(cfg: RunConfig) -> LiveRun:
    """A run for the config; on bad data settings, say why and fall back to XOR."""
    try:
        return LiveRun(cfg, upload=st.session_state.get("upload"))
    except PlaygroundError as err:
        st.error(f"{err}. Showing the XOR problem instead.")
        return LiveRun(cfg.replace(problem="xor"))


def sync_run(cfg: RunConfig) -> LiveRun:
    """The session's run, created or brought up to the widgets' config."""
    ss = st.session_state
    run: LiveRun | None = ss.get("run")
    if run is None:
        ss.run = run = start_run(cfg)
    elif cfg != run.cfg:
        try:
            for notice in run.apply(cfg, upload=ss.get("upload")):
                st.toast(notice)
                ss.playing = False
        except PlaygroundError as err:
            st.error(f"{err}. The previous run is kept.")
    st.query_params.from_dict(to_query(run.cfg))
    return run


def toggle_play() -> None:
    trainer().stop()
    ss = st.session_state
    if ss.run.diverged:
        ss.run.resume()
    ss.playing = not ss.get("playing", False)


def step_epoch() -> None:
    trainer().stop()
    run: LiveRun = st.session_state.run
    if run.diverged:
        run.resume()
    run.train_steps(run.steps_per_epoch)
    st.session_state.playing = False


def reset_run() -> None:
    trainer().stop()
    st.session_state.run.reset()
    st.session_state.playing = False


def sidebar_config() -> RunConfig:
    """Stop training, seed widgets from a share link on the first visit, draw the
    sidebar, and return the config it shows."""
    ss = st.session_state
    enable_compile_cache()
    trainer().stop()  # a full rerun may change the run: never while it trains
    controls.keep_values()
    if "run" in ss:
        controls.init_widgets(ss.run.cfg)  # any widget value still missing: the run's
    elif "link_notices" not in ss:
        cfg, notices = from_query(st.query_params.to_dict())
        controls.init_widgets(cfg)
        ss.link_notices = notices
    for notice in ss.pop("link_notices", []):
        st.warning(f"Share link: {notice}")
    sb = st.sidebar
    sections = {
        "data": sb.expander("Data", expanded=True),
        "model": sb.expander("Network", expanded=True),
        "training": sb.expander("Training", expanded=True),
        "view": sb.expander("View", expanded=False),
    }
    sections["data"].button(
        "Regenerate", on_click=controls.bump_seed, help="New points and new first weights."
    )
    data_panel.upload_box(sections["data"])
    cfg = controls.read_config(sections)
    ss["_view_box"] = sections["view"]
    # Once per process: the widths and depths next to this one compile on a thread.
    precompile_in_background(
        cfg, widths=controls.COMMON_WIDTHS, grids=(live_view.GRID_N,), unit_grid=live_view.THUMB_N
    )
    return cfg


def view_section():
    """The sidebar's "View" expander, for a page's own display options."""
    return st.session_state["_view_box"]


def play_controls(note: str = "") -> bool:
    """Play / Pause, Step and Reset; returns whether training is playing."""
    playing = st.session_state.get("playing", False)
    b1, b2, b3, b4 = st.columns([1, 1, 1, 5])
    b1.button(
        "Pause" if playing else "Play",
        on_click=toggle_play,
        type="primary",
        use_container_width=True,
        help="Train continuously / stop.",
    )
    b2.button("Step", on_click=step_epoch, use_container_width=True, help="Train one epoch.")
    b3.button("Reset", on_click=reset_run, use_container_width=True, help="Fresh weights.")
    if note:
        b4.caption(note)
    return playing


def train_in_background(
    run: LiveRun, *, snapshot_grid: int | None = None, snapshot_bends: bool = True
) -> None:
    """Called by a page's live fragment: keep training while Play is on (taking
    snapshots of the run for playback when ``snapshot_grid`` is set)."""
    ss = st.session_state
    if ss.get("playing") and not run.diverged:
        trainer().start(run, snapshot_grid=snapshot_grid, snapshot_bends=snapshot_bends)
        ss._frame = ss.get("_frame", 0) + 1


def stop_on_trouble(run: LiveRun) -> None:
    """Show why training stopped; if it was playing, pause and redraw the whole page."""
    ss = st.session_state
    if trainer().error:
        st.error(trainer().error)
    if run.message:
        st.error(run.message)
        if ss.get("playing"):
            ss.playing = False
            st.rerun(scope="app")
