"""Bends & regions: the linear pieces the current network cuts the plane into.

Widgets -> config -> the session's LiveRun (the same one the Playground trains) -> the
pure builders of ``analysis`` (raster, region story, hidden space, sweep) and ``figures``
-> live figures. Three views: the exact regions with every bend, the hidden space of two units,
and a capacity sweep ("How many ReLUs does x1·x2 need?"). No math here.
"""

import streamlit as st

from playground.analysis import raster
from playground.analysis import region_story as stories
from playground.analysis import sweep as sweeps
from playground.analysis.geometry import max_regions_one_layer
from playground.analysis.hidden_space import hidden_space
from playground.analysis.sweep import sweep
from playground.core.datasets import BOX
from playground.core.errors import PlaygroundError
from playground.figures import hidden_space as hidden_fig
from playground.figures import regions as region_fig
from playground.figures import sweep as sweep_fig
from playground.live.session.live_run import LiveRun
from playground.ui import controls, live_view, pages, run_state
from playground.ui.escape import escape_markdown
from playground.ui.live_plot import encode_live, live_plot

FRAME_SECONDS = 0.25  # the browser asks for a new frame this often while playing
MAX_EXACT = 5_000  # more regions than this are drawn from a grid (and said so)
COUNT_GRID = 400  # grid of the estimated count when exact regions do not exist ...
COUNT_GRID_LIVE = 200  # ... and while training runs (a 400 grid takes ~0.5 s a frame)
ZOOMS = (1, 2, 4, 6, 10, 20, 30, 60, 100)  # half-widths of the view box
SECTIONS = {"regions": "Regions and bends", "hidden": "Hidden space", "sweep": "Capacity sweep"}
COLOUR_LABELS = {"region": "region", "slope": "slope of the output"}
STAGE_LABELS = {"post": "after the activation (h)", "pre": "before it (z)"}
SWEEP_WIDTHS = (1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 64)
SWEEP_DEFAULT = {"widths": [1, 2, 4, 8, 16, 32], "depths": [1, 2], "steps": 1000, "seeds": 2}
REGION_HEIGHT, HIDDEN_HEIGHT = 600, 470


# -- small helpers ------------------------------------------------------------------------------
def keep_choice(key: str, options: list, default) -> None:
    """Start a selector at ``default``, or reset it when the network no longer offers it."""
    if key not in st.session_state or st.session_state[key] not in options:
        st.session_state[key] = default


def current_view(run: LiveRun, box) -> raster.RegionView:
    """The region view of the run's current weights, reused until they or the box change."""
    ss, spec = st.session_state, run.spec
    n = raster.raster_size(spec.sizes[-1], len(spec.hidden))
    count_n = COUNT_GRID_LIVE if ss.get("playing") else COUNT_GRID
    key = (box, n, count_n)
    hit = ss.get("_br_view")
    if hit is not None and hit[0] is run.state and hit[1] == key:
        return hit[2]
    view = raster.region_view(
        run.params_numpy(),
        spec.activation,
        spec.features,
        box,
        n,
        max_regions=MAX_EXACT,
        count_n=count_n,
    )
    ss._br_view = (run.state, key, view)
    return view


# -- regions and bends ----------------------------------------------------------------------------
def region_controls(widths) -> tuple[str, tuple | None, tuple]:
    units = [(), *raster.unit_choices(widths)]  # () is "none" (None would show a placeholder)
    keep_choice("br_unit", units, ())
    c1, c2, c3 = st.columns([1.2, 1.3, 1.6])
    colour_by = c1.radio(
        "Colour by",
        raster.COLOUR_MODES,
        format_func=COLOUR_LABELS.get,
        key="br_colour",
        horizontal=True,
        help="Each region its own colour, or how steep the network's raw output is there: "
        "for classes the logit, before the sigmoid or softmax, which can be far steeper "
        "than a probability.",
    )
    unit = c2.selectbox(
        "Highlight a unit's bend",
        units,
        format_func=raster.unit_label,
        key="br_unit",
        help="Draws the unit's bend bold and shades the side where it is on.",
    )
    st.session_state.setdefault("br_zoom", int(BOX[1]))
    half = c3.select_slider(
        "View box",
        ZOOMS,
        key="br_zoom",
        format_func=lambda h: f"[−{h}, {h}]²" + (" (data)" if h == BOX[1] else ""),
        help="Zoom out to see bends that lie outside the data; every count follows the box.",
    )
    return colour_by, unit, (-float(half), float(half), -float(half), float(half))


