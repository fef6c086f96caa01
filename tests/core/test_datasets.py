"""The problem registry: one signature, seeded, in the domain, with documented labels."""

import numpy as np
import pytest

from playground.core.datasets import DOMAIN, PROBLEMS, make_dataset
from playground.core.errors import PlaygroundError


@pytest.mark.parametrize("name", list(PROBLEMS))
def test_every_problem_is_seeded_and_well_formed(name):
    a = make_dataset(name, n_points=300, noise=0.1, seed=5, classes=3)
    b = make_dataset(name, n_points=300, noise=0.1, seed=5, classes=3)
    c = make_dataset(name, n_points=300, noise=0.1, seed=6, classes=3)
    np.testing.assert_array_equal(a.x_train, b.x_train)
    np.testing.assert_array_equal(a.y_test, b.y_test)
    assert not np.array_equal(a.x_train, c.x_train)
    assert len(a.x_train) + len(a.x_test) == 300
    assert a.x_train.shape[1] == 2 and np.isfinite(a.x_train).all()
    assert np.abs(a.x_train).max() <= DOMAIN + 3
    if a.task == "regression":
        assert a.y_train.dtype == np.float32
        assert np.abs(a.y_train).max() <= 1.5
    else:
        assert set(np.unique(a.y_train)) == set(range(a.n_classes))
    assert PROBLEMS[name].generate.__doc__


def test_labels_follow_their_formulas():
    d = make_dataset("xor", n_points=400)
    np.testing.assert_array_equal(d.y_train, d.x_train[:, 0] * d.x_train[:, 1] > 0)
    p = make_dataset("product", n_points=400)
    np.testing.assert_allclose(p.y_train, p.x_train[:, 0] * p.x_train[:, 1] / 36, rtol=1e-5)
    s = make_dataset("sum", n_points=400)
    np.testing.assert_allclose(s.y_train, s.x_train.sum(axis=1) / 12, rtol=1e-5, atol=1e-6)
    c = make_dataset("circle", n_points=400)
    r = np.hypot(*c.x_train.T)
    assert np.all(r[c.y_train == 1] <= 2.5) and np.all(r[c.y_train == 0] >= 3.5)


def test_train_ratio_and_spiral_classes():
    d = make_dataset("spiral", n_points=200, train_ratio=0.8, classes=5)
    assert len(d.x_train) == 160 and d.n_classes == 5 and d.task == "multiclass"
    assert make_dataset("spiral", classes=2).task == "binary"


def test_unknown_problem_is_a_clear_error():
    with pytest.raises(PlaygroundError, match="unknown problem"):
        make_dataset("nope")
