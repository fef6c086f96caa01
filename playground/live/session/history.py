"""A live run's per-frame records (metrics, gradients), bounded by thinning."""

import threading
from dataclasses import dataclass

import numpy as np

MAX_HISTORY = 600


@dataclass
class History:
    """Per-frame records, thinned by half whenever they pass ``limit`` rows."""

    limit: int = MAX_HISTORY

    def __post_init__(self):
        self.rows: dict[str, list] = {}
        self._lock = threading.Lock()  # the trainer appends while a page reads

    def append(self, **values) -> None:
        with self._lock:
            for k, v in values.items():
                self.rows.setdefault(k, []).append(v)
            if len(self.rows["step"]) > self.limit:
                for k in self.rows:
                    self.rows[k] = self.rows[k][::2]

    def truncate(self, step: int) -> None:
        """Drop the records after ``step`` (training went back to that step's weights)."""
        with self._lock:
            keep = [i for i, s in enumerate(self.rows.get("step", [])) if s <= step]
            self.rows = {k: [v[i] for i in keep] for k, v in self.rows.items()}

    def copy(self) -> "History":
        """A consistent snapshot (all columns the same length) for drawing."""
        other = History(self.limit)
        with self._lock:
            other.rows = {k: list(v) for k, v in self.rows.items()}
        return other

    def __len__(self) -> int:
        return len(self.rows.get("step", []))

    def array(self, key: str) -> np.ndarray:
        return np.asarray(self.rows.get(key, []), dtype=np.float64)

    def to_csv(self) -> bytes:
        """Every record as CSV; per-layer gradients become columns grad_rms_1, ... ."""
        rows = self.copy().rows
        keys = [k for k in rows if k != "grad_rms"]
        grads = np.stack(rows["grad_rms"]) if rows.get("grad_rms") else None
        n_layers = 0 if grads is None else grads.shape[1]
        header = keys + [f"grad_rms_{i + 1}" for i in range(n_layers)]
        lines = [",".join(header)]
        for r in range(len(rows.get("step", []))):
            values = [rows[k][r] for k in keys]
            values += [] if grads is None else list(grads[r])
            lines.append(",".join(_number_text(v) for v in values))
        return ("\n".join(lines) + "\n").encode()


def _number_text(v) -> str:
    """Whole numbers as such; the rest (measured in float32) in the shortest text that
    gives back the same float32: 0.796, not 0.796000063."""
    if isinstance(v, int | np.integer):
        return str(int(v))
    return str(np.float32(v))
