"""The unit the learner picked, and how they pick it: a click on a unit or a link in the
Network, the weight editor's boxes (the keyboard's way), or a click near a bend on the
decision boundary. The boundary draws the picked unit's bend thick; the Network outlines
the unit; the weight editor shows its weights.

A pick is (weight layer, unit, source): the unit is unit ``unit`` of column
``layer + 1`` (hidden layers, then the output), ``source`` the input of the weight
picked (None: the unit's bias).
"""

import streamlit as st

from playground.live.session.live_run import LiveRun
from playground.ui import run_state
from playground.ui.live_plot import clicked

PICK = "picked"  # session key
PICK_PX = 12  # a click this close to a bend (screen pixels) picks its unit
HIDDEN_COLUMN = "units"  # the Network's node trace
LINK_TRACE = "links"


def pick() -> tuple[int, int, int | None] | None:
    return st.session_state.get(PICK)


def set_pick(value: tuple[int, int, int | None] | None) -> None:
    """Pick (or clear, None), and draw the whole page again: the boundary and the
    Network live in fragments of their own."""
    ss = st.session_state
    if ss.get(PICK) != value:
        ss[PICK] = value
        ss[run_state.REDRAW_PAGE] = True


def fit_pick(params) -> tuple[int, int, int | None] | None:
    """The pick if it still names a weight or bias of ``params`` (a new network may not
    have it), else None (and it is forgotten)."""
    value = pick()
    if value is None:
        return None
    layer, unit, source = value
    ok = 0 <= layer < len(params) and 0 <= unit < params[layer][0].shape[1]
    ok = ok and (source is None or 0 <= source < params[layer][0].shape[0])
    if not ok:
        st.session_state[PICK] = None
        return None
    return value


def picked_unit(run: LiveRun) -> tuple[int, int] | None:
    """The picked hidden unit (layer, unit), 0-based; None when none is (an output unit
    has no bend)."""
    value = pick()
    hidden = run.spec.hidden
    if value is None or not value[0] < len(hidden) or not 0 <= value[1] < hidden[value[0]]:
        return None
    return value[0], value[1]


def on_network_click(key: str) -> None:
    """A click in the Network: a unit picks it (its bias), a link picks its weight."""
    click = clicked(key) or {}
    parts = str(click.get("id") or "").split()
    if not all(p.isdigit() for p in parts):
        return
    if click.get("trace") == HIDDEN_COLUMN and len(parts) == 2:
        column, unit = map(int, parts)
        if column > 0:  # an input has nothing to pick
            set_pick((column - 1, unit, None))
    elif click.get("trace") == LINK_TRACE and len(parts) == 3:
        layer, source, unit = map(int, parts)
        set_pick((layer, unit, source))


def on_plane_click(key: str) -> None:
    """A click on the decision boundary: the unit whose bend passes within PICK_PX of it,
    or none (a click away from every bend clears the pick)."""
    click = clicked(key) or {}
    try:
        x, y, per_px = (float(click[k]) for k in ("x", "y", "per_px"))
    except (KeyError, TypeError, ValueError):
        return
    run = st.session_state.get("run")
    if run is None:
        return
    with run_state.trainer().reading():
        near = run.nearest_bend(x, y)
    if near is not None and near[2] <= PICK_PX * abs(per_px):
        set_pick((near[0], near[1], None))
    else:
        set_pick(None)


def picked_caption(run: LiveRun) -> str | None:
    """What the thick line on the boundary is, and how to pick another."""
    unit = picked_unit(run)
    if unit is None:
        return None
    layer, j = unit
    return (
        f"Thick black line: the bend of unit {j + 1} of layer {layer + 1} (picked; it is "
        "missing where the unit does not switch inside the plot). Click a unit in the "
        "Network or near a bend here to pick another; click away from the bends to clear."
    )
