"""The Playground's "Network" figure and "Edit a weight" box through AppTest (issue 22):
the figure sent is the run's weights; an edit through the page equals the same edit
through ``core.model`` (predictions, boundary, loss); bad edits are refused in words."""

import json

import numpy as np
import pytest

from playground.core.config import RunConfig
from playground.core.errors import PlaygroundError
from playground.core.model import EDIT_LIMIT, edited_params, params_to_device
from playground.core.modelfile import SavedModel
from playground.core.train import model_loss, predict
from playground.figures.readouts import fmt
from playground.live.session.live_run import LiveRun
from playground.ui.live_plot import decode_array
from playground.ui.live_view import GRID_N
from tests.figures.test_network_figure import check_against
from tests.pages.test_playground_page import _boundary_data, app, button, metric, no_exceptions


def network_sent(at) -> dict:
    """The figure of the last "network" chart message that carried one."""
    for el in at.main:
        if getattr(el, "type", None) == "bidi_component":
            data = json.loads(el.proto.json)
            if data.get("key") == "network" and "fig" in data:
                return json.loads(data["fig"])
    raise AssertionError("no network figure sent")


def test_the_playground_shows_the_network_of_its_run():
    at = app(hidden="4,3")
    no_exceptions(at)
    fig = network_sent(at)
    assert fig["layout"]["title"]["text"].split("<br>")[0] == "Network"
    check_against(fig, at.session_state["run"].params_numpy())
    button(at, "Step").click().run()
    fig = network_sent(at)
    check_against(fig, at.session_state["run"].params_numpy())  # after a step: new weights
    at.toggle(key="network_gradients").set_value(True).run()
    no_exceptions(at)
    assert "gradient" in network_sent(at)["layout"]["title"]["text"]


def _points() -> np.ndarray:
    g = np.linspace(-6, 6, 15, dtype=np.float32)
    return np.stack(np.meshgrid(g, g), axis=-1).reshape(-1, 2)


def test_editing_a_weight_on_the_page_equals_the_same_edit_in_core_model():
    at = app(hidden="4,3")
    button(at, "Step").click().run()
    run = at.session_state["run"]
    before = run.params_numpy()
    at.selectbox(key="edit_layer").set_value(1).run()
    at.selectbox(key="edit_unit").set_value(2).run()
    at.selectbox(key="edit_source").set_value(3).run()
    assert [n.label for n in at.number_input if n.key == "edit_value"] == ["Weight"]
    assert at.number_input(key="edit_value").value == pytest.approx(float(before[1][0][3, 2]))
    at.number_input(key="edit_value").set_value(1.25).run()
    no_exceptions(at)
    run = at.session_state["run"]
    want = edited_params(before, 1, 2, 3, 1.25)
    x = _points()
    reference = np.asarray(predict(params_to_device(want), x, run.spec))
    np.testing.assert_allclose(run.predict(x), reference, rtol=1e-6, atol=1e-7)
    # The numbers and the boundary show the edited network in the same rerun.
    test_loss = float(
        model_loss(params_to_device(want), run.data.x_test, run.data.y_test, run.spec)
    )
    assert run.metrics.test_loss == pytest.approx(test_loss, rel=1e-5)
    assert metric(at, "Test loss") == fmt(run.metrics.test_loss)
    shown = LiveRun(RunConfig(hidden=(4, 3)))
    shown.load(SavedModel(want, "relu", meta={"step": run.step}))
    z = decode_array(_boundary_data(at)["arrays"]["surface.z"])
    assert np.abs(z - shown.output_grid(GRID_N)[2]).max() < 1 / 250
    check_against(network_sent(at), want)

    # A bias, the output layer's included.
    at.selectbox(key="edit_layer").set_value(2).run()
    at.selectbox(key="edit_unit").set_value(0).run()
    at.selectbox(key="edit_source").set_value(None).run()
    assert [n.label for n in at.number_input if n.key == "edit_value"] == ["Bias"]
    at.number_input(key="edit_value").set_value(-0.5).run()
    no_exceptions(at)
    want = edited_params(want, 2, 0, None, -0.5)
    reference = np.asarray(predict(params_to_device(want), x, run.spec))
    np.testing.assert_allclose(at.session_state["run"].predict(x), reference, rtol=1e-6, atol=1e-7)


