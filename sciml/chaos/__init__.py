"""Chaotic-system benchmark: catalogue, batched integration, invariants, forecasting benchmark.

Reference: W. Gilpin, "Chaos as an interpretable benchmark for forecasting and data-driven
modelling", NeurIPS 2021 Datasets and Benchmarks Track.
"""

from .benchmark import (
    GRANULARITIES,
    NOISES,
    SPLITS,
    generate_many,
    generate_system,
    history_forecast,
    plan_chunks,
)
from .datasets import (
    benchmark_to_dataset,
    correlations_to_dataset,
    forecast_to_dataset,
    invariants_to_dataset,
)
from .integrate import (
    BatchResult,
    integrate,
    iterate_map,
    solve_dde,
    solve_ode,
    solve_sde,
    solve_stiff,
)
from .invariants import (
    INVARIANT_FIELDS,
    correlation_dimension,
    dominant_period,
    estimate_invariants,
    kaplan_yorke_dimension,
    lyapunov_spectrum,
    max_lyapunov_two_trajectory,
    pesin_entropy,
)
from .systems import System, get_system, list_systems
from .trajectory import Trajectory, make_trajectory, sample_ics, time_grid

__all__ = [
    "System",
    "get_system",
    "list_systems",
    "BatchResult",
    "integrate",
    "iterate_map",
    "solve_dde",
    "solve_ode",
    "solve_sde",
    "solve_stiff",
    "Trajectory",
    "make_trajectory",
    "sample_ics",
    "time_grid",
    "INVARIANT_FIELDS",
    "correlation_dimension",
    "dominant_period",
    "estimate_invariants",
    "invariants_to_dataset",
    "kaplan_yorke_dimension",
    "lyapunov_spectrum",
    "max_lyapunov_two_trajectory",
    "pesin_entropy",
    "GRANULARITIES",
    "NOISES",
    "SPLITS",
    "generate_many",
    "plan_chunks",
    "generate_system",
    "history_forecast",
    "benchmark_to_dataset",
    "correlations_to_dataset",
    "forecast_to_dataset",
]
