"""Training curves against epochs: loss, accuracy (or R²) and per-layer gradient size.

Live contract: each ``*_figure`` returns ``(figure, arrays)``; the matching ``*_arrays``
gives the arrays alone, for a refresh of the same figure with new history. Arrays name
their trace by uid: ``TRAIN`` and ``TEST``, or ``grad_uid(layer)``.
"""

import math

import numpy as np
import plotly.graph_objects as go

from playground.core.train import METRIC_LABELS
from playground.figures.style import BLUE, ORANGE, LiveArray, base_layout, layer_line, layer_names

CURVE_POINTS = 300  # history points drawn per curve
PLOTS = ("metric", "loss", "grads")  # the live view's three curve figures, top to bottom
LOG_FLOOR = 1e-12  # zeros on a log axis are drawn here
METRIC_FLOOR = -1.0  # an R² below this is drawn at it (a diverging fit reaches -1e14)
TRAIN, TEST = "train", "test"  # uids of a train / test figure's two curves


def grad_uid(layer: int) -> str:
    """The uid of weight layer ``layer``'s (0-based) gradient curve: ``"grad-1"``..."""
    return f"grad-{layer + 1}"


def _positive(a: np.ndarray) -> np.ndarray:
    """Values for a log axis: non-finite become gaps, zeros a tiny floor."""
    a = np.where(np.isfinite(a), a, np.nan)
    return np.maximum(a, LOG_FLOOR)


def _train_test_arrays(epoch, train, test) -> dict[str, LiveArray]:
    """The two curves of a train / test figure."""
    x = LiveArray(np.asarray(epoch, np.float64))
    return {
        f"{TRAIN}.x": x,
        f"{TRAIN}.y": LiveArray(train),
        f"{TEST}.x": x,
        f"{TEST}.y": LiveArray(test),
    }


def _train_test_figure(epoch, arrays, what: str, title: str, height: int) -> go.Figure:
    fig = go.Figure()
    curves = (("train", TRAIN, BLUE, None), ("test", TEST, ORANGE, "dash"))
    for part, uid, colour, dash in curves:
        fig.add_trace(
            go.Scatter(
                x=epoch,
                y=arrays[f"{uid}.y"].values,
                uid=uid,
                name=f"{part} {what}",
                mode="lines",
                line={"color": colour, "width": 2, "dash": dash},
            )
        )
    base_layout(fig, title, height, live=True)
    epoch_axis(fig)
    return fig


def epoch_axis(fig: go.Figure) -> None:
    """The x axis of epochs: never below 0, even with one record at epoch 0."""
    fig.update_xaxes(title_text="epoch", gridcolor="#e5e5e5", rangemode="nonnegative")


def loss_curves_arrays(epoch, train_loss, test_loss) -> dict[str, LiveArray]:
    return _train_test_arrays(epoch, _positive(train_loss), _positive(test_loss))


def loss_curves_figure(
    epoch: np.ndarray, train_loss: np.ndarray, test_loss: np.ndarray, *, height: int = 300
) -> tuple[go.Figure, dict[str, LiveArray]]:
    """Train and test loss against epochs, log scale."""
    arrays = loss_curves_arrays(epoch, train_loss, test_loss)
    fig = _train_test_figure(epoch, arrays, "loss", "Loss", height)
    fig.update_yaxes(
        title_text="loss (log scale)", type="log", gridcolor="#e5e5e5", exponentformat="power"
    )
    return fig, arrays


def metric_curves_arrays(epoch, train, test) -> dict[str, LiveArray]:
    clip = lambda a: np.where(np.isfinite(a), np.maximum(a, METRIC_FLOOR), np.nan)  # noqa: E731
    return _train_test_arrays(epoch, clip(np.asarray(train)), clip(np.asarray(test)))


def clipped(*series) -> bool:
    """Whether any value lies below METRIC_FLOOR, where the metric chart stops."""
    return any(bool(np.any(np.asarray(a) < METRIC_FLOOR)) for a in series)


