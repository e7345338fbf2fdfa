"""Sprott's algebraically simple flows (cases A-S) and chaotic jerk equations ``x''' = J(x, x', x'')``.

Cases A-S follow Sprott, "Some simple chaotic flows", Phys. Rev. E 50, R647 (1994), Table I, with
the non-unit coefficients exposed as parameters (named as in Sprott's "Dynamic regions in simple
chaotic flows" technote where it names them). Jerk systems are written as first-order systems
``x' = y, y' = z, z' = J(x, y, z)``.
"""

from __future__ import annotations

import numpy as np

from ._base import Spec, matrix, stack, unpack

__all__ = ["SPECS"]


def _a(s, a):
    x, y, z = unpack(s)
    return stack(y, -x + y * z, a - y**2)


def _a_jac(s, a):
    x, y, z = unpack(s)
    return matrix([[0, 1, 0], [-1, z, y], [0, -2 * y, 0]])


def _b(s, a):
    x, y, z = unpack(s)
    return stack(y * z, x - y, a - x * y)


def _b_jac(s, a):
    x, y, z = unpack(s)
    return matrix([[0, z, y], [1, -1, 0], [-y, -x, 0]])


def _c(s, a):
    x, y, z = unpack(s)
    return stack(y * z, x - y, a - x**2)


def _c_jac(s, a):
    x, y, z = unpack(s)
    return matrix([[0, z, y], [1, -1, 0], [-2 * x, 0, 0]])


def _d(s, a):
    x, y, z = unpack(s)
    return stack(-y, x + z, x * z + a * y**2)


def _d_jac(s, a):
    x, y, z = unpack(s)
    return matrix([[0, -1, 0], [1, 0, 1], [z, 2 * a * y, x]])


def _e(s, a):
    x, y, z = unpack(s)
    return stack(y * z, x**2 - y, 1 - a * x)


def _e_jac(s, a):
    x, y, z = unpack(s)
    return matrix([[0, z, y], [2 * x, -1, 0], [-a, 0, 0]])


def _f(s, a, b):
    x, y, z = unpack(s)
    return stack(y + z, -x + a * y, x**2 - b * z)


def _f_jac(s, a, b):
    x, y, z = unpack(s)
    return matrix([[0, 1, 1], [-1, a, 0], [2 * x, 0, -b]])


def _g(s, a, b):
    x, y, z = unpack(s)
    return stack(a * x + b * z, x * z - y, -x + y)


def _g_jac(s, a, b):
    x, y, z = unpack(s)
    return matrix([[a, 0, b], [z, -1, x], [-1, 1, 0]])


def _h(s, a, b):
    x, y, z = unpack(s)
    return stack(-y + z**2, x + a * y, x - b * z)


def _h_jac(s, a, b):
    x, y, z = unpack(s)
    return matrix([[0, -1, 2 * z], [1, a, 0], [1, 0, -b]])


def _i(s, a, b):
    x, y, z = unpack(s)
    return stack(-a * y, x + z, x + y**2 - b * z)


def _i_jac(s, a, b):
    x, y, z = unpack(s)
    return matrix([[0, -a, 0], [1, 0, 1], [1, 2 * y, -b]])


def _j(s, a, b):
    x, y, z = unpack(s)
    return stack(a * z, -b * y + z, -x + y + y**2)


def _j_jac(s, a, b):
    x, y, z = unpack(s)
    return matrix([[0, 0, a], [0, -b, 1], [-1, 1 + 2 * y, 0]])


def _k(s, a, b):
    x, y, z = unpack(s)
    return stack(x * y - z, x - y, a * x + b * z)


def _k_jac(s, a, b):
    x, y, z = unpack(s)
    return matrix([[y, x, -1], [1, -1, 0], [a, 0, b]])


def _l(s, a, b):
    x, y, z = unpack(s)
    return stack(y + a * z, b * x**2 - y, 1 - x)


def _l_jac(s, a, b):
    x, y, z = unpack(s)
    return matrix([[0, 1, a], [2 * b * x, -1, 0], [-1, 0, 0]])


def _m(s, a, b):
    x, y, z = unpack(s)
    return stack(-z, -(x**2) - y, a + b * x + y)


def _m_jac(s, a, b):
    x, y, z = unpack(s)
    return matrix([[0, 0, -1], [-2 * x, -1, 0], [b, 1, 0]])


def _n(s, a, b):
    x, y, z = unpack(s)
    return stack(-a * y, x + z**2, 1 + y - b * z)


