"""``train``: steps/s of the project's chunk vs PyTorch eager vs a plain NumPy MLP, on
2->8->8->1 (full batch 1000) and in TensorFlow Playground's setting; and the networks
the other benchmarks time."""

import itertools
import os
import statistics
from collections.abc import Callable

import jax
import jax.numpy as jnp

from playground.bench.timing import BLOCK_S, benchmark, load_avg, paired_ratio, side_by_side

# -- the networks being timed -----------------------------------------------------------------
SMALL_HIDDEN, FULL_BATCH = (8, 8), 1000
WIDE_HIDDEN = (256, 256, 256, 256)


class Setting:
    """One network and its data: xor, ReLU, Adam; full batch or TensorFlow Playground's
    minibatches. ``n_train`` training points (the train half of twice as many)."""

    def __init__(self, hidden, *, n_train: int, batch_size: int, learning_rate: float = 0.03):
        from playground.core.datasets import make_dataset
        from playground.core.model import params_to_host
        from playground.core.train import Hyper, ModelSpec, batch_plan, init_state

        data = make_dataset("xor", n_points=2 * n_train, train_ratio=0.5, seed=0)
        self.x_np, self.y_np = data.x_train, data.y_train
        self.x, self.y = jnp.asarray(data.x_train), jnp.asarray(data.y_train)
        self.spec = ModelSpec(("x1", "x2"), tuple(hidden), "relu", "binary", 2)
        self.state = init_state(self.spec, "adam", key=jax.random.key(0))
        self.params0 = params_to_host(self.state.params)
        self.hyper = Hyper(learning_rate)
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.steps_per_epoch = batch_plan(n_train, batch_size)[1]

    def chunk_kw(self, n_steps: int) -> dict:
        return dict(spec=self.spec, optimizer="adam", batch_size=self.batch_size, n_steps=n_steps)

    def jax_runner(self, n_steps: int) -> Callable[[int], int]:
        """k calls of the project's ``train_chunk`` of ``n_steps`` steps each."""
        from playground.core.train import train_chunk

        def run(k: int) -> int:
            for _ in range(k):
                self.state, _ = train_chunk(
                    self.state, self.x, self.y, self.hyper, **self.chunk_kw(n_steps)
                )
            jax.block_until_ready(self.state.params)
            return k * n_steps

        return run

    def reference_runner(self, cls, n_steps: int, **kw) -> Callable[[int], int]:
        """k calls of ``n_steps`` steps of a reference trainer (NumPy or PyTorch)."""
        model = cls(
            self.params0,
            self.x_np,
            self.y_np,
            learning_rate=self.learning_rate,
            batch_size=self.batch_size,
            **kw,
        )

        def run(k: int) -> int:
            model.train(k * n_steps)
            return k * n_steps

        return run


def mlp_matmul_flops(sizes, n: int) -> float:
    """FLOPs of the matrix products of one training step on a batch of n: forward
    (2 n a b per layer a->b), the weight gradients (as many) and the input gradients of
    every layer but the first. Elementwise work is left out."""
    pairs = [a * b for a, b in itertools.pairwise(sizes)]
    return 2.0 * n * (3 * sum(pairs) - pairs[0])


# PyTorch eager at its best: one intra-op thread or all of them, whichever is faster in
# each round. Tiny ops gain nothing from a second thread, and on a busy machine its
# OpenMP workers wait on each other (measured here: 50-300 steps/s with 2 threads,
# 500-3,500 with 1, for the 2-8-8-1 net).
TORCH_THREADS = {"torch_1t": 1, "torch_mt": os.cpu_count() or 1}


def torch_contenders(s: "Setting", n_steps: int) -> dict[str, Callable[[int], int]]:
    from playground.reference import TorchMLP, torch_available

    if not torch_available():
        return {}
    return {
        name: s.reference_runner(TorchMLP, n_steps, threads=threads)
        for name, threads in TORCH_THREADS.items()
    }


def best_torch(rates: dict[str, list[float]]) -> None:
    """Fold the thread settings into one ``torch`` figure per round (the faster)."""
    runs = [rates.pop(name) for name in TORCH_THREADS if name in rates]
    if runs:
        rates["torch"] = [max(r) for r in zip(*runs, strict=True)]


# -- train: the project's chunk vs PyTorch eager vs NumPy -----------------------------------------
def _chunk_steps() -> int:
    """The longest chunk of the live loop's ladder: what a small net trains in."""
    from playground.live.engine.run import CHUNK_LADDER

    return CHUNK_LADDER[-1]


@benchmark("train")
def bench_train(*, repeats: int = 5, mode: str = "full") -> dict[str, float | None]:
    """Steps/s of 2->8->8->1 (full batch 1000, Adam) and epochs/s in TensorFlow
    Playground's setting (xor, 8-8, batch 10, 250 points), each for the project's chunk,
    PyTorch eager and NumPy, timed in turn."""
    from playground.reference import NumpyMLP

    out: dict[str, float | None] = {"chunk_steps": _chunk_steps(), "load_avg_1m": load_avg()}
    settings = {
        "small": Setting(SMALL_HIDDEN, n_train=FULL_BATCH, batch_size=0),
        "tfp": Setting(SMALL_HIDDEN, n_train=250, batch_size=10),
    }
    for name, s in settings.items():
        contenders = {
            "jax": s.jax_runner(_chunk_steps()),
            "numpy": s.reference_runner(NumpyMLP, 32),
        }
        contenders |= torch_contenders(s, 32)
        rates = side_by_side(contenders, rounds=repeats, block_s=BLOCK_S[mode])
        for name_t in TORCH_THREADS:
            if name_t in rates:
                out[f"{name}_{name_t}_steps_per_s"] = statistics.median(rates[name_t])
        best_torch(rates)
        per = 1 if name == "small" else s.steps_per_epoch
        unit = "steps" if name == "small" else "epochs"
        for who in ("jax", "numpy", "torch"):
            got = rates.get(who)
            out[f"{name}_{who}_{unit}_per_s"] = statistics.median(got) / per if got else None
        for who in ("torch", "numpy"):
            got = rates.get(who)
            out[f"{name}_jax_vs_{who}_x"] = paired_ratio(rates["jax"], got) if got else None
    out["load_avg_1m_after"] = load_avg()
    return out
