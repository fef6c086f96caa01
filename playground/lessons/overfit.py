"""Lesson: overfitting and regularisation. The math behind its page (no Streamlit here).

A big network on a few noisy points learns the noise: its training loss falls to zero
while its test loss climbs. Each remedy is a Playground setting trained by the engine
(L2, L1, dropout) or a rule on its checkpoints (early stopping, judged on a validation
set of fresh points, never on the test set). L1's weights hover near zero under plain
gradient steps; a proximal step (optax's SGD chained with soft-thresholding) makes them
exactly zero.
"""

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from playground.core.config import RunConfig
from playground.core.datasets import Dataset, make_dataset
from playground.core.model import params_to_device
from playground.core.train import model_loss
from playground.lessons import tools
from playground.lessons.linear import Fit
from playground.live.engine import run as engine

BASE_CFG = RunConfig(
    problem="moons",
    noise=0.3,
    n_points=100,
    train_ratio=0.4,  # 40 training points, 60 test points
    hidden=(64, 64),
    learning_rate=0.003,
    batch_size=0,
)
STEPS = 1024
EVERY = 16
METHODS = {
    "none": "no regularisation",
    "l2": "L2 penalty",
    "l1": "L1 penalty",
    "dropout": "dropout",
    "early": "early stopping",
}
L2_RATES = (1e-3, 3e-3, 1e-2, 3e-2)
L1_RATES = (3e-4, 1e-3, 3e-3, 1e-2)
DROPOUTS = (0.2, 0.5, 0.7)
DEFAULTS = {"l2": 1e-2, "l1": 3e-3, "dropout": 0.5}
NEAR_ZERO = 1e-2  # |w| below this counts as "about zero"

# How the penalties act on single weights, seen with plain SGD (a step is exactly
# learning rate x gradient; Adam rescales every step, which blurs the difference).
SPARSE_LR = 0.1
SPARSE_STEPS = 2048
SPARSE_RATES = {"l2": 3e-3, "l1": 1e-3}


def config(method: str, rate: float | None = None) -> RunConfig:
    """The Playground setting of a method (early stopping trains like "none")."""
    rate = DEFAULTS.get(method) if rate is None else rate
    if method in ("l1", "l2"):
        return BASE_CFG.replace(reg=method, reg_rate=float(rate))
    if method == "dropout":
        return BASE_CFG.replace(dropout=float(rate))
    return BASE_CFG


def validation_set(cfg: RunConfig = BASE_CFG) -> Dataset:
    """Fresh points of the same problem (another seed), as many as the training set:
    what early stopping watches. The test set stays unseen until the end."""
    return make_dataset(
        cfg.problem, n_points=cfg.n_points, noise=cfg.noise, train_ratio=cfg.train_ratio,
        seed=cfg.seed + 1,
    )  # fmt: skip


class Regularised(NamedTuple):
    method: str
    rate: float | None
    fit: Fit  # the weights it ends with (early stopping: at its chosen step)
    curve: tools.Curve  # train and test loss every EVERY steps
    val_loss: np.ndarray  # validation loss at the same steps
    stop_step: int  # the step the weights come from

    @property
    def train_loss(self) -> float:
        return float(self.curve.train_loss[self.stop_index])

    @property
    def test_loss(self) -> float:
        return float(self.curve.test_loss[self.stop_index])

    @property
    def gap(self) -> float:
        """Test loss minus training loss: how much of what it learnt does not carry over."""
        return self.test_loss - self.train_loss

    @property
    def stop_index(self) -> int:
        return int(np.flatnonzero(self.curve.step == self.stop_step)[0])

    @property
    def weights(self) -> np.ndarray:
        return all_weights(self.fit.params)

    @property
    def near_zero(self) -> int:
        """How many weights are below NEAR_ZERO in size."""
        return int(np.sum(np.abs(self.weights) < NEAR_ZERO))


def all_weights(params) -> np.ndarray:
    """Every weight (no biases: the penalties leave them alone), flattened."""
    return np.concatenate([np.ravel(w) for w, _ in params])


