r"""Invariants of chaotic systems, one consistent estimator set for the whole catalogue.

* dominant period: periodogram peak with Fisher's g test of significance [F29]_;
* full Lyapunov spectrum: QR (Benettin) method on the tangent dynamics
  :math:`\dot Q = J(x) Q` with the analytic Jacobian, batched over initial conditions [B80]_;
* maximum exponent cross-check: two nearby trajectories with periodic renormalisation [B80]_
  (also the only estimator used for delay systems, whose tangent space is infinite-dimensional);
* Kaplan-Yorke dimension and Pesin entropy from that same spectrum [KY79]_, [P77]_;
* correlation dimension: Grassberger-Procaccia correlation sum with a Theiler window [GP83]_.

Standard errors are over several on-attractor initial conditions (Gilpin 2021, sec. 3).

References
----------
.. [B80] G. Benettin, L. Galgani, A. Giorgilli, J.-M. Strelcyn, "Lyapunov characteristic exponents
   for smooth dynamical systems...", Meccanica 15 (1980) 9-30.
.. [KY79] J. Kaplan and J. Yorke, "Chaotic behavior of multidimensional difference equations",
   Lecture Notes in Math. 730 (1979) 204-227.
.. [P77] Ya. B. Pesin, "Characteristic Lyapunov exponents and smooth ergodic theory",
   Russ. Math. Surveys 32 (1977) 55-114.
.. [GP83] P. Grassberger and I. Procaccia, "Measuring the strangeness of strange attractors",
   Physica D 9 (1983) 189-208.
.. [F29] R. A. Fisher, "Tests of significance in harmonic analysis", Proc. R. Soc. A 125 (1929)
   54-59.
"""

from __future__ import annotations

import logging
import math

import numpy as np
from scipy.spatial.distance import pdist
from scipy.special import gammaln

from sciml.errors import ConfigError, DataError, DivergenceError

from .integrate import dde_steps, solve_ode
from .trajectory import make_trajectory, sample_ics

__all__ = [
    "dominant_period",
    "fisher_g_pvalue",
    "lyapunov_spectrum",
    "max_lyapunov_two_trajectory",
    "kaplan_yorke_dimension",
    "pesin_entropy",
    "correlation_dimension",
    "estimate_invariants",
    "INVARIANT_FIELDS",
    "failed_invariants",
]

logger = logging.getLogger(__name__)


# ----------------------------------------------------------------------------------------------
# Period
# ----------------------------------------------------------------------------------------------


def fisher_g_pvalue(g: np.ndarray, m: int) -> np.ndarray:
    r"""P-value of Fisher's g statistic under Gaussian white noise.

    .. math:: P(G > g) = \sum_{k=1}^{\lfloor 1/g\rfloor} (-1)^{k-1}\binom{m}{k}(1-kg)^{m-1}

    Parameters
    ----------
    g : ndarray -- largest periodogram ordinate over their sum; m : number of ordinates.

    Returns
    -------
    ndarray, same shape as ``g``, clipped to [0, 1].
    """
    g = np.asarray(g, dtype=np.float64)
    flat = g.ravel()
    out = np.empty_like(flat)
    for i, gi in enumerate(flat):
        if gi <= 0:
            out[i] = 1.0
            continue
        kmax = min(int(math.floor(1.0 / gi)), m)
        k = np.arange(1, kmax + 1)
        base = 1.0 - k * gi
        pos = base > 0
        k, base = k[pos], base[pos]
        logt = gammaln(m + 1) - gammaln(k + 1) - gammaln(m - k + 1) + (m - 1) * np.log(base)
        out[i] = float(np.sum((-1.0) ** (k - 1) * np.exp(logt)))
    return np.clip(out, 0.0, 1.0).reshape(g.shape)


