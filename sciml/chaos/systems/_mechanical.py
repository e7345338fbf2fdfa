"""Mechanical and forced oscillators.

Periodically forced oscillators are made autonomous with a neutral harmonic oscillator
``u' = -omega w, w' = omega u`` started at ``(u, w) = (1, 0)``, so ``u = cos(omega t)`` and
``w = sin(omega t)``; it stays on the unit circle and contributes a zero Lyapunov exponent.
Hamiltonian systems (Hénon-Heiles, double pendulum, ABC flow) have no attractor: their ``ic``
lies in the chaotic sea of the energy surface.
"""

from __future__ import annotations

import numpy as np

from ._base import Spec, matrix, stack, unpack

__all__ = ["SPECS"]


def _forcing_rows(omega):
    """Jacobian rows of the phase oscillator ``u' = -omega w, w' = omega u`` (4-D systems)."""
    return [[0, 0, 0, -omega], [0, 0, omega, 0]]


# Duffing (1918), forced: x' = v, v' = -delta v - alpha x - beta x^3 + gamma cos(omega t)
def _duffing(s, delta, alpha, beta, gamma, omega):
    x, v, u, w = unpack(s)
    return stack(v, -delta * v - alpha * x - beta * x**3 + gamma * u, -omega * w, omega * u)


def _duffing_jac(s, delta, alpha, beta, gamma, omega):
    x, v, u, w = unpack(s)
    return matrix(
        [[0, 1, 0, 0], [-alpha - 3 * beta * x**2, -delta, gamma, 0], *_forcing_rows(omega)]
    )


# Van der Pol (1927) forced: x' = v, v' = mu (1 - x^2) v - x + a cos(omega t)
def _forced_vdp(s, mu, a, omega):
    x, v, u, w = unpack(s)
    return stack(v, mu * (1 - x**2) * v - x + a * u, -omega * w, omega * u)


def _forced_vdp_jac(s, mu, a, omega):
    x, v, u, w = unpack(s)
    return matrix(
        [[0, 1, 0, 0], [-2 * mu * x * v - 1, mu * (1 - x**2), a, 0], *_forcing_rows(omega)]
    )


# Forced Brusselator (Tomita & Kai 1979): x' = a + x^2 y - (b + 1) x + f cos(omega t),
# y' = b x - x^2 y
def _brusselator(s, a, b, f, omega):
    x, y, u, w = unpack(s)
    return stack(a + x**2 * y - (b + 1) * x + f * u, b * x - x**2 * y, -omega * w, omega * u)


def _brusselator_jac(s, a, b, f, omega):
    x, y, u, w = unpack(s)
    return matrix(
        [[2 * x * y - (b + 1), x**2, f, 0], [b - 2 * x * y, -(x**2), 0, 0], *_forcing_rows(omega)]
    )


# Shaw (1981) forced van der Pol variant: x' = a y + b x (c - y^2), y' = -x + f sin(omega t)
def _shaw_vdp(s, a, b, c, f, omega):
    x, y, u, w = unpack(s)
    return stack(a * y + b * x * (c - y**2), -x + f * w, -omega * w, omega * u)


def _shaw_vdp_jac(s, a, b, c, f, omega):
    x, y, u, w = unpack(s)
    return matrix(
        [[b * (c - y**2), a - 2 * b * x * y, 0, 0], [-1, 0, 0, f], *_forcing_rows(omega)]
    )


# Damped driven pendulum (Baker & Gollub 1990): theta' = v,
# v' = -v / q - sin(theta) + g cos(omega t)
def _pendulum(s, q, g, omega):
    th, v, u, w = unpack(s)
    return stack(v, -v / q - np.sin(th) + g * u, -omega * w, omega * u)


def _pendulum_jac(s, q, g, omega):
    th, v, u, w = unpack(s)
    return matrix([[0, 1, 0, 0], [-np.cos(th), -1 / q, g, 0], *_forcing_rows(omega)])


# Hénon & Heiles (1964): H = (px^2 + py^2 + x^2 + y^2) / 2 + lam (x^2 y - y^3 / 3)
def _henon_heiles(s, lam):
    x, y, px, py = unpack(s)
    return stack(px, py, -x - 2 * lam * x * y, -y - lam * (x**2 - y**2))


def _henon_heiles_jac(s, lam):
    x, y, px, py = unpack(s)
    return matrix(
        [
            [0, 0, 1, 0],
            [0, 0, 0, 1],
            [-1 - 2 * lam * y, -2 * lam * x, 0, 0],
            [-2 * lam * x, -1 + 2 * lam * y, 0, 0],
        ]
    )


