"""The Playground's live figures and readouts say what they show: epochs start at 0,
a clipped R² chart says it is clipped, a discretized output gets a two-colour bar, dead
units are marked, and readouts stay short."""

import numpy as np
import pytest

from playground.core.datasets import make_dataset
from playground.figures.boundary import decision_boundary_figure
from playground.figures.curves import (
    METRIC_FLOOR,
    gradient_curves_figure,
    loss_curves_figure,
    metric_curves_figure,
)
from playground.figures.readouts import fmt, fmt_count, fmt_metric, read_count
from playground.figures.units import neuron_thumbnails_figure

XS = np.linspace(-6, 6, 12)


@pytest.mark.parametrize(
    "build",
    [
        lambda e: metric_curves_figure(e, e, e, "accuracy")[0],
        lambda e: loss_curves_figure(e, e + 1, e + 1)[0],
        lambda e: gradient_curves_figure(e, np.ones((len(e), 3)))[0],
    ],
)
def test_curves_never_show_negative_epochs(build):
    fig = build(np.zeros(1))  # one record at epoch 0, as right after a reset
    assert fig.layout.xaxis.rangemode == "nonnegative"
    assert fig.layout.xaxis.title.text == "epoch"


def test_a_clipped_r2_chart_says_so():
    e = np.arange(3.0)
    fine, _ = metric_curves_figure(e, np.array([0.1, 0.5, 0.9]), e / 3, "r2")
    assert fine.layout.title.text == "R²"
    bad, arrays = metric_curves_figure(e, np.array([0.1, -2.9e14, 0.2]), e / 3, "r2")
    assert "below -1 drawn at -1" in bad.layout.title.text
    assert arrays["train.y"].values.min() == METRIC_FLOOR


def test_a_discretized_output_gets_a_two_colour_bar_with_the_classes():
    data = make_dataset("xor")
    grid = np.random.default_rng(0).uniform(0, 1, (12, 12))
    smooth, _ = decision_boundary_figure(XS, XS, grid, data)
    bar = smooth.data[0].colorbar
    assert bar.title.text == "P(class 1)" and bar.tickvals is None
    sharp, arrays = decision_boundary_figure(XS, XS, grid, data, discretize=True)
    heat = sharp.data[0]
    assert heat.colorbar.title.text == "predicted class"
    assert list(heat.colorbar.ticktext) == ["class 0", "class 1"]
    assert {c for _, c in heat.colorscale} == {smooth.data[0].colorscale[0][1],
                                                smooth.data[0].colorscale[-1][1]}  # fmt: skip
    assert set(np.unique(arrays["surface.z"].values)) <= {0.0, 1.0}
    # The plane stays square and at its range on any screen.
    assert sharp.layout.yaxis.constrain == "domain" and sharp.layout.yaxis.range == (-6, 6)


def test_dead_units_are_marked_in_the_unit_pictures():
    grids = [np.ones((12, 12, 4)), np.ones((12, 12, 3))]
    dead = [np.array([False, True, False, False]), np.array([True, True, True])]
    fig, _ = neuron_thumbnails_figure(XS, XS, grids, dead=dead)
    marks = [(a.xref, a.yref) for a in fig.layout.annotations if a.text == "dead"]
    # Axes are numbered row by row over a 2 x 4 grid: unit 2 of layer 1 is the 2nd,
    # units 1-3 of layer 2 the 5th to 7th.
    assert marks == [("x2 domain", "y2 domain")] + [
        (f"x{i} domain", f"y{i} domain") for i in (5, 6, 7)
    ]
    fig, _ = neuron_thumbnails_figure(XS, XS, grids)
    assert not [a for a in fig.layout.annotations if a.text == "dead"]


def test_readouts_stay_short():
    assert [fmt_count(n) for n in (0, 1730, 99_999, 173_000, 1_730_000, 2_500_000_000)] == [
        "0", "1,730", "99,999", "173k", "1.73M", "2.5B",
    ]  # fmt: skip
    counts = (0, 1730, -4200, 99_999, 173_000, 1_730_000, 2_500_000_000)
    assert [read_count(fmt_count(n)) for n in counts] == list(counts)  # what the page says
    assert fmt_metric(-2.9e14, "r2") == "-2.9e14" and fmt_metric(-2856.4, "r2") == "-2.9e3"
    assert fmt_metric(0.8765, "accuracy") == "87.6%" and fmt(float("nan")) == "—"


def test_many_layers_make_the_gradient_chart_taller_not_squashed():
    from playground.figures.curves import gradient_curves_figure

    x = np.arange(5.0)
    two = gradient_curves_figure(x, np.ones((5, 2)), height=260)[0]
    nine = gradient_curves_figure(x, np.ones((5, 9)), height=260)[0]
    loss = loss_curves_figure(x, x, x, height=260)[0]  # one legend row, as two layers
    assert two.layout.height == loss.layout.height
    assert nine.layout.height >= two.layout.height + 2 * 20
