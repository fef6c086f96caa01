"""What a class is made of, as plain data: its code and the teacher's secret, the
exercise every learner gets, a learner's name, a learner's tile on the wall with its
status, the leaderboard's order, and the class experiment (one knob, a value per
learner). No Streamlit, no store: the store keeps these as JSON."""

import csv
import hashlib
import hmac
import io
import math
import secrets
import time
from dataclasses import asdict, dataclass, field
from typing import NamedTuple

from playground.core.config import (
    ALIASES,
    FIELDS,
    format_field,
    from_query,
    lesson_from_query,
    lesson_query,
    number_text,
)
from playground.core.errors import PlaygroundError
from playground.core.model import MAX_DEPTH

# No 0/O, 1/I/L: a code read off a projector is typed without guessing.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 6
SECRET_BYTES = 24  # 192 random bits: whoever holds the teacher link is the teacher
MAX_NAME = 24

# Wall statuses, the stuck ones first (the wall's default order).
STATUSES = ("diverged", "dead layer", "stalled", "waiting", "playing", "paused", "idle", "left")
STUCK = frozenset({"diverged", "dead layer", "stalled"})
STALE_S = 10.0  # a tile this old: its learner's page is gone (closed tab, lost server)
IDLE_S = 120.0  # paused this long with no touch of a control: idle
STALL_EPOCHS = 200  # the test loss moved by less than STALL_CHANGE over this many epochs
STALL_CHANGE = 0.005
SOLVED = 0.95  # a test score this high is a solved problem, however flat its loss


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normal_code(text: str) -> str:
    """A code as typed or linked (any case, spaces or dashes) in its stored form; "" when
    it cannot be one."""
    raw = "".join(ch for ch in str(text) if ch not in " -")
    if not raw.isascii():  # "ß".upper() is "SS": no letter may turn into others
        return ""
    code = raw.upper()
    ok = len(code) == CODE_LENGTH and all(ch in CODE_ALPHABET for ch in code)
    return code if ok else ""


def new_secret() -> str:
    return secrets.token_urlsafe(SECRET_BYTES)


def secret_hash(secret: str) -> str:
    """The store keeps this, never the secret: a leaked store opens no wall."""
    return hashlib.sha256(str(secret).encode("utf-8", "replace")).hexdigest()


def is_teacher(info: "ClassInfo | None", secret: str | None) -> bool:
    if info is None or not secret:
        return False
    return hmac.compare_digest(info.teacher_hash, secret_hash(secret))


def clean_name(text: str) -> tuple[str, bool]:
    """A learner's name as the others see it: printable characters, spaces squeezed, at
    most MAX_NAME long; and whether it was cut. It stays text: pages show it escaped."""
    name = " ".join("".join(ch if ch.isprintable() else " " for ch in str(text)).split())
    return name[:MAX_NAME].rstrip(), len(name) > MAX_NAME


@dataclass
class ClassInfo:
    """One class: its code, the teacher's secret's hash, and the exercise (a Playground
    query: settings and lesson, the share link's words, version counted up on each send)."""

    code: str
    teacher_hash: str
    exercise: dict[str, str]
    version: int = 1
    created: float = field(default_factory=time.time)
    title: str = ""
    experiment: dict | None = None  # the class experiment (Experiment.to_json), if any

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, raw: dict) -> "ClassInfo":
        return cls(
            code=str(raw["code"]),
            teacher_hash=str(raw["teacher_hash"]),
            exercise={str(k): str(v) for k, v in dict(raw["exercise"]).items()},
            version=int(raw.get("version", 1)),
            created=float(raw.get("created", 0.0)),
            title=str(raw.get("title", "")),
            experiment=dict(raw["experiment"]) if raw.get("experiment") else None,
        )


