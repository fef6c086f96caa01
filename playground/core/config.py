"""One typed, validated run configuration, and its round trip through URL query strings.

``FIELDS`` is the single table of every setting: its type, range, choices, group and help.
It drives validation (clamp or refuse), share links, the CLI and the page widgets.
Groups say what a change does to a live run: "data" and "model" start a new run,
"training" applies at once to the running one, "view" only changes the pictures.
"""

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from playground.core.datasets import MAX_ARMS, MAX_POINTS, PROBLEMS
from playground.core.errors import PlaygroundError
from playground.core.features import FEATURES
from playground.core.model import ACTIVATIONS, INITS, MAX_DEPTH, MAX_WIDTH
from playground.core.train import DECAY_STEPS, OPTIMIZERS, SCHEDULES, Schedule

REGULARIZERS = {"none": "None", "l1": "L1", "l2": "L2"}  # name -> label


class Speed(NamedTuple):
    label: str
    epochs_per_s: float | None  # None: as fast as the machine trains


# How fast Play trains. Small problems learn in well under a second flat out, faster
# than anyone can watch; "normal" is about TensorFlow Playground's pace (one epoch a
# picture at ~30 pictures a second).
SPEEDS: dict[str, Speed] = {
    # Short: the sidebar's box shows ~22 characters (a longer label was cut mid-word).
    "slow": Speed("Slow: 3 epochs/s", 3.0),
    "normal": Speed("Normal: 30 epochs/s", 30.0),
    "fast": Speed("As fast as possible", None),
}
FORMULA_PROBLEM = "formula"
UPLOAD_PROBLEM = "upload"
# Problems a learner brings, beside the registered ones (datasets.PROBLEMS).
OWN_PROBLEM_LABELS = {FORMULA_PROBLEM: "Your formula", UPLOAD_PROBLEM: "Your CSV file"}
# Longest text a link or a text box may carry: the formula parser enforces it too
# (userdata.formula.MAX_FORMULA_CHARS is this constant).
MAX_TEXT = 500
# The optional early stop pauses when the test loss has not improved (by a little more
# than noise: see live.run.plateaued) for this many epochs.
PATIENCE_EPOCHS = 100


@dataclass(frozen=True)
class RunConfig:
    problem: str = "xor"
    formula: str = "x1*x2 > 0"
    noise: float = 0.0
    n_points: int = 500
    train_ratio: float = 0.5
    seed: int = 0
    classes: int = 3
    features: tuple[str, ...] = ("x1", "x2")
    hidden: tuple[int, ...] = (8, 8)
    activation: str = "relu"
    init: str = "he"
    init_sigma: float = 1.0
    optimizer: str = "adam"
    # Adam at 0.01 learns every problem with a net big enough for it; 0.03 killed the
    # 3- and 4-arm spirals at 32x3 (README, "Defaults").
    learning_rate: float = 0.01
    schedule: str = "constant"
    warmup_steps: int = 0
    decay_steps: int = DECAY_STEPS
    batch_size: int = 10
    reg: str = "none"
    reg_rate: float = 0.001
    dropout: float = 0.0
    speed: str = "normal"
    early_stop: bool = False
    show_test: bool = False
    discretize: bool = False

    @property
    def depth(self) -> int:
        return len(self.hidden)

    @property
    def lr_schedule(self) -> Schedule:
        """The learning-rate schedule training follows (``train.Schedule``)."""
        return Schedule(self.schedule, self.warmup_steps, self.decay_steps)

    def replace(self, **changes) -> "RunConfig":
        return dataclasses.replace(self, **changes)


class Field(NamedTuple):
    kind: str  # choice | int | float | bool | ints | choices | text
    group: str  # data | model | training | view
    label: str  # what people read: widget titles, notices
    help: str
    lo: float = 0
    hi: float = 0
    choices: tuple[str, ...] = ()
    log: bool = False  # a float best chosen on a log scale


