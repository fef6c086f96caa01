"""The network: a params pytree of (W, b) pairs, inits, activations and the forward pass.

``params`` is a list of ``(W, b)`` with W of shape (fan_in, fan_out) and b of shape
(fan_out,); the last pair is the output layer. The hidden activation follows every
layer but the last. Depth 0 (one pair) is the linear / logistic model.
"""

import math
from collections.abc import Callable, Sequence
from itertools import pairwise
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from playground.core.errors import PlaygroundError

LEAKY_RELU_SLOPE = 0.01


class Activation(NamedTuple):
    label: str
    fn: Callable  # the JAX function the network runs
    numpy: Callable  # the same function in float64 NumPy, for exact geometry and grids
    piecewise_linear: bool  # straight pieces: the net cuts the plane into linear regions
    # Flat zero below 0: a unit whose input is negative at every point passes neither a
    # value nor a gradient, and no update can bring it back (a "dead" unit).
    can_die: bool = False


ACTIVATIONS: dict[str, Activation] = {
    "relu": Activation("ReLU", jax.nn.relu, lambda z: np.maximum(z, 0.0), True, can_die=True),
    "leaky_relu": Activation(
        "Leaky ReLU",
        lambda z: jax.nn.leaky_relu(z, LEAKY_RELU_SLOPE),
        lambda z: np.where(z > 0, z, LEAKY_RELU_SLOPE * z),
        True,
    ),
    "tanh": Activation("tanh", jnp.tanh, np.tanh, False),
    "sigmoid": Activation(
        "sigmoid", jax.nn.sigmoid, lambda z: 0.5 * (1.0 + np.tanh(0.5 * z)), False
    ),
    "linear": Activation("linear (none)", lambda z: z, lambda z: z, True),
    # jax.nn.gelu's default is the tanh approximation; NumPy follows it.
    "gelu": Activation(
        "GELU",
        jax.nn.gelu,
        lambda z: 0.5 * z * (1.0 + np.tanh(np.sqrt(2.0 / np.pi) * (z + 0.044715 * z**3))),
        False,
    ),
}
PIECEWISE_LINEAR = tuple(k for k, a in ACTIVATIONS.items() if a.piecewise_linear)

MAX_WIDTH = 1024
MAX_DEPTH = 8


class Init(NamedTuple):
    label: str
    help: str


INITS: dict[str, Init] = {
    "he": Init("He (ReLU)", "Normal with std sqrt(2 / fan_in): keeps ReLU signals steady."),
    "glorot": Init("Glorot (tanh)", "Uniform in ±sqrt(6 / (fan_in + fan_out)): for tanh."),
    "uniform": Init(
        "Uniform ±1/√n", "Uniform in ±1/sqrt(fan_in): the old default that starves sigmoids."
    ),
    "normal": Init("Normal(0, σ)", "Every weight drawn with the same std σ, whatever the size."),
}


def output_size(task: str, n_classes: int) -> int:
    """Units of the output layer: one logit (binary), K logits, or one value."""
    return n_classes if task == "multiclass" else 1


def layer_sizes(n_in: int, hidden: Sequence[int], n_out: int) -> list[int]:
    return [n_in, *hidden, n_out]


def param_count(sizes: Sequence[int]) -> int:
    """Weights and biases of a dense stack; (N + 1) K for the linear model."""
    return sum((a + 1) * b for a, b in pairwise(sizes))


def init_params(sizes: Sequence[int], *, key, init: str = "he", sigma: float = 1.0):
    """Fresh params for layer sizes [n_in, h1, ..., n_out]; biases start at zero."""
    keys = jax.random.split(key, len(sizes) - 1)
    params = []
    for k, fan_in, fan_out in zip(keys, sizes[:-1], sizes[1:], strict=False):
        shape = (fan_in, fan_out)
        if init == "he":
            w = jax.random.normal(k, shape) * np.sqrt(2.0 / fan_in)
        elif init == "glorot":
            lim = np.sqrt(6.0 / (fan_in + fan_out))
            w = jax.random.uniform(k, shape, minval=-lim, maxval=lim)
        elif init == "uniform":
            lim = 1.0 / np.sqrt(fan_in)
            w = jax.random.uniform(k, shape, minval=-lim, maxval=lim)
        elif init == "normal":
            w = jax.random.normal(k, shape) * sigma
        else:
            raise ValueError(f"unknown init {init!r}")
        params.append((w.astype(jnp.float32), jnp.zeros((fan_out,), jnp.float32)))
    return params


def dense(h, w, b):
    """One layer's pre-activations h W + b for h (N, fan_in), w (fan_in, fan_out)."""
    return h @ w + b[None, :]


