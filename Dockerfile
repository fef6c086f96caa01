# syntax=docker/dockerfile:1
# The playground's container image: the app served by `streamlit run` on port 8501.
#
#   docker build -t playground:0.1.0 .
#   docker run -p 8501:8501 -v playground-jax:/var/cache/playground-jax playground:0.1.0
#
# Host limits: mount a TOML file over /app/host.toml (the app reads PLAYGROUND_HOST_CONFIG):
#   docker run ... -v /etc/playground/host.toml:/app/host.toml:ro playground:0.1.0
# Several replicas: give each the same secret, -e STREAMLIT_SERVER_COOKIE_SECRET=...,
# and put deploy/nginx/playground.conf in front (see the README, "Deploy").
#
# GPU image: JAX's CUDA 12 build (the pyproject's "gpu" extra, jax[cuda12]):
#   docker build --build-arg JAX_EXTRA=gpu -t playground:0.1.0-gpu .
#   docker run --gpus all -p 8501:8501 playground:0.1.0-gpu
# (needs the NVIDIA driver and container toolkit on the host; the CUDA libraries come
# as pip wheels, so the base image stays the same).
#
# tests/system/test_deploy.py runs this file's `pip install` steps in a clean venv and reads
# the rest of it, so keep every install in a RUN line of its own.

# The lock file is compiled for Python 3.11.
FROM python:3.11-slim

# "" for the CPU image, "gpu" for the CUDA one (an extra of pyproject.toml).
ARG JAX_EXTRA=""

# MALLOC_ARENA_MAX: two glibc heaps, as the class server gives its replicas (serve.py).
ENV PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    MALLOC_ARENA_MAX=2 \
    PLAYGROUND_JAX_CACHE=/var/cache/playground-jax \
    PLAYGROUND_HOST_CONFIG=/app/host.toml

WORKDIR /app

# Dependencies first, from the lock alone: this layer is rebuilt only when the lock
# changes, not on every code change. The cache mount keeps pip's downloads out of
# the image and between builds. (The lock holds the dev tools too: one lock, tested.)
COPY requirements.lock ./
RUN --mount=type=cache,target=/root/.cache/pip pip install -r requirements.lock

# The package itself; its dependencies are all in the lock already.
COPY pyproject.toml README.md ./
COPY playground/ playground/
RUN pip install --no-deps .

# The CUDA build of jaxlib for the GPU image. Not in the CPU lock, so the lock only
# constrains what it shares with it (jax, numpy, ...).
RUN --mount=type=cache,target=/root/.cache/pip \
    if [ -n "$JAX_EXTRA" ]; then pip install -c requirements.lock ".[$JAX_EXTRA]"; fi

# The app: entry point, pages, Streamlit's config (read from the working directory).
COPY streamlit_app.py ./
COPY app_pages/ app_pages/
COPY .streamlit/ .streamlit/
# The host limits (PLAYGROUND_HOST_CONFIG below): mount your own file over this one.
COPY host.toml ./

# Not root: the app needs no privileges. The compile cache is the one place it writes;
# a volume, so compiled training steps survive a restart of the container.
RUN useradd --create-home --uid 10001 playground \
    && mkdir -p /var/cache/playground-jax \
    && chown playground /var/cache/playground-jax
VOLUME /var/cache/playground-jax
USER 10001

EXPOSE 8501
# The slim image has no curl; Python is there anyway.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8501/_stcore/health', timeout=4)"]

CMD ["streamlit", "run", "streamlit_app.py", "--server.headless", "true", "--server.address", "0.0.0.0"]
