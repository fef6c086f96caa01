"""Exact bends and linear regions, checked against the net's own forward pass.

The reference is ``model.forward_with_preactivations`` run in float64; the counts are
held to the arrangement formula 1 + H + C(H, 2) and to grids of sample points.
"""

import itertools
import math

import jax
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from playground.analysis import geometry
from playground.analysis.geometry import (
    bends,
    geometry_supported,
    grid_pattern_count,
    linear_regions,
    max_regions_one_layer,
    region_count,
    regions_and_bends,
)
from playground.core.errors import PlaygroundError
from playground.core.model import forward_with_preactivations

BOX = (-6.0, 6.0, -6.0, 6.0)


# --------------------------------------------------------------------------------------
# Helpers


def random_params(sizes, seed, bias_std=1.0, weight_std=None):
    """He-style weights (or N(0, weight_std)), biases N(0, bias_std), as float64 numpy."""
    rng = np.random.default_rng(seed)
    params = []
    for fan_in, fan_out in itertools.pairwise(sizes):
        std = np.sqrt(2.0 / fan_in) if weight_std is None else weight_std
        params.append(
            (rng.normal(size=(fan_in, fan_out)) * std, rng.normal(size=fan_out) * bias_std)
        )
    return params


def reference(params, points, activation):
    """Outputs (N, n_out) and pre-activations [(N, H_l)] from the model, in float64."""
    points = np.asarray(points, np.float64)
    n = len(points)
    # Pad to a power of two: jax compiles each op once per shape, so few shapes run fast.
    padded = np.zeros((max(256, 1 << (n - 1).bit_length()), 2))
    padded[:n] = points
    # The model adds 1-D biases to 2-D batches; conftest makes that rank promotion raise.
    with jax.enable_x64(True), jax.numpy_rank_promotion("allow"):
        params64 = [(np.asarray(w, np.float64), np.asarray(b, np.float64)) for w, b in params]
        out, pre = forward_with_preactivations(params64, padded, activation)
        return np.asarray(out)[:n], [np.asarray(z)[:n] for z in pre]


def box_area(box):
    x0, x1, y0, y1 = box
    return (x1 - x0) * (y1 - y0)


def signed_distances(polygon, points):
    """(N, E) signed distance of each point to each non-degenerate edge's line (+ = inside)."""
    start, end = polygon, np.roll(polygon, -1, axis=0)
    edge = end - start
    length = np.linalg.norm(edge, axis=1)
    keep = length > 1e-12 * max(1.0, np.abs(polygon).max())
    start, edge, length = start[keep], edge[keep], length[keep]
    rel = points[:, None, :] - start[None, :, :]
    cross = edge[None, :, 0] * rel[..., 1] - edge[None, :, 1] * rel[..., 0]
    return cross / length[None, :]


def membership(regions, points, eps):
    """(N, R) strict and loose point-in-polygon tests."""
    strict = np.zeros((len(points), len(regions)), dtype=bool)
    loose = np.zeros_like(strict)
    for r, region in enumerate(regions):
        d = signed_distances(region.polygon, points)
        strict[:, r] = (d > eps).all(axis=1)
        loose[:, r] = (d > -eps).all(axis=1)
    return strict, loose


def interior_samples(polygon, rng, k):
    """k points strictly inside a convex polygon: convex mixes pulled toward its centroid."""
    mix = rng.dirichlet(np.ones(len(polygon)), size=k) @ polygon
    centre = polygon.mean(axis=0)
    return centre + 0.8 * (mix - centre)


def flat_pattern(region):
    return np.array([bit for layer in region.pattern for bit in layer], dtype=bool)


