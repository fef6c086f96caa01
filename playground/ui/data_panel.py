"""Your own data and models: CSV upload, model save / load, and downloads.

Every file a person gives us goes through the core's readers, which raise only
``PlaygroundError``; the message is shown and the session keeps what it had.
"""

import math

import numpy as np
import streamlit as st

from playground.core.config import FIELDS, UPLOAD_PROBLEM, clamp_field
from playground.core.datasets import PROBLEMS
from playground.core.errors import PlaygroundError
from playground.core.modelfile import TRAINING_KEYS, load_model, save_model
from playground.live.engine.run import user_dataset
from playground.live.session.live_run import LiveRun
from playground.ui import controls
from playground.ui.escape import escape_markdown
from playground.userdata.points import MAX_BYTES, MAX_FILE_CLASSES, MAX_ROWS, size_text
from playground.userdata.points_csv import points_to_csv, read_points_csv


def upload_limit_text() -> str:
    """The upload limits, read from where they are enforced: the CSV reader's and the
    server's (``server.maxUploadSize``, in MiB), whichever is smaller."""
    server = int(st.get_option("server.maxUploadSize")) * 2**20
    return f"up to {size_text(min(MAX_BYTES, server))} and {MAX_ROWS:,} rows"


def upload_box(container) -> None:
    """The CSV uploader, shown when the problem is "upload" (right under Problem)."""
    ss = st.session_state
    if ss.get(controls.PREFIX + "problem") != UPLOAD_PROBLEM:
        return
    file = container.file_uploader(
        f"CSV file: columns x1, x2, label ({upload_limit_text()})",
        type=["csv", "txt", "tsv"],
        key="csv_upload",
        max_upload_size=max(1, math.ceil(MAX_BYTES / 2**20)),
        help="A first row of names is optional. Whole-number labels with 2 to "
        f"{MAX_FILE_CLASSES} values are classes; anything else is a regression target. The "
        "Playground's own dataset export (with its split column) reads back too.",
    )
    if file is None:
        if ss.get("upload") is None:
            container.info("Upload a CSV file to train on your own points.")
        return
    if ss.get("_upload_id") != file.file_id:
        ss._upload_id = file.file_id
        try:
            data = read_points_csv(file.getvalue(), name=file.name)
        except PlaygroundError as err:
            ss.upload_error = str(err)
        else:
            ss.upload_error = ""
            ratio = ss.get(controls.PREFIX + "train_ratio", 0.5)
            seed = ss.get(controls.PREFIX + "seed", 0)
            ss.upload = user_dataset(data, train_ratio=ratio, seed=seed)
    if ss.get("upload_error"):
        kept = " Your previous data is kept." if ss.get("upload") is not None else ""
        container.error(escape_markdown(f"{file.name}: {ss.upload_error}{kept}"))
    if ss.get("upload") is not None:
        up = ss.upload
        kind = "regression" if up.task == "regression" else f"{up.n_classes} classes"
        text = f"{len(up.x_train) + len(up.x_test)} points, {kind}. {up.note}".strip()
        container.caption(escape_markdown(text))  # the note names the file's columns


def problem_label(name: str) -> str:
    return controls.LABELS["problem"].get(name, name)


def _adopt(saved, problem: str | None = None, classes: int | None = None) -> None:
    """Switch the widgets to the file's network (and problem), then load it on the next
    run (``apply_model_upload``)."""
    cfg = st.session_state.run.cfg.replace(
        hidden=saved.hidden, activation=saved.activation, features=saved.features
    )
    # The training settings the file carries (checked when it was read), too.
    carried = {k: clamp_field(k, saved.meta[k])[0] for k in TRAINING_KEYS if k in saved.meta}
    cfg = cfg.replace(**carried)
    if problem is not None:
        cfg = cfg.replace(problem=problem, classes=classes or cfg.classes)
    controls.init_widgets(cfg, force=True)
    st.session_state.adopt = saved


def _file_problem(saved) -> tuple[str | None, int | None]:
    """The registered problem (and spiral arms) a model file says it was trained on."""
    problem = saved.meta.get("problem")
    if problem not in PROBLEMS:
        return None, None
    classes = saved.meta.get("n_classes")
    return problem, (int(classes) if isinstance(classes, int) and classes >= 2 else None)


def _load(run: LiveRun, saved, name: str) -> list[tuple[str, str]]:
    """Load ``saved`` into the run; the notes to show (kind, text)."""
    run.load(saved)
    notes = [
        (
            "success",
            f"Loaded {name} at step {run.step:,} (epoch {run.epoch:,}): the readouts and "
            "pictures show its network; Play goes on training it.",
        )
    ]
    problem = saved.meta.get("problem")
    if isinstance(problem, str) and problem != run.cfg.problem:
        notes.append(
            (
                "warning",
                f"{name} was trained on {problem_label(problem)}, but this page shows "
                f"{problem_label(run.cfg.problem)}: its loss and accuracy here are measured "
                f"on {problem_label(run.cfg.problem)}'s points.",
            )
        )
    return notes


