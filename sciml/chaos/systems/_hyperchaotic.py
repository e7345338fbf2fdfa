"""Hyperchaotic flows (two or more positive Lyapunov exponents), mostly 4-D extensions of the
Rössler, Lorenz, Chen and Lü systems by a feedback variable ``w``, plus the Baier-Sahle family of
configurable dimension.
"""

from __future__ import annotations

import numpy as np

from ._base import Spec, matrix, stack, unpack

__all__ = ["SPECS"]


# Rössler (1979) hyperchaos: x' = -y - z, y' = x + a y + w, z' = b + x z, w' = -c z + d w
def _hyper_rossler(s, a, b, c, d):
    x, y, z, w = unpack(s)
    return stack(-y - z, x + a * y + w, b + x * z, -c * z + d * w)


def _hyper_rossler_jac(s, a, b, c, d):
    x, y, z, w = unpack(s)
    return matrix([[0, -1, -1, 0], [1, a, 0, 1], [z, 0, x, 0], [0, 0, -c, d]])


# Wang & Wang (2008) hyperchaotic Lorenz: x' = a (y - x) + w, y' = c x - y - x z,
# z' = x y - b z, w' = -y z + r w
def _hyper_lorenz(s, a, b, c, r):
    x, y, z, w = unpack(s)
    return stack(a * (y - x) + w, c * x - y - x * z, x * y - b * z, -y * z + r * w)


def _hyper_lorenz_jac(s, a, b, c, r):
    x, y, z, w = unpack(s)
    return matrix([[-a, a, 0, 1], [c - z, -1, -x, 0], [y, x, -b, 0], [0, -z, -y, r]])


# Jia (2007) hyperchaotic Lorenz: x' = a (y - x) + w, y' = c x - y - x z, z' = x y - b z,
# w' = -x z + r w
def _hyper_jia(s, a, b, c, r):
    x, y, z, w = unpack(s)
    return stack(a * (y - x) + w, c * x - y - x * z, x * y - b * z, -x * z + r * w)


def _hyper_jia_jac(s, a, b, c, r):
    x, y, z, w = unpack(s)
    return matrix([[-a, a, 0, 1], [c - z, -1, -x, 0], [y, x, -b, 0], [-z, 0, -x, r]])


# Li, Tang & Chen (2005) hyperchaotic Chen: x' = a (y - x) + w, y' = d x - x z + c y,
# z' = x y - b z, w' = y z + r w
def _hyper_chen(s, a, b, c, d, r):
    x, y, z, w = unpack(s)
    return stack(a * (y - x) + w, d * x - x * z + c * y, x * y - b * z, y * z + r * w)


def _hyper_chen_jac(s, a, b, c, d, r):
    x, y, z, w = unpack(s)
    return matrix([[-a, a, 0, 1], [d - z, c, -x, 0], [y, x, -b, 0], [0, z, y, r]])


# Chen, Lu, Lü & Yu (2006) hyperchaotic Lü: x' = a (y - x) + w, y' = -x z + c y,
# z' = x y - b z, w' = x z + d w
def _hyper_lu(s, a, b, c, d):
    x, y, z, w = unpack(s)
    return stack(a * (y - x) + w, -x * z + c * y, x * y - b * z, x * z + d * w)


def _hyper_lu_jac(s, a, b, c, d):
    x, y, z, w = unpack(s)
    return matrix([[-a, a, 0, 1], [-z, c, -x, 0], [y, x, -b, 0], [z, 0, x, d]])


# Qi, van Wyk, van Wyk & Chen (2008): x' = a (y - x) + y z, y' = b (x + y) - x z,
# z' = -c z - e w + x y, w' = -d w + f z + x y
def _hyper_qi(s, a, b, c, d, e, f):
    x, y, z, w = unpack(s)
    return stack(
        a * (y - x) + y * z, b * (x + y) - x * z, -c * z - e * w + x * y, -d * w + f * z + x * y
    )


def _hyper_qi_jac(s, a, b, c, d, e, f):
    x, y, z, w = unpack(s)
    return matrix([[-a, a + z, y, 0], [b - z, b, -x, 0], [y, x, -c, -e], [y, x, f, -d]])


# Stenflo (1996) acoustic-gravity waves: x' = a (y - x) + d w, y' = x (r - z) - y,
# z' = x y - b z, w' = -x - a w
def _lorenz_stenflo(s, a, b, d, r):
    x, y, z, w = unpack(s)
    return stack(a * (y - x) + d * w, x * (r - z) - y, x * y - b * z, -x - a * w)


def _lorenz_stenflo_jac(s, a, b, d, r):
    x, y, z, w = unpack(s)
    return matrix([[-a, a, 0, d], [r - z, -1, -x, 0], [y, x, -b, 0], [-1, 0, 0, -a]])


# Baier & Sahle (1995) generalized Rössler of any dimension N >= 3:
# x1' = -x2 + a x1, xi' = x(i-1) - x(i+1), xN' = eps + b xN (x(N-1) - d)
def _baier_sahle(s, a, b, d, eps):
    a, b, d, eps = (np.expand_dims(v, -1) for v in (a, b, d, eps))
    out = np.empty(np.broadcast_shapes(s.shape, a.shape))
    out[..., 0] = (-s[..., 1:2] + a * s[..., 0:1])[..., 0]
    out[..., 1:-1] = s[..., :-2] - s[..., 2:]
    out[..., -1] = (eps + b * s[..., -1:] * (s[..., -2:-1] - d))[..., 0]
    return out


def _baier_sahle_jac(s, a, b, d, eps):
    n = s.shape[-1]
    batch = np.broadcast_shapes(s.shape[:-1], np.shape(a))
    jac = np.zeros(batch + (n, n))
    jac[..., 0, 0] = a
    jac[..., 0, 1] = -1.0
    i = np.arange(1, n - 1)
    jac[..., i, i - 1] = 1.0
    jac[..., i, i + 1] = -1.0
    jac[..., n - 1, n - 2] = b * s[..., -1]
    jac[..., n - 1, n - 1] = b * (s[..., -2] - d)
    return jac


SPECS: dict[str, Spec] = {
    "HyperRossler": Spec("flow", 4, ("a", "b", "c", "d"), _hyper_rossler, _hyper_rossler_jac),
    "HyperLorenz": Spec("flow", 4, ("a", "b", "c", "r"), _hyper_lorenz, _hyper_lorenz_jac),
    "HyperJia": Spec("flow", 4, ("a", "b", "c", "r"), _hyper_jia, _hyper_jia_jac),
    "HyperChen": Spec("flow", 4, ("a", "b", "c", "d", "r"), _hyper_chen, _hyper_chen_jac),
    "HyperLu": Spec("flow", 4, ("a", "b", "c", "d"), _hyper_lu, _hyper_lu_jac),
    "HyperQi": Spec("flow", 4, ("a", "b", "c", "d", "e", "f"), _hyper_qi, _hyper_qi_jac),
    "LorenzStenflo": Spec("flow", 4, ("a", "b", "d", "r"), _lorenz_stenflo, _lorenz_stenflo_jac),
    "BaierSahle": Spec(
        "flow",
        3,
        ("a", "b", "d", "eps"),
        _baier_sahle,
        _baier_sahle_jac,
        variable_dim=True,
        min_dim=3,
    ),
}
