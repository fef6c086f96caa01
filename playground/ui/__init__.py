"""Streamlit widgets shared by the pages, and the live view."""
