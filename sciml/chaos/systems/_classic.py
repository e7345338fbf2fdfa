"""Lorenz-type quadratic flows: Lorenz (1963) and its descendants (Chen, Lü, ...), Lorenz-84/96.

Each pair ``_name(s, *p)`` / ``_name_jac(s, *p)`` takes states ``s`` of shape ``(..., dim)`` and
parameter columns broadcastable to the batch shape; equations and sources are in ``systems.yaml``.
"""

from __future__ import annotations

import numpy as np

from ._base import Spec, matrix, stack, unpack

__all__ = ["SPECS"]


# Lorenz (1963): x' = sigma (y - x), y' = x (rho - z) - y, z' = x y - beta z
def _lorenz(s, sigma, rho, beta):
    x, y, z = unpack(s)
    return stack(sigma * (y - x), x * (rho - z) - y, x * y - beta * z)


def _lorenz_jac(s, sigma, rho, beta):
    x, y, z = unpack(s)
    return matrix([[-sigma, sigma, 0], [rho - z, -1, -x], [y, x, -beta]])


# Chen & Ueta (1999): x' = a (y - x), y' = (c - a) x - x z + c y, z' = x y - b z
def _chen(s, a, b, c):
    x, y, z = unpack(s)
    return stack(a * (y - x), (c - a) * x - x * z + c * y, x * y - b * z)


def _chen_jac(s, a, b, c):
    x, y, z = unpack(s)
    return matrix([[-a, a, 0], [c - a - z, c, -x], [y, x, -b]])


# Lü & Chen (2002): x' = a (y - x), y' = -x z + c y, z' = x y - b z
def _lu(s, a, b, c):
    x, y, z = unpack(s)
    return stack(a * (y - x), -x * z + c * y, x * y - b * z)


def _lu_jac(s, a, b, c):
    x, y, z = unpack(s)
    return matrix([[-a, a, 0], [-z, c, -x], [y, x, -b]])


# Unified Lorenz-Chen-Lü system (Lü, Chen, Cheng & Čelikovský 2002), alpha in [0, 1]
def _unified(s, alpha):
    x, y, z = unpack(s)
    return stack(
        (25 * alpha + 10) * (y - x),
        (28 - 35 * alpha) * x - x * z + (29 * alpha - 1) * y,
        x * y - (alpha + 8) / 3 * z,
    )


def _unified_jac(s, alpha):
    x, y, z = unpack(s)
    a = 25 * alpha + 10
    return matrix(
        [[-a, a, 0], [28 - 35 * alpha - z, 29 * alpha - 1, -x], [y, x, -(alpha + 8) / 3]]
    )


# Lorenz (1984) Hadley circulation: x' = -y^2 - z^2 - a x + a F, y' = x y - b x z - y + G,
# z' = b x y + x z - z
def _lorenz84(s, a, b, f, g):
    x, y, z = unpack(s)
    return stack(-(y**2) - z**2 - a * x + a * f, x * y - b * x * z - y + g, b * x * y + x * z - z)


def _lorenz84_jac(s, a, b, f, g):
    x, y, z = unpack(s)
    return matrix([[-a, -2 * y, -2 * z], [y - b * z, x - 1, -b * x], [b * y + z, b * x, x - 1]])


# Lorenz (1996): x_i' = (x_{i+1} - x_{i-2}) x_{i-1} - x_i + F, cyclic indices
def _lorenz96(s, f):
    return (np.roll(s, -1, -1) - np.roll(s, 2, -1)) * np.roll(s, 1, -1) - s + np.expand_dims(f, -1)


def _lorenz96_jac(s, f):
    n = s.shape[-1]
    i = np.arange(n)
    jac = np.zeros(np.broadcast_shapes(s.shape[:-1], np.shape(f)) + (n, n))
    xm1 = np.roll(s, 1, -1)
    jac[..., i, (i + 1) % n] = xm1
    jac[..., i, (i - 2) % n] = -xm1
    jac[..., i, (i - 1) % n] = np.roll(s, -1, -1) - np.roll(s, 2, -1)
    jac[..., i, i] = -1.0
    return jac


