r"""Closed-form entropic OT between Gaussians (Janati et al. 2020; Mallasto et al. 2021).

For :math:`P_0 = \mathcal N(a, A)`, :math:`P_1 = \mathcal N(b, B)`, the cost
:math:`|x - y|^2/2` and entropic regularisation :math:`\varepsilon\,\mathrm{KL}`, the EOT plan is
the Gaussian :math:`\mathcal N\big((a, b), \begin{pmatrix} A & C \\ C^\top & B\end{pmatrix}\big)`
with (Janati et al., Thm. 1, with :math:`\sigma^2 = \varepsilon`)

.. math:: D_\varepsilon = (4 A^{1/2} B A^{1/2} + \varepsilon^2 I)^{1/2}, \qquad
          C = \tfrac12 A^{1/2} D_\varepsilon A^{-1/2} - \tfrac{\varepsilon}{2} I,

so :math:`y \mid x \sim \mathcal N(b + C^\top A^{-1}(x - a),\; B - C^\top A^{-1} C)`. The
conditional covariance equals :math:`\varepsilon\, C^\top A^{-1}`, which is why a one-component
LightSB with :math:`S = C^\top A^{-1}` and :math:`r = b - S a` is exact.

All computations are numpy float64.

References
----------
.. [1] H. Janati, B. Muzellec, G. Peyré, M. Cuturi, "Entropic Optimal Transport between Unbalanced
   Gaussian Measures has a Closed Form", NeurIPS 2020.
.. [2] A. Mallasto, A. Gerolin, H. Q. Minh, "Entropy-regularized 2-Wasserstein distance between
   Gaussian measures", Information Geometry 5 (2022) 289-323 (arXiv:2006.03416, 2021).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sciml.errors import ConfigError, DataError

__all__ = [
    "GaussianPair",
    "sqrtm_psd",
    "gaussian_eot_cross_cov",
    "gaussian_eot_conditional",
    "gaussian_lightsb_params",
    "gaussian_sb_drift",
    "make_gaussian_pair",
]


def sqrtm_psd(m: np.ndarray) -> np.ndarray:
    """Symmetric square root of a batch of symmetric PSD matrices (..., D, D), by ``eigh``."""
    m = 0.5 * (m + np.swapaxes(m, -1, -2))
    lam, u = np.linalg.eigh(m)
    lam = np.clip(lam, 0.0, None)
    return (u * np.sqrt(lam)[..., None, :]) @ np.swapaxes(u, -1, -2)


def _check_cov(m: np.ndarray, name: str) -> np.ndarray:
    m = np.asarray(m, dtype=np.float64)
    if m.ndim != 2 or m.shape[0] != m.shape[1]:
        raise DataError(f"{name} must be a square matrix; got shape {m.shape}")
    if not np.all(np.isfinite(m)):
        raise DataError(f"{name} contains non-finite values")
    if np.linalg.eigvalsh(0.5 * (m + m.T)).min() <= 0:
        raise DataError(f"{name} must be positive definite")
    return 0.5 * (m + m.T)


def gaussian_eot_cross_cov(cov0: np.ndarray, cov1: np.ndarray, eps: float) -> np.ndarray:
    r"""Cross-covariance :math:`C` of the entropic-OT plan between two Gaussians.

    .. math:: C = \tfrac12 A^{1/2} (4 A^{1/2} B A^{1/2} + \varepsilon^2 I)^{1/2} A^{-1/2}
              - \tfrac{\varepsilon}{2} I

    Parameters
    ----------
    cov0 : (D, D) covariance :math:`A` of :math:`P_0`
    cov1 : (D, D) covariance :math:`B` of :math:`P_1`
    eps : float, regularisation (cost :math:`|x-y|^2/2`)

    Returns
    -------
    (D, D) :math:`C = \mathrm{Cov}(x, y)` under the plan.
    """
    if not eps > 0:
        raise ConfigError(f"eps must be positive; got {eps!r}")
    a = _check_cov(cov0, "cov0")
    b = _check_cov(cov1, "cov1")
    if a.shape != b.shape:
        raise DataError(f"cov0 and cov1 must have the same shape; got {a.shape}, {b.shape}")
    d = a.shape[0]
    a_half = sqrtm_psd(a)
    a_mhalf = np.linalg.inv(a_half)
    d_eps = sqrtm_psd(4.0 * a_half @ b @ a_half + eps**2 * np.eye(d))
    return 0.5 * a_half @ d_eps @ a_mhalf - 0.5 * eps * np.eye(d)


def gaussian_eot_conditional(
    mean0: np.ndarray, cov0: np.ndarray, mean1: np.ndarray, cov1: np.ndarray, eps: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""Conditional :math:`y \mid x` of the Gaussian EOT plan.

    .. math:: y\mid x \sim \mathcal N\big(b + K (x - a),\; B - C^\top A^{-1} C\big),
              \quad K = C^\top A^{-1}

    Returns
    -------
    gain : (D, D) :math:`K = C^\top A^{-1}` (symmetric positive definite)
    offset : (D,) :math:`b - K a`
    cond_cov : (D, D) :math:`B - C^\top A^{-1} C`
    """
    c = gaussian_eot_cross_cov(cov0, cov1, eps)
    a = np.asarray(cov0, dtype=np.float64)
    gain = np.linalg.solve(a, c).T  # C^T A^{-1} (A symmetric)
    gain = 0.5 * (gain + gain.T)
    cond = np.asarray(cov1, dtype=np.float64) - gain @ c
    cond = 0.5 * (cond + cond.T)
    offset = np.asarray(mean1, dtype=np.float64) - gain @ np.asarray(mean0, dtype=np.float64)
    return gain, offset, cond


