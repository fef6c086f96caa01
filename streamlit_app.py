"""Entry point: ``streamlit run streamlit_app.py``. Page config and navigation only."""

# Imported whole here, before any page runs: sessions run in threads of their own, and
# plotly checks for pandas by peeking at sys.modules, so a session building a figure
# while another is still importing pandas got a half-initialised module (AttributeError
# "partially initialized module 'pandas' has no attribute 'Series'"; seen with 10
# learners arriving at once in the load test). An import statement waits instead.
import pandas  # noqa: F401
import streamlit as st

from playground.ui import a11y

PAGES = [
    ("app_pages/playground.py", "Playground", ":material/science:"),
    ("app_pages/bends_regions.py", "Bends & regions", ":material/polyline:"),
    ("app_pages/lesson_linear.py", "Why linear models fail", ":material/straighten:"),
    ("app_pages/lesson_backprop.py", "Backpropagation, step by step", ":material/replay:"),
    ("app_pages/lesson_gradients.py", "Gradients through depth", ":material/trending_down:"),
    (
        "app_pages/lesson_softmax.py",
        "Probabilities: softmax and cross-entropy",
        ":material/percent:",
    ),
    ("app_pages/lesson_sgd.py", "SGD, minibatches and the learning rate", ":material/footprint:"),
    (
        "app_pages/lesson_overfit.py",
        "When networks overfit: regularisation",
        ":material/blur_on:",
    ),
    ("app_pages/lesson_finetune.py", "Saving, restoring and fine-tuning", ":material/save:"),
    ("app_pages/lesson_code.py", "From the playground to code", ":material/code:"),
    ("app_pages/class_page.py", "Class", ":material/groups:"),
]
URL_PATHS = {"app_pages/class_page.py": "class"}  # a short address for the teacher's link


def run() -> None:
    st.set_page_config(page_title="playground: see what each ReLU does", layout="wide")
    a11y.page_setup()
    nav = st.navigation(
        [
            st.Page(path, title=title, icon=icon, url_path=URL_PATHS.get(path))
            for path, title, icon in PAGES
        ]
    )
    nav.run()


if __name__ == "__main__":  # how Streamlit runs this file for each session
    run()
else:  # imported by `streamlit run`: the app, with the frames stream beside it
    from playground.server import stream

    stream.SERVED = True
    stream.quiet_collector()
    app = st.App(__file__, routes=stream.ROUTES)
