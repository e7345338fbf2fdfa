r"""ProbConserv results as xarray Datasets (predictions, metrics, shock posterior).

Hansen et al., ICML 2023 (arXiv 2302.11002), Sec. 4. One :func:`to_dataset` turns the
:class:`~sciml.probconserv.evaluate.ParamResult` of every (problem, parameter) into the three
datasets of the ``probconserv`` workflow. No I/O.

Layout: the dims ``problem`` and ``param`` are crossed; ``param`` holds the union of the test values
of all problems (float coordinate, so ``.sel(problem="stefan", param=0.6)`` works) and cells of a
(problem, param) pair that was not evaluated are NaN (drop them with ``.dropna``). The ``t`` and
``x`` dims of the three problems share one coordinate: the grid position as a fraction of the
domain, in [0, 1]; the physical values are the 2-D coordinates ``t_value(problem, t)`` and
``x_value(problem, x)`` (diffusion: x in [0, 2 pi]; Stefan: t in [0, 0.1]).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import xarray as xr

from sciml.errors import DataError
from sciml.gpme import get_problem
from sciml.probconserv.evaluate import MODELS, ParamResult
from sciml.probconserv.metrics import mean_and_se, shock_summary

__all__ = ["to_dataset", "DATASET_KINDS"]

DATASET_KINDS = ("predictions", "metrics", "shock")

_PAPER = (
    "Hansen, Maddix, Alizadeh, Gupta, Mahoney, Learning Physical Models that Can Respect "
    "Conservation Laws, ICML 2023 (arXiv 2302.11002)"
)


def _frame(results: Sequence[ParamResult]):
    if not results:
        raise DataError("to_dataset needs at least one ParamResult")
    problems = list(dict.fromkeys(r.problem for r in results))
    params = sorted({float(r.param) for r in results})
    models = [m for m in MODELS if any(m in r.models for r in results)]
    n_t, n_x = results[0].t.size, results[0].x.size
    n_f = results[0].mean.shape[1]
    for r in results:
        if r.t.size != n_t or r.x.size != n_x or r.mean.shape[1] != n_f:
            raise DataError(
                "all results must share the grid size and the number of test functions; got "
                f"{r.t.size}x{r.x.size}/{r.mean.shape[1]} for {r.problem} {r.param} vs "
                f"{n_t}x{n_x}/{n_f}"
            )
    t_val = np.full((len(problems), n_t), np.nan)
    x_val = np.full((len(problems), n_x), np.nan)
    for r in results:
        p = problems.index(r.problem)
        t_val[p], x_val[p] = r.t, r.x
    coords = {
        "model": ("model", np.asarray(models, dtype=str)),
        "problem": ("problem", np.asarray(problems, dtype=str)),
        "param": ("param", np.asarray(params, dtype=np.float64), {"long_name": "PDE parameter"}),
        "t": (
            "t",
            np.linspace(0.0, 1.0, n_t),
            {"long_name": "t position (fraction of the problem's time domain)", "units": "1"},
        ),
        "x": (
            "x",
            np.linspace(0.0, 1.0, n_x),
            {"long_name": "x position (fraction of the problem's space domain)", "units": "1"},
        ),
        "t_value": (("problem", "t"), t_val, {"long_name": "time t", "units": "1"}),
        "x_value": (("problem", "x"), x_val, {"long_name": "position x", "units": "1"}),
        "param_name": (
            "problem",
            np.asarray([get_problem(p).param_name for p in problems], dtype=str),
        ),
        "eval_time": (
            "problem",
            np.asarray([get_problem(p).eval_time for p in problems]),
            {"long_name": "evaluation time of the paper", "units": "1"},
        ),
    }
    return problems, params, models, n_t, n_x, n_f, coords


def _cell(results, problems, params, models):
    for r in results:
        rows = [list(r.models).index(m) if m in r.models else None for m in models]
        yield problems.index(r.problem), params.index(float(r.param)), rows, r


def _predictions(results, n_store_functions):
    problems, params, models, n_t, n_x, n_f, coords = _frame(results)
    n_keep = n_f if n_store_functions is None else min(int(n_store_functions), n_f)
    shape = (len(models), len(problems), len(params), n_keep, n_t, n_x)
    mean = np.full(shape, np.nan, dtype=np.float32)
    std = np.full(shape, np.nan, dtype=np.float32)
    truth = np.full((len(problems), len(params), n_t, n_x), np.nan)
    for p, q, rows, r in _cell(results, problems, params, models):
        truth[p, q] = r.u
        for i, row in enumerate(rows):
            if row is not None:
                mean[i, p, q] = r.mean[row, :n_keep]
                std[i, p, q] = r.std[row, :n_keep]
    coords["function"] = ("function", np.arange(n_keep))
    dims = ("model", "problem", "param", "function", "t", "x")
    return xr.Dataset(
        {
            "mean": (dims, mean, {"long_name": "predictive mean of u", "units": "1"}),
            "std": (dims, std, {"long_name": "predictive std of u (marginal)", "units": "1"}),
            "u_true": (
                ("problem", "param", "t", "x"),
                truth,
                {"long_name": "exact solution u", "units": "1"},
            ),
        },
        coords=coords,
        attrs={
            "description": "Predictive mean and marginal std of each model on the dense test grid "
            "(one test function = one context draw); NaN where a (problem, param) pair is not a "
            "test case.",
            "reference": _PAPER,
        },
    )


def _metrics(results):
    problems, params, models, n_t, _, _, coords = _frame(results)
    base = (len(models), len(problems), len(params))
    out = {
        k: np.full(base, np.nan)
        for k in ("mse", "mse_se", "ce", "ce_se", "ll", "ll_se")
    }
    curves = {k: np.full((*base, n_t), np.nan) for k in ("mse_t", "ce_t", "ll_t")}
    ce_truth = np.full(base[1:], np.nan)
    ce_constraint = np.full(base, np.nan)
    ce_truth_t = np.full((*base[1:], n_t), np.nan)
    for p, q, rows, r in _cell(results, problems, params, models):
        e = r.eval_index
        ce_truth[p, q] = r.ce_truth_t[e]
        ce_truth_t[p, q] = r.ce_truth_t
        for i, row in enumerate(rows):
            if row is None:
                continue
            cons = r.ce_t if r.ce_constraint_t is None else r.ce_constraint_t
            ce_constraint[i, p, q] = cons[row, :, e].mean()
            for k, arr in (("mse", r.mse_t), ("ce", r.ce_t), ("ll", r.ll_t)):
                m, se = mean_and_se(arr[row, :, e], axis=0)
                out[k][i, p, q], out[f"{k}_se"][i, p, q] = m, se
                curves[f"{k}_t"][i, p, q] = arr[row].mean(axis=0)
    dims = ("model", "problem", "param")
    attrs = {
        "mse": {"long_name": "MSE at the evaluation time", "units": "1"},
        "ce": {"long_name": "conservation error G mu - U(t) at the evaluation time", "units": "1"},
        "ll": {"long_name": "Gaussian log-likelihood per point at the evaluation time", "units": "1"},
    }
    data = {}
    for k in ("mse", "ce", "ll"):
        data[k] = (dims, out[k], attrs[k])
        data[f"{k}_se"] = (dims, out[f"{k}_se"], {"long_name": f"standard error of {k}"})
        data[f"{k}_t"] = (
            (*dims, "t"),
            curves[f"{k}_t"],
            {"long_name": attrs[k]["long_name"].replace("at the evaluation time", "vs t")},
        )
    data["ce_truth"] = (
        ("problem", "param"),
        ce_truth,
        {"long_name": "trapezoid CE of the exact solution at the evaluation time"},
    )
    data["ce_truth_t"] = (("problem", "param", "t"), ce_truth_t, {"long_name": "CE of the truth vs t"})
    data["ce_constraint"] = (
        dims,
        ce_constraint,
        {"long_name": "CE on the grid the model's constraint is applied on (ProbConserv with refine > 1: "
         "its refined grid; else the evaluation grid) at the evaluation time"},
    )  # fmt: skip
    return xr.Dataset(
        data,
        coords=coords,
        attrs={
            "description": "Scores per model, problem and test parameter at the paper's evaluation "
            "time (means over test functions, *_se their standard errors) and vs t (*_t).",
            "reference": _PAPER,
        },
    )


def _shock(results, level):
    with_front = [r for r in results if r.front_draws is not None]
    if not with_front:
        raise DataError("no result holds front draws (only PME and Stefan have a front)")
    problems, params, models, _, _, n_f, coords = _frame(with_front)
    n_d = with_front[0].front_draws.shape[-1]
    for key in ("t", "x", "t_value", "x_value"):
        coords.pop(key)
    base = (len(models), len(problems), len(params))
    draws = np.full((*base, n_f, n_d), np.nan)
    front_true = np.full(base[1:], np.nan)
    for p, q, rows, r in _cell(with_front, problems, params, models):
        front_true[p, q] = r.front_true
        for i, row in enumerate(rows):
            if row is not None:
                draws[i, p, q] = r.front_draws[row]
    summ = {k: np.full((*base, n_f), np.nan) for k in ("mean", "std", "abs_error", "covered")}
    ok = np.isfinite(front_true)
    for i in range(len(models)):
        s = shock_summary(draws[i][ok], front_true[ok][:, None], level=level)
        for k in summ:
            summ[k][i][ok] = s[k]
    err, err_se = mean_and_se(summ["abs_error"], axis=-1)
    cov, cov_se = mean_and_se(summ["covered"], axis=-1)
    fdims = ("model", "problem", "param", "function")
    coords["function"] = ("function", np.arange(n_f))
    coords["draw"] = ("draw", np.arange(n_d))
    return xr.Dataset(
        {
            "front": (
                (*fdims, "draw"),
                draws,
                {"long_name": "front position drawn from the posterior", "units": "1"},
            ),
            "front_true": (("problem", "param"), front_true, {"long_name": "exact front x*"}),
            "front_mean": (fdims, summ["mean"], {"long_name": "posterior mean of the front"}),
            "front_std": (fdims, summ["std"], {"long_name": "posterior std of the front"}),
            "front_error": (
                fdims[:3],
                err,
                {"long_name": "mean |posterior mean - x*| over test functions"},
            ),
            "front_error_se": (fdims[:3], err_se, {"long_name": "standard error of front_error"}),
            "front_coverage": (
                fdims[:3],
                cov,
                {"long_name": f"fraction of functions whose central {level:.0%} interval holds x*"},
            ),
            "front_coverage_se": (fdims[:3], cov_se, {"long_name": "standard error of coverage"}),
        },
        coords=coords,
        attrs={
            "description": "Posterior of the front (shock) position at the evaluation time: first "
            "grid x where a draw of the predictive distribution falls to 0.",
            "interval_level": float(level),
            "reference": _PAPER,
        },
    )


def to_dataset(
    results: Sequence[ParamResult],
    kind: str,
    n_store_functions: int | None = None,
    interval_level: float = 0.9,
) -> xr.Dataset:
    """Build one of the workflow's datasets from the evaluation results.

    Parameters
    ----------
    results : ParamResult of every evaluated (problem, parameter value).
    kind : ``"predictions"`` (dims model, problem, param, function, t, x: ``mean``, ``std``,
        ``u_true``), ``"metrics"`` (dims model, problem, param: ``mse``, ``ce``, ``ll`` with
        ``*_se`` and curves ``*_t`` over t, ``ce_truth``) or ``"shock"`` (front posterior: draws
        ``front`` and summaries ``front_error``, ``front_coverage``).
    n_store_functions : keep only the first functions in ``predictions`` (None: all).
    interval_level : central interval mass of the front coverage.

    Returns
    -------
    xarray.Dataset
    """
    if kind == "predictions":
        return _predictions(results, n_store_functions)
    if kind == "metrics":
        return _metrics(results)
    if kind == "shock":
        return _shock(results, interval_level)
    raise DataError(f"kind must be one of {DATASET_KINDS}; got {kind!r}")
