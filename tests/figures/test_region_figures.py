"""playground.figures.regions: rasterised exact regions, hover data, bends, readouts, sweep.

Small nets whose regions are known by hand (the lines x1 = 0 and x2 = 0 cut [-1, 1]² into
four quadrants), exact geometry as the reference for the raster, and the counting rules
of line arrangements (1 + lines + crossings inside) for the readout.
"""

import itertools
import math
from types import SimpleNamespace

import numpy as np
import plotly.graph_objects as go
import pytest

from playground.analysis import lines, raster
from playground.analysis import region_story as stories
from playground.analysis import sweep as sweeps
from playground.analysis.geometry import grid_pattern_count, linear_regions, region_count
from playground.analysis.hidden_space import hidden_space
from playground.core.datasets import make_dataset
from playground.figures import hidden_space as hidden_fig
from playground.figures import regions as region_fig
from playground.figures import style
from playground.figures import sweep as sweep_fig

QUAD = (-1.0, 1.0, -1.0, 1.0)


def quadrant_net(out=(1.0, 1.0)):
    """Units relu(x1) and relu(x2): bends x1 = 0 and x2 = 0; output out·h."""
    return [(np.eye(2), np.zeros(2)), (np.array(out, float).reshape(2, 1), np.zeros(1))]


def trace(fig, uid):
    """The trace named ``uid`` (its arrays' paths say the same)."""
    (found,) = [t for t in fig.data if t.uid == uid]
    return found


def random_net(sizes, seed=0, bias=1.0):
    rng = np.random.default_rng(seed)
    return [
        (rng.normal(size=(a, b)) * np.sqrt(2 / a), rng.normal(size=b) * bias)
        for a, b in itertools.pairwise(sizes)
    ]


def cell(view, x, y):
    """Row, column of the cell whose centre is nearest (x, y)."""
    return int(np.argmin(np.abs(view.ys - y))), int(np.argmin(np.abs(view.xs - x)))


# -- the tiny net ---------------------------------------------------------------------------


def test_quadrants_give_four_regions_four_hover_entries_and_one_bend_trace():
    view = raster.region_view(quadrant_net(), "relu", ("x1", "x2"), QUAD, 20)
    assert view.exact and view.count == 4 and view.n_regions == 4
    assert sorted(np.unique(view.ids).tolist()) == [0, 1, 2, 3]
    fig, arrays = region_fig.region_figure(view, out_names=("out",))
    heat = fig.data[0]
    assert isinstance(heat, go.Heatmap) and heat.customdata.shape == (20, 20, 4)
    entries = np.unique(heat.customdata.reshape(-1, 4), axis=0)
    assert len(entries) == 4  # one hover entry per region
    bends = trace(fig, "bends-1")
    assert bends.name == "bends of layer 1"
    assert np.isnan(bends.x).sum() == 2  # two segments, each followed by a gap
    segs = np.stack([bends.x, bends.y], 1)[~np.isnan(bends.x)].reshape(2, 2, 2)
    assert {tuple(np.round(s, 9).ravel()) for s in np.sort(segs, axis=1)} == {
        (0, -1, 0, 1),
        (-1, 0, 1, 0),
    }
    assert set(arrays) == {
        "regions.z", "shade.z", "bends-1.x", "bends-1.y", "highlight.x", "highlight.y",
    }  # fmt: skip
    assert len(fig.data) == 4  # no data given: no point traces


@pytest.mark.parametrize(
    ("x", "y", "pattern", "gradient"),
    [(0.5, 0.5, 0b11, (1, 1)), (-0.5, 0.5, 0b01, (0, 1)), (0.5, -0.5, 0b10, (1, 0))],
)
def test_hover_reads_pattern_and_local_linear_function(x, y, pattern, gradient):
    view = raster.region_view(quadrant_net(), "relu", ("x1", "x2"), QUAD, 20)
    fig, _ = region_fig.region_figure(view, out_names=("out",))
    g1, g2, c, bits = fig.data[0].customdata[cell(view, x, y)]
    assert (g1, g2, c, bits) == (*gradient, 0, pattern)
    template = fig.data[0].hovertemplate
    assert "L1: %{customdata[3]:0>2b}" in template
    assert "out = %{customdata[0]:.3~g}·x₁ %{customdata[1]:+.3~g}·x₂" in template


