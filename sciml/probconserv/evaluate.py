r"""Evaluation of ANP, ProbConserv-ANP, HardC-ANP and SoftC-ANP on the test sets of every problem.

Hansen et al., ICML 2023 (arXiv 2302.11002), Sec. 4 (Tables 1-3, Figs. 3-6). For each test
parameter value and each test function (a context draw), the black box predicts a mean and std on
the dense (t, x) grid; ProbConserv conditions each time slice on :math:`G u = U(t)`
(:func:`~sciml.probconserv.update.probconserv_update`, all functions and times in one call), HardC
projects the mean, SoftC is a separately trained network. Scores over all t (curves) and at the
paper's evaluation time; for the problems with a front (PME, Stefan, advection, Burgers) the
front position posterior from draws of each model's predictive distribution at the evaluation
time (ProbConserv: its full diagonal-plus-low-rank covariance; the others: their diagonal).

With ``nonneg=True`` the problems whose solution is non-negative (PME, Stefan, advection,
Burgers) get the paper's non-negativity post-processing, applied to every model alike
(:func:`~sciml.probconserv.postprocess.nonneg_projection`): each mean and each posterior draw is
projected onto :math:`u \ge 0` in the metric of its model's precision (ANP, SoftC: clipping;
ProbConserv: the posterior precision, so :math:`G u = b` is kept; HardC: the Euclidean projection
onto :math:`\{u \ge 0, G u = b\}`, i.e. HardC applied to each draw). Standard deviations are
left as predicted.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from sciml.errors import DataError
from sciml.gpme import FRONT_PROBLEMS, front_position, get_problem, trapezoid_weights
from sciml.probconserv.data import TestSet, normalise_inputs
from sciml.probconserv.hardc import hardc_projection
from sciml.probconserv.metrics import (
    conservation_error,
    log_likelihood,
    shock_position,
    squared_error,
)
from sciml.probconserv.model import AttentiveNeuralProcess, predict_anp
from sciml.probconserv.postprocess import nonneg_projection
from sciml.probconserv.refine import coarse_nodes, refined_grid, refined_update
from sciml.probconserv.update import ConstrainedGaussian, probconserv_update

__all__ = [
    "MODELS",
    "NONNEGATIVE_PROBLEMS",
    "ParamResult",
    "evaluate_param",
    "evaluate_prediction",
    "predict_on_grid",
    "predict_refined",
]

MODELS: tuple[str, ...] = ("ANP", "ProbConserv-ANP", "HardC-ANP", "SoftC-ANP")
# Problems whose exact solution is non-negative (the non-negativity post-processing applies).
NONNEGATIVE_PROBLEMS: tuple[str, ...] = ("pme", "stefan", "advection", "burgers")


@dataclass
class ParamResult:
    """Predictions and scores of every model for one problem and one test parameter value.

    Attributes
    ----------
    problem, param : problem name and parameter value.
    models : model labels, length M.
    t, x : evaluation grid, (T,), (X,); eval_index : index of the paper's evaluation time in t.
    u, mass : exact solution (T, X) and conserved total (T,).
    mean, std : predictive mean and marginal std, (M, F, T, X), float64.
    mse_t, ce_t, ll_t : scores per model, function and time, (M, F, T).
    ce_truth_t : conservation error of the exact solution on the grid, (T,).
    ce_constraint_t : CE on the grid each model's constraint is applied on, (M, F, T): ProbConserv's
        on its refined grid (``refine > 1``), every other's the evaluation grid's (``ce_t``).
    front_draws : front positions drawn at the evaluation time, (M, F, D), or None (diffusion).
    front_true : exact front at the evaluation time, or None.
    """

    problem: str
    param: float
    models: tuple[str, ...]
    t: np.ndarray
    x: np.ndarray
    eval_index: int
    u: np.ndarray
    mass: np.ndarray
    mean: np.ndarray
    std: np.ndarray
    mse_t: np.ndarray
    ce_t: np.ndarray
    ll_t: np.ndarray
    ce_truth_t: np.ndarray
    front_draws: np.ndarray | None
    front_true: float | None
    ce_constraint_t: np.ndarray | None = None


def predict_on_grid(
    model: AttentiveNeuralProcess, test: TestSet, n_samples: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """An ANP's moment-matched mean and std on the test set's dense grid, each (F, T, X)."""
    grid = normalise_inputs(test.problem, test.grid_inputs)
    xc = normalise_inputs(test.problem, test.x_context)
    mean, std = predict_anp(model, xc, test.y_context, grid, n_samples=n_samples, seed=seed)
    shape = (mean.shape[0], test.t.size, test.x.size)
    return mean.reshape(shape), std.reshape(shape)


def _seeds(seed: int) -> np.ndarray:
    """Seeds of the ANP's latents, SoftC's latents and the posterior draws of one evaluation."""
    return np.random.SeedSequence([int(seed), 7]).generate_state(3)


def _gaussian(name: str, pair: tuple[ArrayLike, ArrayLike], test: TestSet) -> tuple[np.ndarray, np.ndarray]:
    """A prediction's mean and std as float64 (F, T, X) arrays on the test grid, checked."""
    shape = (test.t.size, test.x.size)
    mean, std = (np.asarray(a, dtype=np.float64) for a in pair)
    if mean.ndim != 3 or mean.shape[1:] != shape or std.shape != mean.shape:
        raise DataError(f"{name} mean and std must both be (F, {shape[0]}, {shape[1]}); "
                        f"got {mean.shape} and {std.shape}")  # fmt: skip
    if not (np.all(np.isfinite(mean)) and np.all(std > 0)):
        raise DataError(f"{name} mean must be finite and its std positive")
    return mean, std


