r"""Exact polynomial form of polynomial vector fields, so many systems integrate as one batch.

Most catalogued flows (Lorenz, Rössler, Chen, the Sprott cases, ...) are polynomials of degree
at most 3 in the state. For such a system, with its parameters fixed,

.. math:: f(x) = C^\top \phi(x),\qquad \phi(x) = (1, x_1, \dots, x_d, x_1^2, x_1x_2, \dots)

with a coefficient matrix :math:`C` (n_monomials x d). :func:`fit_polynomial` recovers
:math:`C` by least squares on random states and **verifies** it on fresh states (relative
residual below ``tol``, i.e. exact to rounding); systems that fail the check are not polynomial
(sin, exp, |x|, rational terms) and keep their own right-hand side.

Stacking the per-row :math:`C` turns a batch that mixes any number of polynomial systems of one
dimension into one vectorised evaluation, :math:`f_b(x_b) = C_b^\top\phi(x_b)`, instead of one
Python call per system and stage. The time can also be rescaled per system,
:math:`\tau = t / T_s` (:math:`dx/d\tau = T_s f(x)`), so systems with different periods share one
output grid in units of periods.
"""

from __future__ import annotations

import itertools

import numpy as np

__all__ = ["monomial_indices", "monomials", "fit_polynomial", "poly_rhs"]


def monomial_indices(dim: int, degree: int) -> list[tuple[int, ...]]:
    """Index tuples of all monomials of total degree <= ``degree`` (``()`` is the constant)."""
    out: list[tuple[int, ...]] = []
    for k in range(degree + 1):
        out += list(itertools.combinations_with_replacement(range(dim), k))
    return out


def monomials(x: np.ndarray, degree: int) -> np.ndarray:
    r"""Feature map :math:`\phi(x)`, shape (m, n_monomials), in :func:`monomial_indices` order."""
    m, d = x.shape
    cols = [np.ones((m, 1)), x]
    prev_idx = [(i,) for i in range(d)]
    prev = x
    for _ in range(2, degree + 1):
        # extend each monomial by a variable index >= its last index (combinations w/ replacement)
        a, b, new_idx = [], [], []
        for j, idx in enumerate(prev_idx):
            for i in range(idx[-1], d):
                a.append(j)
                b.append(i)
                new_idx.append(idx + (i,))
        prev = prev[:, a] * x[:, b]
        prev_idx = new_idx
        cols.append(prev)
    return np.concatenate(cols, axis=1)


def fit_polynomial(
    rhs,
    dim: int,
    ic: np.ndarray,
    *,
    max_degree: int = 3,
    tol: float = 1e-9,
    seed: int = 0,
    max_monomials: int = 400,
) -> tuple[np.ndarray, int] | None:
    r"""Coefficients :math:`C` (n_monomials, dim) and degree of a polynomial ``rhs``, or None.

    States are drawn around ``ic`` with scale :math:`\max(|ic|, 1)`; the fit is accepted only if
    on fresh states :math:`\max|C^\top\phi(x) - f(x)| \le tol\,(1 + \max|f(x)|)`. Degrees
    needing more than ``max_monomials`` monomials are not tried (the least-squares fit grows as
    its cube).
    """
    rng = np.random.default_rng(seed)
    ic = np.asarray(ic, float)
    scale = np.maximum(np.abs(ic), 1.0)
    for degree in range(1, max_degree + 1):
        n_mono = len(monomial_indices(dim, degree))
        if n_mono > max_monomials:
            return None
        x = ic + scale * rng.standard_normal((3 * n_mono + 10, dim))
        xt = ic + scale * rng.standard_normal((n_mono + 10, dim))
        try:
            with np.errstate(all="ignore"):
                f, ft = np.asarray(rhs(x), float), np.asarray(rhs(xt), float)
        except (ValueError, FloatingPointError, ZeroDivisionError):
            return None
        if not (np.all(np.isfinite(f)) and np.all(np.isfinite(ft))):
            return None
        phi = monomials(x, degree)
        coef, *_ = np.linalg.lstsq(phi, f, rcond=None)
        big = np.max(np.abs(coef)) if coef.size else 0.0
        coef[np.abs(coef) < 1e-11 * max(big, 1.0)] = 0.0
        resid = np.max(np.abs(monomials(xt, degree) @ coef - ft))
        if resid <= tol * (1.0 + np.max(np.abs(ft))):
            return coef, degree
    return None


def poly_rhs(degree: int):
    """Right-hand side ``f(x, p)`` whose per-row params ``p`` are the flattened coefficients."""

    def f(x: np.ndarray, p: np.ndarray) -> np.ndarray:
        phi = monomials(x, degree)
        coef = p.reshape(x.shape[0], phi.shape[1], x.shape[1])
        return np.matmul(phi[:, None, :], coef)[:, 0]

    return f
