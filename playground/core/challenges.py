"""Challenges: a problem, a goal and limits, graded on the challenge's own test points.

A challenge's points come from the dataset registry (``datasets.make_dataset``) with the
challenge's own seed. That seed lies above every seed a run may choose
(``config.FIELDS["seed"]``), so no learner ever trains on these points, and they stay on
the server. ``grade`` judges the weights of a model file (``modelfile.SavedModel``),
never a number someone sends, and says in plain words why a model fails.
"""

import hashlib
import json
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from playground.core.config import FIELDS, OWN_PROBLEM_LABELS, Lesson, RunConfig
from playground.core.datasets import MAX_ARMS, MAX_POINTS, PROBLEMS, make_dataset, problem_task
from playground.core.errors import PlaygroundError
from playground.core.features import FEATURES, RAW_FEATURES
from playground.core.model import ACTIVATIONS, output_size, param_count
from playground.core.modelfile import SavedModel
from playground.core.train import ModelSpec, evaluate, metric_label, metric_name

# Every challenge seed lies above the seeds a run may choose: its points are never
# the training (or test) set of anyone's run.
TEST_SEED_BASE = int(FIELDS["seed"].hi) + 1
CUSTOM_TEST_SEED = TEST_SEED_BASE + 1000
TEST_POINTS = 2000
SCORE_DIGITS = 6  # exact for an accuracy on up to MAX_POINTS points
# A ReLU challenge counts ReLUs: a net of other units is not what it asks for.
RELU_ONLY = ("relu",)


@dataclass(frozen=True)
class Challenge:
    """A problem, a goal (test accuracy or R² at least ``goal``) and limits."""

    name: str
    title: str
    problem: str  # a key of datasets.PROBLEMS
    goal: float  # the least test accuracy (classes) or R² (regression) that passes
    max_relus: int
    test_seed: int
    classes: int = 2  # spiral arms; the other problems ignore it (as RunConfig.classes)
    max_parameters: int | None = None
    max_steps: int | None = None
    features: tuple[str, ...] = RAW_FEATURES  # the inputs a model may use
    activations: tuple[str, ...] = RELU_ONLY  # what its hidden units may be
    n_test: int = TEST_POINTS
    noise: float = 0.0

    def __post_init__(self):
        if self.problem not in PROBLEMS:
            raise PlaygroundError(
                f"a challenge needs one of the built-in problems ({', '.join(PROBLEMS)}); "
                f"{self.problem!r} is not one"
            )
        if self.test_seed < TEST_SEED_BASE:
            raise PlaygroundError(
                f"a challenge's test seed must be at least {TEST_SEED_BASE:,}, above every "
                "training seed"
            )
        hi = 1.0
        lo = 0.0 if self.metric == "accuracy" else -1.0
        if not lo < self.goal <= hi:
            raise PlaygroundError(f"the goal's {self.metric_label} must lie in ({lo:g}, {hi:g}]")
        for limit, what in (
            (self.max_relus, "ReLU"),
            (self.max_parameters, "parameter"),
            (self.max_steps, "step"),
        ):
            if limit is not None and limit < 0:
                raise PlaygroundError(f"the {what} budget must be 0 or more")
        if not FIELDS["noise"].lo <= self.noise <= FIELDS["noise"].hi:
            raise PlaygroundError(
                f"the noise must lie between {FIELDS['noise'].lo:g} and {FIELDS['noise'].hi:g}"
            )
        if not 2 <= self.classes <= MAX_ARMS:
            raise PlaygroundError(f"a challenge has 2 to {MAX_ARMS} classes")
        if not 1 <= self.n_test <= MAX_POINTS:
            raise PlaygroundError(f"a challenge has 1 to {MAX_POINTS:,} test points")
        unknown = [f for f in self.features if f not in FEATURES]
        if unknown:
            raise PlaygroundError(f"unknown features {unknown}; known: {', '.join(FEATURES)}")

    @property
    def task(self) -> str:
        return problem_task(self.problem, self.classes)[0]

    @property
    def n_classes(self) -> int:
        return problem_task(self.problem, self.classes)[1]

    @property
    def metric(self) -> str:
        """ "accuracy" or "r2" (train.metric_name)."""
        return metric_name(self.task)

    @property
    def metric_label(self) -> str:
        return metric_label(self.task)

    @property
    def problem_label(self) -> str:
        return problem_text(self.problem, self.n_classes)

    def goal_text(self) -> str:
        return f"test {self.metric_label} >= {self.goal:.2f}"

    def limits_text(self) -> str:
        parts = [f"at most {self.max_relus:,} ReLUs"]
        if self.max_parameters is not None:
            parts.append(f"{self.max_parameters:,} parameters")
        if self.max_steps is not None:
            parts.append(f"{self.max_steps:,} training steps")
        return ", ".join(parts)

    def describe(self) -> str:
        """The challenge in one line: problem, goal and limits."""
        inputs = ", ".join(FEATURES[f].label for f in self.features)
        return (
            f"{self.problem_label}: {self.goal_text()} on {self.n_test:,} points of its own, "
            f"{self.limits_text()}; inputs {inputs}."
        )

    def public(self) -> dict:
        """What anyone may read: everything but the test seed."""
        return {
            "name": self.name,
            "title": self.title,
            "problem": self.problem,
            "classes": None if self.task == "regression" else self.n_classes,
            "task": self.task,
            "metric": self.metric,
            "goal": self.goal,
            "max_relus": self.max_relus,
            "max_parameters": self.max_parameters,
            "max_steps": self.max_steps,
            "features": list(self.features),
            "activations": list(self.activations),
            "test_points": self.n_test,
        }

    def run_config(self, base: RunConfig) -> RunConfig:
        """``base`` with this challenge's problem (its data settings and allowed inputs);
        the network and the training settings stay the learner's."""
        features = tuple(f for f in base.features if f in self.features) or self.features
        return base.replace(
            problem=self.problem,
            classes=self.classes if PROBLEMS[self.problem].many_classes else base.classes,
            noise=self.noise,
            features=features,
        )