def apply_model_upload(run: LiveRun) -> None:
    """Load a model file given in the model box (or adopted with its network) BEFORE the
    page draws the run, so readouts and pictures show the loaded network at once."""
    ss = st.session_state
    if "adopt" in ss:
        saved, name = ss.pop("adopt"), ss.get("_model_name", "the model")
        ss._model_offer = None
        try:
            ss._model_notes = _load(run, saved, name)
        except PlaygroundError as err:
            ss._model_notes = [("error", str(err))]
        return
    file = ss.get("model_upload")
    if file is None:
        ss._model_notes, ss._model_offer, ss._model_id = [], None, None
        return
    if ss.get("_model_id") == file.file_id:
        return  # this file was handled on an earlier run
    ss._model_id, ss._model_name, ss._model_offer = file.file_id, file.name, None
    try:
        saved = load_model(file.getvalue())
    except PlaygroundError as err:
        ss._model_notes = [("error", f"{file.name}: {err}")]
        return
    try:
        ss._model_notes = _load(run, saved, file.name)
    except PlaygroundError as err:
        ss._model_notes = [("warning", f"{file.name}: {err}.")]
        ss._model_offer = saved
    problem, _ = _file_problem(saved)
    if problem is not None and problem != run.cfg.problem:
        ss._model_offer = saved


def _network_differs(saved, cfg) -> bool:
    return (saved.hidden, saved.activation, tuple(saved.features)) != (
        cfg.hidden,
        cfg.activation,
        tuple(cfg.features),
    )


def _fixed_by_link(saved) -> list[str]:
    """The settings adopting ``saved`` would change that a teacher's link fixed (labels):
    its network's (layers, activation, features), and the problem it names."""
    run, hidden = st.session_state.run, controls.lesson().hide
    changes = {
        "problem": _file_problem(saved)[0] not in (None, run.cfg.problem),
        "hidden": tuple(saved.hidden) != tuple(run.cfg.hidden),
        "activation": saved.activation != run.cfg.activation,
        "features": tuple(saved.features) != tuple(run.cfg.features),
    }
    return [FIELDS[n].label for n, changed in changes.items() if changed and n in hidden]


def model_box(container) -> None:
    """The model uploader, what loading it did, and the offer to adopt its network."""
    ss = st.session_state
    for kind, text in ss.get("_model_notes", []):
        getattr(container, kind)(escape_markdown(text))  # they name the file
    saved = ss.get("_model_offer")
    fixed = _fixed_by_link(saved) if saved is not None else []
    if saved is not None:
        problem, classes = _file_problem(saved)
        net = f"layers {list(saved.hidden)}, {saved.activation}"
        # A teacher's link fixed these for the whole class: a model file may not undo them.
        if fixed:
            what = " and ".join(f"the {label.lower()}" for label in fixed)
            container.info(
                f"This link fixes {what}, so the file's are not taken: the exercise is "
                "about these settings. The file can still be opened without the link."
            )
        network_fixed = any(label != FIELDS["problem"].label for label in fixed)
        if not fixed and problem is not None and problem != ss.run.cfg.problem:
            container.button(
                f"Use the file's problem ({problem_label(problem)}) and network ({net})",
                on_click=_adopt,
                args=(saved, problem, classes),
            )
        elif not network_fixed and (not fixed or _network_differs(saved, ss.run.cfg)):
            container.button(f"Use the file's network: {net}", on_click=_adopt, args=(saved,))
    container.file_uploader(
        "Load a saved model (.npz)", type=["npz"], key="model_upload",
        help="Continue training it, or look at its bends and regions.",
    )  # fmt: skip


def dataset_csv(d) -> bytes:
    """The run's points, training points first, each marked train or test."""
    x = np.concatenate([d.x_train, d.x_test])
    y = np.concatenate([d.y_train, d.y_test])
    test = np.arange(len(x)) >= len(d.x_train)
    return points_to_csv(x, y, test=test)


def downloads(run: LiveRun) -> None:
    """Save the model, the training history and the dataset (made only when clicked)."""
    with st.expander("Save, load and export"):
        c1, c2, c3 = st.columns(3)
        c1.download_button(
            "Model (.npz)",
            lambda: save_model(run.saved_model()),
            file_name=f"playground-{run.cfg.problem}.npz",
            mime="application/octet-stream",
            on_click="ignore",
            help="W0, b0, ... as plain arrays, with the activation and the features.",
        )
        c2.download_button(
            "Training history (.csv)",
            run.history.to_csv,
            file_name="history.csv",
            mime="text/csv",
            on_click="ignore",
        )
        c3.download_button(
            "Dataset (.csv)",
            lambda: dataset_csv(run.data),
            file_name=f"{run.cfg.problem}.csv",
            mime="text/csv",
            on_click="ignore",
            help="Every point with its label, and a split column: train or test.",
        )
        model_box(st)