PROBLEM_CHOICES = (*PROBLEMS, FORMULA_PROBLEM, UPLOAD_PROBLEM)

FIELDS: dict[str, Field] = {
    "problem": Field(
        "choice", "data", "Problem", "Which toy problem to learn.", choices=PROBLEM_CHOICES
    ),
    "formula": Field(
        "text",
        "data",
        "Formula",
        "Target formula in x1, x2 (a comparison gives two classes).",
        hi=MAX_TEXT,
    ),
    "noise": Field("float", "data", "Noise", "How much the points scatter (0 to 0.5).", 0.0, 0.5),
    "n_points": Field(
        "int", "data", "Points", "How many points, train and test together.", 20, MAX_POINTS
    ),
    "train_ratio": Field(
        "float", "data", "Training share", "Share of points used for training.", 0.1, 0.9
    ),
    "seed": Field(
        "int", "data", "Seed", "Random seed for the data and the first weights.", 0, 2**31 - 1
    ),
    "classes": Field("int", "data", "Classes", "Number of spiral arms (classes).", 2, MAX_ARMS),
    "features": Field(
        "choices",
        "model",
        "Input features",
        "What the network sees of each point.",
        choices=tuple(FEATURES),
    ),
    "hidden": Field(
        "ints",
        "model",
        "Hidden layers",
        "Width of each hidden layer; none is the linear model.",
        1,
        MAX_WIDTH,
    ),
    "activation": Field(
        "choice",
        "model",
        "Activation",
        "The non-linearity after each hidden layer.",
        choices=tuple(ACTIVATIONS),
    ),
    "init": Field(
        "choice",
        "model",
        "Initialisation",
        "How the first weights are drawn.",
        choices=tuple(INITS),
    ),
    "init_sigma": Field(
        "float",
        "model",
        "σ of the init",
        "Standard deviation σ of the Normal(0, σ) init.",
        1e-3,
        10.0,
        log=True,
    ),
    "optimizer": Field(
        "choice",
        "training",
        "Optimizer",
        "How gradients move the weights.",
        choices=tuple(OPTIMIZERS),
    ),
    "learning_rate": Field(
        "float",
        "training",
        "Learning rate",
        "Step size of each update. Adam learns every problem at 0.01; with SGD, spirals "
        "want ~0.1 while the product blows up above ~0.01.",
        1e-5,
        10.0,
        log=True,
    ),
    "schedule": Field(
        "choice",
        "training",
        "Learning-rate schedule",
        "How the rate moves over the run: held, or falling along a cosine to 0 at the decay "
        "steps, or tenfold every decay steps (exponential).",
        choices=tuple(SCHEDULES),
    ),
    "warmup_steps": Field(
        "int",
        "training",
        # No "step" in a label: its help button would share the Step button's name.
        "Warm-up",
        "Steps over which the rate first grows from 0 to the learning rate.",
        0,
        1_000_000,
    ),
    "decay_steps": Field(
        "int",
        "training",
        "Decay time",
        "In steps. Cosine: the step where the rate reaches 0 (warm-up included); "
        "exponential: steps per tenfold fall.",
        1,
        10_000_000,
    ),
    "batch_size": Field(
        "int",
        "training",
        "Batch size",
        "Points per step; 0 means all training points.",
        0,
        MAX_POINTS,
    ),
    "reg": Field(
        "choice",
        "training",
        "Regularisation",
        "Penalty on large weights.",
        choices=tuple(REGULARIZERS),
    ),
    "reg_rate": Field(
        "float", "training", "Regularisation rate", "Strength of the penalty.", 0.0, 10.0
    ),
    "dropout": Field(
        "float", "training", "Dropout", "Share of hidden units dropped each step.", 0.0, 0.9
    ),
    "speed": Field(
        "choice",
        "training",
        "Speed",
        "How fast Play trains: slow enough to watch, or as fast as the machine can.",
        choices=tuple(SPEEDS),
    ),
    "early_stop": Field(
        "bool",
        "training",
        "Stop when the test loss stops improving",
        f"Pause once the test loss has not improved for {PATIENCE_EPOCHS} epochs.",
    ),
    "show_test": Field("bool", "view", "Show test data", "Draw the test points too."),
    "discretize": Field(
        "bool", "view", "Discretize output", "Show the predicted class instead of a probability."
    ),
}
# Link keys people write from the command line's flags.
ALIASES = {"points": "n_points", "lr": "learning_rate", "sigma": "init_sigma"}
DEFAULT = RunConfig()
# The widths the width slider offers (any other is typed); the shapes compiled ahead are
# among them.
COMMON_WIDTHS = (1, 2, 3, 4, 5, 6, 8, 10, 12, 16, 24, 32, 48, 64, 128, 256, 512, 1024)


