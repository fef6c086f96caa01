"""The look every figure shares: colours (one scheme per meaning), the layout, axis
helpers, names of layers and scores, and the live-array type of the figure contract.

Colours: orange / blue for two classes (TensorFlow Playground's pair, which colour-blind
readers can tell apart), the Okabe-Ito palette for more classes and series, with a marker
shape per class so colour is never the only cue. Layers: one dark colour and dash each
(up to eight layers), an ordered viridis ramp beyond that.

Every live figure builder returns ``(figure, arrays)``: ``arrays`` maps a path
(``"<trace uid>.<prop>"``, as ``ui.live_plot`` takes it; ``figures.protocol``) to a
``LiveArray`` whose values are already in the figure, so a page can update the figure in
place by sending only these. The builder sets each live trace's ``uid``.
"""

from typing import NamedTuple

import numpy as np
import plotly.graph_objects as go
from plotly.colors import sample_colorscale

ORANGE, BLUE, NEUTRAL = "#f59322", "#0877bd", "#f2f2f2"
BLACK, GREEN, VERMILION, PURPLE, SKY = "#000000", "#009E73", "#D55E00", "#CC79A7", "#56B4E9"
SERIES = (BLUE, ORANGE, GREEN, VERMILION, PURPLE, SKY, BLACK)
CLASS_COLOURS = (
    "#E69F00",
    "#0072B2",
    "#009E73",
    "#CC79A7",
    "#D55E00",
    "#56B4E9",
    "#F0E442",
    "#000000",
)
CLASS_SYMBOLS = ("circle", "square", "diamond", "triangle-up", "cross", "x", "star", "hexagon")
LAYER_COLOURS = (
    "#222222",
    "#7B3294",
    "#1B7837",
    "#B2182B",
    "#2166AC",
    "#8C510A",
    "#01665E",
    "#C51B7D",
)
LAYER_DASHES = ("solid", "dash", "dot", "dashdot", "longdash", "longdashdot", "solid", "dash")
DIVERGING = [[0.0, ORANGE], [0.5, NEUTRAL], [1.0, BLUE]]
GRID_COLOUR = "#e5e5e5"
FONT = {"size": 13}
# ColorBrewer Set3 without its grey: light, so bends and points stay readable on top.
PALETTE = (
    "#8dd3c7",
    "#ffffb3",
    "#bebada",
    "#fb8072",
    "#80b1d3",
    "#fdb462",
    "#b3de69",
    "#fccde5",
    "#bc80bd",
    "#ccebc5",
    "#ffed6f",
)
SLOPE_SCALE = [[0.0, "#fff7ec"], [0.5, "#fdbb84"], [1.0, "#b30000"]]
HIGHLIGHT = "#0072B2"  # Okabe-Ito blue: apart from every layer colour
DEAD_COLOUR = "#555555"  # the mark of a dead unit: grey, as nothing flows through it


MODEBAR_REMOVE = ["select2d", "lasso2d", "zoomIn2d", "zoomOut2d", "autoScale2d"]
TOOLBAR_PX = 30  # the height of Plotly's toolbar row at the top of a figure
# A figure's title sits under that row, not beside it (on a phone a title ran under the
# icons). Plotly puts a top-anchored title's cap height at the pad; its letters reach ~5 px
# higher and ~15 px lower. A titled figure's top margin holds the row, the title and a gap.
TITLE_PAD_PX = TOOLBAR_PX + 6
TITLED_TOP_PX = TITLE_PAD_PX + 20


# A line trace with nothing to draw now, yet still drawn (a trace with no points at all
# is hidden by Plotly, legend entry included): one shared array, packed once.
NO_LINE = np.full(1, np.nan)
NO_LINE.flags.writeable = False


class LiveArray(NamedTuple):
    """A trace array that changes while training: floats, or a grid sent as bytes over
    [lo, hi] when lo is set (``wire.encode_grid``; NaN cells stay transparent).
    ``bits`` 16 sends floats rounded to 65535 levels (lines whose exact values nobody
    reads), 32 as float32. ``box`` set: ``values`` are units' signs (units, n, n) on a
    grid over that box, sent as bits (``wire.encode_signs``)."""

    values: np.ndarray
    lo: float | None = None
    hi: float | None = None
    bits: int = 32
    box: tuple | None = None


def class_colour(k: int) -> str:
    return CLASS_COLOURS[k % len(CLASS_COLOURS)]


def class_colours(n_classes: int) -> tuple[str, ...]:
    return (ORANGE, BLUE) if n_classes == 2 else CLASS_COLOURS


def layer_colours(n: int) -> list[str]:
    """Colours of n ordered layers (first = next to the input): dark and distinct for up
    to eight, else a viridis ramp from dark (first) to light (last)."""
    if n <= len(LAYER_COLOURS):
        return list(LAYER_COLOURS[:n])
    return sample_colorscale("Viridis", [i / max(n - 1, 1) * 0.9 for i in range(n)])


