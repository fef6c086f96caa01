"""Live arrays name their trace by uid: every array of every live figure builder names a
trace its figure has (uids unique within a figure), holds what that trace holds, and a
trace added to the figure moves no array."""

import itertools

import numpy as np
import pytest

from playground.analysis import raster
from playground.analysis.hidden_space import hidden_space
from playground.core.datasets import make_dataset
from playground.figures.boundary import (
    PICKED,
    SURFACE,
    canvas_uids,
    decision_boundary_figure,
    live_bend_arrays,
    picked_bend_arrays,
    picked_bend_trace,
    surface_arrays,
)
from playground.figures.curves import (
    gradient_curves_arrays,
    gradient_curves_figure,
    loss_curves_figure,
    metric_curves_figure,
)
from playground.figures.hidden_space import hidden_space_figure
from playground.figures.protocol import split_path
from playground.figures.regions import region_figure
from playground.figures.traces import bend_uid
from playground.figures.units import neuron_thumbnails_figure, neuron_thumbnails_live_arrays

XS = np.linspace(-6, 6, 12)
BOX = (-6.0, 6.0, -6.0, 6.0)
RNG = np.random.default_rng(0)
# Two layers of bends: two segments, then one.
BENDS = [RNG.uniform(-6, 6, (2, 2, 2)), RNG.uniform(-6, 6, (1, 2, 2))]


def by_uid(fig) -> dict:
    uids = [t.uid for t in fig.data if t.uid is not None]
    assert len(uids) == len(set(uids)), f"a uid names two traces: {uids}"
    return {t.uid: t for t in fig.data if t.uid is not None}


def assert_arrays_name_traces(fig, arrays, *, same_values: bool = True) -> None:
    """Every array's uid is a trace of ``fig``; with ``same_values`` the trace holds the
    array's values already (the builder's contract)."""
    traces = by_uid(fig)
    assert arrays
    for path, array in arrays.items():
        uid, props = split_path(path)
        assert uid in traces, f"{path}: the figure has no trace {uid!r} ({sorted(traces)})"
        if props == ["signs"] or not same_values:
            continue  # the browser traces them; Plotly has no such property
        np.testing.assert_array_equal(
            np.asarray(traces[uid][props[0]], np.float64),
            np.asarray(array.values, np.float64),
            err_msg=path,
        )


def net(sizes, seed=0):
    rng = np.random.default_rng(seed)
    return [(rng.normal(size=(a, b)), rng.normal(size=b)) for a, b in itertools.pairwise(sizes)]


@pytest.mark.parametrize("show_test", [False, True])
def test_the_boundary_still(show_test):
    data = make_dataset("xor")
    grid = RNG.uniform(0, 1, (12, 12))
    fig, arrays = decision_boundary_figure(
        XS, XS, grid, data, show_test=show_test, bends_by_layer=BENDS
    )
    assert_arrays_name_traces(fig, arrays)
    assert {split_path(p)[0] for p in arrays} == {SURFACE, bend_uid(0), bend_uid(1)}


def test_the_boundary_live_with_the_picked_bend():
    """A live picture's arrays (lines, deeper layers' signs, the picked bend) name the
    traces of the page's figure (the boundary with the picked bend on top)."""
    data = make_dataset("xor")
    grid = RNG.uniform(0, 1, (12, 12))
    fig, _ = decision_boundary_figure(XS, XS, grid, data, bends_by_layer=[[], []])
    fig.add_trace(picked_bend_trace())
    lines = RNG.uniform(-6, 6, (3, 2, 2))
    signs = [RNG.uniform(size=(4, 8, 8)) > 0.5]
    arrays = {
        **surface_arrays(grid, data, discretize=False),
        **live_bend_arrays(lines, signs, 2, BOX),
        **picked_bend_arrays(signs=signs[0][:1], box=BOX),
    }
    assert_arrays_name_traces(fig, arrays, same_values=False)
    assert f"{bend_uid(1)}.signs" in arrays and f"{PICKED}.signs" in arrays
    # The browser paints them all, in trace order.
    assert canvas_uids(fig.to_dict()) == [SURFACE, bend_uid(0), bend_uid(1), PICKED]


