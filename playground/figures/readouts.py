"""The numbers above the live plots (epoch, step, losses, scores, parameters) as labelled
text, one source for the page's tiles and for the live stream that updates them."""

import numpy as np

from playground.core.model import param_count
from playground.core.train import metric_label, metric_name


def fmt(v: float) -> str:
    """Short enough for a metric tile: 0.123, 0.0123, 1.2e-4."""
    if not np.isfinite(v):
        return "—"
    if v == 0 or 0.01 <= abs(v) < 1e4:
        return f"{v:.3g}"
    mantissa, exp = f"{v:.1e}".split("e")
    return f"{mantissa}e{int(exp)}"


def fmt_metric(v: float, metric: str) -> str:
    if not np.isfinite(v):
        return "—"
    return f"{100 * v:.1f}%" if metric == "accuracy" else f"{v:.3f}"


def readout_tiles(metrics, *, step: int, epoch: int, task: str, sizes) -> list[tuple[str, str]]:
    """(label, text) of every tile, left to right. ``metrics``: ``live.run.Metrics``."""
    label, metric = metric_label(task), metric_name(task)
    return [
        ("Epoch", f"{epoch:,}"),
        ("Step", f"{step:,}"),
        ("Train loss", fmt(metrics.train_loss)),
        ("Test loss", fmt(metrics.test_loss)),
        (f"Train {label}", fmt_metric(metrics.train_metric, metric)),
        (f"Test {label}", fmt_metric(metrics.test_metric, metric)),
        ("Parameters", f"{param_count(sizes):,}"),
    ]