def _n_jac(s, a, b):
    x, y, z = unpack(s)
    return matrix([[0, -a, 0], [1, 0, 2 * z], [0, 1, -b]])


def _o(s, a):
    x, y, z = unpack(s)
    return stack(y, x - z, x + x * z + a * y)


def _o_jac(s, a):
    x, y, z = unpack(s)
    return matrix([[0, 1, 0], [1, 0, -1], [1 + z, a, x]])


def _p(s, a):
    x, y, z = unpack(s)
    return stack(a * y + z, -x + y**2, x + y)


def _p_jac(s, a):
    x, y, z = unpack(s)
    return matrix([[0, a, 1], [-1, 2 * y, 0], [1, 1, 0]])


def _q(s, a, b):
    x, y, z = unpack(s)
    return stack(-z, x - y, a * x + y**2 + b * z)


def _q_jac(s, a, b):
    x, y, z = unpack(s)
    return matrix([[0, 0, -1], [1, -1, 0], [a, 2 * y, b]])


def _r(s, a, b):
    x, y, z = unpack(s)
    return stack(a - y, b + z, x * y - z)


def _r_jac(s, a, b):
    x, y, z = unpack(s)
    return matrix([[0, -1, 0], [0, 0, 1], [y, x, -1]])


def _s(s, a):
    x, y, z = unpack(s)
    return stack(-x - a * y, x + z**2, 1 + x)


def _s_jac(s, a):
    x, y, z = unpack(s)
    return matrix([[-1, -a, 0], [1, 0, 2 * z], [1, 0, 0]])


# Jerk systems x' = y, y' = z, z' = J(x, y, z); the Jacobian's first two rows are fixed.
def _jerk_jac(dj_dx, dj_dy, dj_dz):
    return matrix([[0, 1, 0], [0, 0, 1], [dj_dx, dj_dy, dj_dz]])


# Sprott (1997) simplest dissipative flow: x''' = -A x'' + x'^2 - x
def _sprott_jerk(s, a):
    x, y, z = unpack(s)
    return stack(y, z, -a * z + y**2 - x)


def _sprott_jerk_jac(s, a):
    x, y, z = unpack(s)
    return _jerk_jac(-1 + 0 * x, 2 * y, -a)


# Linz & Sprott (1999) piecewise-linear jerk: x''' = -A x'' - x' + |x| - 1
def _linz_sprott(s, a):
    x, y, z = unpack(s)
    return stack(y, z, -a * z - y + np.abs(x) - 1)


def _linz_sprott_jac(s, a):
    x, y, z = unpack(s)
    return _jerk_jac(np.sign(x), -1, -a)


# Malasoma (2000) parity-invariant jerk: x''' = -A x'' + x x'^2 - x
def _malasoma(s, a):
    x, y, z = unpack(s)
    return stack(y, z, -a * z + x * y**2 - x)


def _malasoma_jac(s, a):
    x, y, z = unpack(s)
    return _jerk_jac(y**2 - 1, 2 * x * y, -a)


# Genesio & Tesi (1992): x''' = -a x'' - b x' - c x + x^2
def _genesio(s, a, b, c):
    x, y, z = unpack(s)
    return stack(y, z, -a * z - b * y - c * x + x**2)


def _genesio_jac(s, a, b, c):
    x, y, z = unpack(s)
    return _jerk_jac(-c + 2 * x, -b, -a)


# Arneodo, Coullet & Tresser (1982) Shil'nikov oscillator: x''' = a x - b x' - c x'' - d x^3
def _arneodo(s, a, b, c, d):
    x, y, z = unpack(s)
    return stack(y, z, a * x - b * y - c * z - d * x**3)


def _arneodo_jac(s, a, b, c, d):
    x, y, z = unpack(s)
    return _jerk_jac(a - 3 * d * x**2, -b, -c)


# Coullet, Tresser & Arneodo (1979): x''' = a x + b x' + c x'' + d x^3
def _coullet(s, a, b, c, d):
    x, y, z = unpack(s)
    return stack(y, z, a * x + b * y + c * z + d * x**3)


def _coullet_jac(s, a, b, c, d):
    x, y, z = unpack(s)
    return _jerk_jac(a + 3 * d * x**2, b, c)


# Moore & Spiegel (1966) thermally excited oscillator: x''' = -x'' - (T - R + R x^2) x' - T x
def _moore_spiegel(s, t, r):
    x, y, z = unpack(s)
    return stack(y, z, -z - (t - r + r * x**2) * y - t * x)