def assert_tiles_box(regions, box, rng, n_points=2000):
    """Polygons are convex, counter-clockwise, disjoint, and cover the box exactly."""
    scale = max(abs(v) for v in box)
    assert regions, "no regions"
    for region in regions:
        poly = region.polygon
        assert poly.ndim == 2 and poly.shape[1] == 2 and len(poly) >= 3
        edges = np.roll(poly, -1, axis=0) - poly
        turns = (
            edges[:, 0] * np.roll(edges, -1, axis=0)[:, 1]
            - edges[:, 1] * np.roll(edges, -1, axis=0)[:, 0]
        )
        assert (turns >= -1e-9 * scale**2).all(), "polygon not convex counter-clockwise"
        assert region.area > 0
        x, y = poly[:, 0], poly[:, 1]
        shoelace = 0.5 * np.sum(x * np.roll(y, -1) - np.roll(x, -1) * y)
        assert region.area == pytest.approx(shoelace, rel=1e-9)
        assert (poly[:, 0] >= box[0] - 1e-9 * scale).all()
        assert (poly[:, 0] <= box[1] + 1e-9 * scale).all()
        assert (poly[:, 1] >= box[2] - 1e-9 * scale).all()
        assert (poly[:, 1] <= box[3] + 1e-9 * scale).all()
    total = sum(region.area for region in regions)
    assert total == pytest.approx(box_area(box), rel=1e-9)
    points = np.column_stack(
        [rng.uniform(box[0], box[1], n_points), rng.uniform(box[2], box[3], n_points)]
    )
    strict, loose = membership(regions, points, eps=1e-9 * scale)
    assert (strict.sum(axis=1) <= 1).all(), "regions overlap"
    assert (loose.sum(axis=1) >= 1).all(), "a point of the box is in no region"
    patterns = [region.pattern for region in regions]
    assert len(set(patterns)) == len(patterns), "a pattern is counted twice"


def assert_affine_and_pattern(params, activation, regions, rng, k=4):
    """At points inside each polygon the model's output equals the region's affine map,
    and the signs of its pre-activations equal the region's pattern."""
    points = np.concatenate([interior_samples(r.polygon, rng, k) for r in regions])
    owner = np.repeat(np.arange(len(regions)), k)
    out, pre = reference(params, points, activation)
    grads = np.stack([r.gradient for r in regions])[owner]  # (N, n_out, 2)
    offsets = np.stack([r.offset for r in regions])[owner]
    predicted = np.einsum("nod,nd->no", grads, points) + offsets
    scale = 1.0 + np.abs(out).max()
    np.testing.assert_allclose(predicted, out, atol=1e-9 * scale, rtol=1e-9)
    if not pre or activation == "linear":
        return
    z = np.concatenate(pre, axis=1)
    expected = np.stack([flat_pattern(r) for r in regions])[owner]
    clear = np.abs(z) > 1e-9 * (1.0 + np.abs(z).max())  # signs too close to 0 to judge
    assert ((z > 0) == expected)[clear].all()


# --------------------------------------------------------------------------------------
# Counting


@pytest.mark.parametrize(
    ("hidden", "expected"), [(1, 2), (2, 4), (3, 7), (5, 16), (8, 37), (12, 79)]
)
def test_one_layer_in_general_position_reaches_the_arrangement_count(hidden, expected):
    # Tangents to the unit circle: no two parallel (angles within a half-turn), no three
    # through one point, every crossing within ~8 of the origin, so inside the box.
    rng = np.random.default_rng(hidden)
    angles = (np.arange(hidden) + rng.uniform(0.1, 0.9, hidden)) * np.pi / (hidden + 0.5)
    scale = rng.choice([-1.0, 1.0], hidden) * rng.uniform(0.5, 2.0, hidden)
    w = np.stack([np.cos(angles), np.sin(angles)]) * scale
    b = -scale
    params = [(w, b), (rng.normal(size=(hidden, 1)), np.zeros(1))]
    box = (-1e4, 1e4, -1e4, 1e4)
    assert max_regions_one_layer(hidden) == expected
    regions = linear_regions(params, "relu", box)
    assert len(regions) == expected == region_count(params, "relu", box)
    assert_tiles_box(regions, box, rng)
    assert_affine_and_pattern(params, "relu", regions, rng)


def test_max_regions_one_layer():
    assert [max_regions_one_layer(h) for h in (0, 1, 2, 3, 5, 8, 12)] == [1, 2, 4, 7, 16, 37, 79]
    assert max_regions_one_layer(5, d_in=1) == 6
    assert max_regions_one_layer(4, d_in=3) == 1 + 4 + 6 + 4


