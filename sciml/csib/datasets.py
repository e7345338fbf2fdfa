r"""The CS-IB experiment's data as ``xarray`` Datasets: the prepared inputs and the metrics (no I/O).

Yu, Yu, Løkse, Jenssen & Principe, "Cauchy-Schwarz Divergence Information Bottleneck for
Regression", ICLR 2024 (arXiv:2404.17951), Sec. 5.1 (datasets, splits) and Sec. 5.2-5.4
(test RMSE, information plane, adversarial robustness).

:func:`inputs_to_dataset` builds the ``csib/{dataset}`` store (features, target and split
label per row of a :class:`~sciml.csib.data.Prepared` dataset), :func:`table_to_dataset` the
same layout for a user's table (``csib/table``, :mod:`sciml.csib.table`), :func:`split_rows`
reads its raw rows and split parts back (:func:`resplit`: the stored split or a re-drawn one
of the repeated random splits) and :func:`split_from_dataset` the standardised
:class:`~sciml.csib.data.Split`; :func:`to_dataset` assembles the per-run result records into
the ``csib/metrics`` dataset (dims ``dataset``, ``model``, ``beta``, ``split``, ``seed``, plus
``epsilon`` and ``epoch``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import xarray as xr

from sciml.csib.data import DATASETS, Prepared, Split, describe, split_indices, standardize
from sciml.csib.table import TABLE, PreparedTable, table_summary
from sciml.errors import DataError, unknown_name

__all__ = [
    "inputs_to_dataset",
    "table_to_dataset",
    "resplit",
    "split_rows",
    "split_from_dataset",
    "to_dataset",
]

_SPLIT_LABELS = ("train", "val", "test")


def inputs_to_dataset(
    prepared: Prepared, split_seed: int, fractions: tuple[float, float, float] = (0.7, 0.1, 0.2)
) -> xr.Dataset:
    """The ``csib/{dataset}`` store: preprocessed features, target and split label per row.

    Features are *not* standardised here (the training statistics depend on the split and are
    recomputed by :func:`split_from_dataset`); ``split`` holds ``"train"``, ``"val"`` or
    ``"test"`` from :func:`split_indices` with ``split_seed``.

    Returns
    -------
    xarray.Dataset with ``x`` (sample, feature), ``y`` (sample), ``split`` (sample).
    """
    if prepared.name not in DATASETS:
        raise unknown_name("csib dataset", prepared.name, tuple(DATASETS))
    spec = DATASETS[prepared.name]
    n = len(prepared.y)
    parts = split_indices(n, split_seed, fractions)
    labels = np.empty(n, dtype="<U5")
    for lab, idx in zip(_SPLIT_LABELS, parts, strict=True):
        labels[idx] = lab
    ds = xr.Dataset(
        {
            "x": (("sample", "feature"), prepared.x),
            "y": ("sample", prepared.y),
            "split": ("sample", labels),
        },
        coords={"sample": np.arange(n, dtype=np.int64), "feature": np.asarray(prepared.features, dtype=str)},
    )
    ds["x"].attrs.update(long_name="preprocessed features (not standardised)", units="feature units")
    ds["y"].attrs.update(long_name=prepared.target, units=prepared.target_units)
    ds["split"].attrs.update(
        long_name="train / val / test membership",
        description=f"seeded permutation, seed {split_seed}, fractions {list(map(float, fractions))}",
    )
    ds.attrs.update(
        title=f"CS-IB regression dataset {prepared.name}",
        dataset=prepared.name,
        source_file=spec.filename,
        source_sha256=spec.sha256,
        raw_rows=int(spec.rows),
        rows=int(n),
        target=prepared.target,
        target_units=prepared.target_units,
        split_seed=int(split_seed),
        description=describe(prepared.name),
    )
    return ds


def table_to_dataset(table: PreparedTable, split_seed: int = 0) -> xr.Dataset:
    """The ``csib/table`` store: a user's table in the layout of :func:`inputs_to_dataset`.

    Parameters
    ----------
    table : PreparedTable
        Made by :func:`sciml.csib.table.load_table` (or :func:`~sciml.csib.table.prepare_table`).
    split_seed : int
        The seed its split was drawn with (recorded; unused with a declared split column).

    Returns
    -------
    xarray.Dataset
        ``x`` (sample, feature), ``y`` (sample), ``split`` (sample) and ``row`` (sample: the
        file's row of each sample); ``attrs`` hold the file, its sha256 and everything
        :attr:`PreparedTable.report` counts (rows dropped, values imputed, one-hot categories,
        the split's source), Yu et al., ICLR 2024, Sec. 5.1.
    """
    n = len(table.y)
    rep = table.report
    ds = xr.Dataset(
        {
            "x": (("sample", "feature"), np.asarray(table.x, dtype=np.float64)),
            "y": ("sample", np.asarray(table.y, dtype=np.float64)),
            "split": ("sample", np.asarray(table.split, dtype="<U5")),
            "row": ("sample", np.asarray(table.row, dtype=np.int64)),
        },
        coords={"sample": np.arange(n, dtype=np.int64), "feature": np.asarray(table.features, dtype=str)},
    )
    ds["x"].attrs.update(long_name="features: numeric columns, then one-hot <column>=<category> "
                         "(not standardised)", units="feature units")  # fmt: skip
    ds["y"].attrs.update(long_name=table.target, units=table.units)
    ds["split"].attrs.update(long_name="train / val / test membership", description=rep.get("split", ""))
    ds["row"].attrs.update(long_name="row of the source file (0-based, header excluded)", units="1")
    ds.attrs.update(
        title=f"CS-IB regression dataset {TABLE}: {rep.get('source_file', 'a table')}",
        dataset=TABLE,
        raw_rows=int(rep.get("rows_read", n)),
        rows=int(n),
        target=table.target,
        target_units=table.units,
        split_seed=int(split_seed),
        **{k: v for k, v in rep.items() if k not in ("rows_read",)},
        description=table_summary(rep),
    )
    return ds


def resplit(labels: np.ndarray, split: int, seed: int) -> list[np.ndarray]:
    r"""Row indices of the train/val/test parts of repeated random split number ``split``.

    Split 0 is the stored one (``labels``). Split :math:`r \ge 1` is a fresh seeded permutation
    of all rows (generator seeded by ``[seed, r]``) cut with the stored parts' sizes, so every
    split has the same 70/10/20 proportions and the splits are independent draws (repeated
    random subsampling; see :func:`sciml.csib.metrics.paired_difference` for the standard
    error that accounts for their overlapping training sets).

    Parameters
    ----------
    labels : ndarray of str, shape (n,)
        ``"train"``, ``"val"`` or ``"test"`` per row (the store's ``split``).
    split : int
        Split number (>= 0).
    seed : int
        The ``split_seed`` of the settings.

    Returns
    -------
    list of ndarray
        ``[train, val, test]`` sorted row indices.
    """
    if split < 0:
        raise DataError(f"split number must be >= 0, got {split}")
    parts = [np.flatnonzero(labels == lab) for lab in _SPLIT_LABELS]
    if split == 0:
        return parts
    perm = np.random.default_rng([seed, split]).permutation(len(labels))
    cuts = np.cumsum([len(p) for p in parts])[:2]
    return [np.sort(p) for p in np.split(perm, cuts)]


def split_rows(
    ds: xr.Dataset, max_rows: int | None = None, seed: int = 0, split: int = 0
) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """Raw rows of a ``csib/{dataset}`` store and the row indices of its train/val/test parts.

    Parameters
    ----------
    ds : dataset written by :func:`inputs_to_dataset`.
    max_rows : keep at most this many rows in total (each part subsampled in proportion,
        seeded); ``None`` keeps everything. Used by fast/tiny profiles.
    seed : seed of the subsampling (and of the re-drawn splits).
    split : repeated-split number: 0 is the stored split, ``r >= 1`` a re-drawn one
        (:func:`resplit`).

    Returns
    -------
    x : ndarray, shape (n, d), float64, preprocessed features (not standardised).
    y : ndarray, shape (n,), float64, target in its units.
    parts : [train, val, test] row indices into ``x``/``y``, each sorted.

    Raises
    ------
    DataError
        If a variable is missing or a part has fewer than 2 rows.
    """
    for var in ("x", "y", "split"):
        if var not in ds:
            raise DataError(f"csib input dataset lacks variable {var!r}; rewrite it with the csib flow")
    x = np.asarray(ds["x"].values, dtype=np.float64)
    y = np.asarray(ds["y"].values, dtype=np.float64)
    labels = np.asarray(ds["split"].values)  # <U5 in memory, StringDType from zarr v3
    parts = resplit(labels, split, seed)
    if any(len(p) < 2 for p in parts):
        raise DataError(f"csib input dataset split sizes {[len(p) for p in parts]} are too small")
    if max_rows is not None and max_rows < len(y):
        rng = np.random.default_rng(seed if split == 0 else [seed, split])
        frac = max_rows / len(y)
        parts = [np.sort(rng.choice(p, max(2, int(round(frac * len(p)))), replace=False)) for p in parts]
    return x, y, parts


def split_from_dataset(ds: xr.Dataset, max_rows: int | None = None, seed: int = 0, split: int = 0) -> Split:
    """Rebuild standardised train/val/test arrays from a ``csib/{dataset}`` store.

    Parameters
    ----------
    ds : dataset written by :func:`inputs_to_dataset`.
    max_rows : keep at most this many rows in total (each part subsampled in proportion,
        seeded); ``None`` keeps everything. Used by fast/tiny profiles.
    seed : seed of the subsampling (and of re-drawn splits).
    split : repeated-split number (0: the stored split; :func:`resplit`).

    Returns
    -------
    Split standardised with the (possibly subsampled) training rows' statistics.
    """
    x, y, parts = split_rows(ds, max_rows, seed, split)
    return standardize(x, y, *parts)


_ATTRS = {
    "rmse": ("test RMSE", "target units (see description)"),
    "mae": ("test MAE", "target units (see description)"),
    "r2": ("test coefficient of determination R^2", "1"),
    "val_rmse": (
        "validation RMSE at the early-stopping epoch (used to select beta)",
        "target units (see description)",
    ),
    "i_xt": ("CS-QMI I(x;t) on test inputs", "nat"),
    "i_yt": ("CS-QMI I(y;t) on test inputs", "nat"),
    "best_epoch": ("early-stopping epoch (best validation RMSE)", "1"),
    "train_seconds": ("wall-clock training time", "s"),
    "rmse_fgsm": ("test RMSE under FGSM attack", "target units (see description)"),
    "rmse_pgd": ("test RMSE under PGD attack", "target units (see description)"),
    "plane_i_xt": ("I(x;t) on a training subset after each epoch", "nat"),
    "plane_i_yt": ("I(y;t) on a training subset after each epoch", "nat"),
}


def to_dataset(
    records: Sequence[dict],
    datasets: Sequence[str],
    models: Sequence[str],
    betas: Sequence[float],
    seeds: Sequence[int],
    epsilons: Sequence[float],
    n_epochs: int,
    target_units: dict[str, str] | None = None,
    splits: Sequence[int] = (0,),
) -> xr.Dataset:
    """Assemble per-run result records into the ``csib/metrics`` dataset.

    Each record holds ``dataset, model, beta, seed`` (and ``split``, default 0: the
    repeated-split number of :func:`resplit`) and the scalar metrics of
    :data:`_ATTRS`, plus ``rmse_fgsm``/``rmse_pgd`` (len(epsilons),) and
    ``plane_i_xt``/``plane_i_yt`` (per epoch, padded with NaN to ``n_epochs``). A record whose
    ``beta`` is ``None`` (a model without a compression term, e.g. the MSE net) is written at
    every beta: it is one run, repeated along ``beta`` so that ``.sel(beta=b)`` compares models.

    Returns
    -------
    xarray.Dataset with dims (dataset, model, beta, split, seed[, epsilon][, epoch]); cells
    without a record are NaN.
    """
    dsets, mods = list(map(str, datasets)), list(map(str, models))
    bets = [float(b) for b in betas]
    sds = [int(s) for s in seeds]
    sps = [int(s) for s in splits]
    shape = (len(dsets), len(mods), len(bets), len(sps), len(sds))
    scal = {
        k: np.full(shape, np.nan)
        for k in ("rmse", "mae", "r2", "val_rmse", "i_xt", "i_yt", "best_epoch", "train_seconds")
    }
    rob = {k: np.full((*shape, len(epsilons)), np.nan) for k in ("rmse_fgsm", "rmse_pgd")}
    plane = {k: np.full((*shape, n_epochs), np.nan) for k in ("plane_i_xt", "plane_i_yt")}
    for r in records:
        i, j, s = dsets.index(r["dataset"]), mods.index(r["model"]), sds.index(int(r["seed"]))
        q = sps.index(int(r.get("split", 0)))
        ks = range(len(bets)) if r["beta"] is None else [bets.index(float(r["beta"]))]
        for k in ks:
            for name, arr in scal.items():
                arr[i, j, k, q, s] = float(r[name])
            for name, arr in rob.items():
                arr[i, j, k, q, s] = np.asarray(r[name], dtype=np.float64)
            for name, arr in plane.items():
                v = np.asarray(r[name], dtype=np.float64)[:n_epochs]
                arr[i, j, k, q, s, : len(v)] = v
    dims = ("dataset", "model", "beta", "split", "seed")
    data_vars = {}
    for name, arr in scal.items():
        data_vars[name] = (dims, arr)
    for name, arr in rob.items():
        data_vars[name] = ((*dims, "epsilon"), arr)
    for name, arr in plane.items():
        data_vars[name] = ((*dims, "epoch"), arr)
    ds = xr.Dataset(
        data_vars,
        coords={
            "dataset": np.asarray(dsets, dtype=str),
            "model": np.asarray(mods, dtype=str),
            "beta": np.asarray(bets, dtype=np.float64),
            "split": np.asarray(sps, dtype=np.int64),
            "seed": np.asarray(sds, dtype=np.int64),
            "epsilon": np.asarray(epsilons, dtype=np.float64),
            "epoch": np.arange(1, n_epochs + 1, dtype=np.int64),
        },
    )
    for name, (long_name, units) in _ATTRS.items():
        ds[name].attrs.update(long_name=long_name, units=units)
    ds["beta"].attrs.update(long_name="compression weight beta", units="1")
    ds["split"].attrs.update(long_name="repeated random train/val/test split (0: the stored one)", units="1")
    ds["epsilon"].attrs.update(long_name="L-inf attack radius on standardised inputs", units="training std")
    units = {str(k): str(v) for k, v in (target_units or {}).items()}
    ds.attrs.update(
        title="CS-IB regression: test metrics per dataset, model, beta and seed",
        description=(
            "Yu et al., ICLR 2024 (arXiv:2404.17951). RMSE/MAE in each dataset's modelled "
            "target units (target_units); beta selected on validation RMSE only. Models "
            "without a compression term (beta_free_models) are one run repeated along beta."
        ),
        target_units=units,
        beta_free_models=sorted({str(r["model"]) for r in records if r["beta"] is None}),
        reference="Yu, Yu, Lokse, Jenssen, Principe, ICLR 2024, arXiv:2404.17951",
    )
    return ds
