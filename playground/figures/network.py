"""The network itself, as TensorFlow Playground draws it: input features, every hidden
unit as a small picture of what it computes over the plane, the output; a link per
weight, coloured by its sign and as wide as its size; each unit's bias as a small square.

``network_figure`` is rebuilt from the arrays it is given (weights, pictures, dead
units, gradients) whenever they change; it has no live arrays. Up to
``MAX_SHOWN_UNITS`` units a layer every unit and link is drawn; a wider layer shows its
strongest units only, the links between them are thinned to the strongest
``SUMMARY_LINKS`` per layer, and the figure says so (``network_view``).
"""

import math
from typing import NamedTuple

import numpy as np

from playground.figures.style import (
    BLUE,
    DEAD_COLOUR,
    DIVERGING,
    MODEBAR_REMOVE,
    ORANGE,
    TITLE_PAD_PX,
    title_layout,
)
from playground.figures.tile import rgb_png, scale_colours
from playground.figures.units import scaled_unit

TITLE = "Network"
MAX_SHOWN_UNITS = 16  # units a column shows (TF Playground: 8)
SUMMARY_LINKS = 48  # links a layer shows in a summary (the strongest)
WEIGHT_FULL = 3.0  # a weight this large or larger is drawn at full width
LINK_PX = (0.6, 8.0)  # narrowest and widest link, pixels
ZERO_COLOUR = "#b0b0b0"  # a link or bias of exactly 0 (or not a number): no sign
PICTURE_PX = 40  # pixels of a unit's picture as sent (the browser scales it)
HOVER_AT = 0.65  # where along a link its hover point sits (from its source): links into
# one unit fan out there, so their points rarely coincide
NODE_HALF = 0.34  # half a node's height, in rows
SUBTITLE_LINE_PX = 18  # a subtitle line's height (Plotly's <sup> in a 15 px title)


class NetworkView(NamedTuple):
    """Which units and links a figure shows. ``units[c]``: indices of the units of column
    c (inputs, hidden layers, outputs) shown, ascending; ``links[l]``: (k, 2) pairs
    (source, destination) of weight layer l shown; ``summary``: some were left out."""

    units: list[np.ndarray]
    links: list[np.ndarray]
    summary: bool


def column_sizes(params) -> list[int]:
    """Units per column: inputs, each hidden layer, outputs."""
    return [int(params[0][0].shape[0]), *(int(w.shape[1]) for w, _ in params)]


def _magnitude(a: np.ndarray) -> np.ndarray:
    """|a| with NaN and inf counted as 0: a broken weight draws as the thinnest link."""
    return np.nan_to_num(np.abs(np.asarray(a, np.float64)), nan=0.0, posinf=0.0, neginf=0.0)


def network_view(
    params, *, max_units: int = MAX_SHOWN_UNITS, summary_links: int = SUMMARY_LINKS
) -> NetworkView:
    """The units and links to draw. A column wider than ``max_units`` keeps the units
    whose weights in and out add up to the most (sum of |w|); in a summary each layer
    keeps its ``summary_links`` strongest links among the units shown."""
    sizes = column_sizes(params)
    units = []
    for c, size in enumerate(sizes):
        if size <= max_units:
            units.append(np.arange(size))
            continue
        strength = np.zeros(size)
        if c > 0:  # the weights in
            strength += _magnitude(params[c - 1][0]).sum(axis=0)
        if c < len(params):  # the weights out
            strength += _magnitude(params[c][0]).sum(axis=1)
        top = np.argsort(-strength, kind="stable")[:max_units]
        units.append(np.sort(top))
    summary = any(s > max_units for s in sizes)
    links = []
    for layer, (w, _) in enumerate(params):
        src, dst = units[layer], units[layer + 1]
        pairs = np.stack(np.meshgrid(src, dst, indexing="ij"), axis=-1).reshape(-1, 2)
        if summary and len(pairs) > summary_links:
            size = _magnitude(np.asarray(w)[pairs[:, 0], pairs[:, 1]])
            keep = np.sort(np.argsort(-size, kind="stable")[:summary_links])
            pairs = pairs[keep]
        links.append(pairs)
    return NetworkView(units, links, summary)


def link_width(magnitude, full: float) -> np.ndarray:
    """Pixels of a link whose value has size ``magnitude``: from LINK_PX's narrowest at 0
    to its widest at ``full`` and above (TF Playground: 1 to 10 px over |w| 0 to 5)."""
    lo, hi = LINK_PX
    share = np.clip(_magnitude(magnitude) / full, 0.0, 1.0) if full > 0 else 0.0
    return lo + (hi - lo) * share