@pytest.mark.parametrize(
    ("sizes", "activation", "seed"),
    [
        ([2, 8, 1], "relu", 0),
        ([2, 8, 8, 1], "relu", 1),
        ([2, 32, 32, 1], "relu", 2),
        ([2, 6, 6, 6, 3], "relu", 3),
        ([2, 8, 8, 1], "leaky_relu", 4),
        ([2, 5, 4, 3, 2, 1], "leaky_relu", 5),
    ],
)
def test_regions_tile_the_box_and_carry_the_nets_affine_map(sizes, activation, seed):
    params = random_params(sizes, seed)
    rng = np.random.default_rng(seed)
    regions = linear_regions(params, activation, BOX)
    assert len(regions) > sizes[1]
    assert all(
        r.gradient.shape == (sizes[-1], 2) and r.offset.shape == (sizes[-1],) for r in regions
    )
    assert all(tuple(len(layer) for layer in r.pattern) == tuple(sizes[1:-1]) for r in regions)
    assert_tiles_box(regions, BOX, rng)
    assert_affine_and_pattern(params, activation, regions, rng)


def test_jax_float32_params_work_like_numpy():
    params = random_params([2, 8, 8, 1], seed=7)
    params32 = [
        (
            jax.numpy.asarray(w, dtype=jax.numpy.float32),
            jax.numpy.asarray(b, dtype=jax.numpy.float32),
        )
        for w, b in params
    ]
    regions = linear_regions(params32, "relu", BOX)
    assert_tiles_box(regions, BOX, np.random.default_rng(0))
    assert_affine_and_pattern(params32, "relu", regions, np.random.default_rng(1))


def grid_centres(box, n):
    x0, x1, y0, y1 = box
    xs = x0 + (np.arange(n) + 0.5) * (x1 - x0) / n
    ys = y0 + (np.arange(n) + 0.5) * (y1 - y0) / n
    gy, gx = np.meshgrid(ys, xs, indexing="ij")
    return np.column_stack([gx.ravel(), gy.ravel()])


def test_grid_only_undercounts_and_approaches_the_exact_count():
    params = random_params([2, 8, 8, 1], seed=11)
    exact = linear_regions(params, "relu", BOX)
    exact_patterns = {r.pattern for r in exact}
    counts = [grid_pattern_count(params, "relu", BOX, n) for n in (25, 75, 225, 675)]
    # Each grid's points are among the next one's, so the counts can only grow.
    assert counts == sorted(counts)
    assert counts[-1] <= len(exact)
    assert counts[0] < len(exact)  # a coarse grid misses small regions
    assert counts[-1] >= 0.85 * len(exact)
    # Every grid point's pattern is the pattern of the exact region that holds it.
    points = grid_centres(BOX, 75)
    _, pre = reference(params, points, "relu")
    signs = np.concatenate(pre, axis=1) > 0
    seen = {tuple(row) for row in signs.astype(int).tolist()}
    flat_exact = {tuple(b for layer in p for b in layer) for p in exact_patterns}
    assert seen <= flat_exact
    assert len(seen) == counts[1]
    strict, _ = membership(exact, points, eps=1e-9)
    holder = strict.argmax(axis=1)
    assert strict.sum(axis=1).max() == 1
    region_signs = np.stack([flat_pattern(r) for r in exact])[holder]
    assert (region_signs == signs)[strict.any(axis=1)].all()


@pytest.mark.parametrize("activation", ["tanh", "gelu", "sigmoid", "leaky_relu"])
def test_grid_count_matches_the_models_sign_patterns(activation):
    params = random_params([2, 6, 6, 1], seed=3)
    points = grid_centres(BOX, 60)
    _, pre = reference(params, points, activation)
    signs = np.concatenate(pre, axis=1) > 0
    assert grid_pattern_count(params, activation, BOX, 60) == len(np.unique(signs, axis=0))