def test_no_hover_data_while_playing():
    view = raster.region_view(quadrant_net(), "relu", ("x1", "x2"), QUAD, 20)
    fig, _ = region_fig.region_figure(view, hover=False)
    assert fig.data[0].customdata is None and "pause" in fig.data[0].hovertemplate


def test_highlight_shades_where_the_unit_is_on_and_draws_its_bend():
    view = raster.region_view(quadrant_net(), "relu", ("x1", "x2"), QUAD, 20)
    fig, arrays = region_fig.region_figure(view, highlight=(0, 1))
    shade = trace(fig, region_fig.SHADE_UID).z
    assert np.all(shade[view.ys > 0] == 1) and np.isnan(shade[view.ys < 0]).all()
    bend = trace(fig, region_fig.HIGHLIGHT_UID)
    assert bend.showlegend and "layer 1, unit 2" in bend.name
    np.testing.assert_allclose(np.sort(np.asarray(bend.x)[:2]), [-1, 1])
    np.testing.assert_allclose(np.asarray(bend.y)[:2], [0, 0], atol=1e-12)
    assert arrays[f"{region_fig.SHADE_UID}.z"].lo == 0.0
    none_fig, _ = region_fig.region_figure(view, highlight=None)
    assert not trace(none_fig, region_fig.HIGHLIGHT_UID).showlegend


def test_slope_colouring():
    view = raster.region_view(quadrant_net(out=(3.0, 4.0)), "relu", ("x1", "x2"), QUAD, 20)
    z = raster.colour_grid(view, "slope", len(style.PALETTE))
    assert z[cell(view, 0.5, 0.5)] == pytest.approx(5.0)
    assert z[cell(view, -0.5, 0.5)] == pytest.approx(4.0)
    assert z[cell(view, -0.5, -0.5)] == 0.0
    fig, arrays = region_fig.region_figure(view, colour_by="slope")
    assert fig.data[0].colorbar.title.text == "slope of the output |∇ out|"
    fig, _ = region_fig.region_figure(view, colour_by="slope", out_names=("logit",))
    assert fig.data[0].colorbar.title.text == "slope of the logit |∇ logit|"
    assert arrays["regions.z"].hi == pytest.approx(5.0)


def test_data_points_are_drawn_per_class():
    data = make_dataset("xor", n_points=100, noise=0.0, train_ratio=0.5, seed=0, classes=2)
    view = raster.region_view(quadrant_net(), "relu", ("x1", "x2"), QUAD, 16)
    fig, _ = region_fig.region_figure(view, data=data)
    after = [t.uid for t in fig.data].index(region_fig.HIGHLIGHT_UID) + 1  # the points come last
    names = [t.name for t in fig.data[after:]]
    assert names == ["class 0", "class 1"]


# -- rasterising ----------------------------------------------------------------------------


def test_raster_puts_every_cell_centre_inside_its_polygon():
    params = random_net([2, 12, 12, 1], seed=1)
    box = (-3.0, 3.0, -2.0, 4.0)
    regions = linear_regions(params, "relu", box)
    n = 90
    ids = raster.rasterise([r.polygon for r in regions], box, n)
    assert ids.shape == (n, n) and ids.min() >= 0
    xs, ys = raster.cell_centres(box, n)
    gx, gy = np.meshgrid(xs, ys)
    for r, region in enumerate(regions):
        inside = ids == r
        if not inside.any():
            continue
        p = region.polygon
        edge = np.roll(p, -1, axis=0) - p
        # Counter-clockwise convex polygon: every centre is left of (or on) every edge.
        rel_x = gx[inside][:, None] - p[None, :, 0]
        rel_y = gy[inside][:, None] - p[None, :, 1]
        cross = edge[None, :, 0] * rel_y - edge[None, :, 1] * rel_x
        assert (cross >= -1e-9 * np.abs(edge).max()).all()


def test_unique_rows_matches_numpy():
    bits = np.random.default_rng(0).random((500, 13)) > 0.7
    rows, inverse = raster.unique_rows(bits)
    want, want_inverse = np.unique(bits, axis=0, return_inverse=True)
    assert len(rows) == len(want)
    np.testing.assert_array_equal(rows[inverse], bits)
    assert len(np.unique(inverse)) == len(np.unique(want_inverse))


