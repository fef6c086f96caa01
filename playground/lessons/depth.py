"""Lesson: gradients through depth. Per-layer gradient size and activation spread of deep
nets at initialisation and while plain SGD trains them (no Streamlit here).
"""

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from playground.core.config import RunConfig
from playground.core.datasets import make_dataset
from playground.core.features import RAW_FEATURES
from playground.core.model import MAX_DEPTH, hidden_activations
from playground.core.train import (
    Hyper,
    ModelSpec,
    evaluate,
    init_state,
    layer_grad_rms,
    model_loss,
    train_chunk,
)

DEPTH_PROBLEM = "xor"  # labels by the sign of x1·x2
DEPTH_POINTS = 500  # half for training, full batch
DEPTH_CHUNK = 64  # steps per compiled training chunk (one compile per network)
MAX_LESSON_DEPTH = 16


class Preset(NamedTuple):
    label: str
    activation: str
    init: str
    sigma: float = 1.0
    depth: int = 10
    width: int = 64


PRESETS: dict[str, Preset] = {
    "vanishing": Preset("Vanishing: sigmoid, uniform ±1/√n", "sigmoid", "uniform"),
    "tanh": Preset("Steady: tanh, Glorot", "tanh", "glorot"),
    "relu_he": Preset("Steady: ReLU, He", "relu", "he"),
    "exploding": Preset("Exploding: ReLU, Normal(0, 1)", "relu", "normal", 1.0),
}


def depth_spec(activation: str, depth: int, width: int) -> ModelSpec:
    return ModelSpec(RAW_FEATURES, (int(width),) * int(depth), activation, "binary", 2)


def depth_data(seed: int = 0):
    return make_dataset(DEPTH_PROBLEM, n_points=DEPTH_POINTS, seed=seed)


_grads_jit = jax.jit(jax.grad(model_loss), static_argnames=("spec",))


class LayerStats(NamedTuple):
    """Per-layer numbers of one network on the training points.

    grad_rms: (depth + 1,) RMS per parameter of each layer's gradient (W and b), the last
    entry the output layer. bias_grad_rms: the same for the biases alone: dL/db_l is the
    signal the backward pass hands to layer l. spread: (depth,) standard deviation of each
    hidden layer's outputs.
    """

    grad_rms: np.ndarray
    bias_grad_rms: np.ndarray
    spread: np.ndarray


def layer_stats(params, x, y, spec: ModelSpec) -> LayerStats:
    g = _grads_jit(params, x, y, spec=spec)
    acts = hidden_activations(params, x, spec.activation)
    return LayerStats(
        grad_rms=np.asarray(layer_grad_rms(g), np.float64),
        bias_grad_rms=np.array([float(jnp.sqrt(jnp.mean(gb * gb))) for _, gb in g]),
        spread=np.array([float(jnp.std(a)) for a in acts]),
    )


def first_to_last(rms: np.ndarray) -> float:
    """First layer's gradient RMS over the last (output) layer's: < 1 means it fades."""
    return float(rms[0] / rms[-1])


def hidden_range(rms: np.ndarray) -> float:
    """Largest over smallest gradient RMS among the hidden layers (1 = perfectly level)."""
    hidden = rms[:-1]
    return float(hidden.max() / hidden.min()) if hidden.size else 1.0


VANISHING_BELOW = 1e-3  # first ÷ last layer gradient RMS
EXPLODING_ABOVE = 1e3  # largest gradient RMS, or last ÷ first hidden spread
STEADY_WITHIN = 10.0  # largest ÷ smallest hidden-layer gradient RMS


def verdict(stats: LayerStats) -> str:
    """'vanishing', 'exploding', 'steady' or 'uneven', from the per-layer numbers."""
    spread_growth = stats.spread[-1] / stats.spread[0] if stats.spread.size else 1.0
    if stats.grad_rms.max() > EXPLODING_ABOVE or spread_growth > EXPLODING_ABOVE:
        return "exploding"
    if first_to_last(stats.grad_rms) < VANISHING_BELOW:
        return "vanishing"
    return "steady" if hidden_range(stats.grad_rms) <= STEADY_WITHIN else "uneven"


