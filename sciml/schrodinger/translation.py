r"""LightSB between a user's own point clouds: fit, transport, bridge and held-out score (no I/O).

Korotin, Gushchin, Burnaev, "Light Schrödinger Bridge", ICLR 2024 (arXiv:2310.01174), Section 5.3:
unpaired translation between two samples, e.g. the cells of two time points of a single-cell
experiment, with the learned Schrödinger bridge scored against a held-out intermediate time point
by the energy distance.

:func:`fit_clouds` (LightSB on the unpaired clouds of ``settings.data``) ->
:func:`transport_dataset` (one draw :math:`y \sim \pi_\theta(\cdot\mid x)` and the conditional
mean per source point: ``lightsb/user_transport``) -> :func:`trajectories_dataset` (the learned SB
process from source points: ``lightsb/user_trajectories``) -> :func:`metrics_dataset` (energy
distance and :math:`W_2` of the transported cloud against the target, and of the bridge at the
held-out time :math:`t_h` against the held-out cloud, beside the untransported clouds:
``lightsb/user_metrics``). Seeds derive from ``settings.seed`` (:func:`cloud_seeds`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
import torch
import xarray as xr

from sciml.errors import ConfigError
from sciml.schrodinger.fit import fit_lightsb
from sciml.schrodinger.metrics import energy_distance, w2_empirical
from sciml.schrodinger.model import LightSB, sb_trajectories
from sciml.schrodinger.point_clouds import PointClouds

if TYPE_CHECKING:
    from sciml.schrodinger.experiment import LightSBConfig

__all__ = [
    "SAMPLES",
    "TRANSPORT",
    "USER_TRAJECTORIES",
    "USER_METRICS",
    "USER_MODEL",
    "CloudSeeds",
    "cloud_seeds",
    "CloudFit",
    "fit_clouds",
    "transport_dataset",
    "trajectories_dataset",
    "metrics_dataset",
    "metrics_table",
]

Logger = logging.Logger | logging.LoggerAdapter

# the datasets and the model of a run on the user's clouds, by catalog name
SAMPLES = "lightsb/user_samples"
TRANSPORT = "lightsb/user_transport"
USER_TRAJECTORIES = "lightsb/user_trajectories"
USER_METRICS = "lightsb/user_metrics"
USER_MODEL = "lightsb/user"


class CloudSeeds(NamedTuple):
    """Seeds of a run on the user's clouds."""

    fit: int  # fit_lightsb: minibatch indices and initialisation
    transport: int  # the draws y ~ pi(.|x)
    simulate: int  # Brownian increments of the bridges
    evaluate: int  # subsamples behind the energy distance and W2


def cloud_seeds(seed: int) -> CloudSeeds:
    """The seeds of a run from ``settings.seed``: the fit ``seed``, then ``seed + 1, 2, 3``.

    Parameters
    ----------
    seed : int

    Returns
    -------
    CloudSeeds
    """
    s = int(seed)
    return CloudSeeds(fit=s, transport=s + 1, simulate=s + 2, evaluate=s + 3)


@dataclass(frozen=True)
class CloudFit:
    """A LightSB fit between the user's clouds: parameters, training time and final loss."""

    state: dict[str, torch.Tensor]
    fit_seconds: float
    final_loss: float

    def model(self) -> LightSB:
        """The fitted :class:`~sciml.schrodinger.model.LightSB`."""
        return LightSB.from_state_dict(self.state)


def _data(settings: LightSBConfig):
    if settings.data is None:
        raise ConfigError("these steps need the data settings: set data.source and data.target")
    return settings.data