def sign_colour(value: float) -> str:
    """Blue for a positive value, orange for a negative one (the pictures' colours)."""
    if not math.isfinite(value) or value == 0:
        return ZERO_COLOUR
    return BLUE if value > 0 else ORANGE


def _rows(n: int) -> np.ndarray:
    """y of n nodes, top to bottom, centred on 0, one row apart."""
    return (n - 1) / 2 - np.arange(n, dtype=np.float64)


def _column_names(sizes: list[int], shown: list[np.ndarray]) -> list[str]:
    """Column headers: "Layer 2" over its width ("16 of 1,024" where not all are shown);
    beyond five columns short ("in", "L1", ..., "out"), so they fit a phone's width."""
    last = len(sizes) - 1
    if len(sizes) > 5:
        return ["in" if c == 0 else "out" if c == last else f"L{c}" for c in range(len(sizes))]
    names = []
    for c, size in enumerate(sizes):
        what = "Input" if c == 0 else "Output" if c == last else f"Layer {c}"
        count = f"{len(shown[c])} of {size:,}" if len(shown[c]) < size else f"{size:,}"
        names.append(f"{what}<br>{count}")
    return names


def _unit_name(c: int, n_cols: int, j: int, feature_labels) -> str:
    if c == 0:
        return f"input {feature_labels[j]}"
    if c == n_cols - 1:
        return f"output unit {j + 1}"
    return f"layer {c}, unit {j + 1}"


def _widths_text(widths) -> str:
    widths = list(widths)
    if widths and len(set(widths)) == 1:
        return f"{len(widths)} hidden layers of {widths[0]:,} units"
    return "hidden layers: " + " · ".join(f"{w:,}" for w in widths)


def subtitle_lines(
    *, gradients: bool, summary: bool, max_units: int, summary_links: int, widths=()
) -> list[str]:
    """What the figure shows, in lines short enough for a phone (~50 characters)."""
    if gradients:
        lines = [
            "links: −gradient, the way a step moves the weight:",
            "blue up, orange down; the widest is the largest",
        ]
    else:
        lines = [
            "links: the weight; blue positive, orange negative;",
            "wider is larger; small square: the unit's bias",
        ]
    lines.append("pictures: what each unit computes over the plane")
    if summary:
        lines += [
            _widths_text(widths),
            f"Summary: a layer wider than {max_units} shows the {max_units} units",
            f"with the largest weights, and {summary_links} strongest links",
        ]
    return lines


def _picture_source(grid: np.ndarray) -> str:
    """A unit's values (n, n), rows following y upwards, as a PNG data URI: scaled to
    ±1, orange negative, white zero, blue positive (the unit pictures' colours)."""
    z = scaled_unit(np.nan_to_num(np.asarray(grid, np.float64)))
    return "data:image/png;base64," + rgb_png(scale_colours(z[::-1], DIVERGING, -1, 1), PICTURE_PX)


def _number(v: float) -> str:
    return f"{v:.4g}" if np.isfinite(v) else "not a number"


