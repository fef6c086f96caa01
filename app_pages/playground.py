"""The Playground: pick a problem and a network, press Play, watch it learn.

Widgets -> config -> the session's LiveRun -> live figures. Data and architecture
changes start a new run; learning rate, penalty, dropout, batch size and optimizer
apply to the running one. The whole configuration lives in the URL (the share link).
"""

import streamlit as st

from playground.ui import (
    a11y,
    challenge_panel,
    classroom,
    code_panel,
    compare_panel,
    data_panel,
    live_view,
    network_view,
    pages,
    rewind_panel,
    run_state,
    teacher,
)

# While playing the page refreshes this often; the boundary plays back the ~20 snapshots
# a second the trainer takes, so refreshes can be rare (each costs the browser a rerender).
FRAME_SECONDS = 0.25


def page() -> None:
    pages.heading(__file__)
    st.caption(
        "Pick a problem and a network (sidebar), press Play, and watch every ReLU bend "
        "the plane. Hover over (or tap) a plot to read its values; click legend entries to "
        "hide lines."
    )
    cfg = run_state.sidebar_config()
    run_state.lesson_box(cfg)  # a teacher's task and goal, above everything they are about
    view = run_state.view_section()
    show_bends = view.toggle(
        "Show ReLU bends", value=True, help="Where each unit switches on or off."
    )
    show_units = view.toggle(
        "Show each unit", value=True, help="Small pictures of every hidden unit (small nets)."
    )
    show_network = view.toggle(
        "Show the network",
        value=True,
        help="Inputs, every unit and every weight, as TensorFlow Playground draws them.",
    )
    run = run_state.sync_run(cfg)
    data_panel.apply_model_upload(run)  # before drawing: a loaded model shows at once
    playing = run_state.play_controls()
    bg = run_state.trainer()
    streams = run_state.streaming()
    waiting = bg.scheduler.ahead(bg.key) > 0
    classroom.class_box(run, playing=playing, waiting=waiting, streamed=playing and streams)
    bends = live_view.bend_layers_shown(run, show_bends) > 0

    # With the frames stream the server pushes pictures, plots and readouts while the
    # run plays, and this page runs again only when the learner touches a control;
    # without it (a test harness), the live part reruns itself while playing.
    @st.fragment(run_every=FRAME_SECONDS if playing and not streams else None)
    def live() -> None:
        spec = None
        if streams:
            _, drawn = live_view.boundary_figure(run, show_bends=show_bends)
            spec = run_state.stream_training(run, drawn, bends=bends)
        else:
            run_state.train_in_background(run, snapshot_grid=live_view.GRID_N, snapshot_bends=bends)
        with bg.reading():
            run_state.stop_on_trouble(run)
            run_state.waiting_note()
            live_view.readouts(run)
            run_state.goal_note(run)
            left, right = st.columns([3, 2])
            with left:
                live_view.boundary_plot(
                    run,
                    show_bends=show_bends,
                    playing=playing,
                    stream=spec,
                    on_stopped=run_state.on_stream_stopped if streams else None,
                    on_attention=run_state.on_class_attention if streams else None,
                )
                live_view.describe_button(run)
                note = run.geometry_note() or run.bends_note
                if show_bends and note:
                    st.caption(f"Bends are not drawn: {note}")
            with right:
                live_view.curves(run)
            if show_units and live_view.thumbnails_fit(run):
                live_view.thumbnails(run)

    live()
    a11y.keyboard_shortcuts()  # below the plots: the first screen of a phone stays as it was
    with bg.reading():
        rewind_panel.rewind_panel(run, playing=playing)
        compare_panel.compare_panel(run)
    network_view.network_panel(run, playing=playing, shown=show_network)
    if show_network:
        with bg.reading():
            network_view.edit_panel(run, playing=playing)
    with bg.reading():
        data_panel.downloads(run)
    st.caption(
        "Share this setup: copy the address bar. Learning rate, regularisation, dropout, "
        "batch size, optimizer and speed change the running network; the other settings "
        "start anew."
    )
    with bg.reading():
        challenge_panel.challenge_panel(run)
        teacher.teacher_panel(run)
    code_panel.code_panel(run)


page()
