r"""Test metrics, information-plane estimates and beta selection of CS-IB.

Yu et al., ICLR 2024 (arXiv:2404.17951), Sec. 5: test RMSE (Table 2), the information plane
I(x;t) vs I(y;t) (Fig. 4) and RMSE under adversarial attack (Fig. 5).

Units: RMSE and MAE are in the *modelled* target's units, i.e. the standardised error times the
training standard deviation: log(100,000 USD) for California Housing (the log target of the IB
literature), rentals/hour for Bike Sharing, ug/m^3 for PM2.5 and Wh for Appliances Energy.
R^2 is unitless. I(x;t) and I(y;t) are CS quadratic mutual-information estimates in nats
(:func:`sciml.csib.divergence.cs_mutual_information`, median-heuristic widths, one common
estimator for every model), on a fixed seeded subset. The ``csib/metrics`` dataset these
functions read is built by :func:`sciml.csib.datasets.to_dataset`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
import xarray as xr

from sciml.csib.divergence import cs_mutual_information
from sciml.csib.model import IBNet
from sciml.errors import DataError

__all__ = [
    "TEST_TRAIN_RATIO",
    "regression_metrics",
    "information_plane",
    "select_beta",
    "summary_table",
    "paired_difference",
]

#: test rows over training rows of the 70/10/20 split (Nadeau-Bengio correction of
#: :func:`paired_difference`)
TEST_TRAIN_RATIO = 0.2 / 0.7


def regression_metrics(y_true: np.ndarray, y_pred: np.ndarray, scale: float = 1.0) -> dict:
    r"""RMSE, MAE and :math:`R^2 = 1 - \sum (y-\hat y)^2 / \sum (y - \bar y)^2`.

    Parameters
    ----------
    y_true, y_pred : (n,) arrays on the same (e.g. standardised) scale.
    scale : factor taking that scale to target units (e.g. the training std); R^2 is
        scale-free.

    Returns
    -------
    dict with float ``rmse``, ``mae`` (target units) and ``r2``.
    """
    y_true = np.asarray(y_true, dtype=np.float64)
    y_pred = np.asarray(y_pred, dtype=np.float64)
    if y_true.shape != y_pred.shape or y_true.ndim != 1:
        raise DataError(
            f"y_true and y_pred must be 1-D of equal shape, got {y_true.shape} and {y_pred.shape}"
        )
    if not (np.isfinite(y_true).all() and np.isfinite(y_pred).all()):
        raise DataError("y_true / y_pred hold non-finite values")
    err = y_pred - y_true
    ss_tot = float(((y_true - y_true.mean()) ** 2).sum())
    return {
        "rmse": float(np.sqrt(np.mean(err**2)) * scale),
        "mae": float(np.mean(np.abs(err)) * scale),
        "r2": float(1.0 - (err**2).sum() / ss_tot) if ss_tot > 0 else float("nan"),
    }


def information_plane(
    net: IBNet, x: np.ndarray | torch.Tensor, y: np.ndarray | torch.Tensor, seed: int = 0
) -> tuple[float, float]:
    """CS-QMI estimates ``(I(x;t), I(y;t))`` in nats of the noisy representation t.

    t is drawn once with a generator seeded by ``seed`` (the same noise at every call), and
    all widths use the median heuristic, so values are comparable across epochs and models.
    """
    xt = torch.as_tensor(x, dtype=torch.float32)
    yt = torch.as_tensor(y, dtype=torch.float32)
    with torch.no_grad():
        _, t, _, _ = net(xt, sample=True, generator=torch.Generator().manual_seed(seed))
        xd, td, yd = xt.double(), t.double(), yt.double()[:, None]
        i_xt = cs_mutual_information(xd, td, "median", "median")
        i_yt = cs_mutual_information(yd, td, "median", "median")
    return float(i_xt), float(i_yt)


def select_beta(ds: xr.Dataset) -> xr.Dataset:
    """Pick, per (dataset, model, split, seed), the beta with the lowest *validation* RMSE.

    Returns
    -------
    xarray.Dataset without the ``beta`` dim; the chosen value is the coordinate
    ``beta_selected`` (dataset, model, split, seed). Cells whose runs are all missing stay NaN.
    """
    val = ds["val_rmse"].fillna(np.inf)
    idx = val.argmin("beta")
    out = ds.isel(beta=idx)
    chosen = ds["beta"].isel(beta=idx).drop_vars("beta", errors="ignore")
    out = out.drop_vars("beta").assign_coords(beta_selected=chosen)
    out["beta_selected"].attrs.update(long_name="beta selected on validation RMSE")
    return out


def _spread(runs: xr.DataArray, test_train_ratio: float) -> tuple[xr.DataArray, ...]:
    """Mean, s.e. (corrected over splits), naive s.e., number of splits and of seeds of runs
    laid out (..., split, seed)."""
    if "split" not in runs.dims:
        runs = runs.expand_dims(split=[0])
    per_split = runs.mean("seed")
    n_split = per_split.count("split")
    n_seed = runs.count("seed").max("split")
    mean = per_split.mean("split")
    # one split: the seeds' spread (the split's own variance is not measured)
    seed_se = runs.isel(split=0).std("seed", ddof=1) / np.sqrt(n_seed.where(n_seed > 1))
    sd = per_split.std("split", ddof=1)
    naive = xr.where(n_split > 1, sd / np.sqrt(n_split.where(n_split > 1)), seed_se)
    corrected = xr.where(n_split > 1, sd * np.sqrt(1.0 / n_split.where(n_split > 1) + test_train_ratio),
                         seed_se)  # fmt: skip
    return mean, corrected, naive, n_split, n_seed


def summary_table(
    ds: xr.Dataset, variable: str = "rmse", test_train_ratio: float = TEST_TRAIN_RATIO
) -> pd.DataFrame:
    """Mean and standard error over splits and seeds of ``variable`` at the validation-selected beta.

    The mean is over every (split, seed) run. With several splits the s.e. is that of the
    split means (each the mean over seeds), with the Nadeau-Bengio correction for their
    overlapping training sets (:func:`paired_difference`); with one split it is the s.e. over
    seeds, which leaves the split's own variance out.

    Returns
    -------
    DataFrame indexed by (dataset, model) with columns ``mean``, ``se``, ``n_splits``,
    ``n_seeds`` and ``beta`` (the most frequently selected beta; NaN for models without a
    compression term).
    """
    selected = select_beta(ds)
    mean, se, _, n_split, n_seed = _spread(selected[variable], test_train_ratio)
    beta = selected["beta_selected"]
    free = set(ds.attrs.get("beta_free_models", []))
    rows = []
    for d in ds["dataset"].values:
        for m in ds["model"].values:
            b = beta.sel(dataset=d, model=m).values
            vals, counts = np.unique(b[np.isfinite(b)], return_counts=True)
            rows.append(
                {
                    "dataset": str(d),
                    "model": str(m),
                    "mean": float(mean.sel(dataset=d, model=m)),
                    "se": float(se.sel(dataset=d, model=m)),
                    "n_splits": int(n_split.sel(dataset=d, model=m)),
                    "n_seeds": int(n_seed.sel(dataset=d, model=m)),
                    "beta": float(vals[np.argmax(counts)])
                    if len(vals) and str(m) not in free
                    else float("nan"),
                }
            )
    return pd.DataFrame(rows).set_index(["dataset", "model"])


def paired_difference(
    ds: xr.Dataset, reference: str, variable: str = "rmse", test_train_ratio: float = TEST_TRAIN_RATIO
) -> xr.Dataset:
    r"""Paired differences ``reference - model`` over the same splits and seeds, with their s.e.

    Each model is taken at its own validation-selected beta (:func:`select_beta`) on every
    (split, seed) run; the difference :math:`d_{rs}` of run (split r, seed s) is paired (same
    rows, same initial seed). With :math:`J > 1` splits, :math:`ar d_r` the mean over seeds of
    split r and :math:`s^2` their sample variance, the standard error is Nadeau and Bengio's
    correction for repeated random splits, whose training sets overlap:

    .. math:: \mathrm{se} = s\,\sqrt{1/J + n_\mathrm{test}/n_\mathrm{train}}

    (the naive :math:`s/\sqrt J` is ``se_naive``). With one split the s.e. is over seeds and
    leaves the split's variance out. ``verdict`` is ``"win"`` (the reference is lower by more
    than 2 s.e.), ``"loss"`` (higher by more than 2 s.e.), ``"tie"``, or ``"no s.e."`` (one
    run only).

    Parameters
    ----------
    ds : xarray.Dataset
        The ``csib/metrics`` dataset (dims dataset, model, beta, split, seed).
    reference : str
        The model every other is compared with (e.g. ``"csib"``).
    variable : str
        A lower-is-better metric (``"rmse"``, ``"mae"``).
    test_train_ratio : float
        :math:`n_\mathrm{test}/n_\mathrm{train}` (0.2/0.7 for the 70/10/20 split).

    Returns
    -------
    xarray.Dataset
        Dims (dataset, model): ``mean``, ``se``, ``se_naive``, ``n_splits``, ``n_seeds`` and
        ``verdict``; the reference's own row is NaN with verdict ``""``.

    References
    ----------
    .. [1] C. Nadeau, Y. Bengio, "Inference for the Generalization Error", Machine Learning
       52:239-281, 2003, Sec. 5 (the corrected resampled t-test).
    """
    sel = select_beta(ds)[variable]
    if reference not in sel["model"].values:
        raise DataError(f"reference model {reference!r} not in the metrics; models: "
                        f"{[str(m) for m in sel['model'].values]}")  # fmt: skip
    diff = (sel.sel(model=reference) - sel).where(sel["model"] != reference)
    mean, se, naive, n_split, n_seed = _spread(diff, test_train_ratio)
    verdict = xr.where(mean + 2 * se < 0, "win", xr.where(mean - 2 * se > 0, "loss", "tie"))
    verdict = verdict.where(np.isfinite(se), "no s.e.").where(sel["model"] != reference, "")
    out = xr.Dataset({"mean": mean, "se": se, "se_naive": naive, "n_splits": n_split, "n_seeds": n_seed,
                      "verdict": verdict.astype(str)})  # fmt: skip
    out.attrs.update(reference=reference, variable=variable, test_train_ratio=float(test_train_ratio),
                     description=f"{reference} minus model, paired over splits and seeds, each at its "
                     "validation-selected beta; se: Nadeau-Bengio corrected over splits "
                     "(over seeds with one split); verdict at 2 se")  # fmt: skip
    return out
