"""Demo page for the live_plot browser tests: a heatmap and two lines updated ~20x/s.

The numbers mimic a training view: a 100x100 output grid and two 1000-point loss
curves, re-sent every ``st.fragment(run_every=0.05)`` tick. A "Rerun" button checks
that a full rerun keeps the chart too.
"""

import sys
import time
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import streamlit as st

# `streamlit run tests/system/browser/...` puts this folder, not the repo root, on sys.path.
sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from playground.ui.live_plot import encode_floats, encode_grid, live_plot

GRID = 100
POINTS = 1000


def figure() -> dict:
    """The static part: empty traces whose arrays arrive through ``arrays``.

    Built once per full run: a go.Figure costs ~30 ms to build and ~2.5 ms to copy
    out, a plain dict nothing.
    """
    fig = go.Figure()
    fig.add_heatmap(
        x0=-6, dx=12 / GRID, y0=-6, dy=12 / GRID, zmin=-1, zmax=1,
        colorscale="RdBu", colorbar={"x": 0.43, "len": 0.9}, uid="heat",
    )  # fmt: skip
    fig.add_scatter(mode="lines", name="train", uid="train", xaxis="x2", yaxis="y2")
    fig.add_scatter(mode="lines", name="test", uid="test", xaxis="x2", yaxis="y2")
    fig.update_layout(
        xaxis={"domain": [0, 0.4]},
        xaxis2={"domain": [0.55, 1], "anchor": "y2"},
        yaxis2={"anchor": "x2"},
        legend={"x": 0.98, "xanchor": "right", "y": 0.98},
        margin={"l": 30, "r": 10, "t": 10, "b": 30},
    )
    return fig.to_dict()


FIGURE = figure()


st.title("live_plot demo")
st.button("Rerun")


@st.fragment(run_every=0.05)
def live() -> None:
    tick = st.session_state.setdefault("tick", 0) + 1
    st.session_state.tick = tick
    axis = np.linspace(-6, 6, GRID)
    xx, yy = np.meshgrid(axis, axis)
    z = np.tanh(np.sin(0.5 * xx + 0.1 * tick) * np.cos(0.5 * yy))
    steps = np.arange(POINTS, dtype=np.float64)
    decay = np.exp(-steps / (50 + tick))
    arrays = {
        "heat.z": encode_grid(z, -1.0, 1.0),
        "train.x": encode_floats(steps),
        "train.y": encode_floats(decay),
        "test.x": encode_floats(steps),
        "test.y": encode_floats(decay * 1.1 + 0.01 * np.sin(steps / 7 + tick)),
    }
    start = time.perf_counter()
    live_plot(FIGURE, key="demo", height=360, arrays=arrays)
    # Server-side cost of one live_plot call, shown for the measurements.
    cost = st.session_state.setdefault("cost_ms", [])
    cost.append(1000 * (time.perf_counter() - start))
    st.caption(f"Tick {tick} · live_plot {np.median(cost[-50:]):.1f} ms")


live()