def number_text(v: float) -> str:
    """A number as people read it: 2,147,483,647, 0.5, 1e-5 (never 2.14748e+09)."""
    if isinstance(v, int) or (float(v).is_integer() and abs(v) < 1e15):
        return f"{int(v):,}"
    text = f"{v:.6g}"
    if "e" in text:
        mantissa, exponent = text.split("e")
        return f"{mantissa}e{int(exponent)}"
    return text


def _choice_error(name: str, text: str, choices) -> PlaygroundError:
    return PlaygroundError(f"{FIELDS[name].label}: {text!r} is not one of {', '.join(choices)}")


def parse_field(name: str, text: str) -> Any:
    """Parse one field from text (a link, a CLI argument); raises PlaygroundError."""
    f = FIELDS[name]
    text = str(text).strip()
    if len(text) > MAX_TEXT:
        raise PlaygroundError(
            f"{f.label}: {len(text):,} characters is too long (at most {MAX_TEXT:,})"
        )
    if f.kind == "choice":
        if text not in f.choices:
            raise _choice_error(name, text, f.choices)
        return text
    if f.kind == "text":
        return text
    if f.kind == "bool":
        low = text.lower()
        if low in ("1", "true", "yes", "on"):
            return True
        if low in ("0", "false", "no", "off"):
            return False
        raise PlaygroundError(f"{f.label}: {text!r} is not true or false")
    if f.kind == "choices":
        items = tuple(t.strip() for t in text.split(",") if t.strip())
        for t in items:
            if t not in f.choices:
                raise _choice_error(name, t, f.choices)
        if not items:
            raise PlaygroundError(f"{f.label}: choose at least one")
        return tuple(dict.fromkeys(items))
    if f.kind == "ints":
        items = [t.strip() for t in text.split(",") if t.strip()]
        try:
            return tuple(int(t) for t in items)
        except ValueError:
            raise PlaygroundError(f"{f.label}: {text!r} is not a list of whole numbers") from None
    try:
        value = float(text)
    except ValueError:
        raise PlaygroundError(f"{f.label}: {text!r} is not a number") from None
    if not math.isfinite(value):
        raise PlaygroundError(f"{f.label}: {text!r} is not a finite number")
    if f.kind == "int":
        if value != int(value):
            raise PlaygroundError(f"{f.label}: {text!r} is not a whole number")
        return int(value)
    return value


def clamp_field(name: str, value: Any) -> tuple[Any, str | None]:
    """Bring a parsed value into range; the notice says what changed (None if nothing)."""
    f = FIELDS[name]
    if f.kind in ("int", "float"):
        v = min(max(value, f.lo), f.hi)
        v = int(v) if f.kind == "int" else float(v)
        if v != value:
            lo, hi = number_text(f.lo), number_text(f.hi)
            return v, (
                f"{f.label} must lie between {lo} and {hi}: "
                f"{number_text(value)} became {number_text(v)}"
            )
        return v, None
    if f.kind == "ints":
        notice = None
        v = value
        if len(v) > MAX_DEPTH:
            v = v[:MAX_DEPTH]
            notice = f"at most {MAX_DEPTH} hidden layers: kept the first {MAX_DEPTH}"
        clipped = tuple(int(min(max(w, f.lo), f.hi)) for w in v)
        if clipped != v:
            widths = ", ".join(str(w) for w in clipped)
            notice = (
                f"each hidden layer needs {number_text(f.lo)} to {number_text(f.hi)} units: "
                f"the widths became {widths}"
            )
        return clipped, notice
    return value, None