def problem_text(problem: str, n_classes: int) -> str:
    """A problem's name as people read it: "Spiral (3 arms)", "XOR", "Your formula"."""
    if problem in PROBLEMS:
        label = PROBLEMS[problem].label
        return f"{label} ({n_classes} arms)" if PROBLEMS[problem].many_classes else label
    return OWN_PROBLEM_LABELS.get(problem, repr(problem))


CHALLENGES: dict[str, Challenge] = {
    c.name: c
    for c in (
        Challenge(
            "spiral-3",
            "Three spiral arms",
            "spiral",
            goal=0.90,
            max_relus=128,
            test_seed=TEST_SEED_BASE + 1,
            classes=3,
        ),
        Challenge(
            "product",
            "The product x₁·x₂ with 32 ReLUs",
            "product",
            goal=0.95,
            max_relus=32,
            test_seed=TEST_SEED_BASE + 2,
        ),
        Challenge(
            "xor-4",
            "XOR with 4 ReLUs",
            "xor",
            goal=0.95,
            max_relus=4,
            test_seed=TEST_SEED_BASE + 3,
        ),
    )
}


def get_challenge(name: str) -> Challenge:
    """A built-in challenge by name; an unknown name is a PlaygroundError."""
    if name not in CHALLENGES:
        raise PlaygroundError(f"unknown challenge {name!r}; choose one of {', '.join(CHALLENGES)}")
    return CHALLENGES[name]


def custom_challenge(
    problem: str,
    *,
    goal: float,
    max_relus: int,
    classes: int = 2,
    max_parameters: int | None = None,
    max_steps: int | None = None,
    features: tuple[str, ...] = RAW_FEATURES,
    noise: float = 0.0,
    name: str = "custom",
    title: str = "",
    test_seed: int = CUSTOM_TEST_SEED,
) -> Challenge:
    """A teacher's own challenge from the current settings: a built-in problem, a goal
    (test accuracy or R², by the problem's task) and budgets of ReLUs, parameters and
    steps. Bad settings are a PlaygroundError in plain words."""
    budgets = {"max_relus": max_relus, "max_parameters": max_parameters, "max_steps": max_steps}
    budgets = {k: None if v is None else int(v) for k, v in budgets.items()}
    return Challenge(
        name,
        title or "Your own challenge",
        problem,
        goal=float(goal),
        test_seed=int(test_seed),
        classes=int(classes),
        features=tuple(features),
        noise=float(noise),
        **budgets,
    )


