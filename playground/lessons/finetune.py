"""Lesson: saving, restoring and fine-tuning. The math behind its page (no Streamlit here).

A network trained by the engine is saved to the Playground's ``.npz`` model file, loaded
into a fresh run, and must predict exactly what it predicted before. Then the problem
changes a little (XOR turned, or the circle grown) and the saved network is trained on
it (fine-tuning) next to a fresh one (from scratch), both by the engine; the steps each
needs to reach the same accuracy are counted. Last, fine-tuning with layers frozen:
optax's ``multi_transform`` gives the frozen layers a zero update.
"""

import dataclasses
import io
from typing import NamedTuple

import numpy as np
import optax

from playground.core.config import UPLOAD_PROBLEM, RunConfig
from playground.core.datasets import Dataset
from playground.core.modelfile import SavedModel, load_model, save_model
from playground.core.train import OPTIMIZERS
from playground.lessons import tools
from playground.live.engine import run as engine

BASE_CFGS = {
    "grow": RunConfig(problem="circle", hidden=(8, 8), batch_size=0, learning_rate=0.01),
    "rotate": RunConfig(problem="xor", hidden=(8, 8), batch_size=0, learning_rate=0.01),
}
CHANGES = {"grow": "the circle grows", "rotate": "XOR turns"}
AMOUNTS = {"grow": (1.2, 1.4, 1.6), "rotate": (15.0, 30.0, 45.0)}  # scale / degrees
DEFAULT_AMOUNT = {"grow": 1.4, "rotate": 30.0}
BASE_STEPS = 512
TUNE_STEPS = 512
EVERY = 16
TARGET = 0.98  # test accuracy that counts as learnt
GRID = 100  # the grid the restored model is compared on
# Which layers learn while fine-tuning (the rest keep the saved weights).
MODES = {
    "scratch": "from scratch",
    "all": "fine-tune all layers",
    "freeze_first": "first layer frozen",
    "last_only": "output layer only",
}


def amount_label(change: str, amount: float) -> str:
    return f"turned by {amount:g}°" if change == "rotate" else f"grown {amount:g}×"


def base_run(change: str) -> engine.Run:
    """The original problem learnt by the engine (Adam, all training points each step)."""
    run, _ = engine.train(engine.new_run(BASE_CFGS[change]), steps=BASE_STEPS)
    return run


class Restored(NamedTuple):
    file: bytes  # the .npz the Playground's "Model" download gives
    keys: list[tuple[str, str]]  # (key, shape or value) of everything in the file
    saved: SavedModel  # as read back by the Playground's loader
    before: tools.Fit  # the trained run
    after: tools.Fit  # a fresh run given the loaded weights
    max_difference: float  # largest |prediction before - after| over the grid


def save_and_restore(change: str) -> Restored:
    run = base_run(change)
    data = save_model(engine.saved_model(run))
    saved = load_model(data)
    fresh = engine.new_run(run.cfg, saved=saved)  # a new run: new optimizer, same data
    *_, before = engine.output_grid(run, GRID)
    *_, after = engine.output_grid(fresh, GRID)
    return Restored(
        file=data,
        keys=file_contents(data),
        saved=saved,
        before=tools.fit_of(run),
        after=tools.fit_of(fresh),
        max_difference=float(np.max(np.abs(before - after))),
    )


def file_contents(data: bytes) -> list[tuple[str, str]]:
    """Every array in an .npz: its key and its shape (a single value or text: itself)."""
    with np.load(io.BytesIO(data), allow_pickle=False) as z:
        return [(k, _describe(z[k])) for k in z.files]


def _describe(a: np.ndarray) -> str:
    if a.ndim == 0:
        return str(a)
    if a.dtype.kind == "U":
        return ", ".join(map(str, a))
    return "array " + " × ".join(map(str, a.shape))