def validate(cfg: RunConfig, *, strict: bool = False) -> tuple[RunConfig, list[str]]:
    """Clamp every field into range. With strict, any out-of-range value is an error."""
    changes, notices = {}, []
    for name, f in FIELDS.items():
        value = getattr(cfg, name)
        if f.kind == "choice" and value not in f.choices:
            raise _choice_error(name, value, f.choices)
        if f.kind == "choices" and (not value or any(v not in f.choices for v in value)):
            raise PlaygroundError(f"{f.label}: choose from {', '.join(f.choices)}")
        new, notice = clamp_field(name, value)
        if notice:
            if strict and f.kind in ("int", "float"):
                raise PlaygroundError(
                    f"{f.label} must lie between {number_text(f.lo)} and {number_text(f.hi)}; "
                    f"{number_text(value)} is out of range"
                )
            if strict:
                raise PlaygroundError(notice)
            notices.append(notice)
            changes[name] = new
    return (cfg.replace(**changes) if changes else cfg), notices


def format_field(name: str, value: Any) -> str:
    f = FIELDS[name]
    if f.kind == "bool":
        return "1" if value else "0"
    if f.kind in ("ints", "choices"):
        return ",".join(str(v) for v in value)
    if f.kind == "float":
        return f"{value:.6g}"
    return str(value)


def to_query(cfg: RunConfig) -> dict[str, str]:
    """The settings that differ from the defaults, as query-string text."""
    return {
        name: format_field(name, getattr(cfg, name))
        for name in FIELDS
        if getattr(cfg, name) != getattr(DEFAULT, name)
    }


def from_query(params: Mapping[str, Any], base: RunConfig = DEFAULT) -> tuple[RunConfig, list[str]]:
    """Read a config from query params; bad values are ignored or clamped, never raised.

    Keys are field names, or the command line's names for them (``points``, ``lr``,
    ``sigma``, ``width`` and ``depth``). Returns the config and a notice for every value
    that was not taken as given.
    """
    changes, notices = {}, []
    texts = {}
    for key, raw in params.items():
        text = raw[-1] if isinstance(raw, list | tuple) and raw else raw
        texts[ALIASES.get(key, key)] = text
    if "hidden" not in texts and ("width" in texts or "depth" in texts):
        texts["hidden"] = _hidden_text(texts.get("width"), texts.get("depth"), base, notices)
    for key, text in texts.items():
        if key not in FIELDS:
            continue  # other pages' params and tracking tags are none of ours
        try:
            value = parse_field(key, text)
        except PlaygroundError as err:
            notices.append(f"Ignored {err}")
            continue
        value, notice = clamp_field(key, value)
        if notice:
            notices.append(f"Changed: {notice}")
        changes[key] = value
    return base.replace(**changes), notices


class Goal(NamedTuple):
    """A teacher's goal: the run's test score (``metric``, a key of GOAL_METRICS) at or
    above ``at_least``. In a link: ``goal=accuracy:0.95``."""

    metric: str
    at_least: float

    def text(self) -> str:
        """As a link carries it (``accuracy:0.95``)."""
        return f"{self.metric}:{self.at_least:g}"

    def words(self) -> str:
        """As people read it: "test accuracy of at least 95%", "test R² of at least 0.9"."""
        label, percent = GOAL_METRICS[self.metric]
        value = f"{100 * self.at_least:g}%" if percent else f"{self.at_least:g}"
        return f"test {label} of at least {value}"