TEACHER_CHALLENGE = "teacher"  # the start of the name of a link's (or class's) own
TEACHER_TITLE = "Your teacher's challenge"


def lesson_challenge(lesson: Lesson) -> Challenge | None:
    """A teacher's link (or class exercise) with a goal and a budget as a challenge: the
    link's problem, graded on points of its own. None when the lesson sets no budget; a
    PlaygroundError when its goal's score is not how that problem is scored."""
    if lesson.budget is None or lesson.goal is None:
        return None
    b = lesson.budget
    # A name per goal and budget: a class's leaderboard never ranks two of them together.
    terms = json.dumps([lesson.goal, b]).encode()
    challenge = custom_challenge(
        b.problem,
        goal=lesson.goal.at_least,
        max_relus=b.relus,
        classes=b.classes,
        max_parameters=b.parameters,
        max_steps=b.steps,
        features=b.features,
        noise=b.noise,
        name=f"{TEACHER_CHALLENGE}-{hashlib.sha256(terms).hexdigest()[:8]}",
        title=TEACHER_TITLE,
    )
    if challenge.metric != lesson.goal.metric:
        raise PlaygroundError(
            f"the goal names {lesson.goal.words()}, but {challenge.problem_label} is "
            f"scored by {challenge.metric_label}"
        )
    return challenge


def challenge_points(challenge: Challenge) -> tuple[np.ndarray, np.ndarray]:
    """The challenge's own points x (n_test, 2) and labels or targets y (n_test,): the
    problem drawn with the challenge's seed (both parts of that split together)."""
    data = make_dataset(
        challenge.problem,
        n_points=challenge.n_test,
        noise=challenge.noise,
        seed=challenge.test_seed,
        classes=challenge.classes,
    )
    x = np.concatenate([data.x_train, data.x_test])
    y = np.concatenate([data.y_train, data.y_test])
    return x, y


class Grade(NamedTuple):
    challenge: str  # the challenge's name
    passed: bool
    score: float | None  # test accuracy or R² on the challenge's points; None: not scored
    relus: int  # hidden units
    parameters: int
    steps: int | None  # training steps, as the model file says (None: it does not)
    reason: str  # why it passed or not, in plain words


def _compare(score: float, goal: float) -> tuple[str, str]:
    """Score and goal printed with as few decimals (at least 2) as tell them apart."""
    digits = 2

    def misleads(d: int) -> bool:  # looks equal to the goal, or looks perfect but is not
        return round(score, d) == round(goal, d) or (score < 1 <= round(score, d))

    while digits < 6 and score != goal and misleads(digits):
        digits += 1
    return f"{score:.{digits}f}", f"{goal:.{digits}f}"


def _count(n: int, word: str) -> str:
    return f"{n:,} {word}" + ("" if n == 1 else "s")


def _default_classes(task: str) -> int:
    """Classes of a task when a file does not say: 2 for binary, 1 (a value) else."""
    return 2 if task == "binary" else 1


def _does(task: str, k: int) -> str:
    return "predicts a number (regression)" if task == "regression" else f"tells {k} classes apart"


def _asks(challenge: Challenge) -> str:
    if challenge.task == "regression":
        return "a number (regression)"
    return f"{challenge.n_classes} classes"


def _fit_reason(challenge: Challenge, model: SavedModel) -> str:
    """'' when the model is made for the challenge's problem, else why not."""
    meta = model.meta
    problem = meta.get("problem")
    if problem is not None and problem != challenge.problem:
        k = int(meta.get("n_classes", 2))
        return (
            f"the model was made for the problem {problem_text(str(problem), k)}, not "
            f"{challenge.problem_label}"
        )
    task = meta.get("task")
    if task is not None:
        k = int(meta.get("n_classes", _default_classes(task)))
        if (task, k) != (challenge.task, challenge.n_classes):
            return f"the model {_does(task, k)}; the challenge asks for {_asks(challenge)}"
    n_out = int(model.params[-1][0].shape[1])
    want = output_size(challenge.task, challenge.n_classes)
    if n_out != want:
        return f"the model has {_count(n_out, 'output')}; this challenge needs {want}"
    return ""


