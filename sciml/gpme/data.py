"""Train/validation/test datasets of the ProbConserv problems as xarray (Hansen et al., ICML 2023, Sec. 4).

Training functions draw their parameter uniformly from the problem's training range; validation
functions too, from a stream of their own (model selection and champion/challenger scoring use
them, never the test values); test functions take the paper's test values. Each dataset holds the
exact solution on a (t, x) grid and its exact conserved total U(t).
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from sciml.errors import DataError
from sciml.gpme.exact import exact_solution, exact_total_mass
from sciml.gpme.problems import get_problem

__all__ = ["sample_parameters", "validation_parameters", "make_gpme_dataset"]


def sample_parameters(problem: str, n_functions: int, seed: int) -> np.ndarray:
    """Draw ``n_functions`` parameters uniformly from the problem's training range (seeded), sorted."""
    spec = get_problem(problem)
    if n_functions < 1:
        raise DataError(f"n_functions must be >= 1; got {n_functions}")
    rng = np.random.default_rng(seed)
    return np.sort(rng.uniform(*spec.train_range, size=n_functions))


def validation_parameters(problem: str, n_functions: int, seed: int) -> np.ndarray:
    """Validation parameters: a uniform draw from the training range, sorted.

    The draw comes from the stream ``SeedSequence([seed, 1])``, independent of
    :func:`sample_parameters` with the same ``seed``, so validation functions are not training
    functions; none is one of the paper's test values (a continuous draw).

    Parameters
    ----------
    problem : a problem name (:data:`~sciml.gpme.PROBLEMS`).
    n_functions : number of validation functions (>= 1).
    seed : the problem's seed (the one its training draw uses).

    Returns
    -------
    ndarray, shape (n_functions,), increasing, inside ``train_range``.

    Raises
    ------
    DataError
        If ``n_functions < 1``.

    Examples
    --------
    >>> v = validation_parameters("stefan", 3, seed=2)
    >>> bool(((v >= 0.55) & (v <= 0.7)).all()) and not np.isin(v, sample_parameters("stefan", 3, 2)).any()
    True
    """
    spec = get_problem(problem)
    if n_functions < 1:
        raise DataError(f"n_functions must be >= 1; got {n_functions}")
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 1]))
    return np.sort(rng.uniform(*spec.train_range, size=n_functions))


def make_gpme_dataset(
    problem: str, params: np.ndarray, n_t: int, n_x: int, split: str = "train"
) -> xr.Dataset:
    """Exact solutions for ``params`` on the problem's uniform grid, as a Dataset.

    Returns
    -------
    xarray.Dataset with ``u`` (function, t, x) and ``mass`` (function, t), coordinate ``param``
    along ``function`` (so ``.swap_dims(function="param").sel(param=0.6)`` works, and the CLI's
    ``--sel param=0.6`` too).
    """
    spec = get_problem(problem)
    if n_t < 2 or n_x < 2:
        raise DataError(f"grid needs n_t, n_x >= 2; got n_t={n_t}, n_x={n_x}")
    params = np.asarray(params, dtype=np.float64)
    t, x = spec.grid(n_t, n_x)
    u = exact_solution(problem, params, t, x)
    mass = exact_total_mass(problem, params, t)
    ds = xr.Dataset(
        {
            "u": (("function", "t", "x"), u, {"long_name": "solution u(t, x)", "units": "1"}),
            "mass": (
                ("function", "t"),
                mass,
                {"long_name": "exact conserved total U(t) = int u dx", "units": "1"},
            ),
        },
        coords={
            "function": np.arange(params.size),
            "param": ("function", params, {"long_name": spec.param_name, "units": "1"}),
            "t": ("t", t, {"long_name": "time", "units": "1"}),
            "x": ("x", x, {"long_name": "space", "units": "1"}),
        },
        attrs={
            "problem": problem,
            "split": split,
            "param_name": spec.param_name,
            "equation": spec.equation,
            "description": spec.description,
            "eval_time": spec.eval_time,
            "reference": "Hansen et al., ICML 2023, PMLR 202:12469-12510",
        },
    )
    return ds
