"""Shared test setup: strict JAX promotion rules and a persistent compile cache."""

import os

import jax

jax.config.update("jax_numpy_rank_promotion", "raise")
os.environ.setdefault("PLAYGROUND_TEST", "1")
# No background pre-compiling of other shapes: it would compete with the tests for the CPU.
os.environ.setdefault("PLAYGROUND_PRECOMPILE", "0")
