"""Lesson: backpropagation, step by step, on a small worked example (the course notes'
quiz network, whose printed logits are the reference values; the page calls them
"expected", as the learner has no notes).

Its forward pass with every intermediate, the backward pass written out block by block
with the chain rule (checked against ``jax.grad`` and central finite differences), one
optax SGD step, and XLA's cost analysis of forward vs forward + backward. No Streamlit.
"""

from collections.abc import Sequence
from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.flatten_util import ravel_pytree

from playground.core.config import RunConfig
from playground.core.datasets import make_dataset
from playground.core.features import RAW_FEATURES
from playground.core.model import (
    ACTIVATIONS,
    forward,
    forward_with_preactivations,
    init_params,
    output_to_prediction,
    params_to_device,
    params_to_host,
)
from playground.core.train import ModelSpec, data_loss, model_loss

QUIZ_X = np.array([[1, 2, 3, 4], [-1, -2, -3, -4], [11, 12, 13, 14]], np.float32)
QUIZ_W1 = np.array([[0.1, 0.2, 0.4], [0.4, 0.6, 0.6], [0.5, 0.9, 0.1], [0.8, 0.2, 0.8]], np.float32)
QUIZ_W2 = np.array([[0.1, 0.6], [0.2, 0.1], [0.7, 0.9]], np.float32)
# The logits the notes print for this network (to two decimals).
QUIZ_LOGITS = np.array([[5.11, 8.44], [0.0, 0.0], [24.01, 38.24]])
QUIZ_LABELS = (0, 1, 1)  # a default choice of classes; the learner picks their own
QUIZ_ACTIVATION = "relu"
QUIZ_TASK = "multiclass"  # two logits, softmax cross-entropy
FD_EPS = 1e-6  # central-difference step, in float64


def quiz_params():
    """[(W1 (4, 3), b1 (3,)), (W2 (3, 2), b2 (2,))] with zero biases, as in the notes."""
    return [
        (jnp.asarray(QUIZ_W1), jnp.zeros((3,), jnp.float32)),
        (jnp.asarray(QUIZ_W2), jnp.zeros((2,), jnp.float32)),
    ]


def quiz_loss(params, x, labels):
    """Mean softmax cross-entropy of the quiz network: the engine's forward and loss."""
    out = forward(params, x, QUIZ_ACTIVATION)
    return data_loss(out, jnp.asarray(labels, jnp.int32), QUIZ_TASK)


class ForwardTrace(NamedTuple):
    """Every number of the forward pass for a batch of N examples."""

    x: np.ndarray  # (N, 4) inputs
    z: np.ndarray  # (N, 3) hidden pre-activations x W1 + b1
    h: np.ndarray  # (N, 3) ReLU outputs
    logits: np.ndarray  # (N, 2) h W2 + b2
    probs: np.ndarray  # (N, 2) softmax of the logits
    labels: np.ndarray  # (N,) chosen classes
    losses: np.ndarray  # (N,) cross-entropy of each example
    loss: float  # their mean


@jax.jit
def _forward_parts(params, x, y):
    logits, pre = forward_with_preactivations(params, x, QUIZ_ACTIVATION)
    h = ACTIVATIONS[QUIZ_ACTIVATION].fn(pre[0])
    per_example = jax.vmap(lambda o, t: data_loss(o[None, :], t[None], QUIZ_TASK))(logits, y)
    probs = output_to_prediction(logits, QUIZ_TASK)
    return pre[0], h, logits, probs, per_example, data_loss(logits, y, QUIZ_TASK)


def forward_trace(params, x, labels) -> ForwardTrace:
    """Run the quiz network on a batch and keep every intermediate."""
    x = jnp.asarray(x, jnp.float32)
    y = jnp.asarray(labels, jnp.int32)
    z, h, logits, probs, losses, loss = _forward_parts(params, x, y)
    return ForwardTrace(
        x=np.asarray(x),
        z=np.asarray(z),
        h=np.asarray(h),
        logits=np.asarray(logits),
        probs=np.asarray(probs),
        labels=np.asarray(y),
        losses=np.asarray(losses),
        loss=float(loss),
    )


