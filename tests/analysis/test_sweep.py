"""The width/depth sweep against the engine: vmapped, padded training must equal the
engine's ``train_chunk`` training each network alone; padding must change nothing; wider
nets must fit x1·x2 better; progress events must come as documented."""

import importlib.util
import math
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from playground.analysis.sweep import (
    apply_masks,
    embed,
    over_seeds,
    padded_masks,
    start_params,
    sweep,
    sweep_table,
    width_groups,
)
from playground.core.datasets import make_dataset
from playground.core.errors import PlaygroundError
from playground.core.model import forward, init_params
from playground.core.train import Hyper, ModelSpec, evaluate, init_state, train_chunk

# A small grid: widths 1 and 3 are padded to 6, the remainder chunk (10 steps) is exercised.
SMALL = dict(
    pad="max",
    problem="product",
    widths=(1, 3, 6),
    depths=(1, 2),
    seeds=(0, 1),
    steps=60,
    lr=0.01,
    n_points=200,
    chunk=25,
    regions=False,
)
RTOL, ATOL = 1e-4, 1e-5
HAS_GEOMETRY = importlib.util.find_spec("playground.analysis.geometry") is not None


@pytest.fixture(scope="module")
def small():
    """The small sweep and every progress event it sent."""
    events = []
    result = sweep(**SMALL, on_progress=events.append)
    return result, events


def engine_run(result, depth, width, seed, data):
    """Train one network alone with the engine, full batch, as the sweep did."""
    spec = result.spec(depth, width)
    state = init_state(spec, "adam", key=jax.random.key(seed))
    x, y = jnp.asarray(data.x_train), jnp.asarray(data.y_train)
    state, log = train_chunk(
        state, x, y, Hyper(result.learning_rate), spec=spec, optimizer="adam",
        batch_size=0, n_steps=result.steps,
    )  # fmt: skip
    scores = evaluate(state.params, x, y, data.x_test, data.y_test, spec=spec)
    return state.params, np.asarray(log.loss), {k: float(v) for k, v in scores.items()}


def test_vmapped_sweep_equals_engine_training_each_net_alone(small):
    result, _ = small
    data = make_dataset("product", n_points=SMALL["n_points"], seed=0)
    # Widths 1 and 3 are padded to 6, width 6 is not; each shape is one engine compile.
    for depth, width in [(1, 1), (1, 3), (2, 3), (2, 6)]:
        for seed in result.seeds:
            at = result.index(depth, width, seed)
            params, losses, scores = engine_run(result, depth, width, seed, data)
            mine = result.params_for(depth, width, seed)
            assert [w.shape for w, _ in mine] == [w.shape for w, _ in params]
            for (w, b), (w_ref, b_ref) in zip(mine, params, strict=True):
                np.testing.assert_allclose(w, w_ref, rtol=RTOL, atol=ATOL)
                np.testing.assert_allclose(b, b_ref, rtol=RTOL, atol=ATOL)
            np.testing.assert_allclose(result.loss_curve[at], losses, rtol=RTOL, atol=ATOL)
            for key in ("train_loss", "test_loss", "test_metric"):
                assert getattr(result, key)[at] == pytest.approx(scores[key], rel=RTOL)


def test_sweep_nets_start_exactly_where_the_engine_starts():
    sizes = (2, 5, 5, 1)
    spec = ModelSpec(("x1", "x2"), (5, 5), "relu", "regression", 1)
    ref = init_state(spec, "adam", key=jax.random.key(7)).params
    for (w, b), (w_ref, b_ref) in zip(start_params(sizes, 7), ref, strict=True):
        np.testing.assert_array_equal(w, w_ref)
        np.testing.assert_array_equal(b, b_ref)