# The scores a goal may name (train.metric_name's values): label, shown as a percentage.
GOAL_METRICS = {"accuracy": ("accuracy", True), "r2": ("R²", False)}


# The limits of a teacher's own challenge, as a link writes them (budget=relus:16,...).
BUDGET_KEYS = {"relus": "ReLUs", "parameters": "parameters", "steps": "training steps"}


class Budget(NamedTuple):
    """A teacher's own challenge: the link's problem (name, classes, noise, inputs), graded
    by the server on points of its own against the link's goal, within these limits
    (None: no limit). In a link: ``budget=relus:16,parameters:300,steps:5000`` beside
    ``goal=``; the problem is the link's."""

    problem: str
    classes: int
    noise: float
    features: tuple[str, ...]
    relus: int
    parameters: int | None = None
    steps: int | None = None

    def text(self) -> str:
        """As a link carries it (``relus:16,steps:5000``)."""
        limits = {"relus": self.relus, "parameters": self.parameters, "steps": self.steps}
        return ",".join(f"{k}:{v}" for k, v in limits.items() if v is not None)


def parse_budget(text: str, cfg: RunConfig) -> Budget:
    """``relus:16,steps:5000`` on the problem of ``cfg`` -> Budget; raises PlaygroundError
    saying what a budget looks like."""
    if cfg.problem not in PROBLEMS:
        raise PlaygroundError("a challenge needs one of the built-in problems")
    limits: dict[str, int] = {}
    for part in (p.strip() for p in text.split(",") if p.strip()):
        key, _, value = part.partition(":")
        key = key.strip().lower()
        if key not in BUDGET_KEYS:
            raise PlaygroundError(
                f"{key[:40]!r} is no limit; write e.g. relus:16,parameters:300,steps:5000"
            )
        try:
            limits[key] = int(value)
        except ValueError:
            raise PlaygroundError(f"{value[:40]!r} is not a whole number") from None
        if not 0 <= limits[key] <= 10**9:
            raise PlaygroundError(f"the {BUDGET_KEYS[key]} limit must lie between 0 and 10⁹")
    if "relus" not in limits:
        raise PlaygroundError("a challenge's budget names its ReLUs, e.g. relus:16")
    return Budget(cfg.problem, cfg.classes, cfg.noise, tuple(cfg.features), **limits)


class Lesson(NamedTuple):
    """What a teacher's link adds to the settings: controls hidden (so their values are
    fixed for the learner), whether training starts as the page opens, the exercise's
    text (at most MAX_TEXT characters, shown as plain text), its goal and, with a goal,
    the budget that makes it a challenge the server grades."""

    hide: frozenset[str] = frozenset()
    play: bool = False
    task: str = ""
    goal: Goal | None = None
    budget: Budget | None = None


# Link keys beside the settings: the one table of a teacher's link, with what each says.
LESSON_KEYS = {
    "hide": "settings the learner cannot change, e.g. hide=learning_rate,activation",
    "play": "start training as the page opens: play=1",
    "task": f"the exercise, in plain text of at most {MAX_TEXT} characters",
    "goal": "the score to reach on the test points, e.g. goal=accuracy:0.95 or goal=r2:0.9",
    "budget": "with a goal, a challenge the server grades: budget=relus:16,parameters:300,"
    "steps:5000 (ReLUs required)",
}
NO_LESSON = Lesson()


def parse_goal(text: str) -> Goal:
    """``accuracy:0.95`` -> Goal; raises PlaygroundError saying what a goal looks like."""
    metric, _, value = text.partition(":")
    metric = metric.strip().lower()
    if metric not in GOAL_METRICS:
        raise PlaygroundError(
            f"{text[:40]!r} names no score; write {' or '.join(m + ':0.95' for m in GOAL_METRICS)}"
        )
    try:
        at_least = float(value)
    except ValueError:
        raise PlaygroundError(f"{value[:40]!r} is not a number between 0 and 1") from None
    if not 0 <= at_least <= 1:  # also refuses nan
        raise PlaygroundError(f"{value[:40]!r} is not a number between 0 and 1")
    return Goal(metric, at_least)


