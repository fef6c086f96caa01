"""Compare two runs: "Pin this run" keeps the current run; while one is pinned, the page
draws it beside the current run: both boundaries side by side, both loss curves on one
chart and a table of the settings that differ."""

import html

import streamlit as st

from playground.core.config import FIELDS, differing_fields
from playground.figures.boundary import decision_boundary_figure
from playground.figures.compare import compare_loss_figure
from playground.live.engine import run as engine
from playground.live.session.live_run import LiveRun, Pinned
from playground.ui import controls, run_state

PIN = "Pin this run"
UNPIN = "Unpin"
TITLE = "Compare with a pinned run"
GRID = 64  # the side-by-side boundaries' grid


def _pin() -> None:
    run_state.hold()
    st.session_state["pinned"] = st.session_state.run.pinned()


def _unpin() -> None:
    st.session_state.pop("pinned", None)


def settings_table(pinned: Pinned, run: LiveRun) -> str:
    """The settings that differ, as an HTML table (values escaped)."""
    names = differing_fields(pinned.cfg, run.cfg)
    if not names:
        return ""
    rows = "".join(
        f"<tr><th scope='row'>{html.escape(FIELDS[n].label)}</th>"
        f"<td>{html.escape(controls.value_text(n, getattr(pinned.cfg, n)))}</td>"
        f"<td>{html.escape(controls.value_text(n, getattr(run.cfg, n)))}</td></tr>"
        for n in names
    )
    return (
        "<table class='compare-settings'><caption>Settings that differ</caption>"
        "<thead><tr><th scope='col'>Setting</th><th scope='col'>Pinned run</th>"
        f"<th scope='col'>This run</th></tr></thead><tbody>{rows}</tbody></table>"
    )


def _boundary(run: engine.Run, title: str) -> dict:
    xs, ys, grid = engine.output_grid(run, GRID)
    fig, _ = decision_boundary_figure(
        xs, ys, grid, run.data, show_test=run.cfg.show_test, title=title, height=380
    )
    return fig


def _history_arrays(history) -> tuple:
    return history.array("epoch"), history.array("train_loss"), history.array("test_loss")


def compare_panel(run: LiveRun) -> None:
    """The pin button and, while a run is pinned, the comparison."""
    ss = st.session_state
    pinned: Pinned | None = ss.get("pinned")
    with st.expander(TITLE, expanded=pinned is not None):
        with st.container(horizontal=True, gap="small"):
            st.button(
                PIN,
                on_click=_pin,
                help="Keep this run as it is now; the next runs are drawn beside it.",
            )
            if pinned is not None:
                st.button(UNPIN, on_click=_unpin, help="Forget the pinned run.")
        if pinned is None:
            st.caption(
                "Pin a run, change a setting (or press Restart from the same weights), "
                "train, and compare."
            )
            return
        st.caption(
            f"Pinned at epoch {pinned.run.epoch:,.0f}; this run is at epoch {run.epoch:,.0f}."
        )
        left, right = st.columns(2)
        with left:
            st.plotly_chart(_boundary(pinned.run, "Pinned run"), key="compare_pinned")
        with right:
            st.plotly_chart(_boundary(run.run, "This run"), key="compare_now")
        fig = compare_loss_figure([_history_arrays(pinned.history), _history_arrays(run.history)])
        st.plotly_chart(fig, key="compare_loss")
        table = settings_table(pinned, run)
        if table:
            st.html(table)
        else:
            st.caption("Both runs have the same settings.")