def layer_line(i: int, n: int) -> dict:
    """Line style of layer i of n: its colour, and a dash so colour is not the only cue."""
    return {"color": layer_colours(n)[i], "dash": LAYER_DASHES[i % len(LAYER_DASHES)]}


def layer_names(n_layers: int, *, short: bool = False) -> list[str]:
    """Names of weight layers: hidden 1..L-1, then the output layer ("1", .., "out" short)."""
    if short:
        return [str(i + 1) for i in range(n_layers - 1)] + ["out"]
    return [f"hidden layer {i + 1}" for i in range(n_layers - 1)] + ["output layer"]


_LEGENDS = {
    # Below the axes, so it never covers the title or the data.
    "bottom": {
        "orientation": "h",
        "yref": "container",
        "yanchor": "bottom",
        "y": 0.0,
        "x": 0,
        "xanchor": "left",
    },
    "below": {"orientation": "h", "yanchor": "top", "y": -0.22, "x": 0, "xanchor": "left"},
    "side": {},
}


def layout_dict(
    title: str | None,
    height: int,
    *,
    margin: dict | None = None,
    legend: str = "bottom",
    live: bool = False,
) -> dict:
    """The shared layout: title at the top left under the toolbar's row (a top margin of
    at least ``TITLED_TOP_PX``: the figure grows by what that adds, so the plot area
    keeps its height), white plot, the legend below the axes
    (``"bottom"`` of the whole figure, ``"below"`` the plot area, or ``"side"``: Plotly's
    own place); ``live`` keeps zoom and legend choices across data updates."""
    margin = dict(margin or {"l": 60, "r": 15, "t": 40, "b": 95})
    if title and margin.get("t", 0) < TITLED_TOP_PX:
        height += TITLED_TOP_PX - margin.get("t", 0)
        margin["t"] = TITLED_TOP_PX
    layout = {
        "height": height,
        "margin": margin,
        "font": FONT,
        "plot_bgcolor": "white",
        "legend": _LEGENDS[legend],
        # Few buttons: a long toolbar covers the title on a narrow screen.
        "modebar": {"remove": MODEBAR_REMOVE},
    }
    if title:
        layout["title"] = title_layout(title)
    if live:
        layout["uirevision"] = "keep"
    return layout


# Lesson figures: a little more room on the left for long axis titles, legend below.
LESSON_LAYOUT = {"margin": {"l": 65, "r": 15, "t": 45, "b": 60}, "legend": "below", "grid": True}


def title_layout(text: str) -> dict:
    """A figure's title at the top left, under the toolbar's row."""
    return {
        "text": text,
        "x": 0.01,
        "xanchor": "left",
        "yref": "container",
        "y": 1,
        "yanchor": "top",
        "pad": {"t": TITLE_PAD_PX},
        "font": {"size": 15},
    }


def base_layout(fig: go.Figure, title: str | None, height: int, *, grid: bool = False, **kw):
    """``layout_dict`` applied to ``fig``, with light grid lines on every axis when
    ``grid``."""
    fig.update_layout(**layout_dict(title, height, **kw))
    if grid:
        fig.update_xaxes(gridcolor=GRID_COLOUR, zeroline=False)
        fig.update_yaxes(gridcolor=GRID_COLOUR, zeroline=False)
    return fig


def spans_decades(values, factor: float = 10.0) -> bool:
    """True when the positive finite values differ by more than ``factor``: use a log axis."""
    v = np.asarray(values, np.float64)
    v = v[np.isfinite(v) & (v > 0)]
    return bool(v.size) and float(v.max() / v.min()) > factor


def _power_text(mantissa: int, exponent: int) -> str:
    """'0.02', '5', '300' near 1; '10⁻⁶' or '2·10⁵' (as HTML) far from it."""
    if -2 <= exponent <= 2:
        return f"{mantissa * 10.0**exponent:g}"
    power = f"10<sup>{exponent}</sup>"
    return power if mantissa == 1 else f"{mantissa}·{power}"


def log_ticks(values) -> dict:
    """Tick positions and labels for a log axis: whole decades, or 1-2-5 steps when the
    values span less than two decades (Plotly would label every digit in between)."""
    v = np.asarray(values, np.float64)
    v = v[np.isfinite(v) & (v > 0)]
    if not v.size:
        return {}
    lo, hi = int(np.floor(np.log10(v.min()))), int(np.ceil(np.log10(v.max())))
    mantissas = (1,) if hi - lo > 2 else (1, 2, 5)
    step = max(1, -(-(hi - lo) // 6))  # at most ~7 labels however wide the range
    exps = range(lo, hi + 1, step)
    ticks = [(m * 10.0**e, _power_text(m, e)) for e in exps for m in mantissas]
    return {"tickvals": [t for t, _ in ticks], "ticktext": [t for _, t in ticks]}


def log_axis(fig: go.Figure, title: str, values, log: bool) -> None:
    """The y axis titled ``title``: on a log scale with readable ticks when ``log``."""
    if log:
        fig.update_yaxes(title_text=f"{title} (log scale)", type="log", **log_ticks(values))
    else:
        fig.update_yaxes(title_text=title, type="linear")
