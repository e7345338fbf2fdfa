r"""Echo-state network (reservoir computing) forecaster [J01]_, [P18]_.

Reservoir :math:`r_{t+1} = (1-\alpha) r_t + \alpha\tanh(W r_t + W_{in} u_t + b)` with a sparse
random :math:`W` scaled to spectral radius :math:`\rho`; a ridge readout
:math:`\hat u_{t+1} = W_{out}[r_{t+1}; u_t; 1]` is fitted on the teacher-forced training states,
and the forecast runs in closed loop after synchronising the reservoir on the test history.

References
----------
.. [J01] H. Jaeger, "The echo state approach to analysing and training recurrent neural
   networks", GMD Report 148 (2001).
.. [P18] J. Pathak et al., Phys. Rev. Lett. 120 (2018) 024102.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["ESN", "fit_esn"]


@dataclass
class ESN:
    """A fitted echo-state network (batched over ``n_members`` independent reservoirs)."""

    W: np.ndarray  # (M, N, N)
    W_in: np.ndarray  # (M, N)
    b: np.ndarray  # (M, N)
    W_out: np.ndarray  # (M, N + 2)
    leak: float

    def _step(self, r, u):
        pre = np.einsum("mij,mj->mi", self.W, r) + self.W_in * u[:, None] + self.b
        return (1 - self.leak) * r + self.leak * np.tanh(pre)

    def _read(self, r, u):
        feats = np.concatenate([r, u[:, None], np.ones((r.shape[0], 1))], axis=1)
        return np.sum(self.W_out * feats, axis=1)

    def predict(self, history: np.ndarray, horizon: int) -> np.ndarray:
        """Synchronise on ``history`` (1-D, standardised) then run closed loop; (M, horizon)."""
        m, n = self.W_in.shape
        r = np.zeros((m, n))
        hist = np.asarray(history, float)
        for u in hist:
            r = self._step(r, np.full(m, u))
        u = np.full(m, hist[-1])
        out = np.empty((m, horizon))
        for k in range(horizon):
            y = self._read(r, u)
            out[:, k] = y
            r = self._step(r, y)
            u = y
        return out


def fit_esn(
    y: np.ndarray,
    *,
    n_reservoir: int = 200,
    n_members: int = 1,
    spectral_radius: float = 0.9,
    input_scale: float = 0.5,
    leak: float = 1.0,
    density: float = 0.05,
    ridge: float = 1e-6,
    washout: int = 100,
    seed: int = 0,
) -> ESN:
    """Fit ``n_members`` reservoirs (different random draws) to a standardised 1-D series."""
    rng = np.random.default_rng(seed)
    m, n = n_members, n_reservoir
    W = rng.uniform(-1, 1, (m, n, n)) * (rng.random((m, n, n)) < density)
    rad = np.max(np.abs(np.linalg.eigvals(W)), axis=1)
    W *= (spectral_radius / np.where(rad > 0, rad, 1.0))[:, None, None]
    W_in = rng.uniform(-input_scale, input_scale, (m, n))
    b = rng.uniform(-0.1, 0.1, (m, n))
    esn = ESN(W=W, W_in=W_in, b=b, W_out=np.zeros((m, n + 2)), leak=leak)
    y = np.asarray(y, float)
    washout = min(washout, len(y) // 4)
    r = np.zeros((m, n))
    feats = np.empty((len(y) - 1, m, n + 2))
    for t in range(len(y) - 1):
        r = esn._step(r, np.full(m, y[t]))
        feats[t, :, :n] = r
        feats[t, :, n] = y[t]
        feats[t, :, n + 1] = 1.0
    X = feats[washout:]
    target = y[washout + 1:]
    for j in range(m):
        A = X[:, j]
        G = A.T @ A + ridge * len(A) * np.eye(n + 2)
        esn.W_out[j] = np.linalg.solve(G, A.T @ target)
    return esn
