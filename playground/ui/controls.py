"""Sidebar controls shared by pages: widgets generated from ``config.FIELDS``.

Every widget's key is ``cfg_<field>``. ``init_widgets`` seeds them once from a config
(for instance one read from a share link); ``read_config`` turns their values back into
a validated ``RunConfig``. Widgets never train or compute anything.
"""

import streamlit as st

from playground.core.config import (
    COMMON_WIDTHS,
    FIELDS,
    FORMULA_PROBLEM,
    NO_LESSON,
    OWN_PROBLEM_LABELS,
    REGULARIZERS,
    SPEEDS,
    UPLOAD_PROBLEM,
    Lesson,
    RunConfig,
    number_text,
    validate,
)
from playground.core.datasets import PROBLEMS
from playground.core.errors import PlaygroundError
from playground.core.features import FEATURES
from playground.core.model import ACTIVATIONS, INITS, MAX_DEPTH, MAX_WIDTH
from playground.core.train import OPTIMIZERS, SCHEDULES
from playground.ui.escape import escape_markdown

PREFIX = "cfg_"
LEARNING_RATES = (1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 3e-3, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)
REG_RATES = (0.0, 1e-4, 3e-4, 1e-3, 3e-3, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)
SIGMAS = (0.001, 0.01, 0.05, 0.1, 0.3, 0.5, 1.0, 2.0, 5.0, 10.0)
LABELS = {
    "problem": {**{k: p.label for k, p in PROBLEMS.items()}, **OWN_PROBLEM_LABELS},
    "features": {k: f.label for k, f in FEATURES.items()},
    "init": {k: i.label for k, i in INITS.items()},
    "optimizer": {k: o.label for k, o in OPTIMIZERS.items()},
    "schedule": SCHEDULES,
    "reg": REGULARIZERS,
    "activation": {k: a.label for k, a in ACTIVATIONS.items()},
    "speed": {k: s.label for k, s in SPEEDS.items()},
}


def lesson() -> Lesson:
    """What the link this session opened hides and starts (a teacher's link)."""
    return st.session_state.get("lesson", NO_LESSON)


def value_text(name: str, value) -> str:
    """A setting's value as the sidebar shows it: "Your CSV file", "0.003", "8, 8"."""
    if name in LABELS:
        labels = LABELS[name]
        if FIELDS[name].kind == "choices":
            return ", ".join(labels.get(v, v) for v in value)
        return labels.get(value, value)
    if FIELDS[name].kind == "ints":
        return ", ".join(str(w) for w in value) or "none (the linear model)"
    if FIELDS[name].kind == "bool":
        return "on" if value else "off"
    return number_text(value) if isinstance(value, int | float) else str(value)


def fixed_text(cfg: RunConfig) -> str:
    """What a teacher's link fixed, in the sidebar's words: "Problem (Your CSV file),
    Learning rate (0.003)"; "" when it fixed nothing."""
    hidden = lesson().hide
    return ", ".join(
        f"{FIELDS[n].label} ({value_text(n, getattr(cfg, n))})" for n in FIELDS if n in hidden
    )


def _key(name: str) -> str:
    return PREFIX + name


def _with(options: tuple, value) -> tuple:
    """Options of a select slider, with the current exact value among them."""
    return tuple(sorted({*options, value}))


def init_widgets(cfg: RunConfig, *, force: bool = False) -> None:
    """Put a config's values into the widgets' state (once, unless forced)."""
    ss = st.session_state
    for name in FIELDS:
        if name == "hidden":
            continue
        if force or _key(name) not in ss:
            value = getattr(cfg, name)
            ss[_key(name)] = list(value) if FIELDS[name].kind == "choices" else value
    if force or _key("depth") not in ss:
        ss[_key("depth")] = len(cfg.hidden)
        ss[_key("width")] = cfg.hidden[0] if cfg.hidden else 8
        uniform = len(set(cfg.hidden)) <= 1
        ss[_key("layers")] = "" if uniform else ", ".join(str(w) for w in cfg.hidden)


def keep_values() -> None:
    """Hand the shared sidebar's values over from the page that drew them last.

    Streamlit ties a widget's value to the page that drew it; a key re-set through
    session state is taken by this page's widget of the same key (and kept for the next).
    """
    ss = st.session_state
    for key in [k for k in ss if str(k).startswith(PREFIX)]:
        ss[key] = ss[key]


