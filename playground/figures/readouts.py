"""The numbers above the live plots (epoch, step, losses, scores, parameters) as labelled
text, one source for the page's tiles and for the live stream that updates them."""

import numpy as np

from playground.core.model import param_count
from playground.core.train import metric_label, metric_name

COMPACT = ((1e9, "B"), (1e6, "M"), (1e3, "k"))  # counts from 100,000 on


def fmt(v: float) -> str:
    """Short enough for a metric tile: 0.123, 0.0123, 1.2e-4, -2.9e14."""
    if not np.isfinite(v):
        return "—"
    if v == 0 or 0.01 <= abs(v) < 1000:
        return f"{v:.3g}"
    mantissa, exp = f"{v:.1e}".split("e")
    return f"{mantissa}e{int(exp)}"


def fmt_count(n: int) -> str:
    """A count for a tile: 12,345 in full; from 100,000 on compact (123k, 1.73M)."""
    if abs(n) < 100_000:
        return f"{n:,}"
    for size, suffix in COMPACT:
        if abs(n) >= size:
            return f"{n / size:.3g}{suffix}"
    return f"{n:,}"


def read_count(text: str) -> int:
    """A count as ``fmt_count`` wrote it ("12,345", "173k"), back to a number: for those
    who read the page (its tests)."""
    text = text.strip().replace(",", "")
    for size, suffix in COMPACT:
        if text.endswith(suffix):
            return round(float(text[: -len(suffix)]) * size)
    return int(text)


def fmt_metric(v: float, metric: str) -> str:
    if not np.isfinite(v):
        return "—"
    return f"{100 * v:.1f}%" if metric == "accuracy" else fmt(v)


def readout_tiles(metrics, *, step: int, epoch: int, task: str, sizes) -> list[tuple[str, str]]:
    """(label, text) of every tile, left to right. ``metrics``: ``live.engine.run.Metrics``."""
    label, metric = metric_label(task), metric_name(task)
    return [
        ("Epoch", fmt_count(epoch)),
        ("Step", fmt_count(step)),
        ("Train loss", fmt(metrics.train_loss)),
        ("Test loss", fmt(metrics.test_loss)),
        (f"Train {label}", fmt_metric(metrics.train_metric, metric)),
        (f"Test {label}", fmt_metric(metrics.test_metric, metric)),
        ("Parameters", fmt_count(param_count(sizes))),
    ]
