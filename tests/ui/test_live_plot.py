"""Python side of playground.ui.live_plot: the compact array codec and what each rerun sends.

The codec is checked against a decoder that mirrors the renderer's
(live_plot_js/codec.js); the wire behaviour (figure spec and renderer once, then only
changed arrays) through AppTest, reading the component's ``data`` from its proto.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import pytest
from streamlit.testing.v1 import AppTest

from playground.ui.live_plot import decode_array, encode_floats, encode_grid, live_plot

# --- codec ---------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(5))
def test_grid_round_trip_within_one_level(seed: int) -> None:
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(37, 53)) * 10 ** rng.uniform(-3, 3)
    vmin, vmax = float(z.min()), float(z.max())
    back = decode_array(encode_grid(z, vmin, vmax))
    assert back.shape == z.shape
    assert np.max(np.abs(back - z)) <= (vmax - vmin) / 255


def test_grid_clips_to_range_and_keeps_nan() -> None:
    z = np.array([[-5.0, 0.0, 5.0], [np.nan, 0.5, np.inf]])
    back = decode_array(encode_grid(z, -1.0, 1.0))
    assert back[0, 0] == -1.0 and back[0, 2] == 1.0 and back[1, 2] == 1.0
    assert np.isnan(back[1, 0]) and not np.isnan(back[1, 1:]).any()
    assert abs(back[0, 1]) <= 2 / 255


def test_grid_defaults_to_finite_range_and_constant_grid() -> None:
    z = np.array([[1.0, 2.0], [3.0, np.nan]])
    enc = encode_grid(z)
    assert (enc["lo"], enc["hi"]) == (1.0, 3.0)
    assert np.array_equal(decode_array(encode_grid(np.full((2, 2), 7.0))), np.full((2, 2), 7.0))


def test_grid_payload_is_compact() -> None:
    enc = encode_grid(np.zeros((100, 100)), -1, 1)
    assert len(enc["b64"]) == 4 * -(-10_000 // 3)  # 10 000 bytes in base64: 13 336 chars
    assert len(json.dumps(enc)) < 13_500


def test_grid_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="2D"):
        encode_grid(np.zeros(5))
    with pytest.raises(ValueError, match="vmin <= vmax"):
        encode_grid(np.zeros((2, 2)), 1.0, 0.0)


def test_floats_32_are_exact_float32() -> None:
    a = np.random.default_rng(0).normal(size=1000)
    back = decode_array(encode_floats(a))
    assert back.dtype == np.float32
    assert np.array_equal(back, a.astype(np.float32))
    assert len(encode_floats(a)["b64"]) == 5336


def test_floats_16_round_within_half_a_level() -> None:
    a = np.concatenate([np.linspace(-3, 8, 999), [np.nan]])
    enc = encode_floats(a, bits=16)
    back = decode_array(enc)
    assert np.isnan(back[-1])
    err = np.max(np.abs(back[:-1].astype(np.float64) - a[:-1]))
    assert err <= 11 / 131068 + 1e-5  # half a level, plus float32 rounding of the result
    assert len(enc["b64"]) < 2700


def test_floats_reject_bad_input() -> None:
    with pytest.raises(ValueError):
        encode_floats(np.zeros((2, 2, 2)))
    with pytest.raises(ValueError):
        encode_floats(np.zeros(3), bits=8)  # type: ignore[arg-type]


# --- what each rerun sends (AppTest) ---------------------------------------------------


def _app() -> None:
    import numpy as np
    import plotly.graph_objects as go
    import streamlit as st
    from streamlit.runtime import Runtime

    from playground.ui.live_plot import _forget, encode_floats, encode_grid, live_plot

    tick = st.session_state.setdefault("tick", 0)
    st.session_state.tick = tick + 1
    fig = go.Figure()
    fig.add_heatmap(z=[[0.0]], colorscale="RdBu", uid="heat")  # z: arrays["heat.z"]
    fig.add_scatter(mode="lines", uid="line")
    fig.update_layout(title=st.session_state.get("title", "t"))
    live_plot(
        fig,
        key="k",
        height=300,
        arrays={
            "heat.z": encode_grid(np.full((4, 5), float(tick)), 0, 10),
            "line.x": encode_floats(np.arange(3.0)),
            "line.y": encode_floats(np.arange(3.0) * tick),
        },
    )
    st.button("forget", on_click=_forget, args=("k",))
    registry = Runtime.instance().bidi_component_registry
    st.session_state.vendor_dir = registry.get_component_path("playground_vendor.plotly")
    st.session_state.renderer_dir = registry.get_component_path("playground_live_plot.renderer")


def _sent(at: AppTest) -> dict:
    (el,) = [e for e in at.main if getattr(e, "type", None) == "bidi_component"]
    return json.loads(el.proto.json)


@pytest.fixture
def at() -> AppTest:
    at = AppTest.from_function(_app, default_timeout=30)
    at.run()
    assert not at.exception
    return at


def test_first_run_sends_figure_renderer_and_all_arrays(at: AppTest) -> None:
    data = _sent(at)
    assert data["key"] == "k" and data["height"] == 300
    assert sorted(data["paths"]) == ["heat.z", "line.x", "line.y"]
    assert sorted(data["arrays"]) == ["heat.z", "line.x", "line.y"]
    assert data["module"].startswith(
        "/_stcore/bidi-components/playground_live_plot.renderer/main.js?v="
    )
    assert data["lib"].startswith("/_stcore/bidi-components/playground_vendor.plotly/")
    fig = json.loads(data["fig"])
    # The live arrays are stripped from the spec; everything else is kept.
    assert "z" not in fig["data"][0] and fig["data"][0]["type"] == "heatmap"
    assert fig["layout"]["title"]["text"] == "t"
    assert at.session_state.vendor_dir.endswith("package_data")
    # The renderer's modules are served from their folder, the entry exporting it.
    served = Path(at.session_state.renderer_dir)
    assert "export default function liveplot" in (served / "main.js").read_text()


def test_later_runs_send_only_changed_arrays(at: AppTest) -> None:
    first = _sent(at)
    at.run()
    data = _sent(at)
    assert not {"fig", "module", "lib"} & set(data)
    assert sorted(data["arrays"]) == ["heat.z", "line.y"]  # line.x did not change
    # Every frame names the digest of every array, so the browser can spot a lost one.
    assert data["paths"]["line.x"] == first["paths"]["line.x"]
    assert data["paths"]["line.y"] != first["paths"]["line.y"]
    assert data["spec"] == first["spec"]
    assert len(json.dumps(data)) < 1000


def test_layout_change_resends_spec_only(at: AppTest) -> None:
    at.session_state.title = "new"
    at.run()
    data = _sent(at)
    assert json.loads(data["fig"])["layout"]["title"]["text"] == "new"
    assert sorted(data["arrays"]) == ["heat.z", "line.y"]


def test_resync_resends_everything(at: AppTest) -> None:
    at.button[0].click().run()  # the same callback the browser's "resync" trigger runs
    data = _sent(at)
    assert {"fig", "module", "lib"} <= set(data)
    assert sorted(data["arrays"]) == ["heat.z", "line.x", "line.y"]


def test_bad_paths_are_refused() -> None:
    fig = go.Figure([go.Scatter(uid="line"), go.Scatter()])
    # No prop, a uid no trace has, a trace index (paths name traces by uid), a bad prop.
    for path in ("z", "line", "other.x", "0.x", "1.x", "line.x-y"):
        with pytest.raises(ValueError):
            live_plot(fig, key="bad", arrays={path: encode_floats(np.zeros(2))})
    twice = go.Figure([go.Scatter(uid="line"), go.Scatter(uid="line")])
    with pytest.raises(ValueError, match="same uid"):
        live_plot(twice, key="bad", arrays={"line.x": encode_floats(np.zeros(2))})


def test_arrays_follow_their_trace_wherever_it_is() -> None:
    """A trace added before the live ones moves no array: the spec strips the same
    traces' properties."""
    from playground.ui.live_plot import spec_json

    arrays = {"heat.z": encode_grid(np.zeros((2, 2)), 0, 1)}
    plain = [go.Heatmap(z=[[1.0]], uid="heat"), go.Scatter(x=[1.0], uid="line")]
    for fig in (go.Figure(plain), go.Figure([go.Scatter(x=[2.0]), *plain])):
        spec = json.loads(spec_json(fig, arrays, ["line", "heat"]))
        by_uid = {t.get("uid"): t for t in spec["data"]}
        assert "z" not in by_uid["heat"] and by_uid["line"]["x"] == [1.0]
        assert spec["canvas"] == ["heat", "line"]