def test_the_edit_box_asks_to_pause_while_playing():
    at = app(hidden="4,3")
    button(at, "Play").click().run()
    no_exceptions(at)
    assert any("Pause to edit a weight" in c.value for c in at.caption)
    assert not [n for n in at.number_input if n.key == "edit_value"]


@pytest.mark.parametrize(
    ("layer", "unit", "source", "value", "words"),
    [
        (0, 0, 0, float("nan"), "a weight or bias must be a number between"),
        (0, 0, 0, 10 * EDIT_LIMIT, "a weight or bias must be a number between"),
        (5, 0, 0, 1.0, "there is no layer 6"),
        (0, 9, 0, 1.0, "there is no unit 10"),
        (0, 0, 7, 1.0, "there is no input 8"),
        (0, 0, 0, "abc", "is not a number"),
    ],
)
def test_a_bad_edit_is_refused_in_words_and_leaves_the_run_as_it_was(
    layer, unit, source, value, words
):
    run = LiveRun(RunConfig(hidden=(4, 3)))
    before = run.params_numpy()
    with pytest.raises(PlaygroundError, match=words):
        run.edit(layer, unit, source, value)
    for (w0, b0), (w1, b1) in zip(before, run.params_numpy(), strict=True):
        np.testing.assert_array_equal(w0, w1)
        np.testing.assert_array_equal(b0, b1)


def test_edited_params_changes_one_number_and_copies_the_rest():
    params = LiveRun(RunConfig(hidden=(4, 3))).params_numpy()
    out = edited_params(params, 0, 1, None, 0.75)
    assert out[0][1][1] == np.float32(0.75) and out[0][1].dtype == params[0][1].dtype
    mask = np.ones_like(params[0][1], bool)
    mask[1] = False
    np.testing.assert_array_equal(out[0][1][mask], params[0][1][mask])
    assert params[0][1][1] != np.float32(0.75)  # the input is not touched


def test_a_picked_unit_is_outlined_drawn_thick_on_the_boundary_and_shown_in_the_editor():
    """The pick a click makes (``picks.PICK``): the Network outlines the unit, the
    boundary sends the unit's own exact bend for its thick trace and says what it is,
    and "Edit a weight" shows its bias; the editor's boxes pick in turn."""
    at = app(hidden="4,3")
    button(at, "Step").click().run()
    at.session_state["picked"] = (0, 2, None)  # unit 3 of layer 1
    at.run()
    no_exceptions(at)
    fig = network_sent(at)
    outline = [s for s in fig["layout"]["shapes"] if s["name"] == "picked"]
    assert len(outline) == 1 and outline[0]["xanchor"] == 1  # around a unit of layer 1
    assert any("the bend of unit 3 of layer 1" in c.value for c in at.caption)
    data = _boundary_data(at)
    fig_b = json.loads(data["fig"]) if "fig" in data else None
    names = [t.get("name") for t in fig_b["data"]] if fig_b else []
    assert names[-1] == "the picked unit's bend" and fig_b["data"][-1]["uid"] == "picked"
    run = at.session_state["run"]
    (w, b), *_ = run.params_numpy()
    x = decode_array(data["arrays"]["picked.x"])
    y = decode_array(data["arrays"]["picked.y"])
    ok = np.isfinite(x) & np.isfinite(y)
    assert ok.sum() >= 2  # on its line w·p + b = 0, within the wire's 16-bit rounding
    np.testing.assert_allclose(w[0, 2] * x[ok] + w[1, 2] * y[ok] + b[2], 0, atol=1e-2)
    assert at.selectbox(key="edit_layer").value == 0 and at.selectbox(key="edit_unit").value == 2
    # The keyboard's way: the editor's boxes pick unit 1 of layer 2.
    at.selectbox(key="edit_layer").set_value(1).run()
    at.selectbox(key="edit_unit").set_value(0).run()
    no_exceptions(at)
    assert at.session_state["picked"] == (1, 0, None)
    assert any("the bend of unit 1 of layer 2" in c.value for c in at.caption)