def test_grid_count_with_curved_features():
    features = ("x1", "x2", "x1sq", "sinx2")
    params = random_params([4, 6, 1], seed=5)
    count = grid_pattern_count(params, "relu", BOX, 80, features=features)
    assert 1 < count <= 2**6
    with pytest.raises(PlaygroundError):
        grid_pattern_count(params, "relu", BOX, 80)  # the net takes 4 inputs, not 2
    with pytest.raises(PlaygroundError):
        grid_pattern_count(params, "relu", BOX, 80, features=("x1", "nope", "x2", "x1sq"))


def test_grid_count_of_the_linear_activation_is_one():
    params = random_params([2, 5, 1], seed=0)
    assert grid_pattern_count(params, "linear", BOX, 50) == 1


# --------------------------------------------------------------------------------------
# Bends


def test_first_layer_bends_are_the_units_lines_across_the_box():
    w = np.array([[1.0, 0.0, 1.0, 0.0, 2.0], [0.0, 1.0, 1.0, 0.0, -1.0]])
    b = np.array([0.5, -2.0, 20.0, 1.0, 0.3])  # unit 2 misses the box; unit 3 is constant
    params = [(w, b), (np.ones((5, 1)), np.zeros(1))]
    found = bends(params, "relu", BOX)
    assert [(bend.layer, bend.unit) for bend in found] == [(0, j) for j in range(5)]
    assert [len(bend.segments) for bend in found] == [1, 1, 0, 0, 1]
    for bend in found:
        for segment in bend.segments:
            assert segment.shape == (2, 2)
            z = segment @ w[:, bend.unit] + b[bend.unit]
            np.testing.assert_allclose(z, 0.0, atol=1e-12)
            on_edge = np.isclose(np.abs(segment), 6.0).any(axis=1)
            assert on_edge.all(), "a first-layer bend runs edge to edge"
    np.testing.assert_allclose(sorted(found[0].segments[0][:, 1]), [-6.0, 6.0])


def test_bend_through_corners_runs_corner_to_corner():
    box = (-1.0, 1.0, -1.0, 1.0)
    (bend,) = bends(one_layer([[1.0], [1.0]], [0.0]), "relu", box)
    assert bend.segments.shape == (1, 2, 2)
    ends = sorted(map(tuple, bend.segments[0]))
    np.testing.assert_allclose(ends, [(-1.0, 1.0), (1.0, -1.0)])
    # A line that only touches a corner is no bend.
    (touch,) = bends(one_layer([[1.0], [1.0]], [-2.0]), "relu", box)
    assert touch.segments.shape == (0, 2, 2)


def test_deep_bends_lie_on_the_units_zero_set_and_are_complete():
    params = random_params([2, 8, 8, 8, 1], seed=21)
    found = bends(params, "relu", BOX)
    assert [(b.layer, b.unit) for b in found] == [
        (layer, j) for layer in range(3) for j in range(8)
    ]
    assert sum(len(b.segments) for b in found if b.layer > 0) > 16  # deeper bends kink
    t = np.linspace(0.0, 1.0, 7)[:, None]
    for bend in found:
        if not len(bend.segments):
            continue
        points = np.concatenate([s[0] + t * (s[1] - s[0]) for s in bend.segments])
        _, pre = reference(params, points, "relu")
        z = pre[bend.layer][:, bend.unit]
        np.testing.assert_allclose(z, 0.0, atol=1e-9 * (1.0 + np.abs(pre[bend.layer]).max()))
    # Complete: along horizontal lines, the unit changes sign exactly where a segment crosses.
    xs = np.linspace(BOX[0], BOX[1], 40_001)
    for y0 in (-4.37, -1.13, 0.71, 3.29):
        line = np.column_stack([xs, np.full_like(xs, y0)])
        _, pre = reference(params, line, "relu")
        for bend in found:
            z = pre[bend.layer][:, bend.unit]
            changes = int(np.sum(np.signbit(z[1:]) != np.signbit(z[:-1])))
            ys = bend.segments[:, :, 1] if len(bend.segments) else np.zeros((0, 2))
            crossings = int(np.sum((ys[:, 0] - y0) * (ys[:, 1] - y0) < 0))
            assert changes == crossings, (bend.layer, bend.unit, y0)