def region_readouts(run: LiveRun, view: raster.RegionView) -> None:
    widths = run.spec.hidden
    cols = st.columns(4)
    if view.exact:
        cols[0].metric("Regions in view", f"{view.count:,}", help="Exact, in the view box.")
    else:
        cols[0].metric(
            "Regions in view (estimate)",
            f"≈ {view.count:,}",
            help=f"Activation patterns seen on a {view.count_grid}×{view.count_grid} grid: an "
            "estimate that can only undercount.",
        )
    if widths and view.exact:
        h = widths[0]
        cols[1].metric(
            f"Most for one layer of H = {h}",
            f"{max_regions_one_layer(h):,}",
            help="1 + H + C(H, 2): H lines in general position in the whole plane.",
        )
    crossing = stories.bends_in_view(view, run.params_numpy())
    if crossing is not None:
        cols[2].metric(
            "Layer-1 bends in view",
            f"{crossing[0]} of {crossing[1]}",
            help="First-layer bends (straight lines) that cross the view box.",
        )
    took = view.partition_s if view.exact else view.raster_s
    cols[3].metric(
        "Partition time" if view.exact else "Grid time", f"{1e3 * took:.0f} ms", help="Per frame."
    )


def regions_section(run: LiveRun) -> None:
    spec, playing = run.spec, st.session_state.get("playing", False)
    colour_by, unit, box = region_controls(spec.hidden)
    try:
        view = current_view(run, box)
    except PlaygroundError as err:
        st.error(escape_markdown(err))
        return
    if not view.exact:
        st.info(f"**Estimate.** {view.note}")
        if colour_by == "slope":
            st.caption("A grid estimate has no linear pieces, so it is coloured by pattern.")
    region_readouts(run, view)
    left, right = st.columns([3, 2])
    with right:
        if view.exact:
            story = stories.region_story(view, run.params_numpy(), spec.activation)
            st.markdown("\n".join(f"- {line}" for line in story))
            st.caption(
                "Hover a region to read its activation pattern (per layer, unit 1 first; "
                "1 = on) and the linear function the network computes there. Bends are "
                "coloured and dashed by layer; click a legend entry to hide it."
                + (" While training runs, pause to read each region." if playing else "")
            )
        else:
            st.caption(
                "Each colour is one sign pattern of the hidden units, found at the centre of "
                "each cell; hover a cell to read it. Where bends are curves, a pattern's "
                "piece is not straight-edged and the network is not linear on it."
            )
    with left:
        fig, arrays = region_fig.region_figure(
            view,
            colour_by=colour_by,
            highlight=unit or None,
            data=run.data,
            out_names=region_fig.output_names(spec.task, spec.n_classes, run.data.class_names),
            hover=not playing,
            height=REGION_HEIGHT,
        )
        live_plot(fig, key="br_regions", height=REGION_HEIGHT, arrays=encode_live(arrays))


# -- hidden space ---------------------------------------------------------------------------------
def hidden_controls(widths) -> tuple[int, tuple[int, int], str]:
    ss = st.session_state
    keep_choice("br_layer", list(range(len(widths))), 0)
    layer = ss.get("br_layer", 0)
    units = list(range(widths[layer]))
    keep_choice("br_unit_a", units, 0)
    keep_choice("br_unit_b", units, min(1, widths[layer] - 1))
    c1, c2, c3, c4 = st.columns([1, 1, 1, 1.6])
    layer = c1.selectbox(
        "Layer", range(len(widths)), format_func=lambda i: f"hidden layer {i + 1}", key="br_layer"
    )
    a = c2.selectbox(
        "Unit on the x axis", units, format_func=lambda j: f"unit {j + 1}", key="br_unit_a"
    )
    b = c3.selectbox(
        "Unit on the y axis", units, format_func=lambda j: f"unit {j + 1}", key="br_unit_b"
    )
    stage = c4.radio(
        "Values", tuple(STAGE_LABELS), format_func=STAGE_LABELS.get, key="br_stage", horizontal=True
    )
    return layer, (a, b), stage


def hidden_section(run: LiveRun) -> None:
    spec = run.spec
    if not spec.hidden:
        st.info("The linear model has no hidden layer: add one in the sidebar to look inside.")
        return
    layer, units, stage = hidden_controls(spec.hidden)
    params = run.params_numpy()
    try:
        hs = hidden_space(
            params,
            spec.activation,
            spec.features,
            BOX,
            run.data.x_train,
            layer=layer,
            units=units,
            stage=stage,
        )
    except PlaygroundError as err:
        st.info(escape_markdown(err))
        return
    label = controls.LABELS["activation"].get(spec.activation, spec.activation)
    fig, arrays = hidden_fig.hidden_space_figure(hs, params, run.data, activation=label)
    live_plot(fig, key="br_hidden", height=HIDDEN_HEIGHT, arrays=encode_live(arrays))
    st.caption(
        "Left: a grid of lines of constant x₁ and x₂ over the data. Right: every point of those "
        f"lines and every training point placed at the values of two units of layer {layer + 1}. "
        "A ReLU sets negative values to 0, so it folds half the plane onto an axis; after the "
        "folds of a layer or two, the classes can often be split by one straight line. "
        "The dashed line is the network's own decision line when the last hidden layer has "
        "exactly these two units."
    )


