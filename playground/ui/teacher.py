"""For teachers: a link that opens the Playground with chosen controls hidden (their
values fixed) and, if wanted, training already playing; and the classroom presets."""

import functools
from urllib.parse import urlencode

import streamlit as st

from playground.core.config import FIELDS, Lesson, lesson_query, to_query
from playground.core.presets import PRESETS
from playground.live.live_run import LiveRun

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
    const url = `${location.origin}${location.pathname}?${data.query}`;
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
_COPY_CSS = """
.copy-link { font: inherit; padding: 0.35rem 0.9rem; border-radius: 0.5rem;
  border: 1px solid rgba(49, 51, 63, 0.2); background: white; cursor: pointer; }
.copy-link:hover { border-color: #ff4b4b; color: #ff4b4b; }
"""


@functools.cache
def _copy_button():
    return st.components.v2.component(
        "playground.copy_link", js=_COPY_JS, css=_COPY_CSS, isolate_styles=False
    )


def copy_link(query: dict[str, str], *, key: str) -> None:
    """A "Copy link" button: this page's address with ``query``."""
    _copy_button()(key=key, data={"query": urlencode(query)}, height=44)


def teacher_panel(run: LiveRun) -> None:
    """Make a link for a class from the current settings, or take a preset's."""
    with st.expander("For teachers: a link for your class"):
        st.caption(
            "The link opens this page with the current settings. Controls you hide here "
            "are not shown to your learners, so their values stay as they are now."
        )
        hide = st.multiselect(
            "Hide these controls",
            list(FIELDS),
            format_func=lambda n: FIELDS[n].label,
            key="teacher_hide",
        )
        play = st.toggle("Start training when the link opens", key="teacher_play")
        query = {**to_query(run.cfg), **lesson_query(Lesson(frozenset(hide), play))}
        copy_link(query, key="teacher_copy")
        st.caption("Or hand out one of these exercises (each link opens it):")
        for name, preset in PRESETS.items():
            st.markdown(f"**[{preset.title}](?{urlencode(preset.query())})**: {preset.task}")
            copy_link(preset.query(), key=f"teacher_copy_{name}")
