"""The Playground page (placeholder until the live view lands)."""

import streamlit as st

st.title("Playground")
st.write("Train a ReLU network on a 2D problem and watch it learn.")
