"""The Bends & regions page through AppTest: it renders with and without a Playground run,
shows the exact region count of the session's network, and its selectors work.

The live figures are ``live_plot`` components: their data (figure spec, arrays) is read
from the element's proto; the sweep chart is a plain ``st.plotly_chart``.
"""

import json
import time
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from playground.analysis.geometry import max_regions_one_layer, region_count
from playground.core.datasets import BOX
from playground.figures.style import SLOPE_SCALE
from playground.ui.live_plot import decode_array

APP = str(Path(__file__).resolve().parents[2] / "streamlit_app.py")
PAGE = "app_pages/bends_regions.py"


def page_app() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=180)
    at.switch_page(PAGE)
    at.run()
    return at


def no_errors(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def button(at: AppTest, label: str):
    (found,) = [b for b in at.button if b.label == label]
    return found


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def shown_regions(at: AppTest) -> int:
    return int(metrics(at)["Regions in view"].replace(",", ""))


def live(at: AppTest, key: str) -> dict:
    """The data the live_plot ``key`` sent in the last run."""
    sent = [json.loads(e.proto.json) for e in at.get("bidi_component")]
    (data,) = [d for d in sent if d.get("key") == key]
    return data


def exact_count(at: AppTest, box=BOX) -> int:
    run = at.session_state["run"]
    return region_count(run.params_numpy(), run.spec.activation, box)


def test_fresh_session_starts_its_own_run_and_counts_exactly():
    at = page_app()
    no_errors(at)
    assert "run" in at.session_state
    assert {"Play", "Step", "Reset"} <= {b.label for b in at.button}
    m = metrics(at)
    assert "Epoch" in m
    assert shown_regions(at) == exact_count(at)
    width = at.session_state["run"].spec.hidden[0]
    assert m[f"Most for one layer of H = {width}"] == str(max_regions_one_layer(width))
    data = live(at, "br_regions")
    fig = json.loads(data["fig"])
    names = [t.get("name") for t in fig["data"]]
    assert names[:4] == ["regions", "unit on", "bends of layer 1", "bends of layer 2"]
    assert "customdata" in fig["data"][0] and "pattern L1" in fig["data"][0]["hovertemplate"]
    assert decode_array(data["arrays"]["regions.z"]).shape[0] >= 96
    story = " ".join(md.value for md in at.markdown)
    assert "1 + H + C(H, 2)" in story and "regions in all" in story


def test_shows_and_trains_the_playground_run():
    at = AppTest.from_file(APP, default_timeout=180)
    at.run()  # the Playground page
    no_errors(at)
    at.select_slider(key="cfg_width").set_value(4).run()
    run = at.session_state["run"]
    run.train_steps(300)
    at.switch_page(PAGE).run()
    no_errors(at)
    assert at.session_state["run"] is run and run.spec.hidden == (4, 4)
    assert metrics(at)["Most for one layer of H = 4"] == "11"
    assert shown_regions(at) == exact_count(at)
    step = run.step
    button(at, "Step").click().run()  # one epoch more, same network
    no_errors(at)
    assert at.session_state["run"] is run and run.step > step
    assert shown_regions(at) == exact_count(at)


def test_colour_highlight_and_zoom_selectors():
    at = page_app()
    at.radio(key="br_colour").set_value("slope").run()
    no_errors(at)
    heat = json.loads(live(at, "br_regions")["fig"])["data"][0]
    assert heat["colorscale"] == SLOPE_SCALE and heat["colorbar"]["title"]["text"]

    at.selectbox(key="br_unit").set_value((0, 1)).run()
    no_errors(at)
    data = live(at, "br_regions")
    traces = json.loads(data["fig"])["data"]
    (lit,) = [t for t in traces if "layer 1, unit 2" in (t.get("name") or "")]
    assert lit["showlegend"] is True
    assert np.isfinite(decode_array(data["arrays"][f"{lit['uid']}.x"])).sum() >= 2  # its bend

    at.select_slider(key="br_zoom").set_value(30).run()
    no_errors(at)
    fig = json.loads(live(at, "br_regions")["fig"])
    assert fig["layout"]["xaxis"]["range"] == [-30, 30]
    assert shown_regions(at) == exact_count(at, (-30.0, 30.0, -30.0, 30.0))


def test_hidden_space_layer_and_unit_selectors():
    at = page_app()
    at.radio(key="br_section").set_value("hidden").run()
    no_errors(at)
    fig = json.loads(live(at, "br_hidden")["fig"])
    assert fig["layout"]["xaxis2"]["title"]["text"] == "unit 1"
    at.selectbox(key="br_layer").set_value(1).run()
    at.selectbox(key="br_unit_a").set_value(3).run()
    at.selectbox(key="br_unit_b").set_value(5).run()
    at.radio(key="br_stage").set_value("pre").run()
    no_errors(at)
    fig = json.loads(live(at, "br_hidden")["fig"])
    right = fig["layout"]["annotations"][1]["text"]
    assert "layer 2: unit 4 vs unit 6, before" in right
    at.selectbox(key="br_unit_b").set_value(3).run()  # the same unit twice: said, not raised
    no_errors(at)
    assert any("two different units" in i.value for i in at.info)


@pytest.mark.parametrize(
    ("widget", "value"),
    [("cfg_features", ["x1", "x2", "x1sq"]), ("cfg_activation", "tanh")],
)
def test_curved_features_or_smooth_activation_show_the_estimate(widget, value):
    at = page_app()
    kind = at.multiselect if widget == "cfg_features" else at.selectbox
    kind(key=widget).set_value(value).run()
    no_errors(at)
    notices = " ".join(i.value for i in at.info)
    assert "Estimate." in notices and "estimate from a grid" in notices
    (label,) = [k for k in metrics(at) if k.startswith("Regions in view")]
    assert label == "Regions in view (estimate)" and metrics(at)[label].startswith("≈ ")


def test_sweep_runs_once_and_is_kept_in_the_session():
    at = page_app()
    at.radio(key="br_section").set_value("sweep").run()
    no_errors(at)
    assert "br_sweep" not in at.session_state
    at.multiselect(key="br_sweep_widths").set_value([1, 4])
    at.multiselect(key="br_sweep_depths").set_value([1])
    at.select_slider(key="br_sweep_steps").set_value(250)
    at.number_input(key="br_sweep_seeds").set_value(1)
    button(at, "Run the sweep").click().run()
    no_errors(at)
    _, result, _ = at.session_state["br_sweep"]
    assert result.widths == (1, 4) and result.depths == (1,) and result.steps == 250
    assert np.isfinite(result.test_metric).all() and (result.regions >= 2).all()
    (chart,) = at.get("plotly_chart")
    fig = json.loads(chart.proto.spec)
    assert fig["layout"]["xaxis"]["type"] == "log"
    at.run()  # a rerun draws the kept result, it does not train again
    assert at.session_state["br_sweep"][1] is result
    assert len(at.get("plotly_chart")) == 1


def test_play_trains_in_the_fragment_and_drops_the_hover_data():
    at = page_app()
    button(at, "Play").click().run()
    no_errors(at)
    assert at.session_state["playing"] is True and button(at, "Pause")
    fig = json.loads(live(at, "br_regions")["fig"])
    assert "customdata" not in fig["data"][0] and "pause" in fig["data"][0]["hovertemplate"]
    step = at.session_state["run"].step
    for _ in range(240):  # the background trainer works between reruns (frames)
        at.run()
        if at.session_state["run"].step > step:
            break
        time.sleep(0.5)
    assert at.session_state["run"].step > step
    frame = live(at, "br_regions")
    assert "fig" not in frame and "regions.z" in frame["arrays"]  # only the moving arrays
    button(at, "Pause").click().run()
    assert at.session_state["playing"] is False
    assert shown_regions(at) == exact_count(at)  # paused: the drawn net is the current one
    assert "customdata" in json.loads(live(at, "br_regions")["fig"])["data"][0]