# Rucklidge (1992): x' = -kappa x + lam y - y z, y' = x, z' = -z + y^2
def _rucklidge(s, kappa, lam):
    x, y, z = unpack(s)
    return stack(-kappa * x + lam * y - y * z, x, -z + y**2)


def _rucklidge_jac(s, kappa, lam):
    x, y, z = unpack(s)
    return matrix([[-kappa, lam - z, -y], [1, 0, 0], [0, 2 * y, -1]])


# Shimizu & Morioka (1980): x' = y, y' = x - a y - x z, z' = -b z + x^2
def _shimizu(s, a, b):
    x, y, z = unpack(s)
    return stack(y, x - a * y - x * z, -b * z + x**2)


def _shimizu_jac(s, a, b):
    x, y, z = unpack(s)
    return matrix([[0, 1, 0], [1 - z, -a, -x], [2 * x, 0, -b]])


# Rikitake (1958) two-disc dynamo: x' = -mu x + z y, y' = -mu y + x (z - a), z' = 1 - x y
def _rikitake(s, mu, a):
    x, y, z = unpack(s)
    return stack(-mu * x + z * y, -mu * y + x * (z - a), 1 - x * y)


def _rikitake_jac(s, mu, a):
    x, y, z = unpack(s)
    return matrix([[-mu, z, y], [z - a, -mu, x], [-y, -x, 0]])


# Burke-Shaw (Shaw 1981): x' = -s (x + y), y' = -y - s x z, z' = s x y + v
def _burke_shaw(s_, s, v):
    x, y, z = unpack(s_)
    return stack(-s * (x + y), -y - s * x * z, s * x * y + v)


def _burke_shaw_jac(s_, s, v):
    x, y, z = unpack(s_)
    return matrix([[-s, -s, 0], [-s * z, -1, -s * x], [s * y, s * x, 0]])


# Chen & Lee (2004): x' = a x - y z, y' = b y + x z, z' = c z + x y / 3
def _chen_lee(s, a, b, c):
    x, y, z = unpack(s)
    return stack(a * x - y * z, b * y + x * z, c * z + x * y / 3)


def _chen_lee_jac(s, a, b, c):
    x, y, z = unpack(s)
    return matrix([[a, -z, -y], [z, b, x], [y / 3, x / 3, c]])


# Tigan & Opris (2008) "T system": x' = a (y - x), y' = (c - a) x - a x z, z' = x y - b z
def _tigan(s, a, b, c):
    x, y, z = unpack(s)
    return stack(a * (y - x), (c - a) * x - a * x * z, x * y - b * z)


def _tigan_jac(s, a, b, c):
    x, y, z = unpack(s)
    return matrix([[-a, a, 0], [c - a - a * z, 0, -a * x], [y, x, -b]])


# Liu, Liu, Liu & Liu (2004): x' = a (y - x), y' = b x - k x z, z' = -c z + h x^2
def _liu(s, a, b, c, k, h):
    x, y, z = unpack(s)
    return stack(a * (y - x), b * x - k * x * z, -c * z + h * x**2)


def _liu_jac(s, a, b, c, k, h):
    x, y, z = unpack(s)
    return matrix([[-a, a, 0], [b - k * z, 0, -k * x], [2 * h * x, 0, -c]])


# Qi, Chen, Du, Chen & Yuan (2005): x' = a (y - x) + y z, y' = c x - y - x z, z' = x y - b z
def _qi(s, a, b, c):
    x, y, z = unpack(s)
    return stack(a * (y - x) + y * z, c * x - y - x * z, x * y - b * z)


def _qi_jac(s, a, b, c):
    x, y, z = unpack(s)
    return matrix([[-a, a + z, y], [c - z, -1, -x], [y, x, -b]])


# Yu & Wang (2012): x' = a (y - x), y' = b x - c x z, z' = exp(x y) - d z
def _yu_wang(s, a, b, c, d):
    x, y, z = unpack(s)
    return stack(a * (y - x), b * x - c * x * z, np.exp(x * y) - d * z)


