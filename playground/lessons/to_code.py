"""Lesson: from the Playground to code. An example network when the learner has none, and
the proof that the exported JAX code computes what the app computes: the snippet
(``export_code.jax_code``) is executed on the saved ``.npz`` and compared on a grid.
"""

import tempfile
from pathlib import Path

import jax
import numpy as np

from playground.core.config import RunConfig
from playground.core.datasets import grid_points
from playground.core.modelfile import SavedModel, save_model
from playground.lessons import export_code
from playground.live.engine import run as engine

EXAMPLE_CFG = RunConfig(problem="xor", hidden=(8, 8), learning_rate=0.03, batch_size=10)
EXAMPLE_STEPS = 512
CHECK_GRID = 100


def example_run() -> engine.Run:
    """XOR learnt by two layers of 8 ReLUs: the network shown when there is no other."""
    run, _ = engine.train(engine.new_run(EXAMPLE_CFG), steps=EXAMPLE_STEPS)
    return run


def run_jax_code(saved: SavedModel, points: np.ndarray, problem: str = "") -> np.ndarray:
    """Write the model file, execute the exported JAX code on it, predict ``points``.

    The snippet is written for a notebook, where JAX broadcasts a bias over rows: allowed
    here even when the caller asks JAX to refuse implicit rank promotion.
    """
    spec = export_code.spec_of(saved)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / export_code.model_file_name(problem or "model")
        path.write_bytes(save_model(saved))
        code = export_code.jax_code(spec, str(path), problem, example=False)
        namespace: dict = {"__name__": "exported_network"}
        with jax.numpy_rank_promotion("allow"):
            exec(compile(code, "<exported JAX code>", "exec"), namespace)  # our own generated text
            out = namespace["predict"](namespace["params"], np.asarray(points, np.float32))
            return np.asarray(out)


def check_on_grid(run: engine.Run, n: int = CHECK_GRID) -> float:
    """Largest |exported JAX code - the app| over an n x n grid of the plane."""
    xs, ys, app = engine.output_grid(run, n)
    pts = grid_points(xs, ys)
    ours = run_jax_code(engine.saved_model(run), pts, run.cfg.problem)
    return float(np.max(np.abs(ours.reshape(app.shape) - app)))
