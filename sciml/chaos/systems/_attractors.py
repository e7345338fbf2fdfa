"""Three-dimensional chaotic attractors beyond the Lorenz family: Rössler, Thomas, Aizawa, ...

Each pair ``_name(s, *p)`` / ``_name_jac(s, *p)`` takes states ``s`` of shape ``(..., 3)``; the
equations, default parameters and sources are in ``systems.yaml``.
"""

from __future__ import annotations

import numpy as np

from ._base import Spec, matrix, stack, unpack

__all__ = ["SPECS"]


# Rössler (1976): x' = -y - z, y' = x + a y, z' = b + z (x - c)
def _rossler(s, a, b, c):
    x, y, z = unpack(s)
    return stack(-y - z, x + a * y, b + z * (x - c))


def _rossler_jac(s, a, b, c):
    x, y, z = unpack(s)
    return matrix([[0, -1, -1], [1, a, 0], [z, 0, x - c]])


# Thomas (1999) cyclically symmetric: x' = sin y - b x (and cyclic)
def _thomas(s, b):
    x, y, z = unpack(s)
    return stack(np.sin(y) - b * x, np.sin(z) - b * y, np.sin(x) - b * z)


def _thomas_jac(s, b):
    x, y, z = unpack(s)
    return matrix([[-b, np.cos(y), 0], [0, -b, np.cos(z)], [np.cos(x), 0, -b]])


# Aizawa (Langford 1984 torus-breakdown form)
def _aizawa(s, a, b, c, d, e, f):
    x, y, z = unpack(s)
    r2 = x**2 + y**2
    return stack(
        (z - b) * x - d * y,
        d * x + (z - b) * y,
        c + a * z - z**3 / 3 - r2 * (1 + e * z) + f * z * x**3,
    )


def _aizawa_jac(s, a, b, c, d, e, f):
    x, y, z = unpack(s)
    return matrix(
        [
            [z - b, -d, x],
            [d, z - b, y],
            [
                -2 * x * (1 + e * z) + 3 * f * z * x**2,
                -2 * y * (1 + e * z),
                a - z**2 - e * (x**2 + y**2) + f * x**3,
            ],
        ]
    )


# Halvorsen (Sprott 2010): x' = -a x - 4 y - 4 z - y^2 (and cyclic)
def _halvorsen(s, a):
    x, y, z = unpack(s)
    return stack(
        -a * x - 4 * y - 4 * z - y**2, -a * y - 4 * z - 4 * x - z**2, -a * z - 4 * x - 4 * y - x**2
    )


def _halvorsen_jac(s, a):
    x, y, z = unpack(s)
    return matrix([[-a, -4 - 2 * y, -4], [-4, -a, -4 - 2 * z], [-4 - 2 * x, -4, -a]])


# Rabinovich & Fabrikant (1979): x' = y (z - 1 + x^2) + g x, y' = x (3 z + 1 - x^2) + g y,
# z' = -2 z (alpha + x y)
def _rabinovich(s, alpha, gamma):
    x, y, z = unpack(s)
    return stack(
        y * (z - 1 + x**2) + gamma * x, x * (3 * z + 1 - x**2) + gamma * y, -2 * z * (alpha + x * y)
    )


def _rabinovich_jac(s, alpha, gamma):
    x, y, z = unpack(s)
    return matrix(
        [
            [2 * x * y + gamma, z - 1 + x**2, y],
            [3 * z + 1 - 3 * x**2, gamma, 3 * x],
            [-2 * z * y, -2 * z * x, -2 * (alpha + x * y)],
        ]
    )


# Dadras & Momeni (2009): x' = y - a x + b y z, y' = c y - x z + z, z' = d x y - e z
def _dadras(s, a, b, c, d, e):
    x, y, z = unpack(s)
    return stack(y - a * x + b * y * z, c * y - x * z + z, d * x * y - e * z)


def _dadras_jac(s, a, b, c, d, e):
    x, y, z = unpack(s)
    return matrix([[-a, 1 + b * z, b * y], [-z, c, 1 - x], [d * y, d * x, -e]])


# Nosé-Hoover thermostatted oscillator (Hoover 1985): x' = y, y' = -x - y z, z' = (y^2 - T) / Q
def _nose_hoover(s, q, t):
    x, y, z = unpack(s)
    return stack(y, -x - y * z, (y**2 - t) / q)


def _nose_hoover_jac(s, q, t):
    x, y, z = unpack(s)
    return matrix([[0, 1, 0], [-1, -z, -y], [0, 2 * y / q, 0]])


