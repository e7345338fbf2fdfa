r"""Attentive Neural Process (ANP), the probabilistic black box of ProbConserv.

Kim, Mnih, Schwarz, Garnelo, Eslami, Rosenbaum, Vinyals, Teh, "Attentive Neural Processes",
ICLR 2019; used as step 1 of ProbConserv in Hansen et al., ICML 2023 (arXiv 2302.11002), Sec. 3.

Given a context set :math:`C = \{(x_i, y_i)\}` and target inputs :math:`x_*`:

* latent path: :math:`s_i = \mathrm{SA}(\mathrm{MLP}([x_i, y_i]))`,
  :math:`s_C = \frac1{|C|}\sum_i s_i`, :math:`q(z \mid C) = N(\mu_z(s_C), \sigma_z(s_C)^2)` with
  :math:`\sigma_z = 0.1 + 0.9\,\mathrm{sigmoid}(\cdot)`;
* deterministic path: :math:`r_i = \mathrm{SA}(\mathrm{MLP}([x_i, y_i]))`,
  :math:`r_* = \mathrm{MHA}(q = e(x_*), k = e(x_i), v = r_i)`;
* decoder: :math:`(\mu_*, \sigma_*) = \mathrm{MLP}([x_*, r_*, z])` with
  :math:`\sigma_* = \sigma_{\min} + (1 - \sigma_{\min})\,\mathrm{softplus}(\cdot)`.

Optionally the coordinates (every path) and the context values (both encoders) enter the
networks through a Fourier-feature encoding
:math:`\gamma(a) = [a, \sin(2^k \pi a), \cos(2^k \pi a)]_{k < K}` per component (Tancik et al.,
"Fourier features let networks learn high frequency functions in low dimensional domains",
NeurIPS 2020). With :math:`K = 0` (Kim et al.'s ANP) the ReLU networks learn the sharp,
parameter-dependent fronts of PME and Stefan only slowly (spectral bias): the decoder cannot place
the front even when handed the true parameter, and the encoders do not resolve the small
differences of the context values that carry the parameter (``docs/notes/probconserv-investigations.md``).

Training maximises the ELBO
:math:`\mathbb E_{q(z \mid C \cup T)} \log p(y_T \mid x_T, r, z) - \mathrm{KL}(q(z \mid C \cup T)
\,\|\, q(z \mid C))`. Prediction draws :math:`S` latents from :math:`q(z \mid C)` and combines
them by moment matching: mean of the means; variance = mean of the variances + variance of the
means.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import numpy as np
import torch
from torch import nn

from sciml.errors import DataError, DivergenceError
from sciml.progress import Progress
from sciml.uq import mixture_moments

__all__ = [
    "AttentiveNeuralProcess",
    "init_weights",
    "train_anp",
    "predict_anp",
    "moment_match",
]


class _MLP(nn.Sequential):
    """Linear-ReLU stack; the last layer is linear."""

    def __init__(self, sizes: list[int]) -> None:
        layers: list[nn.Module] = []
        for i in range(len(sizes) - 1):
            layers.append(nn.Linear(sizes[i], sizes[i + 1]))
            if i < len(sizes) - 2:
                layers.append(nn.ReLU())
        super().__init__(*layers)


class _AttentionBlock(nn.Module):
    """Multi-head dot-product attention with residual connection and layer norm (Kim et al.).

    .. math:: \\mathrm{LN}\big(q + W_o\\,[\\mathrm{softmax}(Q_h K_h^\top / \\sqrt{d_h}) V_h]_h\big)

    Written with plain matmuls: for the small sets of a neural process this is faster on CPU
    than the fused kernels behind ``nn.MultiheadAttention``.
    """

    def __init__(self, width: int, n_heads: int) -> None:
        super().__init__()
        self.n_heads = n_heads
        self.q = nn.Linear(width, width)
        self.k = nn.Linear(width, width)
        self.v = nn.Linear(width, width)
        self.out = nn.Linear(width, width)
        self.norm = nn.LayerNorm(width)

    def _heads(self, a: torch.Tensor) -> torch.Tensor:
        return a.unflatten(-1, (self.n_heads, -1)).transpose(-3, -2)  # (..., H, N, d)

    def forward(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        qh, kh, vh = self._heads(self.q(q)), self._heads(self.k(k)), self._heads(self.v(v))
        scores = qh @ kh.transpose(-1, -2) * (qh.shape[-1] ** -0.5)
        att = torch.softmax(scores, dim=-1) @ vh  # (..., H, Nq, d)
        return self.norm(q + self.out(att.transpose(-3, -2).flatten(-2)))


POOLINGS: tuple[str, ...] = ("mean", "meanmax", "attention")


class _Pooling(nn.Module):
    r"""Permutation-invariant summary of the self-attended latent representations s_i, (B, N, W).

    * ``mean``: :math:`\frac1N \sum_i s_i` (Kim et al.);
    * ``meanmax``: :math:`[\frac1N \sum_i s_i, \max_i s_i]` (component-wise max: an order
      statistic such as the last context point behind a front);
    * ``attention``: pooling by multi-head attention (Lee et al., "Set Transformer", ICML 2019,
      PMA): a learned query attends over the set, :math:`\mathrm{LN}(q + \mathrm{MHA}(q, s, s))`,
      so each head can weight the few informative points instead of averaging all of them.
    """

    def __init__(self, kind: str, width: int, n_heads: int) -> None:
        super().__init__()
        if kind not in POOLINGS:
            raise DataError(f"latent_pool must be one of {POOLINGS}; got {kind!r}")
        self.kind = kind
        self.out_dim = 2 * width if kind == "meanmax" else width
        if kind == "attention":
            self.query = nn.Parameter(torch.zeros(1, 1, width))
            self.block = _AttentionBlock(width, n_heads)

    def forward(self, s: torch.Tensor) -> torch.Tensor:
        if self.kind == "mean":
            return s.mean(dim=-2)
        if self.kind == "meanmax":
            return torch.cat([s.mean(dim=-2), s.amax(dim=-2)], dim=-1)
        q = self.query.expand(*s.shape[:-2], 1, s.shape[-1])
        return self.block(q, s, s)[..., 0, :]


class AttentiveNeuralProcess(nn.Module):
    """Attentive Neural Process for scalar fields over (t, x).

    Parameters
    ----------
    x_dim : input dimension (2: normalised t and x).
    y_dim : output dimension (1).
    width : hidden width of every MLP and attention layer (paper: 128).
    n_heads : attention heads (paper: 4).
    n_self_attention : self-attention layers on each context path (Kim et al.: 2).
    min_std : lower bound of the predictive std of the decoder.
    n_fourier : K, octaves of the Fourier-feature encoding of the coordinates and of the context
        values (0: raw inputs, as in Kim et al.); each component becomes ``1 + 2 K`` features.
    latent_pool : summary of the latent path's set (``mean``: Kim et al.; ``meanmax``;
        ``attention``: a learned query, Set Transformer PMA); see :class:`_Pooling`.
    """

    def __init__(
        self,
        x_dim: int = 2,
        y_dim: int = 1,
        width: int = 128,
        n_heads: int = 4,
        n_self_attention: int = 2,
        min_std: float = 1e-3,
        n_fourier: int = 0,
        latent_pool: str = "mean",
    ) -> None:
        super().__init__()
        if width % n_heads != 0:
            raise DataError(f"width ({width}) must be divisible by n_heads ({n_heads})")
        if int(n_fourier) < 0:
            raise DataError(f"n_fourier must be >= 0; got {n_fourier}")
        self.x_dim, self.y_dim, self.width, self.min_std = x_dim, y_dim, width, float(min_std)
        self.n_fourier = int(n_fourier)
        self.in_dim = x_dim * (1 + 2 * self.n_fourier)  # coordinate features after the encoding
        in_dim, val_dim = self.in_dim, y_dim * (1 + 2 * self.n_fourier)
        self.latent_embed = _MLP([in_dim + val_dim, width, width])
        self.latent_sa = nn.ModuleList(
            [_AttentionBlock(width, n_heads) for _ in range(n_self_attention)]
        )
        self.latent_pool = _Pooling(latent_pool, width, n_heads)
        self.latent_head = _MLP([self.latent_pool.out_dim, width, 2 * width])
        self.det_embed = _MLP([in_dim + val_dim, width, width])
        self.det_sa = nn.ModuleList([_AttentionBlock(width, n_heads) for _ in range(n_self_attention)])
        self.key_embed = _MLP([in_dim, width, width])
        self.cross = _AttentionBlock(width, n_heads)
        self.dec_in = nn.Linear(in_dim + 2 * width, width)
        self.dec = _MLP([width, width, width, 2 * y_dim])

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Fourier features [a, sin(2^k pi a), cos(2^k pi a)], k < n_fourier, of each component of x."""
        if self.n_fourier == 0:
            return x
        freq = torch.pi * 2.0 ** torch.arange(self.n_fourier, dtype=x.dtype, device=x.device)
        angle = (x[..., None] * freq).flatten(-2)
        return torch.cat([x, torch.sin(angle), torch.cos(angle)], dim=-1)

    # -- paths --------------------------------------------------------------------------------
    def latent(self, xc: torch.Tensor, yc: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Latent distribution q(z | C): mean and std, each (B, width)."""
        s = self.latent_embed(torch.cat([self.features(xc), self.features(yc)], dim=-1))
        for block in self.latent_sa:
            s = block(s, s, s)
        mu, raw = self.latent_head(self.latent_pool(s)).chunk(2, dim=-1)
        return mu, 0.1 + 0.9 * torch.sigmoid(raw)

    def deterministic(
        self, xc: torch.Tensor, yc: torch.Tensor, xt: torch.Tensor
    ) -> torch.Tensor:
        """Cross-attended representation r_* of each target, (B, Nt, width)."""
        fc = self.features(xc)
        r = self.det_embed(torch.cat([fc, self.features(yc)], dim=-1))
        for block in self.det_sa:
            r = block(r, r, r)
        return self.cross(self.key_embed(self.features(xt)), self.key_embed(fc), r)

    def decode(
        self, xt: torch.Tensor, r: torch.Tensor, z: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean and std at the targets; ``z`` is (B, width) or (S, B, width) -> (S?, B, Nt, y_dim)."""
        w = self.dec_in.weight
        w_x, w_r, w_z = w.split([self.in_dim, self.width, self.width], dim=1)
        h = self.features(xt) @ w_x.T + r @ w_r.T + self.dec_in.bias  # (B, Nt, W): shared by all latent draws
        h = h + (z @ w_z.T).unsqueeze(-2)
        mean, raw = self.dec(torch.relu(h)).chunk(2, dim=-1)
        std = self.min_std + (1.0 - self.min_std) * nn.functional.softplus(raw)
        return mean, std

    def forward(
        self, xc: torch.Tensor, yc: torch.Tensor, xt: torch.Tensor, z: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Predictive mean and std at ``xt`` for the latent ``z`` (default: the prior mean)."""
        if z is None:
            z = self.latent(xc, yc)[0]
        return self.decode(xt, self.deterministic(xc, yc, xt), z)

    def elbo_loss(
        self,
        xc: torch.Tensor,
        yc: torch.Tensor,
        xt: torch.Tensor,
        yt: torch.Tensor,
        generator: torch.Generator | None = None,
        nll_beta: float = 0.0,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        r"""Negative ELBO per target point: (loss, nll, kl), one reparameterised latent draw.

        ``nll_beta`` > 0 weights each point's Gaussian NLL by :math:`\mathrm{sg}(\sigma^{2\beta})`
        (beta-NLL, Seitzer et al., ICLR 2022; ``sg``: no gradient): without it the gradient of the
        mean is scaled by :math:`1/\sigma^2`, so the mean barely moves where the network has learned
        a large std (the front). 0 is the plain ELBO.
        """
        mu_p, sd_p = self.latent(xc, yc)
        mu_q, sd_q = self.latent(torch.cat([xc, xt], 1), torch.cat([yc, yt], 1))
        eps = torch.randn(mu_q.shape, generator=generator, dtype=mu_q.dtype)
        z = mu_q + sd_q * eps
        mean, std = self.decode(xt, self.deterministic(xc, yc, xt), z)
        point = torch.log(std) + 0.5 * ((yt - mean) / std) ** 2
        if nll_beta > 0:
            point = point * std.detach() ** (2.0 * nll_beta)
        nll = point.mean() + 0.5 * np.log(2 * np.pi)
        kl = (
            torch.log(sd_p / sd_q) + (sd_q**2 + (mu_q - mu_p) ** 2) / (2 * sd_p**2) - 0.5
        ).sum(-1).mean() / xt.shape[1]
        return nll + kl, nll, kl


def init_weights(model: nn.Module, seed: int) -> nn.Module:
    """Re-initialise all weights from ``seed`` (Xavier-uniform matrices, zero biases, unit norms,
    standard-normal pooling queries).

    Uses a local ``torch.Generator``, never the global RNG, so the same seed gives the same model.
    """
    gen = torch.Generator().manual_seed(int(seed))
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, nn.LayerNorm):
                module.weight.fill_(1.0)
                module.bias.zero_()
            elif isinstance(module, nn.Linear):
                nn.init.xavier_uniform_(module.weight, generator=gen)
                if module.bias is not None:
                    module.bias.zero_()
            elif isinstance(module, _Pooling) and module.kind == "attention":
                module.query.copy_(torch.randn(module.query.shape, generator=gen))
    return model


def _to_tensor(a: np.ndarray, name: str) -> torch.Tensor:
    arr = np.asarray(a, dtype=np.float32)
    if not np.all(np.isfinite(arr)):
        raise DataError(f"{name} holds NaN or infinite values")
    return torch.from_numpy(np.ascontiguousarray(arr))


def train_anp(
    model: AttentiveNeuralProcess,
    x_context: np.ndarray,
    y_context: np.ndarray,
    x_target: np.ndarray,
    y_target: np.ndarray,
    n_steps: int,
    batch_size: int,
    lr: float,
    seed: int,
    penalty: Callable[[AttentiveNeuralProcess, dict, torch.Generator], torch.Tensor] | None = None,
    extras: dict[str, np.ndarray] | None = None,
    logger: logging.Logger | logging.LoggerAdapter | None = None,
    desc: str = "ANP",
    lr_floor: float = 0.1,
    nll_beta: float = 0.0,
) -> np.ndarray:
    """Fit an ANP by Adam on the negative ELBO (plus an optional penalty), in place.

    Each step draws ``batch_size`` functions; the ELBO is evaluated at their target points, and
    the posterior latent conditions on context and targets together.

    Parameters
    ----------
    model : the network (trained in place).
    x_context, y_context : (F, Nc, 2) normalised inputs, (F, Nc) values.
    x_target, y_target : (F, Nt, 2), (F, Nt).
    n_steps, batch_size, lr : Adam steps, functions per step, learning rate (paper: 1e-4).
    lr_floor : cosine annealing of the learning rate from ``lr`` to ``lr * lr_floor``
        (1 keeps it constant, as in the paper).
    seed : minibatch order and latent draws.
    penalty : optional ``penalty(model, batch, generator) -> scalar`` added to the loss
        (SoftC); ``batch`` holds tensors ``xc, yc, xt, yt`` and each entry of ``extras``.
    extras : per-function arrays (leading axis F) passed to ``penalty`` (e.g. ``param``).
    logger : progress logger.
    nll_beta : beta of the beta-NLL weighting of the likelihood term
        (:meth:`AttentiveNeuralProcess.elbo_loss`; 0: the plain ELBO).

    Returns
    -------
    ndarray, shape (n_steps,), the loss history.

    Raises
    ------
    DivergenceError
        The loss became non-finite.
    """
    xc, yc = _to_tensor(x_context, "x_context"), _to_tensor(y_context, "y_context")[..., None]
    xt, yt = _to_tensor(x_target, "x_target"), _to_tensor(y_target, "y_target")[..., None]
    n_f = xc.shape[0]
    if not (yc.shape[0] == xt.shape[0] == yt.shape[0] == n_f) or xc.shape[:2] != yc.shape[:2]:
        raise DataError(
            f"context/target arrays disagree on shape: {tuple(xc.shape)}, {tuple(yc.shape)}, "
            f"{tuple(xt.shape)}, {tuple(yt.shape)}"
        )
    extra_t = {k: _to_tensor(v, k) for k, v in (extras or {}).items()}
    rng = np.random.default_rng(seed)
    gen = torch.Generator().manual_seed(int(seed))
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(
        opt, T_max=max(int(n_steps), 1), eta_min=lr * lr_floor
    )
    model.train()
    history = np.empty(int(n_steps))
    prog = Progress(total=n_steps, desc=desc, logger=logger)
    bs = min(int(batch_size), n_f)
    for step in range(int(n_steps)):
        idx = torch.from_numpy(rng.choice(n_f, size=bs, replace=False))
        b_xt, b_yt = xt[idx], yt[idx]
        loss, nll, _ = model.elbo_loss(xc[idx], yc[idx], b_xt, b_yt, generator=gen, nll_beta=nll_beta)
        if penalty is not None:
            batch = {"xc": xc[idx], "yc": yc[idx], "xt": b_xt, "yt": b_yt}
            batch.update({k: v[idx] for k, v in extra_t.items()})
            loss = loss + penalty(model, batch, gen)
        if not torch.isfinite(loss):
            raise DivergenceError(
                f"{desc}: loss became {float(loss.detach())} at step {step}; lower lr (now {lr})"
            )
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        history[step] = float(loss.detach())
        prog.update(step + 1, loss=history[step], nll=float(nll.detach()))
    prog.close()
    model.eval()
    return history


def moment_match(means: np.ndarray, stds: np.ndarray, axis: int = 0) -> tuple[np.ndarray, np.ndarray]:
    r"""Collapse a Gaussian mixture with equal weights to one Gaussian.

    .. math:: \bar\mu = \frac1S\sum_s \mu_s,\quad
              \bar\sigma^2 = \frac1S\sum_s \sigma_s^2 + \frac1S\sum_s (\mu_s - \bar\mu)^2

    Parameters
    ----------
    means, stds : arrays with the S components along ``axis``.

    Returns
    -------
    (mean, std) without ``axis``.
    """
    s = np.asarray(stds, dtype=np.float64)
    mean, aleatoric, epistemic = mixture_moments(means, s**2, axis=axis)
    return mean, np.sqrt(aleatoric + epistemic)


@torch.no_grad()
def predict_anp(
    model: AttentiveNeuralProcess,
    x_context: np.ndarray,
    y_context: np.ndarray,
    x_target: np.ndarray,
    n_samples: int,
    seed: int,
    chunk: int = 8192,
) -> tuple[np.ndarray, np.ndarray]:
    """Predictive mean and std at shared targets for each function (moment-matched latents).

    Parameters
    ----------
    model : trained ANP (set to eval mode).
    x_context, y_context : (F, Nc, 2) normalised inputs and (F, Nc) values.
    x_target : (N, 2) normalised target inputs shared by all functions (e.g. the dense grid).
    n_samples : latent draws S from q(z | C).
    seed : seed of the latent draws.
    chunk : targets per forward pass (memory bound).

    Returns
    -------
    mean, std : float64 arrays, shape (F, N).
    """
    model.eval()
    xc, yc = _to_tensor(x_context, "x_context"), _to_tensor(y_context, "y_context")[..., None]
    xt_all = _to_tensor(x_target, "x_target")
    if xt_all.ndim != 2 or xc.ndim != 3 or xc.shape[:2] != yc.shape[:2]:
        raise DataError(
            f"expected x_context (F, Nc, 2), y_context (F, Nc), x_target (N, 2); got "
            f"{tuple(xc.shape)}, {tuple(yc.shape[:2])}, {tuple(xt_all.shape)}"
        )
    if int(n_samples) < 1:
        raise DataError(f"n_samples must be >= 1; got {n_samples}")
    gen = torch.Generator().manual_seed(int(seed))
    n_f, n_t = xc.shape[0], xt_all.shape[0]
    mu_z, sd_z = model.latent(xc, yc)
    z = mu_z + sd_z * torch.randn((int(n_samples), *mu_z.shape), generator=gen)  # (S, F, W)
    mean = np.empty((n_f, n_t))
    std = np.empty((n_f, n_t))
    for f in range(n_f):
        for lo in range(0, n_t, chunk):
            xt = xt_all[None, lo : lo + chunk]
            r = model.deterministic(xc[f : f + 1], yc[f : f + 1], xt)
            m, s = model.decode(xt, r, z[:, f : f + 1])  # (S, 1, n, 1)
            mm, ss = moment_match(m[:, 0, :, 0].numpy(), s[:, 0, :, 0].numpy())
            mean[f, lo : lo + chunk], std[f, lo : lo + chunk] = mm, ss
    return mean, std
