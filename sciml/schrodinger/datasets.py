"""xarray Datasets of the LightSB workflow (no I/O): metrics, benchmark pairs, SB trajectories.

Korotin, Gushchin, Burnaev, "Light Schrödinger Bridge", ICLR 2024, Section 5: the cBW2-UVP and
BW2-UVP grid over (dim, eps, seed) of Section 5.2 (:func:`to_dataset`), the parameters of the
Gaussian-mixture benchmark pairs of Gushchin et al. (NeurIPS 2023), Section 3 and back
(:func:`pairs_to_dataset`, :func:`pair_from_dataset`), and the simulated 2-D bridges of Section
5.1 (:func:`trajectories_to_dataset`). Builders only; the flow hands the datasets to the catalog.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import xarray as xr

from sciml.errors import DataError
from sciml.schrodinger.pairs import MixturePair

__all__ = [
    "to_dataset",
    "pairs_to_dataset",
    "pair_from_dataset",
    "trajectories_to_dataset",
    "METRIC_ATTRS",
]

METRIC_ATTRS: dict[str, dict[str, str]] = {
    "cbw2_uvp": {
        "units": "%",
        "long_name": "cBW2-UVP",
        "description": "100 E_x[BW2^2(pi_hat(.|x), pi*(.|x))] / Var(P1), exact conditional moments",
    },
    "bw2_uvp": {
        "units": "%",
        "long_name": "BW2-UVP of the target marginal",
        "description": "100 BW2^2(P1_hat, P1) / Var(P1), moments by the tower rule",
    },
    "fit_seconds": {"units": "s", "long_name": "training wall-clock time"},
    "final_loss": {"units": "nat", "long_name": "final LightSB minibatch loss"},
}


def to_dataset(records: Sequence[Mapping[str, Any]], attrs: Mapping[str, Any] | None = None):
    """Metrics dataset with dims (dim, eps, seed) from one record per fitted cell.

    Each record holds ``dim``, ``eps``, ``seed`` and the metric values (``cbw2_uvp``,
    ``bw2_uvp``, ``fit_seconds``, ``final_loss``); missing cells are NaN.
    """
    if not records:
        raise DataError("no metric records to assemble")
    dims = sorted({int(r["dim"]) for r in records})
    epss = sorted({float(r["eps"]) for r in records})
    seeds = sorted({int(r["seed"]) for r in records})
    shape = (len(dims), len(epss), len(seeds))
    data = {k: np.full(shape, np.nan) for k in METRIC_ATTRS}
    for r in records:
        idx = (dims.index(int(r["dim"])), epss.index(float(r["eps"])), seeds.index(int(r["seed"])))
        for k in METRIC_ATTRS:
            if k in r:
                data[k][idx] = float(r[k])
    ds = xr.Dataset(
        {k: (("dim", "eps", "seed"), v, METRIC_ATTRS[k]) for k, v in data.items()},
        coords={
            "dim": ("dim", np.asarray(dims, dtype=np.int64), {"long_name": "dimension D"}),
            "eps": ("eps", np.asarray(epss), {"long_name": "entropic regularisation epsilon"}),
            "seed": ("seed", np.asarray(seeds, dtype=np.int64), {"long_name": "training seed"}),
        },
        attrs={
            "description": "Light Schroedinger Bridge on the Gaussian-mixture EOT benchmark pairs",
            "reference": "Korotin, Gushchin, Burnaev, Light Schroedinger Bridge, ICLR 2024",
            **{k: v for k, v in (attrs or {}).items()},
        },
    )
    return ds


def pairs_to_dataset(
    pairs: Mapping[tuple[int, float], MixturePair],
    target_moments: Mapping[tuple[int, float], tuple[np.ndarray, np.ndarray]],
) -> xr.Dataset:
    """Parameters of the benchmark pairs on a (dim, eps) grid, padded with NaN to max(dim).

    Variables: ``source_weights`` (dim, source_component), ``source_means`` (dim,
    source_component, axis), ``source_covs`` (dim, source_component, axis, axis2),
    ``potential_weights`` (dim, eps, component), ``potential_means`` (dim, eps, component, axis),
    ``potential_covs`` (dim, eps, component, axis, axis2), ``target_mean`` (dim, eps, axis),
    ``target_cov`` (dim, eps, axis, axis2) and ``target_var`` (dim, eps). Coordinates ``axis``
    beyond a pair's dimension are NaN.
    """
    if not pairs:
        raise DataError("no pairs to assemble")
    dims = sorted({d for d, _ in pairs})
    epss = sorted({float(e) for _, e in pairs})
    first = next(iter(pairs.values()))
    m, n = len(first.source_weights), len(first.potential_weights)
    dmax = max(dims)
    nan = np.nan
    sw = np.full((len(dims), m), nan)
    sm = np.full((len(dims), m, dmax), nan)
    sc = np.full((len(dims), m, dmax, dmax), nan)
    pw = np.full((len(dims), len(epss), n), nan)
    pm = np.full((len(dims), len(epss), n, dmax), nan)
    pc = np.full((len(dims), len(epss), n, dmax, dmax), nan)
    tm = np.full((len(dims), len(epss), dmax), nan)
    tc = np.full((len(dims), len(epss), dmax, dmax), nan)
    tv = np.full((len(dims), len(epss)), nan)
    for (d, e), p in pairs.items():
        i, j = dims.index(d), epss.index(float(e))
        sw[i], sm[i, :, :d], sc[i, :, :d, :d] = p.source_weights, p.source_means, p.source_covs
        pw[i, j], pm[i, j, :, :d] = p.potential_weights, p.potential_means
        pc[i, j, :, :d, :d] = p.potential_covs
        mean, cov = target_moments[(d, e)]
        tm[i, j, :d], tc[i, j, :d, :d], tv[i, j] = mean, cov, np.trace(cov)
    return xr.Dataset(
        {
            "source_weights": (("dim", "source_component"), sw, {"long_name": "P0 weights"}),
            "source_means": (("dim", "source_component", "axis"), sm, {"long_name": "P0 means"}),
            "source_covs": (("dim", "source_component", "axis", "axis2"), sc,
                            {"long_name": "P0 covariances"}),
            "potential_weights": (("dim", "eps", "component"), pw, {"long_name": "p_n"}),
            "potential_means": (("dim", "eps", "component", "axis"), pm, {"long_name": "mu_n"}),
            "potential_covs": (("dim", "eps", "component", "axis", "axis2"), pc,
                               {"long_name": "Sigma_n"}),
            "target_mean": (("dim", "eps", "axis"), tm, {"long_name": "mean of P1"}),
            "target_cov": (("dim", "eps", "axis", "axis2"), tc, {"long_name": "covariance of P1"}),
            "target_var": (("dim", "eps"), tv, {"long_name": "Var(P1) = tr Cov(P1)"}),
        },
        coords={
            "dim": ("dim", np.asarray(dims, dtype=np.int64)),
            "eps": ("eps", np.asarray(epss)),
            "source_component": np.arange(m),
            "component": np.arange(n),
            "axis": np.arange(dmax),
            "axis2": np.arange(dmax),
        },
        attrs={
            "description": (
                "EOT benchmark pairs: P0 a Gaussian mixture, pi*(y|x) proportional to "
                "N(y|x, eps I) sum_n p_n N(y|mu_n, Sigma_n); P1 its y-marginal"
            ),
            "reference": "Gushchin et al., NeurIPS 2023 Datasets and Benchmarks (construction)",
        },
    )


def pair_from_dataset(ds: xr.Dataset, dim: int, eps: float) -> MixturePair:
    """Rebuild the :class:`MixturePair` of (dim, eps) from :func:`pairs_to_dataset` output."""
    sel = ds.sel(dim=int(dim)).sel(eps=float(eps), method="nearest")
    ax = slice(0, int(dim))
    return MixturePair(
        np.asarray(sel.source_weights.values, dtype=np.float64),
        np.asarray(sel.source_means.isel(axis=ax).values, dtype=np.float64),
        np.asarray(sel.source_covs.isel(axis=ax, axis2=ax).values, dtype=np.float64),
        np.asarray(sel.potential_weights.values, dtype=np.float64),
        np.asarray(sel.potential_means.isel(axis=ax).values, dtype=np.float64),
        np.asarray(sel.potential_covs.isel(axis=ax, axis2=ax).values, dtype=np.float64),
        float(sel.eps.values),
    )


def trajectories_to_dataset(
    times: np.ndarray,
    paths: Mapping[str, np.ndarray],
    targets: Mapping[str, np.ndarray],
    eps: Mapping[str, float],
) -> xr.Dataset:
    """SB trajectories of 2-D examples: ``path`` (example, t, particle, axis) and ``target``.

    ``paths[name]`` is (T, n, 2); ``targets[name]`` (n, 2) target samples for reference.
    """
    names = list(paths)
    if not names:
        raise DataError("no trajectories to assemble")
    path = np.stack([paths[k] for k in names])
    target = np.stack([targets[k] for k in names])
    return xr.Dataset(
        {
            "path": (("example", "t", "particle", "axis"), path,
                     {"long_name": "X_t of the learned SB process (Euler-Maruyama)"}),
            "target": (("example", "particle", "axis"), target,
                       {"long_name": "target samples (P1)"}),
            "eps": (("example",), np.asarray([eps[k] for k in names], dtype=np.float64),
                    {"long_name": "entropic regularisation epsilon"}),
        },
        coords={
            "example": np.asarray(names, dtype=str),
            "t": ("t", np.asarray(times, dtype=np.float64), {"units": "1", "long_name": "time"}),
            "particle": np.arange(path.shape[2]),
            "axis": np.arange(path.shape[3]),
        },
        attrs={"description": "Trajectories of the LightSB Schroedinger bridge in 2-D examples"},
    )
