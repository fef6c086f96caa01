"""Figures in words (issue 23): the sentences carry the model's own numbers, checked
against references computed here by other means (a NumPy forward pass, the region count
of lines in general position, vanishing gradients of a deep sigmoid net)."""

from math import comb

import numpy as np
import pytest

from playground.core.config import RunConfig
from playground.figures.describe import (
    QUARTERS,
    boundary_description,
    gradients_description,
    network_description,
    progress_sentence,
    stopped_sentence,
    units_description,
)
from playground.figures.readouts import fmt, fmt_metric
from playground.live.server.frames import readouts
from playground.live.session.live_run import LiveRun


def numpy_forward(params, x):
    """Pre-activations of every hidden layer and the output logit, in plain NumPy."""
    pre, h = [], np.asarray(x, np.float64)
    for i, (w, b) in enumerate(params):
        z = h @ np.asarray(w, np.float64) + np.asarray(b, np.float64)
        if i < len(params) - 1:
            pre.append(z)
            h = np.maximum(z, 0)
    return pre, z


@pytest.fixture(scope="module")
def trained_run() -> LiveRun:
    run = LiveRun(RunConfig(problem="xor", hidden=(6, 4), seed=3))
    run.train_steps(300)
    return run


def test_the_boundary_sentence_says_the_accuracy_and_where_it_fails(trained_run):
    run, data = trained_run, trained_run.data
    text = boundary_description(
        data.x_test,
        data.y_test,
        run.predict(data.x_test),
        task=run.spec.task,
        n_classes=data.n_classes,
        class_names=data.class_names,
        epoch=run.epoch,
        problem=data.name,
    )
    _, logit = numpy_forward(run.params_numpy(), data.x_test)
    wrong = (logit[:, 0] > 0).astype(int) != data.y_test
    assert f"Test accuracy {fmt_metric(run.metrics.test_metric, 'accuracy')}" in text
    assert "2 classes, class 0 (circles), class 1 (squares)" in text
    if wrong.any():
        assert f"{wrong.sum()} of {len(data.y_test)} test points are on the wrong side" in text
        signs = np.asarray(data.x_test)[wrong] > 0
        counts = {q: int(np.all(signs == q, axis=1).sum()) for q in QUARTERS}
        quarter = max(QUARTERS, key=lambda q: counts[q])
        assert f"{counts[quarter]} of them in the {QUARTERS[quarter]}" in text
    else:
        assert "all" in text


def test_a_diverged_boundary_says_so():
    x, y = np.zeros((3, 2)), np.zeros(3)
    for task in ("regression", "binary"):
        text = boundary_description(
            x, y, np.array([np.nan, 1.0, 0.0]), task=task, n_classes=2, epoch=3
        )
        assert "not a number" in text


def test_the_network_description_counts_live_and_dead_units(trained_run):
    run = trained_run
    params = run.params_numpy()
    pre, _ = numpy_forward(params, run.data.x_train)
    dead = [np.all(z <= 0, axis=0) for z in pre]
    lines = network_description(params, dead, activation="relu")
    for i, d in enumerate(dead):
        assert f"Hidden layer {i + 1}: {int((~d).sum())} of {len(d)} units alive" in lines[i + 1]
    biggest = max(abs(float(v)) for w, _ in params for v in np.ravel(w))
    assert fmt(biggest) in lines[-1] or fmt(-biggest) in lines[-1]


def test_a_dead_unit_is_named():
    w0 = np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 1.0]])
    params = [(w0, np.array([0.0, 0.0, -1.0])), (np.ones((3, 1)), np.zeros(1))]
    lines = network_description(params, [np.array([False, True, False])], activation="relu")
    assert "2 of 3 units alive; dead (off for every training point): unit 2" in lines[1]


def test_the_regions_are_those_of_lines_in_general_position():
    # Three bends x1 = 0, x2 = 0 and x1 + x2 = 1 cross inside the box, none parallel: one
    # hidden layer of H units cuts the plane into 1 + H + C(H, 2) regions.
    w0 = np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 1.0]])
    params = [(w0, np.array([0.0, 0.0, -1.0])), (np.array([[0.5], [-2.0], [1.0]]), np.zeros(1))]
    lines = network_description(params, [np.zeros(3, bool)], activation="relu")
    h = 3
    assert f"into {1 + h + comb(h, 2)} linear regions" in " ".join(lines)
    # The largest weight is the output's -2 from unit 2.
    assert "Largest weights: -2 from unit 2 of hidden layer 1 to output 1" in lines[-1]


def test_the_gradients_sentence_names_the_vanishing_layer():
    from playground.lessons.depth import depth_run

    # A deep sigmoid net with U(±1/sqrt(n)) weights: gradients vanish towards the input,
    # so the first hidden layer's are the smallest (the course notes' reference).
    run = depth_run("sigmoid", "uniform", 10, 64)
    g = run.at_init.grad_rms
    text = gradients_description(g, epoch=0)
    assert f"smallest in the hidden layer 1 ({fmt(g[0])})" in text


def test_progress_and_stop_sentences_carry_the_readouts(trained_run):
    tiles = readouts(trained_run.run)
    text = progress_sentence(tiles)
    assert text.startswith(f"Epoch {tiles['Epoch']}")
    assert f"test loss {tiles['Test loss']}" in text
    assert f"test accuracy {tiles['Test accuracy']}" in text
    assert stopped_sentence("the loss ran away") == "Training stopped: the loss ran away."
    assert stopped_sentence("Training stopped: boom.") == "Training stopped: boom."


def test_the_unit_pictures_name_dead_units():
    text = units_description([np.array([False, True]), np.array([False, False, True])])
    assert "2 in layer 1, 3 in layer 2" in text
    assert "2 dead (off for every training point): unit 2 of layer 1, unit 3 of layer 2" in text
