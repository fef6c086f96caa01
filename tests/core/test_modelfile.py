"""The .npz model file: round trip with identical predictions; hostile files refused."""

import io

import numpy as np
import pytest

from playground.core.config import RunConfig
from playground.core.errors import PlaygroundError
from playground.core.modelfile import SavedModel, load_model, save_model
from playground.live.session.live_run import LiveRun


def npz(**arrays) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def test_save_load_gives_identical_predictions():
    run = LiveRun(RunConfig(hidden=(6, 5), features=("x1", "x2", "x1x2"), activation="tanh"))
    run.train_steps(32)
    data = save_model(run.saved_model())
    model = load_model(data)
    assert model.activation == "tanh" and model.features == ("x1", "x2", "x1x2")
    assert model.hidden == (6, 5) and model.meta["step"] == 32
    fresh = LiveRun(run.cfg)
    fresh.load(model)
    pts = np.random.default_rng(0).uniform(-6, 6, (200, 2)).astype(np.float32)
    np.testing.assert_array_equal(fresh.predict(pts), run.predict(pts))
    with np.load(io.BytesIO(data), allow_pickle=False) as z:
        assert {"W0", "b0", "W2", "b2", "activation", "features"} <= set(z.files)
        assert z["W0"].shape == (3, 6)


GOOD = {"W0": np.ones((2, 3)), "b0": np.zeros(3), "W1": np.ones((3, 1)), "b1": np.zeros(1)}


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"", "not a model file"),
        (b"\x00\x01binary", "not a model file"),
        (b"PK\x03\x04broken zip", "cannot be read"),
        (npz(activation=np.array("relu")), "no layers"),
        (npz(**{**GOOD, "W1": np.ones((4, 1))}, activation=np.array("relu")), "W1 takes 4"),
        (
            npz(
                W0=GOOD["W0"],
                b0=GOOD["b0"],
                W2=GOOD["W1"],
                b2=GOOD["b1"],
                activation=np.array("relu"),
            ),
            "numbered",
        ),
        (npz(**{**GOOD, "b0": np.zeros(4)}, activation=np.array("relu")), "b0"),
        (npz(**{**GOOD, "W0": np.full((2, 3), np.nan)}, activation=np.array("relu")), "NaN"),
        (npz(**GOOD), "activation"),
        (npz(**GOOD, activation=np.array("swish")), "unknown activation"),
        (npz(**GOOD, activation=np.array("relu"), features=np.array(["x1", "rm"])), "unknown"),
        (npz(**GOOD, activation=np.array("relu"), features=np.array(["x1"])), "features"),
        (
            npz(**{**GOOD, "W0": np.array([["a", "b", "c"]] * 2)}, activation=np.array("relu")),
            "numbers",
        ),
        (
            npz(
                **{**GOOD, "W0": np.ones((2, 2000)), "b0": np.zeros(2000)},
                activation=np.array("relu"),
            ),
            "1 to 1024",
        ),
    ],
)
def test_hostile_files_are_refused_with_a_reason(data, words):
    with pytest.raises(PlaygroundError, match=words):
        load_model(data)


def test_pickled_arrays_are_never_loaded():
    data = npz(**GOOD, activation=np.array("relu"), meta=np.array([{"a": 1}], dtype=object))
    with pytest.raises(PlaygroundError, match="cannot be read"):
        load_model(data)


def test_a_file_for_another_architecture_is_refused_by_the_run():
    run = LiveRun(RunConfig(hidden=(8, 8)))
    other = SavedModel(
        [
            (np.ones((2, 4), np.float32), np.zeros(4, np.float32)),
            (np.ones((4, 1), np.float32), np.zeros(1, np.float32)),
        ],
        "relu",
    )
    with pytest.raises(PlaygroundError, match="adopt"):
        run.load(other)