def lesson_from_query(params: Mapping[str, Any]) -> tuple[Lesson, list[str]]:
    """The teacher's part of a link (the keys of LESSON_KEYS). Bad values are ignored,
    with a notice, as any bad value of a link."""
    notices, hide, play, task, goal, budget = [], set(), False, "", None, None
    for key in LESSON_KEYS:
        raw = params.get(key)
        if raw is None:
            continue
        text = str(raw[-1] if isinstance(raw, list | tuple) and raw else raw).strip()
        if len(text) > MAX_TEXT:
            notices.append(f"Ignored {key}: the value is too long ({len(text)} characters)")
            continue
        if key == "task":
            task = text
        elif key == "goal":
            try:
                goal = parse_goal(text)
            except PlaygroundError as err:
                notices.append(f"Ignored goal: {err}")
        elif key == "budget":
            try:
                budget = parse_budget(text, from_query(params)[0])
            except PlaygroundError as err:
                notices.append(f"Ignored budget: {err}")
        elif key == "play":
            low = text.lower()
            if low in ("1", "true", "yes", "on", "0", "false", "no", "off"):
                play = low in ("1", "true", "yes", "on")
            else:
                notices.append(f"Ignored play: {text[:40]!r} is not true or false")
        else:
            for name in (t.strip() for t in text.split(",") if t.strip()):
                if name in FIELDS:
                    hide.add(name)
                else:
                    notices.append(f"Ignored hide: there is no setting called {name[:40]!r}")
    if budget is not None and goal is None:
        notices.append("Ignored budget: a challenge needs a goal too, e.g. goal=accuracy:0.95")
        budget = None
    return Lesson(frozenset(hide), play, task, goal, budget), notices


def lesson_query(lesson: Lesson) -> dict[str, str]:
    """The teacher's part of a link as query-string text (empty for no lesson)."""
    out = {}
    if lesson.hide:
        out["hide"] = ",".join(n for n in FIELDS if n in lesson.hide)
    if lesson.play:
        out["play"] = "1"
    if lesson.task:
        out["task"] = lesson.task[:MAX_TEXT]
    if lesson.goal is not None:
        out["goal"] = lesson.goal.text()
        if lesson.budget is not None:
            out["budget"] = lesson.budget.text()
    return out


def _hidden_text(width, depth, base: RunConfig, notices: list[str]) -> str:
    """``width`` units in each of ``depth`` layers (the CLI's flags), as a hidden list."""
    w = base.hidden[0] if base.hidden else 8
    d = len(base.hidden)
    try:
        w = int(width) if width is not None else w
        d = int(depth) if depth is not None else d
    except ValueError:
        notices.append(f"Ignored width {width!r} / depth {depth!r}: not whole numbers")
        return ",".join(str(v) for v in base.hidden)
    if not 0 <= d <= MAX_DEPTH:
        clamped = min(max(d, 0), MAX_DEPTH)
        notices.append(f"Changed: depth must lie between 0 and {MAX_DEPTH}: {d} became {clamped}")
        d = clamped
    return ",".join([str(w)] * d)


def differing_fields(a: RunConfig, b: RunConfig) -> list[str]:
    """Names of the settings whose values differ, in the table's order."""
    return [n for n in FIELDS if getattr(a, n) != getattr(b, n)]


def reset_fields(old: RunConfig, new: RunConfig) -> list[str]:
    """Names of changed fields that need a fresh run (new data or a new network)."""
    return [
        n
        for n, f in FIELDS.items()
        if f.group in ("data", "model") and getattr(old, n) != getattr(new, n)
    ]
