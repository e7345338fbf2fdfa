"""Spatially extended and coupled flows of configurable size: Kuramoto-Sivashinsky on a periodic
finite-difference grid, and two coupled Rössler oscillators.
"""

from __future__ import annotations

import numpy as np

from ._base import Spec, stack, unpack

__all__ = ["SPECS"]


# Kuramoto (1978) / Sivashinsky (1977): u_t = -u u_x - u_xx - u_xxxx on a periodic domain of
# length L, N grid points; conservative central differences for (u^2 / 2)_x, second-order
# stencils for the linear terms.
def _ks_linear(n: int, length: np.ndarray) -> np.ndarray:
    """Batched linear operator ``-(D2 + D4)`` of shape ``(..., n, n)`` for domain lengths ``L``."""
    h = np.asarray(length, dtype=np.float64)[..., None, None] / n
    eye = np.eye(n)
    d2 = (np.roll(eye, 1, 1) - 2 * eye + np.roll(eye, -1, 1)) / h**2
    d4 = (
        np.roll(eye, 2, 1) - 4 * np.roll(eye, 1, 1) + 6 * eye - 4 * np.roll(eye, -1, 1)
        + np.roll(eye, -2, 1)
    ) / h**4
    return -(d2 + d4)


def _ks(s, length):
    n = s.shape[-1]
    h = np.expand_dims(length, -1) / n
    lin = np.einsum("...ij,...j->...i", _ks_linear(n, length), s)
    flux = (np.roll(s, -1, -1) ** 2 - np.roll(s, 1, -1) ** 2) / (4 * h)
    return lin - flux


def _ks_jac(s, length):
    n = s.shape[-1]
    h = np.expand_dims(length, -1) / n
    batch = np.broadcast_shapes(s.shape[:-1], np.shape(length))
    jac = np.broadcast_to(_ks_linear(n, length), batch + (n, n)).copy()
    i = np.arange(n)
    jac[..., i, (i + 1) % n] -= np.roll(s, -1, -1) / (2 * h)
    jac[..., i, (i - 1) % n] += np.roll(s, 1, -1) / (2 * h)
    return jac


# Rosenblum, Pikovsky & Kurths (1996) two diffusively coupled Rössler oscillators with
# frequencies omega +- d_omega: x_k' = -w_k y_k - z_k + eps (x_j - x_k), y_k' = w_k x_k + a y_k,
# z_k' = f + z_k (x_k - c); state (x1, y1, z1, x2, y2, z2)
def _coupled_rossler(s, a, f, c, omega, d_omega, eps):
    x1, y1, z1, x2, y2, z2 = unpack(s)
    w1, w2 = omega + d_omega, omega - d_omega
    return stack(
        -w1 * y1 - z1 + eps * (x2 - x1),
        w1 * x1 + a * y1,
        f + z1 * (x1 - c),
        -w2 * y2 - z2 + eps * (x1 - x2),
        w2 * x2 + a * y2,
        f + z2 * (x2 - c),
    )


def _coupled_rossler_jac(s, a, f, c, omega, d_omega, eps):
    x1, y1, z1, x2, y2, z2 = unpack(s)
    w1, w2 = omega + d_omega, omega - d_omega
    batch = np.broadcast_shapes(s.shape[:-1], np.shape(a), np.shape(omega), np.shape(eps))
    jac = np.zeros(batch + (6, 6))
    for k, (w, x, z) in enumerate(((w1, x1, z1), (w2, x2, z2))):
        o = 3 * k
        jac[..., o, o] = -eps
        jac[..., o, o + 1] = -w
        jac[..., o, o + 2] = -1.0
        jac[..., o, 3 - o] = eps
        jac[..., o + 1, o] = w
        jac[..., o + 1, o + 1] = a
        jac[..., o + 2, o] = z
        jac[..., o + 2, o + 2] = x - c
    return jac


SPECS: dict[str, Spec] = {
    "KuramotoSivashinsky": Spec(
        "flow", 32, ("L",), _ks, _ks_jac, variable_dim=True, min_dim=32
    ),
    "CoupledRossler": Spec(
        "flow", 6, ("a", "f", "c", "omega", "d_omega", "eps"), _coupled_rossler, _coupled_rossler_jac
    ),
}
