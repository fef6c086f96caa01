"""Pure Plotly builders for the lesson pages: arrays in, ``go.Figure`` (or LaTeX text) out.

No Streamlit here. The prediction maps reuse the Playground's own
``figures.decision_boundary_figure`` so a lesson looks like the tool it points to. Colours
are the Okabe-Ito set (safe for colour-blind readers), ordered layers use the viridis
scale (dark = near the input, yellow = near the output), every axis has a title, and
values that span decades go on a log axis.
"""

from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.colors import sample_colorscale

from playground.figures.boundary import BLUE, ORANGE, bend_traces, decision_boundary_figure

BLACK, GREEN, VERMILION, PURPLE, SKY = "#000000", "#009E73", "#D55E00", "#CC79A7", "#56B4E9"
SERIES = (BLUE, ORANGE, GREEN, VERMILION, PURPLE, SKY, BLACK)
GRID_COLOUR = "#e5e5e5"


def _layout(fig: go.Figure, title: str, height: int, *, legend_below: bool = True) -> go.Figure:
    legend = (
        {"orientation": "h", "yanchor": "top", "y": -0.22, "x": 0, "xanchor": "left"}
        if legend_below
        else {}
    )
    fig.update_layout(
        title={"text": title, "x": 0.01, "font": {"size": 15}},
        height=height,
        margin={"l": 65, "r": 15, "t": 45, "b": 60},
        font={"size": 13},
        plot_bgcolor="white",
        legend=legend,
    )
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


def _y_axis(fig: go.Figure, title: str, values, log: bool) -> None:
    if log:
        fig.update_yaxes(title_text=f"{title} (log scale)", type="log", **log_ticks(values))
    else:
        fig.update_yaxes(title_text=title, type="linear")


def layer_labels(n_layers: int) -> list[str]:
    """Weight layers by position: hidden 1..L-1, then the output layer."""
    return [str(i + 1) for i in range(n_layers - 1)] + ["out"]


def layer_colours(n: int) -> list[str]:
    """n colours along viridis, from the first layer (dark) to the last (yellow)."""
    return sample_colorscale("Viridis", [i / max(n - 1, 1) * 0.9 for i in range(n)])


# ---------------------------------------------------------------------------------------
# Lesson 1: why linear models fail


def prediction_map(fit, title: str, *, lines: Sequence[go.Scatter] = (), height: int = 430):
    """A trained lesson model's output over the plane, with its training points."""
    fig = decision_boundary_figure(fit.xs, fit.ys, fit.grid, fit.data, title=title, height=height)
    for trace in lines:
        fig.add_trace(trace)
    fig.update_layout(margin={"l": 55, "r": 10, "t": 45, "b": 95})
    fig.update_yaxes(constrain="domain")  # shrink the plot to a square, never widen the range
    return fig


def segment_trace(ends: np.ndarray, name: str, *, colour: str = BLACK, dash: str = "dash"):
    """A straight segment from ends[0] to ends[1] (x1, x2)."""
    return go.Scatter(
        x=ends[:, 0],
        y=ends[:, 1],
        mode="lines",
        name=name,
        line={"color": colour, "width": 3, "dash": dash},
        hoverinfo="skip",
    )


def contour_trace(xs, ys, grid, level: float, name: str, *, colour: str = VERMILION):
    """The curve where the map's value equals ``level`` (e.g. P(class 1) = 0.5)."""
    return go.Contour(
        x=xs,
        y=ys,
        z=grid,
        contours={"start": level, "end": level, "size": 1.0, "coloring": "lines"},
        colorscale=[[0, colour], [1, colour]],
        line={"width": 6},
        showscale=False,
        showlegend=True,
        name=name,
        hoverinfo="skip",
    )


def relu_bend_traces(bends) -> list[go.Scatter]:
    """The bends of one hidden layer's ReLUs (``geometry.Bend`` list) as line traces."""
    by_layer: dict[int, list] = {}
    for bend in bends:
        by_layer.setdefault(bend.layer, []).extend(list(bend.segments))
    return bend_traces([by_layer[k] for k in sorted(by_layer)])