def _moore_spiegel_jac(s, t, r):
    x, y, z = unpack(s)
    return _jerk_jac(-2 * r * x * y - t, -(t - r + r * x**2), -1)


# WINDMI magnetosphere model (Horton, Weigel & Sprott 2001): x''' = -a x'' - x' + b - exp(x)
def _windmi(s, a, b):
    x, y, z = unpack(s)
    return stack(y, z, -a * z - y + b - np.exp(x))


def _windmi_jac(s, a, b):
    x, y, z = unpack(s)
    return _jerk_jac(-np.exp(x), -1, -a)


# Sprott (2014) strange attractor coexisting with invariant tori:
# x' = y + a x y + x z, y' = 1 - b x^2 + y z, z' = x - x^2 - y^2
def _sprott_torus(s, a, b):
    x, y, z = unpack(s)
    return stack(y + a * x * y + x * z, 1 - b * x**2 + y * z, x - x**2 - y**2)


def _sprott_torus_jac(s, a, b):
    x, y, z = unpack(s)
    return matrix([[a * y + z, 1 + a * x, x], [-2 * b * x, z, y], [1 - 2 * x, -2 * y, 0]])


# Sprott (2020) "Do we need more chaos examples?": x' = y, y' = -x - sign(z) y,
# z' = y^2 - exp(-x^2); the Jacobian is piecewise (sign(z) is constant off the plane z = 0)
def _sprott_more(s, a):
    x, y, z = unpack(s)
    return stack(y, -x - np.sign(z) * y, y**2 - a * np.exp(-(x**2)))


def _sprott_more_jac(s, a):
    x, y, z = unpack(s)
    return matrix([[0, 1, 0], [-1, -np.sign(z), 0], [2 * a * x * np.exp(-(x**2)), 2 * y, 0]])


SPECS: dict[str, Spec] = {
    "SprottA": Spec("flow", 3, ("a",), _a, _a_jac),
    "SprottB": Spec("flow", 3, ("a",), _b, _b_jac),
    "SprottC": Spec("flow", 3, ("a",), _c, _c_jac),
    "SprottD": Spec("flow", 3, ("a",), _d, _d_jac),
    "SprottE": Spec("flow", 3, ("a",), _e, _e_jac),
    "SprottF": Spec("flow", 3, ("a", "b"), _f, _f_jac),
    "SprottG": Spec("flow", 3, ("a", "b"), _g, _g_jac),
    "SprottH": Spec("flow", 3, ("a", "b"), _h, _h_jac),
    "SprottI": Spec("flow", 3, ("a", "b"), _i, _i_jac),
    "SprottJ": Spec("flow", 3, ("a", "b"), _j, _j_jac),
    "SprottK": Spec("flow", 3, ("a", "b"), _k, _k_jac),
    "SprottL": Spec("flow", 3, ("a", "b"), _l, _l_jac),
    "SprottM": Spec("flow", 3, ("a", "b"), _m, _m_jac),
    "SprottN": Spec("flow", 3, ("a", "b"), _n, _n_jac),
    "SprottO": Spec("flow", 3, ("a",), _o, _o_jac),
    "SprottP": Spec("flow", 3, ("a",), _p, _p_jac),
    "SprottQ": Spec("flow", 3, ("a", "b"), _q, _q_jac),
    "SprottR": Spec("flow", 3, ("a", "b"), _r, _r_jac),
    "SprottS": Spec("flow", 3, ("a",), _s, _s_jac),
    "SprottJerk": Spec("flow", 3, ("A",), _sprott_jerk, _sprott_jerk_jac),
    "LinzSprott": Spec("flow", 3, ("A",), _linz_sprott, _linz_sprott_jac),
    "Malasoma": Spec("flow", 3, ("A",), _malasoma, _malasoma_jac),
    "GenesioTesi": Spec("flow", 3, ("a", "b", "c"), _genesio, _genesio_jac),
    "Arneodo": Spec("flow", 3, ("a", "b", "c", "d"), _arneodo, _arneodo_jac),
    "Coullet": Spec("flow", 3, ("a", "b", "c", "d"), _coullet, _coullet_jac),
    "MooreSpiegel": Spec("flow", 3, ("T", "R"), _moore_spiegel, _moore_spiegel_jac),
    "Windmi": Spec("flow", 3, ("a", "b"), _windmi, _windmi_jac),
    "SprottTorus": Spec("flow", 3, ("a", "b"), _sprott_torus, _sprott_torus_jac),
    "SprottMore": Spec("flow", 3, ("a",), _sprott_more, _sprott_more_jac),
}
