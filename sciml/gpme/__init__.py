"""Generalized porous medium equation: exact solutions, problems, conservation integrals.

Reference: Hansen et al., "Learning Physical Models that Can Respect Conservation Laws",
ICML 2023, Sec. 4 and App. D.
"""

from sciml.gpme.data import make_gpme_dataset, sample_parameters, validation_parameters
from sciml.gpme.exact import (
    diffusion_exact_solution,
    diffusion_total_mass,
    exact_solution,
    exact_total_mass,
    front_position,
    pme_exact_solution,
    pme_total_mass,
    stefan_alpha,
    stefan_exact_solution,
    stefan_total_mass,
)
from sciml.gpme.integrals import total_mass, trapezoid_weights
from sciml.gpme.problems import PROBLEMS, ProblemSpec, get_problem

__all__ = [
    "PROBLEMS",
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
    "sample_parameters",
    "validation_parameters",
    "make_gpme_dataset",
]
