"""Lesson: softmax and cross-entropy. The math behind its page (no Streamlit here).

Logits -> softmax -> probabilities on a trained K-class network, the temperature of the
logits, the gradient each loss sends back to the logits (cross-entropy: p - y; squared
error through a sigmoid or softmax: damped by the squashing function's slope), and one
network, made confidently wrong, trained back with each loss side by side.
"""

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from playground.core.config import RunConfig
from playground.core.model import output_to_prediction, params_to_device
from playground.core.train import ModelSpec, data_loss, predict_raw
from playground.lessons import tools
from playground.lessons.linear import Fit, train_fit

CLASS_CFG = RunConfig(
    problem="spiral", classes=3, hidden=(16, 16, 16), learning_rate=0.01, batch_size=10
)
CLASS_STEPS = (0, 256, 2048)  # training steps the page offers (Adam, the engine)
TEMPERATURES = (0.25, 0.5, 1.0, 2.0, 4.0)
POINT = (1.0, 0.5)  # where the star starts: between two arms, the network is unsure

# Trained (Adam 0.03, minibatches of 10), then turned upside down.
FLIP_CFG = RunConfig(problem="xor", hidden=(8, 8), learning_rate=0.03, batch_size=10)
FLIP_TRAIN_STEPS = 1024
RETRAIN_STEPS = 300  # full-batch plain SGD: Adam would rescale the tiny gradients away
RETRAIN_LR = 0.1
LOSSES = {"ce": "cross-entropy", "mse": "squared error through the sigmoid"}


# -- logits, softmax, temperature --------------------------------------------------------
def class_fit(steps: int) -> Fit:
    """The K-class network after ``steps`` steps of the Playground's engine."""
    return train_fit(CLASS_CFG, steps)


class Readout(NamedTuple):
    """What the network says about one point of the plane."""

    point: np.ndarray  # (2,)
    logits: np.ndarray  # (K,) raw outputs of the last layer
    probs: np.ndarray  # (K,) their softmax

    @property
    def least_likely(self) -> int:
        """The class the network most firmly rules out here."""
        return int(np.argmin(self.probs))


def read_point(fit: Fit, point) -> Readout:
    x = jnp.asarray(np.asarray(point, np.float32)[None, :])
    logits = predict_raw(params_to_device(fit.params), x, fit.spec)
    probs = output_to_prediction(logits, "multiclass")
    return Readout(np.asarray(point, np.float64), np.asarray(logits[0]), np.asarray(probs[0]))


def with_temperature(logits, temperatures=TEMPERATURES) -> np.ndarray:
    """(T, K) softmax(logits / T) for each temperature T: the engine's softmax."""
    z = jnp.asarray(logits, jnp.float32)[None, :] / jnp.asarray(temperatures, jnp.float32)[:, None]
    return np.asarray(output_to_prediction(z, "multiclass"))


# -- the gradient each loss sends back ---------------------------------------------------
def mse_through_sigmoid(out, y):
    """Mean squared error between P(class 1) = sigmoid(logit) and the 0/1 label."""
    return jnp.mean((jax.nn.sigmoid(out[:, 0]) - y) ** 2)


def mse_through_softmax(out, y):
    """Mean over points of the squared distance between softmax(logits) and one-hot."""
    one_hot = jax.nn.one_hot(y, out.shape[1], dtype=out.dtype)
    return jnp.mean(jnp.sum((jax.nn.softmax(out, axis=-1) - one_hot) ** 2, axis=-1))


class LogitSweep(NamedTuple):
    """One point of class ``target``, its single logit z swept: each loss's dL/dz."""

    z: np.ndarray  # (M,)
    target: int
    prob: np.ndarray  # sigmoid(z) = P(class 1)
    ce: np.ndarray  # cross-entropy through the sigmoid (the engine's binary loss)
    mse_sigmoid: np.ndarray  # squared error through the sigmoid
    mse_value: np.ndarray  # squared error on z itself, as for a value (the engine's)


