"""The live stream beside Streamlit's own server, and what it sends: pictures, side
plots, readouts."""
