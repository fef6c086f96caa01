"""The network against independent references: the course notes' quiz, finite
differences in float64, the (N+1)K count, and the collapse of stacked linear layers."""

import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from playground.core.model import (
    ACTIVATIONS,
    forward,
    forward_with_preactivations,
    init_params,
    param_count,
)
from playground.core.train import ModelSpec, data_loss

QUIZ_X = [[1, 2, 3, 4], [-1, -2, -3, -4], [11, 12, 13, 14]]
QUIZ_W1 = [[0.1, 0.2, 0.4], [0.4, 0.6, 0.6], [0.5, 0.9, 0.1], [0.8, 0.2, 0.8]]
QUIZ_W2 = [[0.1, 0.6], [0.2, 0.1], [0.7, 0.9]]
QUIZ_LOGITS = [[5.11, 8.44], [0, 0], [24.01, 38.24]]


def test_quiz_network_logits():
    params = [(jnp.array(QUIZ_W1), jnp.zeros(3)), (jnp.array(QUIZ_W2), jnp.zeros(2))]
    out = forward(params, jnp.array(QUIZ_X, jnp.float32), "relu")
    np.testing.assert_allclose(out, QUIZ_LOGITS, atol=1e-4)


@pytest.mark.parametrize(
    ("sizes", "count"), [([784, 10], 7850), ([4, 3, 2], 23), ([2, 8, 8, 1], 105)]
)
def test_param_count_matches_formula(sizes, count):
    assert param_count(sizes) == count
    params = init_params(sizes, key=jax.random.key(0))
    assert sum(w.size + b.size for w, b in params) == count


def test_preactivations_are_what_the_forward_uses():
    params = init_params([2, 5, 4, 1], key=jax.random.key(1))
    x = jax.random.normal(jax.random.key(2), (7, 2))
    out, pre = forward_with_preactivations(params, x, "relu")
    assert [z.shape for z in pre] == [(7, 5), (7, 4)]
    np.testing.assert_allclose(pre[0], x @ params[0][0] + params[0][1][None, :], rtol=1e-6)
    np.testing.assert_allclose(out, forward(params, x, "relu"), rtol=1e-6)


HEADS = {"binary": 2, "multiclass": 3, "regression": 1}  # number of classes K


@pytest.mark.parametrize(("activation", "task"), list(itertools.product(ACTIVATIONS, HEADS)))
def test_gradients_equal_central_finite_differences(activation, task):
    k = HEADS[task]
    with jax.enable_x64(True):
        spec = ModelSpec(("x1", "x2"), (4, 3), activation, task, k)
        key = jax.random.key(3)
        params = [
            (w.astype(jnp.float64), b.astype(jnp.float64) + 0.1)
            for w, b in init_params(spec.sizes, key=key)
        ]
        x = jax.random.normal(jax.random.key(4), (16, 2), jnp.float64) * 2
        if task == "regression":
            y = jax.random.normal(jax.random.key(5), (16,), jnp.float64)
        else:
            y = jax.random.randint(jax.random.key(5), (16,), 0, k)

        def loss(p):
            return data_loss(forward(p, x, activation), y, task)

        grads = jax.grad(loss)(params)
        flat, unravel = jax.flatten_util.ravel_pytree(params)
        gflat, _ = jax.flatten_util.ravel_pytree(grads)
        eps = 1e-6
        rng = np.random.default_rng(0)
        for i in rng.choice(flat.size, size=12, replace=False):
            e = jnp.zeros_like(flat).at[i].set(eps)
            fd = (loss(unravel(flat + e)) - loss(unravel(flat - e))) / (2 * eps)
            assert abs(fd - gflat[i]) <= 1e-6 + 1e-5 * abs(fd), (i, fd, gflat[i])


def test_stacked_linear_layers_equal_one_matrix():
    params = init_params([2, 5, 4, 3, 1], key=jax.random.key(6))
    x = jax.random.normal(jax.random.key(7), (50, 2)) * 3
    w, b = params[0]
    for wi, bi in params[1:]:
        w, b = w @ wi, b @ wi + bi
    np.testing.assert_allclose(
        forward(params, x, "linear"), x @ w + b[None, :], rtol=1e-5, atol=1e-5
    )


@pytest.mark.parametrize("init", ["he", "glorot", "uniform", "normal"])
def test_inits_have_their_documented_scale(init):
    fan_in, fan_out = 400, 300
    ((w, b),) = init_params([fan_in, fan_out], key=jax.random.key(8), init=init, sigma=0.5)
    expected_std = {
        "he": np.sqrt(2 / fan_in),
        "glorot": np.sqrt(6 / (fan_in + fan_out)) / np.sqrt(3),
        "uniform": 1 / np.sqrt(fan_in) / np.sqrt(3),
        "normal": 0.5,
    }[init]
    assert float(jnp.std(w)) == pytest.approx(expected_std, rel=0.05)
    assert not np.any(b)
