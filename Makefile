# The two commands of the README: `make run` starts the app, `make test` runs the tests
# (`make test-deploy` the deployment ones; .ci/run runs both).
# Both build .venv from the lock file first (once; again when the lock changes).
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run class test test-deploy lint format bench browser-deps nginx-deps redis-deps

$(STAMP): requirements.lock pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

# ARGS go to streamlit, e.g. make run ARGS="--server.address 0.0.0.0" for a class.
run: $(STAMP)
	$(PY) -m streamlit run streamlit_app.py $(ARGS)

# A class server on every core: app replicas behind nginx, supervised (playground/serve.py).
# ARGS go to it, e.g. make class ARGS="--address 0.0.0.0"; Streamlit's own after "--".
class: $(STAMP) nginx-deps
	$(PY) -m playground.serve $(ARGS)

# Debian's nginx for `make class` and the replicas tests; installed as root with apt.
nginx-deps:
	@command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || [ "$$(id -u)" != 0 ] \
	  || ! command -v apt-get >/dev/null \
	  || (apt-get update -qq \
	      && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx >/dev/null) \
	  || echo "nginx could not be installed: apt-get install nginx"

# Debian's redis-server for the class store's tests (a class spanning replicas); installed
# as root with apt, else those tests skip with the reason.
redis-deps:
	@command -v redis-server >/dev/null 2>&1 || [ "$$(id -u)" != 0 ] \
	  || ! command -v apt-get >/dev/null \
	  || (apt-get update -qq \
	      && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null) \
	  || echo "redis-server could not be installed: apt-get install redis-server"

# Debian's chromium drives the browser tests; without root or apt they skip with a reason.
browser-deps:
	@command -v chromium >/dev/null 2>&1 || [ "$$(id -u)" != 0 ] || ! command -v apt-get >/dev/null \
	  || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	  || echo "chromium could not be installed: browser tests will skip"

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# One worker a core (at most 4: each browser test runs a server and a chromium); the 20
# slowest tests are listed at the end. Each test file runs whole on one worker, in the
# order tests/conftest.py sorts them (slow first): its programs are compiled once and its
# browser tabs, meant to go from view to view, are shared. Handed out test by test, the
# suite took 810 CPU-seconds; file by file, 630-655 (this machine, quiet).
test: $(STAMP) browser-deps redis-deps lint
	$(PY) -m pytest -n auto --maxprocesses 4 --dist loadfile --no-loadscope-reorder --durations 20

# The deployment tests (.ci/run runs them after `make test`): two replicas behind nginx,
# the class server, and the Docker image's install steps in a clean venv (a minute of pip).
test-deploy: $(STAMP) nginx-deps redis-deps
	$(PY) -m pytest -m "replicas or install" --durations 10

bench: $(STAMP)
	$(PY) -m playground.bench
