r"""HSIC-bottleneck baseline (normalised HSIC between input, representation and target).

Ma, Lewis & Kleijn, "The HSIC Bottleneck: Deep Learning without Back-Propagation", AAAI 2020,
Sec. 3, eq. (4): the bottleneck objective :math:`\mathrm{nHSIC}(X, T) - \gamma\,\mathrm{nHSIC}(Y, T)`;
used here, as in Wang et al., "Revisiting Hilbert-Schmidt Information Bottleneck for Adversarial
Robustness" (HBaR), NeurIPS 2021, eq. (3), as a regulariser of the end-to-end trained network
with the same encoder/decoder as CS-IB:

.. math::

    \mathcal L = \mathrm{MSE} + \beta\,\big[\mathrm{nHSIC}(x, t) - \gamma\,\mathrm{nHSIC}(y, t)\big],
    \qquad \mathrm{nHSIC}(a, b) = \frac{\mathrm{tr}(\tilde K \tilde L)}
        {\|\tilde K\|_F\,\|\tilde L\|_F},\ \tilde K = HKH

(biased HSIC estimator of Gretton et al. 2005 with centring matrix H, normalised to [0, 1];
Gaussian kernels, median-heuristic widths). The encoder is deterministic, as in Ma et al.
"""

from __future__ import annotations

import torch

from sciml.csib.divergence import KernelWidth, kernel_width, log_gram
from sciml.csib.model import IBNet

__all__ = ["NOISE", "hsic_loss", "normalized_hsic"]

#: encoder noise mode used with this loss
NOISE = "none"


def _centred_gram(z: torch.Tensor, sigma: KernelWidth) -> torch.Tensor:
    if z.ndim == 1:
        z = z[:, None]
    w = kernel_width(z, sigma)
    k = torch.exp(log_gram(z, z, w))
    return k - k.mean(0, keepdim=True) - k.mean(1, keepdim=True) + k.mean()


def normalized_hsic(
    a: torch.Tensor,
    b: torch.Tensor,
    sigma_a: KernelWidth = "median",
    sigma_b: KernelWidth = "median",
) -> torch.Tensor:
    r"""Normalised HSIC :math:`\mathrm{tr}(\tilde K\tilde L)/(\|\tilde K\|_F\|\tilde L\|_F)`.

    Parameters
    ----------
    a : (n, d_a) or (n,)
    b : (n, d_b) or (n,)
    sigma_a, sigma_b : Gaussian kernel widths (rule or value).

    Returns
    -------
    Tensor scalar in [0, 1].
    """
    return _nhsic(_centred_gram(a, sigma_a), _centred_gram(b, sigma_b))


def _nhsic(k: torch.Tensor, l: torch.Tensor) -> torch.Tensor:
    return (k * l).sum() / (k.norm() * l.norm()).clamp_min(1e-12)


def hsic_loss(
    net: IBNet,
    x: torch.Tensor,
    y: torch.Tensor,
    beta: float,
    generator: torch.Generator | None = None,
    gamma: float = 1.0,
    sigma_x: KernelWidth = "median",
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """HSIC-bottleneck loss of one mini-batch (see the module docstring).

    Parameters
    ----------
    gamma : weight of nHSIC(y, t) relative to nHSIC(x, t).
    sigma_x : kernel width of x (t and y use the median heuristic per batch).

    Returns
    -------
    (loss, parts) with the squared error and nHSIC(x, t) in ``parts``.
    """
    y_hat, t, _, _ = net(x, sample=True, generator=generator)
    mse = torch.mean((y_hat - y) ** 2)
    kt = _centred_gram(t, "median")
    hx = _nhsic(_centred_gram(x, sigma_x), kt)
    hy = _nhsic(_centred_gram(y, "median"), kt)
    return mse + beta * (hx - gamma * hy), {"prediction": mse.detach(), "compression": hx.detach()}