def test_neighbouring_regions_get_different_colours():
    params = random_net([2, 16, 16, 1], seed=2)
    view = raster.region_view(params, "relu", ("x1", "x2"), (-6, 6, -6, 6), 160)
    colours = raster.region_colours(view, len(style.PALETTE))
    pairs = raster._adjacent(view.ids)
    assert len(pairs) > view.n_regions  # a real adjacency
    assert (colours[pairs[:, 0]] != colours[pairs[:, 1]]).mean() > 0.995


def test_about_1500_regions_make_a_figure():
    """Raster plus figure for ~1500 regions (how long it takes is ``make bench``'s
    business, never a test's: measured ~80-130 ms on 2 busy cores)."""
    params = random_net([2, 32, 32, 1], seed=0)
    view = raster.region_view(params, "relu", ("x1", "x2"), (-6, 6, -6, 6), 160)
    fig, arrays = region_fig.region_figure(view, highlight=(1, 3), hover=True)
    assert 1200 <= view.count <= 2000
    assert len(np.unique(view.ids[view.ids >= 0])) > 1000  # most regions own a cell
    assert fig.data[0].customdata.shape[:2] == (160, 160) and "regions.z" in arrays


# -- estimates ------------------------------------------------------------------------------


def test_curved_features_give_a_labelled_grid_estimate():
    params = random_net([3, 6, 1], seed=4)
    features = ("x1", "x2", "x1sq")
    view = raster.region_view(params, "relu", features, (-6, 6, -6, 6), 60, count_n=80)
    assert not view.exact and "estimate" in view.note
    assert view.count == grid_pattern_count(params, "relu", (-6, 6, -6, 6), 80, features)
    assert view.count_grid == 80
    fig, _ = region_fig.region_figure(view, colour_by="slope")  # no slopes: falls back to regions
    assert fig.data[0].showscale is False
    assert "grid estimate" in fig.data[0].hovertemplate
    assert stories.region_story(view, params, "relu") == [view.note]


def test_smooth_activation_is_an_estimate_too():
    params = random_net([2, 5, 1], seed=4)
    view = raster.region_view(params, "tanh", ("x1", "x2"), (-6, 6, -6, 6), 40, count_n=40)
    assert not view.exact and "tanh" in view.note


def test_too_many_regions_fall_back_to_the_estimate():
    params = random_net([2, 32, 32, 1], seed=0)
    view = raster.region_view(
        params, "relu", ("x1", "x2"), (-6, 6, -6, 6), 40, max_regions=100, count_n=40
    )
    assert not view.exact and "estimate" in view.note


# -- why fewer regions ----------------------------------------------------------------------


def test_first_layer_lines_count_crossings_misses_and_parallels():
    # Lines x1 = 0, x2 = 0, x1 = 2 (misses [-1, 1]²), x1 = 0.5 (parallel to x1 = 0),
    # x1 + x2 = 1.9 and x1 - x2 = 1.9 (they cross only at (1.9, 0), outside).
    w = np.array([[1, 0, 1, 1, 1, 1], [0, 1, 0, 0, 1, -1]], float)
    b = np.array([0, 0, -2, -0.5, -1.9, -1.9])
    s = lines.first_layer_lines(w, b, QUAD)
    assert (s.units, s.crossing, s.missing, s.flat) == (6, 5, 1, 0)
    # Of the 10 pairs, x1 = 0 / x2 = 0 meet at the origin and x2 = 0 / x1 = 0.5 at
    # (0.5, 0); x1 = 0 and x1 = 0.5 are parallel; every other pair meets outside.
    assert (s.pairs_inside, s.pairs_parallel, s.pairs_outside) == (2, 1, 7)
    net = [(w, b), (np.ones((6, 1)), np.zeros(1))]
    assert region_count(net, "relu", QUAD) == s.general_count == 1 + 5 + 2


def test_general_position_reaches_the_maximum_and_says_so():
    h = 6
    rng = np.random.default_rng(11)
    w, b = rng.normal(size=(2, h)), rng.normal(size=h)
    params = [(w, b), (np.ones((h, 1)), np.zeros(1))]
    box = (-1e4, 1e4, -1e4, 1e4)
    s = lines.first_layer_lines(w, b, box)
    assert s.pairs_inside == math.comb(h, 2)
    view = raster.region_view(params, "relu", ("x1", "x2"), box, 40)
    assert view.count == 1 + h + math.comb(h, 2) == 22
    story = " ".join(stories.region_story(view, params, "relu"))
    assert "1 + 6 + 15 = **22**" in story and "the most one layer can make" in story


