"""The Playground: pick a problem and a network, press Play, watch it learn.

Widgets -> config -> the session's LiveRun -> live figures. Data and architecture
changes start a new run; learning rate, penalty, dropout, batch size and optimizer
apply to the running one. The whole configuration lives in the URL (the share link).
"""

import streamlit as st

from playground.config import from_query, to_query
from playground.errors import PlaygroundError
from playground.session import BackgroundTrainer, LiveRun, enable_compile_cache
from playground.ui import controls, data_panel, live_view

FRAME_SECONDS = 0.05  # the browser asks for a new frame this often while playing


def start_run(cfg) -> LiveRun:
    """A run for the config; on bad data settings, say why and fall back to the default."""
    try:
        return LiveRun(cfg, upload=st.session_state.get("upload"))
    except PlaygroundError as err:
        st.error(f"{err}. Showing the XOR problem instead.")
        return LiveRun(cfg.replace(problem="xor"))


def sync_run(cfg) -> LiveRun:
    ss = st.session_state
    run: LiveRun | None = ss.get("run")
    if run is None:
        ss.run = run = start_run(cfg)
        return run
    if cfg != run.cfg:
        try:
            for notice in run.apply(cfg, upload=ss.get("upload")):
                st.toast(notice)
                ss.playing = False
        except PlaygroundError as err:
            st.error(f"{err}. The previous run is kept.")
    return run


def trainer() -> BackgroundTrainer:
    return st.session_state.setdefault("trainer", BackgroundTrainer())


def toggle_play() -> None:
    trainer().stop()
    ss = st.session_state
    run: LiveRun = ss.run
    if run.diverged:
        run.resume()
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


def page() -> None:
    ss = st.session_state
    enable_compile_cache()
    trainer().stop()  # a full rerun may change the run: never while it trains
    if "run" not in ss:
        cfg, notices = from_query(st.query_params.to_dict())
        controls.init_widgets(cfg)
        ss.link_notices = notices
    st.title("Playground")
    st.caption(
        "Pick a problem and a network, press Play, and watch every ReLU bend the plane. "
        "Hover over any plot to read its values; click legend entries to hide lines."
    )
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
    show_bends = sections["view"].toggle(
        "Show ReLU bends", value=True, help="Where each unit switches on or off."
    )
    show_units = sections["view"].toggle(
        "Show each unit", value=True, help="Small pictures of every hidden unit (small nets)."
    )
    run = sync_run(cfg)
    st.query_params.from_dict(to_query(run.cfg))

    playing = ss.get("playing", False)
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
    b4.caption(
        "Share this setup: copy the address bar. Learning rate, regularisation, dropout, "
        "batch size and optimizer change the running network; the other settings start anew."
    )

    @st.fragment(run_every=FRAME_SECONDS if playing else None)
    def live() -> None:
        bg = trainer()
        if ss.get("playing") and not run.diverged:
            bg.start(run)
            ss._frame = ss.get("_frame", 0) + 1
        with bg.reading():
            if bg.error:
                st.error(bg.error)
            if run.message:
                st.error(run.message)
                if ss.get("playing"):
                    ss.playing = False
                    st.rerun(scope="app")
            live_view.readouts(run)
            left, right = st.columns([3, 2])
            with left:
                live_view.boundary_plot(run, show_bends=show_bends)
                note = run.geometry_note()
                if show_bends and note:
                    st.caption(f"Bends are not drawn: {note}")
            with right:
                live_view.metric_plot(run)
                live_view.curves_stacked(run)
            if show_units and live_view.thumbnails_fit(run):
                live_view.thumbnails(run)

    live()
    with trainer().reading():
        data_panel.downloads(run)


page()