def _rule_reasons(challenge: Challenge, model: SavedModel, grade: Grade) -> list[str]:
    """Why the model breaks the challenge's rules: inputs, units, budgets."""
    reasons = []
    extra = [f for f in model.features if f not in challenge.features]
    if extra:
        allowed = ", ".join(FEATURES[f].label for f in challenge.features)
        used = ", ".join(FEATURES[f].label for f in extra)
        inputs = "input" if len(extra) == 1 else "inputs"
        reasons.append(f"the model uses the {inputs} {used}; this challenge allows only {allowed}")
    if model.hidden and model.activation not in challenge.activations:
        allowed = " or ".join(ACTIVATIONS[a].label for a in challenge.activations)
        reasons.append(
            f"the model's hidden units are {ACTIVATIONS[model.activation].label}, not {allowed}"
        )
    if grade.relus > challenge.max_relus:
        reasons.append(f"{grade.relus:,} ReLUs over the {challenge.max_relus:,} allowed")
    if challenge.max_parameters is not None and grade.parameters > challenge.max_parameters:
        reasons.append(
            f"{grade.parameters:,} parameters over the {challenge.max_parameters:,} allowed"
        )
    if challenge.max_steps is not None:
        if grade.steps is None:
            reasons.append(
                "the model file does not say how many steps trained it, and this challenge "
                f"allows at most {challenge.max_steps:,}"
            )
        elif grade.steps > challenge.max_steps:
            reasons.append(
                f"{grade.steps:,} training steps over the {challenge.max_steps:,} allowed"
            )
    return reasons


def score_model(challenge: Challenge, model: SavedModel) -> float:
    """Test accuracy or R² of the model on the challenge's points (train.evaluate, the
    very score training reports), to SCORE_DIGITS decimals (NaN if the outputs are not
    finite)."""
    x, y = challenge_points(challenge)
    spec = ModelSpec(
        tuple(model.features), model.hidden, model.activation, challenge.task, challenge.n_classes
    )
    params = [(np.asarray(w, np.float32), np.asarray(b, np.float32)) for w, b in model.params]
    # evaluate scores a train and a test set; the challenge's points are both here.
    score = float(evaluate(params, x, y, x, y, spec=spec)["test_metric"])
    # Rounded off float32's last digits: the score shown is the score judged.
    return round(score, SCORE_DIGITS) if np.isfinite(score) else float("nan")


def grade(challenge: Challenge, model: SavedModel) -> Grade:
    """Grade a model's weights on the challenge's own points, against its goal and limits.

    ``passed`` only when the model is made for the challenge's problem, keeps every
    rule and reaches the goal; ``reason`` says why in plain words, every failure named.
    """
    sizes = [int(model.params[0][0].shape[0]), *model.hidden, int(model.params[-1][0].shape[1])]
    step = model.meta.get("step")
    result = Grade(
        challenge.name,
        passed=False,
        score=None,
        relus=sum(model.hidden),
        parameters=param_count(sizes),
        steps=None if step is None else int(step),
        reason="",
    )
    reasons = []
    misfit = _fit_reason(challenge, model)
    if misfit:
        reasons.append(misfit)
    reasons += _rule_reasons(challenge, model, result)
    if not misfit:
        score = score_model(challenge, model)
        if not np.isfinite(score):
            reasons.append("the model's outputs are not finite numbers on the challenge's points")
        else:
            result = result._replace(score=score)
            got, goal = _compare(score, challenge.goal)
            if score < challenge.goal:
                reasons.append(
                    f"test {challenge.metric_label} {got} < {goal} on the challenge's points"
                )
    if reasons:
        return result._replace(reason="; ".join(reasons))
    got, goal = _compare(result.score, challenge.goal)
    return result._replace(
        passed=True,
        reason=(
            f"test {challenge.metric_label} {got} >= {goal} on the challenge's points, with "
            f"{result.relus:,} ReLUs of the {challenge.max_relus:,} allowed"
        ),
    )