# Double pendulum of point masses m1, m2 on massless rods l1, l2 (Lagrangian equations of motion
# solved for the angular accelerations); state (theta1, theta2, omega1, omega2)
def _dp_terms(s, m1, m2, l1, l2, g):
    t1, t2, w1, w2 = unpack(s)
    d = t1 - t2
    big_m = m1 + m2
    den = 2 * m1 + m2 - m2 * np.cos(2 * d)
    n1 = (
        -g * (2 * m1 + m2) * np.sin(t1)
        - m2 * g * np.sin(t1 - 2 * t2)
        - 2 * m2 * np.sin(d) * (w2**2 * l2 + w1**2 * l1 * np.cos(d))
    )
    inner = w1**2 * l1 * big_m + g * big_m * np.cos(t1) + w2**2 * l2 * m2 * np.cos(d)
    n2 = 2 * np.sin(d) * inner
    return t1, t2, w1, w2, d, big_m, den, n1, n2, inner


def _double_pendulum(s, m1, m2, l1, l2, g):
    t1, t2, w1, w2, d, big_m, den, n1, n2, inner = _dp_terms(s, m1, m2, l1, l2, g)
    return stack(w1, w2, n1 / (l1 * den), n2 / (l2 * den))


def _double_pendulum_jac(s, m1, m2, l1, l2, g):
    t1, t2, w1, w2, d, big_m, den, n1, n2, inner = _dp_terms(s, m1, m2, l1, l2, g)
    sd, cd = np.sin(d), np.cos(d)
    dden = 2 * m2 * np.sin(2 * d)  # d den / d theta1 = -d den / d theta2
    shared = 2 * m2 * (w2**2 * l2 * cd + w1**2 * l1 * np.cos(2 * d))
    dn1_t1 = -g * (2 * m1 + m2) * np.cos(t1) - m2 * g * np.cos(t1 - 2 * t2) - shared
    dn1_t2 = 2 * m2 * g * np.cos(t1 - 2 * t2) + shared
    dn1_w1 = -2 * m2 * l1 * w1 * np.sin(2 * d)
    dn1_w2 = -4 * m2 * sd * w2 * l2
    dn2_t1 = 2 * cd * inner + 2 * sd * (-g * big_m * np.sin(t1) - w2**2 * l2 * m2 * sd)
    dn2_t2 = -2 * cd * inner + 2 * sd * (w2**2 * l2 * m2 * sd)
    dn2_w1 = 4 * sd * w1 * l1 * big_m
    dn2_w2 = 4 * sd * w2 * l2 * m2 * cd

    def quotient(dn, dd, n, ell):
        return (dn * den - n * dd) / (ell * den**2)

    return matrix(
        [
            [0, 0, 1, 0],
            [0, 0, 0, 1],
            [
                quotient(dn1_t1, dden, n1, l1),
                quotient(dn1_t2, -dden, n1, l1),
                dn1_w1 / (l1 * den),
                dn1_w2 / (l1 * den),
            ],
            [
                quotient(dn2_t1, dden, n2, l2),
                quotient(dn2_t2, -dden, n2, l2),
                dn2_w1 / (l2 * den),
                dn2_w2 / (l2 * den),
            ],
        ]
    )


# Arnold-Beltrami-Childress flow (Dombre et al. 1986): x' = A sin z + C cos y,
# y' = B sin x + A cos z, z' = C sin y + B cos x (coordinates on the 2 pi torus)
def _abc(s, a, b, c):
    x, y, z = unpack(s)
    return stack(
        a * np.sin(z) + c * np.cos(y), b * np.sin(x) + a * np.cos(z), c * np.sin(y) + b * np.cos(x)
    )


def _abc_jac(s, a, b, c):
    x, y, z = unpack(s)
    return matrix(
        [
            [0, -c * np.sin(y), a * np.cos(z)],
            [b * np.cos(x), 0, -a * np.sin(z)],
            [-b * np.sin(x), c * np.cos(y), 0],
        ]
    )


# Hoover & Holian (1996) doubly-thermostatted oscillator controlling <p^2> and <p^4>:
# q' = p, p' = -q - zeta p - xi p^3, zeta' = p^2 - T, xi' = p^4 - 3 p^2 T
def _hoover_holian(s, t):
    q, p, zeta, xi = unpack(s)
    return stack(p, -q - zeta * p - xi * p**3, p**2 - t, p**4 - 3 * p**2 * t)


def _hoover_holian_jac(s, t):
    q, p, zeta, xi = unpack(s)
    return matrix(
        [
            [0, 1, 0, 0],
            [-1, -zeta - 3 * xi * p**2, -p, -(p**3)],
            [0, 2 * p, 0, 0],
            [0, 4 * p**3 - 6 * p * t, 0, 0],
        ]
    )