def test_region_edges_lie_on_bends_or_the_box():
    params = random_params([2, 6, 6, 1], seed=8)
    regions, found = regions_and_bends(params, "relu", BOX)
    for region in regions:
        mids = 0.5 * (region.polygon + np.roll(region.polygon, -1, axis=0))
        _, pre = reference(params, mids, "relu")
        z = np.concatenate(pre, axis=1)
        on_bend = (np.abs(z) < 1e-9 * (1.0 + np.abs(z).max())).any(axis=1)
        on_box = np.isclose(np.abs(mids), 6.0).any(axis=1)
        assert (on_bend | on_box).all()
    assert len(regions) == region_count(params, "relu", BOX)
    assert len(found) == 12


# --------------------------------------------------------------------------------------
# Degenerate nets


def one_layer(w, b):
    w = np.asarray(w, dtype=float)
    return [(w, np.asarray(b, dtype=float)), (np.ones((w.shape[1], 1)), np.zeros(1))]


def check(params, activation="relu", box=BOX):
    regions = linear_regions(params, activation, box)
    rng = np.random.default_rng(0)
    assert_tiles_box(regions, box, rng)
    assert_affine_and_pattern(params, activation, regions, rng)
    return regions


def test_zero_weights_make_one_region():
    regions = check(one_layer(np.zeros((2, 4)), np.zeros(4)))
    assert len(regions) == 1 and regions[0].pattern == ((0, 0, 0, 0),)
    assert all(
        len(b.segments) == 0 for b in bends(one_layer(np.zeros((2, 4)), np.zeros(4)), "relu", BOX)
    )
    # A zero unit next to real ones changes nothing.
    mixed = check(one_layer([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]], [0.0, 0.0, 0.5]))
    assert len(mixed) == 4
    # A whole zero second layer: one region after it, the first layer's cuts remain.
    params = random_params([2, 4, 3, 1], seed=0)
    params[1] = (np.zeros((4, 3)), np.zeros(3))
    first_layer_only = [params[0], (np.ones((4, 1)), np.zeros(1))]
    assert len(check(params)) == region_count(first_layer_only, "relu", BOX)


def test_parallel_and_duplicate_units():
    # Three parallel lines x1 = -1, 0, 2: four strips.
    assert len(check(one_layer([[1.0, 1.0, -2.0], [0.0, 0.0, 0.0]], [1.0, 0.0, 4.0]))) == 4
    # The same line three times (once scaled, once flipped) still cuts once.
    regions = check(one_layer([[1.0, 2.0, -1.0], [1.0, 2.0, -1.0]], [0.5, 1.0, -0.5]))
    assert sorted(r.pattern for r in regions) == [((0, 0, 1),), ((1, 1, 0),)]
    # Duplicates of units in a general-position layer add nothing.
    params = random_params([2, 5, 1], seed=2)
    w, b = params[0]
    doubled = one_layer(np.concatenate([w, w], axis=1), np.concatenate([b, b]))
    assert len(check(doubled)) == region_count(params, "relu", BOX)


def test_lines_through_vertices_corners_and_along_edges():
    box = (-1.0, 1.0, -1.0, 1.0)
    # The diagonal x1 + x2 = 0 passes through two corners: two triangles.
    regions = check(one_layer([[1.0], [1.0]], [0.0]), box=box)
    assert sorted(len(r.polygon) for r in regions) == [3, 3]
    # A line along the box's edge does not cut; the side tells the pattern.
    assert [r.pattern for r in check(one_layer([[1.0], [0.0]], [-1.0]), box=box)] == [((0,),)]
    assert [r.pattern for r in check(one_layer([[-1.0], [0.0]], [1.0]), box=box)] == [((1,),)]
    # Three lines through one point: six sectors, not seven.
    assert len(check(one_layer([[1.0, 0.0, 1.0], [0.0, 1.0, -1.0]], [0.0, 0.0, 0.0]))) == 6
    # A line that only touches a corner does not cut.
    assert len(check(one_layer([[1.0], [1.0]], [-2.0]), box=box)) == 1


