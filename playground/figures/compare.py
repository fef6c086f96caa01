"""Two runs side by side ("Pin this run"): both runs' loss curves on one chart.

Not live: drawn from two histories whenever the page is drawn."""

import numpy as np
import plotly.graph_objects as go

from playground.figures.style import BLACK, BLUE, base_layout

RUNS = (("pinned run", BLACK), ("this run", BLUE))


def compare_loss_figure(histories, *, height: int = 320) -> go.Figure:
    """Train (dotted) and test (solid) loss against epochs, log scale, of the pinned run
    and this one: ``histories`` is two ``(epoch, train_loss, test_loss)`` of arrays."""
    fig = go.Figure()
    for (name, colour), (epoch, train, test) in zip(RUNS, histories, strict=True):
        for what, values, dash in (("test", test, "solid"), ("train", train, "dot")):
            y = np.asarray(values, np.float64)
            fig.add_trace(
                go.Scatter(
                    x=np.asarray(epoch, np.float64),
                    y=np.where(np.isfinite(y) & (y > 0), y, np.nan),
                    name=f"{name}: {what} loss",
                    mode="lines",
                    line={"color": colour, "dash": dash, "width": 2},
                    hovertemplate=f"{name}, {what}<br>epoch %{{x:.4g}}: loss %{{y:.4g}}"
                    "<extra></extra>",
                )
            )
    base_layout(fig, "Loss: the pinned run and this one", height, grid=True)
    fig.update_xaxes(title_text="epoch")
    fig.update_yaxes(title_text="loss (log scale)", type="log", exponentformat="power")
    return fig
