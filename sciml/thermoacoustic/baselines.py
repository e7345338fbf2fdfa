r"""Baselines: persistence and a deterministic (non-Bayesian) heteroscedastic network.

Persistence forecasts :math:`\hat a_{k+h} = a_k` with the aleatoric std of the training
:math:`h`-step changes, :math:`\sigma_h^2 = \overline{(a_{k+h} - a_k)^2}` (Sengupta et al.,
arXiv 2107.06396, Sec. 4 compare against it). The deterministic network is one member of
:class:`~.model.EnsembleMLP` fitted by MAP with weight decay: it reports aleatoric variance only
(epistemic is zero by construction).
"""

from __future__ import annotations

import numpy as np

from sciml.thermoacoustic.ensemble import fit_ensemble_net
from sciml.thermoacoustic.model import EnsembleMLP, Forecast

__all__ = ["PersistenceForecaster", "fit_persistence", "fit_deterministic"]


class PersistenceForecaster:
    """Last observed amplitude, with per-horizon std of the training changes."""

    def __init__(self, step_std: np.ndarray) -> None:
        self.step_std = np.asarray(step_std, dtype=np.float64)

    def predict(self, y_now: np.ndarray) -> Forecast:
        """Forecast (n, H) in bar from the current amplitudes ``y_now`` (n,)."""
        y_now = np.asarray(y_now, dtype=np.float64)
        mean = np.repeat(y_now[:, None], self.step_std.size, axis=1)
        var = np.broadcast_to(self.step_std**2, mean.shape).copy()
        return Forecast(mean, var, np.zeros_like(mean))


def fit_persistence(y_now: np.ndarray, y: np.ndarray) -> PersistenceForecaster:
    """RMS of the training changes ``y[:, h] - y_now`` per horizon."""
    d = np.asarray(y, dtype=np.float64) - np.asarray(y_now, dtype=np.float64)[:, None]
    return PersistenceForecaster(np.sqrt((d**2).mean(axis=0)))


def fit_deterministic(x, y, hidden=(64, 64), epochs: int = 20, seed: int = 0,
                      weight_decay: float = 1e-4, **kw) -> EnsembleMLP:
    """One heteroscedastic MLP by MAP with weight decay (Kaiming-scaled random initialisation)."""
    return fit_ensemble_net(x, y, 1, hidden, epochs, seed, anchored=False,
                            weight_decay=weight_decay, desc="deterministic net", **kw)
