"""Shared test setup: strict JAX promotion rules and a persistent compile cache."""

import os

import jax

jax.config.update("jax_numpy_rank_promotion", "raise")
os.environ.setdefault("PLAYGROUND_TEST", "1")
