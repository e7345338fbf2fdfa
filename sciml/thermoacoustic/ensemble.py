r"""Anchored (randomised-MAP) ensemble of heteroscedastic networks.

Pearce, Leibfried, Brintrup, "Uncertainty in Neural Networks: Approximately Bayesian Ensembling",
AISTATS 2020, PMLR 108:234-244, Sec. 3 (Algorithm 1). Each member :math:`m` draws an anchor
:math:`\theta_{anc,m} \sim N(0, \Sigma_{prior})` (and starts there), then minimises

.. math::

    L_m(\theta) = \frac1N\sum_{i=1}^N \mathrm{NLL}(y_i \mid \mu_\theta(x_i), \sigma^2_\theta(x_i))
                + \frac1N \big\|\Sigma_{prior}^{-1/2}(\theta - \theta_{anc,m})\big\|^2 / 2,

i.e. the MAP under a prior re-centred at the anchor. The log-variance bounds of the heteroscedastic
head (:func:`~.model.bounded_variance`) are point estimates shared by no prior; their penalty is
added to the loss. For a linear-Gaussian model the minimisers are
exact posterior samples; for networks they approximate them, and members disagree where data are
absent, which is the epistemic part of the predictive variance (:func:`~.model.combine_members`).
This is the method of the paper (Sengupta et al. 2021, Sec. 3.2).
"""

from __future__ import annotations

import logging

import numpy as np
import torch
import torch.nn.functional as F

from sciml.errors import DivergenceError
from sciml.progress import Progress
from sciml.thermoacoustic.model import BOUND_PENALTY, EnsembleMLP, Forecast, combine_members

__all__ = ["fit_anchored_ensemble", "fit_ensemble_net", "predict_members"]


def fit_ensemble_net(
    x: np.ndarray,
    y: np.ndarray,
    n_members: int,
    hidden: tuple[int, ...],
    epochs: int,
    seed: int,
    anchored: bool = True,
    weight_scale: float = 2.0,
    bias_scale: float = 1.0,
    weight_decay: float = 1e-4,
    batch_size: int = 256,
    lr: float = 3e-3,
    logger: logging.Logger | logging.LoggerAdapter | None = None,
    desc: str = "anchored ensemble",
) -> EnsembleMLP:
    """Train M heteroscedastic MLPs in one batched pass (anchored, or plain with weight decay).

    Parameters
    ----------
    x : ndarray, shape (N, d), standardised inputs
    y : ndarray, shape (N, H), standardised targets
    n_members : M
    hidden : hidden layer widths
    epochs : passes over the data (each member sees its own random minibatch order)
    seed : seed of anchors, initialisation and minibatch order
    anchored : True -> Pearce et al. anchored loss; False -> plain MAP with ``weight_decay``
        (the deterministic baseline, M = 1)
    weight_scale, bias_scale : prior std sqrt(weight_scale/fan_in) and bias_scale

    Returns
    -------
    EnsembleMLP (eval mode)

    Raises
    ------
    DivergenceError
        if the loss becomes non-finite.
    """
    gen = torch.Generator().manual_seed(int(seed))
    xt = torch.as_tensor(x, dtype=torch.float32)
    yt = torch.as_tensor(y, dtype=torch.float32)
    n, d = xt.shape
    net = EnsembleMLP(n_members, d, tuple(hidden), yt.shape[1])
    stds = net.prior_std(weight_scale, bias_scale)
    params = net.parameters_list()
    anchors = []
    with torch.no_grad():
        for p, s in zip(params, stds, strict=False):
            a = torch.randn(p.shape, generator=gen) * s
            p.copy_(a)
            anchors.append(a)
    opt = torch.optim.Adam(params + [net.min_logvar, net.max_logvar], lr=lr)
    steps_per_epoch = max(1, n // batch_size)
    total = epochs * steps_per_epoch
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=total, eta_min=lr * 0.05)
    prog = Progress(total=total, desc=desc, logger=logger)
    step = 0
    for _ in range(epochs):
        perm = torch.stack([torch.randperm(n, generator=gen) for _ in range(n_members)])
        for b in range(steps_per_epoch):
            idx = perm[:, b * batch_size : (b + 1) * batch_size]  # (M, B)
            mean, var = net(xt[idx])
            nll = F.gaussian_nll_loss(mean, yt[idx], var, full=True, reduction="none").mean(dim=(1, 2)).sum()
            if anchored:
                reg = sum(
                    (((p - a) / s) ** 2).sum() for p, a, s in zip(params, anchors, stds, strict=False)
                ) / (2.0 * n)
            else:
                reg = weight_decay * sum((p**2).sum() for p in net.weights)
            loss = nll + reg + BOUND_PENALTY * net.bound_penalty().sum()
            if not torch.isfinite(loss):
                raise DivergenceError(f"{desc}: non-finite loss at step {step}; lower lr")
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            step += 1
            prog.update(step, loss=float(loss.detach()) / n_members)
    prog.close()
    return net.eval()


def fit_anchored_ensemble(x, y, n_members: int = 5, hidden=(64, 64), epochs: int = 20,
                          seed: int = 0, **kw) -> EnsembleMLP:
    """Anchored ensemble of Pearce et al. (2020); see :func:`fit_ensemble_net`."""
    return fit_ensemble_net(x, y, n_members, hidden, epochs, seed, anchored=True, **kw)


@torch.no_grad()
def predict_members(net: EnsembleMLP, x: np.ndarray, chunk: int = 8192) -> Forecast:
    """Mixture forecast of all members, in the (standardised) units the net was trained in."""
    means, vars_ = [], []
    xt = torch.as_tensor(x, dtype=torch.float32)
    for i in range(0, xt.shape[0], chunk):
        m, v = net(xt[i : i + chunk])
        means.append(m.numpy())
        vars_.append(v.numpy())
    return combine_members(np.concatenate(means, axis=1), np.concatenate(vars_, axis=1))