def gaussian_lightsb_params(
    mean0: np.ndarray, cov0: np.ndarray, mean1: np.ndarray, cov1: np.ndarray, eps: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""Exact one-component LightSB parameters :math:`(\log\alpha, r, S)` for a Gaussian pair.

    :math:`S = C^\top A^{-1}`, :math:`r = b - S a`, :math:`\log\alpha = 0`.

    Returns log_alpha (1,), r (1, D), S (1, D, D).
    """
    gain, offset, _ = gaussian_eot_conditional(mean0, cov0, mean1, cov1, eps)
    return np.zeros(1), offset[None], gain[None]


def gaussian_sb_drift(
    mean0: np.ndarray,
    cov0: np.ndarray,
    mean1: np.ndarray,
    cov1: np.ndarray,
    eps: float,
    x: np.ndarray,
    t: float,
) -> np.ndarray:
    r"""Drift of the Schrödinger bridge between two Gaussians at :math:`(x, t)`, in closed form.

    The SB is the EOT plan :math:`\pi^*` of :func:`gaussian_eot_cross_cov` joined by Brownian
    bridges, :math:`x_t = (1 - t)x_0 + t y + \sqrt{\varepsilon t(1 - t)}\,\xi`, so
    :math:`(y, x_t)` is jointly Gaussian and the drift is
    :math:`g(x, t) = (\mathbb E[y \mid x_t = x] - x)/(1 - t)` with

    .. math:: \mathbb E[y \mid x_t = x] = b + \Sigma_{y x_t}\Sigma_{x_t}^{-1}(x - m_t),

    :math:`m_t = (1 - t)a + t b`,
    :math:`\Sigma_{x_t} = (1 - t)^2 A + t^2 B + t(1 - t)(C + C^\top) + \varepsilon t(1 - t) I`,
    :math:`\Sigma_{y x_t} = (1 - t) C^\top + t B`. It does not go through any LightSB
    parameterisation, so it checks :meth:`~sciml.schrodinger.model.LightSB.drift` independently.

    Parameters
    ----------
    mean0, cov0, mean1, cov1 : (D,), (D, D), (D,), (D, D)
        :math:`a, A, b, B`.
    eps : float
    x : (n, D)
    t : float in [0, 1)

    Returns
    -------
    ndarray, shape (n, D)

    References
    ----------
    .. [1] A. Korotin, N. Gushchin, E. Burnaev, "Light Schrödinger Bridge", ICLR 2024, Prop. 3.3.
    """
    if not 0.0 <= t < 1.0:
        raise ConfigError(f"t must lie in [0, 1); got {t!r}")
    a, b = np.asarray(mean0, np.float64), np.asarray(mean1, np.float64)
    cov_a, cov_b = np.asarray(cov0, np.float64), np.asarray(cov1, np.float64)
    c = gaussian_eot_cross_cov(cov_a, cov_b, eps)
    d = a.shape[0]
    s = 1.0 - t
    cov_t = s * s * cov_a + t * t * cov_b + t * s * (c + c.T) + eps * t * s * np.eye(d)
    cov_yt = s * c.T + t * cov_b
    x = np.asarray(x, np.float64)
    ey = b + np.linalg.solve(cov_t, (x - (s * a + t * b)).T).T @ cov_yt.T
    return (ey - x) / s


@dataclass(frozen=True)
class GaussianPair:
    r"""A Gaussian benchmark pair :math:`P_0 = \mathcal N(a, A)`, :math:`P_1 = \mathcal N(b, B)`.

    Exact EOT conditionals via :func:`gaussian_eot_conditional`.
    """

    mean0: np.ndarray
    cov0: np.ndarray
    mean1: np.ndarray
    cov1: np.ndarray
    eps: float

    @property
    def dim(self) -> int:
        return int(self.mean0.shape[0])

    def sample_source(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """n draws of :math:`P_0`, (n, D)."""
        return rng.multivariate_normal(self.mean0, self.cov0, size=n, method="cholesky")

    def sample_target(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """n draws of :math:`P_1`, (n, D)."""
        return rng.multivariate_normal(self.mean1, self.cov1, size=n, method="cholesky")

    def conditional_moments(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Exact mean (n, D) and covariance (n, D, D) of :math:`\\pi^*(\\cdot|x)`."""
        gain, offset, cond = gaussian_eot_conditional(
            self.mean0, self.cov0, self.mean1, self.cov1, self.eps
        )
        x = np.asarray(x, dtype=np.float64)
        return offset + x @ gain.T, np.broadcast_to(cond, (x.shape[0], *cond.shape))

    def target_moments(self) -> tuple[np.ndarray, np.ndarray]:
        """Mean and covariance of :math:`P_1`."""
        return self.mean1, self.cov1


def make_gaussian_pair(
    dim: int, eps: float, seed: int, diagonal: bool = True
) -> GaussianPair:
    r"""Random Gaussian pair with eigenvalues in [0.5, 2] and means in [-1, 1]^D.

    ``diagonal=True`` gives diagonal covariances (the LightSB paper's D = 16 check), otherwise
    random rotations of them.
    """
    if dim < 1:
        raise ConfigError(f"dim must be >= 1; got {dim}")
    rng = np.random.default_rng(seed)

    def cov() -> np.ndarray:
        lam = rng.uniform(0.5, 2.0, size=dim)
        if diagonal:
            return np.diag(lam)
        q, r = np.linalg.qr(rng.standard_normal((dim, dim)))
        q = q * np.sign(np.diag(r))
        return (q * lam) @ q.T

    m0, c0 = rng.uniform(-1, 1, size=dim), cov()
    m1, c1 = rng.uniform(-1, 1, size=dim), cov()
    return GaussianPair(m0, c0, m1, c1, float(eps))
