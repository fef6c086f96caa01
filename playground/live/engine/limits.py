"""What one server allows, from the host's config file (``host.toml``).

A teacher hosting the app for a class sets the largest network and dataset a learner may
train, how many runs play at once (the rest wait their turn), and how many pictures a
second each playing run gets. The file is TOML, named by ``PLAYGROUND_HOST_CONFIG``, else
``host.toml`` in the working folder, else the defaults below (a laptop needs no file).
"""

import dataclasses
import math
import os
import tomllib
from dataclasses import dataclass, fields
from pathlib import Path
from urllib.parse import urlsplit

from playground.core.config import UPLOAD_PROBLEM, RunConfig
from playground.core.datasets import MAX_POINTS, PROBLEMS, Dataset
from playground.core.errors import PlaygroundError
from playground.core.model import MAX_DEPTH, MAX_WIDTH, layer_sizes, output_size, param_count

ENV_VAR = "PLAYGROUND_HOST_CONFIG"
# Learners training flat out that one core serves (xor, 8-8, batch 10): the class server
# gives 30 of them ~20-25 pictures/s and ~230-410 epochs/s each on 2 cores (the load
# test's rows in the README, "Sizing").
PLAYING_PER_CORE = 15
DEFAULT_FILE = "host.toml"


@dataclass(frozen=True)
class HostLimits:
    """Limits of one server. ``workers`` 0 means one training thread per core."""

    max_width: int = MAX_WIDTH  # units in one hidden layer
    max_depth: int = MAX_DEPTH  # hidden layers
    max_points: int = MAX_POINTS  # points of a dataset, train and test together
    # Work of one training step, forward and backward: about 6 x batch x parameters
    # floating-point operations. Bounds the slice a single step can take from others.
    max_step_gflop: float = 2.0
    max_playing: int = 0  # runs training at once (0: PLAYING_PER_CORE a core); more wait
    workers: int = 0
    pictures_per_s: float = 25.0  # pictures of the boundary a playing run gets, at most
    max_class_size: int = 40  # learners in one class
    class_idle_minutes: float = 180.0  # a class nobody touched this long ends by itself
    # The address learners open (e.g. https://class.example.org/playground): teachers'
    # links start with it. "" : the server's own address (``server.address`` and port).
    public_url: str = ""

    def worker_count(self) -> int:
        return self.workers or cores()

    def playing_limit(self) -> int:
        if self.max_playing:
            return self.max_playing
        # A class server's balancer deals new learners out in turn, but learners leave
        # unevenly (a closed tab, a reload lands on the next process): each process
        # takes a third more than its share before a learner waits.
        slack = 4 / 3 if os.environ.get(CORES_ENV) else 1
        return math.ceil(PLAYING_PER_CORE * cores() * slack)


CORES_ENV = "PLAYGROUND_CORES"  # the class server gives each of its app processes a share
# "0": no compiling ahead in this process (the tests, so it leaves them the CPU); "own":
# only the default network's own programs, loaded from the disk cache at start (the class
# server's replicas: its compile-ahead process compiles the neighbours once for all).
PRECOMPILE_ENV = "PLAYGROUND_PRECOMPILE"
PRECOMPILE_OWN = "own"


def cores() -> int:
    """Cores this app process may use: its share of the class server's (``CORES_ENV``),
    else the cores it may run on (a container's or taskset's, not the host's)."""
    share = os.environ.get(CORES_ENV, "")
    if share.isdigit() and int(share) > 0:
        return int(share)
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def _checked(raw: dict, source: str) -> HostLimits:
    known = {f.name: f for f in fields(HostLimits)}
    unknown = sorted(set(raw) - set(known))
    if unknown:
        raise PlaygroundError(f"{source}: unknown settings {', '.join(unknown)}")
    values = {}
    if "public_url" in raw:  # the one text setting; the rest are numbers
        values["public_url"] = _checked_url(raw["public_url"], source)
    for name, value in raw.items():
        if name == "public_url":
            continue
        kind = int if known[name].type in (int, "int") else float
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        if not ok or (kind is int and value != int(value)) or not math.isfinite(value):
            raise PlaygroundError(f"{source}: {name} must be a {kind.__name__} number")
        values[name] = kind(value)
    limits = HostLimits(**values)
    for name in (
        "max_width",
        "max_depth",
        "max_points",
        "max_step_gflop",
        "max_class_size",
        "class_idle_minutes",
    ):
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


def _checked_url(value, source: str) -> str:
    """A public address: an http(s) URL with a host, without a query or a fragment (the
    links add their own); its trailing slash dropped."""
    url = value.strip() if isinstance(value, str) else ""
    parts = urlsplit(url)
    if not (parts.scheme in ("http", "https") and parts.hostname) or parts.query or parts.fragment:
        raise PlaygroundError(
            f"{source}: public_url must be an http(s) address such as "
            f"https://class.example.org/playground, not {str(value)[:80]!r}"
        )
    return url.rstrip("/")


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