def predict_refined(
    model: AttentiveNeuralProcess, test: TestSet, factor: int, n_samples: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """An ANP's moment-matched mean and std on the test grid refined ``factor`` times in x,
    each (F, T, r (X - 1) + 1) (:func:`~sciml.probconserv.refine.refined_grid`)."""
    x_f = refined_grid(test.x, factor)
    tt, xx = np.meshgrid(test.t, x_f, indexing="ij")
    grid = normalise_inputs(test.problem, np.stack([tt.ravel(), xx.ravel()], axis=-1))
    xc = normalise_inputs(test.problem, test.x_context)
    mean, std = predict_anp(model, xc, test.y_context, grid, n_samples=n_samples, seed=seed)
    shape = (mean.shape[0], test.t.size, x_f.size)
    return mean.reshape(shape), std.reshape(shape)


def evaluate_param(
    test: TestSet,
    anp: AttentiveNeuralProcess,
    softc: AttentiveNeuralProcess | None = None,
    *,
    n_latent_samples: int = 10,
    sigma_g: float = 0.0,
    n_shock_draws: int = 500,
    shock_level: float = 0.0,
    nonneg: bool = False,
    refine: int = 1,
    seed: int = 0,
) -> ParamResult:
    """Predict with every model on one test set and score it.

    Parameters
    ----------
    test : the test set (contexts, grid, exact solution).
    anp : trained ANP; softc : trained SoftC-ANP, or None to leave SoftC out.
    n_latent_samples : latent draws per prediction (moment matched).
    sigma_g, n_shock_draws, shock_level, nonneg, refine : see :func:`evaluate_prediction`; with
        ``refine > 1`` the ANP is queried on the refined grid and its values at the evaluation
        nodes are the ANP's prediction (the same latents, so the same numbers).
    seed : seed of latent and posterior draws.

    Returns
    -------
    ParamResult
    """
    seeds = _seeds(seed)
    fine = None
    if int(refine) > 1:
        fine = predict_refined(anp, test, int(refine), n_latent_samples, int(seeds[0]))
        nodes = coarse_nodes(test.x.size, int(refine))
        black_box = (fine[0][..., nodes], fine[1][..., nodes])
    else:
        black_box = predict_on_grid(anp, test, n_latent_samples, int(seeds[0]))
    softc_pred = None if softc is None else predict_on_grid(softc, test, n_latent_samples, int(seeds[1]))
    return evaluate_prediction(test, black_box, softc_pred, sigma_g=sigma_g,
                               n_shock_draws=n_shock_draws, shock_level=shock_level,
                               nonneg=nonneg, refine=refine, fine_box=fine, seed=seed)  # fmt: skip


def evaluate_prediction(
    test: TestSet,
    black_box: tuple[np.ndarray, np.ndarray],
    softc: tuple[np.ndarray, np.ndarray] | None = None,
    *,
    sigma_g: float = 0.0,
    n_shock_draws: int = 500,
    shock_level: float = 0.0,
    nonneg: bool = False,
    refine: int = 1,
    fine_box: tuple[np.ndarray, np.ndarray] | None = None,
    seed: int = 0,
) -> ParamResult:
    """Apply ProbConserv and HardC to a black box's Gaussian prediction and score every model.

    Parameters
    ----------
    test : the test set (grid, exact solution, G and U(t)).
    black_box : its predictive mean and marginal std, each (F, T, X) (the "ANP" of the results;
        any probabilistic black box, or a constructed one in a diagnostic).
    softc : SoftC-ANP's mean and std, or None to leave SoftC out.
    sigma_g : constraint noise std of ProbConserv (0: hard constraint).
    n_shock_draws : posterior draws of each profile for the front position (paper: 500).
    shock_level : the front is the first x where a draw falls to this level.
    nonneg : project means and draws onto u >= 0 (each in its model's metric) on the problems of
        ``NONNEGATIVE_PROBLEMS``; ignored on the others.
    refine : ProbConserv's constraint grid, ``refine`` times finer in x than the evaluation grid
        (:mod:`~sciml.probconserv.refine`): the update (and its non-negativity projection, and its
        posterior draws) on the refined grid, the marginal at the evaluation nodes reported. 1:
        the evaluation grid itself. The other models stay on the evaluation grid.
    fine_box : the black box's mean and std on the refined grid, each (F, T, r (X - 1) + 1);
        needed when ``refine > 1`` (its values at the evaluation nodes should be ``black_box``).
    seed : seed of the posterior draws (the same stream as :func:`evaluate_param` with this seed).

    Returns
    -------
    ParamResult
    """
    spec = get_problem(test.problem)
    seeds = _seeds(seed)
    models = MODELS if softc is not None else MODELS[:3]
    a_mean, a_std = _gaussian("black box", black_box, test)
    project = nonneg and test.problem in NONNEGATIVE_PROBLEMS
    eval_index = int(np.argmin(np.abs(test.t - spec.eval_time)))
    if not np.isclose(test.t[eval_index], spec.eval_time, rtol=0, atol=1e-9):
        raise DataError(
            f"the t grid does not hold the evaluation time {spec.eval_time} of {test.problem!r}; "
            "choose n_t so that it falls on a grid point (e.g. 101 or 201)"
        )
    h_mean, h_std = hardc_projection(a_mean, a_std, test.g, test.mass[None, :])

    def clip(y, var, total=None, sigma=np.inf, g=test.g):
        return nonneg_projection(y, var, g, sigma, total) if project else y

    # per model: its distribution to draw from, and how a mean / a draw at t_e is post-processed
    e = eval_index
    pc_fine_ce = None
    if int(refine) > 1:
        if fine_box is None:
            raise DataError("refine > 1 needs the black box on the refined grid (fine_box)")
        x_f = refined_grid(test.x, int(refine))
        f_mean, f_std = (np.asarray(a, dtype=np.float64) for a in fine_box)
        if f_mean.shape != (a_mean.shape[0], test.t.size, x_f.size) or f_std.shape != f_mean.shape:
            raise DataError(f"fine_box must be (F, {test.t.size}, {x_f.size}); got {f_mean.shape}")
        g_f, nodes = trapezoid_weights(x_f), coarse_nodes(test.x.size, int(refine))
        fine, post, _ = refined_update(f_mean, f_std**2, x_f, int(refine), test.mass[None, :], sigma_g)
        fine_mean = clip(fine.mean, f_std**2, sigma=float(sigma_g), g=g_f)
        pc_fine_ce = conservation_error(fine_mean, g_f, test.mass)
        pc = (fine, fine_mean, lambda y: y[..., nodes],
              lambda d: clip(d, f_std[:, e] ** 2, sigma=float(sigma_g), g=g_f)[..., nodes])  # fmt: skip
    else:
        post = probconserv_update(a_mean, a_std**2, test.g, test.mass[None, :], sigma_g)
        pc = (post, post.mean, lambda y: clip(y, a_std**2, sigma=float(sigma_g)),
              lambda d: clip(d, a_std[:, e] ** 2, sigma=float(sigma_g)))  # fmt: skip
    entries = [
        (ConstrainedGaussian.diagonal(a_mean, a_std**2), a_mean, a_std,
         lambda y: clip(y, a_std**2), lambda d: clip(d, a_std[:, e] ** 2)),
        (pc[0], pc[1], post.std, pc[2], pc[3]),
        (ConstrainedGaussian.diagonal(h_mean, h_std**2), h_mean, h_std,
         lambda y: clip(y, 1.0, test.mass[None, :], 0.0), lambda d: clip(d, 1.0, test.mass[None, e], 0.0)),
    ]  # fmt: skip
    if softc is not None:
        s_mean, s_std = _gaussian("SoftC", softc, test)
        entries.append((ConstrainedGaussian.diagonal(s_mean, s_std**2), s_mean, s_std,
                        lambda y: clip(y, s_std**2), lambda d: clip(d, s_std[:, e] ** 2)))  # fmt: skip
    # each mean on its own grid, post-processed onto the evaluation grid
    mean = np.stack([fix(m) for _, m, _, fix, _ in entries])
    std = np.stack([sd for _, _, sd, _, _ in entries])
    front_draws = front_true = None
    if test.problem in FRONT_PROBLEMS:
        rng = np.random.default_rng(int(seeds[2]))
        draws = [fix(d.sample(n_shock_draws, rng, index=(slice(None), e))) for d, _, _, _, fix in entries]
        front_draws = np.stack([np.moveaxis(shock_position(d, test.x, shock_level), 0, -1) for d in draws])
        front_true = float(front_position(test.problem, [test.param], [spec.eval_time])[0, 0])
    ce_t = conservation_error(mean, test.g, test.mass)
    ce_constraint_t = ce_t.copy()
    if pc_fine_ce is not None:
        ce_constraint_t[1] = pc_fine_ce
    return ParamResult(
        problem=test.problem,
        param=test.param,
        models=models,
        t=test.t,
        x=test.x,
        eval_index=eval_index,
        u=test.u,
        mass=test.mass,
        mean=mean,
        std=std,
        mse_t=squared_error(mean, test.u),
        ce_t=ce_t,
        ll_t=log_likelihood(mean, std, test.u),
        ce_truth_t=conservation_error(test.u, test.g, test.mass),
        front_draws=front_draws,
        front_true=front_true,
        ce_constraint_t=ce_constraint_t,
    )