# -- the changed problem -------------------------------------------------------------------
def changed_data(change: str, amount: float, data: Dataset) -> Dataset:
    """The same points and labels, the plane turned anticlockwise by ``amount`` degrees
    (XOR's quadrants turn with it) or stretched by ``amount`` (the circle and ring grow)."""
    if change == "rotate":
        t = np.deg2rad(amount)
        m = np.array([[np.cos(t), np.sin(t)], [-np.sin(t), np.cos(t)]], np.float32)
    else:
        m = np.float32(amount) * np.eye(2, dtype=np.float32)
    return dataclasses.replace(
        data,
        name=f"{data.name}, {amount_label(change, amount)}",
        x_train=data.x_train @ m,
        x_test=data.x_test @ m,
    )


class Race(NamedTuple):
    change: str
    amount: float
    data: Dataset  # the changed problem
    curves: dict  # mode -> tools.Curve, measured every EVERY steps
    fits: dict  # mode -> tools.Fit after TUNE_STEPS
    start_fit: tools.Fit  # the saved model on the changed problem, before any step
    saved_loss: float  # the saved model's loss on the changed training points

    def steps_to_target(self, mode: str) -> int | None:
        return self.curves[mode].first_step_reaching(TARGET)


def _frozen_tx(cfg: RunConfig, n_layers: int, frozen: tuple[int, ...]):
    """The run's optimizer on the layers that learn, a zero update on the frozen ones."""
    labels = [("frozen",) * 2 if i in frozen else ("learn",) * 2 for i in range(n_layers)]
    learn = OPTIMIZERS[cfg.optimizer].make(cfg.learning_rate)
    return optax.multi_transform({"learn": learn, "frozen": optax.set_to_zero()}, labels)


def frozen_layers(mode: str, n_layers: int) -> tuple[int, ...]:
    if mode == "freeze_first":
        return (0,)
    if mode == "last_only":
        return tuple(range(n_layers - 1))
    return ()


def fine_tune(run: engine.Run, saved: SavedModel, mode: str, steps: int = TUNE_STEPS):
    """Train the saved weights on ``run``'s data with some layers frozen; returns the
    curve and the final weights."""
    n_layers = len(saved.params)
    d = tools.descend(
        tools.engine_loss(run.spec),
        [(w, b) for w, b in saved.params],
        _frozen_tx(run.cfg, n_layers, frozen_layers(mode, n_layers)),
        tools.full_batches(len(run.data.x_train), steps),
        ctx=tools.data_ctx(run.data),
        watch=tools.metrics_watch(run.spec),
    )
    return tools.descent_curve(d, EVERY), d.params


def race(change: str, amount: float) -> Race:
    """Scratch vs fine-tuning (all layers, first frozen, output only) on the changed
    problem. Scratch and 'all' are engine runs; the frozen ones use ``fine_tune``."""
    restored = save_and_restore(change)
    data = changed_data(change, amount, restored.before.data)
    cfg = restored.before.cfg.replace(problem=UPLOAD_PROBLEM)
    curves, fits = {}, {}
    spec = engine.spec_for(cfg, data)
    start = tools.fit_from_params(cfg, spec, restored.saved.params, data)
    for mode in MODES:
        if mode in ("scratch", "all"):
            saved = restored.saved if mode == "all" else None
            run = engine.new_run(cfg, upload=data, saved=saved)
            run, curves[mode], _ = tools.train_curve(run, TUNE_STEPS, EVERY)
            fits[mode] = tools.fit_of(run)
        else:
            run = engine.new_run(cfg, upload=data)
            curves[mode], params = fine_tune(run, restored.saved, mode)
            fits[mode] = tools.fit_from_params(cfg, run.spec, params, data)
    return Race(change, amount, data, curves, fits, start, float(curves["all"].train_loss[0]))


def playground_config(change: str) -> RunConfig:
    """The original problem in the Playground, where a model can be saved and loaded."""
    return BASE_CFGS[change]
