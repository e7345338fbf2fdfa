"""The problems of ProbConserv: exact solutions, problem settings, conservation integrals.

The generalized porous medium equation (diffusion, porous medium, Stefan) and the hyperbolic laws
(linear advection, inviscid Burgers). Reference: Hansen et al., "Learning Physical Models that
Can Respect Conservation Laws", ICML 2023, Sec. 4 and App. D.
"""

from sciml.gpme.data import make_gpme_dataset, sample_parameters, validation_parameters
from sciml.gpme.exact import (
    FRONT_PROBLEMS,
    advection_exact_solution,
    advection_total_mass,
    boundary_fluxes,
    burgers_exact_solution,
    burgers_total_mass,
    diffusion_exact_solution,
    diffusion_total_mass,
    exact_solution,
    exact_total_mass,
    flux,
    front_position,
    pme_exact_solution,
    pme_total_mass,
    stefan_alpha,
    stefan_exact_solution,
    stefan_total_mass,
)
from sciml.gpme.integrals import total_from_fluxes, total_mass, trapezoid_weights
from sciml.gpme.problems import HYPERBOLIC, PROBLEMS, ProblemSpec, get_problem

__all__ = [
    "PROBLEMS",
    "HYPERBOLIC",
    "FRONT_PROBLEMS",
    "advection_exact_solution",
    "advection_total_mass",
    "burgers_exact_solution",
    "burgers_total_mass",
    "boundary_fluxes",
    "flux",
    "ProblemSpec",
    "get_problem",
    "diffusion_exact_solution",
    "pme_exact_solution",
    "stefan_exact_solution",
    "diffusion_total_mass",
    "pme_total_mass",
    "stefan_total_mass",
    "stefan_alpha",
    "exact_solution",
    "exact_total_mass",
    "front_position",
    "trapezoid_weights",
    "total_mass",
    "total_from_fluxes",
    "sample_parameters",
    "validation_parameters",
    "make_gpme_dataset",
]
