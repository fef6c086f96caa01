"""The "Network" figure (issue 22): links and biases read back from the figure equal the
model's own arrays (sign and size) and follow training; gradients against jax.grad; the
summary of wide networks; broken weights draw without a crash."""

import itertools

import jax
import jax.numpy as jnp
import numpy as np
import plotly.graph_objects as go
import pytest

from playground.core.config import RunConfig
from playground.core.features import FEATURES
from playground.core.train import model_loss
from playground.figures.network import (
    LINK_PX,
    MAX_SHOWN_UNITS,
    SUMMARY_LINKS,
    TITLE,
    WEIGHT_FULL,
    ZERO_COLOUR,
    network_figure,
)
from playground.figures.style import BLUE, ORANGE
from playground.live.session.live_run import LiveRun


def labels(run: LiveRun) -> list[str]:
    return [FEATURES[n].label for n in run.spec.features]


def figure_of(run: LiveRun, **kw) -> dict:
    _, _, pictures = run.network_grids(25)
    fig = network_figure(
        run.params_numpy(),
        feature_labels=labels(run),
        pictures=pictures,
        dead=run.dead_units(),
        **kw,
    )
    go.Figure(fig)  # a figure Plotly accepts: it raises on any unknown property
    return fig


def links(fig: dict) -> dict[tuple[int, int, int], dict]:
    """Every link shape by (weight layer, source, destination)."""
    out = {}
    for shape in fig["layout"]["shapes"]:
        if not shape["name"].startswith("link "):
            continue
        _, layer, i, j = shape["name"].split()
        out[(int(layer), int(i), int(j))] = shape
    return out


def trace(fig: dict, name: str) -> dict:
    return next(t for t in fig["data"] if t["name"] == name)


def biases(fig: dict) -> dict[tuple[int, int], dict]:
    out = {}
    for a in fig["layout"]["annotations"]:
        if a.get("name", "").startswith("bias "):
            _, c, j = a["name"].split()
            out[(int(c), int(j))] = a
    return out


def sign_colour_of(v: float) -> str:
    return BLUE if v > 0 else ORANGE if v < 0 else ZERO_COLOUR


def check_against(fig: dict, params) -> None:
    """Every weight is one link (colour its sign, width growing with |w| up to the
    widest at WEIGHT_FULL), every bias one square coloured by its sign."""
    drawn = links(fig)
    assert len(drawn) == sum(w.size for w, _ in params)
    widths, sizes = [], []
    for (layer, i, j), shape in drawn.items():
        w = float(params[layer][0][i, j])
        assert shape["line"]["color"] == sign_colour_of(w)
        widths.append(shape["line"]["width"])
        sizes.append(min(abs(w), WEIGHT_FULL))
    widths, sizes = np.array(widths), np.array(sizes)
    order = np.argsort(sizes, kind="stable")
    assert np.all(np.diff(widths[order]) >= -1e-12)  # wider is larger
    assert widths.min() >= LINK_PX[0] and widths.max() <= LINK_PX[1]
    # At full size exactly the widest; at 0 the narrowest: width is affine in |w|.
    expect = LINK_PX[0] + (LINK_PX[1] - LINK_PX[0]) * sizes / WEIGHT_FULL
    np.testing.assert_allclose(widths, expect, rtol=1e-9)
    # The hover points carry the weights themselves, in the shapes' order.
    values = np.asarray(trace(fig, "links")["customdata"], np.float64)
    want = [float(params[la][0][i, j]) for la, i, j in drawn]
    np.testing.assert_array_equal(values, np.asarray(want))
    squares = biases(fig)
    assert len(squares) == sum(b.size for _, b in params)
    for (c, j), square in squares.items():
        assert square["bgcolor"] == sign_colour_of(float(params[c - 1][1][j]))


def test_links_and_biases_are_the_models_weights_and_follow_a_training_step():
    run = LiveRun(RunConfig(hidden=(8, 8), speed="fast"))
    before_params = run.params_numpy()
    before = figure_of(run)
    assert before["layout"]["title"]["text"].split("<br>")[0] == TITLE
    check_against(before, before_params)
    run.train_steps(100)
    after_params = run.params_numpy()
    after = figure_of(run)
    check_against(after, after_params)
    assert any(b != 0 for _, b in after_params for b in b)  # biases moved off zero
    changed = [
        k
        for k, s in links(after).items()
        if s["line"]["width"] != links(before)[k]["line"]["width"]
    ]
    assert changed  # the picture follows the step
    units = trace(after, "units")
    assert len(units["x"]) == sum(run.spec.sizes)


def test_dead_units_are_marked():
    from playground.core.modelfile import SavedModel
    from tests.live.test_live_stops import dead_net

    run = LiveRun(RunConfig(hidden=(4, 3)))
    run.load(SavedModel(dead_net(), "relu", meta={"step": 0, "problem": "xor"}))
    dead = run.dead_units()
    fig = figure_of(run)
    marks = [a for a in fig["layout"]["annotations"] if a.get("text") == "dead"]
    assert len(marks) == sum(int(d.sum()) for d in dead) > 0


