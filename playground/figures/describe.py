"""Figures in words (issue 23): the sentence a screen reader reads for a plot, with its
numbers, and the "Describe" text of a network. Pure functions of arrays and results, like
every figure builder; the page passes them on as text alternatives.

- ``boundary_description``: the classes, the test score and where the mistakes are.
- ``gradients_description``: which layer's gradient is the smallest, and by how much.
- ``progress_sentence``, ``stopped_sentence``: what the live region reads while training
  plays (epoch, loss, score) and when it stops by itself (why).
- ``network_description``: units alive or dead, linear regions, the largest weights.
"""

import numpy as np

from playground.analysis.geometry import TooManyPieces, geometry_supported, region_count
from playground.core.datasets import BOX
from playground.figures.readouts import fmt, fmt_count, fmt_metric
from playground.figures.style import CLASS_SYMBOLS, layer_names

SYMBOL_WORDS = {
    "circle": "circles",
    "square": "squares",
    "diamond": "diamonds",
    "triangle-up": "triangles",
    "cross": "crosses",
    "x": "x marks",
    "star": "stars",
    "hexagon": "hexagons",
}
# The plane's quarters by the signs of (x1, x2), as the plot shows them.
QUARTERS = {
    (True, True): "top right (x1 > 0, x2 > 0)",
    (False, True): "top left (x1 < 0, x2 > 0)",
    (False, False): "bottom left (x1 < 0, x2 < 0)",
    (True, False): "bottom right (x1 > 0, x2 < 0)",
}
TOP_WEIGHTS = 3


def class_label(k: int, class_names) -> str:
    return f"class {class_names[k] if k < len(class_names) else k}"


def predicted_classes(prediction: np.ndarray, task: str) -> np.ndarray:
    """Labels from the model's output: P(class 1) for binary, (n, K) probabilities else."""
    p = np.asarray(prediction)
    return (p > 0.5).astype(int) if task == "binary" else np.argmax(p, axis=-1)


def worst_quarter(x: np.ndarray, wrong: np.ndarray) -> tuple[str, int]:
    """The quarter of the plane with the most of the ``wrong`` points, and how many."""
    keys = [(bool(a > 0), bool(b > 0)) for a, b in np.asarray(x)[wrong]]
    counts = {q: keys.count(q) for q in QUARTERS}
    quarter = max(QUARTERS, key=lambda q: counts[q])
    return QUARTERS[quarter], counts[quarter]


def boundary_description(
    x: np.ndarray,
    y: np.ndarray,
    prediction: np.ndarray,
    *,
    task: str,
    n_classes: int,
    class_names=(),
    epoch: int,
    problem: str = "",
) -> str:
    """The decision boundary in words, from the test points ``x`` (n, 2), their labels or
    targets ``y`` and the model's ``prediction`` for them."""
    x, y = np.asarray(x), np.asarray(y)
    on = f" on {problem}" if problem else ""
    head = f"Decision boundary{on} at epoch {fmt_count(epoch)}"
    if not np.isfinite(prediction).all():
        return f"{head}: the output is not a number at some points (training diverged)."
    if task == "regression":
        pred = np.asarray(prediction).reshape(len(y))
        err = np.abs(pred - y)
        r2 = 1 - np.sum((y - pred) ** 2) / max(np.sum((y - y.mean()) ** 2), 1e-12)
        where, _ = worst_quarter(x, err >= np.quantile(err, 0.9))
        return (
            f"{head}: the colour shows the predicted value over the plane, the points their "
            f"targets. Test R² {fmt(r2)}; the largest errors (up to {fmt(err.max())}) are "
            f"mostly in the {where}."
        )
    classes = ", ".join(
        f"{class_label(k, class_names)} ({SYMBOL_WORDS[CLASS_SYMBOLS[k % len(CLASS_SYMBOLS)]]})"
        for k in range(n_classes)
    )
    wrong = predicted_classes(prediction, task) != y
    n_wrong = int(wrong.sum())
    accuracy = 1 - n_wrong / max(len(y), 1)
    text = (
        f"{head}: {n_classes} classes, {classes}. Test accuracy "
        f"{fmt_metric(accuracy, 'accuracy')}: "
    )
    if not n_wrong:
        return text + f"all {len(y)} test points are on their class's side."
    where, count = worst_quarter(x, wrong)
    return text + (
        f"{n_wrong} of {len(y)} test points are on the wrong side, {count} of them in the {where}."
    )


def curves_description(epoch, train, test, *, what: str, metric: str = "loss") -> str:
    """A train/test curve in words: where it started, where it is, the test's best."""
    epoch, train, test = (np.asarray(a, np.float64) for a in (epoch, train, test))
    ok = np.isfinite(test)
    if not len(epoch) or not ok.any():
        return f"{what} over epochs: nothing measured yet."
    show = (lambda v: fmt_metric(v, metric)) if metric != "loss" else fmt
    best = int(np.nanargmin(test) if metric in ("loss", "mse") else np.nanargmax(test))
    return (
        f"{what} over epochs: test {show(test[-1])} and train {show(train[-1])} at epoch "
        f"{fmt_count(int(epoch[-1]))}, from test {show(test[0])} at epoch "
        f"{fmt_count(int(epoch[0]))}; best test {show(test[best])} at epoch "
        f"{fmt_count(int(epoch[best]))}."
    )


