r"""Small neural forecasters in torch: an MLP on a delay embedding and a deep ensemble of them.

Each member maps the last ``n_lags`` (strided) standardised values to the next one,
:math:`\hat y_{t+1} = y_t + g_\theta(y_t, y_{t-s}, \dots)` (residual form), trained by Adam on
the one-step MSE; forecasts roll out recursively. The ensemble's ``n_members`` networks (own
initialisation and mini-batch order) are trained at once with batched weights (``torch.bmm``);
their spread is the predictive distribution, scored with CRPS and interval coverage [L17]_.

References
----------
.. [L17] B. Lakshminarayanan, A. Pritzel and C. Blundell, "Simple and scalable predictive
   uncertainty estimation using deep ensembles", NeurIPS 2017.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from sciml.errors import DivergenceError

from .baselines import delay_embed

__all__ = ["EnsembleMLP", "fit_mlp_ensemble"]


class EnsembleMLP(nn.Module):
    """``n_members`` independent MLPs (in -> hidden -> hidden -> 1) evaluated in one bmm."""

    def __init__(self, n_members: int, n_in: int, hidden: int, generator: torch.Generator):
        super().__init__()

        def init(fan_in, fan_out):
            bound = 1.0 / np.sqrt(fan_in)
            w = (torch.rand(n_members, fan_in, fan_out, generator=generator) * 2 - 1) * bound
            return nn.Parameter(w)

        self.w1, self.w2, self.w3 = init(n_in, hidden), init(hidden, hidden), init(hidden, 1)
        self.b1 = nn.Parameter(torch.zeros(n_members, 1, hidden))
        self.b2 = nn.Parameter(torch.zeros(n_members, 1, hidden))
        self.b3 = nn.Parameter(torch.zeros(n_members, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (M, B, n_in) -> (M, B) next-value increments."""
        h = torch.tanh(torch.bmm(x, self.w1) + self.b1)
        h = torch.tanh(torch.bmm(h, self.w2) + self.b2)
        return (torch.bmm(h, self.w3) + self.b3)[..., 0]


class _Fitted:
    def __init__(self, net: EnsembleMLP, n_lags: int, stride: int):
        self.net, self.n_lags, self.stride = net, n_lags, stride

    @torch.no_grad()
    def predict(self, history: np.ndarray, horizon: int) -> np.ndarray:
        """Recursive rollout of every member from the end of ``history``; (M, horizon)."""
        m = self.net.w1.shape[0]
        span = (self.n_lags - 1) * self.stride
        buf = torch.tensor(np.asarray(history, np.float32)[-(span + 1):]).repeat(m, 1)
        lag_idx = -1 - self.stride * torch.arange(self.n_lags)
        out = torch.empty(m, horizon)
        for k in range(horizon):
            x = buf[:, lag_idx]
            nxt = x[:, 0] + self.net(x[:, None, :])[:, 0]
            out[:, k] = nxt
            buf = torch.cat([buf[:, 1:], nxt[:, None]], dim=1)
        return out.numpy().astype(np.float64)


def fit_mlp_ensemble(
    y: np.ndarray,
    *,
    n_members: int = 5,
    n_lags: int = 10,
    stride: int = 1,
    hidden: int = 32,
    n_steps: int = 300,
    batch_size: int = 256,
    lr: float = 3e-3,
    seed: int = 0,
) -> _Fitted:
    """Train the ensemble on a standardised 1-D series (float32, CPU)."""
    gen = torch.Generator().manual_seed(int(seed))
    emb = delay_embed(np.asarray(y, np.float32), n_lags, stride)[:-1]
    target = np.asarray(y, np.float32)[(n_lags - 1) * stride + 1:] - emb[:, 0]
    X = torch.tensor(emb, dtype=torch.float32)
    T = torch.tensor(target, dtype=torch.float32)
    net = EnsembleMLP(n_members, n_lags, hidden, gen)
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    n = len(X)
    bs = min(batch_size, n)
    for _ in range(n_steps):
        idx = torch.randint(0, n, (n_members, bs), generator=gen)
        pred = net(X[idx])
        loss = torch.mean((pred - T[idx]) ** 2)
        opt.zero_grad()
        loss.backward()
        opt.step()
    if not torch.isfinite(loss):
        raise DivergenceError("MLP ensemble training loss became non-finite; lower lr")
    return _Fitted(net, n_lags, stride)