def dominant_period(
    x: np.ndarray, dt: float, *, alpha: float = 0.01
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""Dominant period from the periodogram, with Fisher's g test.

    For each series (and each coordinate) the mean is removed and the periodogram
    :math:`I(f_j) = |\sum_t x_t e^{-2\pi i f_j t}|^2` computed at the Fourier frequencies
    :math:`0 < f_j < 1/(2\Delta t)`; the coordinate with the largest
    :math:`g = \max_j I(f_j) / \sum_j I(f_j)` gives :math:`T = 1/f_{j^*}`.

    Parameters
    ----------
    x : ndarray, shape (..., n) or (..., n, d) -- time along axis -2 when 3-D or more,
        else along the last axis (1-D series).
    dt : sampling step; alpha : significance level.

    Returns
    -------
    period : ndarray (...,); pvalue : ndarray (...,); significant : bool ndarray (...,)
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 1:
        x = x[:, None]
    if x.shape[-2] < 8:
        raise DataError(f"need at least 8 time points for a period; got {x.shape[-2]}")
    n = x.shape[-2]
    xc = x - x.mean(axis=-2, keepdims=True)
    spec = np.abs(np.fft.rfft(xc, axis=-2)) ** 2
    freqs = np.fft.rfftfreq(n, d=dt)
    inner = slice(1, n // 2 if n % 2 == 0 else n // 2 + 1)
    s = spec[..., inner, :]
    f = freqs[inner]
    tot = s.sum(axis=-2)
    g = np.where(tot > 0, s.max(axis=-2) / np.where(tot > 0, tot, 1.0), 0.0)  # (..., d)
    best = np.argmax(g, axis=-1)
    gb = np.take_along_axis(g, best[..., None], axis=-1)[..., 0]
    jbest = np.argmax(s, axis=-2)  # (..., d)
    jb = np.take_along_axis(jbest, best[..., None], axis=-1)[..., 0]
    period = 1.0 / f[jb]
    pval = fisher_g_pvalue(gb, s.shape[-2])
    return period, pval, pval < alpha


# ----------------------------------------------------------------------------------------------
# Lyapunov exponents
# ----------------------------------------------------------------------------------------------


def _qr_logs(Q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Batched QR with positive diagonal: returns (Q, log|diag R|)."""
    q, r = np.linalg.qr(Q)
    d = np.diagonal(r, axis1=-2, axis2=-1)
    sgn = np.where(d < 0, -1.0, 1.0)
    q = q * sgn[..., None, :]
    return q, np.log(np.maximum(np.abs(d), 1e-300))


def lyapunov_spectrum(
    system,
    *,
    n_ics: int = 4,
    n_periods: float = 200.0,
    qr_per_period: float = 4.0,
    warmup: float = 0.1,
    params: np.ndarray | None = None,
    ics: np.ndarray | None = None,
    seed: int = 0,
    rtol: float = 1e-7,
    atol: float = 1e-7,
    n_iter: int = 20_000,
    max_steps: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    r"""Full Lyapunov spectrum by the QR (Benettin) method, batched over initial conditions.

    Flows integrate :math:`\dot x = f(x)`, :math:`\dot Q = J(x) Q` (DOP853); every
    :math:`\tau = T/\text{qr\_per\_period}` the tangent basis is re-orthonormalised,
    :math:`Q R = Q(t)`, and :math:`\lambda_i = \frac{1}{t}\sum \ln R_{ii}`. Maps use
    :math:`Q_{n+1} R_{n+1} = J(x_n) Q_n` every iterate. The first ``warmup`` fraction of the run
    aligns the basis and is not averaged.

    Parameters
    ----------
    system : System (flow or map); n_ics : initial conditions (sampled on the attractor unless
        ``ics`` is given); n_periods : run length in periods (maps: ``n_iter`` iterates).

    max_steps : step budget of each tangent integration (default 500 per period + 1000); a
        trajectory that exceeds it (a stiff system) gets a NaN spectrum.

    Returns
    -------
    spectra : ndarray, shape (n_ics, dim), sorted descending (per unit time / per iterate).
    mean_se : ndarray, shape (2, dim) -- mean over ICs and its standard error.

    Raises
    ------
    ConfigError
        For delay systems (infinite-dimensional tangent space): use
        :func:`max_lyapunov_two_trajectory`.

    References
    ----------
    .. [B80] Benettin et al., Meccanica 15 (1980) 9-30.
    """
    if system.kind == "delay":
        raise ConfigError(
            f"{system.name!r} is a delay system; its spectrum needs a discretised history: "
            "use max_lyapunov_two_trajectory"
        )
    d = system.dim
    x0 = sample_ics(system, n_ics, seed=seed, params=params) if ics is None else np.atleast_2d(ics)
    b = x0.shape[0]
    p = None if params is None else np.broadcast_to(np.asarray(params, float), (b, system.n_params))
    Q0 = np.broadcast_to(np.eye(d), (b, d, d))
    if system.kind == "map":
        n_warm = int(warmup * n_iter)
        x, Q = x0.copy(), Q0.copy()
        acc = np.zeros((b, d))
        for i in range(n_iter):
            J = system.jac(x, p)
            x = system.rhs(x, p)
            Q, logs = _qr_logs(J @ Q)
            if i >= n_warm:
                acc += logs
        spectra = acc / (n_iter - n_warm)
    else:
        tau = system.period / qr_per_period
        n_qr = int(np.ceil(n_periods * qr_per_period))
        n_warm = int(warmup * n_qr)
        t = tau * np.arange(n_qr + 1)
        acc = np.zeros((b, d))

        def f_aug(z, pp):
            x = z[:, :d]
            Qm = z[:, d:].reshape(-1, d, d)
            return np.concatenate([system.rhs(x, pp), (system.jac(x, pp) @ Qm).reshape(-1, d * d)],
                                  axis=1)

        def renorm(rows, k, z):
            Qm = z[:, d:].reshape(-1, d, d)
            q, logs = _qr_logs(Qm)
            use = k > n_warm
            acc[rows[use]] += logs[use]
            z = z.copy()
            z[:, d:] = q.reshape(-1, d * d)
            return z

        z0 = np.concatenate([x0, Q0.reshape(b, d * d)], axis=1)
        res = solve_ode(f_aug, z0, t, p, rtol=rtol, atol=atol, callback=renorm,
                        max_steps=max_steps or int(500 * n_periods) + 1000)
        spectra = acc / (tau * (n_qr - n_warm))
        spectra[res.status != 0] = np.nan
    spectra = -np.sort(-spectra, axis=1)
    return spectra, _mean_se(spectra)


def _mean_se(v: np.ndarray) -> np.ndarray:
    """Mean over axis 0 and its standard error (NaN where fewer than 2 finite values)."""
    v = np.asarray(v, float)
    fin = np.isfinite(v)
    n = fin.sum(axis=0)
    vz = np.where(fin, v, 0.0)
    mean = np.where(n > 0, vz.sum(axis=0) / np.maximum(n, 1), np.nan)
    dev = np.where(fin, v - mean, 0.0)
    var = (dev**2).sum(axis=0) / np.maximum(n - 1, 1)
    se = np.where(n > 1, np.sqrt(var / np.maximum(n, 1)), np.nan)
    return np.stack([mean, se])


def max_lyapunov_two_trajectory(
    system,
    *,
    n_ics: int = 4,
    n_periods: float = 200.0,
    renorm_per_period: float = 2.0,
    d0: float = 1e-7,
    warmup: float = 0.1,
    params: np.ndarray | None = None,
    ics: np.ndarray | None = None,
    seed: int = 0,
    rtol: float = 1e-8,
    atol: float = 1e-10,
    n_iter: int = 20_000,
    max_steps: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    r"""Maximum exponent from the divergence of two nearby trajectories.

    A copy :math:`x' = x + d_0 u` evolves beside :math:`x`; every :math:`\tau` the separation
    :math:`d = \|x' - x\|` is logged and reset to :math:`d_0` along its direction,
    :math:`\lambda_1 = \frac{1}{t}\sum\ln(d/d_0)` [B80]_. For delay systems the separation is the
    Euclidean norm of the whole discretised history segment, which is rescaled as a block.

    Returns
    -------
    lam : ndarray, shape (n_ics,); mean_se : ndarray, shape (2,)
    """
    rng = np.random.default_rng(seed + 7919)
    d = system.dim
    x0 = sample_ics(system, n_ics, seed=seed, params=params) if ics is None else np.atleast_2d(ics)
    b = x0.shape[0]
    p = None if params is None else np.broadcast_to(np.asarray(params, float), (b, system.n_params))
    u = rng.standard_normal((b, d))
    u /= np.linalg.norm(u, axis=1, keepdims=True)
    acc = np.zeros(b)
    if system.kind == "map":
        x, y = x0.copy(), x0 + d0 * u
        n_warm = int(warmup * n_iter)
        for i in range(n_iter):
            x, y = system.rhs(x, p), system.rhs(y, p)
            sep = np.linalg.norm(y - x, axis=1)
            if i >= n_warm:
                acc += np.log(sep / d0)
            y = x + (y - x) * (d0 / sep)[:, None]
        lam = acc / (n_iter - n_warm)
        return lam, _mean_se(lam[:, None])[:, 0]
    if system.kind == "delay":
        m = 64
        h = system.delay / m
        steps = max(1, int(round(system.period / renorm_per_period / h)))
        n_seg = int(np.ceil(n_periods * renorm_per_period))
        n_warm = int(warmup * n_seg)
        X = np.broadcast_to(x0[None], (m + 1, b, d)).copy()
        F = np.zeros_like(X)
        # settle on the attractor with a real history before the copy is made
        X, F, _ = dde_steps(system.rhs, X, F, 4 * m, h, p)
        X, F = X[-(m + 1):], F[-(m + 1):]
        pert = rng.standard_normal(X.shape)
        pert /= np.sqrt(np.sum(pert**2, axis=(0, 2)))[None, :, None]
        X2 = np.concatenate([X, X + d0 * pert], axis=1)
        F2 = np.concatenate([F, F], axis=1)
        F2[:, b:] = system.rhs(X2[:, b:], np.roll(X2[:, b:], m, axis=0), None if p is None
                               else np.concatenate([p, p])[b:])  # rough; refreshed by stepping
        pp = None if p is None else np.concatenate([p, p])
        for k in range(n_seg):
            X2, F2, _ = dde_steps(system.rhs, X2, F2, steps, h, pp)
            X2, F2 = X2[-(m + 1):], F2[-(m + 1):]
            diff = X2[:, b:] - X2[:, :b]
            sep = np.sqrt(np.sum(diff**2, axis=(0, 2)))
            if k >= n_warm:
                acc += np.log(sep / d0)
            scale = (d0 / sep)[None, :, None]
            X2[:, b:] = X2[:, :b] + diff * scale
            F2[:, b:] = F2[:, :b] + (F2[:, b:] - F2[:, :b]) * scale
        lam = acc / ((n_seg - n_warm) * steps * h)
        return lam, _mean_se(lam[:, None])[:, 0]
    tau = system.period / renorm_per_period
    n_seg = int(np.ceil(n_periods * renorm_per_period))
    n_warm = int(warmup * n_seg)
    t = tau * np.arange(n_seg + 1)

    def f_pair(z, pp):
        return np.concatenate([system.rhs(z[:, :d], pp), system.rhs(z[:, d:], pp)], axis=1)

    def renorm(rows, k, z):
        diff = z[:, d:] - z[:, :d]
        sep = np.linalg.norm(diff, axis=1)
        use = k > n_warm
        acc[rows[use]] += np.log(sep[use] / d0)
        z = z.copy()
        z[:, d:] = z[:, :d] + diff * (d0 / sep)[:, None]
        return z

    z0 = np.concatenate([x0, x0 + d0 * u], axis=1)
    res = solve_ode(f_pair, z0, t, p, rtol=rtol, atol=atol, callback=renorm,
                    max_steps=max_steps or int(500 * n_periods) + 1000)
    lam = acc / (tau * (n_seg - n_warm))
    lam[res.status != 0] = np.nan
    return lam, _mean_se(lam[:, None])[:, 0]


def kaplan_yorke_dimension(spectrum: np.ndarray) -> np.ndarray:
    r"""Kaplan-Yorke (Lyapunov) dimension of sorted spectra.

    .. math:: D_{KY} = k + \frac{\sum_{i\le k}\lambda_i}{|\lambda_{k+1}|},\quad
              k = \max\{j : \textstyle\sum_{i\le j}\lambda_i \ge 0\}

    ``k = 0`` (all partial sums negative) gives 0; ``k = d`` gives ``d`` (no contraction: the
    estimate is unreliable and flagged by :func:`estimate_invariants`).

    Parameters
    ----------
    spectrum : ndarray, shape (..., d), descending.

    Returns
    -------
    ndarray, shape (...)

    Examples
    --------
    >>> float(kaplan_yorke_dimension(np.array([0.9, 0.0, -14.57])))  # doctest: +ELLIPSIS
    2.06...
    """
    lam = -np.sort(-np.asarray(spectrum, dtype=np.float64), axis=-1)
    cs = np.cumsum(lam, axis=-1)
    d = lam.shape[-1]
    k = np.sum(cs >= 0, axis=-1)  # partial sums decrease after the positive exponents
    # k counts the leading non-negative partial sums (they are contiguous from the left when
    # the spectrum is descending and its sum negative)
    kk = np.clip(k, 1, d - 1)
    num = np.take_along_axis(cs, (kk - 1)[..., None], axis=-1)[..., 0]
    den = np.abs(np.take_along_axis(lam, kk[..., None], axis=-1)[..., 0])
    val = kk + num / np.where(den > 0, den, np.inf)
    return np.where(k == 0, 0.0, np.where(k >= d, float(d), val))


def pesin_entropy(spectrum: np.ndarray) -> np.ndarray:
    r"""Pesin upper bound of the Kolmogorov-Sinai entropy, :math:`h_{KS} = \sum_i \lambda_i^+`."""
    return np.sum(np.maximum(np.asarray(spectrum, float), 0.0), axis=-1)


def correlation_dimension(
    x: np.ndarray,
    *,
    n_points: int = 2000,
    theiler: int = 10,
    c_range: tuple[float, float] = (1e-3, 1e-1),
    n_radii: int = 24,
) -> np.ndarray:
    r"""Grassberger-Procaccia correlation dimension.

    .. math:: C(r) = \frac{2}{N_p}\sum_{i<j,\ |i-j|>w}\Theta(r - \|x_i - x_j\|),\qquad
              D_2 = \frac{d\ln C}{d\ln r}

    fitted by least squares over the radii where :math:`C(r)` lies in ``c_range`` (the scaling
    region between the noise/sampling floor and the attractor's size). Coordinates are
    standardised first; ``n_points`` evenly strided points are used.

    Parameters
    ----------
    x : ndarray, shape (..., n, d) -- trajectories; theiler : window :math:`w` in kept points.

    Returns
    -------
    ndarray, shape (...) -- NaN where the fit has fewer than 4 radii.
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 2:
        return correlation_dimension(x[None], n_points=n_points, theiler=theiler,
                                     c_range=c_range, n_radii=n_radii)[0]
    lead = x.shape[:-2]
    flat = x.reshape((-1,) + x.shape[-2:])
    res = np.full(flat.shape[0], np.nan)
    for i, traj in enumerate(flat):
        traj = traj[np.all(np.isfinite(traj), axis=1)]
        if len(traj) < 50:
            continue
        stride = max(1, len(traj) // n_points)
        pts = traj[::stride][:n_points]
        sd = pts.std(axis=0)
        pts = (pts - pts.mean(axis=0)) / np.where(sd > 0, sd, 1.0)
        dist = pdist(pts)
        n = len(pts)
        ii, jj = np.triu_indices(n, k=1)
        dist = dist[(jj - ii) > theiler]
        dist = np.sort(dist[dist > 0])
        if dist.size < 100:
            continue
        lo = dist[int(c_range[0] * dist.size)]
        hi = dist[min(int(c_range[1] * dist.size), dist.size - 1)]
        if not hi > lo > 0:
            continue
        r = np.geomspace(lo, hi, n_radii)
        c = np.searchsorted(dist, r, side="right") / dist.size
        ok = c > 0
        if ok.sum() < 4:
            continue
        slope = np.polyfit(np.log(r[ok]), np.log(c[ok]), 1)[0]
        res[i] = slope
    return res.reshape(lead)


# ----------------------------------------------------------------------------------------------
# Everything for one system
# ----------------------------------------------------------------------------------------------

#: Scalar fields returned by :func:`estimate_invariants` (each with a ``_se`` twin).
INVARIANT_FIELDS = (
    "period",
    "lyapunov_max",
    "lyapunov_max_two_traj",
    "lyapunov_sum",
    "kaplan_yorke",
    "pesin_entropy",
    "correlation_dimension",
)


def estimate_invariants(
    system,
    *,
    n_ics: int = 4,
    n_periods: float = 100.0,
    corr_periods: float = 200.0,
    seed: int = 0,
    rtol: float = 1e-7,
    atol: float = 1e-7,
    n_iter: int = 10_000,
    max_steps: int | None = None,
) -> dict:
    """All invariants of one system with standard errors over ``n_ics`` initial conditions.

    Returns
    -------
    dict
        ``name``, ``dim``, ``kind``; for each of :data:`INVARIANT_FIELDS` the mean and ``<f>_se``;
        ``spectrum`` (mean, length dim; NaN for delay systems), ``spectrum_se``,
        ``period_pvalue``, ``period_significant``; ``flags`` -- a list of reliability warnings
        (``"ky_gt_dim"``, ``"ky_eq_dim"``, ``"no_positive_exponent"``,
        ``"qr_two_traj_disagree"``, ``"period_not_significant"``, ``"corr_dim_gt_ky"``,
        ``"delay_no_spectrum"``, ``"spectrum_failed"``, ``"two_traj_failed"``) and
        ``reliable`` (no flag except the period one).
    """
    d = system.dim
    ics = sample_ics(system, n_ics, seed=seed)
    out: dict = {"name": system.name, "dim": int(d), "kind": system.kind}
    flags: list[str] = []
    # trajectories for the period and the correlation dimension
    try:
        if system.kind == "map":
            traj = make_trajectory(system, 4000, ic=ics, seed=seed).x
            per = np.ones(len(traj))
            pv = np.zeros(len(traj))
            sig = np.ones(len(traj), bool)
        else:
            ppp = 40
            n_pts = int(corr_periods * ppp)
            # explicit with a step budget for every flow (stiff ones included): the tangent
            # integrations are explicit too, and a budget overrun is flagged, not waited for
            traj = make_trajectory(system, n_pts, pts_per_period=ppp, ic=ics, seed=seed,
                                   rtol=rtol, atol=atol,
                                   method="DOP853" if system.kind == "flow" else None,
                                   max_steps=max_steps or int(500 * corr_periods) + 1000).x
            dt = system.period * n_pts / (ppp * (n_pts - 1))
            per, pv, sig = dominant_period(traj, dt)
    except DivergenceError as exc:
        logger.warning("%s: trajectory for period/D2 failed: %s", system.name, exc)
        flags.append("trajectory_failed")
        traj = np.full((1, 100, d), np.nan)
        per, pv, sig = np.full(1, np.nan), np.full(1, np.nan), np.zeros(1, bool)
    out["period"], out["period_se"] = (float(v) for v in _mean_se(per[:, None])[:, 0])
    out["period_pvalue"] = float(np.nanmax(pv)) if np.isfinite(pv).any() else float("nan")
    out["period_significant"] = bool(np.all(sig))
    if not out["period_significant"]:
        flags.append("period_not_significant")
    cd = correlation_dimension(traj)
    out["correlation_dimension"], out["correlation_dimension_se"] = (
        float(v) for v in _mean_se(cd[:, None])[:, 0])
    spectra = np.full((len(ics), d), np.nan)
    if system.kind == "delay":
        flags.append("delay_no_spectrum")
    else:
        try:
            spectra, _ = lyapunov_spectrum(system, ics=ics, n_periods=n_periods, rtol=rtol,
                                           atol=atol, n_iter=n_iter, seed=seed,
                                           max_steps=max_steps)
        except DivergenceError as exc:
            logger.warning("%s: QR spectrum failed: %s", system.name, exc)
        if not np.all(np.isfinite(spectra)):
            flags.append("spectrum_failed")
    try:
        lam2, _ = max_lyapunov_two_trajectory(system, ics=ics, n_periods=n_periods, seed=seed,
                                              n_iter=n_iter, max_steps=max_steps)
    except DivergenceError as exc:
        logger.warning("%s: two-trajectory exponent failed: %s", system.name, exc)
        lam2 = np.full(len(ics), np.nan)
    if not np.all(np.isfinite(lam2)):
        flags.append("two_traj_failed")
    ms = _mean_se(spectra)
    out["spectrum"] = [float(v) for v in ms[0]]
    out["spectrum_se"] = [float(v) for v in ms[1]]
    ky = kaplan_yorke_dimension(spectra) if system.kind != "delay" else np.full(len(ics), np.nan)
    pes = pesin_entropy(spectra) if system.kind != "delay" else np.full(len(ics), np.nan)
    for key, val in (
        ("lyapunov_max", spectra[:, 0]),
        ("lyapunov_max_two_traj", lam2),
        ("lyapunov_sum", spectra.sum(axis=1)),
        ("kaplan_yorke", ky),
        ("pesin_entropy", pes),
    ):
        m, s = _mean_se(np.asarray(val, float)[:, None])[:, 0]
        out[key], out[f"{key}_se"] = float(m), float(s)
    if system.kind == "delay":
        out["lyapunov_max"] = out["lyapunov_max_two_traj"]
        out["lyapunov_max_se"] = out["lyapunov_max_two_traj_se"]
    lm, l2 = out["lyapunov_max"], out["lyapunov_max_two_traj"]
    if np.isfinite(lm) and lm <= 0:
        flags.append("no_positive_exponent")
    if np.isfinite(lm) and abs(lm - l2) > max(0.1 * abs(lm), 0.02, 3 * np.hypot(
            out["lyapunov_max_se"] or 0.0, out["lyapunov_max_two_traj_se"] or 0.0)):
        flags.append("qr_two_traj_disagree")
    if np.isfinite(out["kaplan_yorke"]):
        if out["kaplan_yorke"] > d - 1e-9:
            flags.append("ky_eq_dim" if abs(out["kaplan_yorke"] - d) < 1e-9 else "ky_gt_dim")
        if np.isfinite(out["correlation_dimension"]) and (
                out["correlation_dimension"] > out["kaplan_yorke"] + 0.5):
            flags.append("corr_dim_gt_ky")
    out["flags"] = flags
    out["reliable"] = not [f for f in flags if f != "period_not_significant"]
    return out


def failed_invariants(system, reason: str) -> dict:
    """A record shaped like :func:`estimate_invariants`' with NaN values and a ``failed`` flag."""
    out: dict = {"name": system.name, "dim": int(system.dim), "kind": system.kind}
    for f in INVARIANT_FIELDS:
        out[f] = out[f"{f}_se"] = float("nan")
    out["spectrum"] = [float("nan")] * int(system.dim)
    out["spectrum_se"] = [float("nan")] * int(system.dim)
    out["period_pvalue"] = float("nan")
    out["period_significant"] = False
    out["flags"] = [f"failed: {reason}"[:200]]
    out["reliable"] = False
    return out
