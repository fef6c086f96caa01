"""The Playground's "Network" figure and the box that edits one weight or bias of the
paused network.

The figure is drawn from the run's weights at every page run (a pause, a step, an
edit, a rewind), and while the run plays the frames stream sends it again, whole, every
second or so (``live.server.stream``). Not a fragment on a timer: a ``run_every`` rerun
can swallow a click sent at the same moment in Streamlit 1.67 (fixed upstream by
streamlit/streamlit#15088). An edit reruns the whole page, so the boundary, bends and
numbers show the edited network at once.
"""

import functools

import streamlit as st

from playground.core.errors import PlaygroundError
from playground.core.features import FEATURES
from playground.core.model import EDIT_LIMIT
from playground.figures.style import layer_names
from playground.live.server.frames import network_picture
from playground.live.session.live_run import LiveRun
from playground.ui import picks, run_state
from playground.ui.escape import escape_markdown
from playground.ui.live_plot import live_plot, spec_json

GRADIENT_TOGGLE = "Links show the gradient"
EDIT_TITLE = "Edit a weight"


def streamed_figure(run: LiveRun, *, gradients: bool, picked) -> dict:
    """The Network as the frames stream sends it while the run plays."""
    fig, alt = network_picture(run, gradients=gradients, picked=picked)
    return {"spec": spec_json(fig), "alt": alt}


def network_panel(run: LiveRun, *, playing: bool, shown: bool = True) -> None:
    """The figure titled "Network" and its gradient toggle. While the run plays, the
    frames stream draws it again every second or so (``shown`` False: no Network)."""
    streams = run_state.streaming()
    link = run_state.stream_link() if streams else None
    if not shown:
        if link is not None:
            link.network = None
        return

    @st.fragment
    def panel() -> None:
        if st.session_state.pop(run_state.REDRAW_PAGE, False):
            st.rerun(scope="app")  # a click picked a unit: the boundary shows its bend
        with run_state.trainer().reading():
            gradients = st.toggle(
                GRADIENT_TOGGLE,
                key="network_gradients",
                help="Link widths show how large the loss's gradient is for each weight "
                "(where the learning happens now) instead of the weight itself.",
            )
            picked = picks.fit_pick(run.params_numpy())
            fig, alt = network_picture(run, gradients=gradients, picked=picked)
            live_plot(
                fig,
                key="network",
                height=fig["layout"]["height"],
                alt=alt,
                on_click=functools.partial(picks.on_network_click, "network"),
            )
        if link is not None:
            link.network = functools.partial(
                streamed_figure, run, gradients=gradients, picked=picked
            )
        if playing and link is None:
            st.caption(
                "The network as it was when training started; it is drawn again when you "
                "pause (the boundary above plays live)."
            )
        else:
            again = " While playing, it is drawn again every second or so." if playing else ""
            st.caption(
                f'Click a unit or a link (or choose one under "{EDIT_TITLE}") to pick it: '
                f"its bend is drawn thick on the decision boundary.{again}"
            )

    panel()


def _source_name(layer: int, source, feature_labels) -> str:
    if source is None:
        return "its bias"
    if layer == 0:
        return f"input {feature_labels[source]}"
    return f"unit {source + 1} of layer {layer}"


def apply_edit(layer: int, unit: int, source) -> None:
    """The value box's callback: set the number the box shows (a message if refused)."""
    ss = st.session_state
    run_state.hold()
    try:
        ss.run.edit(layer, unit, source, ss["edit_value"])
    except PlaygroundError as err:
        ss["_edit_error"] = str(err)


def _boxes_changed() -> None:
    st.session_state["_edit_boxes_changed"] = True


def _fit_pick(key: str, n: int) -> None:
    """A pick that no longer exists (another layer, a narrower network) starts over."""
    value = st.session_state.get(key)
    if value is not None and not 0 <= value < n:
        st.session_state[key] = 0


def edit_panel(run: LiveRun, *, playing: bool) -> None:
    """Pick a weight (layer, unit, the input it comes from) or a bias and type its value:
    while paused, the network changes at once."""
    ss = st.session_state
    with st.expander(EDIT_TITLE):
        if playing:
            st.caption("Pause to edit a weight or a bias.")
            return
        params = run.params_numpy()
        labels = [FEATURES[n].label for n in run.spec.features]
        names = layer_names(len(params))
        picked = picks.fit_pick(params)
        if picked is not None and ss.get("_edit_shows") != picked:  # picked by a click
            ss["edit_layer"], ss["edit_unit"], ss["edit_source"] = picked
        _fit_pick("edit_layer", len(params))
        layer = st.selectbox(
            "Layer",
            range(len(params)),
            format_func=names.__getitem__,
            key="edit_layer",
            on_change=_boxes_changed,
        )
        w, b = params[layer]
        _fit_pick("edit_unit", w.shape[1])
        unit = st.selectbox(
            "Unit",
            range(w.shape[1]),
            format_func=lambda j: f"unit {j + 1}",
            key="edit_unit",
            on_change=_boxes_changed,
        )
        sources = [None, *range(w.shape[0])]
        if ss.get("edit_source") not in sources:
            ss["edit_source"] = None
        source = st.selectbox(
            "Weight from",
            sources,
            format_func=lambda s: _source_name(layer, s, labels),
            key="edit_source",
            on_change=_boxes_changed,
        )
        ss["_edit_shows"] = (layer, unit, source)
        if ss.pop("_edit_boxes_changed", False) and picked != (layer, unit, source):
            # The keyboard's way to pick: the boundary above shows the unit's bend.
            ss[picks.PICK] = (layer, unit, source)
            st.rerun()
        current = float(b[unit] if source is None else w[source, unit])
        # The box shows the network's number whenever the pick or the network changed.
        target = (layer, unit, source, current)
        if ss.get("_edit_target") != target:
            ss["edit_value"] = current if abs(current) <= EDIT_LIMIT else 0.0
            ss["_edit_target"] = target
        st.number_input(
            "Bias" if source is None else "Weight",
            min_value=-EDIT_LIMIT,
            max_value=EDIT_LIMIT,
            step=0.1,
            format="%.4f",
            key="edit_value",
            on_change=apply_edit,
            args=(layer, unit, source),
            help="Type a value and press Enter: the boundary, the bends and the loss "
            "show the changed network at once.",
        )
        if error := ss.pop("_edit_error", None):
            st.error(escape_markdown(error))
