r"""Compiled right-hand sides of the non-polynomial flows, for the compiled integrators.

Polynomial flows need no code here: :func:`~sciml.chaos.polynomial.fit_polynomial` recovers their
exact coefficient form and one compiled kernel evaluates any of them. The flows below contain
sin/cos, exp, :math:`|x|`, sign or rational terms; each gets a numba function with the signature
``rhs(x, p, out, work)`` (state, the system's parameters in ``param_names`` order, output,
unused scratch), compiled once per machine (``cache=True``) and passed to the kernels by
address, so adding a system never recompiles the integrator.

These are the same equations as the numpy right-hand sides in the family modules (cited there);
``tests/chaos/test_compiled.py`` checks every entry against :meth:`System.rhs` on random states
and perturbed parameters, so the two cannot drift apart. The module imports numba: import it
lazily, through :func:`compiled_rhs`.
"""

from __future__ import annotations

import math

from numba import njit

from ..integrate._kernels import RHS_SIG

__all__ = ["COMPILED_RHS"]


@njit(RHS_SIG, cache=True)
def _anishchenko_astakhov(s, p, out, work):  # pragma: no cover - compiled
    x, y, z = s[0], s[1], s[2]
    mu, eta = p[0], p[1]
    out[0] = mu * x + y - x * z
    out[1] = -x
    out[2] = -eta * z + eta * (x**2 if x > 0 else 0.0)


@njit(RHS_SIG, cache=True)
def _arnold_beltrami_childress(s, p, out, work):  # pragma: no cover - compiled
    x, y, z = s[0], s[1], s[2]
    a, b, c = p[0], p[1], p[2]
    out[0] = a * math.sin(z) + c * math.cos(y)
    out[1] = b * math.sin(x) + a * math.cos(z)
    out[2] = c * math.sin(y) + b * math.cos(x)


@njit(RHS_SIG, cache=True)
def _blasius(s, p, out, work):  # pragma: no cover - compiled
    x, y, z = s[0], s[1], s[2]
    a, b, c, alpha1, alpha2, k1, k2, z_star = p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7]
    f1 = x * y / (1 + k1 * x)
    f2 = y * z / (1 + k2 * y)
    out[0] = a * x - alpha1 * f1
    out[1] = -b * y + alpha1 * f1 - alpha2 * f2
    out[2] = -c * (z - z_star) + alpha2 * f2


@njit(RHS_SIG, cache=True)
def _chua(s, p, out, work):  # pragma: no cover - compiled
    x, y, z = s[0], s[1], s[2]
    alpha, beta, m0, m1 = p[0], p[1], p[2], p[3]
    g = m1 * x + 0.5 * (m0 - m1) * (abs(x + 1) - abs(x - 1))
    out[0] = alpha * (y - x - g)
    out[1] = x - y + z
    out[2] = -beta * y


@njit(RHS_SIG, cache=True)
def _colpitts(s, p, out, work):  # pragma: no cover - compiled
    x1, x2, x3 = s[0], s[1], s[2]
    g, q, k = p[0], p[1], p[2]
    out[0] = g / (q * (1 - k)) * (-(math.exp(-x2) - 1) + x3)
    out[1] = g / (q * k) * x3
    out[2] = -q * k * (1 - k) / g * (x1 + x2) - x3 / q


@njit(RHS_SIG, cache=True)
def _double_pendulum(s, p, out, work):  # pragma: no cover - compiled
    t1, t2, w1, w2 = s[0], s[1], s[2], s[3]
    m1, m2, l1, l2, g = p[0], p[1], p[2], p[3], p[4]
    d = t1 - t2
    big_m = m1 + m2
    den = 2 * m1 + m2 - m2 * math.cos(2 * d)
    n1 = (
        -g * (2 * m1 + m2) * math.sin(t1)
        - m2 * g * math.sin(t1 - 2 * t2)
        - 2 * m2 * math.sin(d) * (w2**2 * l2 + w1**2 * l1 * math.cos(d))
    )
    inner = w1**2 * l1 * big_m + g * big_m * math.cos(t1) + w2**2 * l2 * m2 * math.cos(d)
    n2 = 2 * math.sin(d) * inner
    out[0] = w1
    out[1] = w2
    out[2] = n1 / (l1 * den)
    out[3] = n2 / (l2 * den)