# Finance system (Ma & Chen 2001): x' = z + (y - a) x, y' = 1 - b y - x^2, z' = -x - c z
def _finance(s, a, b, c):
    x, y, z = unpack(s)
    return stack(z + (y - a) * x, 1 - b * y - x**2, -x - c * z)


def _finance_jac(s, a, b, c):
    x, y, z = unpack(s)
    return matrix([[y - a, x, 1], [-2 * x, -b, 0], [-1, 0, -c]])


# Newton & Leipnik (1981) rigid-body: x' = -a x + y + 10 y z, y' = -x - 0.4 y + 5 x z,
# z' = b z - 5 x y
def _newton_leipnik(s, a, b):
    x, y, z = unpack(s)
    return stack(-a * x + y + 10 * y * z, -x - 0.4 * y + 5 * x * z, b * z - 5 * x * y)


def _newton_leipnik_jac(s, a, b):
    x, y, z = unpack(s)
    return matrix([[-a, 1 + 10 * z, 10 * y], [-1 + 5 * z, -0.4, 5 * x], [-5 * y, -5 * x, b]])


# Sakarya (Pehlivan & Uyaroglu 2010): x' = -x + y + y z, y' = -x - y + a x z, z' = z - b x y
def _sakarya(s, a, b):
    x, y, z = unpack(s)
    return stack(-x + y + y * z, -x - y + a * x * z, z - b * x * y)


def _sakarya_jac(s, a, b):
    x, y, z = unpack(s)
    return matrix([[-1, 1 + z, y], [-1 + a * z, -1, a * x], [-b * y, -b * x, 1]])


# Bouali (2012) stretched loop: x' = x (4 - y) + a z, y' = -y (1 - x^2),
# z' = -x (1.5 - s z) - 0.05 z
def _bouali(s_, a, s):
    x, y, z = unpack(s_)
    return stack(x * (4 - y) + a * z, -y * (1 - x**2), -x * (1.5 - s * z) - 0.05 * z)


def _bouali_jac(s_, a, s):
    x, y, z = unpack(s_)
    return matrix([[4 - y, -x, a], [2 * x * y, -(1 - x**2), 0], [-(1.5 - s * z), 0, s * x - 0.05]])


# Pehlivan & Uyaroglu (2010): x' = y - x, y' = a y - x z, z' = x y - b
def _pehlivan(s, a, b):
    x, y, z = unpack(s)
    return stack(y - x, a * y - x * z, x * y - b)


def _pehlivan_jac(s, a, b):
    x, y, z = unpack(s)
    return matrix([[-1, 1, 0], [-z, a, -x], [y, x, 0 * b]])


# Anishchenko & Astakhov (1983) modified inertial oscillator:
# x' = mu x + y - x z, y' = -x, z' = -eta z + eta H(x) x^2 (H: Heaviside)
def _anishchenko(s, mu, eta):
    x, y, z = unpack(s)
    return stack(mu * x + y - x * z, -x, -eta * z + eta * np.where(x > 0, x**2, 0.0))


def _anishchenko_jac(s, mu, eta):
    x, y, z = unpack(s)
    return matrix([[mu - z, 1, -x], [-1, 0, 0], [np.where(x > 0, 2 * eta * x, 0.0), 0, -eta]])


# Chua circuit, dimensionless (Matsumoto, Chua & Komuro 1985; Chua, Komuro & Matsumoto 1986):
# x' = alpha (y - x - g(x)), y' = x - y + z, z' = -beta y,
# g(x) = m1 x + (m0 - m1) (|x + 1| - |x - 1|) / 2
def _chua(s, alpha, beta, m0, m1):
    x, y, z = unpack(s)
    g = m1 * x + 0.5 * (m0 - m1) * (np.abs(x + 1) - np.abs(x - 1))
    return stack(alpha * (y - x - g), x - y + z, -beta * y)


def _chua_jac(s, alpha, beta, m0, m1):
    x, y, z = unpack(s)
    dg = np.where(np.abs(x) < 1, m0, m1)
    return matrix([[-alpha * (1 + dg), alpha, 0], [1, -1, 1], [0, -beta, 0]])


# Vallis (1986) El Niño model: x' = B y - C (x + p), y' = -y + x z, z' = -z - x y + 1
def _vallis(s, b, c, p):
    x, y, z = unpack(s)
    return stack(b * y - c * (x + p), -y + x * z, -z - x * y + 1)


def _vallis_jac(s, b, c, p):
    x, y, z = unpack(s)
    return matrix([[-c, b, 0], [z, -1, x], [-y, -x, -1]])


