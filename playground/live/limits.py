"""What one server allows, from the host's config file (``host.toml``).

A teacher hosting the app for a class sets the largest network and dataset a learner may
train, how many runs play at once (the rest wait their turn), and how many pictures a
second each playing run gets. The file is TOML, named by ``PLAYGROUND_HOST_CONFIG``, else
``host.toml`` in the working folder, else the defaults below (a laptop needs no file).
"""

import math
import os
import tomllib
from dataclasses import dataclass, fields
from pathlib import Path

from playground.core.errors import PlaygroundError
from playground.core.model import MAX_DEPTH, MAX_WIDTH, param_count

ENV_VAR = "PLAYGROUND_HOST_CONFIG"
# Learners training flat out that one core serves at >= 5 pictures and >= 100 epochs a
# second each (xor, 8-8, batch 10; `python -m playground.loadtest --sessions 30` on 2
# cores: slowest 5.2 pictures/s and 112 epochs/s; at 60, 0.5 pictures/s).
PLAYING_PER_CORE = 15
DEFAULT_FILE = "host.toml"


@dataclass(frozen=True)
class HostLimits:
    """Limits of one server. ``workers`` 0 means one training thread per core."""

    max_width: int = MAX_WIDTH  # units in one hidden layer
    max_depth: int = MAX_DEPTH  # hidden layers
    max_points: int = 20_000  # points of a dataset, train and test together
    # Work of one training step, forward and backward: about 6 x batch x parameters
    # floating-point operations. Bounds the slice a single step can take from others.
    max_step_gflop: float = 2.0
    max_playing: int = 0  # runs training at once (0: PLAYING_PER_CORE a core); more wait
    workers: int = 0
    pictures_per_s: float = 25.0  # pictures of the boundary a playing run gets, at most

    def worker_count(self) -> int:
        return self.workers or max(1, os.cpu_count() or 1)

    def playing_limit(self) -> int:
        return self.max_playing or PLAYING_PER_CORE * max(1, os.cpu_count() or 1)


def _checked(raw: dict, source: str) -> HostLimits:
    known = {f.name: f for f in fields(HostLimits)}
    unknown = sorted(set(raw) - set(known))
    if unknown:
        raise PlaygroundError(f"{source}: unknown settings {', '.join(unknown)}")
    values = {}
    for name, value in raw.items():
        kind = int if known[name].type in (int, "int") else float
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        if not ok or (kind is int and value != int(value)) or not math.isfinite(value):
            raise PlaygroundError(f"{source}: {name} must be a {kind.__name__} number")
        values[name] = kind(value)
    limits = HostLimits(**values)
    for name in ("max_width", "max_depth", "max_points", "max_step_gflop"):
        if getattr(limits, name) <= 0:
            raise PlaygroundError(f"{source}: {name} must be above 0")
    if limits.workers < 0 or limits.max_playing < 0 or limits.pictures_per_s <= 0:
        raise PlaygroundError(
            f"{source}: workers and max_playing must be 0 or more, pictures_per_s above 0"
        )
    if limits.max_width > MAX_WIDTH or limits.max_depth > MAX_DEPTH:
        raise PlaygroundError(
            f"{source}: the app itself allows at most {MAX_WIDTH} units and {MAX_DEPTH} layers"
        )
    return limits


def load_limits(path: str | Path | None = None) -> HostLimits:
    """The limits of the file at ``path``, ``$PLAYGROUND_HOST_CONFIG``, ``./host.toml``,
    or the defaults. A missing named file or a bad one is a PlaygroundError."""
    named = path or os.environ.get(ENV_VAR)
    file = Path(named) if named else Path(DEFAULT_FILE)
    if not file.exists():
        if named:
            raise PlaygroundError(f"the host config file {file} does not exist")
        return HostLimits()
    try:
        raw = tomllib.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as err:
        raise PlaygroundError(f"{file}: {err}") from None
    return _checked(raw.get("limits", raw), str(file))


def step_gflop(sizes, batch: int) -> float:
    """Forward + backward work of one step, in GFLOP (6 x batch x parameters)."""
    return 6.0 * batch * param_count(sizes) / 1e9


def limit_message(hidden, n_points: int, sizes, batch: int, limits: HostLimits) -> str:
    """Why this server will not train the network, in plain words ("" when it will)."""
    said = "This server (its host set the limits)"
    if hidden and max(hidden) > limits.max_width:
        return f"{said} allows at most {limits.max_width:,} units in a layer."
    if len(hidden) > limits.max_depth:
        return f"{said} allows at most {limits.max_depth} hidden layers."
    if n_points > limits.max_points:
        return f"{said} allows at most {limits.max_points:,} points."
    work = step_gflop(sizes, batch)
    if work > limits.max_step_gflop:
        return (
            f"{said} allows a training step of at most {limits.max_step_gflop:g} GFLOP; this "
            f"network and batch take {work:.2g}. Use fewer units, layers or points per batch."
        )
    return ""
