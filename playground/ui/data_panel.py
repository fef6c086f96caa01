"""Your own data and models: CSV upload, model save / load, and downloads.

Every file a person gives us goes through the core's readers, which raise only
``PlaygroundError``; the message is shown and the session keeps what it had.
"""

import numpy as np
import streamlit as st

from playground.core.config import UPLOAD_PROBLEM
from playground.core.errors import PlaygroundError
from playground.core.modelfile import load_model, save_model
from playground.live.live_run import LiveRun
from playground.live.run import user_dataset
from playground.ui import controls
from playground.userdata.points_csv import points_to_csv, read_points_csv


def upload_box(container) -> None:
    """The CSV uploader, shown when the problem is "upload"."""
    ss = st.session_state
    if ss.get(controls.PREFIX + "problem") != UPLOAD_PROBLEM:
        return
    file = container.file_uploader(
        "CSV file: columns x1, x2, label (or target)",
        type=["csv", "txt", "tsv"],
        key="csv_upload",
        help="Up to 20,000 rows and 5 MB. A first row of names is optional. Whole-number "
        "labels with 2 to 10 values are classes; anything else is a regression target.",
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
        container.error(f"{file.name}: {ss.upload_error}{kept}")
    if ss.get("upload") is not None:
        up = ss.upload
        kind = "regression" if up.task == "regression" else f"{up.n_classes} classes"
        container.caption(f"{len(up.x_train) + len(up.x_test)} points, {kind}. {up.note}".strip())


def _adopt(saved) -> None:
    """Switch the widgets to the file's network, then load it on the next run."""
    cfg = st.session_state.run.cfg.replace(
        hidden=saved.hidden, activation=saved.activation, features=saved.features
    )
    controls.init_widgets(cfg, force=True)
    st.session_state.adopt = saved


def model_box(run: LiveRun, container) -> None:
    ss = st.session_state
    if "adopt" in ss:
        try:
            run.load(ss.pop("adopt"))
            container.success("Loaded the saved model into its own network.")
        except PlaygroundError as err:
            container.error(str(err))
    file = container.file_uploader(
        "Load a saved model (.npz)", type=["npz"], key="model_upload",
        help="Continue training it, or look at its bends and regions.",
    )  # fmt: skip
    if file is None or ss.get("_model_id") == file.file_id:
        return
    try:
        saved = load_model(file.getvalue())
    except PlaygroundError as err:
        container.error(f"{file.name}: {err}")
        return
    try:
        run.load(saved)
    except PlaygroundError as err:
        container.warning(f"{file.name}: {err}.")
        container.button(
            f"Use the file's network: layers {list(saved.hidden)}, {saved.activation}",
            on_click=_adopt,
            args=(saved,),
        )
        return
    ss._model_id = file.file_id
    container.success(f"Loaded {file.name}: training goes on from its weights.")


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
        d = run.data
        c3.download_button(
            "Dataset (.csv)",
            points_to_csv(
                np.concatenate([d.x_train, d.x_test]), np.concatenate([d.y_train, d.y_test])
            ),
            file_name=f"{run.cfg.problem}.csv",
            mime="text/csv",
            on_click="ignore",
        )
        model_box(run, st)