def fit_clouds(settings: LightSBConfig, clouds: PointClouds, logger: Logger | None = None) -> CloudFit:
    r"""Fit LightSB between the unpaired source and target clouds.

    Korotin et al., ICLR 2024, Algorithm 1 (:func:`~sciml.schrodinger.fit.fit_lightsb`) with
    :math:`\varepsilon` = ``data.eps`` and the sizes of ``settings`` (``n_components``, ``cov``,
    ``diag_components``, ``n_steps``, ``batch_size``, ``lr``); minibatches are drawn with
    replacement from the clouds.

    Parameters
    ----------
    settings : LightSBConfig
    clouds : PointClouds
    logger : logging.Logger, optional

    Returns
    -------
    CloudFit
    """
    data = _data(settings)
    res = fit_lightsb(clouds.source, clouds.target, data.eps, n_components=settings.n_components,
                      cov=settings.cov, n_steps=settings.n_steps, batch_size=settings.batch_size,
                      lr=settings.lr, seed=cloud_seeds(settings.seed).fit, logger=logger,
                      diag_components=settings.diag_components)  # fmt: skip
    state = {k: v.detach().clone() for k, v in res.model.state_dict().items()}
    return CloudFit(state, float(res.fit_seconds), float(res.loss[-1]))


def _transport(model: LightSB, source: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    gen = torch.Generator().manual_seed(int(seed))
    with torch.no_grad():
        x = torch.as_tensor(source, dtype=model.r.dtype)
        y = model.sample(x, 1, gen)[0]
        mean, _ = model.conditional_moments(x)
    return y.double().numpy(), mean.double().numpy()


def transport_dataset(settings: LightSBConfig, fit: CloudFit, clouds: PointClouds) -> xr.Dataset:
    r"""The ``lightsb/user_transport`` dataset: every source point moved by the learned plan.

    .. math:: y_i \sim \pi_\theta(\cdot \mid x_i), \qquad
              \bar y_i = \mathbb E_{\pi_\theta}[y \mid x_i]

    (Korotin et al., ICLR 2024, Prop. 3.2: one draw of the mixture per point, and its exact mean).

    Parameters
    ----------
    settings : LightSBConfig
    fit : CloudFit
    clouds : PointClouds

    Returns
    -------
    xarray.Dataset
        ``source``, ``transported``, ``conditional_mean`` (point, axis).
    """
    y, mean = _transport(fit.model(), clouds.source, cloud_seeds(settings.seed).transport)
    dims = ("point", "axis")
    return xr.Dataset(
        {"source": (dims, clouds.source, {"long_name": "source point x_i"}),
         "transported": (dims, y, {"long_name": "one draw y_i ~ pi(.|x_i) of the LightSB plan"}),
         "conditional_mean": (dims, mean, {"long_name": "E[y | x_i] under the LightSB plan"})},
        coords={"point": np.arange(clouds.source.shape[0]), "axis": np.arange(clouds.dim)},
        attrs={"description": "The user's source points transported by the fitted LightSB plan",
               "eps": float(_data(settings).eps)},
    )  # fmt: skip


def _bridge(settings: LightSBConfig, model: LightSB, x: np.ndarray, t_end: float) -> np.ndarray:
    """X_{t_end} of the learned SB from x (Euler-Maruyama, ``traj_steps`` steps on [0, t_end])."""
    gen = torch.Generator().manual_seed(cloud_seeds(settings.seed).simulate)
    with torch.no_grad():
        out = model.simulate(torch.as_tensor(x, dtype=model.r.dtype), n_steps=settings.traj_steps,
                             generator=gen, t_end=t_end)  # fmt: skip
    return out.double().numpy()


def trajectories_dataset(settings: LightSBConfig, fit: CloudFit, clouds: PointClouds) -> xr.Dataset:
    r"""The ``lightsb/user_trajectories`` dataset: SB paths from the first ``n_traj`` source points.

    Korotin et al., ICLR 2024, Prop. 3.3: :math:`dX_t = g_\theta(X_t, t)\,dt +
    \sqrt\varepsilon\,dW_t` with the closed-form drift, ``traj_steps`` Euler-Maruyama steps.

    Parameters
    ----------
    settings : LightSBConfig
    fit : CloudFit
    clouds : PointClouds

    Returns
    -------
    xarray.Dataset
        ``path`` (t, particle, axis).
    """
    x = clouds.source[: settings.n_traj]
    times, path = sb_trajectories(fit.model(), x, settings.traj_steps,
                                  seed=cloud_seeds(settings.seed).simulate)  # fmt: skip
    return xr.Dataset(
        {"path": (("t", "particle", "axis"), path,
                  {"long_name": "X_t of the learned SB process (Euler-Maruyama)"})},
        coords={"t": ("t", times, {"units": "1", "long_name": "time on the bridge"}),
                "particle": np.arange(x.shape[0]), "axis": np.arange(clouds.dim)},
        attrs={"description": "Trajectories of the LightSB bridge between the user's clouds",
               "eps": float(_data(settings).eps)},
    )  # fmt: skip


def metrics_dataset(settings: LightSBConfig, fit: CloudFit, clouds: PointClouds) -> xr.Dataset:
    r"""The ``lightsb/user_metrics`` dataset: energy distance and :math:`W_2` (model, reference).

    Korotin et al., ICLR 2024, Section 5.3 (energy distance at a held-out time point). Against
    the ``target`` cloud: the transported source points (``model="lightsb"``, one draw per point)
    and the untransported source (``"source"``). Against the ``heldout`` cloud (when given): the
    learned bridge at :math:`t_h` started from the source points (``"lightsb"``), and the source
    and target clouds themselves (``"source"``, ``"target"``: what a model that does not move, or
    jumps straight to the end, would score). Each cloud is subsampled to ``data.max_eval`` points
    (seeded); :func:`~sciml.schrodinger.metrics.energy_distance`,
    :func:`~sciml.schrodinger.metrics.w2_empirical`.

    Parameters
    ----------
    settings : LightSBConfig
    fit : CloudFit
    clouds : PointClouds

    Returns
    -------
    xarray.Dataset
        ``energy_distance`` and ``w2`` (model, reference), NaN where not defined; attrs
        ``fit_seconds``, ``final_loss``, ``heldout_time``.
    """
    data = _data(settings)
    seeds = cloud_seeds(settings.seed)
    model = fit.model()
    moved, _ = _transport(model, clouds.source, seeds.transport)
    compared = {("lightsb", "target"): moved, ("source", "target"): clouds.source}
    references = {"target": clouds.target}
    if clouds.heldout is not None:
        references["heldout"] = clouds.heldout
        compared[("lightsb", "heldout")] = _bridge(settings, model, clouds.source, clouds.heldout_time)
        compared[("source", "heldout")] = clouds.source
        compared[("target", "heldout")] = clouds.target
    models, refs = ["lightsb", "source", "target"], list(references)
    energy = np.full((len(models), len(refs)), np.nan)
    w2 = np.full_like(energy, np.nan)
    for (m, r), pts in compared.items():
        i, j = models.index(m), refs.index(r)
        energy[i, j] = energy_distance(pts, references[r], data.max_eval, seeds.evaluate)
        w2[i, j] = w2_empirical(pts, references[r], data.max_eval, seeds.evaluate)
    attrs = {"description": "LightSB between the user's point clouds: distances of the transported "
                            "cloud to the target and of the bridge at the held-out time to the "
                            "held-out cloud", "eps": float(data.eps),
             "fit_seconds": fit.fit_seconds, "final_loss": fit.final_loss,
             "reference": "Korotin, Gushchin, Burnaev, Light Schroedinger Bridge, ICLR 2024, Sec. 5.3"}
    if clouds.heldout_time is not None:
        attrs["heldout_time"] = float(clouds.heldout_time)
    dims = ("model", "reference")
    return xr.Dataset(
        {"energy_distance": (dims, energy, {"units": "data units",
                                            "long_name": "energy distance 2E|X-Y| - E|X-X'| - E|Y-Y'|"}),
         "w2": (dims, w2, {"units": "data units", "long_name": "2-Wasserstein distance (exact, "
                                                              "equal-size subsamples)"})},
        coords={"model": np.asarray(models, dtype=str), "reference": np.asarray(refs, dtype=str)},
        attrs=attrs,
    )  # fmt: skip


def metrics_table(metrics: xr.Dataset):
    """Headline table of ``lightsb/user_metrics``: one row per (model, reference) with a score.

    Parameters
    ----------
    metrics : xarray.Dataset

    Returns
    -------
    pandas.DataFrame
        Columns model, reference, energy_distance, w2.
    """
    return metrics[["energy_distance", "w2"]].to_dataframe().dropna(how="all").reset_index()