class BackwardTrace(NamedTuple):
    """The backward pass, block by block, each a local derivative times what came back."""

    d_logits: np.ndarray  # (N, 2) dL/dlogits = (softmax - one-hot) / N
    d_w2: np.ndarray  # (3, 2) h^T dL/dlogits
    d_b2: np.ndarray  # (2,) dL/dlogits summed over examples
    d_h: np.ndarray  # (N, 3) dL/dlogits W2^T
    relu_slope: np.ndarray  # (N, 3) the ReLU's derivative: 1 where z > 0, else 0
    d_z: np.ndarray  # (N, 3) dL/dh * relu_slope
    d_w1: np.ndarray  # (4, 3) x^T dL/dz
    d_b1: np.ndarray  # (3,) dL/dz summed over examples

    def grads(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """Same layout as params: [(dW1, db1), (dW2, db2)]."""
        return [(self.d_w1, self.d_b1), (self.d_w2, self.d_b2)]


class ZeroRow(NamedTuple):
    """An example whose row of dL/dZ shows as all zeros, and why."""

    example: int  # 1-based, as the page numbers them
    reason: str  # "relu": every unit off for it; "confident": P - Y is ~0
    probability: float  # the probability the network gives its class
    largest: float  # the largest |dL/dZ| in its row


def zero_gradient_rows(fw: ForwardTrace, bw: "BackwardTrace", digits: int = 4) -> list[ZeroRow]:
    """Rows of dL/dZ that print as all zeros at ``digits`` decimals, with the reason."""
    rows = []
    for i, row in enumerate(np.abs(bw.d_z)):
        if row.max() >= 0.5 * 10.0**-digits:
            continue
        reason = "relu" if not bw.relu_slope[i].any() else "confident"
        p = float(fw.probs[i, fw.labels[i]])
        rows.append(ZeroRow(i + 1, reason, p, float(row.max())))
    return rows


def chain_rule_backward(params, fw: ForwardTrace) -> BackwardTrace:
    """The backward pass written out with the chain rule, in float64 NumPy."""
    w2 = np.asarray(params[1][0], np.float64)
    n, k = fw.logits.shape
    one_hot = np.eye(k)[fw.labels]
    d_logits = (fw.probs.astype(np.float64) - one_hot) / n  # softmax + cross-entropy
    d_h = d_logits @ w2.T
    relu_slope = (fw.z > 0).astype(np.float64)
    d_z = d_h * relu_slope
    return BackwardTrace(
        d_logits=d_logits,
        d_w2=fw.h.astype(np.float64).T @ d_logits,
        d_b2=d_logits.sum(axis=0),
        d_h=d_h,
        relu_slope=relu_slope,
        d_z=d_z,
        d_w1=fw.x.astype(np.float64).T @ d_z,
        d_b1=d_z.sum(axis=0),
    )


_quiz_grad = jax.jit(jax.grad(quiz_loss))


def autodiff_grads(params, x, labels) -> list[tuple[np.ndarray, np.ndarray]]:
    """jax.grad of the quiz loss."""
    g = _quiz_grad(params, jnp.asarray(x, jnp.float32), jnp.asarray(labels, jnp.int32))
    return params_to_host(g)


def finite_difference_grads(params, x, labels, eps: float = FD_EPS):
    """Central differences (L(θ + ε) - L(θ - ε)) / 2ε for every parameter, in float64."""
    with jax.enable_x64(True):
        p64 = params_to_device(params, jnp.float64)
        x64 = jnp.asarray(x, jnp.float64)
        g = _central_differences(p64, x64, jnp.asarray(labels, jnp.int32), eps)
        return params_to_host(g)


@partial(jax.jit, static_argnames=("eps",))
def _central_differences(params, x, labels, eps: float):
    flat_params, unravel = ravel_pytree(params)
    nudges = eps * jnp.eye(flat_params.size, dtype=flat_params.dtype)
    loss_at = jax.vmap(lambda d: quiz_loss(unravel(flat_params + d), x, labels))
    return unravel((loss_at(nudges) - loss_at(-nudges)) / (2 * eps))


def parameter_names(params) -> list[str]:
    """'W1[i,j]' and 'b1[j]' names in the order ravel_pytree flattens the params."""
    names = []
    for layer, (w, b) in enumerate(params, start=1):
        rows, cols = w.shape
        names += [f"W{layer}[{i + 1},{j + 1}]" for i in range(rows) for j in range(cols)]
        names += [f"b{layer}[{j + 1}]" for j in range(b.shape[0])]
    return names


def flat(grads) -> np.ndarray:
    """Gradients laid out as [(dW, db), ...] -> one float64 vector, layer by layer."""
    return np.concatenate([np.ravel(a).astype(np.float64) for pair in grads for a in pair])


class GradientCheck(NamedTuple):
    names: list[str]
    chain_rule: np.ndarray  # by hand, block by block
    autodiff: np.ndarray  # jax.grad
    finite_diff: np.ndarray  # central differences

    @property
    def max_gap_autodiff(self) -> float:
        return float(np.max(np.abs(self.chain_rule - self.autodiff)))

    @property
    def max_gap_finite_diff(self) -> float:
        return float(np.max(np.abs(self.chain_rule - self.finite_diff)))


def gradient_check(params, x, labels) -> GradientCheck:
    """Every parameter's gradient three ways, for the same loss and batch."""
    bw = chain_rule_backward(params, forward_trace(params, x, labels))
    return GradientCheck(
        names=parameter_names(params),
        chain_rule=flat(bw.grads()),
        autodiff=flat(autodiff_grads(params, x, labels)),
        finite_diff=flat(finite_difference_grads(params, x, labels)),
    )


class SGDStep(NamedTuple):
    """One plain SGD update on a minibatch: forward, backward, update, new loss."""

    batch: tuple[int, ...]  # which examples (0-based) form the minibatch
    learning_rate: float
    loss_before: float  # minibatch loss with the old weights
    grads: list  # [(dW1, db1), (dW2, db2)] on the minibatch
    params_after: list  # [(W1', b1'), (W2', b2')] = old - learning_rate * grad
    loss_after: float  # minibatch loss with the new weights
    all_loss_before: float  # loss over all examples, before and after
    all_loss_after: float


def sgd_step(params, x, labels, batch: Sequence[int], learning_rate: float) -> SGDStep:
    """Take one optax SGD step on the examples ``batch`` of (x, labels)."""
    idx = np.asarray(sorted(set(batch)), np.int32)
    if idx.size == 0:
        raise ValueError("a minibatch needs at least one example")
    x = jnp.asarray(x, jnp.float32)
    y = jnp.asarray(labels, jnp.int32)
    loss_before, grads, new, loss_after, all_before, all_after = _sgd_update(
        params, x, y, jnp.asarray(idx), jnp.asarray(learning_rate, jnp.float32)
    )
    return SGDStep(
        batch=tuple(int(i) for i in idx),
        learning_rate=float(learning_rate),
        loss_before=float(loss_before),
        grads=params_to_host(grads),
        params_after=params_to_host(new),
        loss_after=float(loss_after),
        all_loss_before=float(all_before),
        all_loss_after=float(all_after),
    )


@jax.jit
def _sgd_update(params, x, y, idx, learning_rate):
    """Forward, backward and one optax SGD update on the rows ``idx``; one compile."""
    xb, yb = x[idx], y[idx]
    loss_before, grads = jax.value_and_grad(quiz_loss)(params, xb, yb)
    tx = optax.sgd(learning_rate)
    updates, _ = tx.update(grads, tx.init(params), params)
    new = optax.apply_updates(params, updates)
    return (
        loss_before,
        grads,
        new,
        quiz_loss(new, xb, yb),
        quiz_loss(params, x, y),
        quiz_loss(new, x, y),
    )


def sgd_losses(params, x, labels, batch: Sequence[int], learning_rate: float, n_steps: int):
    """Minibatch loss before each of ``n_steps`` repeated SGD steps, and after the last."""
    losses = []
    for _ in range(n_steps):
        step = sgd_step(params, x, labels, batch, learning_rate)
        losses.append(step.loss_before)
        params = params_to_device(step.params_after)
    losses.append(step.loss_after)
    return np.asarray(losses)


class CostReport(NamedTuple):
    """XLA's own estimate of the work in one compiled call (not a timing)."""

    forward_flops: float  # the loss alone
    total_flops: float  # the loss and its gradient: forward + backward
    forward_bytes: float
    total_bytes: float

    @property
    def flop_ratio(self) -> float:
        """(forward + backward) / forward."""
        return self.total_flops / self.forward_flops

    @property
    def backward_flop_ratio(self) -> float:
        """backward / forward, with backward = total - forward."""
        return (self.total_flops - self.forward_flops) / self.forward_flops

    @property
    def bytes_ratio(self) -> float:
        return self.total_bytes / self.forward_bytes


def _cost(compiled) -> dict:
    c = compiled.cost_analysis()
    return c[0] if isinstance(c, list | tuple) else c  # older JAX returned one per device


def cost_of_backprop(loss_fn, params) -> CostReport:
    """Compile loss_fn(params) and value_and_grad(loss_fn)(params); read XLA's counts."""
    f = _cost(jax.jit(loss_fn).lower(params).compile())
    fb = _cost(jax.jit(jax.value_and_grad(loss_fn)).lower(params).compile())
    return CostReport(
        forward_flops=float(f["flops"]),
        total_flops=float(fb["flops"]),
        forward_bytes=float(f["bytes accessed"]),
        total_bytes=float(fb["bytes accessed"]),
    )


def quiz_cost(labels=QUIZ_LABELS) -> CostReport:
    """Backprop's cost for the quiz network on its three examples."""
    x = jnp.asarray(QUIZ_X)
    return cost_of_backprop(lambda p: quiz_loss(p, x, labels), quiz_params())


def toy_cost(width: int, depth: int, batch: int, *, seed: int = 0) -> CostReport:
    """Backprop's cost for a Playground-style net: 2 inputs, ``depth`` x ``width`` ReLUs,
    one logit, binary cross-entropy, on a batch of XOR points."""
    spec = ModelSpec(RAW_FEATURES, (int(width),) * int(depth), "relu", "binary", 2)
    params = init_params(spec.sizes, key=jax.random.key(seed))
    d = make_dataset("xor", n_points=2 * int(batch), train_ratio=0.5, seed=seed)
    x, y = jnp.asarray(d.x_train), jnp.asarray(d.y_train)
    return cost_of_backprop(lambda p: model_loss(p, x, y, spec), params)


def playground_quiz_config(batch_size: int, learning_rate: float) -> RunConfig:
    """The nearest Playground setting: 4 input features -> 3 ReLUs, plain SGD."""
    return RunConfig(
        problem="xor",
        features=("x1", "x2", "x1sq", "x2sq"),
        hidden=(3,),
        optimizer="sgd",
        learning_rate=float(learning_rate),
        batch_size=int(batch_size),
    )