@dataclass
class Tile:
    """A learner on the wall, as of ``updated`` (time.time(), the publishing server's)."""

    member: str
    name: str
    status: str
    epoch: int = 0
    test_loss: float = math.nan
    score: float = math.nan  # test accuracy, or R² for regression
    metric: str = "accuracy"
    shape: str = ""  # e.g. "2 -> 8 -> 8 -> 1"
    picture: str = ""  # a small PNG of the decision boundary, base64
    version: int = 0  # the exercise version the learner's page runs
    updated: float = field(default_factory=time.time)
    # In a class experiment: its id, the knob and the learner's value of it.
    experiment: str = ""
    knob: str = ""
    value: float = math.nan

    def to_json(self) -> dict:
        out = asdict(self)
        for key in ("test_loss", "score", "value"):  # JSON has no NaN
            out[key] = out[key] if math.isfinite(out[key]) else None
        return out

    @classmethod
    def from_json(cls, raw: dict) -> "Tile":
        def num(v):
            return math.nan if v is None else float(v)

        return cls(
            member=str(raw["member"]),
            name=str(raw.get("name", "")),
            status=str(raw.get("status", "idle")),
            epoch=int(raw.get("epoch", 0)),
            test_loss=num(raw.get("test_loss")),
            score=num(raw.get("score")),
            metric=str(raw.get("metric", "accuracy")),
            shape=str(raw.get("shape", "")),
            picture=str(raw.get("picture", "")),
            version=int(raw.get("version", 0)),
            updated=float(raw.get("updated", 0.0)),
            experiment=str(raw.get("experiment", "")),
            knob=str(raw.get("knob", "")),
            value=num(raw.get("value")),
        )

    def seen_status(self, now: float | None = None) -> str:
        """The status to show: "left" once the tile stopped being refreshed."""
        now = time.time() if now is None else now
        if now - self.updated > STALE_S:
            return "left"
        # A status this version does not know (a newer replica's, through Redis).
        return self.status if self.status in STATUSES else "idle"


def learner_status(
    *,
    playing: bool,
    waiting: bool,
    diverged: bool,
    dead_layer: bool,
    test_losses: list[float],
    epochs: list[float],
    idle_for: float,
    score: float = math.nan,
) -> str:
    """A learner's status from what their run shows: stuck ones first (diverged, a dead
    layer, a loss that stopped moving while playing short of a solution), then what
    they do."""
    if diverged:
        return "diverged"
    if dead_layer:
        return "dead layer"
    solved = math.isfinite(score) and score >= SOLVED
    if playing and not solved and stalled(test_losses, epochs):
        return "stalled"
    if playing:
        return "waiting" if waiting else "playing"
    return "idle" if idle_for >= IDLE_S else "paused"


def stalled(test_losses: list[float], epochs: list[float]) -> bool:
    """The test loss moved by less than STALL_CHANGE (relative) over the last
    STALL_EPOCHS epochs."""
    if not epochs or epochs[-1] - epochs[0] < STALL_EPOCHS:
        return False
    last = epochs[-1]
    window = [
        loss
        for loss, e in zip(test_losses, epochs, strict=True)
        if e >= last - STALL_EPOCHS and math.isfinite(loss)
    ]
    if len(window) < 2:
        return False
    scale = max(abs(window[-1]), 1e-6)
    return (max(window) - min(window)) / scale < STALL_CHANGE


def status_counts(tiles: list[Tile], now: float | None = None) -> dict[str, int]:
    counts = dict.fromkeys(STATUSES, 0)
    for tile in tiles:
        counts[tile.seen_status(now)] += 1
    return counts


def sorted_tiles(tiles: list[Tile], by: str, now: float | None = None) -> list[Tile]:
    """The wall's order: "status" (stuck first, then by name), "score" (best first,
    unscored last) or "name"."""
    if by == "score":

        def key(t):
            finite = math.isfinite(t.score)
            return (not finite, -t.score if finite else 0, t.name.casefold(), t.member)

    elif by == "name":

        def key(t):
            return (t.name.casefold(), t.member)

    else:

        def key(t):
            return (STATUSES.index(t.seen_status(now)), t.name.casefold(), t.member)

    return sorted(tiles, key=key)


# --- the leaderboard -------------------------------------------------------------------------

NO_STEPS = 1e300  # a model file that does not say its steps ranks after every one that does
ENTRY_KEYS = ("name", "member", "challenge", "relus", "parameters", "steps", "score", "time")


