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

__all__ = ["System", "DelaySystem", "Spec", "get_system", "list_systems", "all_specs"]
