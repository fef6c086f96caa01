"""playground.analysis.hidden_space: the grid of the plane and the data mapped to two hidden units.

Checked on a net whose answer is known by hand (identity weights: a ReLU folds each
coordinate at 0) and against the engine's own forward pass on random nets.
"""

import itertools

import jax.numpy as jnp
import numpy as np
import pytest

from playground.analysis.hidden_space import (
    check_units,
    grid_lines,
    hidden_space,
    layer_values,
    output_line,
)
from playground.core.errors import PlaygroundError
from playground.core.features import feature_map
from playground.core.model import forward_with_preactivations

BOX = (-6.0, 6.0, -6.0, 6.0)


def identity_net():
    """One hidden layer with W = I, b = 0 and one output: h = (relu x1, relu x2)."""
    return [
        (np.eye(2, dtype=np.float32), np.zeros(2, np.float32)),
        (np.ones((2, 1), np.float32), np.zeros(1, np.float32)),
    ]


def random_net(sizes, seed=0):
    rng = np.random.default_rng(seed)
    return [
        (rng.normal(size=(a, b)).astype(np.float32), rng.normal(size=b).astype(np.float32))
        for a, b in itertools.pairwise(sizes)
    ]


def engine_layers(params, x, features=("x1", "x2"), activation="relu"):
    """Pre-activations per hidden layer straight from model.forward_with_preactivations."""
    feats = feature_map(jnp.asarray(x, jnp.float32), features, jnp)
    jparams = [(jnp.asarray(w), jnp.asarray(b)) for w, b in params]
    _, pre = forward_with_preactivations(jparams, feats, activation)
    return [np.asarray(z) for z in pre]


def test_grid_lines_cover_the_box():
    g = grid_lines((-2, 4, -1, 1), n_lines=4, n_samples=5)
    assert g.points.shape == (8, 5, 2)
    assert g.axis.tolist() == [0] * 4 + [1] * 4
    np.testing.assert_allclose(g.value, [-2, 0, 2, 4, -1, -1 / 3, 1 / 3, 1])
    vertical, horizontal = g.points[:4], g.points[4:]
    np.testing.assert_allclose(vertical[..., 0], np.repeat(g.value[:4, None], 5, axis=1))
    np.testing.assert_allclose(vertical[:, [0, -1], 1], [[-1, 1]] * 4)
    np.testing.assert_allclose(horizontal[..., 1], np.repeat(g.value[4:, None], 5, axis=1))
    np.testing.assert_allclose(horizontal[:, [0, -1], 0], [[-2, 4]] * 4)
    with pytest.raises(PlaygroundError):
        grid_lines((1, 0, 0, 1))


def test_identity_relu_folds_each_coordinate_at_zero():
    points = np.array([[-3.0, 2.0], [1.5, -4.0], [2.0, 5.0], [-1.0, -1.0]])
    hs = hidden_space(identity_net(), "relu", ("x1", "x2"), BOX, points, layer=0, units=(0, 1))
    assert hs.units == (0, 1) and hs.stage == "post"
    np.testing.assert_allclose(hs.points, [[0, 2], [1.5, 0], [2, 5], [0, 0]], atol=1e-6)
    np.testing.assert_allclose(hs.lines, np.maximum(hs.grid.points, 0), atol=1e-5)
    # Before the ReLU the map is the identity; swapping the units swaps the axes.
    pre = hidden_space(
        identity_net(), "relu", ("x1", "x2"), BOX, points, layer=0, units=(1, 0), stage="pre"
    )
    np.testing.assert_allclose(pre.points, points[:, ::-1], atol=1e-6)
    np.testing.assert_allclose(pre.lines, hs.grid.points[..., ::-1], atol=1e-5)


@pytest.mark.parametrize("stage", ["pre", "post"])
@pytest.mark.parametrize("features", [("x1", "x2"), ("x1", "x2", "x1sq", "sinx2")])
def test_matches_the_engine_forward_pass(stage, features):
    params = random_net([len(features), 5, 4, 1], seed=3)
    points = np.random.default_rng(1).uniform(-6, 6, size=(50, 2))
    hs = hidden_space(
        params, "relu", features, BOX, points, layer=1, units=(3, 1), stage=stage, n_lines=5
    )
    samples = hs.grid.points.reshape(-1, 2)
    want_points = engine_layers(params, points, features)[1][:, [3, 1]]
    want_lines = engine_layers(params, samples, features)[1][:, [3, 1]]
    if stage == "post":
        want_points, want_lines = np.maximum(want_points, 0), np.maximum(want_lines, 0)
    np.testing.assert_allclose(hs.points, want_points, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(hs.lines.reshape(-1, 2), want_lines, rtol=1e-6, atol=1e-6)


def test_layer_values_for_smooth_activations():
    params = random_net([2, 3, 2, 1], seed=5)
    x = np.array([[0.5, -1.0], [2.0, 3.0]])
    pre = engine_layers(params, x, activation="tanh")
    values = layer_values(params, "tanh", ("x1", "x2"), x)
    np.testing.assert_allclose(values[0], np.tanh(pre[0]), rtol=1e-5)
    np.testing.assert_allclose(values[1], np.tanh(pre[1]), rtol=1e-5)
    assert [v.shape for v in values] == [(2, 3), (2, 2)]


def test_bad_choices_are_plain_errors():
    with pytest.raises(PlaygroundError, match="no hidden layer"):
        check_units((), 0, (0, 1))
    with pytest.raises(PlaygroundError, match="no hidden layer 3"):
        check_units((4, 4), 2, (0, 1))
    with pytest.raises(PlaygroundError, match="one unit"):
        check_units((1,), 0, (0, 0))
    with pytest.raises(PlaygroundError, match="two different units"):
        check_units((4,), 0, (2, 2))
    with pytest.raises(PlaygroundError, match="two different units"):
        check_units((4,), 0, (0, 4))
    with pytest.raises(PlaygroundError, match="stage"):
        layer_values(identity_net(), "relu", ("x1", "x2"), np.zeros((1, 2)), stage="mid")


def test_output_line_is_the_output_in_that_plane():
    params = random_net([2, 4, 2, 1], seed=7)
    a, b, c = output_line(params, 1, (0, 1))
    points = np.random.default_rng(2).uniform(-6, 6, size=(20, 2))
    hs = hidden_space(params, "relu", ("x1", "x2"), BOX, points, layer=1, units=(0, 1))
    feats = jnp.asarray(points, jnp.float32)
    out, _ = forward_with_preactivations(
        [(jnp.asarray(w), jnp.asarray(v)) for w, v in params], feats
    )
    np.testing.assert_allclose(a * hs.points[:, 0] + b * hs.points[:, 1] + c, out[:, 0], atol=1e-4)
    assert output_line(params, 1, (1, 0)) == (b, a, c)
    assert output_line(params, 0, (0, 1)) is None  # not the last hidden layer
    assert output_line(params, 1, (0, 1), stage="pre") is None
    assert output_line(random_net([2, 3, 1]), 0, (0, 1)) is None  # three units feed the output