def forward(params, x, activation: str = "relu", *, dropout: float = 0.0, key=None, layer=dense):
    """Outputs (N, n_out) of the net for inputs x (N, n_in).

    Dropout (inverted, on hidden units) applies only when ``key`` is given; ``dropout``
    may be a traced value (training changes it live), so it is never tested in Python.
    ``layer`` computes each h W + b (the same numbers another way: see
    ``train.train_chunk``).
    """
    act = ACTIVATIONS[activation].fn
    h = x
    for i, (w, b) in enumerate(params[:-1]):
        h = act(layer(h, w, b))
        if key is not None:
            keep = jax.random.bernoulli(jax.random.fold_in(key, i), 1.0 - dropout, h.shape)
            h = jnp.where(keep, h / (1.0 - dropout), 0.0)
    w, b = params[-1]
    return layer(h, w, b)


def forward_with_preactivations(params, x, activation: str = "relu"):
    """Outputs and every hidden layer's pre-activations z_l = h_{l-1} W_l + b_l."""
    act = ACTIVATIONS[activation].fn
    h, pre = x, []
    for w, b in params[:-1]:
        z = h @ w + b[None, :]
        pre.append(z)
        h = act(z)
    w, b = params[-1]
    return h @ w + b[None, :], pre


def hidden_activations(params, x, activation: str = "relu"):
    """Every hidden layer's post-activation values (list of (N, width))."""
    act = ACTIVATIONS[activation].fn
    _, pre = forward_with_preactivations(params, x, activation)
    return [act(z) for z in pre]


def dead_units(params, x, activation: str = "relu") -> list:
    """Per hidden layer, a (width,) bool array: units that are off (pre-activation <= 0,
    so output 0 and gradient 0) at every point of ``x`` (N, n_in). All False for an
    activation that cannot die (``Activation.can_die``). When a whole layer is dead, no
    gradient reaches it or any layer before it, and the output no longer depends on x.
    """
    _, pre = forward_with_preactivations(params, x, activation)
    if not ACTIVATIONS[activation].can_die:
        return [jnp.zeros(z.shape[1], bool) for z in pre]
    return [jnp.all(z <= 0, axis=0) for z in pre]


def output_to_prediction(out, task: str):
    """Turn raw outputs into what is plotted: P(class 1), class probabilities, or a value."""
    if task == "binary":
        return jax.nn.sigmoid(out[:, 0])
    if task == "multiclass":
        return jax.nn.softmax(out, axis=-1)
    return out[:, 0]


def params_to_device(params, dtype=None) -> list:
    """The params as JAX arrays [(W, b), ...] (of ``dtype`` when given)."""
    return [(jnp.asarray(w, dtype), jnp.asarray(b, dtype)) for w, b in params]


def params_to_host(params) -> list[tuple[np.ndarray, np.ndarray]]:
    """The params as NumPy arrays [(W, b), ...] (copied off the device)."""
    return [(np.asarray(w), np.asarray(b)) for w, b in params]


# A typed weight or bias beyond this size saturates every unit it feeds: refused, in words.
EDIT_LIMIT = 1000.0


def edited_params(params, layer: int, unit: int, source: int | None, value: float) -> list:
    """``params`` with one number changed: weight ``W[source, unit]`` of weight layer
    ``layer`` (0-based; the last is the output layer), or its bias ``b[unit]`` when
    ``source`` is None. A new list of NumPy pairs (dtypes kept); ``params`` is not
    touched. Out-of-range picks and non-finite or huge values raise PlaygroundError."""
    host = params_to_host(params)
    if not 0 <= layer < len(host):
        raise PlaygroundError(f"there is no layer {layer + 1}: the network has {len(host)}")
    w, b = host[layer]
    if not 0 <= unit < w.shape[1]:
        raise PlaygroundError(f"there is no unit {unit + 1} in that layer: it has {w.shape[1]}")
    if source is not None and not 0 <= source < w.shape[0]:
        raise PlaygroundError(f"there is no input {source + 1} to that layer: it has {w.shape[0]}")
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise PlaygroundError(f"{value!r} is not a number") from None
    if not math.isfinite(value) or abs(value) > EDIT_LIMIT:
        raise PlaygroundError(
            f"a weight or bias must be a number between -{EDIT_LIMIT:g} and {EDIT_LIMIT:g}"
        )
    w, b = w.copy(), b.copy()
    if source is None:
        b[unit] = value
    else:
        w[source, unit] = value
    return [*host[:layer], (w, b), *host[layer + 1 :]]
