"""Load test: many learners playing at once, without a browser per learner.

``python -m playground.loadtest --sessions N --seconds S [--json] [--url URL] [--query QS]
[--class]``

Each simulated learner is a real Streamlit session driven over Streamlit's own
websocket protocol (``/_stcore/stream``, Streamlit's protobuf classes), doing what the
browser's frontend does: it loads the page (keeping its cookies), opens the stream,
asks for the first run, presses **Play** (a rerun whose widget states carry the
button's trigger next to every widget value the page reported), then keeps the page
alive: it sends the fragment reruns that ``st.fragment(run_every=...)`` asks the
client for, keeps the forward-message cache Streamlit expects, and follows the URL's
query string. It counts the pictures of the decision boundary that arrive and the
epochs trained. A headless Chromium per learner would eat the very cores the test
measures; this client used 0.01-0.03 of a core for 1 to 30 learners here.

Without ``--url`` the tool starts ``streamlit run streamlit_app.py`` itself on a free
port and measures the server's CPU (cores used over the window in which every session
plays) and memory; with ``--url`` (for instance replicas behind nginx) it only drives
sessions, and records the ``X-Playground-Upstream`` header that tells which replica
served each one.

With ``--class``, a teacher's session first opens the Class page (``/class``), presses
**Create a class** and reads the class's code and secret from the query string the
server gives the page; every learner opens the join link (``class=CODE&name=...``), and
the teacher's wall (``/class?class=CODE&teacher=SECRET``) stays open, answering its
fragment's reruns, while they play. Each tile's caption says how old it is ("seen 0.4 s
ago", by the server's clock); the summary gives those ages over the measured window
(p95, max), the wall's refreshes and the tiles in the last one.

This package speaks the wire protocol, so it imports Streamlit's protobuf classes
(``streamlit.proto``); it never imports the app or Streamlit's runtime API.

``protocol``: one session on the wire, and the pictures as they arrive; ``drive``: many
learners at once, what each saw; ``server``: the server under test, its CPU and memory;
``report``: the summary, the table and the command line.
"""