def entry_key(entry: dict) -> tuple[float, float, float, float]:
    """What ranks a passed challenge: fewest ReLUs, then parameters, then steps, then the
    earliest time. The Redis store compares the same four numbers (in Lua)."""
    steps = entry.get("steps")
    return (
        float(entry["relus"]),
        float(entry["parameters"]),
        NO_STEPS if steps is None else float(steps),
        float(entry["time"]),
    )


def better_entry(new: dict, old: dict | None) -> bool:
    """Whether ``new`` replaces a learner's ``old`` best (a tie keeps the older one)."""
    return old is None or entry_key(new) < entry_key(old)


def rank_entries(entries: list[dict]) -> list[dict]:
    """The leaderboard: each learner's best entry only (by member id), best first. Ties
    on all four numbers keep a fixed order (the member id)."""
    best: dict[str, dict] = {}
    for e in entries:
        if better_entry(e, best.get(e["member"])):
            best[e["member"]] = e
    return sorted(best.values(), key=lambda e: (*entry_key(e), e["member"]))


# --- the class experiment -------------------------------------------------------------------


class Knob(NamedTuple):
    label: str  # as people read it: "learning rate"
    whole: bool  # whole numbers only
    lo: float
    hi: float
    lesson: str  # what the class should see in the plot
    start: float  # the form's first range
    stop: float
    log: bool


# The knobs a class experiment may turn. Width and depth set the hidden layers; L2
# strength sets the penalty to L2 and its rate.
KNOBS: dict[str, Knob] = {
    "learning_rate": Knob(
        "learning rate",
        False,
        FIELDS["learning_rate"].lo,
        FIELDS["learning_rate"].hi,
        "Too small: slow; too large: diverges. The best learning rate sits between.",
        1e-3,
        1e-1,
        True,
    ),
    "width": Knob(
        "width",
        True,
        FIELDS["hidden"].lo,
        FIELDS["hidden"].hi,
        "Too narrow: too few bends for the shape; wide enough: it fits, and wider buys little.",
        1,
        64,
        True,
    ),
    "depth": Knob(
        "depth",
        True,
        0,
        MAX_DEPTH,
        "No hidden layer: a straight line; each layer folds the last one's regions, but a "
        "deep narrow net is harder to train.",
        0,
        4,
        False,
    ),
    "batch_size": Knob(
        "batch size",
        True,
        FIELDS["batch_size"].lo,
        FIELDS["batch_size"].hi,
        "Small batches: noisy steps, many per epoch; large batches: smooth steps, few per epoch.",
        1,
        250,
        True,
    ),
    "reg_rate": Knob(
        "L2 strength",
        False,
        FIELDS["reg_rate"].lo,
        FIELDS["reg_rate"].hi,
        "Too weak: it fits the noise; too strong: the boundary is too simple to fit at all.",
        1e-4,
        1.0,
        True,
    ),
    "seed": Knob(
        "seed",
        True,
        FIELDS["seed"].lo,
        FIELDS["seed"].hi,
        "Same settings, other points and first weights: the spread is luck, not skill.",
        0,
        29,
        False,
    ),
}
MAX_VALUES = 200  # values in one experiment (learners past it start over at the first)


