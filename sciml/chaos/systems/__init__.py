"""Catalogue of chaotic dynamical systems: flows, maps and delay equations.

Each system is a frozen :class:`System` with a vectorised right-hand side, its analytic Jacobian,
default chaotic parameters, a point on the attractor and literature metadata (citation,
description, period, suggested step, literature Lyapunov exponents where known). The equations are
written from the source papers cited in ``systems.yaml``; the collection mirrors the scope of
Gilpin, "Chaos as an interpretable benchmark for forecasting and data-driven modelling",
NeurIPS 2021 Datasets and Benchmarks.

Examples
--------
>>> from sciml.chaos.systems import get_system
>>> s = get_system("Lorenz")
>>> s.rhs(s.ic).shape, s.jac(s.ic).shape
((3,), (3, 3))
"""

from ._base import DelaySystem, Spec, System
from ._registry import all_specs, get_system, list_systems

__all__ = ["System", "DelaySystem", "Spec", "get_system", "list_systems", "all_specs",
           "compiled_rhs"]


def compiled_rhs(system):
    """The compiled right-hand side of a non-polynomial flow, or None if it has none.

    ``system`` is a :class:`System` or a name. The function has the signature of
    :func:`~sciml.chaos.integrate.solve_ode_compiled`'s ``rhs`` and takes the system's
    parameters (``param_names`` order) as ``p``. Importing it loads numba (seconds), so it is done
    here on first use, not at ``import sciml.chaos``.
    """
    from ._compiled import COMPILED_RHS

    name = system if isinstance(system, str) else system.name
    if not isinstance(system, str) and system.kind != "flow":
        return None
    return COMPILED_RHS.get(name)