def metric_curves_figure(
    epoch: np.ndarray, train: np.ndarray, test: np.ndarray, metric: str, *, height: int = 300
) -> tuple[go.Figure, dict[str, LiveArray]]:
    """Train and test accuracy (or R², drawn no lower than -1) against epochs. When an
    R² lies below -1 the chart says so in its title (the readout shows the true value)."""
    label = METRIC_LABELS[metric]
    arrays = metric_curves_arrays(epoch, train, test)
    title = label if metric == "r2" else label.capitalize()
    if metric == "r2" and clipped(train, test):
        title += f" (values below {METRIC_FLOOR:g} drawn at {METRIC_FLOOR:g})"
    fig = _train_test_figure(epoch, arrays, label, title, height)
    fig.update_yaxes(
        title_text=label, gridcolor="#e5e5e5", range=[0, 1.02] if metric != "r2" else None
    )
    return fig, arrays


def gradient_curves_arrays(epoch, grad_rms: np.ndarray) -> dict[str, LiveArray]:
    x = LiveArray(np.asarray(epoch, np.float64))
    grad_rms = np.atleast_2d(grad_rms)
    arrays = {}
    for i in range(grad_rms.shape[1]):
        arrays[f"{grad_uid(i)}.x"] = x
        arrays[f"{grad_uid(i)}.y"] = LiveArray(_positive(grad_rms[:, i]))
    return arrays


LEGEND_ROW_PX = 24
LEGEND_PER_ROW = 2  # entries of "hidden layer 1" width in the 2/5 column (seen)


def gradient_curves_figure(
    epoch: np.ndarray, grad_rms: np.ndarray, *, height: int = 300
) -> tuple[go.Figure, dict[str, LiveArray]]:
    """Per-layer gradient RMS (one line per layer) against epochs, log scale.

    ``grad_rms`` has shape (n_records, n_layers).
    """
    arrays = gradient_curves_arrays(epoch, grad_rms)
    n = np.atleast_2d(grad_rms).shape[1]
    # The legend takes a row per LEGEND_PER_ROW layers below the plot: each row beyond
    # the first makes the figure and its bottom margin taller, so 9 layers squash
    # neither the lines nor the axis title.
    extra = LEGEND_ROW_PX * max(0, math.ceil(n / LEGEND_PER_ROW) - 1)
    height += extra
    fig = go.Figure()
    for i, name in enumerate(layer_names(n)):
        fig.add_trace(
            go.Scatter(
                x=epoch,
                y=arrays[f"{grad_uid(i)}.y"].values,
                uid=grad_uid(i),
                name=name,
                mode="lines",
                line={**layer_line(i, n), "width": 2},
            )
        )
    base_layout(fig, "Gradient size per layer", height, live=True)
    fig.update_layout(margin={"b": fig.layout.margin.b + extra})
    epoch_axis(fig)
    fig.update_yaxes(
        title_text="RMS per weight (log)",
        type="log",
        gridcolor="#e5e5e5",
        exponentformat="power",
    )
    return fig, arrays


def thinned(n: int, most: int = CURVE_POINTS) -> np.ndarray:
    """Indices of at most ``most`` of n records, always keeping the latest."""
    if n <= most:
        return np.arange(n)
    return np.unique(np.r_[np.linspace(0, n - 1, most).astype(int), n - 1])


def history_arrays(history, metric: str) -> dict[str, dict[str, LiveArray]]:
    """The arrays of the three curve figures (``PLOTS``) from one consistent copy of a
    run's history (``live.session.history.History``: columns by name)."""
    idx = thinned(len(history))
    epoch = history.array("epoch")[idx]
    col = lambda key: history.array(key)[idx]  # noqa: E731
    grads = np.stack(history.rows["grad_rms"])[idx]
    return {
        "metric": metric_curves_arrays(epoch, col("train_metric"), col("test_metric")),
        "loss": loss_curves_arrays(epoch, col("train_loss"), col("test_loss")),
        "grads": gradient_curves_arrays(epoch, grads),
    }
