"""The one dataset type of user data: ``UserData``, points in the plotting plane with
labels or targets, and the scale and shift applied to get them there. CSV uploads
(``points_csv``) and formulas (``formula``) both end in it.

Every bad input raises :class:`~playground.core.errors.PlaygroundError` with a plain message.
"""

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np

from playground.core.errors import PlaygroundError

DATA_HALF_WIDTH = 5.5  # uploaded points are scaled into ±5.5: a margin inside the plane
MIN_ROWS = 10
MAX_ROWS = 20_000
MAX_BYTES = 5_000_000
MAX_FILE_CLASSES = 10  # distinct whole values in a file's label column read as classes

Task = Literal["binary", "multiclass", "regression"]


@dataclass(frozen=True, eq=False)
class UserData:
    """A dataset ready for the plane, plus what was done to get it there.

    x: (N, 2) float32 points in the plane, ``x = (raw - x_shift) * x_scale``.
    y: (N,) int32 class indices 0..K-1, or float32 targets in [-1, 1] for regression,
       ``y = (raw - y_shift) * y_scale`` (scale 1 and shift 0 for classes).
    n_classes: K for classes, 1 for regression (one output, as in playground.core.datasets).
    class_names: the original label of each class index, as text (empty for regression).
    column_names: the header's names for x1, x2, label (defaults when there was no header).
    The arrays are read-only.
    """

    x: np.ndarray
    y: np.ndarray
    task: Task
    n_classes: int
    class_names: tuple[str, ...]
    x_scale: float
    x_shift: np.ndarray
    y_scale: float
    y_shift: float
    source: str
    column_names: tuple[str, str, str] = ("x1", "x2", "label")

    @property
    def note(self) -> str:
        """What was done to the numbers, in words for the page ("" when nothing was)."""
        a, b, label = self.column_names
        parts = []
        if self.x_scale != 1 or np.any(self.x_shift != 0):
            sx, sy = self.x_shift
            parts.append(
                f"{a}, {b} centred (minus {sx:.4g}, {sy:.4g}) and scaled by {self.x_scale:.4g}"
            )
        if self.task == "regression" and (self.y_scale != 1 or self.y_shift != 0):
            parts.append(
                f"{label} centred (minus {self.y_shift:.4g}) and scaled by {self.y_scale:.4g} "
                "into [-1, 1]"
            )
        renamed = self.class_names != tuple(map(str, range(self.n_classes)))
        if self.task != "regression" and renamed:
            names, last = ", ".join(self.class_names), self.n_classes - 1
            parts.append(f"{label} values {names} are classes 0 to {last}")
        return "; ".join(parts)

    def unscale_x(self, x: np.ndarray) -> np.ndarray:
        """(..., 2) plane coordinates -> the original units (float64)."""
        return np.asarray(x, np.float64) / self.x_scale + self.x_shift

    def unscale_y(self, y: np.ndarray) -> np.ndarray:
        """Regression outputs in the plane's units -> the original units (float64)."""
        return np.asarray(y, np.float64) / self.y_scale + self.y_shift


def read_only(a: np.ndarray) -> np.ndarray:
    a = np.array(a)  # a private copy, so freezing it cannot affect the caller's array
    a.flags.writeable = False
    return a


def printable(text: str, limit: int) -> str:
    """Text from a file or formula made safe to show: printable, and not too long."""
    text = "".join(ch if ch.isprintable() else "?" for ch in text)
    return text[: limit - 1] + "…" if len(text) > limit else text


def shown(text: str, limit: int = 30) -> str:
    return f"'{printable(text, limit)}'"


def size_text(n_bytes: int) -> str:
    return f"{n_bytes / 1e6:.1f} MB" if n_bytes >= 100_000 else f"{n_bytes:,} bytes"


def fit_targets(raw: np.ndarray, constant_message: str) -> tuple[np.ndarray, float, float]:
    """(N,) raw targets -> (targets in [-1, 1] as float32, scale, shift)."""
    lo, hi = float(raw.min()), float(raw.max())
    shift = lo / 2 + hi / 2
    half = hi / 2 - lo / 2
    if half <= 1e-12 * max(1.0, abs(lo), abs(hi)):  # rounding noise is not a signal
        raise PlaygroundError(constant_message)
    scale = 1.0 / half
    with np.errstate(all="ignore"):
        y = (raw - shift) * scale
    if not (math.isfinite(scale) and np.isfinite(y).all()):
        raise PlaygroundError("the target values span too extreme a range to scale")
    return np.clip(y, -1.0, 1.0).astype(np.float32), scale, shift