@dataclass(frozen=True)
class Experiment:
    """One knob, ``count`` values from ``start`` to ``stop`` (log or linear spacing): the
    n-th learner to take part gets the n-th value (after the last, the first again)."""

    knob: str
    start: float
    stop: float
    count: int
    log: bool = False
    id: str = field(default_factory=lambda: secrets.token_hex(4))  # tells tiles apart

    def __post_init__(self):
        if self.knob not in KNOBS:
            raise PlaygroundError(f"there is no knob {self.knob!r}; choose {', '.join(KNOBS)}")
        k = KNOBS[self.knob]
        if not 1 <= self.count <= MAX_VALUES:
            raise PlaygroundError(f"an experiment has 1 to {MAX_VALUES} values")
        for v in (self.start, self.stop):
            if not (math.isfinite(v) and k.lo <= v <= k.hi):
                raise PlaygroundError(
                    f"the {k.label} must lie between {number_text(k.lo)} and {number_text(k.hi)}"
                )
        if self.log and min(self.start, self.stop) <= 0:
            raise PlaygroundError(
                "a log range needs values above 0: choose linear, or start above 0"
            )

    @property
    def label(self) -> str:
        return KNOBS[self.knob].label

    def values(self) -> list[float]:
        """The values in order, rounded to 6 digits (as a link writes them: the value
        shown is the value trained)."""
        n, a, b = self.count, self.start, self.stop
        if n == 1:
            raw = [a]
        elif self.log:
            la, lb = math.log(a), math.log(b)
            raw = [math.exp(la + (lb - la) * i / (n - 1)) for i in range(n)]
        else:
            raw = [a + (b - a) * i / (n - 1) for i in range(n)]
        if KNOBS[self.knob].whole:
            return [float(round(v)) for v in raw]
        return [float(f"{v:.6g}") for v in raw]

    def value(self, place: int) -> float:
        """The value of the learner who took part ``place``-th (from 0)."""
        return self.values()[place % self.count]

    def describe(self) -> str:
        spacing = "log-spaced" if self.log else "evenly spaced"
        return (
            f"{self.label}: {self.count} values {spacing} from {number_text(self.start)} "
            f"to {number_text(self.stop)}"
        )

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, raw: dict) -> "Experiment":
        return cls(
            knob=str(raw["knob"]),
            start=float(raw["start"]),
            stop=float(raw["stop"]),
            count=int(raw["count"]),
            log=bool(raw.get("log", False)),
            id=str(raw.get("id", "")),
        )


def knob_exercise(exercise: dict[str, str], knob: str, value: float) -> dict[str, str]:
    """The class's exercise with the knob set to ``value`` and fixed (hidden): what one
    learner of the experiment trains."""
    cfg, _ = from_query(exercise)
    lesson, _ = lesson_from_query(exercise)
    whole = round(value)
    if knob == "width":
        change = {"hidden": (whole,) * max(cfg.depth, 1)}
    elif knob == "depth":
        change = {"hidden": (cfg.hidden[0] if cfg.hidden else 8,) * whole}
    elif knob == "reg_rate":
        change = {"reg": "l2", "reg_rate": float(value)}
    else:
        change = {knob: whole if KNOBS[knob].whole else float(value)}
    # Other spellings of the changed settings (lr, width, depth) would compete with them.
    spelled = {"width", "depth"} if "hidden" in change else set()
    out = {
        k: v
        for k, v in exercise.items()
        if ALIASES.get(k, k) not in change and k not in spelled and k != "hide"
    }
    out.update({name: format_field(name, v) for name, v in change.items()})
    hide = lesson.hide | set(change)
    out.update({"hide": lesson_query(lesson._replace(hide=frozenset(hide)))["hide"]})
    return out


def experiment_tiles(tiles: list[Tile], experiment: Experiment) -> list[Tile]:
    """The tiles of learners who run this experiment's value (not an earlier one's)."""
    return [
        t
        for t in tiles
        if t.experiment == experiment.id and t.knob == experiment.knob and math.isfinite(t.value)
    ]


def _cell(text: str) -> str:
    """A name as a spreadsheet cell: one starting like a formula stays text."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def experiment_csv(tiles: list[Tile], experiment: Experiment) -> str:
    """The experiment's table: name, value, epoch, test loss, score; by value."""
    buf = io.StringIO()
    out = csv.writer(buf, lineterminator="\n")
    out.writerow(["name", experiment.knob, "epoch", "test_loss", "score", "metric"])
    for t in sorted(experiment_tiles(tiles, experiment), key=lambda t: (t.value, t.name)):
        out.writerow(
            [
                _cell(t.name),
                f"{t.value:.6g}",
                t.epoch,
                "" if not math.isfinite(t.test_loss) else f"{t.test_loss:.6g}",
                "" if not math.isfinite(t.score) else f"{t.score:.6g}",
                t.metric,
            ]
        )
    return buf.getvalue()
