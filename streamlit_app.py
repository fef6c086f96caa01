"""Entry point: ``streamlit run streamlit_app.py``. Page config and navigation only."""

import streamlit as st

PAGES = [
    ("app_pages/playground.py", "Playground", ":material/science:"),
    ("app_pages/bends_regions.py", "Bends & regions", ":material/polyline:"),
    ("app_pages/lesson_linear.py", "Why linear models fail", ":material/straighten:"),
    ("app_pages/lesson_backprop.py", "Backpropagation, step by step", ":material/replay:"),
    ("app_pages/lesson_gradients.py", "Gradients through depth", ":material/trending_down:"),
]


def run() -> None:
    st.set_page_config(page_title="playground: see what each ReLU does", layout="wide")
    nav = st.navigation([st.Page(path, title=title, icon=icon) for path, title, icon in PAGES])
    nav.run()


if __name__ == "__main__":  # how Streamlit runs this file for each session
    run()
else:  # imported by `streamlit run`: the app, with the frames stream beside it
    from playground.server import stream

    stream.SERVED = True
    app = st.App(__file__, routes=stream.ROUTES)