@pytest.mark.parametrize("activation", ["relu", "sigmoid"])
def test_padded_forward_equals_small_forward(activation):
    # sigmoid(0) = 0.5, so a padded unit would leak into the output without the masks.
    small_sizes, big_sizes = (2, 3, 3, 1), (2, 32, 32, 1)
    params = init_params(small_sizes, key=jax.random.key(1))
    params = [(w, b + 0.1) for w, b in params]  # non-zero biases too
    masks = padded_masks(small_sizes, big_sizes)
    big = embed(params, big_sizes)
    # Junk in the padding must not matter: only the masks keep it out.
    big = [
        (w + 0.5 * (1 - mw), b - 0.3 * (1 - mb))
        for (w, b), (mw, mb) in zip(big, masks, strict=True)
    ]
    x = jax.random.uniform(jax.random.key(2), (64, 2), minval=-6, maxval=6)
    out_small = forward(params, x, activation)
    out_big = forward(apply_masks(big, masks), x, activation)
    np.testing.assert_allclose(out_big, out_small, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("activation", ["relu", "sigmoid"])
def test_width_3_padded_to_32_trains_like_width_3_alone(activation):
    common = dict(depths=(2,), seeds=(0,), steps=30, chunk=30, n_points=200, regions=False)
    common["pad"] = "max"  # width 3 shares a call with width 32
    alone = sweep(widths=(3,), activation=activation, **common)
    padded = sweep(widths=(3, 32), activation=activation, **common)
    for (w, b), (w_ref, b_ref) in zip(
        padded.params_for(2, 3, 0), alone.params_for(2, 3, 0), strict=True
    ):
        np.testing.assert_allclose(w, w_ref, rtol=RTOL, atol=ATOL)
        np.testing.assert_allclose(b, b_ref, rtol=RTOL, atol=ATOL)
    x = np.random.default_rng(0).uniform(-6, 6, (100, 2)).astype(np.float32)
    np.testing.assert_allclose(
        forward(padded.params_for(2, 3, 0), x, activation),
        forward(alone.params_for(2, 3, 0), x, activation),
        rtol=RTOL,
        atol=ATOL,
    )
    assert padded.test_loss[0, 0, 0] == pytest.approx(alone.test_loss[0, 0, 0], rel=RTOL)
    np.testing.assert_allclose(padded.loss_curve[0, 0], alone.loss_curve[0, 0], rtol=RTOL)
    # The padding itself never moved: every weight beyond unit 3 is still exactly zero.
    (w0, b0), (w1, b1), (w2, _) = padded.padded[2]
    assert not w0[0, 0, :, 3:].any() and not b0[0, 0, 3:].any()
    assert not w1[0, 0, 3:, :].any() and not w1[0, 0, :, 3:].any() and not b1[0, 0, 3:].any()
    assert not w2[0, 0, 3:, :].any()


def test_grouping_widths_differently_gives_the_same_result(small):
    # Widths 1, 3, 6 train as three unpadded calls instead of one padded to 6, and in one
    # 60-step chunk instead of 25 + 25 + 10 (chunking must not matter either).
    result, _ = small
    other = sweep(**{**SMALL, "depths": (1,), "chunk": 60, "pad": "none"})
    np.testing.assert_allclose(other.test_loss[0], result.test_loss[0], rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(other.loss_curve[0], result.loss_curve[0], rtol=RTOL, atol=ATOL)


def test_width_groups():
    widths = (1, 2, 3, 4, 6, 8, 16, 32)
    assert width_groups(widths, "max") == [(32, tuple(range(8)))]
    assert width_groups(widths, "pow2") == [(8, (0, 1, 2, 3, 4, 5)), (16, (6,)), (32, (7,))]
    assert width_groups((1, 3, 6), "pow2") == [(6, (0, 1, 2))]  # never beyond the largest
    assert width_groups((3, 9, 40, 64), "pow2") == [(8, (0,)), (16, (1,)), (64, (2, 3))]
    assert width_groups((3, 5), "none") == [(3, (0,)), (5, (1,))]


def test_product_r2_rises_with_width_and_one_relu_is_near_linear():
    result = sweep(
        "product", widths=(1, 2, 16), depths=(1,), seeds=(0, 1, 2), steps=1500, regions=False,
        pad="max",
    )  # fmt: skip
    r2 = over_seeds(result.test_metric)[0]  # median over seeds, per width
    # Independent reference: the least-squares affine fit of the same data.
    data = make_dataset("product", n_points=500, seed=0)
    design = lambda x: np.c_[x, np.ones(len(x))]  # noqa: E731
    coef, *_ = np.linalg.lstsq(design(data.x_train), data.y_train, rcond=None)
    resid = data.y_test - design(data.x_test) @ coef
    linear_r2 = 1 - resid @ resid / np.sum((data.y_test - data.y_test.mean()) ** 2)
    assert abs(linear_r2) < 0.05  # x1·x2 has no linear part
    assert r2[0] < linear_r2 + 0.4  # one ReLU: one bend, still a poor fit
    assert r2[0] < r2[1] < r2[2]
    assert r2[2] > 0.9
    assert result.metric == "r2"


def test_progress_events_come_as_documented(small):
    result, events = small
    chunks = math.ceil(SMALL["steps"] / SMALL["chunk"])
    assert len(events) == len(SMALL["depths"]) * chunks + 1
    assert [e.phase for e in events] == ["train"] * 6 + ["done"]
    assert [e.steps_done for e in events[:-1]] == [25, 50, 60, 25, 50, 60]
    assert [e.depth for e in events[:-1]] == [1, 1, 1, 2, 2, 2]
    fractions = [e.fraction for e in events]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert all(e.result is None for e in events[:-1]) and events[-1].result is result


def test_param_counts_and_tidy_rows(small):
    result, _ = small
    # (2 + 1)·H + (H + 1) for one hidden layer; + (H + 1)·H for a second one.
    assert result.n_params[0, :, 0].tolist() == [3 + 2, 9 + 4, 18 + 7]
    assert result.n_params[1, :, 0].tolist() == [5 + 2, 13 + 12, 25 + 42]
    rows = sweep_table(result)
    assert len(rows) == 2 * 3 * 2
    assert rows[0]["depth"] == 1 and rows[0]["width"] == 1 and rows[0]["seed"] == 0
    assert rows[-1]["test_loss"] == pytest.approx(result.test_loss[1, 2, 1])
    assert all(r["regions"] is None and r["metric"] == "r2" for r in rows)
    assert over_seeds(result.test_loss).shape == (2, 3)


@pytest.mark.skipif(not HAS_GEOMETRY, reason="playground.analysis.geometry is not written yet")
def test_region_counts_are_exact_and_bounded():
    from playground.analysis.geometry import grid_pattern_count, max_regions_one_layer, region_count

    events = []
    result = sweep(**{**SMALL, "regions": True}, on_progress=events.append)
    assert [e.phase for e in events].count("regions") == 2
    assert len(events) == 2 * (3 + 1) + 1
    for di, depth in enumerate(result.depths):
        for wi, width in enumerate(result.widths):
            for si, seed in enumerate(result.seeds):
                count = result.regions[di, wi, si]
                params = result.params_for(depth, width, seed)
                assert count == region_count(params, "relu", result.box)
                # A grid only undercounts; one layer of H lines cuts at most 1 + H + C(H, 2).
                assert count >= grid_pattern_count(params, "relu", result.box, 50)
                if depth == 1:
                    assert count <= max_regions_one_layer(width)


def test_without_geometry_regions_are_left_out_with_a_reason(monkeypatch):
    monkeypatch.setitem(sys.modules, "playground.analysis.geometry", None)  # import now fails
    result = sweep(**{**SMALL, "depths": (1,), "regions": True})
    assert np.isnan(result.regions).all()
    assert "geometry" in result.regions_note


@pytest.mark.parametrize(
    "bad",
    [
        {"widths": ()},
        {"widths": (0, 2)},
        {"widths": (2, 2)},
        {"depths": (0,)},
        {"seeds": ()},
        {"steps": 0},
        {"activation": "swish"},
        {"pad": "half"},
    ],
)
def test_bad_arguments_are_refused_in_plain_words(bad):
    with pytest.raises(PlaygroundError):
        sweep(**{**SMALL, **bad})


def test_params_for_an_unknown_net_is_refused(small):
    result, _ = small
    with pytest.raises(PlaygroundError, match="width 5"):
        result.params_for(1, 5, 0)
