"""Discrete-time chaotic maps: ``rhs`` returns the next state, ``jac`` its derivative.

Non-smooth maps (Lozi, tent, gingerbread man) use the one-sided derivative almost everywhere;
maps on a torus (standard, circle) reduce the angle coordinates modulo their period, which the
metadata records as ``periodic_coordinates`` and ``coordinate_period``.
"""

from __future__ import annotations

import numpy as np

from ._base import Spec, matrix, stack, unpack

__all__ = ["SPECS"]

_TWO_PI = 2.0 * np.pi


# Hénon (1976): x' = 1 - a x^2 + y, y' = b x
def _henon(s, a, b):
    x, y = unpack(s)
    return stack(1 - a * x**2 + y, b * x)


def _henon_jac(s, a, b):
    x, y = unpack(s)
    return matrix([[-2 * a * x, 1], [b, 0]])


# Logistic map (May 1976): x' = r x (1 - x)
def _logistic(s, r):
    (x,) = unpack(s)
    return stack(r * x * (1 - x))


def _logistic_jac(s, r):
    (x,) = unpack(s)
    return matrix([[r * (1 - 2 * x)]])


# Ikeda map (Ikeda 1979; Hammel, Jones & Moloney 1985):
# z' = a + u z exp(i (k - p / (1 + |z|^2))), z = x + i y
def _ikeda(s, a, u, k, p):
    x, y = unpack(s)
    t = k - p / (1 + x**2 + y**2)
    c, sn = np.cos(t), np.sin(t)
    return stack(a + u * (x * c - y * sn), u * (x * sn + y * c))


def _ikeda_jac(s, a, u, k, p):
    x, y = unpack(s)
    r = 1 + x**2 + y**2
    t = k - p / r
    c, sn = np.cos(t), np.sin(t)
    tx, ty = 2 * p * x / r**2, 2 * p * y / r**2
    rot_x = -x * sn - y * c  # d(x c - y s)/dt
    rot_y = x * c - y * sn  # d(x s + y c)/dt
    return matrix(
        [
            [u * (c + rot_x * tx), u * (-sn + rot_x * ty)],
            [u * (sn + rot_y * tx), u * (c + rot_y * ty)],
        ]
    )


# Chirikov standard map: p' = p + K sin(theta), theta' = theta + p' (both modulo 2 pi)
def _standard(s, k):
    theta, p = unpack(s)
    p_new = p + k * np.sin(theta)
    return stack(np.mod(theta + p_new, _TWO_PI), np.mod(p_new + np.pi, _TWO_PI) - np.pi)


def _standard_jac(s, k):
    theta, p = unpack(s)
    kc = k * np.cos(theta)
    return matrix([[1 + kc, 1], [kc, 1]])


# Lozi (1978): x' = 1 - a |x| + y, y' = b x
def _lozi(s, a, b):
    x, y = unpack(s)
    return stack(1 - a * np.abs(x) + y, b * x)


def _lozi_jac(s, a, b):
    x, y = unpack(s)
    return matrix([[-a * np.sign(x), 1], [b, 0]])


# Tinkerbell map (Nusse & Yorke 1994): x' = x^2 - y^2 + a x + b y, y' = 2 x y + c x + d y
def _tinkerbell(s, a, b, c, d):
    x, y = unpack(s)
    return stack(x**2 - y**2 + a * x + b * y, 2 * x * y + c * x + d * y)


def _tinkerbell_jac(s, a, b, c, d):
    x, y = unpack(s)
    return matrix([[2 * x + a, -2 * y + b], [2 * y + c, 2 * x + d]])


# Gingerbread man (Devaney 1984): x' = c - y + |x|, y' = x
def _gingerbread(s, c):
    x, y = unpack(s)
    return stack(c - y + np.abs(x), x)


def _gingerbread_jac(s, c):
    x, y = unpack(s)
    return matrix([[np.sign(x), -1], [1, 0 * c]])


