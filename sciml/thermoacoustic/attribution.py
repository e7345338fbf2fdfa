r"""Integrated-gradients attribution of a forecast to every sensor channel and lag.

Sundararajan, Taly, Yan, "Axiomatic Attribution for Deep Networks", ICML 2017, PMLR 70:3319-3328,
Eq. 1: for input :math:`x`, baseline :math:`x'` and scalar model output :math:`F`,

.. math:: \mathrm{IG}_i(x) = (x_i - x'_i)\int_0^1
          \frac{\partial F(x' + \alpha(x - x'))}{\partial x_i}\,d\alpha,

computed by Gauss-Legendre quadrature (Captum ``IntegratedGradients``), in float64. Completeness
(Prop. 1 of the paper): :math:`\sum_i \mathrm{IG}_i = F(x) - F(x')`; the networks use SiLU
activations so the path integrand is smooth and the quadrature converges fast. The output
:math:`F` is the ensemble-mean forecast of one horizon (standardised units); the baseline is the
training mean (zero after standardisation). Used in Sengupta et al. (arXiv 2107.06396, Sec. 4.4)
to rank sensors.
"""

from __future__ import annotations

import copy

import numpy as np
import torch
from captum.attr import IntegratedGradients

from sciml.errors import DivergenceError
from sciml.thermoacoustic.model import EnsembleMLP

__all__ = ["integrated_gradients"]


class _MeanHead(torch.nn.Module):
    def __init__(self, net: EnsembleMLP, horizon: int) -> None:
        super().__init__()
        self.net = net
        self.horizon = horizon

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mean, _ = self.net(x)
        return mean[..., self.horizon].mean(dim=0)


def integrated_gradients(
    net: EnsembleMLP,
    x: np.ndarray,
    horizon: int,
    baseline: np.ndarray | None = None,
    n_steps: int = 64,
    tol: float = 0.01,
) -> dict[str, np.ndarray]:
    """Attributions of the ensemble-mean forecast at one horizon index.

    Parameters
    ----------
    net : trained EnsembleMLP
    x : ndarray, shape (n, d), standardised inputs
    horizon : index into the horizons
    baseline : ndarray, shape (d,) (default zeros = training mean)
    n_steps : quadrature nodes
    tol : relative completeness tolerance (of max(|F(x) - F(x')|, 1e-3))

    Returns
    -------
    dict with ``attributions`` (n, d), ``delta_f`` (n,) = F(x) - F(x'), ``completeness_error``
    (n,) relative |sum IG - delta_f| / |delta_f|.

    Raises
    ------
    DivergenceError
        if any sample misses completeness by more than ``tol`` (raise ``n_steps``).
    """
    head = _MeanHead(copy.deepcopy(net).double().eval(), horizon)
    xt = torch.as_tensor(x, dtype=torch.float64)
    bt = torch.zeros_like(xt) if baseline is None else torch.as_tensor(
        np.broadcast_to(baseline, x.shape), dtype=torch.float64)
    ig = IntegratedGradients(head)
    attr = ig.attribute(xt, baselines=bt, n_steps=n_steps, method="gausslegendre",
                        internal_batch_size=max(1, 16384 // n_steps))
    with torch.no_grad():
        delta_f = (head(xt) - head(bt)).numpy()
    a = attr.detach().numpy()
    err = np.abs(a.sum(axis=1) - delta_f) / np.maximum(np.abs(delta_f), 1e-3)
    if np.any(err > tol):
        raise DivergenceError(
            f"integrated gradients miss completeness: max relative error {err.max():.3g} > {tol}; "
            "increase n_steps"
        )
    return {"attributions": a, "delta_f": delta_f, "completeness_error": err}