def test_concurrent_lines_meet_in_one_clean_vertex():
    # Four lines through (1/3, 1/7), a point no float holds exactly: eight sectors, and
    # rounding leaves no near-duplicate vertices or slivers behind.
    angles = np.array([0.3, 1.1, 2.0, 2.6])
    w = np.stack([np.cos(angles), np.sin(angles)])
    b = -(np.array([1 / 3, 1 / 7]) @ w)
    regions = check(one_layer(w, b))
    assert len(regions) == 8
    for region in regions:
        edges = np.linalg.norm(np.roll(region.polygon, -1, axis=0) - region.polygon, axis=1)
        assert edges.min() > 1e-6
        assert len(region.polygon) <= 4


def test_dead_unit_never_cuts():
    w = np.array([[1.0, 0.3, 0.0], [0.0, 0.2, 1.0]])
    b = np.array([0.0, -100.0, 0.5])
    regions = check(one_layer(w, b))
    assert len(regions) == 4 and all(r.pattern[0][1] == 0 for r in regions)
    assert len(bends(one_layer(w, b), "relu", BOX)[1].segments) == 0
    # A deep unit dead everywhere (negative bias, non-positive weights) cuts nothing either.
    params = random_params([2, 4, 3, 1], seed=1)
    w2, b2 = params[1]
    w2[:, 0], b2[0] = -np.abs(w2[:, 0]), -1.0
    regions = check(params)
    assert all(r.pattern[1][0] == 0 for r in regions)
    assert len(bends(params, "relu", BOX)[4].segments) == 0


def test_tiny_slivers_are_never_double_counted():
    # Lines within rounding of a box edge or vertex do not cut at all.
    params = one_layer([[1.0, 1.0], [0.0, 1e-15]], [-6.0 + 1e-13, -6.0 + 1e-13])
    assert len(check(params)) == 1
    # A line cutting a corner triangle of area 5e-13 (below 1e-12 of the box) leaves the
    # piece whole, on the side that holds almost all of it.
    params = one_layer([[1.0], [1.0]], [-(12.0 - 1e-6)])
    regions = check(params)
    assert [r.pattern for r in regions] == [((0,),)]
    assert regions[0].area == box_area(BOX)
    # Three nearly concurrent lines in a huge box: their tiny triangle merges, tiling holds.
    w = np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 1.0]])
    regions = check(one_layer(w, [0.0, 0.0, 1e-4]), box=(-1e4, 1e4, -1e4, 1e4))
    assert len(regions) == 6


def test_linear_activation_is_one_affine_region():
    params = random_params([2, 5, 4, 2], seed=9)
    regions = check(params, "linear")
    assert len(regions) == 1 and regions[0].pattern == ((1,) * 5, (1,) * 4)
    product = params[0][0] @ params[1][0] @ params[2][0]
    np.testing.assert_allclose(regions[0].gradient, product.T, rtol=1e-12)
    found = bends(params, "linear", BOX)
    assert len(found) == 9 and all(len(b.segments) == 0 for b in found)