def slope_figure(x1: np.ndarray, slopes: Mapping[str, np.ndarray], x2: float, *, height=330):
    """d(output)/d(x1) along the horizontal line x2 = const, one curve per model."""
    fig = go.Figure()
    for (name, s), colour, dash in zip(slopes.items(), SERIES, ("solid", "dash"), strict=False):
        fig.add_trace(
            go.Scatter(
                x=x1, y=s, name=name, mode="lines", line={"color": colour, "width": 3, "dash": dash}
            )
        )
    _layout(fig, f"Slope of the output along the line x₂ = {x2:g}", height)
    fig.update_xaxes(title_text="x₁")
    fig.update_yaxes(title_text="∂ output / ∂x₁")
    return fig


def collapse_scatter(stack_out: np.ndarray, single_out: np.ndarray, *, height: int = 380):
    """Each test point's output from the stack (x) against the single matrix (y)."""
    lo = float(min(stack_out.min(), single_out.min()))
    hi = float(max(stack_out.max(), single_out.max()))
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=[lo, hi],
            y=[lo, hi],
            mode="lines",
            name="equal outputs (y = x)",
            line={"color": "#888888", "dash": "dot"},
        )
    )
    fig.add_trace(
        go.Scatter(
            x=stack_out,
            y=single_out,
            mode="markers",
            name="a test point",
            marker={"color": BLUE, "size": 6, "opacity": 0.7},
        )
    )
    _layout(fig, "Same outputs, point by point", height)
    fig.update_xaxes(title_text="output of the stack of layers (logit)")
    fig.update_yaxes(title_text="output of the single matrix (logit)")
    return fig


def relu_search_figure(
    widths: Sequence[int], accuracies: Sequence[float], target: float, *, height: int = 330
):
    """Test accuracy on XOR for each number of ReLUs tried, with the 'solved' line."""
    colours = [GREEN if a >= target else ORANGE for a in accuracies]
    fig = go.Figure(
        go.Bar(
            x=[str(w) for w in widths],
            y=list(accuracies),
            marker_color=colours,
            text=[f"{a:.0%}" for a in accuracies],
            textposition="outside",
            name="test accuracy",
            showlegend=False,
        )
    )
    fig.add_hline(
        y=target,
        line={"color": BLACK, "dash": "dash"},
        annotation_text=f"solved ({target:.0%})",
        annotation_position="top left",
    )
    _layout(fig, "XOR test accuracy with H ReLUs in one hidden layer", height)
    fig.update_xaxes(title_text="ReLUs in the hidden layer (H)", type="category")
    fig.update_yaxes(title_text="test accuracy", range=[0, 1.12], tickformat=".0%")
    return fig


# ---------------------------------------------------------------------------------------
# Lesson 2: backpropagation


def _number(v: float, digits: int) -> str:
    text = f"{v:.{digits}f}"
    return "0" if float(text) == 0 else text  # no "-0.000"


def latex_matrix(a, digits: int = 2) -> str:
    """A vector or matrix as a LaTeX bmatrix (a vector is shown as one row)."""
    a = np.atleast_2d(np.asarray(a, np.float64))
    rows = [" & ".join(_number(v, digits) for v in row) for row in a]
    return r"\begin{bmatrix}" + r" \\ ".join(rows) + r"\end{bmatrix}"


def latex_equation(lhs: str, *parts: str) -> str:
    """'lhs = part1 = part2 ...' for st.latex."""
    return " = ".join([lhs, *parts])


