"""The problems of ProbConserv (Hansen et al., ICML 2023, Sec. 4 and App. D).

Three GPME problems, u_t = d/dx (k(u) u_x) (diffusion, porous medium, Stefan), and two hyperbolic
conservation laws u_t + F(u)_x = 0 with shocks (linear advection, inviscid Burgers), each with a
closed-form solution; this module only records the domains, parameter ranges and evaluation times
the paper uses.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sciml.errors import unknown_name

__all__ = ["ProblemSpec", "PROBLEMS", "HYPERBOLIC", "get_problem"]


@dataclass(frozen=True)
class ProblemSpec:
    """Domain, parameter and evaluation settings of one GPME problem.

    Attributes
    ----------
    name : identifier (``diffusion``, ``pme``, ``stefan``).
    param_name : symbol of the scalar parameter (``k``, ``m``, ``u_star``).
    x_domain, t_domain : closed intervals of the grid.
    train_range : interval the training parameters are drawn from (uniformly).
    test_values : the paper's test parameter values (may lie outside ``train_range``).
    eval_time : the time at which the paper reports its metrics.
    periodic : whether x is periodic (the grid then excludes the right end point).
    description : the diffusivity k(u) or the flux F(u) in words.
    equation : the PDE.
    """

    name: str
    param_name: str
    x_domain: tuple[float, float]
    t_domain: tuple[float, float]
    train_range: tuple[float, float]
    test_values: tuple[float, ...]
    eval_time: float
    periodic: bool
    description: str
    equation: str = "u_t = d/dx(k(u) u_x)"

    def grid(self, n_t: int, n_x: int) -> tuple[np.ndarray, np.ndarray]:
        """Uniform (t, x) grid of the problem; t starts at ``t_domain[0]`` and ends at ``t_domain[1]``.

        For periodic problems the x grid holds ``n_x`` points including both end points, so the
        trapezoid rule on it is the periodic rectangle rule.
        """
        t = np.linspace(*self.t_domain, n_t)
        x = np.linspace(*self.x_domain, n_x)
        return t, x


PROBLEMS: dict[str, ProblemSpec] = {
    "diffusion": ProblemSpec(
        name="diffusion",
        param_name="k",
        x_domain=(0.0, 2.0 * np.pi),
        t_domain=(0.0, 1.0),
        train_range=(1.0, 5.0),
        test_values=(1.0, 5.0),
        eval_time=0.5,
        periodic=True,
        description="constant diffusivity k(u) = k (heat equation), periodic on [0, 2 pi]",
    ),
    "pme": ProblemSpec(
        name="pme",
        param_name="m",
        x_domain=(0.0, 1.0),
        t_domain=(0.0, 1.0),
        train_range=(1.0, 6.0),
        test_values=(1.0, 3.0, 6.0),
        eval_time=0.5,
        periodic=False,
        description="porous medium equation, k(u) = u^m (degenerate parabolic, sharp front)",
    ),
    "stefan": ProblemSpec(
        name="stefan",
        param_name="u_star",
        x_domain=(0.0, 1.0),
        t_domain=(0.0, 0.1),
        train_range=(0.55, 0.7),
        test_values=(0.6, 0.5),
        eval_time=0.05,
        periodic=False,
        description="Stefan problem, k(u) = 1 if u >= u* else 0 (discontinuous solution, moving front)",
    ),
    "advection": ProblemSpec(
        name="advection",
        param_name="a",
        x_domain=(0.0, 1.0),
        t_domain=(0.0, 1.0),
        train_range=(1.0, 5.0),
        test_values=(1.0, 3.0),
        eval_time=0.1,
        periodic=False,
        description="linear advection, F(u) = a u, of the step u(0, x) = 1{x <= 0.5} with inflow 1 at "
        "x = 0 (a jump moving at speed a)",
        equation="u_t + a u_x = 0",
    ),
    "burgers": ProblemSpec(
        name="burgers",
        param_name="a",
        x_domain=(-1.0, 1.0),
        t_domain=(0.0, 1.0),
        train_range=(1.0, 4.0),
        test_values=(1.0, 3.0),
        eval_time=0.5,
        periodic=False,
        description="inviscid Burgers, F(u) = u^2 / 2, of a compression ramp from a to 0 that breaks "
        "into a shock at t = 1/a (moving at the Rankine-Hugoniot speed a/2)",
        equation="u_t + (u^2 / 2)_x = 0",
    ),
}

#: the hyperbolic problems (u_t + F(u)_x = 0): their totals change by boundary fluxes
HYPERBOLIC: tuple[str, ...] = ("advection", "burgers")


def get_problem(name: str) -> ProblemSpec:
    """Return the :class:`ProblemSpec` named ``name``; unknown names list the known ones."""
    try:
        return PROBLEMS[name]
    except KeyError:
        raise unknown_name("GPME problem", name, list(PROBLEMS)) from None
