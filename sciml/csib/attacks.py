r"""Adversarial attacks on standardised regression inputs: FGSM and PGD (L-infinity ball).

Goodfellow, Shlens & Szegedy, "Explaining and Harnessing Adversarial Examples", ICLR 2015
(FGSM); Madry et al., "Towards Deep Learning Models Resistant to Adversarial Attacks",
ICLR 2018 (PGD with random start). Used as in Yu et al., ICLR 2024, Sec. 5.3 (test RMSE under
attack at several perturbation sizes). The attacked loss is the squared error of the
deterministic prediction (mean encoding), and perturbations live on the *standardised*
inputs, so epsilon is in units of training standard deviations of each feature.

.. math::

    x^{FGSM} = x + \epsilon\,\mathrm{sign}\,\nabla_x (\hat y(x) - y)^2, \qquad
    x^{k+1} = \Pi_{\|x' - x\|_\infty \le \epsilon}\big(x^k + \alpha\,\mathrm{sign}\,
        \nabla_x (\hat y(x^k) - y)^2\big)

All epsilons are attacked in one batched pass: the test set is tiled once per epsilon (the
network acts row by row, so the gradient of the summed loss is the per-row gradient).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import torch

from sciml.csib.model import IBNet
from sciml.errors import ConfigError, unknown_name

__all__ = ["ATTACKS", "fgsm", "pgd", "attack_rmse"]

ATTACKS = ("fgsm", "pgd")


def _input_grad_sign(net: IBNet, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    x = x.detach().requires_grad_(True)
    loss = ((net.predict(x) - y) ** 2).sum()
    (grad,) = torch.autograd.grad(loss, x)
    return grad.sign()


def _eps_rows(eps: torch.Tensor | float, x: torch.Tensor) -> torch.Tensor:
    eps = torch.as_tensor(eps, dtype=x.dtype)
    if bool((eps < 0).any()):
        raise ConfigError(f"attack epsilon must be >= 0, got {eps.tolist()}")
    return eps.reshape(-1, 1) if eps.ndim == 1 else eps


def fgsm(net: IBNet, x: torch.Tensor, y: torch.Tensor, eps: torch.Tensor | float) -> torch.Tensor:
    """Fast gradient sign attack.

    Parameters
    ----------
    net : trained network (evaluated deterministically).
    x : (n, d) standardised inputs.
    y : (n,) standardised targets.
    eps : scalar, or (n,) per-row perturbation size.

    Returns
    -------
    (n, d) adversarial inputs.
    """
    return (x + _eps_rows(eps, x) * _input_grad_sign(net, x, y)).detach()


def pgd(
    net: IBNet,
    x: torch.Tensor,
    y: torch.Tensor,
    eps: torch.Tensor | float,
    steps: int = 10,
    step_size: float = 0.25,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Projected gradient (sign) ascent in the L-infinity ball, uniform random start.

    Parameters
    ----------
    net, x, y, eps : as in :func:`fgsm`.
    steps : number of ascent steps.
    step_size : step as a fraction of epsilon (alpha = step_size * eps).
    generator : RNG of the random start.

    Returns
    -------
    (n, d) adversarial inputs.
    """
    if steps < 1:
        raise ConfigError(f"PGD needs steps >= 1, got {steps}")
    e = _eps_rows(eps, x)
    start = torch.rand(x.shape, generator=generator, dtype=x.dtype) * 2.0 - 1.0
    xa = x + e * start
    for _ in range(steps):
        xa = xa + step_size * e * _input_grad_sign(net, xa, y)
        xa = torch.maximum(torch.minimum(xa, x + e), x - e).detach()
    return xa


def attack_rmse(
    net: IBNet,
    x: np.ndarray,
    y: np.ndarray,
    epsilons: Sequence[float],
    attack: Literal["fgsm", "pgd"] = "fgsm",
    y_std: float = 1.0,
    seed: int = 0,
    steps: int = 10,
) -> np.ndarray:
    """RMSE under attack for each epsilon, in target units (standardised RMSE times ``y_std``).

    Parameters
    ----------
    net : trained network.
    x : (n, d) standardised test inputs; y : (n,) standardised targets.
    epsilons : perturbation sizes (0 gives the clean RMSE).
    attack : "fgsm" or "pgd".
    y_std : training standard deviation of the target.
    seed : seed of the PGD random start.
    steps : PGD steps.

    Returns
    -------
    ndarray, shape (len(epsilons),)
    """
    if attack not in ATTACKS:
        raise unknown_name("attack", attack, ATTACKS)
    xt = torch.as_tensor(x, dtype=torch.float32)
    yt = torch.as_tensor(y, dtype=torch.float32)
    n_eps = len(epsilons)
    xr = xt.repeat(n_eps, 1)
    yr = yt.repeat(n_eps)
    eps = torch.as_tensor(np.repeat(np.asarray(epsilons, dtype=np.float32), len(yt)))
    was_training = net.training
    net.eval()
    try:
        if attack == "fgsm":
            xa = fgsm(net, xr, yr, eps)
        else:
            xa = pgd(net, xr, yr, eps, steps=steps, generator=torch.Generator().manual_seed(seed))
        with torch.no_grad():
            err = (net.predict(xa) - yr).reshape(n_eps, -1)
    finally:
        net.train(was_training)
    return (err.pow(2).mean(1).sqrt() * y_std).double().numpy()