def _widget(name: str, container, **kw):
    f, key = FIELDS[name], _key(name)
    title, ss = f.label, st.session_state
    labels = LABELS.get(name, {})
    fmt = (lambda v: labels.get(v, v)) if labels else None
    if f.kind == "choice":
        return container.selectbox(title, f.choices, key=key, help=f.help, format_func=fmt, **kw)
    if f.kind == "choices":
        return container.multiselect(title, f.choices, key=key, help=f.help, format_func=fmt)
    if f.kind == "bool":
        return container.toggle(title, key=key, help=f.help)
    if f.kind == "text":
        # The box's counter ("15/500") shows the very limit the parser enforces.
        return container.text_input(title, key=key, help=f.help, max_chars=int(f.hi))
    if name in ("learning_rate", "reg_rate", "init_sigma"):
        base = {"learning_rate": LEARNING_RATES, "reg_rate": REG_RATES, "init_sigma": SIGMAS}
        options = _with(base[name], ss[key])
        return container.select_slider(
            title, options, key=key, help=f.help, format_func=lambda v: f"{v:g}"
        )
    if name in ("noise", "train_ratio", "dropout"):
        return container.slider(title, float(f.lo), float(f.hi), key=key, step=0.05, help=f.help)
    if name == "classes":
        return container.slider(title, int(f.lo), int(f.hi), key=key, help=f.help)
    return container.number_input(title, int(f.lo), int(f.hi), key=key, step=1, help=f.help, **kw)


def hidden_widgets(container) -> tuple[int, ...]:
    """Width and depth sliders plus an optional exact list of per-layer widths."""
    ss = st.session_state
    depth = container.slider(
        "Hidden layers (depth)",
        0,
        MAX_DEPTH,
        key=_key("depth"),
        help="0 is the linear (logistic) model: no hidden layer at all.",
    )
    width = container.select_slider(
        "Units per layer (width H)",
        _with(COMMON_WIDTHS, ss[_key("width")]),
        key=_key("width"),
        help="How many ReLUs each hidden layer has.",
        disabled=depth == 0,
    )
    text = container.text_input(
        "Exact widths per layer (optional)",
        key=_key("layers"),
        placeholder="e.g. 16, 8, 4",
        help=f"Comma-separated widths, 1 to {MAX_WIDTH} each; overrides width and depth.",
    )
    if text.strip():
        try:
            widths = tuple(int(t) for t in text.replace(" ", "").split(",") if t)
        except ValueError:
            container.warning(
                f"Could not read {escape_markdown(repr(text))} as widths; using width × depth."
            )
        else:
            if len(widths) <= MAX_DEPTH and all(1 <= w <= MAX_WIDTH for w in widths):
                return widths
            container.warning(
                f"Widths must be 1 to {MAX_WIDTH}, at most {MAX_DEPTH} layers; using width × depth."
            )
    return (int(width),) * int(depth)


def _link_widths() -> tuple[int, ...]:
    """The widths the widgets were set to (a teacher's link hides them)."""
    ss = st.session_state
    text = str(ss.get(_key("layers"), "")).strip()
    if text:
        return tuple(int(t) for t in text.replace(" ", "").split(",") if t)
    return (int(ss.get(_key("width"), 8)),) * int(ss.get(_key("depth"), 2))


def _shown(name: str) -> bool:
    """Some settings only matter for some choices; hide them otherwise."""
    ss = st.session_state
    problem = ss[_key("problem")]
    rules = {
        "formula": problem == FORMULA_PROBLEM,
        "classes": PROBLEMS.get(problem) is not None and PROBLEMS[problem].many_classes,
        "noise": problem != UPLOAD_PROBLEM,  # an upload's points are as given
        "n_points": problem != UPLOAD_PROBLEM,
        "init_sigma": ss[_key("init")] == "normal",
        "reg_rate": ss[_key("reg")] != "none",
        "decay_steps": ss[_key("schedule")] != "constant",
    }
    return rules.get(name, True)


def read_config(
    sections: dict, after: dict | None = None, hidden: frozenset[str] = frozenset()
) -> RunConfig:
    """Draw the widgets into ``sections`` (group name -> container); return the config.

    ``after``: field name -> a function of the container, drawn right after that
    field's widget (e.g. the CSV uploader under Problem). Settings named in ``hidden``
    (a teacher's link) draw no widget and keep their value."""
    after = after or {}
    values = {}
    ss = st.session_state
    for name, f in FIELDS.items():
        box = sections.get(f.group)
        if box is None or name in hidden:
            if name == "hidden":
                values[name] = _link_widths()
            else:
                values[name] = ss.get(_key(name), getattr(RunConfig(), name))
            if box is not None and name in after:
                after[name](box)  # a link fixes the problem "upload", not the file
            continue
        if name == "hidden":
            values[name] = hidden_widgets(box)
        elif not _shown(name):
            values[name] = ss[_key(name)]
        else:
            values[name] = _widget(name, box)
        if name in after:
            after[name](box)
    values["features"] = tuple(values["features"]) or RunConfig().features
    try:
        cfg, _ = validate(RunConfig(**values))
    except PlaygroundError as err:
        st.error(escape_markdown(err))
        cfg = RunConfig()
    return cfg


def bump_seed() -> None:
    """Regenerate: new points and new first weights, from the next seed."""
    st.session_state[_key("seed")] = (int(st.session_state[_key("seed")]) + 1) % (2**31 - 1)