def test_linear_model_without_hidden_layers():
    w, b = np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([0.5, -0.5])
    regions = linear_regions([(w, b)], "relu", BOX)
    assert len(regions) == 1 and regions[0].pattern == ()
    np.testing.assert_allclose(regions[0].gradient, w.T)
    np.testing.assert_allclose(regions[0].offset, b)
    assert bends([(w, b)], "relu", BOX) == []
    assert grid_pattern_count([(w, b)], "relu", BOX, 10) == 1


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    widths=st.lists(st.integers(1, 4), min_size=1, max_size=3),
    activation=st.sampled_from(["relu", "leaky_relu"]),
    seed=st.integers(0, 2**31 - 1),
)
def test_integer_nets_full_of_coincidences(widths, activation, seed):
    # Small integer weights on an integer box: parallel, duplicate, concurrent and
    # vertex-hitting lines, zero and dead units, all at once.
    rng = np.random.default_rng(seed)
    sizes = [2, *widths, 1]
    params = [
        (rng.integers(-2, 3, size=(i, o)).astype(float), rng.integers(-2, 3, size=o).astype(float))
        for i, o in itertools.pairwise(sizes)
    ]
    box = (-2.0, 2.0, -2.0, 2.0)
    regions = linear_regions(params, activation, box)
    assert_tiles_box(regions, box, rng, n_points=500)
    assert_affine_and_pattern(params, activation, regions, rng, k=2)
    if len(widths) == 1:
        assert len(regions) <= max_regions_one_layer(widths[0])


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), scale=st.sampled_from([1e-6, 1.0, 1e3]))
def test_random_nets_at_any_scale(seed, scale):
    params = random_params([2, 6, 5, 2], seed=seed, weight_std=scale, bias_std=scale)
    regions = linear_regions(params, "relu", BOX)
    rng = np.random.default_rng(seed)
    assert_tiles_box(regions, BOX, rng, n_points=500)
    assert_affine_and_pattern(params, "relu", regions, rng, k=2)


# --------------------------------------------------------------------------------------
# Errors and support


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_params_raise_a_plain_error(bad):
    params = random_params([2, 4, 1], seed=0)
    params[0][0][1, 2] = bad
    for fn in (linear_regions, bends, region_count):
        with pytest.raises(PlaygroundError, match="NaN or infinite"):
            fn(params, "relu", BOX)
    with pytest.raises(PlaygroundError, match="NaN or infinite"):
        grid_pattern_count(params, "relu", BOX, 10)


def test_overflowing_params_raise_a_plain_error():
    params = random_params([2, 4, 4, 4, 1], seed=0, weight_std=1e150)
    with pytest.raises(PlaygroundError, match="too large"):
        linear_regions(params, "relu", BOX)


@pytest.mark.parametrize(
    "box", [(1, 0, 0, 1), (0, 1, 2, 2), (0, 1, 0, np.nan), (0, 1, 0), "abcd", None]
)
def test_bad_boxes_raise(box):
    with pytest.raises(PlaygroundError):
        linear_regions(random_params([2, 3, 1], seed=0), "relu", box)


def test_bad_params_and_activations_raise():
    with pytest.raises(PlaygroundError):
        linear_regions(random_params([3, 4, 1], seed=0), "relu", BOX)  # not (x1, x2)
    with pytest.raises(PlaygroundError):
        linear_regions([(np.ones((2, 3)), np.ones(4))], "relu", BOX)
    with pytest.raises(PlaygroundError):
        linear_regions([], "relu", BOX)
    with pytest.raises(PlaygroundError, match="piecewise-linear"):
        linear_regions(random_params([2, 3, 1], seed=0), "tanh", BOX)
    with pytest.raises(PlaygroundError):
        grid_pattern_count(random_params([2, 3, 1], seed=0), "swish", BOX, 10)


def test_too_many_regions_raise_instead_of_hanging():
    params = random_params([2, 32, 32, 1], seed=0)
    with pytest.raises(PlaygroundError, match="too many"):
        linear_regions(params, "relu", BOX, max_regions=50)


def test_geometry_supported():
    assert geometry_supported("relu", ("x1", "x2")) == (True, "")
    assert geometry_supported("leaky_relu", ["x1", "x2"])[0]
    assert geometry_supported("linear", ("x1", "x2"))[0]
    ok, reason = geometry_supported("tanh", ("x1", "x2"))
    assert not ok and "tanh" in reason and "smooth" in reason
    ok, reason = geometry_supported("relu", ("x1", "x2", "x1sq"))
    assert not ok and "x1" in reason
    assert not geometry_supported("relu", ("x2", "x1"))[0]


def test_bench_partition_reports_a_time():
    result = geometry.bench_partition(width=4, depth=2, repeats=1)
    assert result["regions"] >= 1 and result["median_ms"] > 0
    assert math.isfinite(result["min_ms"])
