"""The network as code (``lessons.export_code``): the JAX snippet, executed by a fresh
Python as a notebook would run it, reproduces the app's predictions on a grid; the Keras
snippet (no TensorFlow here) has the right layers, activations and weight order, and,
run against a small stand-in for Keras's ``Sequential``/``Dense``, predicts the same."""

import ast
import json
import subprocess
import sys
import types

import numpy as np
import pytest

from playground.core.config import RunConfig
from playground.core.datasets import grid_points
from playground.core.features import FEATURES, feature_map
from playground.core.model import ACTIVATIONS
from playground.core.modelfile import save_model
from playground.lessons import export_code, to_code
from playground.live.engine import run as engine
from playground.live.engine.compile_cache import enable_compile_cache

enable_compile_cache()

NETWORKS = {
    "xor_relu": RunConfig(problem="xor", hidden=(8, 8)),
    "spiral_tanh_features": RunConfig(
        problem="spiral", classes=3, hidden=(6, 5), activation="tanh",
        features=("x1", "x2", "x1sq", "x2sq", "x1x2", "sinx1", "sinx2"),
    ),
    "product_leaky": RunConfig(problem="product", hidden=(7,), activation="leaky_relu"),
    "moons_gelu": RunConfig(problem="moons", hidden=(4, 4, 4), activation="gelu"),
    "circle_sigmoid": RunConfig(problem="circle", hidden=(5,), activation="sigmoid"),
    "gauss_linear_layers": RunConfig(problem="gauss", hidden=(3,), activation="linear"),
    "linear_model": RunConfig(problem="sum", hidden=()),
}  # fmt: skip
GRID = 40


@pytest.fixture(scope="module")
def trained():
    """Each network trained a little, its app predictions on a grid, and its spec."""
    out = {}
    for name, cfg in NETWORKS.items():
        run, _ = engine.train(engine.new_run(cfg), steps=32)
        xs, ys, pred = engine.output_grid(run, GRID)
        out[name] = (run, grid_points(xs, ys), pred.reshape(GRID * GRID, -1))
    return out


RUNNER = """
import contextlib, json, os, sys
import numpy as np
jobs = json.loads(sys.argv[1])
for name, path, points in jobs:
    os.chdir(os.path.dirname(path))  # the model's folder, as a notebook beside it
    namespace = {"__name__": "__main__"}
    with open("printed.txt", "w") as printed, contextlib.redirect_stdout(printed):
        exec(open(path).read(), namespace)  # the snippet as pasted, example print included
    out = namespace["predict"](namespace["params"], np.load(points))
    np.save(points.replace("points", "prediction"), np.asarray(out))
"""


