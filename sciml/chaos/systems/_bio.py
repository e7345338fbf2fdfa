"""Chaotic models from neuroscience, ecology and chemistry: Hindmarsh-Rose bursting neuron,
Lotka-Volterra competition, food chains, tumour growth and the Willamowski-Rössler reaction.
"""

from __future__ import annotations

import numpy as np

from ._base import Spec, matrix, stack, unpack

__all__ = ["SPECS"]


# Hindmarsh & Rose (1984): x' = y - a x^3 + b x^2 - z + I, y' = c - d x^2 - y,
# z' = r (s (x - x_R) - z)
def _hindmarsh_rose(s_, a, b, c, d, r, s, x_r, i_ext):
    x, y, z = unpack(s_)
    return stack(y - a * x**3 + b * x**2 - z + i_ext, c - d * x**2 - y, r * (s * (x - x_r) - z))


def _hindmarsh_rose_jac(s_, a, b, c, d, r, s, x_r, i_ext):
    x, y, z = unpack(s_)
    return matrix([[-3 * a * x**2 + 2 * b * x, 1, -1], [-2 * d * x, -1, 0], [r * s, 0, -r]])


def _lv_split(p: tuple[np.ndarray, ...], n: int) -> tuple[np.ndarray, np.ndarray]:
    """Growth rates ``(..., n)`` and interaction matrix ``(..., n, n)`` from parameter columns."""
    r = stack(*p[:n])
    a = stack(*p[n:]).reshape(r.shape[:-1] + (n, n))
    return r, a


# Vano, Wildenberg, Anderson, Noel & Sprott (2006): x_i' = r_i x_i (1 - sum_j a_ij x_j)
def _lv4(s, *p):
    r, a = _lv_split(p, 4)
    return r * s * (1 - np.einsum("...ij,...j->...i", a, s))


def _lv4_jac(s, *p):
    r, a = _lv_split(p, 4)
    ax = np.einsum("...ij,...j->...i", a, s)
    diag = np.einsum("...i,ij->...ij", r * (1 - ax), np.eye(4))
    return diag - (r * s)[..., :, None] * a


# Gilpin (1979) spiral chaos: x_i' = x_i (r_i - sum_j a_ij x_j), 2 competitors + 1 predator
def _glv3(s, *p):
    r, a = _lv_split(p, 3)
    return s * (r - np.einsum("...ij,...j->...i", a, s))


def _glv3_jac(s, *p):
    r, a = _lv_split(p, 3)
    ax = np.einsum("...ij,...j->...i", a, s)
    diag = np.einsum("...i,ij->...ij", r - ax, np.eye(3))
    return diag - s[..., :, None] * a


_LV4_PARAMS = ("r1", "r2", "r3", "r4") + tuple(f"a{i}{j}" for i in range(1, 5) for j in range(1, 5))
_GLV3_PARAMS = ("r1", "r2", "r3") + tuple(f"a{i}{j}" for i in range(1, 4) for j in range(1, 4))


# Hastings & Powell (1991) three-species food chain with Holling type-II responses
def _hastings_powell(s, a1, b1, a2, b2, d1, d2):
    x, y, z = unpack(s)
    f1 = a1 * x / (1 + b1 * x)
    f2 = a2 * y / (1 + b2 * y)
    return stack(x * (1 - x) - f1 * y, f1 * y - f2 * z - d1 * y, f2 * z - d2 * z)


def _hastings_powell_jac(s, a1, b1, a2, b2, d1, d2):
    x, y, z = unpack(s)
    f1 = a1 * x / (1 + b1 * x)
    f2 = a2 * y / (1 + b2 * y)
    g1 = a1 / (1 + b1 * x) ** 2
    g2 = a2 / (1 + b2 * y) ** 2
    return matrix(
        [
            [1 - 2 * x - g1 * y, -f1, 0],
            [g1 * y, f1 - g2 * z - d1, -f2],
            [0, g2 * z, f2 - d2],
        ]
    )


# Itik & Banks (2010) tumour (x), healthy (y) and effector immune (z) cells
def _itik_banks(s, a12, a13, a21, a31, r2, r3, k3, d3):
    x, y, z = unpack(s)
    return stack(
        x * (1 - x) - a12 * x * y - a13 * x * z,
        r2 * y * (1 - y) - a21 * x * y,
        r3 * x * z / (x + k3) - a31 * x * z - d3 * z,
    )


def _itik_banks_jac(s, a12, a13, a21, a31, r2, r3, k3, d3):
    x, y, z = unpack(s)
    return matrix(
        [
            [1 - 2 * x - a12 * y - a13 * z, -a12 * x, -a13 * x],
            [-a21 * y, r2 * (1 - 2 * y) - a21 * x, 0],
            [r3 * z * k3 / (x + k3) ** 2 - a31 * z, 0, r3 * x / (x + k3) - a31 * x - d3],
        ]
    )


