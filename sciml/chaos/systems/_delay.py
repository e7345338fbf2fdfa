"""Chaotic delay differential equations ``x'(t) = f(x(t), x(t - tau))``.

``rhs(s, sd, *p)`` takes the current state ``s`` and the delayed state ``sd`` (each
``(..., dim)``); ``jac`` returns the pair ``(df/dx, df/dx_delayed)``. ``tau`` is always the last
parameter.
"""

from __future__ import annotations

import numpy as np

from ._base import Spec, matrix, stack, unpack

__all__ = ["SPECS"]


# Mackey & Glass (1977): x' = beta x_tau / (1 + x_tau^n) - gamma x
def _mackey_glass(s, sd, beta, gamma, n, tau):
    (x,) = unpack(s)
    (xd,) = unpack(sd)
    return stack(beta * xd / (1 + xd**n) - gamma * x)


def _mackey_glass_jac(s, sd, beta, gamma, n, tau):
    (x,) = unpack(s)
    (xd,) = unpack(sd)
    q = xd**n
    return (
        matrix([[-gamma + 0 * x]]),
        matrix([[beta * (1 + (1 - n) * q) / (1 + q) ** 2]]),
    )


# Ikeda & Matsumoto (1987) delayed-feedback optical system: x' = -x + mu sin(x_tau - x0)
def _ikeda_delay(s, sd, mu, x0, tau):
    (x,) = unpack(s)
    (xd,) = unpack(sd)
    return stack(-x + mu * np.sin(xd - x0))


def _ikeda_delay_jac(s, sd, mu, x0, tau):
    (x,) = unpack(s)
    (xd,) = unpack(sd)
    return matrix([[-1 + 0 * x]]), matrix([[mu * np.cos(xd - x0)]])


SPECS: dict[str, Spec] = {
    "MackeyGlass": Spec(
        "delay", 1, ("beta", "gamma", "n", "tau"), _mackey_glass, _mackey_glass_jac
    ),
    "IkedaDelay": Spec("delay", 1, ("mu", "x0", "tau"), _ikeda_delay, _ikeda_delay_jac),
}