def test_story_names_lines_outside_the_view_and_shared_points():
    params = random_net([2, 8, 8, 1], seed=0, bias=0.0)  # zero biases: all through 0
    view = raster.region_view(params, "relu", ("x1", "x2"), (-6, 6, -6, 6), 40)
    story = " ".join(stories.region_story(view, params, "relu"))
    assert "1 + 8 + 28 = **37**" in story
    assert "passes through the origin" in story and "**16**" in story
    assert f"**{view.count:,}** regions in all" in story
    far = [(np.eye(2), np.array([-20.0, 0.0])), (np.ones((2, 1)), np.zeros(1))]
    view = raster.region_view(far, "relu", ("x1", "x2"), (-6, 6, -6, 6), 40)
    story = " ".join(stories.region_story(view, far, "relu"))
    assert "1 of the 2 first-layer bends cross" in story
    assert "1 lies outside it" in story and "[−20, 20]²" in story
    assert stories.bends_in_view(view, far) == (1, 2)


# -- hidden space and sweep figures ---------------------------------------------------------


def test_hidden_space_figure_draws_both_planes_and_the_decision_line():
    data = make_dataset("xor", n_points=60, noise=0.0, train_ratio=0.5, seed=0, classes=2)
    params = random_net([2, 4, 2, 1], seed=3)
    hs = hidden_space(
        params, "relu", ("x1", "x2"), (-6, 6, -6, 6), data.x_train, layer=1, units=(0, 1)
    )
    fig, arrays = hidden_fig.hidden_space_figure(hs, params, data, activation="ReLU")
    axes = {t.xaxis for t in fig.data}
    assert axes == {"x", "x2"}
    assert fig.layout.xaxis2.title.text == "unit 1" and fig.layout.yaxis2.title.text == "unit 2"
    line = fig.data[-1]
    assert line.name == "decision line (logit 0)" and len(line.x) == 2
    (w, c) = params[-1]
    np.testing.assert_allclose(w[0, 0] * line.x + w[1, 0] * line.y + c[0], 0, atol=1e-9)
    right = [t for t in fig.data if t.xaxis == "x2"]
    assert all(f"{t.uid}.x" in arrays for t in right)
    n_right_points = sum(len(arrays[f"{t.uid}.x"].values) for t in right if t.mode == "markers")
    assert n_right_points == len(data.x_train)


def fake_sweep():
    widths, depths, seeds = (1, 2, 4), (1, 2), (0, 1)
    shape = (len(depths), len(widths), len(seeds))
    # Depth 1 reaches 0.5 at H = 4, depth 2 at H = 1; nothing reaches 0.999.
    metric = np.array([[[0.1, 0.2], [0.3, 0.4], [0.6, 0.7]], [[0.5, 0.6], [0.8, 0.9], [0.9, 0.95]]])
    regions = np.arange(np.prod(shape), dtype=float).reshape(shape) + 2
    regions[1, 2, :] = np.nan  # not counted
    return SimpleNamespace(
        metric="r2",
        widths=widths,
        depths=depths,
        seeds=seeds,
        steps=500,
        box=(-6.0, 6.0, -6.0, 6.0),
        test_metric=metric,
        regions=regions,
    )


def test_sweep_figure_has_a_line_per_depth_on_log_axes():
    fig = sweep_fig.sweep_figure(fake_sweep())
    assert fig.layout.xaxis.type == "log" and fig.layout.xaxis2.type == "log"
    named = [t.name for t in fig.data if t.showlegend is not False]
    assert named == ["depth 1", "depth 2", "one layer's maximum 1 + H + C(H, 2)"]
    reference = fig.data[-1]
    assert list(reference.y) == [1 + h + math.comb(int(h), 2) for h in reference.x]
    assert "test R²" in fig.layout.annotations[0].text


def test_sweep_summary_names_the_smallest_width():
    lines = sweeps.sweep_summary(fake_sweep(), threshold=0.5)
    assert lines[0].startswith("1 hidden layer: H = 4 reaches test R² ≥ 0.5")
    assert lines[1].startswith("2 hidden layers: H = 1 reaches")
    assert "no width" in sweeps.sweep_summary(fake_sweep(), threshold=0.999)[0]