def network_figure(
    params,
    *,
    feature_labels,
    pictures=None,
    dead=None,
    gradients=None,
    picked: tuple[int, int] | None = None,
    max_units: int = MAX_SHOWN_UNITS,
    summary_links: int = SUMMARY_LINKS,
) -> dict:
    """The network of ``params`` [(W (fan_in, fan_out), b), ...] (NumPy; the last pair is
    the output layer), titled TITLE.

    ``feature_labels``: a label per input; ``pictures``: per column (inputs, hidden
    layers, outputs) an array (n, n, width) of what each unit computes over the plane
    (rows follow y upwards), or None; ``dead``: per hidden layer, (width,) bools;
    ``gradients``: [(dW, db), ...] of the loss: when given, links show the step a plain
    gradient step takes, -dW (colour its sign, width its size relative to the largest
    shown), instead of the weight.

    Links are layout shapes named ``link L I J`` (weight layer L, from unit I to unit J,
    0-based) in ``network_view``'s order; trace "links" holds their values (customdata)
    and hover texts at one point of each (ids "L I J"); trace "units" every node's
    (customdata: its bias, NaN for inputs; ids "C J"). Biases are annotations named
    ``bias C J`` (column C, unit J), small squares coloured by the bias's sign at the
    unit's lower left.

    A plain dict, not a ``go.Figure``: Plotly's validation of every shape took 75 ms
    for an 8-8 network and 0.5 s for 8 layers of 16, too much for a live picture.
    """
    params = [(np.asarray(w), np.asarray(b)) for w, b in params]
    view = network_view(params, max_units=max_units, summary_links=summary_links)
    sizes = column_sizes(params)
    n_cols = len(sizes)
    rows = max(len(u) for u in view.units)
    ys = [_rows(len(u)) for u in view.units]
    row_px = 46 if rows <= 8 else 36
    lines = subtitle_lines(
        gradients=gradients is not None,
        summary=view.summary,
        max_units=max_units,
        summary_links=summary_links,
        widths=sizes[1:-1],
    )
    top_px, bottom_px = TITLE_PAD_PX + 24 + SUBTITLE_LINE_PX * len(lines), 10
    height = max(rows, 4) * row_px + top_px + 40 + bottom_px

    shapes, link_x, link_y, link_text, link_value, link_ids = [], [], [], [], [], []
    grads = gradients
    values = [
        (-np.asarray(g) if grads is not None else w)
        for (w, _), (g, _) in zip(params, grads if grads is not None else params, strict=True)
    ]
    if grads is not None:
        shown = [_magnitude(v[p[:, 0], p[:, 1]]) for v, p in zip(values, view.links, strict=True)]
        full = max((float(s.max()) for s in shown if s.size), default=0.0)
    else:
        full = WEIGHT_FULL
    for layer, pairs in enumerate(view.links):
        src_row = {int(u): k for k, u in enumerate(view.units[layer])}
        dst_row = {int(u): k for k, u in enumerate(view.units[layer + 1])}
        w = params[layer][0]
        # Per layer at once: NumPy on one scalar at a time cost most of a live figure.
        picked_values = values[layer][pairs[:, 0], pairs[:, 1]] if len(pairs) else np.zeros(0)
        shares = np.clip(_magnitude(picked_values) / full, 0, 1) if full > 0 else 0 * picked_values
        widths = link_width(picked_values, full)
        for k, (i, j) in enumerate(pairs):
            v = float(picked_values[k])
            y0, y1 = float(ys[layer][src_row[int(i)]]), float(ys[layer + 1][dst_row[int(j)]])
            share = float(shares[k])
            shapes.append(
                {
                    "type": "line",
                    "name": f"link {layer} {i} {j}",
                    "x0": layer,
                    "y0": y0,
                    "x1": layer + 1,
                    "y1": y1,
                    "layer": "below",
                    "opacity": 0.35 + 0.65 * share,
                    "line": {"color": sign_colour(v), "width": float(widths[k])},
                }
            )
            link_x.append(layer + HOVER_AT)
            link_y.append(y0 + HOVER_AT * (y1 - y0))
            link_value.append(v)
            link_ids.append(f"{layer} {i} {j}")
            source = _unit_name(layer, n_cols, int(i), feature_labels)
            dest = _unit_name(layer + 1, n_cols, int(j), feature_labels)
            text = f"{source} → {dest}<br>weight {_number(float(w[i, j]))}"
            if grads is not None:
                text += f"<br>gradient {_number(float(grads[layer][0][i, j]))}"
            link_text.append(text)

    unit_x, unit_y, unit_text, unit_ids, outline = [], [], [], [], []
    unit_bias = []
    half_px = NODE_HALF * row_px  # half a picture's height (its width on a wide screen)
    images, annotations = [], []
    for c, shown in enumerate(view.units):
        for k, j in enumerate(shown):
            j = int(j)
            x, y = c, ys[c][k]
            name = _unit_name(c, n_cols, j, feature_labels)
            text = name
            is_dead = 0 < c < n_cols - 1 and dead is not None and bool(dead[c - 1][j])
            if c > 0:
                b = float(params[c - 1][1][j])
                text += f"<br>bias {_number(b)}"
                if grads is not None:
                    text += f"<br>gradient {_number(float(grads[c - 1][1][j]))}"
                annotations.append(
                    {
                        "name": f"bias {c} {j}",
                        "text": "",
                        "x": x,
                        "y": y,
                        "xshift": -half_px - 5,
                        "yshift": -half_px + 3,
                        "width": 7,
                        "height": 7,
                        "bgcolor": sign_colour(b),
                        "bordercolor": "#333333",
                        "borderwidth": 0.5,
                        "borderpad": 0,
                        "showarrow": False,
                        "hovertext": f"{name}<br>bias {_number(b)}",
                    }
                )
            unit_bias.append(float(params[c - 1][1][j]) if c > 0 else np.nan)
            if is_dead:
                text += "<br>dead: off at every training point"
            unit_x.append(x)
            unit_y.append(y)
            unit_text.append(text)
            unit_ids.append(f"{c} {j}")
            if picked == (c, j):
                outline.append(
                    {
                        # In pixels around the node: a unit's picture keeps its pixel
                        # size however wide the plot, so data units would not hug it.
                        "type": "rect",
                        "name": "picked",
                        "xsizemode": "pixel",
                        "ysizemode": "pixel",
                        "xanchor": x,
                        "yanchor": y,
                        "x0": -half_px - 4,
                        "x1": half_px + 4,
                        "y0": -half_px - 4,
                        "y1": half_px + 4,
                        "layer": "above",
                        "line": {"color": "#000000", "width": 3},
                    }
                )
            if pictures is not None:
                images.append(
                    {
                        "source": _picture_source(pictures[c][..., j]),
                        "xref": "x",
                        "yref": "y",
                        "x": x,
                        "y": y,
                        "sizex": 0.6,
                        "sizey": 2 * NODE_HALF,
                        "sizing": "contain",
                        "xanchor": "center",
                        "yanchor": "middle",
                        "layer": "above",
                    }
                )
            if is_dead:
                annotations.append(
                    {
                        "text": "dead",
                        "x": x,
                        "y": y,
                        "showarrow": False,
                        "font": {"size": 9, "color": "white"},
                        "bgcolor": DEAD_COLOUR,
                    }
                )
            if c == 0:
                annotations.append(
                    {
                        "text": feature_labels[j],
                        "x": x - 0.22,
                        "y": y,
                        "xanchor": "right",
                        "showarrow": False,
                        "font": {"size": 12},
                    }
                )
    top = (rows - 1) / 2
    for c, name in enumerate(_column_names(sizes, view.units)):
        annotations.append(
            {
                "text": name,
                "x": c,
                "y": top + 0.55,
                "yanchor": "bottom",
                "showarrow": False,
                "font": {"size": 11},
            }
        )

    square = min(row_px * 2 * NODE_HALF, 30)
    link_trace = {
        "type": "scatter",
        "name": "links",
        "x": link_x,
        "y": link_y,
        "mode": "markers",
        "marker": {"size": 9, "color": "rgba(0,0,0,0)"},
        "text": link_text,
        "customdata": link_value,
        "ids": link_ids,
        "hovertemplate": "%{text}<extra></extra>",
    }
    unit_trace = {
        "type": "scatter",
        "name": "units",
        "x": unit_x,
        "y": unit_y,
        "mode": "markers",
        "marker": {
            "size": square,
            "symbol": "square",
            "color": "rgba(0,0,0,0)" if pictures is not None else "#dddddd",
            "line": {"color": "#444444", "width": 1},
        },
        "text": unit_text,
        "customdata": unit_bias,
        "ids": unit_ids,
        "hovertemplate": "%{text}<extra></extra>",
    }
    layout = {
        "height": height,
        "margin": {"l": 50, "r": 10, "t": top_px, "b": bottom_px},
        "title": title_layout(f"{TITLE}<br><sup>{'<br>'.join(lines)}</sup>"),
        "shapes": shapes + outline,
        "images": images,
        "annotations": annotations,
        "showlegend": False,
        "plot_bgcolor": "white",
        "hovermode": "closest",
        "modebar": {"remove": MODEBAR_REMOVE},
        "uirevision": "keep",
        "xaxis": {"visible": False, "range": [-0.75, n_cols - 1 + 0.45], "fixedrange": True},
        "yaxis": {"visible": False, "range": [-top - 0.6, top + 1.25], "fixedrange": True},
    }
    return {"data": [link_trace, unit_trace], "layout": layout}


def network_alt(params, dead, feature_labels, *, gradients: bool) -> str:
    """The figure in a sentence with its numbers (cheap: no regions counted; "Describe
    the network" under the plot says more)."""
    widths = [w.shape[1] for w, _ in params[:-1]]
    n_dead = sum(int(d.sum()) for d in map(np.asarray, dead))
    what = "gradient" if gradients else "weight"
    largest = max((float(np.abs(w).max()) for w, _ in params if w.size), default=0.0)
    hidden = (
        f"hidden layers of {', '.join(map(str, widths))} units" if widths else "no hidden layer"
    )
    return (
        f"Network: {len(feature_labels)} inputs ({', '.join(feature_labels)}), {hidden} "
        f"({n_dead} dead), {params[-1][0].shape[1]} output. Each link is a {what}: blue "
        f"positive, orange negative, wider is larger; the largest weight is {largest:.3g} "
        "in size."
    )