# -- capacity sweep -------------------------------------------------------------------------------
def sweep_controls() -> dict:
    ss = st.session_state
    for name, value in SWEEP_DEFAULT.items():
        ss.setdefault(f"br_sweep_{name}", value)
    c1, c2, c3, c4 = st.columns([2.4, 1, 1.4, 1])
    widths = c1.multiselect("Widths H", SWEEP_WIDTHS, key="br_sweep_widths")
    depths = c2.multiselect("Depths", (1, 2, 3, 4), key="br_sweep_depths")
    steps = c3.select_slider(
        "Training steps (Adam, full batch)", (250, 500, 1000, 2000, 4000), key="br_sweep_steps"
    )
    seeds = c4.number_input("Seeds", 1, 5, key="br_sweep_seeds")
    return {
        "widths": tuple(sorted(widths)),
        "depths": tuple(sorted(depths)),
        "steps": int(steps),
        "seeds": tuple(range(int(seeds))),
    }


def run_sweep(settings: dict) -> None:
    """Train the grid with a progress bar; keep the result in the session."""
    ss = st.session_state
    run_state.hold()
    ss.playing = False
    bar = st.progress(0.0, text="Compiling the first depth…")

    took = [0.0]

    def on_progress(ev) -> None:
        took[0] = ev.elapsed_s
        what = "counting regions" if ev.phase == "regions" else f"step {ev.steps_done:,}"
        text = f"Depth {ev.depth}: {what} of {ev.steps:,} — {ev.elapsed_s:.0f} s"
        bar.progress(min(ev.fraction, 1.0), text=text)

    try:
        result = sweep("product", **settings, on_progress=on_progress)
    except PlaygroundError as err:
        st.error(escape_markdown(err))
    else:
        ss.br_sweep = (settings, result, took[0])
    bar.empty()


def sweep_section() -> None:
    ss = st.session_state
    st.markdown(
        "**How many ReLUs does x₁·x₂ need?** One button trains a whole grid of networks on "
        "the product problem at once (one compiled, vectorised run per depth) and plots "
        "their test R² and their number of linear regions against the width H."
    )
    settings = sweep_controls()
    ready = bool(settings["widths"] and settings["depths"])
    if st.button("Run the sweep", type="primary", disabled=not ready):
        run_sweep(settings)
    if not ready:
        st.caption("Pick at least one width and one depth.")
    done = ss.get("br_sweep")
    if done is None:
        st.caption(
            "The default grid trains 24 small networks; it takes a few seconds after the first "
            "compile (the first run of a session also compiles, up to a minute)."
        )
        return
    used, result, seconds = done
    n_nets = len(result.widths) * len(result.depths) * len(result.seeds)
    note = f"{n_nets} networks trained in {seconds:.0f} s."
    if used != settings:
        note += " Showing the last sweep; press the button to run these settings."
    st.caption(note)
    st.plotly_chart(sweep_fig.sweep_figure(result), use_container_width=True, key="br_sweep_chart")
    st.markdown("\n".join(f"- {line}" for line in sweeps.sweep_summary(result)))
    if result.regions_note:
        st.caption(f"Regions not counted: {result.regions_note}.")


# -- the page -------------------------------------------------------------------------------------
def page() -> None:
    pages.heading(__file__)
    st.caption(
        "Every ReLU bends the plane along one line; together they cut it into pieces on which "
        "the network is exactly linear. See them, count them, and see where the data goes."
    )
    run = run_state.sync_run(run_state.sidebar_config())
    playing = run_state.play_controls(
        "This page shows the Playground's network: change it in the sidebar, train it here "
        "or there."
    )
    section = st.radio(
        "Show", tuple(SECTIONS), format_func=SECTIONS.get, key="br_section", horizontal=True
    )
    if section == "sweep":
        sweep_section()
        return
    bg = run_state.trainer()

    @st.fragment(run_every=FRAME_SECONDS if playing else None)
    def live() -> None:
        run_state.train_in_background(run)
        with bg.reading():
            run_state.stop_on_trouble(run)
            live_view.readouts(run)
            if section == "regions":
                regions_section(run)
            else:
                hidden_section(run)

    live()


page()
