r"""Network and predictive-distribution building blocks of the forecasters.

Every forecaster returns, per sample and horizon, a Gaussian mixture summarised by its mean and
the two parts of the law of total variance (Sengupta et al., arXiv 2107.06396, Sec. 3.2;
Kendall & Gal 2017):

.. math::

    \mu = \frac1M\sum_m \mu_m,\qquad
    \sigma^2_{ale} = \frac1M\sum_m \sigma_m^2,\qquad
    \sigma^2_{epi} = \frac1M\sum_m (\mu_m - \mu)^2,\qquad
    \sigma^2_{tot} = \sigma^2_{ale} + \sigma^2_{epi},

where :math:`m` runs over ensemble members or posterior weight samples; :math:`\sigma^2_{tot}` is
exactly the variance of the equally weighted mixture :math:`\frac1M\sum_m N(\mu_m, \sigma_m^2)`.

Bounded variance head (Chua et al., "Deep Reinforcement Learning in a Handful of Trials using
Probabilistic Dynamics Models", NeurIPS 2018, Appendix A.1): the network's raw output :math:`r` is a
log-variance softly clamped between a learned floor :math:`\ell_{min}` and ceiling :math:`\ell_{max}`,

.. math::

    \ell = \ell_{max} - \mathrm{softplus}(\ell_{max} - r),\qquad
    \log\sigma^2 = \ell_{min} + \mathrm{softplus}(\ell - \ell_{min}),

with a penalty :math:`\lambda\sum(\ell_{max} - \ell_{min})` in the loss, which pulls the bounds in
to the range of variances the training data need. A heteroscedastic head is a function fitted on
the training inputs only; off the data (a failed sensor) an unbounded head extrapolates to
arbitrary variances, which would report *aleatoric* (noise) uncertainty where the honest answer is
*epistemic* (no data). The clamp keeps each member's noise estimate inside the range it learned;
disagreement between members is left unbounded.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from sciml.errors import DataError
from sciml.uq import mixture_moments

__all__ = ["Forecast", "combine_members", "EnsembleMLP", "MIN_VAR", "bounded_variance",
           "variance_ceiling",
           "LOGVAR_BOUNDS_INIT", "BOUND_PENALTY"]

MIN_VAR = 1e-4  # hard variance floor in standardised target units
# initial (floor, ceiling) of the log-variance; targets are standardised to unit variance, so the
# ceiling starts at twice the marginal variance and the floor well below any conditional variance
LOGVAR_BOUNDS_INIT = (-8.0, float(np.log(2.0)))
BOUND_PENALTY = 0.01  # lambda of the bound penalty (per output, per unit of mean NLL)


def bounded_variance(raw: torch.Tensor, min_logvar: torch.Tensor,
                     max_logvar: torch.Tensor) -> torch.Tensor:
    """Variance from a raw log-variance softly clamped to ``[min_logvar, max_logvar]``.

    Parameters
    ----------
    raw : tensor (..., H)
    min_logvar, max_logvar : tensors broadcastable to ``raw``

    Returns
    -------
    tensor (..., H): ``exp(l) + MIN_VAR`` with ``l`` the soft clamp of the module docstring;
    always in ``(exp(min_logvar), exp(ceiling) + MIN_VAR)`` with
    ``ceiling = min_logvar + softplus(max_logvar - min_logvar)`` (:func:`variance_ceiling`), which
    exceeds ``max_logvar`` by ``log1p(exp(min_logvar - max_logvar))`` only.
    """
    lv = max_logvar - nn.functional.softplus(max_logvar - raw)
    lv = min_logvar + nn.functional.softplus(lv - min_logvar)
    return torch.exp(lv) + MIN_VAR


def variance_ceiling(min_logvar: torch.Tensor, max_logvar: torch.Tensor) -> torch.Tensor:
    """Supremum of :func:`bounded_variance` over all raw outputs."""
    return torch.exp(min_logvar + nn.functional.softplus(max_logvar - min_logvar)) + MIN_VAR


@dataclass
class Forecast:
    """Predictive mean and variances, each ndarray of shape (n, H) in target units (bar)."""

    mean: np.ndarray
    aleatoric_var: np.ndarray
    epistemic_var: np.ndarray

    @property
    def total_var(self) -> np.ndarray:
        return self.aleatoric_var + self.epistemic_var

    @property
    def std(self) -> np.ndarray:
        return np.sqrt(self.total_var)

    @property
    def aleatoric_std(self) -> np.ndarray:
        return np.sqrt(self.aleatoric_var)

    @property
    def epistemic_std(self) -> np.ndarray:
        return np.sqrt(self.epistemic_var)

    def scaled(self, loc: float, scale: float) -> Forecast:
        """Map from standardised to physical units: y = loc + scale * z."""
        return Forecast(loc + scale * self.mean, scale**2 * self.aleatoric_var,
                        scale**2 * self.epistemic_var)

    def inflate(self, factor: np.ndarray) -> Forecast:
        """Multiply both variance parts by ``factor`` (per horizon; recalibration)."""
        f = np.asarray(factor)
        return Forecast(self.mean, self.aleatoric_var * f, self.epistemic_var * f)

    def revert_aleatoric(self, weight: np.ndarray, prior_var: np.ndarray) -> Forecast:
        r"""Pull the aleatoric part towards a prior noise level off the data.

        .. math:: \sigma^2_{ale}(x) \leftarrow (1 - \nu(x))\,\sigma^2_{ale}(x) + \nu(x)\,\eta

        (Skafte, Jorgensen & Hauberg 2019, "extrapolation architecture"). With one weight per
        sample, mixing each member's variance and then averaging equals mixing the average, so
        it applies to the mixture summary. The epistemic part is unchanged.

        Parameters
        ----------
        weight : ndarray, shape (n,), :math:`\nu \in [0, 1]` (0: on the data)
        prior_var : ndarray, shape (H,), :math:`\eta`, in the forecast's units

        References
        ----------
        .. [1] Skafte, Jorgensen, Hauberg, "Reliable training and estimation of variance
           networks", NeurIPS 2019, pp. 6326-6336.
        """
        nu = np.asarray(weight, dtype=np.float64)[:, None]
        eta = np.asarray(prior_var, dtype=np.float64)[None, :]
        return Forecast(self.mean, (1.0 - nu) * self.aleatoric_var + nu * eta, self.epistemic_var)


def combine_members(means: np.ndarray, variances: np.ndarray) -> Forecast:
    """Mixture summary of M members (axis 0): mean, aleatoric and epistemic variance.

    Parameters
    ----------
    means, variances : ndarray, shape (M, n, H)

    Returns
    -------
    Forecast (with ``total_var`` equal to the mixture variance)
    """
    if np.ndim(means) < 2:
        raise DataError(f"member means {np.shape(means)} need a member axis and a sample axis")
    return Forecast(*mixture_moments(means, variances, axis=0))


class EnsembleMLP(nn.Module):
    """M independent heteroscedastic MLPs evaluated in one batched pass.

    ``x`` (n, d) or (M, n, d) -> mean (M, n, H), variance (M, n, H) from the bounded head
    (:func:`bounded_variance`, per-member learned bounds ``min_logvar``/``max_logvar`` (M, 1, H)).
    SiLU activations keep the map smooth (integrated gradients then converge quickly). Weights:
    ``weights[i]`` (M, d_i, d_{i+1}), ``biases[i]`` (M, 1, d_{i+1}).
    """

    def __init__(self, n_members: int, n_in: int, hidden: tuple[int, ...], n_out: int) -> None:
        super().__init__()
        sizes = (n_in, *hidden, 2 * n_out)
        self.n_members = n_members
        self.n_out = n_out
        self.weights = nn.ParameterList(
            [nn.Parameter(torch.zeros(n_members, a, b)) for a, b in zip(sizes[:-1], sizes[1:], strict=False)]
        )
        self.biases = nn.ParameterList(
            [nn.Parameter(torch.zeros(n_members, 1, b)) for b in sizes[1:]]
        )
        lo, hi = LOGVAR_BOUNDS_INIT
        self.min_logvar = nn.Parameter(torch.full((n_members, 1, n_out), lo))
        self.max_logvar = nn.Parameter(torch.full((n_members, 1, n_out), hi))
        # per-horizon variance factor of the validation recalibration (1 = none); not used by
        # forward, applied to the mixture forecast (see experiment.predict_one)
        self.register_buffer("var_scale", torch.ones(n_out))
        # typical (validation-average) aleatoric variance per horizon, standardised units: the
        # prior noise level that off-data forecasts revert to (Forecast.revert_aleatoric)
        self.register_buffer("ale_prior", torch.full((n_out,), float("nan")))  # NaN: not fitted

    def bound_penalty(self) -> torch.Tensor:
        """Per-member sum of ``max_logvar - min_logvar`` (M,), the penalty of the bounded head."""
        return (self.max_logvar - self.min_logvar).sum(dim=(1, 2))

    def prior_std(self, weight_scale: float, bias_scale: float) -> list[torch.Tensor]:
        """Prior std per parameter tensor: ``sqrt(weight_scale / fan_in)`` for weights."""
        out = [torch.full_like(w, math.sqrt(weight_scale / w.shape[1])) for w in self.weights]
        out += [torch.full_like(b, bias_scale) for b in self.biases]
        return out

    def parameters_list(self) -> list[nn.Parameter]:
        return list(self.weights) + list(self.biases)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = x if x.dim() == 3 else x.unsqueeze(0).expand(self.n_members, -1, -1)
        n_layers = len(self.weights)
        for i, (w, b) in enumerate(zip(self.weights, self.biases, strict=False)):
            h = torch.baddbmm(b, h, w)
            if i < n_layers - 1:
                h = nn.functional.silu(h)
        mean, raw = h[..., : self.n_out], h[..., self.n_out :]
        return mean, bounded_variance(raw, self.min_logvar, self.max_logvar)