def logit_sweep(z=None, target: int = 1) -> LogitSweep:
    z = np.linspace(-10, 10, 201) if z is None else np.asarray(z, np.float64)
    y1 = jnp.asarray([target])

    def grad_of(loss):
        return np.asarray(jax.vmap(jax.grad(lambda v: loss(v.reshape(1, 1), y1)))(jnp.asarray(z)))

    return LogitSweep(
        z=z,
        target=target,
        prob=np.asarray(jax.nn.sigmoid(jnp.asarray(z))),
        ce=grad_of(lambda o, y: data_loss(o, y, "binary")),
        mse_sigmoid=grad_of(lambda o, y: mse_through_sigmoid(o, y.astype(o.dtype))),
        mse_value=grad_of(lambda o, y: data_loss(o, y.astype(o.dtype), "regression")),
    )


class ClassGradients(NamedTuple):
    """dL/dlogits for a batch of N points with K logits each, under both losses."""

    probs: np.ndarray  # (N, K)
    ce: np.ndarray  # (N, K) cross-entropy: (p - one-hot) / N
    mse: np.ndarray  # (N, K) squared error through the softmax


def class_gradients(logits, labels) -> ClassGradients:
    z = jnp.asarray(logits, jnp.float32)
    y = jnp.asarray(labels, jnp.int32)
    return ClassGradients(
        probs=np.asarray(output_to_prediction(z, "multiclass")),
        ce=np.asarray(jax.grad(lambda o: data_loss(o, y, "multiclass"))(z)),
        mse=np.asarray(jax.grad(lambda o: mse_through_softmax(o, y))(z)),
    )


# -- one network, trained back from confidently wrong with each loss ---------------------
def confidently_wrong() -> Fit:
    """XOR learnt by the engine, then its output layer negated: every answer is now
    wrong, with the same (large) confidence it had when it was right."""
    fit = train_fit(FLIP_CFG, FLIP_TRAIN_STEPS)
    *hidden, (w, b) = fit.params
    return tools.fit_from_params(fit.cfg, fit.spec, [*hidden, (-w, -b)], fit.data)


class Retrained(NamedTuple):
    loss: str  # a key of LOSSES
    start: Fit
    end: Fit
    train_loss: np.ndarray  # (steps,) the loss being minimised, before each step
    grad_norm: np.ndarray  # (steps,) size of the whole gradient, before each step
    test_accuracy: np.ndarray  # (steps + 1,)
    learning_rate: float


@functools.cache
def _loss_fn(loss: str, spec: ModelSpec):
    """``loss_fn(params, idx, ctx)`` for ``tools.descend``: the engine's cross-entropy,
    or squared error through the sigmoid."""
    if loss == "ce":
        return tools.engine_loss(spec)

    def mse(p, idx, ctx):
        y = ctx[1][idx].astype(jnp.float32)
        return mse_through_sigmoid(predict_raw(p, ctx[0][idx], spec), y)

    return mse


def retrain(loss: str, steps: int = RETRAIN_STEPS, learning_rate: float = RETRAIN_LR):
    """The confidently wrong network trained with plain full-batch SGD on ``loss``."""
    start = confidently_wrong()
    spec, d = start.spec, start.data
    run = tools.descend(
        _loss_fn(loss, spec),
        start.params,
        tools.optimizer("sgd"),
        tools.full_batches(len(d.x_train), steps),
        ctx=tools.data_ctx(d),
        learning_rate=learning_rate,
        watch=tools.metrics_watch(spec),
    )
    return Retrained(
        loss=loss,
        start=start,
        end=tools.fit_from_params(start.cfg, spec, run.params, d),
        train_loss=run.loss,
        grad_norm=run.grad_norm,
        test_accuracy=run.watch[:, tools.METRIC_KEYS.index("test_metric")],
        learning_rate=learning_rate,
    )


def playground_config() -> RunConfig:
    """The K-class problem in the Playground: it trains with softmax cross-entropy."""
    return CLASS_CFG
