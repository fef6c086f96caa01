"""The same network and update outside JAX: plain NumPy (written by hand) and PyTorch eager.

These are the yardsticks of ``python -m playground.bench``: a ReLU MLP trained with Adam on
the mean binary cross-entropy, full batch or minibatches that follow a fresh permutation
each epoch, exactly the update of ``core.train.train_chunk`` (without its logs and its
divergence checks, which only make the project's side slower). Both start from the
weights they are given, so a test can hold them to the project's training step by step.

PyTorch is optional (``pip install -e '.[bench]'``): ``torch_available()`` says whether it
imports.
"""

import importlib.util

import numpy as np

# optax.adam's defaults, which the project's "adam" uses.
ADAM_B1, ADAM_B2, ADAM_EPS = 0.9, 0.999, 1e-8


def torch_available() -> bool:
    return importlib.util.find_spec("torch") is not None


class _Batches:
    """Minibatch indices: a fresh permutation each epoch (full batch: every point)."""

    def __init__(self, n: int, batch_size: int, seed: int = 0):
        self.n = n
        self.b = n if batch_size <= 0 or batch_size >= n else batch_size
        self.per_epoch = n // self.b
        self.rng = np.random.default_rng(seed)
        self.order = np.arange(n)
        self.step = 0

    @property
    def full(self) -> bool:
        return self.b == self.n

    def next(self) -> np.ndarray:
        k = self.step % self.per_epoch
        if k == 0:
            self.order = self.rng.permutation(self.n)
        self.step += 1
        return self.order[k * self.b : (k + 1) * self.b]


class NumpyMLP:
    """A ReLU MLP with a one-logit output, Adam on the mean binary cross-entropy, in NumPy.

    ``params``: [(W (fan_in, fan_out), b (fan_out,)), ...], float32, copied. Forward,
    backward and the Adam update are written out by hand, as a learner would.
    """

    def __init__(self, params, x, y, *, learning_rate: float, batch_size: int = 0, seed: int = 0):
        self.params = [(np.array(w, np.float32), np.array(b, np.float32)) for w, b in params]
        self.mu = [(np.zeros_like(w), np.zeros_like(b)) for w, b in self.params]
        self.nu = [(np.zeros_like(w), np.zeros_like(b)) for w, b in self.params]
        self.count = 0
        self.lr = np.float32(learning_rate)
        self.x = np.asarray(x, np.float32)
        self.y = np.asarray(y, np.float32)
        self.batches = _Batches(len(self.x), batch_size, seed)

    def loss_and_grads(self, x: np.ndarray, y: np.ndarray):
        """Mean BCE-with-logits loss and its gradient for every (W, b)."""
        hs, zs = [x], []
        for w, b in self.params[:-1]:
            z = hs[-1] @ w + b
            zs.append(z)
            hs.append(np.maximum(z, 0))
        w_out, b_out = self.params[-1]
        o = (hs[-1] @ w_out + b_out)[:, 0]
        loss = np.mean(np.maximum(o, 0) - o * y + np.log1p(np.exp(-np.abs(o))))
        g = ((1 / (1 + np.exp(-o)) - y) / len(y)).astype(np.float32)[:, None]  # dL/do
        grads = []
        for i in range(len(self.params) - 1, -1, -1):
            w, _ = self.params[i]
            grads.append((hs[i].T @ g, g.sum(axis=0)))
            if i:
                g = (g @ w.T) * (zs[i - 1] > 0)
        return float(loss), grads[::-1]

    def step(self) -> float:
        if self.batches.full:
            x, y = self.x, self.y
        else:
            idx = self.batches.next()
            x, y = self.x[idx], self.y[idx]
        loss, grads = self.loss_and_grads(x, y)
        self.count += 1
        c1 = np.float32(1 - ADAM_B1**self.count)
        c2 = np.float32(1 - ADAM_B2**self.count)
        for i, pairs in enumerate(zip(self.params, grads, self.mu, self.nu, strict=True)):
            new = []
            for p, g, m, v in zip(*pairs, strict=True):
                m *= ADAM_B1
                m += (1 - ADAM_B1) * g
                v *= ADAM_B2
                v += (1 - ADAM_B2) * g * g
                new.append(p - self.lr * (m / c1) / (np.sqrt(v / c2) + ADAM_EPS))
            self.params[i] = (new[0].astype(np.float32), new[1].astype(np.float32))
        return loss

    def train(self, n_steps: int) -> None:
        for _ in range(n_steps):
            self.step()

    def params_numpy(self) -> list[tuple[np.ndarray, np.ndarray]]:
        return [(w.copy(), b.copy()) for w, b in self.params]


class TorchMLP:
    """The same network and update in PyTorch eager (torch.optim.Adam), on the CPU."""

    def __init__(
        self,
        params,
        x,
        y,
        *,
        learning_rate: float,
        batch_size: int = 0,
        seed: int = 0,
        threads: int | None = None,
    ):
        import torch

        self.torch = torch
        self.threads = threads  # torch's intra-op threads while this one trains
        self.params = [
            (
                torch.tensor(np.array(w, np.float32), requires_grad=True),
                torch.tensor(np.array(b, np.float32), requires_grad=True),
            )
            for w, b in params
        ]
        flat = [p for pair in self.params for p in pair]
        # foreach: the multi-tensor Adam, PyTorch's fastest eager update for many small
        # tensors (its CPU default is one tensor at a time).
        self.opt = torch.optim.Adam(flat, lr=learning_rate, eps=ADAM_EPS, foreach=True)
        self.x = torch.tensor(np.asarray(x, np.float32))
        self.y = torch.tensor(np.asarray(y, np.float32))
        self.batches = _Batches(len(self.x), batch_size, seed)

    def step(self) -> None:
        F = self.torch.nn.functional
        if self.batches.full:
            x, y = self.x, self.y
        else:
            idx = self.torch.from_numpy(self.batches.next())
            x, y = self.x[idx], self.y[idx]
        h = x
        for w, b in self.params[:-1]:
            h = self.torch.relu(h @ w + b)
        w, b = self.params[-1]
        loss = F.binary_cross_entropy_with_logits((h @ w + b)[:, 0], y)
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.opt.step()

    def train(self, n_steps: int) -> None:
        if self.threads:
            self.torch.set_num_threads(self.threads)
        for _ in range(n_steps):
            self.step()

    def params_numpy(self) -> list[tuple[np.ndarray, np.ndarray]]:
        return [(w.detach().numpy().copy(), b.detach().numpy().copy()) for w, b in self.params]
