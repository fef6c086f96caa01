"""Lesson page: save a model, load it back unchanged, and fine-tune it on a changed problem.

Widgets -> ``playground.lessons.finetune`` (cached by plain arguments) ->
``playground.figures.lesson_finetune`` and the lessons' prediction maps.
"""

import pandas as pd
import streamlit as st

from playground.figures import lesson_finetune as ff
from playground.figures import lesson_linear as linear_figures
from playground.lessons import finetune
from playground.ui import pages
from playground.ui.links import try_it


@st.cache_data(show_spinner="Training, saving and loading the model…", max_entries=4)
def restored(change: str):
    return finetune.save_and_restore(change)


@st.cache_data(show_spinner="Training on the changed problem four ways…", max_entries=12)
def race(change: str, amount: float):
    return finetune.race(change, amount)


def pick_change() -> str:
    return st.radio(
        "What changes",
        tuple(finetune.CHANGES),
        format_func=finetune.CHANGES.get,
        horizontal=True,
        key="ft_change",
    )


def section_save(change: str) -> None:
    r = restored(change)
    st.header("1 · Save, then load into a fresh run")
    st.markdown(
        "Training costs time; a trained model is just its weights. The Playground saves them "
        "as a plain `.npz` file (NumPy's zip of named arrays): one weight matrix and one "
        "bias vector per layer, plus a few words that say how to use them. Loading puts "
        "those numbers back into a network of the same shape, and it must then compute "
        "exactly what it computed before."
    )
    left, right = st.columns([2, 3])
    with left:
        table = pd.DataFrame(r.keys, columns=["key", "contents"]).set_index("key")
        st.dataframe(table, key="ft_file", height=36 + 35 * len(table))
        st.metric("Size of the model file", f"{len(r.file):,} bytes")
        st.metric(
            f"Largest difference in prediction over {finetune.GRID}×{finetune.GRID} points",
            f"{r.max_difference:g}",
        )
    with right:
        a, b = st.columns(2)
        with a:
            st.plotly_chart(
                linear_figures.prediction_map(
                    r.before, "Trained, then saved", height=320, legend=False
                ),
                key="ft_before",
            )
        with b:
            st.plotly_chart(
                linear_figures.prediction_map(
                    r.after, "Loaded into a fresh run", height=320, legend=False
                ),
                key="ft_after",
            )
    st.caption(
        "Orange points are class 0, blue points class 1; the background is the network's "
        "P(class 1). W0 has one row per input feature and one column per unit of the first "
        "layer; the last pair is the output layer. "
        f"Test accuracy before {r.before.metric:.1%}, after {r.after.metric:.1%}."
    )


def section_race(change: str) -> float:
    st.header("2 · The problem changes: fine-tune or start again?")
    st.markdown(
        "Now the problem shifts a little. We can train a fresh network on it **from "
        "scratch**, or start from the saved weights and keep training: **fine-tuning**. "
        "What the saved network learnt (where to bend the plane) may be mostly right "
        "already. Both train the same way (Adam, learning rate "
        f"{finetune.BASE_CFGS[change].learning_rate:g}, all training points each step); "
        f"we count the steps each needs to reach {finetune.TARGET:.0%} test accuracy."
    )
    amount = st.select_slider(
        "How much",
        finetune.AMOUNTS[change],
        value=finetune.DEFAULT_AMOUNT[change],
        format_func=lambda a: finetune.amount_label(change, a),
        key=f"ft_amount_{change}",
    )
    r = race(change, amount)
    cols = st.columns(3)
    maps = (
        ("all", "Saved model on the new points", "start"),
        ("scratch", f"From scratch, {finetune.TUNE_STEPS} steps", "end"),
        ("all", f"Fine-tuned, {finetune.TUNE_STEPS} steps", "end"),
    )
    for col, (mode, title, when) in zip(cols, maps, strict=True):
        fit = r.start_fit if when == "start" else r.fits[mode]
        with col:
            st.plotly_chart(
                linear_figures.prediction_map(fit, title, height=320, legend=False),
                key=f"ft_map_{mode}_{when}",
            )
    m = st.columns(len(finetune.MODES))
    for col, (mode, label) in zip(m, finetune.MODES.items(), strict=True):
        steps = r.steps_to_target(mode)
        col.metric(
            f"Steps to {finetune.TARGET:.0%}: {label}",
            "not within " + str(finetune.TUNE_STEPS) if steps is None else str(steps),
        )
    st.plotly_chart(
        ff.race_figure({finetune.MODES[m]: c for m, c in r.curves.items()}, finetune.TARGET),
        key="ft_race",
    )
    st.metric("Loss of the saved model on the changed training points", f"{r.saved_loss:.4f}")
    st.caption(
        "Fine-tuning starts exactly where the saved model stands on the new points: its "
        f"first measured loss is the saved model's. Accuracy is measured every {finetune.EVERY} "
        "steps. Turning XOR by 45° moves every boundary: there the old weights can be a "
        "worse start than fresh ones. Fine-tuning pays when the new problem is close to the old."
    )
    return amount


def section_freeze() -> None:
    st.header("3 · Freeze some layers")
    st.markdown(
        "Fine-tuning need not train everything. The first layers of a network compute "
        "general features (here: where each ReLU bends the plane); the last layer combines "
        "them into an answer. **Freezing** a layer means its weights get no update: with "
        "optax we route the frozen layers' gradients to `set_to_zero()` and the others to "
        "Adam (`optax.multi_transform`). Training only the last layer is cheap and cannot "
        "forget the features, but it can only recombine the bends the network already has. "
        "The dotted and dash-dot lines above are these two runs."
    )
    st.code(
        "# one label per array, (W, b) per layer: the first layer frozen\n"
        'labels = [("frozen", "frozen"), ("learn", "learn"), ("learn", "learn")]\n'
        "tx = optax.multi_transform(\n"
        '    {"learn": optax.adam(0.01), "frozen": optax.set_to_zero()}, labels\n'
        ")",
        language="python",
    )


def page() -> None:
    pages.heading(__file__)
    st.markdown(
        "A trained network is a list of numbers. Keep them, and you can use the model again "
        "tomorrow, share it, or teach it something new without starting over."
    )
    change = pick_change()
    section_save(change)
    section_race(change)
    section_freeze()
    st.divider()
    st.markdown(
        "In the Playground: train this network, save it under *Save, load and export*, "
        "then load the file again later (or into a changed problem) and press Play."
    )
    try_it(finetune.playground_config(change))


page()
