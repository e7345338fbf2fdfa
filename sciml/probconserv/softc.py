r"""SoftC-ANP baseline: ANP trained with a PDE-residual penalty (physics-informed loss).

Hansen et al., ICML 2023 (arXiv 2302.11002), Sec. 4 (baselines), after PINNs (Raissi et al. 2019):

.. math:: \mathcal L = -\mathrm{ELBO} + \lambda\,\frac1N\sum_{j} \big(\partial_t \mu(t_j, x_j)
          - \partial_x (k(\mu)\,\partial_x \mu)(t_j, x_j)\big)^2

with :math:`\mu` the ANP's predictive mean (latent at the prior mean) and the derivatives taken by
autograd at collocation points (the training targets). GPME diffusivities: diffusion
:math:`k(u) = k`; PME :math:`k(u) = u^m`, so
:math:`(u^m u_x)_x = m u^{m-1} u_x^2 + u^m u_{xx}` with :math:`u` clipped at 0; Stefan
:math:`k(u) = \mathbf 1[u \ge u^*]`, whose residual we take as
:math:`u_t - \mathbf 1[u \ge u^*]\,u_{xx}` (the Dirac term of :math:`k'` is dropped: it is not a
function). The hyperbolic problems penalise :math:`u_t + \partial_x F(u)`: linear advection
:math:`u_t + a u_x`, Burgers :math:`u_t + u u_x` (the quasi-linear form, valid where the mean is
smooth).
"""

from __future__ import annotations

import logging

import numpy as np
import torch

from sciml.errors import DataError
from sciml.gpme import get_problem
from sciml.probconserv.data import domain_scales
from sciml.probconserv.model import AttentiveNeuralProcess, train_anp

__all__ = ["pde_residual", "make_softc_penalty", "train_softc"]


def pde_residual(
    problem: str,
    model: AttentiveNeuralProcess,
    xc: torch.Tensor,
    yc: torch.Tensor,
    xt: torch.Tensor,
    param: torch.Tensor,
) -> torch.Tensor:
    r"""PDE residual of the ANP mean at normalised targets ``xt``.

    GPME: :math:`u_t - (k(u) u_x)_x`; advection: :math:`u_t + a u_x`; Burgers: :math:`u_t + u u_x`.

    Parameters
    ----------
    problem : problem name (picks k(u)).
    model : the ANP.
    xc, yc : context, (B, Nc, 2) and (B, Nc, 1).
    xt : normalised collocation points, (B, N, 2), columns (t, x) in [0, 1].
    param : (B,) PDE parameter per function.

    Returns
    -------
    torch.Tensor, shape (B, N), differentiable w.r.t. the model parameters.
    """
    get_problem(problem)
    l_t, l_x = domain_scales(problem)
    xt = xt.detach().clone().requires_grad_(True)
    u = model(xc, yc, xt)[0][..., 0]  # (B, N)
    (du,) = torch.autograd.grad(u.sum(), xt, create_graph=True)
    u_t, u_x = du[..., 0] / l_t, du[..., 1] / l_x
    p = param[:, None]
    if problem == "advection":
        return u_t + p * u_x
    if problem == "burgers":
        return u_t + u * u_x
    (du_x,) = torch.autograd.grad(u_x.sum(), xt, create_graph=True)
    u_xx = du_x[..., 1] / l_x
    if problem == "diffusion":
        flux_x = p * u_xx
    elif problem == "pme":
        up = torch.clamp(u, min=0.0)
        flux_x = p * up ** (p - 1.0) * u_x**2 + up**p * u_xx
    else:  # stefan
        flux_x = (u >= p).to(u.dtype) * u_xx
    return u_t - flux_x


def make_softc_penalty(problem: str, weight: float, n_points: int):
    """Penalty ``weight * mean(residual^2)`` at ``n_points`` random targets per function.

    Returns a callable ``penalty(model, batch, generator)`` for :func:`train_anp`.
    """
    get_problem(problem)
    if weight < 0 or n_points < 1:
        raise DataError(f"need weight >= 0 and n_points >= 1; got {weight}, {n_points}")

    def penalty(model: AttentiveNeuralProcess, batch: dict, gen: torch.Generator) -> torch.Tensor:
        xt = batch["xt"]
        n = min(int(n_points), xt.shape[1])
        idx = torch.randperm(xt.shape[1], generator=gen)[:n]
        res = pde_residual(problem, model, batch["xc"], batch["yc"], xt[:, idx], batch["param"])
        return weight * (res**2).mean()

    return penalty


def train_softc(
    model: AttentiveNeuralProcess,
    problem: str,
    x_context: np.ndarray,
    y_context: np.ndarray,
    x_target: np.ndarray,
    y_target: np.ndarray,
    param: np.ndarray,
    n_steps: int,
    batch_size: int,
    lr: float,
    seed: int,
    weight: float = 1.0,
    n_points: int = 64,
    lr_floor: float = 0.1,
    logger: logging.Logger | logging.LoggerAdapter | None = None,
    nll_beta: float = 0.0,
) -> np.ndarray:
    r"""Train (or fine-tune) ``model`` on :math:`-\mathrm{ELBO} + \lambda \cdot` mean squared residual.

    Inputs as in :func:`sciml.probconserv.model.train_anp` plus ``param`` (F,), the PDE parameter
    of each training function, ``weight`` :math:`\lambda` and ``n_points`` collocation points per
    function and step (``nll_beta`` weights the likelihood term as for the ANP). Returns the loss
    history.
    """
    pen = make_softc_penalty(problem, weight, n_points)
    return train_anp(
        model,
        x_context,
        y_context,
        x_target,
        y_target,
        n_steps=n_steps,
        batch_size=batch_size,
        lr=lr,
        seed=seed,
        penalty=pen,
        extras={"param": np.asarray(param, dtype=np.float64)},
        logger=logger,
        desc=f"SoftC-ANP {problem}",
        lr_floor=lr_floor,
        nll_beta=nll_beta,
    )
