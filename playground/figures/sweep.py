"""The capacity sweep: test score and region count against the width H, one line per
depth, medians over seeds with every seed as a faint dot."""

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from playground.analysis.geometry import max_regions_one_layer
from playground.analysis.region_story import box_label
from playground.analysis.sweep import over_seeds
from playground.core.train import METRIC_LABELS
from playground.figures.style import LAYER_COLOURS, LAYER_DASHES, base_layout


def sweep_figure(result, *, height: int = 440) -> go.Figure:
    """Test score and region count against the width H (log axis), one line per depth.

    ``result``: a ``sweep.SweepResult``. Lines are medians over seeds; the faint dots
    are the single seeds. The grey dashes are one layer's maximum 1 + H + C(H, 2).
    """
    label = METRIC_LABELS[result.metric]
    widths = np.asarray(result.widths)
    box = box_label(result.box)
    fig = make_subplots(
        rows=1,
        cols=2,
        subplot_titles=(
            f"test {label} after {result.steps:,} steps",
            f"linear regions in {box}",
        ),
        horizontal_spacing=0.1,
    )
    metric, regions = over_seeds(result.test_metric), over_seeds(result.regions)
    for di, depth in enumerate(result.depths):
        style = {
            # Depth d drawn like layer d + 1's bends, so depth 1 is not black.
            "color": LAYER_COLOURS[(di + 1) % len(LAYER_COLOURS)],
            "dash": LAYER_DASHES[di % len(LAYER_DASHES)],
            "width": 2.2,
        }
        name = f"depth {depth}"
        for col, med, raw in ((1, metric, result.test_metric), (2, regions, result.regions)):
            fig.add_trace(
                go.Scatter(
                    x=widths,
                    y=med[di],
                    mode="lines+markers",
                    name=name,
                    legendgroup=name,
                    showlegend=col == 1,
                    line=style,
                    hovertemplate=f"{name}, H = %{{x}}<br>median: %{{y:.4~g}}<extra></extra>",
                ),
                row=1,
                col=col,
            )
            seeds = raw[di]  # (W, S)
            fig.add_trace(
                go.Scatter(
                    x=np.repeat(widths, seeds.shape[1]),
                    y=seeds.ravel(),
                    mode="markers",
                    name=f"{name}, single seeds",
                    legendgroup=name,
                    showlegend=False,
                    marker={"color": style["color"], "size": 5, "opacity": 0.35},
                    hovertemplate=f"{name}, H = %{{x}}<br>one seed: %{{y:.4~g}}<extra></extra>",
                ),
                row=1,
                col=col,
            )
    fine = np.unique(np.round(np.geomspace(widths.min(), widths.max(), 60)))
    fig.add_trace(
        go.Scatter(
            x=fine,
            y=[max_regions_one_layer(int(h)) for h in fine],
            mode="lines",
            name="one layer's maximum 1 + H + C(H, 2)",
            line={"color": "#999999", "dash": "dot", "width": 1.5},
            hoverinfo="skip",
        ),
        row=1,
        col=2,
    )
    ticks = {"tickvals": widths.tolist(), "ticktext": [str(w) for w in widths.tolist()]}
    for col in (1, 2):
        fig.update_xaxes(
            type="log",
            title_text="hidden units per layer H (log scale)",
            gridcolor="#eeeeee",
            row=1,
            col=col,
            **ticks,
        )
    finite = result.test_metric[np.isfinite(result.test_metric)]
    low = max(float(finite.min()) if finite.size else 0.0, -0.5)
    fig.update_yaxes(
        title_text=f"test {label}",
        range=[min(low, 0.0) - 0.03, 1.03],
        gridcolor="#eeeeee",
        row=1,
        col=1,
    )
    fig.update_yaxes(
        title_text="regions (log scale)", type="log", dtick=1, gridcolor="#eeeeee", row=1, col=2
    )
    base_layout(fig, None, height, margin={"l": 60, "r": 15, "t": 50, "b": 95})
    return fig
