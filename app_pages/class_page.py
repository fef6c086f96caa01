"""The Class page (``/class``): a teacher creates a class, shares its join link, watches
every learner live on one wall, puts one on the projector, sends a new exercise and ends
the class. Everything past creation needs the teacher's link."""

import streamlit as st

from playground.ui import class_wall


def page() -> None:
    st.title("Class")
    class_wall.class_page()


page()
