"""What every page needs to be usable by every learner (WCAG 2.1 AA, issue 23): text
colours dark enough to read (4.5:1), a visible keyboard focus, no Plotly toolbar in the
Tab order, calm pictures for those who ask for less motion, and the Playground's keyboard
shortcuts.

The colours here are the one source of truth for text the app colours itself (captions,
code, the copy button's hover); ``tests/figures/test_colours.py`` checks their contrast.
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
/* A slider's focused input is invisible (its thumb only glows): ring the whole slider. */
[data-testid="stSlider"]:has(input:focus-visible) {{
  outline: 2px solid {FOCUS_RING}; outline-offset: 4px; border-radius: 4px; }}
.sr-only {{ position: absolute; width: 1px; height: 1px; padding: 0; margin: -1px;
  overflow: hidden; clip: rect(0, 0, 0, 0); white-space: nowrap; border: 0; }}
@media (prefers-reduced-motion: reduce) {{
  *, *::before, *::after {{ animation-duration: 0.01ms !important;
    animation-iteration-count: 1 !important; transition-duration: 0.01ms !important;
    scroll-behavior: auto !important; }}
}}
</style>"""


# Every Plotly chart on every page, as charts come and go (watched, at most once a frame):
# - its toolbar's five links leave the Tab order (Play was the 57th stop); zoom and pan
#   are mouse gestures, and what the toolbar offers by keyboard is on the page;
# - a chart without the server's own sentence (live plots given one) becomes a figure
#   whose name says what it shows, with its numbers: the title, the axes, and each
#   trace's range (heatmaps: the range of their values).
_CHARTS_JS = """<script>
(() => {
  if (window.__playgroundCharts) return;
  window.__playgroundCharts = true;
  const plain = (text) =>
    String(text ?? "").replace(/<[^>]*>/g, " ").replace(/\\s+/g, " ").trim();
  const num = (v) => String(Number(Number(v).toPrecision(3)));
  const values = (a) => {
    const out = [];
    const walk = (x) => { for (const v of x?.[Symbol.iterator] ? x : []) {
      if (Array.isArray(v) || ArrayBuffer.isView(v)) walk(v);
      else if (Number.isFinite(Number(v)) && v !== null && v !== "") out.push(Number(v)); } };
    walk(a);
    return out;
  };
  const words = (gd) => {
    const layout = gd._fullLayout ?? gd.layout ?? {};
    const axis = (name) => plain(layout[name]?.title?.text);
    let text = plain(layout.title?.text) || "Chart";
    if (axis("xaxis") || axis("yaxis")) {
      text += `: ${axis("yaxis") || "y"} against ${axis("xaxis") || "x"}`;
    }
    const traces = [];
    for (const t of gd._fullData ?? []) { // decoded arrays (the input may be base64)
      if (t.visible === false) continue;
      const grid = t.type === "heatmap" || t.type === "contour";
      const v = values(grid ? t.z : t.orientation === "h" ? t.x : t.y);
      if (!v.length) continue;
      let lo = Infinity, hi = -Infinity; // no spread: a heatmap has many thousand values
      for (const x of v) { if (x < lo) lo = x; if (x > hi) hi = x; }
      const name = plain(t._input?.name) || (grid ? "values" : "series"); // not "trace 0"
      const mode = String(t.mode ?? "");
      const range = `${num(lo)} to ${num(hi)}`;
      if (v.length === 1) traces.push(`${name} ${num(v[0])}`);
      else if (!grid && mode.includes("markers") && !mode.includes("lines")) {
        traces.push(`${name}: ${v.length} points, from ${range}`);
      } else traces.push(`${name} from ${num(v[0])} to ${num(v[v.length - 1])} (range ${range})`);
    }
    if (traces.length) text += `. ${traces.slice(0, 8).join("; ")}`;
    return text + ".";
  };
  const seen = new WeakMap();
  const tend = () => {
    for (const b of document.querySelectorAll(".modebar-btn:not([tabindex='-1'])")) {
      b.setAttribute("tabindex", "-1");
    }
    for (const gd of document.querySelectorAll(".js-plotly-plot")) {
      const spoken = gd.closest(".live-plot[aria-describedby]");
      if (spoken || seen.get(gd) === gd.data || !gd.data) continue;
      seen.set(gd, gd.data);
      let label = "";
      try { label = words(gd); } catch (err) { label = plain(gd.layout?.title?.text) || "Chart"; }
      gd.setAttribute("role", "figure");
      gd.setAttribute("aria-label", label);
    }
  };
  let queued = false;
  const soon = () => {
    if (queued) return;
    queued = true;
    requestAnimationFrame(() => { queued = false; tend(); });
  };
  tend();
  new MutationObserver(soon).observe(document.body, { childList: true, subtree: true });
})();
</script>"""


def page_setup() -> None:
    """What every page shares (called by the entry before the page runs): the styles,
    and words for every chart, whose toolbar leaves the Tab order."""
    st.html(_page_css())
    st.html(_CHARTS_JS, unsafe_allow_javascript=True)


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