def gradients_description(grad_rms: np.ndarray, *, epoch: int) -> str:
    """Which layer's gradient (RMS per weight, the last record) is the smallest."""
    g = np.asarray(grad_rms, np.float64).reshape(-1)
    names = layer_names(len(g))
    ok = np.isfinite(g) & (g > 0)
    if not ok.any():
        return f"Gradient size per layer at epoch {fmt_count(epoch)}: no gradient measured yet."
    lo = int(np.argmin(np.where(ok, g, np.inf)))
    hi = int(np.argmax(np.where(ok, g, -np.inf)))
    each = "; ".join(f"{names[i]} {fmt(g[i])}" for i in range(len(g)) if ok[i])
    return (
        f"Gradient size per layer (RMS per weight) at epoch {fmt_count(epoch)}: smallest "
        f"in the {names[lo]} ({fmt(g[lo])}), largest in the {names[hi]} ({fmt(g[hi])}), "
        f"{fmt(g[hi] / g[lo])} times as large. Each: {each}."
    )


def progress_sentence(readouts: dict[str, str]) -> str:
    """Epoch, test loss and test score from the readout tiles' (label, text), e.g.
    "Epoch 120, test loss 0.21, test accuracy 96.4%."."""
    parts = [f"Epoch {readouts['Epoch']}"] if "Epoch" in readouts else []
    for label, text in readouts.items():
        if label.startswith("Test"):
            parts.append(f"{label.lower()} {text}")
    return ", ".join(parts) + "."


def units_description(dead) -> str:
    """The unit pictures in words: how many per layer, and which units are dead."""
    dead = [np.asarray(d, bool) for d in dead]
    per_layer = ", ".join(f"{len(d)} in layer {i + 1}" for i, d in enumerate(dead))
    off = [f"unit {j + 1} of layer {i + 1}" for i, d in enumerate(dead) for j in np.flatnonzero(d)]
    text = f"One picture per hidden unit ({per_layer}): each shows where the unit is on. "
    if not off:
        return text + "No unit is dead."
    return text + f"{len(off)} dead (off for every training point): {', '.join(off)}."


def stopped_sentence(why: str) -> str:
    """What the live region says when training stops by itself (``why``: the reason)."""
    why = why.strip().rstrip(".")
    return f"{why}." if why.startswith("Training stopped") else f"Training stopped: {why}."


def _unit_name(layer: int, unit: int, n_hidden: int, features) -> str:
    if layer == 0:
        return f"input {features[unit]}" if unit < len(features) else f"input {unit + 1}"
    if layer == n_hidden + 1:
        return f"output {unit + 1}"
    return f"unit {unit + 1} of hidden layer {layer}"


def network_description(
    params, dead, *, activation: str, features=("x1", "x2"), box=BOX
) -> list[str]:
    """The network in sentences: each hidden layer's units alive and dead, the linear
    regions it cuts the box into, and its largest weights. ``params``: [(W, b), ...]
    with W (fan_in, fan_out); ``dead``: per hidden layer, (width,) bools."""
    params = [(np.asarray(w), np.asarray(b)) for w, b in params]
    n_hidden = len(params) - 1
    widths = [w.shape[1] for w, _ in params[:-1]]
    sizes = [params[0][0].shape[0], *widths, params[-1][0].shape[1]]
    shape = " → ".join(str(s) for s in sizes)
    lines = [f"A {shape} network ({activation}), {sum(widths)} hidden units."]
    for i, d in enumerate(dead):
        d = np.asarray(d, bool)
        off = [str(j + 1) for j in np.flatnonzero(d)]
        text = f"Hidden layer {i + 1}: {len(d) - len(off)} of {len(d)} units alive"
        if off:
            text += f"; dead (off for every training point): unit {', '.join(off)}"
        lines.append(text + ".")
    exact, why_not = geometry_supported(activation, features)
    if n_hidden and not exact:
        lines.append(f"No exact linear regions: {why_not}")
    elif n_hidden:
        try:
            n = region_count(params, activation, box)
            lines.append(
                f"Its units cut the plane (x1 and x2 from {box[0]:g} to {box[1]:g}) into "
                f"{n:,} linear regions."
            )
        except TooManyPieces as err:
            lines.append(f"Its units cut the plane into more than {err.limit:,} linear regions.")
    ranked = sorted(
        (
            (abs(float(w[a, c])), float(w[a, c]), layer, a, c)
            for layer, (w, _) in enumerate(params)
            for a in range(w.shape[0])
            for c in range(w.shape[1])
        ),
        reverse=True,
    )[:TOP_WEIGHTS]
    biggest = "; ".join(
        f"{fmt(v)} from {_unit_name(layer, a, n_hidden, features)} to "
        f"{_unit_name(layer + 1, c, n_hidden, features)}"
        for _, v, layer, a, c in ranked
    )
    lines.append(f"Largest weights: {biggest}.")
    return lines