def regularised(method: str, rate: float | None = None) -> Regularised:
    """Train the big network with one method, measuring it every EVERY steps."""
    cfg = config(method, rate)
    run, curve, kept = tools.train_curve(engine.new_run(cfg), STEPS, EVERY, keep_params=True)
    val = validation_set(cfg)
    xv, yv = jnp.asarray(val.x_train), jnp.asarray(val.y_train)
    val_loss = np.array([float(_loss(params_to_device(p), xv, yv, spec=run.spec)) for p in kept])
    i = int(np.argmin(val_loss)) if method == "early" else len(kept) - 1
    fit = tools.fit_from_params(cfg, run.spec, kept[i], run.data)
    rate = None if method in ("none", "early") else (DEFAULTS[method] if rate is None else rate)
    return Regularised(method, rate, fit, curve, val_loss, int(curve.step[i]))


_loss = jax.jit(model_loss, static_argnames=("spec",))


# -- L1: near zero, or exactly zero ------------------------------------------------------
def soft_threshold(threshold: float) -> optax.GradientTransformation:
    """After an update, shrink every weight matrix towards zero by ``threshold`` and stop
    at zero (biases untouched): the proximal step of threshold x sum |w|."""

    def update(updates, state, params):
        new = optax.apply_updates(params, updates)
        shrunk = [(jnp.sign(w) * jnp.maximum(jnp.abs(w) - threshold, 0.0), b) for w, b in new]
        return jax.tree.map(lambda s, p: s - p, shrunk, params), state

    return optax.GradientTransformation(lambda params: optax.EmptyState(), update)


class Sparse(NamedTuple):
    label: str
    weights: np.ndarray  # every weight, flattened
    fit: Fit

    def count_below(self, tol: float) -> int:
        return int(np.sum(np.abs(self.weights) < tol))

    @property
    def exact_zeros(self) -> int:
        return int(np.sum(self.weights == 0.0))


SPARSE_LABELS = {
    "l2": "L2, plain gradient step",
    "l1": "L1, plain gradient step",
    "l1_prox": "L1, proximal step",
}


def sparse_config(reg: str) -> RunConfig:
    return BASE_CFG.replace(
        optimizer="sgd", learning_rate=SPARSE_LR, reg=reg, reg_rate=SPARSE_RATES[reg]
    )


def penalised_sgd(reg: str) -> Sparse:
    """The engine's L2 (2·rate·w added to each gradient) or L1 (rate·sign(w)), plain SGD."""
    run, _ = engine.train(engine.new_run(sparse_config(reg)), steps=SPARSE_STEPS)
    fit = tools.fit_of(run)
    return Sparse(SPARSE_LABELS[reg], all_weights(fit.params), fit)


@functools.cache
def _proximal_tx(threshold: float) -> optax.GradientTransformation:
    return optax.chain(optax.sgd(SPARSE_LR), soft_threshold(threshold))


def l1_proximal() -> Sparse:
    """The same L1 penalty with a proximal step: an SGD step on the data loss alone, then
    soft-thresholding by learning rate x rate. Same start and data as the engine's run."""
    cfg = sparse_config("l1")
    start = engine.new_run(cfg)
    d = tools.descend(
        tools.engine_loss(start.spec),
        start.state.params,
        _proximal_tx(SPARSE_LR * SPARSE_RATES["l1"]),
        tools.full_batches(len(start.data.x_train), SPARSE_STEPS),
        ctx=tools.data_ctx(start.data),
    )
    fit = tools.fit_from_params(cfg, start.spec, d.params, start.data)
    return Sparse(SPARSE_LABELS["l1_prox"], all_weights(fit.params), fit)


def sparse(kind: str) -> Sparse:
    """One of SPARSE_LABELS: how many weights end near zero, or at zero."""
    return l1_proximal() if kind == "l1_prox" else penalised_sgd(kind)


def weight_histogram(weights: np.ndarray, edges=None) -> tuple[np.ndarray, np.ndarray, int]:
    """(edges, counts) of log10 |w| for the non-zero weights, and the exact zeros apart."""
    edges = np.arange(-7.0, 1.01, 1.0) if edges is None else edges
    w = np.abs(np.asarray(weights, np.float64))
    nz = w[w > 0]
    counts, _ = np.histogram(np.log10(np.clip(nz, 10.0 ** edges[0], 10.0 ** edges[-1])), edges)
    return edges, counts, int(np.sum(w == 0))


def layer_magnitudes(params) -> list[np.ndarray]:
    """|W| of each layer, (fan_in, fan_out), for a picture of which weights are gone."""
    return [np.abs(np.asarray(w, np.float64)) for w, _ in params]


def playground_config(method: str, rate: float | None = None) -> RunConfig:
    """The Playground with the lesson's data and network (early stopping: none set)."""
    return config(method, rate)
