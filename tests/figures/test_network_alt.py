"""The Network figure's text alternative: its numbers are the network's own."""

import numpy as np

from playground.figures.network import network_alt


def test_the_networks_sentence_carries_its_shape_dead_units_and_largest_weight():
    rng = np.random.default_rng(0)
    params = [
        (rng.normal(size=(2, 3)), np.zeros(3)),
        (rng.normal(size=(3, 2)), np.zeros(2)),
        (np.array([[0.5], [-7.25]]), np.zeros(1)),
    ]
    dead = [np.array([False, True, False]), np.array([True, True])]
    text = network_alt(params, dead, ["x₁", "x₂"], gradients=False)
    largest = max(float(np.abs(w).max()) for w, _ in params)
    assert text.startswith("Network: 2 inputs (x₁, x₂), hidden layers of 3, 2 units (3 dead)")
    assert f"the largest weight is {largest:.3g}" in text and "Each link is a weight" in text
    assert "Each link is a gradient" in network_alt(params, dead, ["x₁", "x₂"], gradients=True)