# Holmes (1979) Duffing map: x' = y, y' = -b x + a y - y^3
def _duffing_map(s, a, b):
    x, y = unpack(s)
    return stack(y, -b * x + a * y - y**3)


def _duffing_map_jac(s, a, b):
    x, y = unpack(s)
    return matrix([[0, 1], [-b, a - 3 * y**2]])


# Tent map: x' = mu min(x, 1 - x)
def _tent(s, mu):
    (x,) = unpack(s)
    return stack(mu * np.minimum(x, 1 - x))


def _tent_jac(s, mu):
    (x,) = unpack(s)
    return matrix([[np.where(x < 0.5, mu, -mu)]])


# Gauss (mouse) map: x' = exp(-alpha x^2) + beta
def _gauss(s, alpha, beta):
    (x,) = unpack(s)
    return stack(np.exp(-alpha * x**2) + beta)


def _gauss_jac(s, alpha, beta):
    (x,) = unpack(s)
    return matrix([[-2 * alpha * x * np.exp(-alpha * x**2)]])


# Sine-circle map (Arnold 1965): theta' = theta + omega - k / (2 pi) sin(2 pi theta) (mod 1)
def _circle(s, omega, k):
    (t,) = unpack(s)
    return stack(np.mod(t + omega - k / _TWO_PI * np.sin(_TWO_PI * t), 1.0))


def _circle_jac(s, omega, k):
    (t,) = unpack(s)
    return matrix([[1 - k * np.cos(_TWO_PI * t)]])


# Clifford attractor (Pickover 1990): x' = sin(a y) + c cos(a x), y' = sin(b x) + d cos(b y)
def _clifford(s, a, b, c, d):
    x, y = unpack(s)
    return stack(np.sin(a * y) + c * np.cos(a * x), np.sin(b * x) + d * np.cos(b * y))


def _clifford_jac(s, a, b, c, d):
    x, y = unpack(s)
    return matrix(
        [[-a * c * np.sin(a * x), a * np.cos(a * y)], [b * np.cos(b * x), -b * d * np.sin(b * y)]]
    )


# Peter de Jong attractor (Dewdney 1987): x' = sin(a y) - cos(b x), y' = sin(c x) - cos(d y)
def _dejong(s, a, b, c, d):
    x, y = unpack(s)
    return stack(np.sin(a * y) - np.cos(b * x), np.sin(c * x) - np.cos(d * y))


def _dejong_jac(s, a, b, c, d):
    x, y = unpack(s)
    return matrix(
        [[b * np.sin(b * x), a * np.cos(a * y)], [c * np.cos(c * x), d * np.sin(d * y)]]
    )


SPECS: dict[str, Spec] = {
    "Henon": Spec("map", 2, ("a", "b"), _henon, _henon_jac),
    "Logistic": Spec("map", 1, ("r",), _logistic, _logistic_jac),
    "Ikeda": Spec("map", 2, ("a", "u", "k", "p"), _ikeda, _ikeda_jac),
    "Standard": Spec("map", 2, ("K",), _standard, _standard_jac),
    "Lozi": Spec("map", 2, ("a", "b"), _lozi, _lozi_jac),
    "Tinkerbell": Spec("map", 2, ("a", "b", "c", "d"), _tinkerbell, _tinkerbell_jac),
    "Gingerbreadman": Spec("map", 2, ("c",), _gingerbread, _gingerbread_jac),
    "DuffingMap": Spec("map", 2, ("a", "b"), _duffing_map, _duffing_map_jac),
    "Tent": Spec("map", 1, ("mu",), _tent, _tent_jac),
    "GaussMap": Spec("map", 1, ("alpha", "beta"), _gauss, _gauss_jac),
    "Circle": Spec("map", 1, ("omega", "k"), _circle, _circle_jac),
    "Clifford": Spec("map", 2, ("a", "b", "c", "d"), _clifford, _clifford_jac),
    "DeJong": Spec("map", 2, ("a", "b", "c", "d"), _dejong, _dejong_jac),
}
