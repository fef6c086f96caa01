"""The fast paths of ``train_chunk`` compute the same numbers as the plain ones: the
feature-major layers of big nets and the broadcast-and-sum layers of tiny ones give the
outputs and gradients of ``model.forward``; the unchecked scan equals the checked one
whenever nothing diverges; small nets get the small-net build, big ones XLA's default."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from playground.core import train as T
from playground.core.datasets import make_dataset
from playground.core.model import forward, init_params


def _net(sizes, n=50, seed=0):
    params = init_params(sizes, key=jax.random.key(seed))
    x = jax.random.normal(jax.random.key(seed + 1), (n, sizes[0]))
    return params, x


@pytest.mark.parametrize("dropout", [0.0, 0.3])
def test_feature_major_forward_and_gradients_equal_the_model(dropout):
    params, x = _net([3, 16, 16, 2])
    key = jax.random.key(7) if dropout else None

    def loss(p, fn):
        return jnp.sum(jnp.tanh(fn(p, x, "relu", dropout=dropout, key=key)))

    np.testing.assert_allclose(
        T._forward_feature_major(params, x, "relu", dropout=dropout, key=key),
        forward(params, x, "relu", dropout=dropout, key=key),
        rtol=1e-5,
        atol=1e-5,
    )
    got = jax.grad(loss)(params, T._forward_feature_major)
    want = jax.grad(loss)(params, forward)
    for a, b in zip(jax.tree.leaves(got), jax.tree.leaves(want), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_tiny_layers_equal_plain_products():
    params, x = _net([2, 8, 8, 1], n=10)

    def loss(p, layer):
        return jnp.sum(forward(p, x, "relu", layer=layer) ** 2)

    np.testing.assert_allclose(
        forward(params, x, layer=T._training_layer), forward(params, x), rtol=1e-5, atol=1e-6
    )
    got, want = jax.grad(loss)(params, T._training_layer), jax.grad(loss)(params, T.dense)
    for a, b in zip(jax.tree.leaves(got), jax.tree.leaves(want), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("hidden, batch", [((8, 8), 10), ((8, 8), 0), ((300, 300), 0)])
def test_unchecked_scan_equals_the_checked_one(hidden, batch):
    data = make_dataset("xor", n_points=2000, seed=0)
    x, y = jnp.asarray(data.x_train), jnp.asarray(data.y_train)
    spec = T.ModelSpec(("x1", "x2"), hidden, "relu", "binary", 2)
    state = T.init_state(spec, "adam", key=jax.random.key(0))
    kw = dict(spec=spec, optimizer="adam", batch_size=batch, n_steps=16, use_dropout=False)
    chunk = T.chunk_program(spec, len(x), batch)
    fast, fast_log, clean = chunk(state, x, y, T.Hyper(0.01), checked=False, **kw)
    slow, slow_log, _ = chunk(state, x, y, T.Hyper(0.01), checked=True, **kw)
    assert bool(clean) and int(fast.step) == int(slow.step) == 16
    for a, b in zip(jax.tree.leaves(fast.params), jax.tree.leaves(slow.params), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(fast_log.loss, slow_log.loss, rtol=1e-6)


def test_small_nets_get_the_small_net_build():
    spec = lambda hidden: T.ModelSpec(("x1", "x2"), hidden, "relu", "binary", 2)  # noqa: E731
    assert T.is_small_net(spec((8, 8)), 250, 10) and T.is_small_net(spec((32, 32)), 250, 10)
    assert not T.is_small_net(spec((16, 16)), 1000, 0)
    assert not T.is_small_net(spec((256,) * 4), 1000, 0)
    assert T.chunk_program(spec((8, 8)), 250, 10) is T._chunk_small
    assert T.chunk_program(spec((256,) * 4), 1000, 0) is T._chunk_default
