r"""Context/target sets of the GPME problems for neural-process training and evaluation.

Hansen et al., "Learning Physical Models that Can Respect Conservation Laws", ICML 2023
(arXiv 2302.11002), Sec. 4 and App. D/E. Each *function* is one exact GPME solution
:math:`u(t, x; \theta)`. Its context set holds :math:`n_t \times n_x = 10 \times 10` points:
:math:`n_t` stratified times (one uniform draw in each of :math:`n_t` equal sub-intervals of the
time domain) crossed with :math:`n_x` sorted uniform positions, with the exact :math:`u` values.
Training targets are drawn the same way; evaluation targets are a dense uniform (t, x) grid
(paper: 201 x 201). Training parameters are uniform in the problem's training range (optionally
Beta(a, a) on it, more weight near the edges); the test set uses the paper's test values.

Network inputs are the coordinates rescaled to :math:`[0, 1]^2` (:func:`normalise_inputs`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xarray as xr
from numpy.typing import ArrayLike

from sciml.errors import DataError
from sciml.gpme import exact_solution, exact_total_mass, get_problem, trapezoid_weights

__all__ = [
    "ContextTargetSet",
    "TestSet",
    "sample_points",
    "make_training_set",
    "make_test_set",
    "normalise_inputs",
    "test_grid_from_dataset",
]


@dataclass(frozen=True)
class ContextTargetSet:
    """Context and target points of ``F`` functions (physical coordinates, float64).

    Attributes
    ----------
    problem : problem name.
    param : ndarray, shape (F,), the PDE parameter of each function.
    x_context : ndarray, shape (F, Nc, 2), columns (t, x).
    y_context : ndarray, shape (F, Nc), exact u at the context points.
    x_target : ndarray, shape (F, Nt, 2).
    y_target : ndarray, shape (F, Nt).
    """

    problem: str
    param: np.ndarray
    x_context: np.ndarray
    y_context: np.ndarray
    x_target: np.ndarray
    y_target: np.ndarray

    def __len__(self) -> int:
        return int(self.param.shape[0])


@dataclass(frozen=True)
class TestSet:
    """Test functions of one parameter value: contexts plus the dense evaluation grid.

    Attributes
    ----------
    problem, param : problem name and the parameter value (float).
    x_context : ndarray, shape (F, Nc, 2); y_context : ndarray, shape (F, Nc).
    t : ndarray, shape (T,); x : ndarray, shape (X,), the evaluation grid.
    u : ndarray, shape (T, X), exact solution on the grid (same for every function).
    mass : ndarray, shape (T,), exact conserved total U(t).
    g : ndarray, shape (X,), trapezoid weights (the constraint row G).
    """

    problem: str
    param: float
    x_context: np.ndarray
    y_context: np.ndarray
    t: np.ndarray
    x: np.ndarray
    u: np.ndarray
    mass: np.ndarray
    g: np.ndarray

    @property
    def grid_inputs(self) -> np.ndarray:
        """All (t, x) grid points, shape (T * X, 2), t-major (reshape values to (T, X))."""
        tt, xx = np.meshgrid(self.t, self.x, indexing="ij")
        return np.stack([tt.ravel(), xx.ravel()], axis=-1)


def sample_points(
    problem: str,
    params: ArrayLike,
    n_t: int,
    n_x: int,
    seed: int | np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    r"""Stratified-t by sorted-uniform-x point sets with exact values, one per function.

    For each function, :math:`t_i = t_0 + (i + U_i)(t_1 - t_0)/n_t`, :math:`i < n_t`, and
    :math:`x_{(1)} < \dots < x_{(n_x)}` sorted uniform draws on the x domain; the set is the
    product :math:`\{t_i\} \times \{x_j\}`.

    Parameters
    ----------
    problem : ``diffusion``, ``pme`` or ``stefan``.
    params : array_like, shape (F,), the PDE parameter per function.
    n_t, n_x : points per function in t and x.
    seed : int or ``numpy.random.Generator``.

    Returns
    -------
    inputs : ndarray, shape (F, n_t * n_x, 2), columns (t, x), t-major.
    values : ndarray, shape (F, n_t * n_x), exact u.

    Raises
    ------
    DataError
        Non-finite parameters or non-positive counts.
    """
    spec = get_problem(problem)
    p = np.atleast_1d(np.asarray(params, dtype=np.float64))
    if p.ndim != 1 or not np.all(np.isfinite(p)):
        raise DataError(f"params must be a finite 1-D array; got shape {p.shape}")
    if int(n_t) < 1 or int(n_x) < 1:
        raise DataError(f"n_t and n_x must be >= 1; got {n_t}, {n_x}")
    rng = np.random.default_rng(seed)
    n_f = p.shape[0]
    t0, t1 = spec.t_domain
    x0, x1 = spec.x_domain
    t = t0 + (np.arange(n_t) + rng.uniform(size=(n_f, n_t))) * (t1 - t0) / n_t
    x = np.sort(rng.uniform(x0, x1, size=(n_f, n_x)), axis=-1)
    # One call per function (vectorised over its n_t x n_x points); the exact solutions take a
    # shared (t, x) grid per call.
    values = np.stack([exact_solution(problem, p[i : i + 1], t[i], x[i])[0] for i in range(n_f)])
    tt = np.broadcast_to(t[:, :, None], (n_f, n_t, n_x))
    xx = np.broadcast_to(x[:, None, :], (n_f, n_t, n_x))
    inputs = np.stack([tt, xx], axis=-1).reshape(n_f, n_t * n_x, 2)
    return inputs, values.reshape(n_f, n_t * n_x)


def make_training_set(
    problem: str,
    n_functions: int,
    seed: int,
    n_context_t: int = 10,
    n_context_x: int = 10,
    n_target_t: int = 10,
    n_target_x: int = 10,
    param_beta: float = 1.0,
) -> ContextTargetSet:
    """Training functions: parameters drawn in the training range, contexts and targets sampled.

    Parameters
    ----------
    problem : problem name.
    n_functions : number of functions F.
    seed : seed of the parameter, context and target draws.
    n_context_t, n_context_x : context grid per function (paper: 10 x 10).
    n_target_t, n_target_x : target grid per function (paper: 10 x 10).
    param_beta : a > 0: the parameters are ``lo + (hi - lo) * Beta(a, a)`` on the training range
        ``[lo, hi]``; 1 is the uniform draw of the paper, a < 1 puts more functions near both
        edges (density ~ (s (1 - s))^(a - 1)), where a network fitted to a uniform draw regresses
        towards the interior (e.g. too little mass at the top of the PME range).

    Returns
    -------
    ContextTargetSet
    """
    spec = get_problem(problem)
    if int(n_functions) < 1:
        raise DataError(f"n_functions must be >= 1; got {n_functions}")
    if not (np.isfinite(param_beta) and param_beta > 0):
        raise DataError(f"param_beta must be a finite number > 0; got {param_beta}")
    rng = np.random.default_rng(seed)
    lo, hi = spec.train_range
    if param_beta == 1.0:  # the uniform draw (same stream as before the option existed)
        params = rng.uniform(lo, hi, size=int(n_functions))
    else:
        params = lo + (hi - lo) * rng.beta(param_beta, param_beta, size=int(n_functions))
    xc, yc = sample_points(problem, params, n_context_t, n_context_x, rng)
    xt, yt = sample_points(problem, params, n_target_t, n_target_x, rng)
    return ContextTargetSet(problem, params, xc, yc, xt, yt)


def make_test_set(
    problem: str,
    param: float,
    n_functions: int,
    n_t: int,
    n_x: int,
    seed: int,
    n_context_t: int = 10,
    n_context_x: int = 10,
    grid: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> TestSet:
    """Test functions at one parameter value: ``n_functions`` context draws and the dense grid.

    The exact solution is the same for every function of one parameter value; the functions differ
    in their context sets (as in the paper's test sets).

    Parameters
    ----------
    problem : problem name.
    param : the test parameter value (may lie outside the training range).
    n_functions : number of context draws.
    n_t, n_x : evaluation grid size (paper: 201 x 201).
    seed : seed of the context draws.
    n_context_t, n_context_x : context grid per function (paper: 10 x 10).
    grid : optional precomputed ``(t, x, u, mass)`` (e.g. read from ``gpme/<problem>/test``),
        shapes (T,), (X,), (T, X), (T,); replaces the exact evaluation on the grid.

    Returns
    -------
    TestSet
    """
    spec = get_problem(problem)
    if int(n_functions) < 1 or int(n_t) < 2 or int(n_x) < 2:
        raise DataError(
            f"need n_functions >= 1 and a grid of >= 2 x 2 points; got {n_functions}, {n_t}x{n_x}"
        )
    if not np.isfinite(param):
        raise DataError(f"param must be finite; got {param!r}")
    params = np.full(int(n_functions), float(param))
    xc, yc = sample_points(problem, params, n_context_t, n_context_x, seed)
    if grid is None:
        t, x = spec.grid(int(n_t), int(n_x))
        u = exact_solution(problem, [float(param)], t, x)[0]
        mass = exact_total_mass(problem, [float(param)], t)[0]
    else:
        t, x, u, mass = (np.asarray(a, dtype=np.float64) for a in grid)
        if t.ndim != 1 or x.ndim != 1 or u.shape != (t.size, x.size) or mass.shape != t.shape:
            raise DataError(
                f"grid must be (t (T,), x (X,), u (T, X), mass (T,)); got shapes {t.shape}, "
                f"{x.shape}, {u.shape}, {mass.shape}"
            )
        if not (np.all(np.isfinite(u)) and np.all(np.isfinite(mass))):
            raise DataError("grid u or mass holds NaN or infinite values")
    return TestSet(problem, float(param), xc, yc, t, x, u, mass, trapezoid_weights(x))


def test_grid_from_dataset(
    ds: xr.Dataset | None, param: float, n_t: int, n_x: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
    """``(t, x, u, mass)`` of the test value ``param`` from a ``gpme/<problem>/test`` dataset.

    ``None`` when there is no dataset, its grid is not ``n_t`` x ``n_x``, or it does not hold
    ``param``: the caller then evaluates the exact solution on its own grid.

    Parameters
    ----------
    ds : dataset with dims (function, t, x), variables ``u`` (function, t, x) and
        ``mass`` (function, t), and a ``param`` coordinate along ``function``; or None.
    param : the test parameter value.
    n_t, n_x : the evaluation grid the caller needs.
    """
    if ds is None or ds.sizes.get("t") != n_t or ds.sizes.get("x") != n_x:
        return None
    hit = np.flatnonzero(np.isclose(ds["param"].values, param))
    if hit.size == 0:
        return None
    sel = ds.isel(function=int(hit[0])).load()
    return sel.t.values, sel.x.values, sel.u.values, sel.mass.values


def normalise_inputs(problem: str, inputs: ArrayLike) -> np.ndarray:
    """Rescale (t, x) columns to [0, 1] by the problem's domains (network inputs), float32.

    Parameters
    ----------
    problem : problem name.
    inputs : array_like, shape (..., 2), columns (t, x).

    Returns
    -------
    ndarray, shape (..., 2), float32.
    """
    spec = get_problem(problem)
    a = np.asarray(inputs, dtype=np.float64)
    if a.shape[-1:] != (2,):
        raise DataError(f"inputs must have a last axis of size 2 (t, x); got shape {a.shape}")
    if not np.all(np.isfinite(a)):
        raise DataError("inputs hold NaN or infinite coordinates")
    lo = np.array([spec.t_domain[0], spec.x_domain[0]])
    span = np.array([spec.t_domain[1] - spec.t_domain[0], spec.x_domain[1] - spec.x_domain[0]])
    return ((a - lo) / span).astype(np.float32)


def domain_scales(problem: str) -> tuple[float, float]:
    """Lengths (t1 - t0, x1 - x0) of the problem's domains (chain rule of normalised inputs)."""
    spec = get_problem(problem)
    return spec.t_domain[1] - spec.t_domain[0], spec.x_domain[1] - spec.x_domain[0]
