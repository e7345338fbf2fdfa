r"""Training of LightSB on unpaired minibatches (Korotin et al., ICLR 2024, Algorithm 1).

The objective :math:`\mathcal L(\theta) = \mathbb E_{P_0}\log c_\theta(x) - \mathbb E_{P_1}\log
v_\theta(y)` equals :math:`\mathrm{KL}(\pi^*\|\pi_\theta)` up to a constant (Prop. 3.4), so plain
minibatch stochastic gradient descent on independent draws of :math:`P_0` and :math:`P_1` needs
neither pairs nor simulation.

Learning rates that work across :math:`\varepsilon` come from the parameterisation of
:class:`~sciml.schrodinger.model.LightSB`: the weights are :math:`\log\alpha_k = a_k/\varepsilon`
(so all logit terms share the factor :math:`1/\varepsilon` and move at the same rate under Adam),
:math:`S_k` through log-pivots (scale-free multiplicative steps) and, for full :math:`S_k`, the
dimensionless unit-triangular factor :math:`W_k` at the rate ``lr / sqrt(D)``, and the means :math:`r_k`
in data units, initialised at K draws :math:`y_k` of :math:`P_1`, with
:math:`a_k = -|y_k|^2/2` (:math:`\alpha_k \propto e^{-|y_k|^2/(2\varepsilon)}`): then
:math:`w_k(x) \propto \exp(-|x - y_k|^2/(2\varepsilon))` for small :math:`S_k`, a
nearest-neighbour initial plan, and :math:`v_\theta(y) \approx e^{-|y|^2/(2\varepsilon)}
\hat p_1(y)`, the form of the optimum when the plan depends weakly on x. Without it the weights
must travel :math:`O(|y|^2/2)` in :math:`a`-units, which takes thousands of steps at large
:math:`\varepsilon`. Adam with a cosine decay of the learning
rate to ``lr * lr_final`` removes most of the minibatch noise at the end of training. Full
:math:`S_k` start from a diagonal fit with more components (:func:`fit_lightsb`, Notes).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch

from sciml.errors import ConfigError, DataError, DivergenceError
from sciml.progress import Progress
from sciml.schrodinger.model import LightSB

__all__ = ["fit_lightsb", "FitResult", "Sampler"]

Sampler = Callable[[int, np.random.Generator], np.ndarray]


@dataclass
class FitResult:
    """A fitted model, its loss history (every ``log_every`` steps), the wall-clock time and the
    CPU time of this process over the fit (all its threads; other processes on the machine do not
    count, so it measures the fit on a shared machine)."""

    model: LightSB
    loss: list[float] = field(default_factory=list)
    fit_seconds: float = 0.0
    cpu_seconds: float = 0.0


def _as_draw(data: np.ndarray | torch.Tensor | Sampler, name: str, dtype: torch.dtype):
    """Return ``draw(n, rng, gen) -> Tensor`` from an array (minibatches) or a sampler."""
    if callable(data):
        def draw(n, rng, gen):
            out = torch.as_tensor(np.asarray(data(n, rng)), dtype=dtype)
            if not torch.isfinite(out).all():
                raise DataError(f"{name} sampler returned non-finite values")
            return out
        return draw
    arr = torch.as_tensor(np.asarray(data), dtype=dtype)
    if arr.ndim != 2 or arr.shape[0] < 1:
        raise DataError(f"{name} must have shape (n, D) with n >= 1; got {tuple(arr.shape)}")
    if not torch.isfinite(arr).all():
        raise DataError(f"{name} contains NaN or inf; drop or impute those rows")

    def draw(n, rng, gen):
        idx = torch.randint(arr.shape[0], (n,), generator=gen)
        return arr[idx]
    return draw


def _train(
    model: LightSB,
    draw_x,
    draw_y,
    rng: np.random.Generator,
    gen: torch.Generator,
    n_steps: int,
    batch_size: int,
    lr: float,
    lr_final: float,
    log_every: int,
    result: FitResult,
    prog: Progress,
    done: int = 0,
) -> None:
    """``n_steps`` Adam steps with a cosine decay to ``lr * lr_final``; :math:`W_k` at ``lr/sqrt(D)``."""
    groups = [{"params": [model.r, model.log_s, model.a], "lr": lr}]
    if model.cov == "full":
        groups.append({"params": [model.tril], "lr": lr / math.sqrt(model.dim)})
    opt = torch.optim.Adam(groups, lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=n_steps, eta_min=lr * lr_final)
    for step in range(n_steps):
        x = draw_x(batch_size, rng, gen)
        y = draw_y(batch_size, rng, gen)
        loss = model.loss(x, y)
        lv = float(loss.detach())
        if not math.isfinite(lv):
            prog.close()
            raise DivergenceError(
                f"LightSB loss is {lv} at step {done + step} (D={model.dim}, eps={model.eps}); "
                f"lower lr={lr} or standardise the data"
            )
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        if step % log_every == 0 or step == n_steps - 1:
            result.loss.append(lv)
        prog.update(done + step + 1, loss=lv)


@torch.no_grad()
def _to_full(model: LightSB, keep: int, x: torch.Tensor) -> LightSB:
    """The ``keep`` most used components of a diagonal fit (mean plan weight over x), as full."""
    usage = model.conditional_weights(x).mean(0)
    idx = torch.sort(torch.topk(usage, keep).indices).values
    full = LightSB(model.dim, keep, model.eps, cov="full", dtype=model.r.dtype)
    full.load_state_dict({"r": model.r[idx], "log_s": model.log_s[idx], "a": model.a[idx],
                          "eps_value": model.eps_value,
                          "tril": torch.zeros(keep, model.dim, model.dim, dtype=model.r.dtype)})
    return full


def fit_lightsb(
    source: np.ndarray | torch.Tensor | Sampler,
    target: np.ndarray | torch.Tensor | Sampler,
    eps: float,
    n_components: int = 10,
    cov: str = "diagonal",
    n_steps: int = 2_000,
    batch_size: int = 512,
    lr: float = 2e-2,
    lr_final: float = 0.01,
    s_init: float | str = "auto",
    seed: int = 0,
    dtype: torch.dtype = torch.float64,
    log_every: int = 50,
    logger: logging.Logger | logging.LoggerAdapter | None = None,
    diag_components: int = 50,
    diag_steps: int | None = None,
) -> FitResult:
    r"""Fit LightSB between unpaired samples (or samplers) of :math:`P_0` and :math:`P_1`.

    Parameters
    ----------
    source, target : array (n, D) to draw minibatches from with replacement, or a sampler
        ``f(n, rng) -> (n, D)`` drawing fresh samples with a ``numpy.random.Generator``.
    eps : float
        Entropic regularisation :math:`\varepsilon`.
    n_components, cov : see :class:`~sciml.schrodinger.model.LightSB`.
    s_init : float or "auto"
        Initial pivots of :math:`S_k`. ``"auto"`` uses the exact gain of the isotropic
        Gaussian problem :math:`A = B = vI`, :math:`S = (\sqrt{4v^2 + \varepsilon^2} -
        \varepsilon)/(2v)`, with :math:`v` the mean per-coordinate variance of 1,024 target draws:
        close to 1 for small :math:`\varepsilon` (nearly deterministic plan) and to
        :math:`v/\varepsilon` for large :math:`\varepsilon`, which is where the optimum lies.
    n_steps, batch_size : number of Adam steps and minibatch size (the same for both sides).
    lr, lr_final : initial Adam learning rate and final fraction of it (cosine decay).
    seed : seeds the ``torch.Generator`` (minibatch indices, initialisation) and the numpy
        generator handed to samplers; same inputs and seed -> same fit.
    log_every : record the loss every this many steps.
    logger : progress lines go there (see :class:`sciml.progress.Progress`).
    diag_components, diag_steps : full :math:`S_k` only: the diagonal stage fits
        ``max(diag_components, n_components)`` components for ``diag_steps`` steps (default
        ``n_steps``; 0 skips the stage and starts the full fit from the initialisation).

    Returns
    -------
    FitResult
        ``loss`` holds the diagonal stage's records, then the full stage's.

    Raises
    ------
    ConfigError : bad sizes or rates.
    DataError : non-finite data or a dimension mismatch.
    DivergenceError : the loss became NaN or infinite.

    Notes
    -----
    Each step minimises the minibatch estimate of
    :math:`\frac1B\sum_i \log c_\theta(x_i) - \frac1B\sum_j \log v_\theta(y_j)`;
    the cost is :math:`O(BKD)` per step for diagonal :math:`S_k` (:math:`O(BKD^2 + KD^3)` full).

    Full :math:`S_k` are fitted in two stages. A mixture fit places its components early and
    rarely moves one to another mode later; full :math:`S_k` from the start make that worse (a
    component that takes a mode's shape first wins it, and with :math:`K` near the number of
    modes some modes end up merged and others split). So a cheap diagonal fit with many
    components places them first; its ``n_components`` most used components (mean plan weight
    :math:`\mathbb E_{P_0} w_k(x)` over 4,096 source draws) start the full fit with
    :math:`W_k = 0`, where the gradient in :math:`W_k` is non-zero. :math:`W_k` learns at
    ``lr / sqrt(D)``: a step moves :math:`x^\top S_k x` through :math:`D(D-1)/2` entries of
    :math:`W_k` against :math:`D` pivots, and at full rate the logits, which carry
    :math:`1/\varepsilon`, jitter too much at small :math:`\varepsilon`.

    References
    ----------
    .. [1] A. Korotin, N. Gushchin, E. Burnaev, "Light Schrödinger Bridge", ICLR 2024.
    """
    if n_steps < 1 or batch_size < 1 or n_components < 1 or diag_components < 1:
        raise ConfigError(
            f"n_steps, batch_size, n_components and diag_components must be >= 1; got {n_steps}, "
            f"{batch_size}, {n_components}, {diag_components}"
        )
    if diag_steps is not None and diag_steps < 0:
        raise ConfigError(f"diag_steps must be >= 0 (0: no diagonal stage); got {diag_steps}")
    if not (lr > 0 and 0 < lr_final <= 1):
        raise ConfigError(f"need lr > 0 and 0 < lr_final <= 1; got lr={lr}, lr_final={lr_final}")
    gen = torch.Generator().manual_seed(int(seed))
    rng = np.random.default_rng(int(seed))
    draw_x = _as_draw(source, "source", dtype)
    draw_y = _as_draw(target, "target", dtype)
    staged = cov == "full" and diag_steps != 0
    k0 = max(diag_components, n_components) if staged else n_components

    y0 = draw_y(k0, rng, gen)
    x0 = draw_x(1, rng, gen)
    dim = y0.shape[1]
    if x0.shape[1] != dim:
        raise DataError(f"source has dimension {x0.shape[1]} but target has {dim}")
    if s_init == "auto":
        v = float(draw_y(1024, rng, gen).var(0).mean())
        s_init = (math.sqrt(4 * v * v + eps * eps) - eps) / (2 * v) if v > 0 else 1.0
    elif isinstance(s_init, str):
        raise ConfigError(f"s_init must be a positive float or 'auto'; got {s_init!r}")
    model = LightSB(dim, k0, eps, cov="diagonal" if staged else cov, s_init=s_init, dtype=dtype)
    with torch.no_grad():
        model.r.copy_(y0)
        model.a.copy_(-0.5 * (y0 * y0).sum(-1))

    first = (n_steps if diag_steps is None else diag_steps) if staged else n_steps
    result = FitResult(model=model)
    prog = Progress(total=first + (n_steps if staged else 0), desc=f"LightSB D={dim} eps={eps:g}",
                    logger=logger)  # fmt: skip
    t0, c0 = time.perf_counter(), time.process_time()
    train = dict(batch_size=batch_size, lr=lr, lr_final=lr_final, log_every=log_every,
                 result=result, prog=prog)  # fmt: skip
    _train(model, draw_x, draw_y, rng, gen, first, **train)
    if staged:
        model = _to_full(model, n_components, draw_x(4096, rng, gen))
        result.model = model
        _train(model, draw_x, draw_y, rng, gen, n_steps, done=first, **train)
    prog.close()
    result.fit_seconds = time.perf_counter() - t0
    result.cpu_seconds = time.process_time() - c0
    model.eval()
    return result