# Ueda & Akamatsu (1981) forced negative-resistance (Duffing-van der Pol) oscillator:
# x' = v, v' = mu (1 - gamma x^2) v - x^3 + B cos(omega t)
def _duffing_vdp(s, mu, gamma, b, omega):
    x, v, u, w = unpack(s)
    return stack(v, mu * (1 - gamma * x**2) * v - x**3 + b * u, -omega * w, omega * u)


def _duffing_vdp_jac(s, mu, gamma, b, omega):
    x, v, u, w = unpack(s)
    return matrix(
        [
            [0, 1, 0, 0],
            [-2 * mu * gamma * x * v - 3 * x**2, mu * (1 - gamma * x**2), b, 0],
            *_forcing_rows(omega),
        ]
    )


# Matinyan, Savvidy & Ter-Arutyunyan-Savvidy (1981) Yang-Mills (x^2 y^2) oscillator:
# H = (px^2 + py^2) / 2 + g x^2 y^2 / 2
def _yang_mills(s, g):
    x, y, px, py = unpack(s)
    return stack(px, py, -g * x * y**2, -g * x**2 * y)


def _yang_mills_jac(s, g):
    x, y, px, py = unpack(s)
    return matrix(
        [
            [0, 0, 1, 0],
            [0, 0, 0, 1],
            [-g * y**2, -2 * g * x * y, 0, 0],
            [-2 * g * x * y, -g * x**2, 0, 0],
        ]
    )


# Martyna, Klein & Tuckerman (1992) Nosé-Hoover chain of length two on a harmonic oscillator:
# q' = p, p' = -q - z1 p, z1' = (p^2 - T) / Q - z1 z2, z2' = (Q z1^2 - T) / Q
def _nh_chain(s, t, q):
    x, p, z1, z2 = unpack(s)
    return stack(p, -x - z1 * p, (p**2 - t) / q - z1 * z2, (q * z1**2 - t) / q)


def _nh_chain_jac(s, t, q):
    x, p, z1, z2 = unpack(s)
    return matrix(
        [
            [0, 1, 0, 0],
            [-1, -z1, -p, 0],
            [0, 2 * p / q, -z2, -z1],
            [0, 0, 2 * z1, 0],
        ]
    )


# Pullen & Edmonds (1981) quartic oscillator: H = (px^2 + py^2 + x^2 + y^2) / 2 + alpha x^2 y^2
def _pullen_edmonds(s, alpha):
    x, y, px, py = unpack(s)
    return stack(px, py, -x - 2 * alpha * x * y**2, -y - 2 * alpha * x**2 * y)


def _pullen_edmonds_jac(s, alpha):
    x, y, px, py = unpack(s)
    return matrix(
        [
            [0, 0, 1, 0],
            [0, 0, 0, 1],
            [-1 - 2 * alpha * y**2, -4 * alpha * x * y, 0, 0],
            [-4 * alpha * x * y, -1 - 2 * alpha * x**2, 0, 0],
        ]
    )


SPECS: dict[str, Spec] = {
    "Duffing": Spec(
        "flow", 4, ("delta", "alpha", "beta", "gamma", "omega"), _duffing, _duffing_jac
    ),
    "Ueda": Spec("flow", 4, ("delta", "alpha", "beta", "gamma", "omega"), _duffing, _duffing_jac),
    "ForcedVanDerPol": Spec("flow", 4, ("mu", "a", "omega"), _forced_vdp, _forced_vdp_jac),
    "ForcedBrusselator": Spec("flow", 4, ("a", "b", "f", "omega"), _brusselator, _brusselator_jac),
    "ShawVanDerPol": Spec("flow", 4, ("a", "b", "c", "f", "omega"), _shaw_vdp, _shaw_vdp_jac),
    "ForcedPendulum": Spec("flow", 4, ("q", "g", "omega"), _pendulum, _pendulum_jac),
    "HenonHeiles": Spec("flow", 4, ("lam",), _henon_heiles, _henon_heiles_jac),
    "DoublePendulum": Spec(
        "flow", 4, ("m1", "m2", "l1", "l2", "g"), _double_pendulum, _double_pendulum_jac
    ),
    "ArnoldBeltramiChildress": Spec("flow", 3, ("A", "B", "C"), _abc, _abc_jac),
    "HooverHolian": Spec("flow", 4, ("T",), _hoover_holian, _hoover_holian_jac),
    "DuffingVanDerPol": Spec(
        "flow", 4, ("mu", "gamma", "B", "omega"), _duffing_vdp, _duffing_vdp_jac
    ),
    "YangMills": Spec("flow", 4, ("g",), _yang_mills, _yang_mills_jac),
    "NoseHooverChain": Spec("flow", 4, ("T", "Q"), _nh_chain, _nh_chain_jac),
    "PullenEdmonds": Spec("flow", 4, ("alpha",), _pullen_edmonds, _pullen_edmonds_jac),
}