# --- canvas traces and frames ------------------------------------------------------


def _frames_app() -> None:
    import numpy as np
    import plotly.graph_objects as go
    import streamlit as st

    from playground.ui.live_plot import encode_floats, encode_grid, live_plot

    fig = go.Figure()
    fig.add_heatmap(z=[[0.0]], uid="heat")
    fig.add_scatter(mode="lines", uid="line")
    fig.add_scatter(mode="markers", x=[0.0], y=[0.0])
    base = st.session_state.setdefault("base", 0)
    st.session_state.base = base + 3

    def picture(k: int) -> dict:
        return {
            "heat.z": encode_grid(np.full((3, 3), float(k)), 0, 100),
            "line.x": encode_floats(np.array([k, k + 1.0])),
            "line.y": encode_floats(np.array([0.0, 1.0])),
        }

    frames = [
        {"seq": base + i, "t": 0.05 * (base + i), "label": f"p{base + i}", "arrays": picture(i)}
        for i in range(1, 4)
    ]
    live_plot(fig, key="f", arrays=frames[-1]["arrays"], canvas=["line", "heat"], frames=frames)


def test_frames_carry_the_newest_arrays_once() -> None:
    at = AppTest.from_function(_frames_app, default_timeout=30).run()
    assert not at.exception
    data = _sent(at)
    assert json.loads(data["fig"])["canvas"] == ["heat", "line"]  # in trace order
    assert [f["seq"] for f in data["frames"]] == [1, 2, 3]
    assert [f["label"] for f in data["frames"]] == ["p1", "p2", "p3"]
    assert "arrays" not in data  # the last frame is the state: not sent a second time
    assert sorted(data["paths"]) == ["heat.z", "line.x", "line.y"]
    assert decode_array(data["frames"][0]["arrays"]["heat.z"])[0, 0] == pytest.approx(1, abs=0.5)
    # line.y is the same in every picture: sent once, then carried over by the browser.
    assert [sorted(f["arrays"]) for f in data["frames"]] == [
        ["heat.z", "line.x", "line.y"],
        ["heat.z", "line.x"],
        ["heat.z", "line.x"],
    ]
    at.run()
    again = _sent(at)
    assert [f["seq"] for f in again["frames"]] == [4, 5, 6] and "fig" not in again
    # The browser holds line.y already (the record says so): no frame sends it again.
    assert [sorted(f["arrays"]) for f in again["frames"]] == [["heat.z", "line.x"]] * 3
    assert "arrays" not in again