# Arneodo, Coullet & Tresser (1981) "ACT" flow: x' = alpha (x - y), y' = -4 alpha y + x z + mu x^3,
# z' = -delta alpha z + x y + beta z^2
def _act(s, alpha, beta, delta, mu):
    x, y, z = unpack(s)
    return stack(
        alpha * (x - y), -4 * alpha * y + x * z + mu * x**3, -delta * alpha * z + x * y + beta * z**2
    )


def _act_jac(s, alpha, beta, delta, mu):
    x, y, z = unpack(s)
    return matrix(
        [
            [alpha, -alpha, 0],
            [z + 3 * mu * x**2, -4 * alpha, x],
            [y, x, -delta * alpha + 2 * beta * z],
        ]
    )


# Wang & Chen (2012) chaos with one stable equilibrium: x' = y z + a, y' = x^2 - y, z' = 1 - 4 x
def _wang_chen(s, a):
    x, y, z = unpack(s)
    return stack(y * z + a, x**2 - y, 1 - 4 * x)


def _wang_chen_jac(s, a):
    x, y, z = unpack(s)
    return matrix([[0, z, y], [2 * x, -1, 0], [-4, 0, 0]])


# Rössler (1979) prototype-4 "continuous chaos": x' = -y - z, y' = x, z' = a y (1 - y) - b z
def _rossler_p4(s, a, b):
    x, y, z = unpack(s)
    return stack(-y - z, x, a * y * (1 - y) - b * z)


def _rossler_p4_jac(s, a, b):
    x, y, z = unpack(s)
    return matrix([[0, -1, -1], [1, 0, 0], [0, a * (1 - 2 * y), -b]])


# Wang, Sun, van Wyk, Qi & van Wyk (2009) four-wing attractor: x' = a x + c y z,
# y' = b x + d y - x z, z' = e z + f x y
def _wang_sun(s, a, b, c, d, e, f):
    x, y, z = unpack(s)
    return stack(a * x + c * y * z, b * x + d * y - x * z, e * z + f * x * y)


def _wang_sun_jac(s, a, b, c, d, e, f):
    x, y, z = unpack(s)
    return matrix([[a, c * z, c * y], [b - z, d, -x], [f * y, f * x, e]])


SPECS: dict[str, Spec] = {
    "Rossler": Spec("flow", 3, ("a", "b", "c"), _rossler, _rossler_jac),
    "Thomas": Spec("flow", 3, ("b",), _thomas, _thomas_jac),
    "Aizawa": Spec("flow", 3, ("a", "b", "c", "d", "e", "f"), _aizawa, _aizawa_jac),
    "Halvorsen": Spec("flow", 3, ("a",), _halvorsen, _halvorsen_jac),
    "RabinovichFabrikant": Spec("flow", 3, ("alpha", "gamma"), _rabinovich, _rabinovich_jac),
    "Dadras": Spec("flow", 3, ("a", "b", "c", "d", "e"), _dadras, _dadras_jac),
    "NoseHoover": Spec("flow", 3, ("Q", "T"), _nose_hoover, _nose_hoover_jac),
    "Finance": Spec("flow", 3, ("a", "b", "c"), _finance, _finance_jac),
    "NewtonLeipnik": Spec("flow", 3, ("a", "b"), _newton_leipnik, _newton_leipnik_jac),
    "Sakarya": Spec("flow", 3, ("a", "b"), _sakarya, _sakarya_jac),
    "Bouali": Spec("flow", 3, ("a", "s"), _bouali, _bouali_jac),
    "Pehlivan": Spec("flow", 3, ("a", "b"), _pehlivan, _pehlivan_jac),
    "AnishchenkoAstakhov": Spec("flow", 3, ("mu", "eta"), _anishchenko, _anishchenko_jac),
    "Chua": Spec("flow", 3, ("alpha", "beta", "m0", "m1"), _chua, _chua_jac),
    "VallisElNino": Spec("flow", 3, ("B", "C", "p"), _vallis, _vallis_jac),
    "ArneodoCoulletTresser": Spec("flow", 3, ("alpha", "beta", "delta", "mu"), _act, _act_jac),
    "WangChen": Spec("flow", 3, ("a",), _wang_chen, _wang_chen_jac),
    "RosslerPrototype4": Spec("flow", 3, ("a", "b"), _rossler_p4, _rossler_p4_jac),
    "WangSun": Spec("flow", 3, ("a", "b", "c", "d", "e", "f"), _wang_sun, _wang_sun_jac),
}
