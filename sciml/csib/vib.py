r"""Variational Information Bottleneck (VIB) baseline for regression.

Alemi, Fischer, Dillon & Murphy, "Deep Variational Information Bottleneck", ICLR 2017, Sec. 3,
eq. (6)-(7), with a Gaussian decoder of fixed variance (so the log-likelihood term is the squared
error up to constants) and the standard normal prior r(t) = N(0, I):

.. math::

    \mathcal L = \frac1N\sum_i (\hat y_i - y_i)^2
        + \beta\,\frac1N\sum_i \mathrm{KL}\big(\mathcal N(\mu_i, \mathrm{diag}\,s_i^2)
        \,\|\, \mathcal N(0, I)\big),\quad
    \mathrm{KL} = \tfrac12\sum_k (\mu_{ik}^2 + s_{ik}^2 - 1 - \log s_{ik}^2)

The encoder is heteroscedastic (input-dependent noise scale, reparameterised sample), otherwise
the same network as CS-IB.
"""

from __future__ import annotations

import torch

from sciml.csib.model import IBNet

__all__ = ["NOISE", "vib_loss", "gaussian_kl"]

#: encoder noise mode used with this loss
NOISE = "heteroscedastic"


def gaussian_kl(mean: torch.Tensor, log_std: torch.Tensor) -> torch.Tensor:
    r"""KL(N(mean, diag exp(2 log_std)) || N(0, I)) per row, summed over the last dim."""
    var = torch.exp(2.0 * log_std)
    return 0.5 * (mean**2 + var - 1.0 - 2.0 * log_std).sum(-1)


def vib_loss(
    net: IBNet,
    x: torch.Tensor,
    y: torch.Tensor,
    beta: float,
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """VIB loss of one mini-batch (see the module docstring).

    Returns
    -------
    (loss, parts) with the squared error and the mean KL rate (nats) in ``parts``.
    """
    y_hat, _, mean, log_std = net(x, sample=True, generator=generator)
    mse = torch.mean((y_hat - y) ** 2)
    kl = gaussian_kl(mean, log_std.expand_as(mean)).mean()
    return mse + beta * kl, {"prediction": mse.detach(), "compression": kl.detach()}
