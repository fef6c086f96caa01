"""Lesson page: how big the gradients are in every layer of a deep network.

Widgets -> ``playground.lessons.depth_run`` (cached by plain arguments) ->
``playground.figures.lesson_linear``. Nets up to 16 hidden layers are built here directly,
deeper than the Playground allows.
"""

import streamlit as st

from playground.core.model import ACTIVATIONS, INITS
from playground.figures import lesson_depth as depth_figures
from playground.figures import style
from playground.lessons import depth as depth_lesson
from playground.ui import pages
from playground.ui.links import try_it

WIDTHS = (8, 16, 32, 64, 128)
SIGMAS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0)
STEPS = (0, 64, 128, 256, 512)
LEARNING_RATES = (0.001, 0.01, 0.03, 0.1, 0.3, 1.0)
DEFAULT_PRESET = "vanishing"

VERDICTS = {
    "vanishing": (
        "**Vanishing.** Going backwards, every sigmoid layer multiplies the gradient by its "
        "slope (at most 0.25) and by weights too small to make up for it. After ten layers "
        "the first layer's gradient is many orders of magnitude below the last one's: "
        "plain SGD leaves the early layers where they started."
    ),
    "exploding": (
        "**Exploding.** Weights drawn with σ = 1, whatever the layer's width, multiply the "
        "signal by about σ·√(width/2) per ReLU layer. Forward, the activations grow layer "
        "after layer; backward, so does the gradient handed down. The weight gradients are "
        "huge everywhere, and a single SGD step throws the weights far away."
    ),
    "steady": (
        "**Steady.** The init scales each layer's weights to its width (and Glorot / He "
        "match tanh / ReLU), so signals keep roughly the same size going forward and "
        "backward: every layer gets a gradient of a similar size and can learn."
    ),
    "uneven": (
        "**Uneven.** Neither vanishing nor exploding outright, but the layers' gradients "
        "differ by more than a factor of ten: some layers will learn much faster than others."
    ),
}


@st.cache_data(show_spinner="Building the network and training it…", max_entries=32)
def depth_run(activation, init, depth, width, sigma, steps, learning_rate):
    return depth_lesson.depth_run(
        activation, init, depth, width, sigma=sigma, steps=steps, learning_rate=learning_rate
    )


def apply_preset() -> None:
    """Copy the chosen preset into the widgets (a callback, before the rerun)."""
    p = depth_lesson.PRESETS[st.session_state.depth_preset]
    ss = st.session_state
    ss.depth_activation, ss.depth_init, ss.depth_sigma = p.activation, p.init, p.sigma
    ss.depth_layers, ss.depth_width = p.depth, p.width


def controls() -> dict:
    ss = st.session_state
    preset = depth_lesson.PRESETS[DEFAULT_PRESET]
    for key, value in (
        ("depth_preset", DEFAULT_PRESET),
        ("depth_activation", preset.activation),
        ("depth_init", preset.init),
        ("depth_sigma", preset.sigma),
        ("depth_layers", preset.depth),
        ("depth_width", preset.width),
        ("depth_steps", 128),
        ("depth_lr", 0.1),
    ):
        ss.setdefault(key, value)
    st.selectbox(
        "Start from a classic set-up (depth 10, width 64)",
        tuple(depth_lesson.PRESETS),
        format_func=lambda k: depth_lesson.PRESETS[k].label,
        key="depth_preset",
        on_change=apply_preset,
    )
    c = st.columns(5)
    activation = c[0].selectbox("Activation", tuple(ACTIVATIONS), key="depth_activation")
    init = c[1].selectbox(
        "Initialisation", tuple(INITS), format_func=lambda k: INITS[k].label, key="depth_init"
    )
    # Shown only where it applies: a greyed-out control's label is too faint to read.
    if init == "normal":
        sigma = c[2].select_slider("σ of Normal(0, σ)", SIGMAS, key="depth_sigma")
    else:
        sigma = ss.depth_sigma
        c[2].caption(f"σ applies to Normal(0, σ) only; {INITS[init].label} sets its own scale.")
    depth = c[3].slider("Hidden layers", 1, depth_lesson.MAX_LESSON_DEPTH, key="depth_layers")
    width = c[4].select_slider("Units per layer", WIDTHS, key="depth_width")
    return {
        "activation": activation,
        "init": init,
        "sigma": float(sigma),
        "depth": int(depth),
        "width": int(width),
    }