@pytest.mark.slow
def test_the_jax_code_reproduces_the_apps_predictions(trained, tmp_path):
    jobs = []
    for name, (run, pts, _) in trained.items():
        file_name = export_code.model_file_name(run.cfg.problem)
        folder = tmp_path / name
        folder.mkdir()
        (folder / file_name).write_bytes(save_model(engine.saved_model(run)))
        code = export_code.jax_code(run.spec, file_name, run.cfg.problem)
        compile(code, name, "exec")
        (folder / "snippet.py").write_text(code)
        np.save(folder / "points.npy", pts)
        jobs.append((name, str(folder / "snippet.py"), str(folder / "points.npy")))
    # One fresh interpreter for all (each pays a JAX import): every snippet in a namespace
    # of its own, run from its model's folder as a notebook would be.
    done = subprocess.run(
        [sys.executable, "-c", RUNNER, json.dumps(jobs)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    for name, (_, _, app) in trained.items():
        printed = (tmp_path / name / "printed.txt").read_text()
        assert "[" in printed, name  # the example line printed two predictions
        ours = np.load(tmp_path / name / "prediction.npy").reshape(app.shape)
        np.testing.assert_allclose(ours, app, atol=1e-5, err_msg=name)


def test_the_lesson_runs_the_jax_code_as_the_page_shows_it(trained):
    run, pts, app = trained["xor_relu"]
    ours = to_code.run_jax_code(engine.saved_model(run), pts, run.cfg.problem)
    np.testing.assert_allclose(ours.reshape(app.shape), app, atol=1e-5)
    assert to_code.check_on_grid(run) < 1e-5


def test_tables_cover_every_feature_and_activation():
    assert set(export_code.FEATURE_CODE) == set(FEATURES)
    assert set(export_code.JAX_ACTIVATIONS) == set(ACTIVATIONS)
    assert set(export_code.KERAS_ACTIVATIONS) == set(ACTIVATIONS)
    x = np.random.default_rng(0).uniform(-6, 6, (50, 2))
    x1, x2 = x[:, 0], x[:, 1]
    for name, expr in export_code.FEATURE_CODE.items():
        value = eval(expr.format(np="np"), {"np": np, "x1": x1, "x2": x2})
        np.testing.assert_allclose(value, feature_map(x, (name,))[:, 0], err_msg=name)


# -- Keras: structure, and a run against a stand-in -------------------------------------------
def same_source(expr: str) -> str:
    """An expression as ``ast.unparse`` writes it (quotes and spaces normalised)."""
    return ast.unparse(ast.parse(expr, mode="eval"))


def keras_calls(code: str) -> tuple[list[tuple[int, str]], tuple, list[str]]:
    """(units, activation source) per Dense, the Input shape, and the set_weights keys."""
    tree = ast.parse(code)
    dense, shape, keys = [], None, []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = ast.unparse(node.func)
        if name == "layers.Dense":
            act = next(ast.unparse(k.value) for k in node.keywords if k.arg == "activation")
            dense.append((node.args[0].value, act))
        elif name == "keras.Input":
            shape = ast.literal_eval(node.keywords[0].value)
        elif name == "model.set_weights":
            keys = ast.literal_eval(node.args[0].generators[0].iter)
    return dense, shape, keys


@pytest.mark.parametrize("name", list(NETWORKS))
def test_the_keras_code_has_the_networks_layers_in_file_order(trained, name):
    run = trained[name][0]
    spec = run.spec
    code = export_code.keras_code(spec, export_code.model_file_name(run.cfg.problem))
    dense, shape, keys = keras_calls(code)
    assert shape == (len(spec.features),)
    assert [units for units, _ in dense] == list(spec.sizes[1:])
    hidden_act = same_source(export_code.KERAS_ACTIVATIONS[spec.activation])
    named = f"hidden_activation = {export_code.KERAS_ACTIVATIONS[spec.activation]}" in code
    for _, act in dense[:-1]:
        assert act == hidden_act or (named and act == "hidden_activation")
    out_act = {"binary": '"sigmoid"', "multiclass": '"softmax"', "regression": "None"}
    assert dense[-1][1] == same_source(out_act[spec.task])
    n_layers = len(spec.sizes) - 1
    assert keys == [f"{k}{i}" for i in range(n_layers) for k in "Wb"]
    assert "keras.Sequential([" in code and code.count("layers.Dense(") == n_layers


class _Dense:
    """Keras's Dense as documented: y = activation(x @ kernel + bias), kernel (in, units)."""

    def __init__(self, units, activation=None):
        self.units, self.activation = units, activation

    def __call__(self, x):
        z = x @ self.kernel + self.bias
        act = self.activation
        if act is None or act == "linear":
            return z
        if callable(act):
            return act(z)
        return _ACTS[act](z)


_ACTS = {
    "relu": lambda z: np.maximum(z, 0),
    "tanh": np.tanh,
    "sigmoid": lambda z: 1 / (1 + np.exp(-z)),
    "softmax": lambda z: (
        np.exp(z - z.max(-1, keepdims=True))
        / np.exp(z - z.max(-1, keepdims=True)).sum(-1, keepdims=True)
    ),
}


def _keras_stub() -> types.ModuleType:
    keras = types.ModuleType("keras")
    keras.layers = types.SimpleNamespace(Dense=_Dense)
    keras.Input = lambda shape: ("input", shape)

    def leaky_relu(z, negative_slope=0.2):
        return np.where(z > 0, z, negative_slope * z)

    def gelu(z, approximate=False):
        assert approximate, "the Playground's GELU is the tanh approximation"
        return ACTIVATIONS["gelu"].numpy(z)

    keras.activations = types.SimpleNamespace(leaky_relu=leaky_relu, gelu=gelu)

    class Sequential:
        def __init__(self, items):
            self.input, *self.dense = items

        def set_weights(self, arrays):  # kernel, bias per Dense, in order
            assert len(arrays) == 2 * len(self.dense)
            fan_in = self.input[1][0]
            for layer, kernel, bias in zip(self.dense, arrays[::2], arrays[1::2], strict=True):
                assert kernel.shape == (fan_in, layer.units) and bias.shape == (layer.units,)
                layer.kernel, layer.bias, fan_in = kernel, bias, layer.units

        def predict(self, x):
            for layer in self.dense:
                x = layer(np.asarray(x, np.float64))
            return x

    keras.Sequential = Sequential
    return keras


@pytest.mark.parametrize("name", list(NETWORKS))
def test_the_keras_code_predicts_what_the_app_predicts(trained, name, tmp_path, monkeypatch):
    run, pts, app = trained[name]
    file_name = export_code.model_file_name(run.cfg.problem)
    (tmp_path / file_name).write_bytes(save_model(engine.saved_model(run)))
    monkeypatch.chdir(tmp_path)
    keras = _keras_stub()
    monkeypatch.setitem(sys.modules, "keras", keras)
    monkeypatch.setitem(sys.modules, "keras.layers", keras.layers)
    namespace: dict = {}
    code = export_code.keras_code(run.spec, file_name, run.cfg.problem)
    exec(code, namespace)
    out = namespace["model"].predict(namespace["features"](pts))
    if run.spec.task != "multiclass":
        out = out[:, 0]
    np.testing.assert_allclose(out.reshape(app.shape), app, atol=1e-5)


def test_a_model_file_describes_its_own_network(trained):
    run = trained["spiral_tanh_features"][0]
    assert export_code.spec_of(engine.saved_model(run)) == run.spec
    text = export_code.jax_code(run.spec, "m.npz", "spiral")
    assert "jnp.sin(x1)" in text and "x1 * x2" in text and "jax.nn.softmax" in text
    assert "n_layers = 3" in text
