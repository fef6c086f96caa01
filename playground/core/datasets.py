"""Toy problems in the plane: one registry, one signature, seeded and deterministic.

Every generator has the signature ``(n, noise, rng, classes) -> (x, y)`` with x of shape
(n, 2) inside the domain [-6, 6]² and y of shape (n,): int class labels 0..K-1, or float
regression targets scaled into [-1, 1]. ``noise`` runs from 0 to 0.5, as TensorFlow
Playground's slider (0-50) divided by 100.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from playground.core.errors import PlaygroundError

DOMAIN = 6.0  # the plane shown and sampled is [-DOMAIN, DOMAIN]²
BOX = (-DOMAIN, DOMAIN, -DOMAIN, DOMAIN)
MAX_ARMS = 8  # spiral arms, the one problem with a choice of classes
MAX_POINTS = 20_000


def grid_points(xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """The points of the grid xs x ys, (len(ys) * len(xs), 2), row by row (a row: one y)."""
    gx, gy = np.meshgrid(xs, ys)
    return np.stack([gx.ravel(), gy.ravel()], axis=1)


class Problem(NamedTuple):
    label: str
    task: str  # "binary" | "multiclass" | "regression"
    generate: Callable[[int, float, np.random.Generator, int], tuple[np.ndarray, np.ndarray]]
    many_classes: bool = False  # whether the number of classes K can be chosen


def _uniform(n, rng, half=DOMAIN):
    return rng.uniform(-half, half, size=(n, 2))


def xor(n, noise, rng, classes):
    """XOR: points in U(-5, 5)² pushed 0.3 off the axes; class 1 where x1·x2 > 0."""
    x = rng.uniform(-5, 5, size=(n, 2))
    x += np.where(x > 0, 0.3, -0.3)
    label = (x[:, 0] * x[:, 1] > 0).astype(np.int32)
    return x + noise * 5 * rng.uniform(-1, 1, size=(n, 2)), label


def circle(n, noise, rng, classes):
    """Circle: class 1 inside, radius U(0, 2.5); class 0 in the ring U(3.5, 5)."""
    inner = rng.random(n) < 0.5
    r = np.where(inner, rng.uniform(0, 2.5, n), rng.uniform(3.5, 5.0, n))
    t = rng.uniform(0, 2 * np.pi, n)
    x = np.stack([r * np.cos(t), r * np.sin(t)], axis=1)
    return x + noise * 5 * rng.uniform(-1, 1, size=(n, 2)), inner.astype(np.int32)


def gauss(n, noise, rng, classes):
    """Two Gaussian blobs centred at (2, 2) (class 1) and (-2, -2) (class 0).

    Their standard deviation grows with noise from sqrt(0.5) to sqrt(2.25).
    """
    label = (rng.random(n) < 0.5).astype(np.int32)
    centre = np.where(label[:, None] == 1, 2.0, -2.0)
    std = np.sqrt(0.5 + noise * 3.5)
    return centre + std * rng.standard_normal((n, 2)), label


def spiral(n, noise, rng, classes):
    """K-arm spiral: arm k at angle t + 2πk/K, radius growing from 0 to 5 over 1.75 turns."""
    label = rng.integers(0, classes, n).astype(np.int32)
    s = rng.random(n)
    r = 5.0 * s
    t = 1.75 * 2 * np.pi * s + 2 * np.pi * label / classes
    x = np.stack([r * np.sin(t), r * np.cos(t)], axis=1)
    return x + noise * 2 * rng.uniform(-1, 1, size=(n, 2)), label


def moons(n, noise, rng, classes):
    """Two interleaved half circles of radius 2.5: upper (class 0) and a shifted lower (1)."""
    label = (rng.random(n) < 0.5).astype(np.int32)
    t = rng.uniform(0, np.pi, n)
    upper = np.stack([np.cos(t), np.sin(t)], axis=1)
    lower = np.stack([1 - np.cos(t), 0.5 - np.sin(t)], axis=1)
    x = np.where(label[:, None] == 0, upper, lower) - [0.5, 0.25]
    return 2.5 * x + noise * 3 * rng.standard_normal((n, 2)), label


def checkerboard(n, noise, rng, classes):
    """Checkerboard of 3x3 squares over [-6, 6]²: class (⌊x1/3⌋ + ⌊x2/3⌋) mod 2."""
    x = _uniform(n, rng)
    label = ((np.floor(x[:, 0] / 3) + np.floor(x[:, 1] / 3)) % 2).astype(np.int32)
    return x + noise * 3 * rng.uniform(-1, 1, size=(n, 2)), label


def _regression(target):
    def generate(n, noise, rng, classes):
        x = _uniform(n, rng)
        return x, target(x) + noise * rng.standard_normal(n)

    generate.__doc__ = target.__doc__
    return generate


def _product(x):
    """Product: y = x1·x2 / 36 on U(-6, 6)² (so y lies in [-1, 1]); noise is added to y."""
    return x[:, 0] * x[:, 1] / DOMAIN**2


def _sum(x):
    """Sum: y = (x1 + x2) / 12 on U(-6, 6)²; noise is added to y. A linear model fits it."""
    return (x[:, 0] + x[:, 1]) / (2 * DOMAIN)


def _plane(x):
    """Tilted plane: y = (2·x1 - x2) / 18 on U(-6, 6)²; noise is added to y."""
    return (2 * x[:, 0] - x[:, 1]) / (3 * DOMAIN)


PROBLEMS: dict[str, Problem] = {
    "xor": Problem("XOR", "binary", xor),
    "circle": Problem("Circle", "binary", circle),
    "gauss": Problem("Two Gaussians", "binary", gauss),
    "spiral": Problem("Spiral", "multiclass", spiral, many_classes=True),
    "moons": Problem("Moons", "binary", moons),
    "checkerboard": Problem("Checkerboard", "binary", checkerboard),
    "product": Problem("Product x₁·x₂ (regression)", "regression", _regression(_product)),
    "sum": Problem("Sum x₁ + x₂ (regression)", "regression", _regression(_sum)),
    "plane": Problem("Tilted plane (regression)", "regression", _regression(_plane)),
}


def problem_task(name: str, classes: int) -> tuple[str, int]:
    """(task, number of classes) of a registered problem; a 2-arm spiral is binary."""
    p = PROBLEMS[name]
    if p.many_classes:
        return ("binary", 2) if classes == 2 else ("multiclass", classes)
    return p.task, (2 if p.task == "binary" else 1)


@dataclass(frozen=True)
class Dataset:
    """A train/test split. y holds int32 labels 0..K-1 or float32 targets."""

    name: str
    task: str
    n_classes: int
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: tuple[str, ...] = ()
    note: str = ""  # e.g. how an upload was scaled
    extra: dict = field(default_factory=dict, compare=False)


def split(name, task, n_classes, x, y, *, train_ratio, seed, **kwargs) -> Dataset:
    """Shuffle with the seed and split into train and test (each keeps at least one point)."""
    n = len(x)
    order = np.random.default_rng([seed, 1]).permutation(n)
    n_train = int(np.clip(round(train_ratio * n), 1, max(n - 1, 1)))
    tr, te = order[:n_train], order[n_train:]
    ydt = np.float32 if task == "regression" else np.int32
    x = np.asarray(x, np.float32)
    y = np.asarray(y, ydt)
    return Dataset(name, task, n_classes, x[tr], y[tr], x[te], y[te], **kwargs)


def make_dataset(
    name: str, *, n_points=500, noise=0.0, train_ratio=0.5, seed=0, classes=2
) -> Dataset:
    """Generate a registered problem, seeded: the same arguments give the same arrays."""
    if name not in PROBLEMS:
        raise PlaygroundError(f"unknown problem {name!r}; choose one of {', '.join(PROBLEMS)}")
    task, k = problem_task(name, classes)
    rng = np.random.default_rng([seed, 0])
    x, y = PROBLEMS[name].generate(int(n_points), float(noise), rng, k)
    return split(name, task, k, x, y, train_ratio=train_ratio, seed=seed)
