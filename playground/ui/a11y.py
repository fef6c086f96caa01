"""What every page needs to be usable by every learner (WCAG 2.1 AA, issue 23): text
colours dark enough to read (4.5:1), a visible keyboard focus, no Plotly toolbar in the
Tab order, calm pictures for those who ask for less motion, and the Playground's keyboard
shortcuts.

The colours here are the one source of truth for text the app colours itself (captions,
code, the copy button's hover); ``tests/test_colours.py`` checks their contrast.
"""

import streamlit as st

# Streamlit draws captions in its text colour at opacity 0.6 (#828180 on white: 3.9:1)
# and code on this background in its own syntax colours (3.1-3.6:1): darker ones here.
CAPTION_TEXT = "#5c5b59"
CODE_BACKGROUND = "#f7f7f6"
CODE_TOKEN_COLOURS = {
    "comment": "#5b5e6b",
    "punctuation": "#5b5e6b",
    "keyword": "#0b5fad",
    "function": "#0b5fad",
    "operator": "#b04a00",
    "string": "#11772f",
    "boolean": "#11772f",
    "number": "#0b7568",
}
ACCENT_TEXT = "#b32424"  # a red for text on white (Streamlit's #ff4b4b is 3.3:1)
FOCUS_RING = "#0b5fad"
PAGE_BACKGROUND = "#ffffff"

SHORTCUTS = {" ": "Play / Pause", "s": "Step", "r": "Reset"}
SHORTCUTS_TEXT = (
    "Keyboard: Space plays or pauses, S trains one step (an epoch), R resets; Tab moves "
    "between controls."
)


def _page_css() -> str:
    tokens = "\n".join(
        f'[data-testid="stCode"] .token.{name} {{ color: {colour}; }}'
        for name, colour in CODE_TOKEN_COLOURS.items()
    )
    return f"""<style>
[data-testid="stCaptionContainer"] {{ color: {CAPTION_TEXT}; opacity: 1 !important; }}
{tokens}
/* KaTeX's 2 px baseline strut overflowed each formula, making it a scroll box no key reaches. */
.katex-display {{ padding: 0 0.25em; }}
/* Streamlit's own focus ring is faint on some controls: one that shows everywhere. */
:focus-visible {{ outline: 2px solid {FOCUS_RING} !important; outline-offset: 2px; }}
.sr-only {{ position: absolute; width: 1px; height: 1px; padding: 0; margin: -1px;
  overflow: hidden; clip: rect(0, 0, 0, 0); white-space: nowrap; border: 0; }}
@media (prefers-reduced-motion: reduce) {{
  *, *::before, *::after {{ animation-duration: 0.01ms !important;
    animation-iteration-count: 1 !important; transition-duration: 0.01ms !important;
    scroll-behavior: auto !important; }}
}}
</style>"""


# Plotly's toolbar puts five links per chart into the Tab order (Play was the 57th stop):
# the keyboard skips them, on every chart of every page, as charts come and go. Zoom and
# pan are mouse gestures; what the toolbar offers by keyboard is on the page.
_TOOLBAR_OUT_OF_TAB_ORDER_JS = """<script>
(() => {
  if (window.__playgroundToolbarKeys) return;
  window.__playgroundToolbarKeys = true;
  const skip = () => {
    for (const b of document.querySelectorAll(".modebar-btn:not([tabindex='-1'])")) {
      b.setAttribute("tabindex", "-1");
    }
  };
  skip();
  new MutationObserver(skip).observe(document.body, { childList: true, subtree: true });
})();
</script>"""


def page_setup() -> None:
    """What every page shares (called by the entry before the page runs): the styles,
    and Plotly's toolbars out of the Tab order."""
    st.html(_page_css())
    st.html(_TOOLBAR_OUT_OF_TAB_ORDER_JS, unsafe_allow_javascript=True)


# Space, S and R press the Playground's own buttons, found by their words; never while
# the focus is in a field or on a control that uses these keys itself. Heard first (the
# capture phase) and kept from Streamlit, whose own R would rerun the page instead.
_SHORTCUTS_JS = """<script>
(() => {
  if (window.__playgroundShortcuts) return;
  window.__playgroundShortcuts = true;
  const OWN_KEYS = "input, textarea, select, [contenteditable], [role=slider], [role=combobox],"
    + " [role=listbox], [role=option], [role=switch], [role=checkbox], [role=radio], [role=tab]";
  const BUTTONS = { " ": ["Play", "Pause"], s: ["Step"], r: ["Reset"] };
  window.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const names = BUTTONS[event.key.toLowerCase()];
    const target = event.target;
    if (!names || target?.closest?.(OWN_KEYS)) return;
    if (event.key === " " && target?.closest?.("button, a, summary")) return;
    const main = document.querySelector('[data-testid="stMain"]') ?? document;
    // The one on screen: Streamlit keeps a hidden copy of some buttons beside it.
    const button = [...main.querySelectorAll("button")].find(
      (b) => names.includes(b.innerText.trim()) && !b.disabled && b.getClientRects().length
        && b.getBoundingClientRect().width > 0);
    if (!button) return;
    event.preventDefault();
    event.stopPropagation();
    button.click();
  }, true);
})();
</script>"""


def keyboard_shortcuts() -> None:
    """Space, S and R on the Playground, and a line on the page that says so."""
    st.html(_SHORTCUTS_JS, unsafe_allow_javascript=True)
    st.caption(SHORTCUTS_TEXT)