# Willamowski & Rössler (1980) chemical chaos (mass-action, reversible steps k_i / km_i)
def _willamowski(s, k1, km1, k2, km2, k3, km3, k4, km4, k5, km5):
    x, y, z = unpack(s)
    return stack(
        k1 * x - km1 * x**2 - k2 * x * y + km2 * y**2 - k4 * x * z + km4,
        k2 * x * y - km2 * y**2 - k3 * y + km3,
        -k4 * x * z + km4 + k5 * z - km5 * z**2,
    )


def _willamowski_jac(s, k1, km1, k2, km2, k3, km3, k4, km4, k5, km5):
    x, y, z = unpack(s)
    return matrix(
        [
            [k1 - 2 * km1 * x - k2 * y - k4 * z, -k2 * x + 2 * km2 * y, -k4 * x],
            [k2 * y, k2 * x - 2 * km2 * y - k3, 0],
            [-k4 * z, 0, -k4 * x + k5 - 2 * km5 * z],
        ]
    )


# Blasius, Huppert & Stone (1999) vegetation-herbivore-predator chain with Holling-II responses:
# x' = a x - alpha1 f1, y' = -b y + alpha1 f1 - alpha2 f2, z' = -c (z - z_star) + alpha2 f2,
# f1 = x y / (1 + k1 x), f2 = y z / (1 + k2 y)
def _blasius(s, a, b, c, alpha1, alpha2, k1, k2, z_star):
    x, y, z = unpack(s)
    f1 = x * y / (1 + k1 * x)
    f2 = y * z / (1 + k2 * y)
    return stack(a * x - alpha1 * f1, -b * y + alpha1 * f1 - alpha2 * f2, -c * (z - z_star) + alpha2 * f2)


def _blasius_jac(s, a, b, c, alpha1, alpha2, k1, k2, z_star):
    x, y, z = unpack(s)
    f1x = y / (1 + k1 * x) ** 2
    f1y = x / (1 + k1 * x)
    f2y = z / (1 + k2 * y) ** 2
    f2z = y / (1 + k2 * y)
    return matrix(
        [
            [a - alpha1 * f1x, -alpha1 * f1y, 0],
            [alpha1 * f1x, -b + alpha1 * f1y - alpha2 * f2y, -alpha2 * f2z],
            [0, alpha2 * f2y, -c + alpha2 * f2z],
        ]
    )


# Peng, Scott & Showalter (1990) three-variable autocatalator:
# a' = mu (kappa + c) - a b^2 - a, sigma b' = a b^2 + a - b, delta c' = b - c
def _autocatalator(s, mu, kappa, sigma, delta):
    a, b, c = unpack(s)
    return stack(mu * (kappa + c) - a * b**2 - a, (a * b**2 + a - b) / sigma, (b - c) / delta)


def _autocatalator_jac(s, mu, kappa, sigma, delta):
    a, b, c = unpack(s)
    return matrix(
        [
            [-(b**2) - 1, -2 * a * b, mu],
            [(b**2 + 1) / sigma, (2 * a * b - 1) / sigma, 0],
            [0, 1 / delta, -1 / delta],
        ]
    )


SPECS: dict[str, Spec] = {
    "HindmarshRose": Spec(
        "flow",
        3,
        ("a", "b", "c", "d", "r", "s", "x_r", "I"),
        _hindmarsh_rose,
        _hindmarsh_rose_jac,
    ),
    "LotkaVolterra4": Spec("flow", 4, _LV4_PARAMS, _lv4, _lv4_jac),
    "GilpinSpiral": Spec("flow", 3, _GLV3_PARAMS, _glv3, _glv3_jac),
    "HastingsPowell": Spec(
        "flow", 3, ("a1", "b1", "a2", "b2", "d1", "d2"), _hastings_powell, _hastings_powell_jac
    ),
    "ItikBanks": Spec(
        "flow",
        3,
        ("a12", "a13", "a21", "a31", "r2", "r3", "k3", "d3"),
        _itik_banks,
        _itik_banks_jac,
    ),
    "WillamowskiRossler": Spec(
        "flow",
        3,
        ("k1", "km1", "k2", "km2", "k3", "km3", "k4", "km4", "k5", "km5"),
        _willamowski,
        _willamowski_jac,
    ),
    "Blasius": Spec(
        "flow",
        3,
        ("a", "b", "c", "alpha1", "alpha2", "k1", "k2", "z_star"),
        _blasius,
        _blasius_jac,
    ),
    "Autocatalator": Spec(
        "flow", 3, ("mu", "kappa", "sigma", "delta"), _autocatalator, _autocatalator_jac
    ),
}
