"""The server process: the one scheduler that shares the cores between every playing
run (scheduler), compiling ahead (precompile), the frames stream beside Streamlit's own
server (stream) and what it sends (frames), and what a process sets up once (startup)."""
