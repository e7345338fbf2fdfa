r"""Plain mean-squared-error network: the deterministic baseline of the CS-IB paper.

Yu et al., ICLR 2024 (arXiv:2404.17951), Sec. 5.1, Table 2 ("MSE" row): the same encoder and
decoder as CS-IB, no noise, no compression term.

.. math:: \mathcal L = \frac1N \sum_i (\hat y_i - y_i)^2
"""

from __future__ import annotations

import torch

from sciml.csib.model import IBNet

__all__ = ["NOISE", "mse_loss"]

#: encoder noise mode used with this loss
NOISE = "none"


def mse_loss(
    net: IBNet,
    x: torch.Tensor,
    y: torch.Tensor,
    beta: float,
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Mean squared error of the (deterministic) network on a batch.

    Parameters
    ----------
    net : the network.
    x : (n, d) standardised inputs.
    y : (n,) standardised targets.
    beta : ignored (no compression term); kept for a uniform signature.
    generator : unused (no noise).

    Returns
    -------
    (loss, parts) with ``parts = {"prediction": mse, "compression": 0}``.
    """
    y_hat, _, _, _ = net(x, sample=True, generator=generator)
    mse = torch.mean((y_hat - y) ** 2)
    return mse, {"prediction": mse.detach(), "compression": torch.zeros(())}