def test_the_gradient_toggle_shows_minus_the_loss_gradient():
    run = LiveRun(RunConfig(problem="spiral", hidden=(6, 5), speed="fast"))
    run.train_steps(30)
    params = run.params_numpy()
    # Independent: jax.grad of the mean training loss at the run's weights.
    x, y = run.data.x_train, run.data.y_train
    grads = jax.grad(model_loss)(
        [(jnp.asarray(w), jnp.asarray(b)) for w, b in params],
        jnp.asarray(x),
        jnp.asarray(y),
        run.spec,
    )
    grads = [(np.asarray(gw), np.asarray(gb)) for gw, gb in grads]
    fig = figure_of(run, gradients=run.loss_gradients())
    drawn = links(fig)
    values = np.asarray(trace(fig, "links")["customdata"], np.float64)
    want = np.array([-grads[la][0][i, j] for la, i, j in drawn])
    np.testing.assert_allclose(values, want, rtol=1e-4, atol=1e-7)
    widths = np.array([s["line"]["width"] for s in drawn.values()])
    assert widths[np.argmax(np.abs(want))] == pytest.approx(LINK_PX[1])  # relative
    for (la, i, j), s in drawn.items():
        assert s["line"]["color"] == sign_colour_of(-float(grads[la][0][i, j]))
    assert "gradient" in fig["layout"]["title"]["text"]


def random_params(sizes, seed=0):
    rng = np.random.default_rng(seed)
    return [
        (rng.normal(size=(a, b)).astype(np.float32), rng.normal(size=b).astype(np.float32))
        for a, b in itertools.pairwise(sizes)
    ]


def test_up_to_eight_layers_of_sixteen_every_unit_and_link_is_drawn():
    params = random_params([2, *[16] * 8, 1])
    fig = network_figure(params, feature_labels=["x₁", "x₂"])
    check_against(fig, params)
    assert "Summary" not in fig["layout"]["title"]["text"]


def test_a_wider_network_is_summarised_by_its_strongest_units_and_links_and_says_so():
    sizes = [2, *[1024] * 8, 1]
    params = random_params(sizes, seed=1)
    fig = network_figure(params, feature_labels=["x₁", "x₂"])
    assert "Summary" in fig["layout"]["title"]["text"]
    drawn = links(fig)
    # Independent: per hidden layer the units with the largest sum of |w| in and out.
    shown = {0: set(range(2)), 9: {0}}
    for c in range(1, 9):
        strength = np.abs(params[c - 1][0]).sum(axis=0) + np.abs(params[c][0]).sum(axis=1)
        shown[c] = set(np.argsort(-strength)[:MAX_SHOWN_UNITS].tolist())
    for layer in range(9):
        mine = {(i, j) for la, i, j in drawn if la == layer}
        assert {i for i, _ in mine} <= shown[layer] and {j for _, j in mine} <= shown[layer + 1]
        pool = [(i, j) for i in shown[layer] for j in shown[layer + 1]]
        size = {p: abs(float(params[layer][0][p])) for p in pool}
        strongest = set(sorted(pool, key=lambda p: -size[p])[:SUMMARY_LINKS])
        assert mine == strongest
    assert len(trace(fig, "units")["x"]) == 2 + 8 * MAX_SHOWN_UNITS + 1


def test_broken_weights_draw_without_a_crash():
    params = random_params([2, 3, 1])
    params[0][0][0, 0] = np.nan
    params[0][0][1, 2] = np.inf
    params[1][1][0] = np.nan
    fig = network_figure(params, feature_labels=["x₁", "x₂"])
    drawn = links(fig)
    assert drawn[(0, 0, 0)]["line"]["color"] == ZERO_COLOUR
    assert drawn[(0, 0, 0)]["line"]["width"] == LINK_PX[0]
    assert biases(fig)[(2, 0)]["bgcolor"] == ZERO_COLOUR
    text = " ".join(trace(fig, "links")["text"])
    assert "not a number" in text


def test_every_unit_and_link_carries_the_id_a_click_reports():
    params = random_params([2, 3, 2, 1])
    fig = network_figure(params, feature_labels=["x₁", "x₂"], picked=(2, 1))
    go.Figure(fig)
    units = trace(fig, "units")
    want = [f"{c} {j}" for c, n in enumerate([2, 3, 2, 1]) for j in range(n)]
    assert units["ids"] == want
    link_shapes = [s["name"] for s in fig["layout"]["shapes"] if s["name"].startswith("link ")]
    assert [f"link {i}" for i in trace(fig, "links")["ids"]] == link_shapes
    (outline,) = [s for s in fig["layout"]["shapes"] if s["name"] == "picked"]
    k = want.index("2 1")  # drawn around that unit's node
    assert (outline["xanchor"], outline["yanchor"]) == (units["x"][k], units["y"][k])
    assert outline["x0"] < 0 < outline["x1"] and outline["y0"] < 0 < outline["y1"]
    assert not [s for s in network_figure(params, feature_labels=["x₁", "x₂"])["layout"]["shapes"]
                if s["name"] == "picked"]  # fmt: skip