def test_a_trace_added_moves_no_array():
    """The test points come in before the bends and the picked bend after them: the
    arrays are the same and name the same traces, though the traces' indices moved."""
    data = make_dataset("xor")
    grid = RNG.uniform(0, 1, (12, 12))
    plain, before = decision_boundary_figure(XS, XS, grid, data, bends_by_layer=BENDS)
    more, after = decision_boundary_figure(XS, XS, grid, data, show_test=True, bends_by_layer=BENDS)
    more.add_trace(picked_bend_trace())
    index = lambda fig, uid: [t.uid for t in fig.data].index(uid)  # noqa: E731
    assert index(plain, bend_uid(0)) != index(more, bend_uid(0))  # the index moved
    assert before.keys() == after.keys()
    for path in before:
        np.testing.assert_array_equal(before[path].values, after[path].values)
        uid = split_path(path)[0]
        assert by_uid(plain)[uid].name == by_uid(more)[uid].name
    assert_arrays_name_traces(more, after)
    assert canvas_uids(plain.to_dict()) == [SURFACE, bend_uid(0), bend_uid(1)]
    assert canvas_uids(more.to_dict()) == [SURFACE, bend_uid(0), bend_uid(1), PICKED]


@pytest.mark.parametrize(
    "build",
    [
        lambda e: metric_curves_figure(e, e / 10, e / 20, "accuracy"),
        lambda e: loss_curves_figure(e, e + 1, e + 2),
        lambda e: gradient_curves_figure(e, np.outer(e + 1, [1.0, 2.0, 3.0])),
    ],
    ids=["metric", "loss", "grads"],
)
def test_the_curves(build):
    fig, arrays = build(np.arange(5.0))
    assert_arrays_name_traces(fig, arrays)
    # A later refresh's arrays name the same traces.
    if len(fig.data) == 3:
        assert_arrays_name_traces(
            fig, gradient_curves_arrays(np.arange(7.0), np.ones((7, 3))), same_values=False
        )


def test_the_unit_pictures_still_and_live():
    grids = [RNG.normal(size=(12, 12, 3)), RNG.normal(size=(12, 12, 2))]
    fig, arrays = neuron_thumbnails_figure(XS, XS, grids)
    assert_arrays_name_traces(fig, arrays)
    assert len(by_uid(fig)) == len(fig.data) == 10  # five pictures, five bends
    lines = RNG.uniform(-6, 6, (3, 2, 2))
    live = neuron_thumbnails_live_arrays(grids, lines, BOX)
    assert_arrays_name_traces(fig, live, same_values=False)
    assert "bend-2-1.signs" in live and "bend-1-3.x" in live and "unit-2-2.z" in live


@pytest.mark.parametrize("highlight", [None, (0, 1)])
def test_the_regions(highlight):
    data = make_dataset("xor", n_points=60, noise=0.0, train_ratio=0.5, seed=0, classes=2)
    view = raster.region_view(net([2, 4, 3, 1]), "relu", ("x1", "x2"), BOX, 24)
    fig, arrays = region_figure(view, highlight=highlight, data=data, hover=False)
    assert_arrays_name_traces(fig, arrays)
    assert {f"{bend_uid(0)}.x", f"{bend_uid(1)}.x"} <= set(arrays)


@pytest.mark.parametrize("problem", ["xor", "product"])
def test_the_hidden_space(problem):
    data = make_dataset(problem, n_points=60, noise=0.0, train_ratio=0.5, seed=0)
    params = net([2, 4, 2, 1], seed=3)
    hs = hidden_space(params, "relu", ("x1", "x2"), BOX, data.x_train, layer=1, units=(0, 1))
    fig, arrays = hidden_space_figure(hs, params, data)
    assert_arrays_name_traces(fig, arrays)
    # Only the right plot moves: every trace there has arrays, none on the left.
    right = {t.uid for t in fig.data if t.xaxis == "x2"}
    assert {split_path(p)[0] for p in arrays} == right
