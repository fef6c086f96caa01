"""Input feature maps: what the network sees of a point (x1, x2) in the plane.

TensorFlow Playground's seven features. Every map is written with ``xp`` (numpy or
jax.numpy) so the same table serves training (jit) and plotting (numpy).
"""

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np


class Feature(NamedTuple):
    label: str
    fn: Callable[[Any, Any, Any], Any]  # (xp, x1, x2) -> values


FEATURES: dict[str, Feature] = {
    "x1": Feature("x₁", lambda xp, a, b: a),
    "x2": Feature("x₂", lambda xp, a, b: b),
    "x1sq": Feature("x₁²", lambda xp, a, b: a * a),
    "x2sq": Feature("x₂²", lambda xp, a, b: b * b),
    "x1x2": Feature("x₁·x₂", lambda xp, a, b: a * b),
    "sinx1": Feature("sin x₁", lambda xp, a, b: xp.sin(a)),
    "sinx2": Feature("sin x₂", lambda xp, a, b: xp.sin(b)),
}
RAW_FEATURES: tuple[str, ...] = ("x1", "x2")


def feature_map(x, names: Sequence[str], xp=np):
    """Map points ``x`` of shape (N, 2) to features of shape (N, len(names))."""
    a, b = x[:, 0], x[:, 1]
    return xp.stack([FEATURES[n].fn(xp, a, b) for n in names], axis=1)


def is_raw(names: Sequence[str]) -> bool:
    """True when the first layer sees exactly (x1, x2), so it is affine in the plane."""
    return tuple(names) == RAW_FEATURES