class DepthRun(NamedTuple):
    """A deep net at initialisation and after plain SGD training."""

    preset: Preset  # the settings used (label "custom" when not a preset)
    at_init: LayerStats
    trained: LayerStats
    grad_history: np.ndarray  # (steps, depth + 1) gradient RMS per layer at every step
    loss_history: np.ndarray  # (steps,) training loss before every step
    steps: int  # steps applied
    diverged_at: int  # first step whose update was not finite, else -1
    accuracy_before: float  # test accuracy
    accuracy_after: float


def depth_run(
    activation: str,
    init: str,
    depth: int,
    width: int,
    *,
    sigma: float = 1.0,
    steps: int = 0,
    learning_rate: float = 0.1,
    seed: int = 0,
) -> DepthRun:
    """Per-layer gradients and spreads of a deep net, at init and after ``steps`` of SGD.

    Full-batch SGD so a step is exactly learning_rate x gradient: a layer with tiny
    gradients barely moves, one with huge gradients jumps. Steps run in chunks of
    DEPTH_CHUNK (rounded up), one compiled scan per network.
    """
    if not 1 <= depth <= MAX_LESSON_DEPTH:
        raise ValueError(f"depth must lie in 1..{MAX_LESSON_DEPTH}")
    spec = depth_spec(activation, depth, width)
    d = depth_data(seed)
    arrays = [jnp.asarray(a) for a in (d.x_train, d.y_train, d.x_test, d.y_test)]
    x, y = arrays[0], arrays[1]
    state = init_state(spec, "sgd", key=jax.random.key(seed), init=init, sigma=sigma)
    before = layer_stats(state.params, x, y, spec)
    acc_before = float(evaluate(state.params, *arrays, spec=spec)["test_metric"])
    hyper = Hyper(learning_rate=float(learning_rate))
    grads, losses = [], []
    for _ in range(-(-int(steps) // DEPTH_CHUNK)):
        state, log = train_chunk(
            state, x, y, hyper, spec=spec, optimizer="sgd", batch_size=0, n_steps=DEPTH_CHUNK
        )
        grads.append(np.asarray(log.grad_rms))
        losses.append(np.asarray(log.loss))
        if int(state.diverged_at) >= 0:
            break
    diverged_at = int(state.diverged_at)
    after = layer_stats(state.params, x, y, spec)
    acc_after = float(evaluate(state.params, *arrays, spec=spec)["test_metric"])
    n_layers = depth + 1
    history = np.concatenate(grads) if grads else np.zeros((0, n_layers))
    loss = np.concatenate(losses) if losses else np.zeros((0,))
    if diverged_at >= 0:  # keep the records up to the step that blew up
        history, loss = history[: diverged_at + 1], loss[: diverged_at + 1]
    return DepthRun(
        preset=Preset("custom", activation, init, sigma, depth, width),
        at_init=before,
        trained=after,
        grad_history=history,
        loss_history=loss,
        steps=int(state.step),
        diverged_at=diverged_at,
        accuracy_before=acc_before,
        accuracy_after=acc_after,
    )


def preset_stats(name: str, *, seed: int = 0) -> LayerStats:
    """The preset's network at initialisation (no training)."""
    p = PRESETS[name]
    spec = depth_spec(p.activation, p.depth, p.width)
    d = depth_data(seed)
    state = init_state(spec, "sgd", key=jax.random.key(seed), init=p.init, sigma=p.sigma)
    return layer_stats(state.params, jnp.asarray(d.x_train), jnp.asarray(d.y_train), spec)


def depth_playground_config(
    activation: str, init: str, depth: int, width: int, sigma: float, learning_rate: float
) -> RunConfig:
    """The Playground's nearest setting (it allows at most MAX_DEPTH hidden layers)."""
    return RunConfig(
        problem=DEPTH_PROBLEM,
        hidden=(int(width),) * min(int(depth), MAX_DEPTH),
        activation=activation,
        init=init,
        init_sigma=float(sigma),
        optimizer="sgd",
        learning_rate=float(learning_rate),
        batch_size=0,
    )
