"""For teachers: a link that opens the Playground with chosen controls hidden (their
values fixed), if wanted training already playing, and an exercise (its task and goal);
and the classroom presets. Each link is shown as text, starting with the address
learners can open (``links.teacher_link``), with a warning when they cannot."""

import functools
from urllib.parse import urlencode

import streamlit as st

from playground.core.challenges import lesson_challenge
from playground.core.config import (
    FIELDS,
    GOAL_METRICS,
    MAX_TEXT,
    Budget,
    Goal,
    Lesson,
    RunConfig,
    lesson_query,
    to_query,
)
from playground.core.datasets import PROBLEMS
from playground.core.errors import PlaygroundError
from playground.core.presets import PRESETS
from playground.live.session.live_run import LiveRun
from playground.ui import links, run_state
from playground.ui.a11y import ACCENT_TEXT
from playground.ui.escape import escape_markdown
from playground.ui.pages import CLASS_PAGE

# Components v2 have no clipboard of their own: the browser's, with the old copy command
# where the page is not a secure context (http to another host) and navigator.clipboard
# is missing.
_COPY_JS = """
export default function ({ data, parentElement }) {
  let button = parentElement.querySelector("button");
  if (!button) {
    button = document.createElement("button");
    button.type = "button";
    button.className = "copy-link";
    parentElement.appendChild(button);
  }
  button.textContent = "Copy link";
  button.onclick = async () => {
    const url = data.url;  // built on the server: the address learners can open
    try {
      await navigator.clipboard.writeText(url);
    } catch {
      const box = document.createElement("textarea");
      box.value = url;
      document.body.appendChild(box);
      box.select();
      document.execCommand("copy");
      box.remove();
    }
    button.dataset.copied = url;
    button.textContent = "Copied";
    setTimeout(() => (button.textContent = "Copy link"), 1500);
  };
}
"""
_COPY_CSS = f"""
.copy-link {{ font: inherit; padding: 0.35rem 0.9rem; border-radius: 0.5rem;
  border: 1px solid rgba(49, 51, 63, 0.2); background: white; cursor: pointer; }}
.copy-link:hover {{ border-color: {ACCENT_TEXT}; color: {ACCENT_TEXT}; }}
"""


@functools.cache
def _copy_button():
    return st.components.v2.component(
        "playground.copy_link", js=_COPY_JS, css=_COPY_CSS, isolate_styles=False
    )


def copy_url(url: str, *, key: str) -> None:
    """``url`` as text and a "Copy link" button."""
    st.code(url, language=None, wrap_lines=True)
    _copy_button()(key=key, data={"url": url}, height=44)


def copy_link(query: dict[str, str], *, key: str, warn: bool = False) -> None:
    """The Playground's link with ``query`` as text and a "Copy link" button; with
    ``warn``, a warning when learners on other computers cannot open it (one a panel:
    every link of the panel starts with the same address)."""
    url, warning = links.teacher_link(query, run_state.host_limits().public_url)
    copy_url(url, key=key)
    if warn and warning:
        # A caption, not st.warning: the panel is the teacher's, closed by default, and
        # the page's warnings are the learner's (what stopped, what the host limits).
        st.caption(f":material/warning: {escape_markdown(warning)}")


def _goal_inputs(prefix: str) -> Goal | None:
    """The exercise's goal: none, or a test score to reach."""
    metric = st.selectbox(
        "Goal",
        [None, *GOAL_METRICS],
        format_func=lambda m: "No goal" if m is None else f"Test {GOAL_METRICS[m][0]} of at least",
        key=f"{prefix}_goal_metric",
    )
    if metric is None:
        return None
    at_least = st.number_input(
        "Score to reach (0 to 1)", 0.0, 1.0, 0.95, step=0.05, key=f"{prefix}_goal_at_least"
    )
    return Goal(metric, float(at_least))


def _budget_inputs(prefix: str, cfg: RunConfig, goal: Goal | None) -> Budget | None:
    """With a goal on a built-in problem, the limits that make the exercise a challenge
    the server grades (on points of its own, as the built-in challenges)."""
    if goal is None:
        return None
    if cfg.problem not in PROBLEMS:
        st.caption("A challenge the server grades needs one of the built-in problems.")
        return None
    if not st.toggle(
        "Make it a challenge the server grades",
        key=f"{prefix}_challenge",
        help="Learners press Submit under Challenges: the server grades their network on "
        "test points of the challenge's own, within your limits; in a class, those who "
        "pass go on the leaderboard.",
    ):
        return None
    left, mid, right = st.columns(3)
    relus = left.number_input(
        "At most ReLUs", 0, 100_000, max(sum(cfg.hidden), 1), key=f"{prefix}_max_relus"
    )
    parameters = mid.number_input(
        "At most parameters (0: any)", 0, 10**9, 0, key=f"{prefix}_max_parameters"
    )
    steps = right.number_input("At most steps (0: any)", 0, 10**9, 0, key=f"{prefix}_max_steps")
    budget = Budget(
        cfg.problem,
        cfg.classes,
        cfg.noise,
        tuple(cfg.features),
        int(relus),
        int(parameters) or None,
        int(steps) or None,
    )
    try:
        challenge = lesson_challenge(Lesson(goal=goal, budget=budget))
    except PlaygroundError as err:
        st.warning(f"No challenge: {escape_markdown(err)}.")
        return None
    st.caption(f"The challenge: {escape_markdown(challenge.describe())}")
    return budget


def exercise_inputs(
    prefix: str, cfg: RunConfig, *, fixed_word: str = "Hide these controls"
) -> Lesson:
    """An exercise's controls to fix, whether training starts at once, its task, its
    goal and, with a goal, a budget that makes it a challenge (widget keys start with
    ``prefix``); on the problem of ``cfg``."""
    hide = st.multiselect(
        fixed_word, list(FIELDS), format_func=lambda n: FIELDS[n].label, key=f"{prefix}_hide"
    )
    play = st.toggle("Start training when the link opens", key=f"{prefix}_play")
    task = st.text_area(
        "Task for your learners (optional; shown at the top of their page)",
        key=f"{prefix}_task",
        max_chars=MAX_TEXT,
        height=80,
    )
    goal = _goal_inputs(prefix)
    return Lesson(frozenset(hide), play, task.strip(), goal, _budget_inputs(prefix, cfg, goal))


def teacher_panel(run: LiveRun) -> None:
    """Make a link for a class from the current settings, or take a preset's."""
    with st.expander("For teachers: a link for your class"):
        st.caption(
            "The link opens this page with the current settings. Controls you hide here "
            "are not shown to your learners, so their values stay as they are now."
        )
        st.page_link(
            CLASS_PAGE,
            label="To watch every learner live on one wall, create a class",
            icon=":material/groups:",
        )
        lesson = exercise_inputs("teacher", run.cfg)
        copy_link({**to_query(run.cfg), **lesson_query(lesson)}, key="teacher_copy", warn=True)
        st.caption("Or hand out one of these exercises (each link opens it):")
        for name, preset in PRESETS.items():
            st.markdown(
                f"**[{preset.title}](?{urlencode(preset.query())})**: "
                f"{escape_markdown(preset.task)}"
            )
            copy_link(preset.query(), key=f"teacher_copy_{name}")
