r"""Mixture benchmark pairs with a known entropic-OT plan (in the style of Gushchin et al. 2023).

Gushchin, Kolesov, Mokrov, Karpikova, Spiridonov, Burnaev, Korotin, "Building the Bridge of
Schrödinger: A Continuous Entropic Optimal Transport Benchmark", NeurIPS 2023 Datasets and
Benchmarks, Section 3. The authors' stored pairs are a cloud-drive download, so the pairs are
rebuilt here from the same closed form.

:math:`P_0` is a Gaussian mixture :math:`\sum_m q_m \mathcal N(a_m, A_m)`. For any positive
:math:`v^*` the plan :math:`\pi^*(y\mid x) \propto \exp(\langle x, y\rangle/\varepsilon) v^*(y)` is
the EOT plan between :math:`P_0` and its own y-marginal :math:`P_1` (Thm. 3.1 of the benchmark
paper). Taking :math:`v^*(y) = e^{-|y|^2/(2\varepsilon)} \sum_n p_n \mathcal N(y\mid\mu_n,\Sigma_n)`
gives

.. math:: \pi^*(y\mid x) \propto \mathcal N(y\mid x, \varepsilon I)\sum_n p_n
          \mathcal N(y\mid \mu_n, \Sigma_n)
          = \sum_n \beta_n(x)\, \mathcal N\big(y \mid C_n(\Sigma_n^{-1}\mu_n + x/\varepsilon), C_n\big),

with :math:`C_n = (\Sigma_n^{-1} + I/\varepsilon)^{-1}` and
:math:`\beta_n(x) \propto p_n \mathcal N(x \mid \mu_n, \Sigma_n + \varepsilon I)`. So the
conditional components are exact, :math:`P_1` is sampled exactly by :math:`x\sim P_0`,
:math:`y \sim \pi^*(\cdot\mid x)`, and the moments of :math:`P_1` follow by the tower rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
from scipy.special import logsumexp

from sciml.errors import ConfigError, DataError

__all__ = ["MixturePair", "make_mixture_pair", "pair_seed", "DIMS", "EPSILONS"]

DIMS = (2, 16, 64, 128)
EPSILONS = (0.1, 1.0, 10.0)


def _log_normal(x: np.ndarray, mean: np.ndarray, prec_chol: np.ndarray, logdet: np.ndarray):
    r"""log N(x | mean_n, cov_n), x (B, D), mean (N, D) -> (B, N).

    ``prec_chol`` (N, D, D) is :math:`L_n^{-1}` for :math:`\Sigma_n = L_n L_n^\top`, ``logdet``
    (N,) is :math:`\log\det\Sigma_n`.
    """
    z = np.swapaxes(x[None] @ np.swapaxes(prec_chol, -1, -2), 0, 1)  # (B, N, D)
    z = z - np.einsum("nde,ne->nd", prec_chol, mean)[None]
    d = x.shape[-1]
    return -0.5 * ((z**2).sum(-1) + logdet + d * np.log(2 * np.pi))


@dataclass(frozen=True)
class MixturePair:
    r"""A benchmark pair: Gaussian-mixture :math:`P_0` and the exact EOT conditional plan.

    Attributes
    ----------
    source_weights, source_means, source_covs : (M,), (M, D), (M, D, D) of :math:`P_0`
    potential_weights, potential_means, potential_covs : (N,), (N, D), (N, D, D):
        :math:`p_n, \mu_n, \Sigma_n` of the plan
    eps : float
    """

    source_weights: np.ndarray
    source_means: np.ndarray
    source_covs: np.ndarray
    potential_weights: np.ndarray
    potential_means: np.ndarray
    potential_covs: np.ndarray
    eps: float

    @property
    def dim(self) -> int:
        return int(self.source_means.shape[1])

    # -------------------------------------------------------------- plan components
    @cached_property
    def _plan(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        d = self.dim
        sig_inv = np.linalg.inv(self.potential_covs)
        cond = np.linalg.inv(sig_inv + np.eye(d) / self.eps)
        cond = 0.5 * (cond + np.swapaxes(cond, -1, -2))
        offset = np.einsum("nde,nef,nf->nd", cond, sig_inv, self.potential_means)
        return cond, cond / self.eps, offset, np.linalg.cholesky(cond)

    @cached_property
    def _weight_normal(self) -> tuple[np.ndarray, np.ndarray]:
        chol = np.linalg.cholesky(self.potential_covs + self.eps * np.eye(self.dim))
        logdet = 2.0 * np.log(np.diagonal(chol, axis1=-2, axis2=-1)).sum(-1)
        return np.linalg.inv(chol), logdet

    @cached_property
    def _source_chol(self) -> np.ndarray:
        return np.linalg.cholesky(self.source_covs)

    def plan_components(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        r"""Return (C_n (N, D, D), G_n = C_n/\varepsilon (N, D, D), c_n = C_n\Sigma_n^{-1}\mu_n (N, D)).

        Component n of :math:`\pi^*(\cdot|x)` is :math:`\mathcal N(c_n + G_n x, C_n)`.
        """
        return self._plan[:3]

    def lightsb_params(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        r"""The exact LightSB parameters of the plan: :math:`(\log\alpha_n, r_n, S_n)`, K = N.

        :math:`v^*(y) = e^{-|y|^2/(2\varepsilon)}\sum_n p_n\mathcal N(y|\mu_n,\Sigma_n)
        = \sum_n \alpha_n \mathcal N(y \mid r_n, \varepsilon S_n)` with
        :math:`S_n = C_n/\varepsilon`, :math:`r_n = C_n\Sigma_n^{-1}\mu_n` and
        :math:`\alpha_n = p_n (2\pi\varepsilon)^{D/2}\mathcal N(\mu_n\mid 0,\Sigma_n+\varepsilon I)`.

        Returns log_alpha (N,), r (N, D), S (N, D, D).
        """
        _, gain, offset = self.plan_components()
        prec_chol, logdet = self._weight_normal
        log_n0 = _log_normal(np.zeros((1, self.dim)), self.potential_means, prec_chol, logdet)[0]
        log_alpha = (
            np.log(self.potential_weights) + 0.5 * self.dim * np.log(2 * np.pi * self.eps) + log_n0
        )
        return log_alpha, offset, gain

    def conditional_log_weights(self, x: np.ndarray) -> np.ndarray:
        r"""Log :math:`\beta_n(x)`, (B, N)."""
        x = np.asarray(x, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != self.dim:
            raise DataError(f"x must have shape (n, {self.dim}); got {x.shape}")
        logits = np.log(self.potential_weights) + _log_normal(
            x, self.potential_means, *self._weight_normal
        )
        return logits - logsumexp(logits, axis=1, keepdims=True)

    def conditional_means(self, x: np.ndarray) -> np.ndarray:
        """Component means :math:`c_n + G_n x`, (B, N, D)."""
        _, gain, offset = self.plan_components()
        x = np.asarray(x, dtype=np.float64)
        return offset[None] + np.swapaxes(x[None] @ np.swapaxes(gain, -1, -2), 0, 1)

    def conditional_moments(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        r"""Exact mean (B, D) and covariance (B, D, D) of :math:`\pi^*(\cdot\mid x)`."""
        cond = self._plan[0]
        w = np.exp(self.conditional_log_weights(x))
        mu = self.conditional_means(x)
        mean = np.einsum("bn,bnd->bd", w, mu)
        dev = mu - mean[:, None]
        cov = np.einsum("bn,nde->bde", w, cond, optimize=True)
        cov = cov + np.einsum("bnd,bne->bde", w[..., None] * dev, dev, optimize=True)
        return mean, cov

    # -------------------------------------------------------------- sampling
    def sample_source(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """Exact draws of :math:`P_0`, (n, D)."""
        comp = rng.choice(len(self.source_weights), size=n, p=self.source_weights)
        z = rng.standard_normal((n, self.dim))
        noise = z[None] @ np.swapaxes(self._source_chol, -1, -2)  # (M, n, D)
        return self.source_means[comp] + noise[comp, np.arange(n)]

    def sample_conditional(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        r"""One exact draw of :math:`y\sim\pi^*(\cdot\mid x)` per row of x, (n, D)."""
        chol = self._plan[3]
        x = np.asarray(x, dtype=np.float64)
        logw = self.conditional_log_weights(x)
        g = rng.gumbel(size=logw.shape)
        comp = np.argmax(logw + g, axis=1)
        z = rng.standard_normal(x.shape)
        rows = np.arange(x.shape[0])
        mean = self.conditional_means(x)[rows, comp]
        return mean + (z[None] @ np.swapaxes(chol, -1, -2))[comp, rows]

    def sample_target(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """Exact draws of :math:`P_1`: x from :math:`P_0`, then y given x, (n, D)."""
        return self.sample_conditional(self.sample_source(n, rng), rng)

    def target_moments(
        self, n: int = 20_000, rng: np.random.Generator | None = None, chunk: int = 2_000
    ) -> tuple[np.ndarray, np.ndarray]:
        r"""Mean and covariance of :math:`P_1` by the tower rule over n draws of :math:`P_0`.

        .. math:: \mathbb E y = \mathbb E_x m(x), \quad
                  \mathrm{Cov}\,y = \mathbb E_x \Sigma(x) + \mathrm{Cov}_x m(x)

        (a Rao-Blackwellised Monte-Carlo estimate: only the x-average is random).
        """
        rng = np.random.default_rng(0) if rng is None else rng
        d = self.dim
        cond = self._plan[0]
        s1 = np.zeros(d)
        s2 = np.zeros((d, d))
        for start in range(0, n, chunk):
            x = self.sample_source(min(chunk, n - start), rng)
            w = np.exp(self.conditional_log_weights(x))  # (B, N)
            mu = self.conditional_means(x)  # (B, N, D)
            s1 += np.einsum("bn,bnd->d", w, mu)
            wm = (w[..., None] * mu).reshape(-1, d)
            s2 += np.einsum("n,nde->de", w.sum(0), cond) + wm.T @ mu.reshape(-1, d)
        mean = s1 / n
        return mean, s2 / n - np.outer(mean, mean)


def _random_spd(
    rng: np.random.Generator, dim: int, lo: float, hi: float, n: int, rotate: bool = True
) -> np.ndarray:
    """n random SPD matrices with eigenvalues uniform in [lo, hi] and Haar rotations (or none)."""
    if not rotate:
        return np.einsum("nj,jk->njk", rng.uniform(lo, hi, size=(n, dim)), np.eye(dim))
    g = rng.standard_normal((n, dim, dim))
    q, r = np.linalg.qr(g)
    q = q * np.sign(np.diagonal(r, axis1=-2, axis2=-1))[:, None, :]
    lam = rng.uniform(lo, hi, size=(n, dim))
    return np.einsum("nij,nj,nkj->nik", q, lam, q)


def pair_seed(dim: int, eps: float, seed: int = 0) -> int:
    """Deterministic integer seed of the (dim, eps, seed) pair."""
    return int(seed) * 1_000_003 + int(dim) * 1_009 + int(round(float(eps) * 1000))


def make_mixture_pair(
    dim: int,
    eps: float,
    seed: int = 0,
    n_source: int = 3,
    n_potential: int = 5,
    rotate: bool = True,
) -> MixturePair:
    r"""Build one benchmark pair for (dim, eps) with a fixed seed.

    :math:`P_0`: ``n_source`` equally weighted Gaussians, means uniform in
    :math:`[-2, 2]^D`, covariances with eigenvalues in [0.2, 1] and random rotations (shared by
    all eps of one dim, like the benchmark's input distribution). Plan: ``n_potential``
    components with Dirichlet(2) weights, means uniform in :math:`[-3, 3]^D` and covariances
    :math:`\Sigma_n = Q_n \operatorname{diag}(\lambda_n) Q_n^\top` with eigenvalues in [0.2, 1]
    (drawn per (dim, eps)) in random orthogonal frames :math:`Q_n` (Haar, from the QR of a
    Gaussian matrix with the signs of R's diagonal), or axis-aligned (:math:`Q_n = I`) with
    ``rotate=False``. Axis-aligned plan components make the truth a member of the *diagonal*
    LightSB family (every :math:`S_n = C_n/\varepsilon` is diagonal), so a benchmark of them
    cannot tell diagonal from full :math:`S_k`; rotated ones give diagonal :math:`S_k` a
    representation floor that full :math:`S_k` do not have.

    Parameters
    ----------
    dim : int
    eps : float
    seed : int
        With (dim, eps), the seed of the pair (:func:`pair_seed`).
    n_source, n_potential : int
        Components of :math:`P_0` and of the plan.
    rotate : bool
        Random orthogonal frames of the plan components (default) or axis-aligned ones.

    Returns
    -------
    MixturePair

    Raises
    ------
    ConfigError : dim < 1, eps <= 0 or fewer than one component.
    """
    if dim < 1 or not eps > 0 or n_source < 1 or n_potential < 1:
        raise ConfigError(
            f"need dim >= 1, eps > 0 and at least one component; got dim={dim}, eps={eps}, "
            f"n_source={n_source}, n_potential={n_potential}"
        )
    rng0 = np.random.default_rng(pair_seed(dim, 0.0, seed))
    src_w = np.full(n_source, 1.0 / n_source)
    src_m = rng0.uniform(-2, 2, size=(n_source, dim))
    src_c = _random_spd(rng0, dim, 0.2, 1.0, n_source)
    rng1 = np.random.default_rng(pair_seed(dim, eps, seed) + 7)
    pot_w = rng1.dirichlet(np.full(n_potential, 2.0))
    pot_m = rng1.uniform(-3, 3, size=(n_potential, dim))
    pot_c = _random_spd(rng1, dim, 0.2, 1.0, n_potential, rotate=rotate)
    return MixturePair(src_w, src_m, src_c, pot_w, pot_m, pot_c, float(eps))
