"""The model file: a plain ``.npz`` (no pickles) that other tools can read.

Keys ``W0, b0, ..., Wk, bk`` (Wi of shape (fan_in, fan_out); the last pair is the output
layer), ``activation`` (a string), ``features`` (strings) and metadata as plain arrays.
Loading checks every key and shape and names what is wrong.
"""

import io
import re
import zipfile
from dataclasses import dataclass, field

import numpy as np

from playground.core.errors import PlaygroundError
from playground.core.features import FEATURES, RAW_FEATURES
from playground.core.model import ACTIVATIONS, INITS, MAX_DEPTH, MAX_WIDTH
from playground.core.train import SCHEDULES

MAX_FILE_BYTES = 50_000_000
_LAYER_KEY = re.compile(r"^([Wb])(\d+)$")
META_KEYS = ("task", "n_classes", "problem", "step")
# Training settings a file may carry (optional: older files lack them): name -> the
# choices a text must be one of, or None for a whole number of at least 0.
TRAINING_KEYS = {"init": tuple(INITS), "schedule": tuple(SCHEDULES), "warmup_steps": None,
                 "decay_steps": None}  # fmt: skip


@dataclass(frozen=True)
class SavedModel:
    params: list  # [(W, b), ...] as float32 numpy arrays
    activation: str
    features: tuple[str, ...] = RAW_FEATURES
    meta: dict = field(default_factory=dict)

    @property
    def hidden(self) -> tuple[int, ...]:
        return tuple(int(w.shape[1]) for w, _ in self.params[:-1])


def save_model(model: SavedModel) -> bytes:
    """The model as ``.npz`` bytes."""
    arrays = {}
    for i, (w, b) in enumerate(model.params):
        arrays[f"W{i}"] = np.asarray(w, np.float32)
        arrays[f"b{i}"] = np.asarray(b, np.float32)
    arrays["activation"] = np.array(model.activation)
    arrays["features"] = np.array(model.features)
    for k, v in model.meta.items():
        arrays[k] = np.array(v)
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def _text(arr: np.ndarray, key: str) -> str:
    if arr.dtype.kind != "U" or arr.ndim != 0:
        raise PlaygroundError(f"'{key}' must be a single string")
    return str(arr)


def load_model(data: bytes) -> SavedModel:
    """Read and check a model file; every problem becomes a PlaygroundError."""
    if len(data) > MAX_FILE_BYTES:
        raise PlaygroundError(f"the model file is larger than {MAX_FILE_BYTES // 1_000_000} MB")
    if not data.startswith(b"PK"):
        raise PlaygroundError("this is not a model file: a .npz file (a zip archive) is expected")
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except (ValueError, OSError, zipfile.BadZipFile, EOFError, KeyError) as err:
        raise PlaygroundError(f"the model file cannot be read: {err}") from None
    layers: dict[int, dict[str, np.ndarray]] = {}
    for key, arr in arrays.items():
        m = _LAYER_KEY.match(key)
        if m:
            layers.setdefault(int(m.group(2)), {})[m.group(1)] = arr
    if not layers:
        raise PlaygroundError("the file holds no layers: keys W0, b0, ... are missing")
    n = len(layers)
    if sorted(layers) != list(range(n)):
        raise PlaygroundError(f"layers must be numbered 0..{n - 1}; found {sorted(layers)}")
    if n > MAX_DEPTH + 1:
        raise PlaygroundError(
            f"the file has {n - 1} hidden layers; at most {MAX_DEPTH} are allowed"
        )
    params = []
    for i in range(n):
        if set(layers[i]) != {"W", "b"}:
            missing = {"W", "b"} - set(layers[i])
            raise PlaygroundError(f"layer {i} lacks {', '.join(k + str(i) for k in missing)}")
        w, b = layers[i]["W"], layers[i]["b"]
        if w.dtype.kind not in "fiu" or b.dtype.kind not in "fiu":
            raise PlaygroundError(f"W{i} and b{i} must hold numbers")
        if w.ndim != 2 or b.ndim != 1 or b.shape[0] != w.shape[1]:
            raise PlaygroundError(
                f"W{i} must be (fan_in, fan_out) and b{i} (fan_out,); found {w.shape} and {b.shape}"
            )
        if max(w.shape) > MAX_WIDTH or min(w.shape) < 1:
            raise PlaygroundError(f"W{i} has shape {w.shape}; layers hold 1 to {MAX_WIDTH} units")
        if i and w.shape[0] != params[-1][0].shape[1]:
            raise PlaygroundError(
                f"W{i} takes {w.shape[0]} inputs but layer {i - 1} gives {params[-1][0].shape[1]}"
            )
        if not (np.isfinite(w).all() and np.isfinite(b).all()):
            raise PlaygroundError(f"W{i} or b{i} holds NaN or infinite values")
        params.append((w.astype(np.float32), b.astype(np.float32)))
    if "activation" not in arrays:
        raise PlaygroundError("the file does not say its activation (key 'activation')")
    activation = _text(arrays["activation"], "activation")
    if activation not in ACTIVATIONS:
        raise PlaygroundError(f"unknown activation {activation!r}; known: {', '.join(ACTIVATIONS)}")
    features = RAW_FEATURES
    if "features" in arrays:
        f = arrays["features"]
        if f.dtype.kind != "U" or f.ndim != 1:
            raise PlaygroundError("'features' must be a list of strings")
        features = tuple(str(s) for s in f)
        unknown = [s for s in features if s not in FEATURES]
        if unknown:
            raise PlaygroundError(f"unknown features {unknown}; known: {', '.join(FEATURES)}")
    if params[0][0].shape[0] != len(features):
        raise PlaygroundError(
            f"W0 takes {params[0][0].shape[0]} inputs but the file names "
            f"{len(features)} features ({', '.join(features)})"
        )
    meta = {k: arrays[k].item() for k in META_KEYS if k in arrays and arrays[k].ndim == 0}
    meta.update(_training_meta(arrays))
    return SavedModel(params, activation, features, meta)


def _training_meta(arrays: dict[str, np.ndarray]) -> dict:
    """The training settings a file carries (TRAINING_KEYS), checked."""
    meta = {}
    for key, choices in TRAINING_KEYS.items():
        if key not in arrays:
            continue
        arr = arrays[key]
        if choices is not None:
            text = _text(arr, key)
            if text not in choices:
                raise PlaygroundError(f"unknown {key} {text!r}; known: {', '.join(choices)}")
            meta[key] = text
        elif arr.ndim != 0 or arr.dtype.kind not in "iu" or int(arr) < 0:
            raise PlaygroundError(f"'{key}' must be a single whole number of at least 0")
        else:
            meta[key] = int(arr)
    return meta
