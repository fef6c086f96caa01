"""Demo page for the canvas layer of live_plot: a two-colour heatmap and one line,
painted by the browser (``canvas=["heat", "bend"]``), with colours the tests can predict.

``?mode=frames`` plays back 5 pictures per refresh (4 refreshes a second), each a
heatmap whose red/blue border sits at a known x and labelled ``picture <seq>``.
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

GRID = 12  # cells centred on -5.5, -4.5, ..., 5.5
CENTRES = np.linspace(-5.5, 5.5, GRID)
MARGIN = {"l": 50, "r": 30, "t": 20, "b": 70}
PER_REFRESH = 5


def figure() -> dict:
    fig = go.Figure()
    fig.add_heatmap(
        x=CENTRES, y=CENTRES, zmin=0, zmax=1, opacity=0.5, showscale=False,
        colorscale=[[0, "#ff0000"], [1, "#0000ff"]], uid="heat",
    )  # fmt: skip
    fig.add_scatter(mode="lines", name="bend", uid="bend", line={"color": "#00ff00", "width": 4})
    fig.update_layout(
        plot_bgcolor="#ffffff",
        margin=MARGIN,
        xaxis={"range": [-6, 6], "showgrid": False, "zeroline": False},
        yaxis={"range": [-6, 6], "showgrid": False, "zeroline": False},
        showlegend=True,
        legend={"orientation": "h", "x": 0, "y": -0.12, "yanchor": "top"},
    )
    return fig.to_dict()


def picture(border: float, line_x: float) -> dict:
    """Red (z=0) left of ``border``, blue (z=1) right of it; a line at x = line_x."""
    z = np.broadcast_to((border < CENTRES).astype(float), (GRID, GRID))
    return {
        "heat.z": encode_grid(z, 0.0, 1.0),
        "bend.x": encode_floats(np.array([line_x, line_x])),
        "bend.y": encode_floats(np.array([-6.0, 6.0])),
    }


FIGURE = figure()
CANVAS = ["heat", "bend"]
st.title("canvas demo")

if st.query_params.get("mode") != "frames":
    live_plot(FIGURE, key="canvas", height=420, arrays=picture(0.0, 2.0), canvas=CANVAS)
else:

    @st.fragment(run_every=0.25)
    def live() -> None:
        seq = st.session_state.setdefault("seq", 0)
        frames = []
        for k in range(PER_REFRESH):
            seq += 1
            border = -5.0 + (seq % 11)  # a cell border: -5, -4, ..., 5
            frames.append(
                {
                    "seq": seq,
                    "t": time.monotonic() - 0.05 * (PER_REFRESH - 1 - k),
                    "label": f"picture {seq}",
                    "arrays": picture(border, border),
                }
            )
        st.session_state.seq = seq
        arrays = frames[-1]["arrays"]
        live_plot(FIGURE, key="canvas", height=420, arrays=arrays, canvas=CANVAS, frames=frames)

    live()