SAID = "This server (its host set the limits)"


def _fits(sizes, batch: int, limits: HostLimits) -> bool:
    return step_gflop(sizes, batch) <= limits.max_step_gflop


def _outputs(cfg: RunConfig, upload: Dataset | None) -> int:
    """The network's outputs (they count in a step's work)."""
    if cfg.problem == UPLOAD_PROBLEM and upload is not None:
        return output_size(upload.task, upload.n_classes)
    problem = PROBLEMS.get(cfg.problem)
    return output_size(problem.task, cfg.classes) if problem else 1


def capped(
    cfg: RunConfig, limits: HostLimits, *, upload: Dataset | None = None
) -> tuple[RunConfig, list[str]]:
    """The config within this server's limits, and a plain sentence for each change: at
    most ``max_depth`` layers (the first ones kept) of at most ``max_width`` units, at
    most ``max_points`` points (an ``upload`` too: ``capped_dataset``), and a training
    step of at most ``max_step_gflop``: the largest batch that fits, else the widest
    layers that fit one point a step."""
    notes, hidden, n_out = [], tuple(cfg.hidden), _outputs(cfg, upload)
    if len(hidden) > limits.max_depth:
        hidden = hidden[: limits.max_depth]
        notes.append(
            f"{SAID} allows at most {limits.max_depth} hidden layers: the network has the "
            f"first {limits.max_depth} of the {len(cfg.hidden)} asked for."
        )
    if hidden and max(hidden) > limits.max_width:
        hidden = tuple(min(w, limits.max_width) for w in hidden)
        notes.append(
            f"{SAID} allows at most {limits.max_width:,} units in a layer: wider layers "
            f"have {limits.max_width:,}."
        )
    n_points = min(cfg.n_points, limits.max_points)
    if n_points < cfg.n_points:
        notes.append(f"{SAID} allows at most {limits.max_points:,} points: it uses {n_points:,}.")
    n_in = len(cfg.features)
    batch = cfg.batch_size or max(1, round(n_points * cfg.train_ratio))  # 0: every point
    if not _fits(layer_sizes(n_in, hidden, n_out), batch, limits):
        work = step_gflop(layer_sizes(n_in, hidden, n_out), batch)
        per_point = step_gflop(layer_sizes(n_in, hidden, n_out), 1)
        if per_point <= limits.max_step_gflop:
            batch = int(limits.max_step_gflop / per_point)
            change = f"the batch is {batch:,} points"
        else:
            batch = 1
            top = max(hidden)
            while top > 1 and not _fits(
                layer_sizes(n_in, [min(w, top) for w in hidden], n_out), 1, limits
            ):
                top = max(1, top * 3 // 4)
            hidden = tuple(min(w, top) for w in hidden)
            change = f"layers have at most {top:,} units and the batch is 1 point"
        notes.append(
            f"{SAID} allows a training step of at most {limits.max_step_gflop:g} GFLOP; this "
            f"network and batch take {work:.2g}, so {change}."
        )
    if upload is not None and cfg.problem == UPLOAD_PROBLEM:
        notes += capped_dataset(upload, limits)[1]
    if not notes:
        return cfg, []
    return cfg.replace(hidden=hidden, n_points=n_points, batch_size=batch), notes


def capped_dataset(data: Dataset, limits: HostLimits) -> tuple[Dataset, list[str]]:
    """An uploaded dataset within ``max_points``: its first points of the (already
    shuffled) train and test sets, in their proportion, and a sentence; as it is when it
    fits."""
    n_train, n_test = len(data.x_train), len(data.x_test)
    if n_train + n_test <= limits.max_points:
        return data, []
    keep_train = max(1, round(limits.max_points * n_train / (n_train + n_test)))
    keep_test = max(1, limits.max_points - keep_train)
    cut = dataclasses.replace(
        data,
        x_train=data.x_train[:keep_train],
        y_train=data.y_train[:keep_train],
        x_test=data.x_test[:keep_test],
        y_test=data.y_test[:keep_test],
    )
    return cut, [
        f"{SAID} allows at most {limits.max_points:,} points: it trains and tests on "
        f"{keep_train + keep_test:,} of the file's {n_train + n_test:,}."
    ]


def model_message(hidden, limits: HostLimits) -> str:
    """Why a saved model is too big for this server, in plain words ("" when it fits)."""
    if len(hidden) > limits.max_depth:
        return (
            f"{SAID} allows at most {limits.max_depth} hidden layers; the file has {len(hidden)}."
        )
    if hidden and max(hidden) > limits.max_width:
        return (
            f"{SAID} allows at most {limits.max_width:,} units in a layer; the file has "
            f"{max(hidden):,}."
        )
    return ""