def test_bad_canvas_and_frames_are_refused() -> None:
    fig = go.Figure([go.Heatmap(uid="heat"), go.Scatter(mode="lines", uid="line")])
    grid = encode_grid(np.zeros((2, 2)), 0, 1)
    other = encode_grid(np.ones((2, 2)), 0, 1)
    with pytest.raises(ValueError, match="canvas trace 'nope'"):
        live_plot(fig, key="c", canvas=["nope"])
    frame = {"seq": 1, "t": 0.0, "label": "", "arrays": {"heat.z": grid}}
    with pytest.raises(ValueError, match="not on a canvas trace"):
        live_plot(fig, key="c", arrays={"heat.z": grid}, canvas=["line"], frames=[frame])
    with pytest.raises(ValueError, match="differs"):
        live_plot(fig, key="c", arrays={"heat.z": other}, canvas=["heat"], frames=[frame])
    with pytest.raises(ValueError, match="increase"):
        live_plot(fig, key="c", arrays={"heat.z": grid}, canvas=["heat"], frames=[frame, frame])


def test_plotly_comes_from_the_apps_own_route_where_it_is_served(monkeypatch) -> None:
    import streamlit as st

    from playground.live.server import startup, vendor
    from playground.ui.live_plot import plotly_js_url

    monkeypatch.setattr(startup, "ROUTES_SERVED", True)
    assert plotly_js_url() == vendor.PLOTLY_PATH
    monkeypatch.setattr(st, "get_option", lambda name: "/course/" if "baseUrl" in name else None)
    assert plotly_js_url() == "/course" + vendor.PLOTLY_PATH
    monkeypatch.setattr(startup, "ROUTES_SERVED", False)  # AppTest, a test's small app
    assert plotly_js_url().startswith("/course/_stcore/bidi-components/playground_vendor.plotly/")
