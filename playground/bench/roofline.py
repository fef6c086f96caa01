"""``roofline``: a 256x4 network's GFLOP/s against this machine's float32 matmul peak,
measured in the same run."""

import functools
import statistics
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np

from playground.bench.timing import BLOCK_S, benchmark, load_avg, paired_ratio, side_by_side
from playground.bench.train import (
    FULL_BATCH,
    WIDE_HIDDEN,
    Setting,
    best_torch,
    mlp_matmul_flops,
    torch_contenders,
)

_MATMUL = jax.jit(jnp.matmul)


def _square_matmul(n: int, lib: str) -> Callable[[int], int]:
    """k float32 n x n matrix products with ``lib`` (jax, numpy or torch): FLOPs done."""
    a = np.array(jax.random.normal(jax.random.key(1), (n, n), jnp.float32))  # writable
    if lib == "jax":
        a_dev = jnp.asarray(a)

        def run(k: int) -> int:
            jax.block_until_ready([_MATMUL(a_dev, a_dev) for _ in range(k)])
            return k * 2 * n**3

    elif lib == "torch":
        import torch

        a_t = torch.from_numpy(a)

        def run(k: int) -> int:
            for _ in range(k):
                a_t @ a_t
            return k * 2 * n**3

    else:

        def run(k: int) -> int:
            for _ in range(k):
                a @ a
            return k * 2 * n**3

    return run


def _in_flops(run: Callable[[int], int], flops_per_step: float) -> Callable[[int], float]:
    """A contender counting training steps, counting FLOPs instead."""
    return lambda k: run(k) * flops_per_step


@functools.partial(jax.jit, static_argnames=("n_layers",))
def _products(ws, h_t, g_t, *, n_layers: int):
    """The big products of a training step of ``n_layers`` square layers, in the layouts
    ``train_chunk`` gives them (feature-major): forward, input and weight gradients."""
    out = []
    for w in ws[:n_layers]:
        out += [jax.lax.optimization_barrier(w.T) @ h_t, w @ g_t, h_t @ g_t.T]
    return out


def _step_products(width: int, n_layers: int, n: int) -> Callable[[int], int]:
    """k runs of a step's products alone (no elementwise work, no optimizer): FLOPs."""
    key = jax.random.key(2)
    ws = [jax.random.normal(jax.random.fold_in(key, i), (width, width)) for i in range(n_layers)]
    h_t = jax.random.normal(key, (width, n))
    g_t = jax.random.normal(jax.random.fold_in(key, 99), (width, n))

    def run(k: int) -> int:
        jax.block_until_ready([_products(ws, h_t, g_t, n_layers=n_layers) for _ in range(k)])
        return k * n_layers * 3 * 2 * width * width * n

    return run


def _xla_flops_per_step(s: Setting) -> float | None:
    """XLA's own count of a one-step chunk's FLOPs (None where it gives none)."""
    from playground.core.train import chunk_program

    try:
        compiled = (
            chunk_program(s.spec, len(s.x), s.batch_size)
            .lower(s.state, s.x, s.y, s.hyper, use_dropout=False, checked=False, **s.chunk_kw(1))
            .compile()
        )
        cost = compiled.cost_analysis()
        cost = cost[0] if isinstance(cost, list) else cost
        flops = float(cost.get("flops", 0.0))
    except Exception:  # cost analysis is best effort and differs between backends
        return None
    return flops if flops > 0 else None


@benchmark("roofline")
def bench_roofline(*, repeats: int = 5, mode: str = "full") -> dict[str, float | None]:
    """GFLOP/s of the project's chunk on a 256x4 net (batch 1000, Adam), counted from its
    matrix products, against this machine's float32 matmul peak: the fastest of square
    products with JAX, NumPy and PyTorch, timed in the same rounds. Also the step's big
    products alone (what the shapes allow) and the same net in PyTorch eager.

    ``roofline_fraction`` compares medians with medians; ``*_best_gflops`` are the best
    single blocks, a peak a busy machine reaches only now and then."""
    hidden = (64, 64) if mode == "smoke" else WIDE_HIDDEN
    s = Setting(hidden, n_train=FULL_BATCH, batch_size=0)
    flops = mlp_matmul_flops(s.spec.sizes, FULL_BATCH)
    out: dict[str, float | None] = {
        "hidden": "x".join(map(str, hidden)),
        "gflop_per_step": flops / 1e9,
        "load_avg_1m": load_avg(),
    }
    xla = _xla_flops_per_step(s) if mode != "smoke" else None  # one more compile
    out["xla_gflop_per_step"] = xla / 1e9 if xla else None
    from playground.reference import torch_available

    contenders = {"jax_train": _in_flops(s.jax_runner(16), flops)}
    contenders["products"] = _step_products(hidden[1], len(hidden) - 1, FULL_BATCH)
    sizes = {"full": (1024, 2048), "quick": (1024, 2048), "smoke": (512,)}[mode]
    libs = ("jax", "numpy") + (("torch",) if torch_available() else ())
    for n in sizes:
        for lib in libs:
            contenders[f"matmul_{lib}_{n}"] = _square_matmul(n, lib)
    if mode != "smoke":
        for name, run in torch_contenders(s, 4).items():
            contenders[name] = _in_flops(run, flops)
    rates = side_by_side(contenders, rounds=repeats, block_s=2 * BLOCK_S[mode])
    best_torch(rates)
    gflops = {name: [r / 1e9 for r in got] for name, got in rates.items()}
    for name, got in gflops.items():
        out[f"{name}_gflops"] = statistics.median(got)
        out[f"{name}_best_gflops"] = max(got)
    out["jax_steps_per_s"] = out["jax_train_gflops"] * 1e9 / flops
    if "torch" in gflops:
        out["torch_steps_per_s"] = out["torch_gflops"] * 1e9 / flops
        out["jax_vs_torch_x"] = paired_ratio(gflops["jax_train"], gflops["torch"])
    peak = max((n for n in gflops if n.startswith("matmul_")), key=lambda n: out[f"{n}_gflops"])
    out["matmul_peak_gflops"] = out[f"{peak}_gflops"]
    out["matmul_peak_by"] = peak
    # Per round, training against that round's peak: both saw the machine as it was.
    out["roofline_fraction"] = paired_ratio(gflops["jax_train"], gflops[peak])
    out["products_fraction"] = paired_ratio(gflops["products"], gflops[peak])
    out["train_vs_products"] = paired_ratio(gflops["jax_train"], gflops["products"])
    out["load_avg_1m_after"] = load_avg()
    return out
