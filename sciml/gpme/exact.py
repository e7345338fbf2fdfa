r"""Closed-form solutions of the problems of ProbConserv: the GPME and two hyperbolic laws.

.. math:: u_t = \partial_x\big(k(u)\,u_x\big) \qquad\text{and}\qquad u_t + \partial_x F(u) = 0

in the variants of ProbConserv (Hansen et al., ICML 2023, App. D), with the exact
conserved total :math:`U(t) = \int u(t, x)\,dx` of each:

* diffusion, :math:`k` constant, periodic on :math:`[0, 2\pi]`: :math:`u = e^{-kt}\sin x`, :math:`U = 0`;
* porous medium, :math:`k(u) = u^m` on :math:`[0, 1]`: :math:`u = (m (t - x)_+)^{1/m}`,
  :math:`U = m^{1 + 1/m} t^{1 + 1/m} / (m + 1)` (for :math:`t \le 1`);
* Stefan, :math:`k(u) = 1\{u \ge u^*\}`: with :math:`z_1` solving
  :math:`u^* \operatorname{erf}(z) z e^{z^2} = (1 - u^*)/\sqrt{\pi}`, :math:`\alpha = 2 z_1`,
  :math:`c_1 = (1 - u^*)/\operatorname{erf}(\alpha/2)`:
  :math:`u = 1 - c_1 \operatorname{erf}(x / (2\sqrt t))` for :math:`x \le \alpha\sqrt t`, else 0;
  :math:`U = 2 c_1 \sqrt{t/\pi}` (while the front is inside the domain);
* linear advection, :math:`F = a u` on :math:`[0, 1]`, :math:`u(0, x) = 1\{x \le 1/2\}`, inflow
  1 at :math:`x = 0`: :math:`u = 1\{x - a t \le 1/2\}` (a jump at :math:`x^* = 1/2 + a t`),
  :math:`U = \min(1/2 + a t, 1)`;
* inviscid Burgers, :math:`F = u^2/2` on :math:`[-1, 1]`, :math:`u(0, x)` = a for :math:`x \le -1`,
  :math:`-a x` on :math:`[-1, 0]`, 0 after: before the characteristics cross (:math:`t < 1/a`)
  :math:`u = a` for :math:`x \le a t - 1`, :math:`a x / (a t - 1)` up to :math:`x = 0`, 0 after; from
  :math:`t = 1/a` a shock from a to 0 at :math:`x^* = (a t - 1)/2`, moving at the
  Rankine-Hugoniot speed :math:`(F(a) - F(0))/(a - 0) = a/2`;
  :math:`U = \min(a (1 + a t)/2, 2a)` (inflow :math:`a^2/2` at :math:`x = -1`, no outflow until the
  shock reaches :math:`x = 1` at :math:`t = 3/a`).

All functions are vectorised: parameters of shape ``(F,)`` (one per function), times ``(T,)`` and
points ``(X,)`` give arrays of shape ``(F, T, X)`` (solutions) or ``(F, T)`` (totals), float64.

References
----------
.. [1] Hansen, Maddix, Alizadeh, Gupta, Mahoney, "Learning Physical Models that Can Respect
   Conservation Laws", ICML 2023, PMLR 202:12469-12510.
.. [2] Vazquez, "The Porous Medium Equation: Mathematical Theory", OUP 2007 (PME travelling wave).
.. [3] Crank, "Free and Moving Boundary Problems", OUP 1984 (Neumann's similarity solution).
.. [4] LeVeque, "Finite Volume Methods for Hyperbolic Problems", CUP 2002, Sec. 11.1-11.8
   (Burgers' compression wave, shock formation and the Rankine-Hugoniot condition).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy.optimize import elementwise
from scipy.special import erf

from sciml.errors import DataError
from sciml.gpme.problems import HYPERBOLIC, get_problem

__all__ = [
    "advection_exact_solution",
    "advection_total_mass",
    "burgers_exact_solution",
    "burgers_total_mass",
    "boundary_fluxes",
    "flux",
    "diffusion_exact_solution",
    "pme_exact_solution",
    "stefan_exact_solution",
    "diffusion_total_mass",
    "pme_total_mass",
    "stefan_total_mass",
    "stefan_alpha",
    "exact_solution",
    "exact_total_mass",
    "front_position",
    "FRONT_PROBLEMS",
]


def _prepare(param: ArrayLike, t: ArrayLike, x: ArrayLike | None = None, name: str = "param"):
    p = np.atleast_1d(np.asarray(param, dtype=np.float64))
    tt = np.atleast_1d(np.asarray(t, dtype=np.float64))
    if p.ndim != 1 or tt.ndim != 1:
        raise DataError(
            f"{name} and t must be scalars or 1-D arrays; got shapes {p.shape}, {tt.shape}"
        )
    for label, arr in ((name, p), ("t", tt)):
        if not np.all(np.isfinite(arr)):
            raise DataError(f"{label} holds non-finite values: {arr[~np.isfinite(arr)][:5]}")
    if np.any(tt < 0):
        raise DataError(f"t must be >= 0; got min {tt.min()}")
    if x is None:
        return p[:, None], tt[None, :]
    xx = np.atleast_1d(np.asarray(x, dtype=np.float64))
    if xx.ndim != 1 or not np.all(np.isfinite(xx)):
        raise DataError(f"x must be a finite 1-D array; got shape {xx.shape}")
    return p[:, None, None], tt[None, :, None], xx[None, None, :]


def diffusion_exact_solution(k: ArrayLike, t: ArrayLike, x: ArrayLike) -> np.ndarray:
    r"""Heat equation :math:`u_t = k u_{xx}` on the circle: :math:`u = e^{-kt} \sin x`, shape (F, T, X)."""
    kk, tt, xx = _prepare(k, t, x, "k")
    if np.any(kk <= 0):
        raise DataError(f"diffusivity k must be > 0; got {kk.ravel()[kk.ravel() <= 0][:5]}")
    return np.exp(-kk * tt) * np.sin(xx)


def diffusion_total_mass(k: ArrayLike, t: ArrayLike) -> np.ndarray:
    r""":math:`U(t) = \int_0^{2\pi} e^{-kt} \sin x\,dx = 0`, shape (F, T)."""
    kk, tt = _prepare(k, t, None, "k")
    return np.zeros(np.broadcast_shapes(kk.shape, tt.shape))


def pme_exact_solution(m: ArrayLike, t: ArrayLike, x: ArrayLike) -> np.ndarray:
    r"""Porous medium equation, :math:`k(u) = u^m`: :math:`u = (m (t - x)_+)^{1/m}`, shape (F, T, X)."""
    mm, tt, xx = _prepare(m, t, x, "m")
    if np.any(mm <= 0):
        raise DataError(f"PME exponent m must be > 0; got {mm.ravel()[mm.ravel() <= 0][:5]}")
    return (mm * np.maximum(tt - xx, 0.0)) ** (1.0 / mm)


def pme_total_mass(m: ArrayLike, t: ArrayLike) -> np.ndarray:
    r""":math:`U(t) = \int_0^1 u\,dx = m^{1+1/m} t^{1+1/m} / (m+1)` for :math:`t \le 1`, shape (F, T)."""
    mm, tt = _prepare(m, t, None, "m")
    if np.any(tt > 1):
        raise DataError("pme_total_mass holds for t <= 1 only (front inside [0, 1])")
    return mm ** (1.0 + 1.0 / mm) * tt ** (1.0 + 1.0 / mm) / (mm + 1.0)


def stefan_alpha(u_star: ArrayLike) -> np.ndarray:
    r"""Front speed :math:`\alpha = 2 z_1` of the Stefan problem, :math:`x^*(t) = \alpha \sqrt t`.

    :math:`z_1` is the root of :math:`u^* \operatorname{erf}(z) z e^{z^2} - (1 - u^*)/\sqrt\pi`,
    found for all values at once by scipy's vectorised bracketing root finder.

    >>> round(float(stefan_alpha(0.6)[0]), 4)
    1.0513
    """
    u = np.atleast_1d(np.asarray(u_star, dtype=np.float64))
    if not np.all((u > 0) & (u < 1)):
        raise DataError(f"u_star must lie in (0, 1); got {u[~((u > 0) & (u < 1))][:5]}")

    def f(z, u):
        return u * erf(z) * z * np.exp(z**2) - (1.0 - u) / np.sqrt(np.pi)

    res = elementwise.find_root(
        f,
        (np.full_like(u, 1e-12), np.full_like(u, 6.0)),
        args=(u,),
        tolerances={"xatol": 1e-15, "xrtol": 1e-15},
    )
    if not np.all(res.success):
        raise DataError(f"no Stefan front root for u_star = {u[~res.success]}")
    return 2.0 * res.x


def _stefan_c1(u: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    return (1.0 - u) / erf(alpha / 2.0)


def stefan_exact_solution(u_star: ArrayLike, t: ArrayLike, x: ArrayLike) -> np.ndarray:
    r"""Stefan problem, :math:`u = 1 - c_1 \operatorname{erf}(x/(2\sqrt t))` behind the front, 0 ahead.

    At :math:`t = 0` the solution is the initial condition: 1 at :math:`x = 0`, 0 elsewhere.
    Shape (F, T, X).
    """
    uu, tt, xx = _prepare(u_star, t, x, "u_star")
    alpha = stefan_alpha(uu.ravel())[:, None, None]
    c1 = _stefan_c1(uu, alpha)
    sqrt_t = np.sqrt(tt)
    with np.errstate(divide="ignore", invalid="ignore"):
        eta = np.where(sqrt_t > 0, xx / (2.0 * np.where(sqrt_t > 0, sqrt_t, 1.0)), np.inf)
    behind = xx <= alpha * sqrt_t
    u = np.where(behind, 1.0 - c1 * erf(eta), 0.0)
    at_origin = (xx == 0) & (tt == 0)
    return np.where(at_origin, 1.0, u)


def stefan_total_mass(u_star: ArrayLike, t: ArrayLike) -> np.ndarray:
    r""":math:`U(t) = 2 c_1 \sqrt{t/\pi}` (front inside the domain), shape (F, T)."""
    uu, tt = _prepare(u_star, t, None, "u_star")
    alpha = stefan_alpha(uu.ravel())[:, None]
    c1 = _stefan_c1(uu, alpha)
    return 2.0 * c1 * np.sqrt(tt / np.pi)


def _positive_speed(a: np.ndarray) -> None:
    if np.any(a <= 0):
        raise DataError(f"speed parameter a must be > 0; got {a.ravel()[a.ravel() <= 0][:5]}")


def advection_exact_solution(a: ArrayLike, t: ArrayLike, x: ArrayLike) -> np.ndarray:
    r"""Linear advection :math:`u_t + a u_x = 0` of :math:`1\{x \le 1/2\}`: :math:`u = 1\{x - a t \le 1/2\}`.

    Shape (F, T, X); on the jump itself u takes the left state 1.
    """
    aa, tt, xx = _prepare(a, t, x, "a")
    _positive_speed(aa)
    return (xx - aa * tt <= 0.5).astype(np.float64)


def advection_total_mass(a: ArrayLike, t: ArrayLike) -> np.ndarray:
    r""":math:`U(t) = \int_0^1 u\,dx = \min(1/2 + a t, 1)`, shape (F, T)."""
    aa, tt = _prepare(a, t, None, "a")
    _positive_speed(aa)
    return np.minimum(0.5 + aa * tt, 1.0)


def burgers_exact_solution(a: ArrayLike, t: ArrayLike, x: ArrayLike) -> np.ndarray:
    r"""Inviscid Burgers :math:`u_t + (u^2/2)_x = 0` of a compression ramp, shape (F, T, X).

    Before breaking (:math:`a t < 1`): :math:`u = a` for :math:`x \le a t - 1`,
    :math:`u = a x / (a t - 1)` for :math:`a t - 1 < x \le 0`, else 0 (each value carried along
    its characteristic :math:`x = x_0 + u_0 t`). From :math:`a t = 1`: :math:`u = a` for
    :math:`x \le (a t - 1)/2`, else 0 (the shock, the left state on it).
    """
    aa, tt, xx = _prepare(a, t, x, "a")
    _positive_speed(aa)
    at1 = aa * tt - 1.0
    before = at1 < 0
    with np.errstate(divide="ignore", invalid="ignore"):
        ramp = np.where(xx <= at1, aa, np.where(xx <= 0, aa * xx / np.where(before, at1, -1.0) + 0.0, 0.0))
    shock = np.where(xx <= 0.5 * at1, aa, 0.0)
    return np.where(before, ramp, shock)


def burgers_total_mass(a: ArrayLike, t: ArrayLike) -> np.ndarray:
    r""":math:`U(t) = \int_{-1}^1 u\,dx = \min(a (1 + a t) / 2, 2 a)`, shape (F, T).

    The inflow :math:`F(a) = a^2/2` at :math:`x = -1` raises the initial :math:`a/2`; once the
    shock leaves through :math:`x = 1` (:math:`t = 3/a`) inflow and outflow balance.
    """
    aa, tt = _prepare(a, t, None, "a")
    _positive_speed(aa)
    return np.minimum(0.5 * aa * (1.0 + aa * tt), 2.0 * aa)


_SOLUTIONS = {
    "diffusion": diffusion_exact_solution,
    "pme": pme_exact_solution,
    "stefan": stefan_exact_solution,
    "advection": advection_exact_solution,
    "burgers": burgers_exact_solution,
}
_TOTALS = {
    "diffusion": diffusion_total_mass,
    "pme": pme_total_mass,
    "stefan": stefan_total_mass,
    "advection": advection_total_mass,
    "burgers": burgers_total_mass,
}


def exact_solution(problem: str, param: ArrayLike, t: ArrayLike, x: ArrayLike) -> np.ndarray:
    """Exact u(t, x) of ``problem`` for each parameter value, shape (F, T, X)."""
    get_problem(problem)
    return _SOLUTIONS[problem](param, t, x)


def exact_total_mass(problem: str, param: ArrayLike, t: ArrayLike) -> np.ndarray:
    """Exact conserved total U(t) of ``problem`` for each parameter value, shape (F, T)."""
    get_problem(problem)
    return _TOTALS[problem](param, t)


def flux(problem: str, param: ArrayLike, u: ArrayLike) -> np.ndarray:
    r"""Flux :math:`F(u)` of a hyperbolic problem: :math:`a u` (advection), :math:`u^2/2` (Burgers).

    Parameters
    ----------
    problem : ``advection`` or ``burgers``.
    param : array_like, shape (F,), the speed a (advection; unused by Burgers).
    u : array_like, shape (F, ...), values.

    Returns
    -------
    ndarray, the shape of ``u``.
    """
    if problem not in HYPERBOLIC:
        raise DataError(f"problem {problem!r} is not hyperbolic; flux() serves {HYPERBOLIC}")
    uu = np.asarray(u, dtype=np.float64)
    if problem == "burgers":
        return 0.5 * uu * uu
    aa = np.asarray(param, dtype=np.float64).reshape((-1,) + (1,) * (uu.ndim - 1))
    return aa * uu


def boundary_fluxes(problem: str, param: ArrayLike, t: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    r"""Fluxes :math:`F(u(t, x_0))` and :math:`F(u(t, x_1))` at the ends of the domain, each (F, T).

    For :math:`u_t + F_x = 0`, :math:`\frac{d}{dt}\int u\,dx = F(u(t, x_0)) - F(u(t, x_1))`
    (:func:`sciml.gpme.total_from_fluxes` integrates it).
    """
    spec = get_problem(problem)
    ends = np.array(spec.x_domain)
    u = exact_solution(problem, param, t, ends)  # (F, T, 2)
    f = flux(problem, param, u)
    return f[..., 0], f[..., 1]


def front_position(problem: str, param: ArrayLike, t: ArrayLike) -> np.ndarray:
    r"""Exact front (shock) position :math:`x^*(t)`, shape (F, T).

    PME: the support of :math:`(m(t - x))_+^{1/m}` ends at :math:`x^* = t`.
    Stefan: :math:`x^* = \alpha \sqrt t`. Advection: the jump at :math:`x^* = 1/2 + a t`.
    Burgers: where u first reaches 0, the foot of the ramp :math:`x^* = 0` before breaking, then the
    shock :math:`x^* = (a t - 1)/2`. Positions are capped at the right end of the domain.
    Diffusion has no front.
    """
    spec = get_problem(problem)
    pp, tt = _prepare(param, t, None, spec.param_name)
    if problem == "pme":
        return np.broadcast_to(tt, np.broadcast_shapes(pp.shape, tt.shape)).copy()
    if problem == "stefan":
        return stefan_alpha(pp.ravel())[:, None] * np.sqrt(tt)
    if problem == "advection":
        return np.minimum(0.5 + pp * tt, spec.x_domain[1])
    if problem == "burgers":
        return np.minimum(np.maximum(0.5 * (pp * tt - 1.0), 0.0), spec.x_domain[1])
    raise DataError(f"problem {problem!r} has no front; {FRONT_PROBLEMS} do")


#: the problems with a front (a shock, a jump or the edge of a support)
FRONT_PROBLEMS: tuple[str, ...] = ("pme", "stefan", "advection", "burgers")
