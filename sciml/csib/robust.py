r"""Robust-loss networks: what CS-IB's prediction term becomes when its x window sees no neighbour.

Yu et al., ICLR 2024 (arXiv:2404.17951), Sec. 3.1: the prediction term of CS-IB is the
conditional CS divergence :math:`D_{CS}(p(y|x)\,\|\,q(\hat y|x))`. With a narrow x window
(``sigma_x`` = 0.25 on standardised inputs) hardly any other batch input is a neighbour, and the
term tends to the log-correntropy :math:`-2\log \frac1N\sum_j \exp(-e_j^2/(2\sigma_y^2))` of
the errors :math:`e_j = \hat y_j - y_j` (:mod:`sciml.csib.csib`). A gain of CS-IB over the MSE
net may then come from this robust loss rather than from the bottleneck. The two losses here
train the *same* deterministic network (no noise, no compression term) so that the comparison
separates the two:

``welsch`` (correntropy, Welsch/Leclerc; Liu, Pokharel & Principe 2007)
    .. math:: \rho_\sigma(e) = 2\sigma^2\,\big(1 - e^{-e^2/(2\sigma^2)}\big),

    with :math:`\sigma` = ``sigma_y``, CS-IB's target window. :math:`\rho_\sigma(e) \to e^2`
    as :math:`\sigma \to \infty`; its gradient :math:`2e\,e^{-e^2/(2\sigma^2)}` is the squared
    error's times the same weight that CS-IB's near-diagonal limit gives an error.
``huber`` (Huber 1964)
    .. math:: \rho_\delta(e) = e^2 \text{ for } |e| \le \delta, \quad 2\delta|e| - \delta^2
              \text{ otherwise},

    with :math:`\delta` = 1.345 on standardised targets (95 % efficiency under Gaussian
    errors); the squared error inside, linear (bounded gradient) outside.

Both are scaled to equal the squared error for small errors, so Adam sees the MSE net's step
sizes near the optimum.

References
----------
.. [1] W. Liu, P. P. Pokharel, J. C. Principe, "Correntropy: Properties and Applications in
   Non-Gaussian Signal Processing", IEEE Trans. Signal Process. 55(11):5286-5298, 2007.
.. [2] P. J. Huber, "Robust Estimation of a Location Parameter", Ann. Math. Statist.
   35(1):73-101, 1964.
"""

from __future__ import annotations

import torch

from sciml.csib.model import IBNet

__all__ = ["NOISE", "HUBER_DELTA", "welsch", "huber", "welsch_loss", "huber_loss"]

#: encoder noise mode used with these losses (the MSE net's: deterministic)
NOISE = "none"
#: Huber's threshold on standardised targets: 95 % asymptotic efficiency at the normal
HUBER_DELTA = 1.345


def welsch(err: torch.Tensor, sigma: float) -> torch.Tensor:
    r"""Welsch (correntropy) loss :math:`2\sigma^2(1 - e^{-e^2/(2\sigma^2)})` per element.

    Parameters
    ----------
    err : torch.Tensor, any shape
        Errors :math:`\hat y - y`.
    sigma : float
        Kernel width (> 0).

    Returns
    -------
    torch.Tensor, shape of ``err``

    Examples
    --------
    >>> import torch
    >>> float(welsch(torch.tensor(0.0), 2.0))
    0.0
    >>> round(float(welsch(torch.tensor(1e-3), 2.0)) / 1e-6, 6)  # e^2 for small e
    1.0
    """
    s2 = 2.0 * sigma * sigma
    return s2 * -torch.expm1(-(err * err) / s2)


def huber(err: torch.Tensor, delta: float = HUBER_DELTA) -> torch.Tensor:
    r"""Huber loss scaled to :math:`e^2` inside :math:`|e| \le \delta`, :math:`2\delta|e| - \delta^2` outside.

    Parameters
    ----------
    err : torch.Tensor, any shape
        Errors :math:`\hat y - y`.
    delta : float
        Threshold (> 0).

    Returns
    -------
    torch.Tensor, shape of ``err``
    """
    a = err.abs()
    return torch.where(a <= delta, err * err, 2.0 * delta * a - delta * delta)


def welsch_loss(
    net: IBNet,
    x: torch.Tensor,
    y: torch.Tensor,
    beta: float,
    generator: torch.Generator | None = None,
    sigma_y: float = 2.0,
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Mean Welsch loss of the deterministic network on a batch (:func:`welsch`).

    Parameters
    ----------
    net : the network (noise mode ``"none"``).
    x : (n, d) standardised inputs.
    y : (n,) standardised targets.
    beta : ignored (no compression term); kept for a uniform signature.
    generator : unused (no noise).
    sigma_y : kernel width, CS-IB's target window by default.

    Returns
    -------
    (loss, parts) with ``parts = {"prediction": loss, "compression": 0}``.
    """
    y_hat, _, _, _ = net(x, sample=True, generator=generator)
    loss = torch.mean(welsch(y_hat - y, sigma_y))
    return loss, {"prediction": loss.detach(), "compression": torch.zeros(())}


def huber_loss(
    net: IBNet,
    x: torch.Tensor,
    y: torch.Tensor,
    beta: float,
    generator: torch.Generator | None = None,
    delta: float = HUBER_DELTA,
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Mean Huber loss of the deterministic network on a batch (:func:`huber`).

    Parameters
    ----------
    net : the network (noise mode ``"none"``).
    x : (n, d) standardised inputs.
    y : (n,) standardised targets.
    beta : ignored (no compression term); kept for a uniform signature.
    generator : unused (no noise).
    delta : threshold on standardised errors.

    Returns
    -------
    (loss, parts) with ``parts = {"prediction": loss, "compression": 0}``.
    """
    y_hat, _, _, _ = net(x, sample=True, generator=generator)
    loss = torch.mean(huber(y_hat - y, delta))
    return loss, {"prediction": loss.detach(), "compression": torch.zeros(())}
