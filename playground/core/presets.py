"""Classroom presets: a setting and what the teacher's link hides, one link each.

Each preset is a small exercise a teacher can hand out as one address: the controls it
hides keep the preset's values, so the class works on the one idea it is about, and the
link carries the task and its goal, which the learner sees at the top of the page.
"""

from typing import NamedTuple

from playground.core.config import Goal, Lesson, RunConfig, lesson_query, to_query


class ClassPreset(NamedTuple):
    title: str
    cfg: RunConfig
    lesson: Lesson  # its task: what the learners are asked to do, in a sentence or two

    @property
    def task(self) -> str:
        return self.lesson.task

    def query(self) -> dict[str, str]:
        return {**to_query(self.cfg), **lesson_query(self.lesson)}


PRESETS: dict[str, ClassPreset] = {
    "linear_fails": ClassPreset(
        "Make a linear model fail on x₁·x₂",
        RunConfig(problem="product", hidden=(), batch_size=0, learning_rate=0.03),
        Lesson(
            frozenset({"problem", "noise"}),
            play=True,
            task="The linear model cannot fit the product x₁·x₂ (R² stays near 0): add "
            "hidden layers, or the x₁·x₂ feature, until it can.",
            goal=Goal("r2", 0.9),
        ),
    ),
    "fewest_relus": ClassPreset(
        "Fewest ReLUs that solve XOR",
        RunConfig(problem="xor", hidden=(1,), activation="relu", learning_rate=0.03),
        Lesson(
            frozenset({"problem", "activation", "features"}),
            task="One hidden layer of ReLUs: raise its width one unit at a time until the "
            "test accuracy reaches 95%. How few are enough, and where do their bends go?",
            goal=Goal("accuracy", 0.95),
        ),
    ),
    "vanishing": ClassPreset(
        "Make the gradients vanish",
        RunConfig(
            problem="xor",
            hidden=(16,) * 8,
            activation="sigmoid",
            init="uniform",
            optimizer="sgd",
            learning_rate=0.1,
            batch_size=0,
        ),
        Lesson(
            frozenset({"problem", "hidden", "optimizer"}),
            play=True,
            task="Eight sigmoid layers with small first weights: watch the first layers' "
            "gradients fade in the gradient chart, then change the activation or the "
            "initialisation.",
        ),
    ),
}
