"""Chaotic electronic circuits in dimensionless form: Colpitts oscillator, memristor circuit."""

from __future__ import annotations

import numpy as np

from ._base import Spec, matrix, stack, unpack

__all__ = ["SPECS"]


# Colpitts oscillator (Kennedy 1994; normalised by Maggio, De Feo & Kennedy 1999):
# x1' = g / (Q (1 - k)) (-n(x2) + x3), x2' = g / (Q k) x3,
# x3' = -Q k (1 - k) / g (x1 + x2) - x3 / Q, n(x2) = exp(-x2) - 1
def _colpitts(s, g, q, k):
    x1, x2, x3 = unpack(s)
    return stack(
        g / (q * (1 - k)) * (-(np.exp(-x2) - 1) + x3),
        g / (q * k) * x3,
        -q * k * (1 - k) / g * (x1 + x2) - x3 / q,
    )


def _colpitts_jac(s, g, q, k):
    x1, x2, x3 = unpack(s)
    c1 = g / (q * (1 - k))
    c3 = -q * k * (1 - k) / g
    return matrix([[0, c1 * np.exp(-x2), c1], [0, 0, g / (q * k)], [c3, c3, -1 / q]])


# Muthuswamy & Chua (2010) simplest chaotic circuit (memristor W(z) = beta (z^2 - 1)):
# x' = y / C, y' = -(x + beta (z^2 - 1) y) / L, z' = -y - alpha z + y z
def _muthuswamy_chua(s, c, ell, alpha, beta):
    x, y, z = unpack(s)
    return stack(y / c, -(x + beta * (z**2 - 1) * y) / ell, -y - alpha * z + y * z)


def _muthuswamy_chua_jac(s, c, ell, alpha, beta):
    x, y, z = unpack(s)
    return matrix(
        [
            [0, 1 / c, 0],
            [-1 / ell, -beta * (z**2 - 1) / ell, -2 * beta * z * y / ell],
            [0, -1 + z, -alpha + y],
        ]
    )


SPECS: dict[str, Spec] = {
    "Colpitts": Spec("flow", 3, ("g", "Q", "k"), _colpitts, _colpitts_jac),
    "MuthuswamyChua": Spec(
        "flow", 3, ("C", "L", "alpha", "beta"), _muthuswamy_chua, _muthuswamy_chua_jac
    ),
}
