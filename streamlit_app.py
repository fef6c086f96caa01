"""Entry point: ``streamlit run streamlit_app.py``. Page config and navigation only."""

import streamlit as st

PAGES = [
    ("pages/playground.py", "Playground", "🧪"),
]


def run() -> None:
    st.set_page_config(page_title="playground: see what each ReLU does", layout="wide")
    nav = st.navigation([st.Page(path, title=title, icon=icon) for path, title, icon in PAGES])
    nav.run()


if __name__ == "__main__":
    run()
