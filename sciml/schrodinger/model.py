r"""Light Schrödinger Bridge (LightSB): Gaussian-mixture adjusted potential, closed-form plan and SB.

Korotin, Gushchin, Burnaev, "Light Schrödinger Bridge", ICLR 2024 (arXiv:2310.01174), Sections
3.1-3.3. With the cost :math:`|x - y|^2 / 2`, regularisation :math:`\varepsilon` and the Wiener
prior :math:`W^\varepsilon`, the entropic-OT plan has conditionals

.. math:: \pi(y \mid x) = \frac{\exp(\langle x, y\rangle / \varepsilon)\, v(y)}{c(x)},
          \qquad c(x) = \int \exp(\langle x, y\rangle / \varepsilon)\, v(y)\, dy,

where :math:`v` is the *adjusted* Schrödinger potential. LightSB takes

.. math:: v_\theta(y) = \sum_{k=1}^K \alpha_k\, \mathcal N(y \mid r_k, \varepsilon S_k),

so that (Prop. 3.2)

.. math:: c_\theta(x) = \sum_k \alpha_k \exp\Big(\frac{x^\top S_k x + 2 r_k^\top x}{2\varepsilon}\Big),
   \qquad \pi_\theta(y \mid x) = \sum_k w_k(x)\, \mathcal N(y \mid r_k + S_k x, \varepsilon S_k),

with :math:`w_k(x) \propto \alpha_k \exp((x^\top S_k x + 2 r_k^\top x) / (2\varepsilon))`.

Each :math:`S_k` is diagonal (``cov="diagonal"``) or a full symmetric positive definite matrix
(``cov="full"``) in the unit-triangular Cholesky (:math:`LDL^\top`) form

.. math:: S_k = L_k L_k^\top, \qquad L_k = (I + W_k)\operatorname{diag}(\lambda_k)^{1/2},

with :math:`W_k` strictly lower triangular and pivots :math:`\lambda_k > 0` (stored as
:math:`\log\lambda_k`): every :math:`(W_k, \lambda_k)` gives an SPD matrix, every SPD matrix has
exactly one such form, :math:`\log\det S_k = \sum_d \log\lambda_{kd}`, and :math:`W_k = 0` is the
diagonal model. The training quantities are one matrix product each, stacked over the
components: :math:`x^\top S_k x = |L_k^\top x|^2` and
:math:`(y - r_k)^\top S_k^{-1}(y - r_k) = |L_k^{-1}(y - r_k)|^2`, with the triangular inverse
:math:`L_k^{-1} = \operatorname{diag}(\lambda_k)^{-1/2}(I + W_k)^{-1}` formed once per step
(:math:`O(K D^3)`), so a step costs :math:`O(B K D)` for diagonal :math:`S_k` and
:math:`O(B K D^2 + K D^3)` for full ones, vectorised over the components. Everything is in log
space (``logsumexp``).

The SB process (Prop. 3.3) is :math:`dX_t = g_\theta(X_t, t)\,dt + \sqrt{\varepsilon}\, dW_t` with

.. math:: g_\theta(x, t) = \varepsilon \nabla_x \log h(x, t), \qquad
          h(x, t) = \int \mathcal N(y \mid x, \varepsilon (1 - t) I)\, \phi(y)\, dy,
          \quad \phi(y) = v_\theta(y) \exp\big(|y|^2 / (2\varepsilon)\big),

which is again a Gaussian-mixture computation: :math:`g = (\mathbb E[y \mid x_t] - x_t)/(1-t)`
under the posterior :math:`p(y \mid x_t) \propto \mathcal N(y \mid x_t, \varepsilon(1-t)I)\phi(y)`
whose components have precision :math:`P_k/\varepsilon`,
:math:`P_k = S_k^{-1} + \tfrac{t}{1-t} I`, and means
:math:`P_k^{-1}(S_k^{-1} r_k + x / (1 - t))`. :math:`P_k` shares the eigenvectors of :math:`S_k`,
so the drift is evaluated in the eigenbasis :math:`S_k = U_k \operatorname{diag}(\mu_k) U_k^\top`
(one ``eigh`` per simulation, not per step), exactly and for a different :math:`t` per particle.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from sciml.errors import ConfigError, DataError

__all__ = ["LightSB", "bridge_sample", "sb_trajectories", "COV_TYPES"]

COV_TYPES = ("diagonal", "full")

Spectrum = tuple[torch.Tensor, torch.Tensor | None]  # eigenvalues (K, D), eigenvectors (K, D, D)


def _check_x(x: torch.Tensor, dim: int, name: str = "x") -> None:
    if x.ndim != 2 or x.shape[-1] != dim:
        raise DataError(f"{name} must have shape (n, {dim}); got {tuple(x.shape)}")


def _stacked(x: torch.Tensor, m: torch.Tensor) -> torch.Tensor:
    r"""Every :math:`M_k x_b` by one matrix product: x (B, D), m (K, D, D) -> (B, K, D)."""
    k, d, _ = m.shape
    return (x @ m.reshape(k * d, d).T).reshape(x.shape[0], k, d)


class LightSB(nn.Module):
    r"""LightSB model: mixture adjusted potential, conditional plan and SB drift.

    Parameters
    ----------
    dim : int
        Data dimension :math:`D`.
    n_components : int
        Number of mixture components :math:`K`.
    eps : float
        Entropic regularisation :math:`\varepsilon > 0` (the SB diffusion is
        :math:`\sqrt{\varepsilon}\,dW`).
    cov : {"diagonal", "full"}
        Structure of :math:`S_k`.
    s_init : float
        Initial pivots of every :math:`S_k` (:math:`S_k = s_\text{init} I` at the start).
    dtype : torch.dtype
        Parameter dtype (float64 by default: the model is small and the moments are exact).

    Notes
    -----
    Parameters: ``r`` (K, D) means, ``log_s`` (K, D) log-pivots :math:`\log\lambda_k` of
    :math:`S_k` (its log-eigenvalues when diagonal), ``a`` (K,) with the eps-scaled weights
    :math:`\log\alpha_k = a_k / \varepsilon`, and for ``cov="full"`` ``tril`` (K, D, D) whose
    strictly lower triangle is :math:`W_k` in :math:`S_k = (I + W_k)\operatorname{diag}(\lambda_k)
    (I + W_k)^\top` (the upper triangle and diagonal are unused and get no gradient).

    Why :math:`\log\alpha_k = a_k/\varepsilon`: every other term of the component logits,
    :math:`(x^\top S_k x + 2 r_k^\top x)/(2\varepsilon)` and
    :math:`-|y - r_k|^2_{S_k^{-1}}/(2\varepsilon)`, carries a factor :math:`1/\varepsilon`. With
    :math:`a_k` in the same "potential" units as :math:`r_k^\top x`, an Adam step of size ``lr``
    moves every logit by :math:`O(\text{lr}/\varepsilon)` whichever parameter takes it, so one
    learning rate serves :math:`\varepsilon = 0.1` and :math:`\varepsilon = 10` alike; with raw
    :math:`\log\alpha_k` the weights would be far too slow at small :math:`\varepsilon` and far too
    jumpy at large :math:`\varepsilon`. :math:`W_k` is dimensionless and :math:`\lambda_k` moves
    multiplicatively, so the same rate serves :math:`S_k` at every scale.

    References
    ----------
    .. [1] A. Korotin, N. Gushchin, E. Burnaev, "Light Schrödinger Bridge", ICLR 2024,
       arXiv:2310.01174.
    """

    def __init__(
        self,
        dim: int,
        n_components: int,
        eps: float,
        cov: str = "diagonal",
        s_init: float = 0.1,
        dtype: torch.dtype = torch.float64,
    ) -> None:
        super().__init__()
        if cov not in COV_TYPES:
            raise ConfigError(f"cov={cov!r} is not one of {COV_TYPES}")
        if not (eps > 0 and math.isfinite(eps)):
            raise ConfigError(f"eps must be a positive finite number; got {eps!r}")
        if dim < 1 or n_components < 1:
            raise ConfigError(f"dim and n_components must be >= 1; got {dim}, {n_components}")
        if not s_init > 0:
            raise ConfigError(f"s_init must be positive; got {s_init!r}")
        self.dim = int(dim)
        self.n_components = int(n_components)
        self.eps = float(eps)
        self.cov = cov
        k, d = self.n_components, self.dim
        self.r = nn.Parameter(torch.zeros(k, d, dtype=dtype))
        self.log_s = nn.Parameter(torch.full((k, d), math.log(s_init), dtype=dtype))
        self.a = nn.Parameter(torch.zeros(k, dtype=dtype))
        self.register_buffer("eps_value", torch.tensor(self.eps, dtype=torch.float64))
        if cov == "full":
            self.tril = nn.Parameter(torch.zeros(k, d, d, dtype=dtype))

    @classmethod
    def from_state_dict(cls, state: dict[str, torch.Tensor]) -> LightSB:
        r"""Rebuild a model from its ``state_dict`` (sizes, eps and cov type are read from it).

        A full-covariance state dict of the earlier rotation form (keys ``skew`` and ``u0``,
        :math:`S_k = U_k \operatorname{diag}(e^{\log s_k}) U_k^\top` with
        :math:`U_k = U^0_k \exp(A_k - A_k^\top)`) is converted to the Cholesky form: the same
        :math:`S_k`, so the same plan.
        """
        missing = {"r", "log_s", "a", "eps_value"} - set(state)
        if missing:
            raise DataError(f"state dict lacks {sorted(missing)}; not a LightSB state dict")
        k, d = state["r"].shape
        eps = float(state["eps_value"])
        full = "tril" in state or "skew" in state
        model = cls(d, k, eps, cov="full" if full else "diagonal", dtype=state["r"].dtype)
        if "skew" in state:
            skew = state["skew"]
            u = state.get("u0", torch.eye(d, dtype=skew.dtype).expand(k, d, d))
            u = u @ torch.linalg.matrix_exp(skew - skew.transpose(-1, -2))
            s = (u * state["log_s"].exp()[:, None, :]) @ u.transpose(-1, -2)
            return model.set_params(state["a"] / eps, state["r"], s)
        model.load_state_dict(state)
        return model

    # ------------------------------------------------------------------ parameters
    @property
    def log_alpha(self) -> torch.Tensor:
        r""":math:`\log\alpha_k = a_k / \varepsilon`, shape (K,)."""
        return self.a / self.eps

    @property
    def pivots(self) -> torch.Tensor:
        r"""Pivots :math:`\lambda_k` of :math:`S_k` (its eigenvalues when diagonal), shape (K, D)."""
        return self.log_s.exp()

    def _unit_lower(self) -> torch.Tensor:
        """:math:`I + W_k`, (K, D, D)."""
        eye = torch.eye(self.dim, dtype=self.tril.dtype, device=self.tril.device)
        return torch.tril(self.tril, -1) + eye

    def cholesky_factors(self) -> torch.Tensor | None:
        r"""Lower-triangular :math:`L_k = (I + W_k)\operatorname{diag}(\lambda_k)^{1/2}` with
        :math:`S_k = L_k L_k^\top`, (K, D, D); ``None`` for diagonal :math:`S_k`."""
        if self.cov == "diagonal":
            return None
        return self._unit_lower() * self.pivots.sqrt()[:, None, :]

    def _inverse_factors(self) -> torch.Tensor:
        r""":math:`L_k^{-1} = \operatorname{diag}(\lambda_k)^{-1/2}(I + W_k)^{-1}`, (K, D, D)."""
        eye = torch.eye(self.dim, dtype=self.tril.dtype, device=self.tril.device)
        inv_unit = torch.linalg.solve_triangular(
            torch.tril(self.tril, -1) + eye, eye.expand_as(self.tril), upper=False,
            unitriangular=True,
        )
        return inv_unit * (-0.5 * self.log_s).exp()[:, :, None]

    def s_matrices(self) -> torch.Tensor:
        r""":math:`S_k = L_k L_k^\top` (full) or :math:`\operatorname{diag}(\lambda_k)`, (K, D, D)."""
        chol = self.cholesky_factors()
        if chol is None:
            return torch.diag_embed(self.pivots)
        return chol @ chol.transpose(-1, -2)

    def spectrum(self) -> Spectrum:
        r"""Eigen-decomposition :math:`S_k = U_k \operatorname{diag}(\mu_k) U_k^\top`.

        Returns eigenvalues (K, D) and eigenvectors (K, D, D), or ``(pivots, None)`` for diagonal
        :math:`S_k`. The SB drift is computed in this basis (:meth:`drift`).
        """
        if self.cov == "diagonal":
            return self.pivots, None
        lam, u = torch.linalg.eigh(self.s_matrices())
        return lam, u

    @torch.no_grad()
    def set_params(
        self, log_alpha: torch.Tensor, r: torch.Tensor, s: torch.Tensor
    ) -> LightSB:
        r"""Set :math:`(\log\alpha_k, r_k, S_k)` directly, e.g. from a closed form.

        Parameters
        ----------
        log_alpha : (K,)
        r : (K, D)
        s : (K, D) eigenvalues (diagonal model) or (K, D, D) symmetric positive definite
            matrices (full model; factorised with ``cholesky`` into ``tril`` and ``log_s``;
            a diagonal model takes the diagonal of a (K, D, D) input).

        Returns
        -------
        LightSB
            ``self``.

        Raises
        ------
        DataError
            On a shape mismatch or an ``s`` that is not positive (definite).
        """
        dt = self.r.dtype
        log_alpha = torch.as_tensor(log_alpha, dtype=dt)
        r = torch.as_tensor(r, dtype=dt)
        s = torch.as_tensor(s, dtype=dt)
        k, d = self.n_components, self.dim
        if log_alpha.shape != (k,) or r.shape != (k, d):
            raise DataError(f"log_alpha/r must have shapes ({k},)/({k}, {d}); "
                            f"got {tuple(log_alpha.shape)}/{tuple(r.shape)}")
        if self.cov == "diagonal":
            if s.shape == (k, d, d):
                s = torch.diagonal(s, dim1=-2, dim2=-1)
            if s.shape != (k, d) or not bool((s > 0).all()):
                raise DataError(f"s must be positive with shape ({k}, {d}) for a diagonal model")
            self.log_s.copy_(s.log())
        else:
            if s.shape == (k, d):
                s = torch.diag_embed(s)
            if s.shape != (k, d, d):
                raise DataError(f"s must have shape ({k}, {d}, {d}) for a full model")
            chol, info = torch.linalg.cholesky_ex(0.5 * (s + s.transpose(-1, -2)))
            if bool((info != 0).any()):
                raise DataError("s must be symmetric positive definite (its Cholesky failed)")
            piv = torch.diagonal(chol, dim1=-2, dim2=-1)
            self.log_s.copy_(2.0 * piv.log())
            self.tril.copy_(torch.tril(chol / piv[:, None, :], -1))
        self.a.copy_(self.eps * log_alpha)
        self.r.copy_(r)
        return self

    # ------------------------------------------------------------------ potentials
    def log_v(self, y: torch.Tensor) -> torch.Tensor:
        r"""Log adjusted potential :math:`\log v_\theta(y)`, shape (B,).

        .. math:: \log \sum_k \alpha_k \mathcal N(y \mid r_k, \varepsilon S_k), \qquad
                  (y - r_k)^\top S_k^{-1} (y - r_k) = |L_k^{-1} y - L_k^{-1} r_k|^2
        """
        _check_x(y, self.dim, "y")
        lam = self.pivots
        if self.cov == "diagonal":  # O(BKD) by matmuls, no (B, K, D) intermediate
            inv = 1.0 / lam
            quad = (y * y) @ inv.T - 2.0 * (y @ (self.r * inv).T) + (self.r**2 * inv).sum(-1)
        else:  # one (B, D) x (D, K D) product
            m = self._inverse_factors()
            z = _stacked(y, m) - (m @ self.r[:, :, None])[:, :, 0]
            quad = (z * z).sum(-1)
        logdet = self.log_s.sum(-1) + self.dim * math.log(self.eps)
        log_n = -0.5 * (quad / self.eps + logdet + self.dim * math.log(2 * math.pi))
        return torch.logsumexp(self.log_alpha + log_n, dim=-1)

    def component_logits(self, x: torch.Tensor) -> torch.Tensor:
        r"""Unnormalised log weights :math:`\log\alpha_k + (x^\top S_k x + 2 r_k^\top x)/(2\varepsilon)`.

        :math:`x^\top S_k x = |L_k^\top x|^2` (one stacked product for full :math:`S_k`).

        Returns (B, K).
        """
        _check_x(x, self.dim)
        chol = self.cholesky_factors()
        if chol is None:
            quad = (x * x) @ self.pivots.T
        else:
            z = _stacked(x, chol.transpose(-1, -2))
            quad = (z * z).sum(-1)
        lin = x @ self.r.T
        return self.log_alpha + (quad + 2.0 * lin) / (2.0 * self.eps)

    def log_c(self, x: torch.Tensor) -> torch.Tensor:
        r"""Log normaliser :math:`\log c_\theta(x)`, (B,).

        .. math:: c_\theta(x) = \int e^{\langle x,y\rangle/\varepsilon} v_\theta(y)\,dy
        """
        return torch.logsumexp(self.component_logits(x), dim=-1)

    def loss(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        r"""LightSB objective on unpaired minibatches (Eq. 11 of [1]).

        .. math:: \mathcal L(\theta) = \mathbb E_{P_0} \log c_\theta(x)
                  - \mathbb E_{P_1} \log v_\theta(y)

        It equals :math:`\mathrm{KL}(\pi^* \| \pi_\theta)` up to an additive constant.
        """
        return self.log_c(x).mean() - self.log_v(y).mean()

    # ------------------------------------------------------------------ conditional plan
    def conditional_weights(self, x: torch.Tensor) -> torch.Tensor:
        """Mixture weights :math:`w_k(x)` of :math:`\\pi_\\theta(\\cdot|x)`, (B, K)."""
        return torch.softmax(self.component_logits(x), dim=-1)

    def conditional_means(self, x: torch.Tensor) -> torch.Tensor:
        r"""Component means :math:`r_k + S_k x`, (B, K, D)."""
        _check_x(x, self.dim)
        if self.cov == "diagonal":
            return self.r + x[:, None, :] * self.pivots
        return self.r + _stacked(x, self.s_matrices())

    def conditional_covariances(self) -> torch.Tensor:
        r"""Component covariances :math:`\varepsilon S_k`, (K, D, D)."""
        return self.eps * self.s_matrices()

    def conditional_moments(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        r"""Exact mean and covariance of the mixture :math:`\pi_\theta(\cdot \mid x)`.

        .. math:: m(x) = \sum_k w_k \mu_k, \qquad
                  \Sigma(x) = \sum_k w_k(\varepsilon S_k + \mu_k\mu_k^\top) - m m^\top

        Returns mean (B, D) and covariance (B, D, D).
        """
        w = self.conditional_weights(x)
        mu = self.conditional_means(x)
        mean = torch.einsum("bk,bkd->bd", w, mu)
        dev = mu - mean[:, None, :]
        cov = torch.einsum("bk,kde->bde", w, self.conditional_covariances())
        cov = cov + torch.einsum("bk,bkd,bke->bde", w, dev, dev)
        return mean, cov

    def sample(
        self, x: torch.Tensor, n_samples: int = 1, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        r"""Draw :math:`y \sim \pi_\theta(\cdot \mid x)`: a component, then its Gaussian.

        .. math:: y = r_k + S_k x + \sqrt{\varepsilon}\, L_k \xi, \quad k \sim w(x),
                  \ \xi \sim \mathcal N(0, I)

        Returns (n_samples, B, D).
        """
        w = self.conditional_weights(x)  # (B, K)
        b = x.shape[0]
        comp = torch.multinomial(w, n_samples, replacement=True, generator=generator).T  # (n, B)
        mu = self.conditional_means(x)  # (B, K, D)
        mean = torch.gather(mu[None].expand(n_samples, -1, -1, -1), 2,
                            comp[..., None, None].expand(-1, -1, 1, self.dim))[:, :, 0]
        xi = torch.randn(n_samples, b, self.dim, dtype=x.dtype, generator=generator)
        chol = self.cholesky_factors()
        if chol is None:
            return mean + (self.eps * self.pivots).sqrt()[comp] * xi
        noise = torch.empty_like(xi)
        for k in range(self.n_components):  # O(n B D^2) in all, no (n, B, D, D) gather
            sel = comp == k
            noise[sel] = xi[sel] @ chol[k].T
        return mean + math.sqrt(self.eps) * noise

    # ------------------------------------------------------------------ SB process
    def _posterior(self, x: torch.Tensor, t: float | torch.Tensor, spectrum: Spectrum | None = None):
        r"""Components of :math:`p(y\mid x_t) \propto \mathcal N(y|x_t,\varepsilon(1-t)I)\phi(y)`.

        In the eigenbasis of :math:`S_k` (``spectrum``, computed when not given). Returns the log
        weights without the x-only terms (B, K), the component means (B, K, D) and :math:`1 - t`.
        """
        t = torch.as_tensor(t, dtype=x.dtype)
        if t.ndim == 1:
            t = t[:, None, None]
        s = 1.0 - t
        q = t / s
        lam, u = self.spectrum() if spectrum is None else spectrum
        if u is None:
            z, rho = x[:, None, :], self.r
        else:
            z = _stacked(x, u.transpose(-1, -2))  # U_k^T x, (B, K, D)
            rho = (u.transpose(-1, -2) @ self.r[:, :, None])[:, :, 0]  # U_k^T r_k, (K, D)
        p = 1.0 / lam + q  # eigenvalues of P_k
        b = rho / lam + z / s
        m_rot = b / p
        logw = (
            self.log_alpha
            - 0.5 * torch.log1p(q * lam).sum(-1)
            + ((b * b / p).sum(-1) - (rho * rho / lam).sum(-1)) / (2.0 * self.eps)
        )
        means = m_rot if u is None else torch.einsum("kde,bke->bkd", u, m_rot)
        return logw, means, s

    def log_h(self, x: torch.Tensor, t: float | torch.Tensor) -> torch.Tensor:
        r"""Log of :math:`h(x, t) = \int \mathcal N(y|x, \varepsilon(1-t)I)\,\phi(y)\,dy`, (B,).

        .. math:: \log h = \operatorname{logsumexp}_k\Big[\log\alpha_k
                  - \tfrac12\log\det(I + q S_k) + \frac{b_k^\top P_k^{-1} b_k
                  - r_k^\top S_k^{-1} r_k}{2\varepsilon}\Big]
                  - \frac D2 \log(2\pi\varepsilon s) - \frac{|x|^2}{2\varepsilon s},

        :math:`s = 1 - t`, :math:`q = t/s`, :math:`b_k = S_k^{-1} r_k + x/s`. The SB drift is
        :math:`\varepsilon\nabla_x \log h` (used in tests against autograd).
        """
        _check_x(x, self.dim)
        logw, _, s = self._posterior(x, t)
        s = s.reshape(-1) if s.ndim else s
        sq = (x * x).sum(-1)
        return (
            torch.logsumexp(logw, dim=-1)
            - 0.5 * self.dim * torch.log(2 * math.pi * self.eps * s)
            - sq / (2.0 * self.eps * s)
        )

    def drift(
        self, x: torch.Tensor, t: float | torch.Tensor, spectrum: Spectrum | None = None
    ) -> torch.Tensor:
        r"""Closed-form SB drift :math:`g_\theta(x, t) = (\mathbb E[y \mid x_t = x] - x)/(1 - t)`.

        .. math:: \mathbb E[y \mid x_t = x] = \sum_k \tilde w_k(x, t)\, P_k^{-1}\big(S_k^{-1} r_k
                  + x/(1 - t)\big), \qquad P_k = S_k^{-1} + \tfrac{t}{1-t} I

        (Korotin et al., ICLR 2024, Prop. 3.3), evaluated in the eigenbasis of :math:`S_k`.

        Parameters
        ----------
        x : (B, D)
        t : float in [0, 1) or (B,) tensor
        spectrum : optional :meth:`spectrum` of the model (pass it when calling repeatedly with
            the same parameters, as :meth:`simulate` does)

        Returns
        -------
        (B, D)
        """
        _check_x(x, self.dim)
        logw, means, s = self._posterior(x, t, spectrum)
        w = torch.softmax(logw, dim=-1)
        ey = torch.einsum("bk,bkd->bd", w, means)
        s = s.reshape(-1, 1) if s.ndim else s
        return (ey - x) / s

    def simulate(
        self,
        x: torch.Tensor,
        n_steps: int = 100,
        generator: torch.Generator | None = None,
        return_path: bool = False,
        t_end: float = 1.0,
    ) -> torch.Tensor:
        r"""Euler-Maruyama simulation of :math:`dX_t = g_\theta(X_t,t)dt + \sqrt\varepsilon dW_t`.

        .. math:: X_{n+1} = X_n + g_\theta(X_n, t_n)\Delta t + \sqrt{\varepsilon\Delta t}\,\xi_n,
                  \quad t_n = n\Delta t, \ \Delta t = t_\text{end}/N

        Returns :math:`X_{t_\text{end}}` (B, D), or the whole path (N + 1, B, D) when
        ``return_path``; ``t_end < 1`` stops at an intermediate time of the bridge.
        """
        _check_x(x, self.dim)
        if n_steps < 1:
            raise ConfigError(f"n_steps must be >= 1; got {n_steps}")
        if not 0.0 < t_end <= 1.0:
            raise ConfigError(f"t_end must lie in (0, 1]; got {t_end!r}")
        dt = t_end / n_steps
        spectrum = self.spectrum()
        path = [x]
        xt = x
        for n in range(n_steps):
            xi = torch.randn(xt.shape, dtype=xt.dtype, generator=generator)
            xt = xt + self.drift(xt, n * dt, spectrum) * dt + math.sqrt(self.eps * dt) * xi
            if return_path:
                path.append(xt)
        return torch.stack(path) if return_path else xt

def bridge_sample(
    x: torch.Tensor,
    y: torch.Tensor,
    t: torch.Tensor,
    eps: float,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    r"""Sample the Brownian bridge of variance :math:`\varepsilon` between x (t=0) and y (t=1).

    .. math:: x_t = (1 - t)x + t y + \sqrt{\varepsilon t (1 - t)}\,\xi, \quad \xi\sim\mathcal N(0, I)

    Parameters
    ----------
    x, y : (..., D)
    t : (T,) times in [0, 1]

    Returns
    -------
    (T, ..., D)
    """
    t = torch.as_tensor(t, dtype=x.dtype).reshape(-1, *([1] * x.ndim))
    xi = torch.randn((t.shape[0], *x.shape), dtype=x.dtype, generator=generator)
    return (1 - t) * x + t * y + torch.sqrt(eps * t * (1 - t)) * xi


def sb_trajectories(
    model: LightSB, x: np.ndarray, n_steps: int = 100, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    r"""Euler-Maruyama paths of the learned SB process from x, with their times.

    Korotin et al., ICLR 2024, Prop. 3.3 and Fig. 3: :meth:`LightSB.simulate` with its
    closed-form drift, run without gradients on a ``torch.Generator`` seeded with ``seed``.

    Parameters
    ----------
    model : LightSB
        The fitted model.
    x : ndarray, shape (n, D)
        Starting points :math:`X_0`.
    n_steps : int
        Euler-Maruyama steps on [0, 1].
    seed : int
        Seed of the Brownian increments.

    Returns
    -------
    times : ndarray, shape (n_steps + 1,)
    paths : ndarray, shape (n_steps + 1, n, D), float64
    """
    gen = torch.Generator().manual_seed(int(seed))
    with torch.no_grad():
        path = model.simulate(
            torch.as_tensor(x, dtype=model.r.dtype), n_steps=n_steps, generator=gen,
            return_path=True,
        )
    return np.linspace(0.0, 1.0, n_steps + 1), path.double().numpy()
