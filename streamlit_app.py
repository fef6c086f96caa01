"""Entry point: ``streamlit run streamlit_app.py``. Page config and navigation only."""

# Imported whole here, before any page runs: sessions run in threads of their own, and
# plotly checks for pandas by peeking at sys.modules, so a session building a figure
# while another is still importing pandas got a half-initialised module (AttributeError
# "partially initialized module 'pandas' has no attribute 'Series'"; seen with 10
# learners arriving at once in the load test). An import statement waits instead.
import pandas  # noqa: F401
import streamlit as st

from playground.live.server import startup
from playground.ui import a11y, pages


def run() -> None:
    startup.start_process()
    st.set_page_config(page_title="playground: see what each ReLU does", layout="wide")
    a11y.page_setup()
    pages.navigation().run()


if __name__ == "__main__":  # how Streamlit runs this file for each session
    run()
else:  # imported by `streamlit run`: the app, with the frames stream beside it
    from playground.live.server import precompile, stream, vendor

    startup.ROUTES_SERVED = True
    stream.quiet_collector()
    stream.prompt_lock_handover()
    stream.cheaper_compression()
    precompile.warm_in_background()
    app = st.App(__file__, routes=[*stream.ROUTES, *vendor.ROUTES])