def cost_figure(report, *, height: int = 340):
    """Forward vs forward + backward, in flops and in bytes, relative to the forward pass."""
    kinds = ["floating-point operations", "bytes read and written"]
    forward = [report.forward_flops, report.forward_bytes]
    total = [report.total_flops, report.total_bytes]
    fig = go.Figure()
    for name, values, colour in (
        ("forward pass (loss only)", forward, BLUE),
        ("forward + backward (loss and gradient)", total, ORANGE),
    ):
        fig.add_trace(
            go.Bar(
                x=kinds,
                y=[v / f for v, f in zip(values, forward, strict=True)],
                name=name,
                marker_color=colour,
                text=[f"{v:,.0f}" for v in values],
                textposition="outside",
                hovertemplate="%{x}: %{text} (%{y:.2f}× forward)<extra></extra>",
            )
        )
    _layout(fig, "What XLA counts in the compiled programs", height)
    fig.update_layout(barmode="group")
    top = max(report.flop_ratio, report.bytes_ratio)
    fig.update_yaxes(title_text="× the forward pass", range=[0, top * 1.25])
    fig.update_xaxes(title_text="what is counted")
    return fig


def loss_steps_figure(losses: np.ndarray, *, title: str, height: int = 300):
    """Minibatch loss after 0, 1, 2, ... SGD steps."""
    fig = go.Figure(
        go.Scatter(
            x=np.arange(len(losses)),
            y=losses,
            mode="lines+markers",
            name="minibatch loss",
            line={"color": BLUE, "width": 2},
        )
    )
    _layout(fig, title, height)
    fig.update_xaxes(title_text="SGD steps taken")
    fig.update_yaxes(title_text="cross-entropy loss", rangemode="tozero")
    return fig


# ---------------------------------------------------------------------------------------
# Lesson 3: gradients through depth


def layer_bars(
    series: Mapping[str, np.ndarray],
    *,
    title: str,
    y_title: str,
    labels: Sequence[str],
    x_title: str = "layer (1 = next to the input)",
    log: bool | None = None,
    height: int = 360,
):
    """Grouped bars per layer, one colour per series.

    log: True / False, or None for a log axis only when the values span decades.
    """
    fig = go.Figure()
    if log is None:
        log = spans_decades(np.concatenate([np.ravel(v) for v in series.values()]))
    for (name, values), colour in zip(series.items(), SERIES, strict=False):
        v = np.asarray(values, np.float64)
        fig.add_trace(
            go.Bar(
                x=list(labels)[: len(v)],
                y=v,
                name=name,
                marker_color=colour,
                hovertemplate="layer %{x}: %{y:.3g}<extra>" + name + "</extra>",
            )
        )
    _layout(fig, title, height)
    fig.update_layout(barmode="group")
    fig.update_xaxes(title_text=x_title, type="category")
    _y_axis(fig, y_title, np.concatenate([np.ravel(v) for v in series.values()]), log)
    return fig


def grad_history_figure(grad_rms: np.ndarray, *, height: int = 380):
    """Per-layer gradient RMS at every training step, one line per layer, log axis."""
    n_layers = grad_rms.shape[1]
    labels = layer_labels(n_layers)
    fig = go.Figure()
    for i, colour in enumerate(layer_colours(n_layers)):
        fig.add_trace(
            go.Scatter(
                x=np.arange(grad_rms.shape[0]),
                y=grad_rms[:, i],
                mode="lines" if grad_rms.shape[0] > 20 else "lines+markers",
                name=f"layer {labels[i]}",
                line={"color": colour, "width": 2.5 if i in (0, n_layers - 1) else 1.5},
            )
        )
    _layout(fig, "Gradient size per layer while training", height, legend_below=False)
    fig.update_xaxes(title_text="SGD step")
    _y_axis(fig, "gradient RMS per parameter", grad_rms, True)
    return fig


def training_loss_figure(loss: np.ndarray, *, height: int = 300):
    """Full-batch training loss at every step; a log axis when it falls by decades."""
    fig = go.Figure(
        go.Scatter(
            x=np.arange(len(loss)),
            y=loss,
            mode="lines" if len(loss) > 20 else "lines+markers",
            name="training loss",
            line={"color": BLUE, "width": 2},
        )
    )
    _layout(fig, "Training loss", height)
    fig.update_xaxes(title_text="SGD step")
    _y_axis(fig, "cross-entropy loss", loss, spans_decades(loss))
    return fig