def _yu_wang_jac(s, a, b, c, d):
    x, y, z = unpack(s)
    e = np.exp(x * y)
    return matrix([[-a, a, 0], [b - c * z, 0, -c * x], [y * e, x * e, -d]])


# Li (2008) three-scroll (Dequan Li): x' = a (y - x) + d x z, y' = k x + f y - x z,
# z' = c z + x y - e x^2
def _dequan_li(s, a, c, d, e, k, f):
    x, y, z = unpack(s)
    return stack(a * (y - x) + d * x * z, k * x + f * y - x * z, c * z + x * y - e * x**2)


def _dequan_li_jac(s, a, c, d, e, k, f):
    x, y, z = unpack(s)
    return matrix([[-a + d * z, a, d * x], [k - z, f, -x], [y - 2 * e * x, x, c]])


# Gissinger (2012) reversals: x' = mu x - y z, y' = -nu y + x z, z' = gamma - z + x y
def _gissinger(s, mu, nu, gamma):
    x, y, z = unpack(s)
    return stack(mu * x - y * z, -nu * y + x * z, gamma - z + x * y)


def _gissinger_jac(s, mu, nu, gamma):
    x, y, z = unpack(s)
    return matrix([[mu, -z, -y], [z, -nu, x], [y, x, -1]])


# Diffusionless Lorenz (van der Schrier & Maas 2000): x' = -y - x, y' = -x z, z' = x y + R
def _diffusionless(s, r):
    x, y, z = unpack(s)
    return stack(-y - x, -x * z, x * y + r)


def _diffusionless_jac(s, r):
    x, y, z = unpack(s)
    return matrix([[-1, -1, 0], [-z, 0, -x], [y, x, 0]])


SPECS: dict[str, Spec] = {
    "Lorenz": Spec("flow", 3, ("sigma", "rho", "beta"), _lorenz, _lorenz_jac),
    "Chen": Spec("flow", 3, ("a", "b", "c"), _chen, _chen_jac),
    "Lu": Spec("flow", 3, ("a", "b", "c"), _lu, _lu_jac),
    "UnifiedLorenzChenLu": Spec("flow", 3, ("alpha",), _unified, _unified_jac),
    "Lorenz84": Spec("flow", 3, ("a", "b", "F", "G"), _lorenz84, _lorenz84_jac),
    "Lorenz96": Spec("flow", 5, ("F",), _lorenz96, _lorenz96_jac, variable_dim=True, min_dim=4),
    "Rucklidge": Spec("flow", 3, ("kappa", "lam"), _rucklidge, _rucklidge_jac),
    "ShimizuMorioka": Spec("flow", 3, ("a", "b"), _shimizu, _shimizu_jac),
    "Rikitake": Spec("flow", 3, ("mu", "a"), _rikitake, _rikitake_jac),
    "BurkeShaw": Spec("flow", 3, ("s", "v"), _burke_shaw, _burke_shaw_jac),
    "ChenLee": Spec("flow", 3, ("a", "b", "c"), _chen_lee, _chen_lee_jac),
    "Tigan": Spec("flow", 3, ("a", "b", "c"), _tigan, _tigan_jac),
    "Liu": Spec("flow", 3, ("a", "b", "c", "k", "h"), _liu, _liu_jac),
    "Qi": Spec("flow", 3, ("a", "b", "c"), _qi, _qi_jac),
    "YuWang": Spec("flow", 3, ("a", "b", "c", "d"), _yu_wang, _yu_wang_jac),
    "DequanLi": Spec("flow", 3, ("a", "c", "d", "e", "k", "f"), _dequan_li, _dequan_li_jac),
    "Gissinger": Spec("flow", 3, ("mu", "nu", "gamma"), _gissinger, _gissinger_jac),
    "DiffusionlessLorenz": Spec("flow", 3, ("R",), _diffusionless, _diffusionless_jac),
}