def section_init(run) -> None:
    stats = run.at_init
    st.header("1 · At initialisation")
    st.markdown(
        "One backward pass through the fresh network, on 250 XOR points (labels from the "
        "sign of x₁·x₂) with binary cross-entropy. Layers differ in shape, so we compare "
        "them by the **RMS per parameter** of each layer's gradient."
    )
    m = st.columns(4)
    m[0].metric(
        "First ÷ last layer",
        f"{depth_lesson.first_to_last(stats.grad_rms):.1e}",
        help="Gradient RMS of layer 1 (next to the input) over that of the output layer.",
    )
    m[1].metric(
        "Hidden max ÷ min",
        f"{depth_lesson.hidden_range(stats.grad_rms):.1e}",
        help="Largest over smallest gradient RMS among the hidden layers; 1 is level.",
    )
    m[2].metric("Largest gradient RMS", f"{stats.grad_rms.max():.1e}")
    m[3].metric(
        "Last hidden spread",
        f"{stats.spread[-1]:.1e}",
        help="Standard deviation of the last hidden layer's outputs over the points.",
    )
    st.markdown(VERDICTS[depth_lesson.verdict(stats)])
    labels = style.layer_names(len(stats.grad_rms), short=True)
    left, right = st.columns(2)
    with left:
        st.plotly_chart(
            depth_figures.layer_bars(
                {
                    "all weights and biases": stats.grad_rms,
                    "biases only: the signal passed back": stats.bias_grad_rms,
                },
                title="Gradient size per layer at initialisation",
                y_title="gradient RMS per parameter",
                log=True,
                labels=labels,
            ),
            key="init_grads",
        )
    with right:
        st.plotly_chart(
            depth_figures.layer_bars(
                {"at initialisation": stats.spread},
                title="Spread of each hidden layer's outputs",
                y_title="standard deviation",
                labels=labels[:-1],
                x_title="hidden layer (1 = next to the input)",
            ),
            key="init_spread",
        )


def section_training(run, steps: int, lr: float) -> None:
    st.header("2 · While training")
    st.markdown(
        "Now plain full-batch SGD: each step moves every weight by the learning rate "
        "times its gradient, so the gradient sizes above become step sizes."
    )
    if steps == 0:
        st.info("Choose some training steps above to see the gradients while training.")
        return
    m = st.columns(3)
    m[0].metric("Test accuracy before", f"{run.accuracy_before:.3f}")
    m[1].metric("Test accuracy after", f"{run.accuracy_after:.3f}")
    m[2].metric(
        "Steps kept",
        f"{run.steps}",
        help="Steps whose update was kept; after a blow-up, the weights go back to the last "
        "ones whose loss was a finite number.",
    )
    if run.diverged_at >= 0:
        kept = "none of them" if run.steps == 0 else f"the first {run.steps}"
        st.warning(
            f"Training blew up at step {run.diverged_at + 1}: the loss or the weights were no "
            f'longer finite numbers. Training stopped and kept {kept} (so "Steps kept" '
            f"reads {run.steps}): the weights after them were the last with a finite loss. "
            "The gradients are far too large for this learning rate."
        )
    left, right = st.columns(2)
    with left:
        st.plotly_chart(depth_figures.grad_history_figure(run.grad_history), key="grad_history")
    with right:
        st.plotly_chart(depth_figures.training_loss_figure(run.loss_history), key="train_loss")
    labels = style.layer_names(len(run.at_init.grad_rms), short=True)
    left, right = st.columns(2)
    with left:
        st.plotly_chart(
            depth_figures.layer_bars(
                {"at initialisation": run.at_init.grad_rms, "after training": run.trained.grad_rms},
                title="Gradient size per layer, before and after",
                y_title="gradient RMS per parameter",
                log=True,
                labels=labels,
            ),
            key="trained_grads",
        )
    with right:
        st.plotly_chart(
            depth_figures.layer_bars(
                {"at initialisation": run.at_init.spread, "after training": run.trained.spread},
                title="Spread of each hidden layer, before and after",
                y_title="standard deviation",
                labels=labels[:-1],
                x_title="hidden layer (1 = next to the input)",
            ),
            key="trained_spread",
        )


def page() -> None:
    pages.heading(__file__)
    st.markdown(
        "Backpropagation multiplies the gradient by one layer's derivative after another. "
        "Multiply many numbers a bit below one and the product fades to nothing; a bit "
        "above one and it blows up. Pick an activation, an initialisation, a depth and a "
        "width, and see how large each layer's gradient is."
    )
    cfg = controls()
    t1, t2 = st.columns(2)
    steps = t1.select_slider("Training steps (full-batch SGD)", STEPS, key="depth_steps")
    lr = t2.select_slider("Learning rate", LEARNING_RATES, key="depth_lr")
    run = depth_run(
        cfg["activation"], cfg["init"], cfg["depth"], cfg["width"], cfg["sigma"], steps, lr
    )
    section_init(run)
    section_training(run, steps, lr)
    st.divider()
    note = (
        f" The Playground stops at {depth_lesson.MAX_DEPTH} hidden layers, so the link keeps the "
        f"first {depth_lesson.MAX_DEPTH}."
        if cfg["depth"] > depth_lesson.MAX_DEPTH
        else ""
    )
    st.markdown("Train the same kind of network live, with its gradients per layer." + note)
    try_it(
        depth_lesson.depth_playground_config(
            cfg["activation"], cfg["init"], cfg["depth"], cfg["width"], cfg["sigma"], lr
        ),
    )


page()