@njit(RHS_SIG, cache=True)
def _forced_pendulum(s, p, out, work):  # pragma: no cover - compiled
    th, v, u, w = s[0], s[1], s[2], s[3]
    q, g, omega = p[0], p[1], p[2]
    out[0] = v
    out[1] = -v / q - math.sin(th) + g * u
    out[2] = -omega * w
    out[3] = omega * u


@njit(RHS_SIG, cache=True)
def _hastings_powell(s, p, out, work):  # pragma: no cover - compiled
    x, y, z = s[0], s[1], s[2]
    a1, b1, a2, b2, d1, d2 = p[0], p[1], p[2], p[3], p[4], p[5]
    f1 = a1 * x / (1 + b1 * x)
    f2 = a2 * y / (1 + b2 * y)
    out[0] = x * (1 - x) - f1 * y
    out[1] = f1 * y - f2 * z - d1 * y
    out[2] = f2 * z - d2 * z


@njit(RHS_SIG, cache=True)
def _itik_banks(s, p, out, work):  # pragma: no cover - compiled
    x, y, z = s[0], s[1], s[2]
    a12, a13, a21, a31, r2, r3, k3, d3 = p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7]
    out[0] = x * (1 - x) - a12 * x * y - a13 * x * z
    out[1] = r2 * y * (1 - y) - a21 * x * y
    out[2] = r3 * x * z / (x + k3) - a31 * x * z - d3 * z


@njit(RHS_SIG, cache=True)
def _linz_sprott(s, p, out, work):  # pragma: no cover - compiled
    x, y, z = s[0], s[1], s[2]
    out[0] = y
    out[1] = z
    out[2] = -p[0] * z - y + abs(x) - 1


@njit(RHS_SIG, cache=True)
def _sprott_more(s, p, out, work):  # pragma: no cover - compiled
    x, y, z = s[0], s[1], s[2]
    sign_z = 1.0 if z > 0 else (-1.0 if z < 0 else (0.0 if z == 0 else z))
    out[0] = y
    out[1] = -x - sign_z * y
    out[2] = y**2 - p[0] * math.exp(-(x**2))


@njit(RHS_SIG, cache=True)
def _thomas(s, p, out, work):  # pragma: no cover - compiled
    x, y, z = s[0], s[1], s[2]
    b = p[0]
    out[0] = math.sin(y) - b * x
    out[1] = math.sin(z) - b * y
    out[2] = math.sin(x) - b * z


@njit(RHS_SIG, cache=True)
def _windmi(s, p, out, work):  # pragma: no cover - compiled
    x, y, z = s[0], s[1], s[2]
    out[0] = y
    out[1] = z
    out[2] = -p[0] * z - y + p[1] - math.exp(x)


@njit(RHS_SIG, cache=True)
def _yu_wang(s, p, out, work):  # pragma: no cover - compiled
    x, y, z = s[0], s[1], s[2]
    a, b, c, d = p[0], p[1], p[2], p[3]
    out[0] = a * (y - x)
    out[1] = b * x - c * x * z
    out[2] = math.exp(x * y) - d * z


#: ``{system name: compiled rhs}`` for the flows that are not polynomials.
COMPILED_RHS = {
    "AnishchenkoAstakhov": _anishchenko_astakhov,
    "ArnoldBeltramiChildress": _arnold_beltrami_childress,
    "Blasius": _blasius,
    "Chua": _chua,
    "Colpitts": _colpitts,
    "DoublePendulum": _double_pendulum,
    "ForcedPendulum": _forced_pendulum,
    "HastingsPowell": _hastings_powell,
    "ItikBanks": _itik_banks,
    "LinzSprott": _linz_sprott,
    "SprottMore": _sprott_more,
    "Thomas": _thomas,
    "Windmi": _windmi,
    "YuWang": _yu_wang,
}
