r"""Bayesian neural network forecaster in Pyro (mean-field or low-rank variational inference).

A heteroscedastic MLP whose weights carry priors :math:`w \sim N(0, s^2/\mathrm{fan\_in})`,
:math:`b \sim N(0, s_b^2)` (``PyroModule`` layers with ``PyroSample``) and likelihood
:math:`y_{ih} \sim N(\mu_h(x_i; w), \sigma^2_h(x_i; w))`, the variance from the bounded head of
:func:`~.model.bounded_variance` whose floor/ceiling are point estimates (plain ``nn.Parameter`` s of
the ``PyroModule``, learned by the same SVI) with the penalty
:math:`-\lambda N\sum(\ell_{max} - \ell_{min})` as a ``pyro.factor`` (:math:`\lambda` per datum,
as in the ensemble's mean loss). The guide is ``AutoNormal`` (mean field)
or ``AutoLowRankMultivariateNormal``, its means started at a MAP fit of the same model
(``map_steps``; mean-field VI started at a prior draw underfits the mean of a network; Blundell et
al., "Weight Uncertainty in Neural Networks", ICML 2015, and later practice start from a
point estimate); the ELBO is maximised by SVI on minibatches, the
log-likelihood scaled by :math:`N/B` through ``pyro.plate(..., subsample=idx)`` (Hoffman et al.,
"Stochastic Variational Inference", JMLR 14, 2013). Posterior predictive samples come from
``pyro.infer.Predictive``; per sample :math:`s` the net returns :math:`(\mu_s, \sigma_s^2)`, and
the forecast is their mixture summary (:func:`~.model.combine_members`): aleatoric
:math:`\overline{\sigma_s^2}`, epistemic :math:`\mathrm{Var}_s\,\mu_s`.

Isolation: every fit clears the global param store and runs with
``pyro.settings.context(module_local_params=True)``, so the guide's parameters live in its own
module only; predictions of one fit are unaffected by any later fit (tested).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np
import pyro
import pyro.distributions as dist
import torch
from pyro.infer import Predictive, Trace_ELBO
from pyro.infer.autoguide import (
    AutoDelta,
    AutoLowRankMultivariateNormal,
    AutoNormal,
    init_to_sample,
    init_to_value,
)
from pyro.nn import PyroModule, PyroSample
from torch import nn

from sciml.errors import DivergenceError, unknown_name
from sciml.progress import Progress
from sciml.thermoacoustic.model import (
    BOUND_PENALTY,
    LOGVAR_BOUNDS_INIT,
    Forecast,
    bounded_variance,
    combine_members,
)

__all__ = ["BayesianMLP", "BNNForecaster", "fit_bnn"]

GUIDES = ("normal", "lowrank")


class BayesianMLP(PyroModule):
    """Heteroscedastic MLP with Gaussian priors on every weight and bias."""

    def __init__(self, n_in: int, hidden: tuple[int, ...], n_out: int,
                 weight_scale: float = 2.0, bias_scale: float = 1.0) -> None:
        super().__init__()
        sizes = (n_in, *hidden, 2 * n_out)
        self.n_out = n_out
        layers = []
        for a, b in zip(sizes[:-1], sizes[1:], strict=False):
            lin = PyroModule[nn.Linear](a, b)
            lin.weight = PyroSample(
                dist.Normal(0.0, math.sqrt(weight_scale / a)).expand([b, a]).to_event(2)
            )
            lin.bias = PyroSample(dist.Normal(0.0, bias_scale).expand([b]).to_event(1))
            layers.append(lin)
        self.layers = PyroModule[nn.ModuleList](layers)
        lo, hi = LOGVAR_BOUNDS_INIT
        self.min_logvar = nn.Parameter(torch.full((n_out,), lo))
        self.max_logvar = nn.Parameter(torch.full((n_out,), hi))

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None,
                subsample: torch.Tensor | None = None):
        n = x.shape[0]
        # draw the weights outside the data plate (they are shared by all data points)
        params = [(layer.weight, layer.bias) for layer in self.layers]
        lo, hi = self.min_logvar, self.max_logvar
        pyro.factor("logvar_bounds", -BOUND_PENALTY * n * (hi - lo).sum())
        with pyro.plate("data", n, subsample=subsample) as idx:
            h = x[idx] if subsample is not None else x
            for i, (w, b) in enumerate(params):
                h = nn.functional.linear(h, w, b)
                if i < len(params) - 1:
                    h = nn.functional.silu(h)
            mean = h[..., : self.n_out]
            var = bounded_variance(h[..., self.n_out :], lo, hi)
            pyro.deterministic("mu", mean, event_dim=1)
            pyro.deterministic("var", var, event_dim=1)
            obs = None if y is None else (y[idx] if subsample is not None else y)
            pyro.sample("obs", dist.Normal(mean, var.sqrt()).to_event(1), obs=obs)
        return mean, var


@dataclass
class BNNForecaster:
    """A fitted BNN: the model, its guide (holding its own parameters) and the fit's seed.

    ``var_scale`` (H,) is the per-horizon variance factor of the validation recalibration (None:
    none), applied by the workflow to the mixture forecast; ``ale_prior`` (H,) the
    validation-average aleatoric variance (standardised), the noise level that off-data forecasts
    revert to (:meth:`~.model.Forecast.revert_aleatoric`).
    """

    model: BayesianMLP
    guide: nn.Module
    seed: int
    losses: np.ndarray
    var_scale: np.ndarray | None = None
    ale_prior: np.ndarray | None = None

    def predict(self, x: np.ndarray, n_samples: int = 100, chunk: int = 8192) -> Forecast:
        """Mixture summary of ``n_samples`` posterior predictive (mu, var) draws (standardised)."""
        xt = torch.as_tensor(x, dtype=torch.float32)
        with pyro.settings.context(module_local_params=True), torch.random.fork_rng():
            torch.manual_seed(self.seed + 1)
            pred = Predictive(self.model, guide=self.guide, num_samples=n_samples,
                              return_sites=("mu", "var"))
            mus, vs = [], []
            with torch.no_grad():
                for i in range(0, xt.shape[0], chunk):
                    out = pred(xt[i : i + chunk])
                    mus.append(out["mu"].reshape(n_samples, -1, self.model.n_out).numpy())
                    vs.append(out["var"].reshape(n_samples, -1, self.model.n_out).numpy())
        return combine_members(np.concatenate(mus, axis=1), np.concatenate(vs, axis=1))

    def state_dict(self) -> dict[str, torch.Tensor]:
        sd = {k: v.detach().clone() for k, v in self.guide.state_dict().items()}
        sd |= {f"model.{k}": v.detach().clone() for k, v in self.model.state_dict().items()}
        return sd


def fit_bnn(
    x: np.ndarray,
    y: np.ndarray,
    hidden: tuple[int, ...] = (64, 64),
    n_steps: int = 3000,
    batch_size: int = 256,
    lr: float = 3e-3,
    guide: str = "normal",
    rank: int = 10,
    init_scale: float = 0.005,
    weight_scale: float = 2.0,
    map_steps: int = 2000,
    seed: int = 0,
    logger: logging.Logger | logging.LoggerAdapter | None = None,
) -> BNNForecaster:
    """Fit a :class:`BayesianMLP` by SVI with minibatch-scaled ELBO.

    Parameters
    ----------
    x : ndarray, shape (N, d), standardised inputs
    y : ndarray, shape (N, H), standardised targets
    guide : ``"normal"`` (AutoNormal) or ``"lowrank"`` (AutoLowRankMultivariateNormal, ``rank``)
    n_steps : SVI steps (Adam, cosine-decayed ``lr``)
    init_scale : initial std of the guide around its means
    weight_scale : prior variance of a weight times its fan-in
    map_steps : if > 0, a MAP phase of that many steps first (``AutoDelta`` guide on the same
        model: its ELBO is the log joint), and the guide's means start at the MAP weights (and the
        variance bounds stay at their MAP values); 0: the means start at a prior draw
    seed : seeds the initialisation, the minibatches and the ELBO's Monte-Carlo draws

    Returns
    -------
    BNNForecaster

    Raises
    ------
    UnknownNameError
        for an unknown ``guide``.
    DivergenceError
        if the ELBO becomes non-finite.
    """
    if guide not in GUIDES:
        raise unknown_name("guide", guide, list(GUIDES))
    pyro.clear_param_store()
    xt = torch.as_tensor(x, dtype=torch.float32)
    yt = torch.as_tensor(y, dtype=torch.float32)
    n = xt.shape[0]
    gen = torch.Generator().manual_seed(int(seed))
    with pyro.settings.context(module_local_params=True), torch.random.fork_rng():
        torch.manual_seed(int(seed))
        model = BayesianMLP(xt.shape[1], tuple(hidden), yt.shape[1], weight_scale=weight_scale)
        idx0 = torch.randperm(n, generator=gen)[:batch_size]
        init_loc = init_to_sample
        if map_steps > 0:
            # MAP phase: a point-mass guide maximises the log joint (the ELBO of a Delta guide)
            # on the same model; the variational means start there
            gd = AutoDelta(model, init_loc_fn=init_to_sample)
            gd(xt, yt, idx0)
            _run_svi(model, gd, xt, yt, map_steps, batch_size, lr, gen, "Pyro BNN (MAP)", logger)
            init_loc = init_to_value(values=gd.median(xt, yt, idx0), fallback=None)
        if guide == "normal":
            g = AutoNormal(model, init_loc_fn=init_loc, init_scale=init_scale)
        else:
            g = AutoLowRankMultivariateNormal(model, init_loc_fn=init_loc, rank=rank,
                                              init_scale=init_scale)
        g(xt, yt, idx0)  # materialise the guide's parameters
        losses = _run_svi(model, g, xt, yt, n_steps, batch_size, lr, gen, "Pyro BNN (SVI)", logger)
    return BNNForecaster(model=model, guide=g.eval(), seed=int(seed), losses=losses)


def _run_svi(model, guide, xt, yt, n_steps, batch_size, lr, gen, desc, logger) -> np.ndarray:
    """Adam (cosine-decayed ``lr``) on the minibatch ELBO per datum; returns the losses."""
    n = xt.shape[0]
    losses = np.empty(n_steps)
    if n_steps == 0:
        return losses
    elbo = Trace_ELBO()(model, guide)
    opt = torch.optim.Adam(elbo.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=n_steps, eta_min=lr * 0.05)
    prog = Progress(total=n_steps, desc=desc, logger=logger)
    for step in range(n_steps):
        idx = torch.randint(0, n, (batch_size,), generator=gen)
        loss = elbo(xt, yt, idx) / n
        if not torch.isfinite(loss):
            raise DivergenceError(f"{desc}: ELBO became non-finite at step {step}; lower lr")
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        losses[step] = float(loss.detach())
        prog.update(step + 1, loss=losses[step])
    prog.close()
    return losses
