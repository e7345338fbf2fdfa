r"""The LightSB benchmark experiment: settings and every step of the recipe (no I/O).

Korotin, Gushchin, Burnaev, "Light Schrödinger Bridge", ICLR 2024 (arXiv:2310.01174), Section 5,
with the protocol of Gushchin et al. (NeurIPS 2023 Datasets and Benchmarks), Section 4:

:func:`make_pairs` (the fixed-seed Gaussian-mixture pairs of every (dim, eps) and the moments of
:math:`P_1`) -> :func:`fit_cell` for each (dim, eps, seed) of :func:`grid` (LightSB fitted on
independent, unpaired draws of :math:`P_0` and :math:`P_1`, scored by the cBW2-UVP of its plan
against the exact conditional plan and the BW2-UVP of its target marginal, Section 5.2) ->
:func:`metrics_dataset`, :func:`pack_states` (the fitted parameters as one model version) ->
:func:`simulate_examples` (the learned SB process on the 2-D pairs and on the Gaussian-to-Swiss-roll
example, Section 5.1) -> :func:`trajectories_dataset`. :func:`run` does it all in one call; the
``lightsb`` flow runs the same steps as tasks, and its retraining refits :func:`retrain_cell`.

Every seed derives from :class:`LightSBConfig` in :func:`cell_seeds`, :func:`validation_seed`
and :func:`example_seeds` (the pairs use the fixed ``pair_seed``). Champion/challenger scores a
retrained cell with :func:`validation_metrics` on validation points of their own stream, never
the benchmark's test points.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal, NamedTuple

import numpy as np
import pandas as pd
import torch
import xarray as xr
from pydantic import Field, field_validator, model_validator

from sciml.errors import ConfigError, DataError
from sciml.schrodinger.data import benchmark_pairs, make_clouds, make_mixture_pair
from sciml.schrodinger.datasets import (
    pair_from_dataset,
    pairs_to_dataset,
    to_dataset,
    trajectories_to_dataset,
)
from sciml.schrodinger.fit import fit_lightsb
from sciml.schrodinger.metrics import score_plan
from sciml.schrodinger.model import LightSB, sb_trajectories
from sciml.schrodinger.pairs import MixturePair
from sciml.schrodinger.point_clouds import PointCloudSettings
from sciml.settings import Settings

__all__ = [
    "LightSBConfig",
    "PAIRS",
    "METRICS",
    "TRAJECTORIES",
    "CellSeeds",
    "ExampleSeeds",
    "cell_seeds",
    "validation_seed",
    "example_seeds",
    "grid",
    "make_pairs",
    "run_cell",
    "CellFit",
    "fit_cell",
    "retrain_cell",
    "validation_metrics",
    "metrics_dataset",
    "pack_states",
    "unpack_states",
    "model_metrics",
    "Examples",
    "simulate_examples",
    "trajectories_dataset",
    "metrics_table",
    "run",
]

Logger = logging.Logger | logging.LoggerAdapter

# the datasets of the workflow, by catalog name
PAIRS = "lightsb/pairs"
METRICS = "lightsb/metrics"
TRAJECTORIES = "lightsb/trajectories"


class LightSBConfig(Settings):
    """LightSB benchmark grid (fast defaults: D in {2, 16}, every eps, one seed).

    ``paper``: D in {2, 16, 64, 128}, 3 seeds, 100k unpaired training draws per side, 3,000 Adam
    steps (6,000 for D = 128) with batches of 1,024. ``seed`` is the first training seed
    (``n_seeds`` consecutive seeds); the pairs themselves use the fixed ``pair_seed``, with plan
    components in random orthogonal frames (``pair_frames="rotated"``) or axis-aligned
    (``"axis_aligned"``, where diagonal S_k contain the truth). ``cov="full"`` fits full S_k
    (``n_components`` of them, best about 10) after a diagonal stage of ``diag_components``.

    ``data`` (:class:`~sciml.schrodinger.point_clouds.PointCloudSettings`) names two unpaired
    point clouds of the user's (and optionally a held-out time point): the run then fits LightSB
    between them (:mod:`~sciml.schrodinger.translation`) instead of the benchmark grid. Its keys
    may be given nested (``{"data": {"source": ..., "target": ...}}``, a deployment's
    parameters) or dotted (``{"data.source": ...}``, as ``sciml run lightsb --set
    data.source=...``).
    """

    dims: tuple[int, ...] = (2, 16)
    epsilons: tuple[float, ...] = (0.1, 1.0, 10.0)
    n_seeds: int = Field(1, ge=1)
    pair_seed: int = 0
    pair_frames: Literal["rotated", "axis_aligned"] = "rotated"
    n_components: int = Field(50, ge=1)
    cov: Literal["diagonal", "full"] = "diagonal"
    diag_components: int = Field(50, ge=1)
    n_steps: int = Field(2000, ge=1)
    n_steps_by_dim: dict[int, int] = Field(default_factory=dict)
    batch_size: int = Field(512, ge=1)
    lr: float = Field(2e-2, gt=0)
    n_train: int = Field(20_000, ge=10)
    n_test: int = Field(1_000, ge=10)
    n_moments: int = Field(20_000, ge=100)
    clouds_n: int = Field(5_000, ge=10)
    clouds_eps: float = Field(0.1, gt=0)
    traj_steps: int = Field(100, ge=1)
    n_traj: int = Field(500, ge=1)
    retrain_dim: int = Field(16, ge=1)
    retrain_eps: float = Field(1.0, gt=0)
    data: PointCloudSettings | None = Field(
        None, description="two point clouds of yours (NPY, CSV or .h5ad): fit LightSB between them"
    )

    PROFILES = {
        "fast": {},
        "paper": {"dims": (2, 16, 64, 128), "n_seeds": 3, "n_train": 100_000,
                  "n_steps": 3_000, "n_steps_by_dim": {128: 6_000}, "batch_size": 1_024,
                  "n_moments": 50_000},
        "tiny": {"dims": (2, 3), "epsilons": (0.1, 1.0), "n_components": 5, "n_steps": 60,
                 "batch_size": 64, "n_train": 500, "n_test": 50, "n_moments": 500,
                 "clouds_n": 300, "traj_steps": 10, "n_traj": 40, "retrain_dim": 2},
    }  # fmt: skip

    @model_validator(mode="before")
    @classmethod
    def _dotted_keys(cls, data: object) -> object:
        """``{"data.source": p}`` -> ``{"data": {"source": p}}`` (merged into a ``data`` mapping)."""
        if not isinstance(data, dict) or not any(isinstance(k, str) and "." in k for k in data):
            return data
        out: dict = {}
        for key, value in data.items():
            head, dot, rest = key.partition(".") if isinstance(key, str) else (key, "", "")
            if not dot or head not in cls.model_fields:
                out[key] = value  # an unknown key: rejected by name (extra="forbid")
                continue
            sub = out.get(head, data.get(head))
            sub = sub.model_dump() if isinstance(sub, PointCloudSettings) else dict(sub or {})
            sub[rest] = value
            out[head] = sub
        return out

    @field_validator("dims")
    @classmethod
    def _dims(cls, v: tuple[int, ...]) -> tuple[int, ...]:
        if not v or any(d < 1 for d in v):
            raise ValueError(f"dims needs at least one value, all >= 1; got {v}")
        return tuple(sorted(set(int(d) for d in v)))

    @field_validator("epsilons")
    @classmethod
    def _eps(cls, v: tuple[float, ...]) -> tuple[float, ...]:
        if not v or any(e <= 0 for e in v):
            raise ValueError(f"epsilons needs at least one value, all > 0; got {v}")
        return tuple(sorted(set(float(e) for e in v)))

    def seeds(self) -> list[int]:
        """The training seeds ``seed, ..., seed + n_seeds - 1``."""
        return [self.seed + i for i in range(self.n_seeds)]

    def fit_kwargs(self, dim: int) -> dict:
        """Keyword arguments of :func:`run_cell` for dimension ``dim``."""
        return dict(n_train=self.n_train, n_test=self.n_test, n_components=self.n_components,
                    cov=self.cov, n_steps=self.n_steps_by_dim.get(dim, self.n_steps),
                    batch_size=self.batch_size, lr=self.lr, diag_components=self.diag_components)

    def pair(self, dim: int, eps: float) -> MixturePair:
        """The benchmark pair of (dim, eps): ``pair_seed`` and ``pair_frames``."""
        return make_mixture_pair(dim, eps, seed=self.pair_seed,
                                 rotate=self.pair_frames == "rotated")  # fmt: skip


# ---------------------------------------------------------------------------------------- seeds
class CellSeeds(NamedTuple):
    """Seeds of one (dim, eps, seed) cell."""

    draws: list[int]  # entropy of the numpy generator of the unpaired training draws
    fit: int  # fit_lightsb: minibatch indices and initialisation
    score: int  # the n_test scoring points x ~ P0


class ExampleSeeds(NamedTuple):
    """Seeds of the 2-D examples of :func:`simulate_examples`."""

    draws: int  # numpy generator of the pairs' source points and exact targets (one stream)
    sample: int  # torch generator of the LightSB samples shown in the sample plots
    simulate: int  # Brownian increments of every simulated bridge
    clouds: int  # the Swiss-roll clouds
    fit: int  # the Swiss-roll fit


def cell_seeds(dim: int, eps: float, seed: int) -> CellSeeds:
    r"""The seeds of cell (dim, eps, seed): draws, fit and scoring points.

    Gushchin et al., NeurIPS 2023, Section 4: training draws and test points are independent.
    The training draws use the entropy ``[seed, dim, round(1000 eps)]``, the fit ``seed`` and
    the scoring points ``10000 + seed``, so every seed of a grid cell differs from every other
    cell's and from the scoring points'.

    Parameters
    ----------
    dim : int
        Dimension :math:`D`.
    eps : float
        Entropic regularisation :math:`\varepsilon`.
    seed : int
        Training seed of the cell.

    Returns
    -------
    CellSeeds
    """
    seed = int(seed)
    return CellSeeds([seed, int(dim), int(round(eps * 1000))], seed, 10_000 + seed)


def validation_seed(dim: int, eps: float, seed: int) -> int:
    r"""Seed of the validation points :math:`x \sim P_0` of cell (dim, eps, seed).

    The stream ``SeedSequence([seed, dim, round(1000 eps), 1])`` is independent of the cell's
    training draws (entropy ``[seed, dim, round(1000 eps)]``), its fit (``seed``) and its test
    points (``10000 + seed``, :func:`cell_seeds`): model selection never sees a test point.

    Parameters
    ----------
    dim : int
    eps : float
    seed : int
        Training seed of the cell.

    Returns
    -------
    int
    """
    entropy = [int(seed), int(dim), int(round(eps * 1000)), 1]
    return int(np.random.SeedSequence(entropy).generate_state(1)[0])


def example_seeds(settings: LightSBConfig) -> ExampleSeeds:
    """The seeds of the simulated 2-D examples: ``settings.seed`` everywhere, the sample plots 0.

    Korotin et al., ICLR 2024, Section 5.1.

    Parameters
    ----------
    settings : LightSBConfig

    Returns
    -------
    ExampleSeeds
    """
    s = int(settings.seed)
    return ExampleSeeds(draws=s, sample=0, simulate=s, clouds=s, fit=s)


def grid(settings: LightSBConfig) -> list[tuple[int, float, int]]:
    """The (dim, eps, seed) cells of the benchmark grid, dims outermost, seeds innermost.

    Korotin et al., ICLR 2024, Section 5.2 (Table 2).

    Parameters
    ----------
    settings : LightSBConfig

    Returns
    -------
    list of (dim, eps, seed)
    """
    return [(d, e, s) for d in settings.dims for e in settings.epsilons for s in settings.seeds()]


# ---------------------------------------------------------------------------------------- pairs
def make_pairs(settings: LightSBConfig) -> xr.Dataset:
    r"""The ``lightsb/pairs`` dataset: the benchmark pair of every (dim, eps) and :math:`P_1`'s moments.

    Gushchin et al., NeurIPS 2023, Section 3 (:func:`~sciml.schrodinger.data.benchmark_pairs`
    with ``pair_seed`` and ``n_moments`` draws of :math:`P_0`).

    Parameters
    ----------
    settings : LightSBConfig

    Returns
    -------
    xarray.Dataset
        See :func:`~sciml.schrodinger.datasets.pairs_to_dataset`.
    """
    pairs, moments = benchmark_pairs(settings.dims, settings.epsilons, seed=settings.pair_seed,
                                     n_moments=settings.n_moments,
                                     rotate=settings.pair_frames == "rotated")  # fmt: skip
    ds = pairs_to_dataset(pairs, moments)
    ds.attrs["pair_frames"] = settings.pair_frames
    return ds


def _pair(pairs: xr.Dataset, dim: int, eps: float, frames: str | None = None) -> MixturePair:
    """The pair of (dim, eps) from a ``lightsb/pairs`` dataset; a cell off its grid, or pairs of
    other frames than ``frames`` (datasets without the attr are axis-aligned), raise."""
    stored = pairs.attrs.get("pair_frames", "axis_aligned")
    if frames is not None and stored != frames:
        raise ConfigError(
            f"the pairs dataset holds {stored} pairs but pair_frames={frames!r}; rebuild the pairs "
            "(`sciml run lightsb`) or set pair_frames to match"
        )
    dims = [int(d) for d in pairs["dim"].values]
    epss = [float(e) for e in pairs["eps"].values]
    if int(dim) not in dims or not np.isclose(epss, float(eps), rtol=1e-9, atol=0).any():
        raise ConfigError(
            f"cell (dim={dim}, eps={eps}) is not in the pairs dataset (dims {dims}, eps {epss}); "
            "build the pairs with this dim and eps"
        )
    return pair_from_dataset(pairs, dim, eps)


# ---------------------------------------------------------------------------------------- cells
def run_cell(
    dim: int,
    eps: float,
    seed: int = 0,
    pair: MixturePair | None = None,
    n_train: int = 50_000,
    n_test: int = 1_000,
    n_components: int = 50,
    cov: str = "diagonal",
    n_steps: int = 3_000,
    batch_size: int = 1_024,
    lr: float = 2e-2,
    logger: Logger | None = None,
    diag_components: int = 50,
) -> tuple[dict[str, float], dict[str, torch.Tensor]]:
    """Fit and score LightSB on one pair (Korotin et al., ICLR 2024, Section 5.2).

    ``seed`` seeds the unpaired training draws (``n_train`` of each side) and the fit; the pair
    itself is the fixed-seed benchmark pair of (dim, eps) unless ``pair`` is given; the n_test
    scoring points come from a separate fixed stream (:func:`cell_seeds`).

    Parameters
    ----------
    dim : int
        Dimension :math:`D`.
    eps : float
        Entropic regularisation.
    seed : int
        Training seed.
    pair : MixturePair or GaussianPair, optional
        Provides ``sample_source``, ``sample_target`` and ``conditional_moments``.
    n_train, n_test : int
        Unpaired training draws per side; scoring points.
    n_components, cov, n_steps, batch_size, lr, diag_components
        See :func:`~sciml.schrodinger.fit.fit_lightsb`.
    logger : logging.Logger, optional
        Receives the training progress.

    Returns
    -------
    metrics : dict
        ``cbw2_uvp``, ``bw2_uvp`` (percent), ``fit_seconds`` (wall clock), ``fit_cpu_seconds``
        (CPU time of the process), ``final_loss``.
    state_dict : dict of torch.Tensor
        The fitted parameters.
    """
    pair = make_mixture_pair(dim, eps) if pair is None else pair  # rotated frames
    seeds = cell_seeds(dim, eps, seed)
    rng = np.random.default_rng(seeds.draws)
    x_train = pair.sample_source(n_train, rng)
    y_train = pair.sample_target(n_train, rng)
    res = fit_lightsb(
        x_train, y_train, eps, n_components=n_components, cov=cov, n_steps=n_steps,
        batch_size=batch_size, lr=lr, seed=seeds.fit, logger=logger,
        diag_components=diag_components,
    )
    scores = score_plan(res.model, pair, n_test=n_test, seed=seeds.score)
    scores["fit_seconds"] = float(res.fit_seconds)
    scores["fit_cpu_seconds"] = float(res.cpu_seconds)
    scores["final_loss"] = float(res.loss[-1])
    return scores, {k: v.detach().clone() for k, v in res.model.state_dict().items()}


@dataclass(frozen=True)
class CellFit:
    """One fitted (dim, eps, seed) cell: its scores and its fitted parameters."""

    dim: int
    eps: float
    seed: int
    scores: dict[str, float]
    state: dict[str, torch.Tensor]

    def record(self) -> dict[str, float]:
        """The cell's row of ``lightsb/metrics``: dim, eps, seed and the scores."""
        return {"dim": self.dim, "eps": self.eps, "seed": self.seed, **self.scores}

    def model(self) -> LightSB:
        """The fitted :class:`~sciml.schrodinger.model.LightSB`."""
        return LightSB.from_state_dict(self.state)


def fit_cell(
    settings: LightSBConfig,
    dim: int,
    eps: float,
    seed: int,
    pairs: xr.Dataset | None = None,
    logger: Logger | None = None,
) -> CellFit:
    """Fit and score one cell of the grid on its benchmark pair.

    Korotin et al., ICLR 2024, Section 5.2: :func:`run_cell` with the sizes of ``settings``
    (:meth:`LightSBConfig.fit_kwargs`).

    Parameters
    ----------
    settings : LightSBConfig
    dim, eps, seed : int, float, int
        The cell.
    pairs : xarray.Dataset, optional
        The ``lightsb/pairs`` dataset to take the pair from; without it the pair is rebuilt with
        ``settings.pair_seed``.
    logger : logging.Logger, optional

    Returns
    -------
    CellFit

    Raises
    ------
    ConfigError
        The cell is not on the grid of ``pairs``.
    """
    pair = (settings.pair(dim, eps) if pairs is None
            else _pair(pairs, dim, eps, settings.pair_frames))  # fmt: skip
    scores, state = run_cell(dim, eps, seed, pair=pair, logger=logger, **settings.fit_kwargs(dim))
    return CellFit(dim, eps, seed, scores, state)


def retrain_cell(
    settings: LightSBConfig, pairs: xr.Dataset | None = None, logger: Logger | None = None
) -> CellFit:
    """Refit the (``retrain_dim``, ``retrain_eps``) cell with ``settings.seed`` (the challenger).

    Korotin et al., ICLR 2024, Section 5.2. Its scores are on the cell's test points (reported);
    the promotion is decided by :func:`validation_metrics`.

    Parameters
    ----------
    settings : LightSBConfig
    pairs : xarray.Dataset, optional
        The ``lightsb/pairs`` dataset to take the pair from; without it the pair is rebuilt with
        ``settings.pair_seed``.
    logger : logging.Logger, optional

    Returns
    -------
    CellFit

    Raises
    ------
    ConfigError
        The cell is not on the grid of ``pairs``.
    """
    return fit_cell(settings, settings.retrain_dim, settings.retrain_eps, settings.seed, pairs, logger)


def validation_metrics(
    settings: LightSBConfig, state_dict: Mapping[str, torch.Tensor], pairs: xr.Dataset | None = None
) -> dict[str, float]:
    r"""cBW2-UVP and BW2-UVP (%) of a LightSB state dict on the retrain cell's validation points.

    ``n_test`` points :math:`x_i \sim P_0` of the (``retrain_dim``, ``retrain_eps``) pair are
    drawn with :func:`validation_seed` (``settings.seed``), a stream that neither the fit nor the
    benchmark's test points use, and the model's conditional plan is compared with the exact one
    there (:func:`~sciml.schrodinger.metrics.score_plan`):

    .. math:: \mathrm{cBW}_2^2\text{-UVP} = \frac{100}{\mathrm{Var}(P_1)}\,\frac1n\sum_i
              \mathrm{BW}_2^2\big(\hat\pi(\cdot\mid x_i), \pi^*(\cdot\mid x_i)\big).

    Deterministic given ``settings.seed`` and the pair: the same state gives the same floats.

    Parameters
    ----------
    settings : LightSBConfig
        ``retrain_dim``, ``retrain_eps``, ``seed``, ``n_test`` (and ``pair_seed`` without
        ``pairs``).
    state_dict : mapping of str to torch.Tensor
        A :class:`~sciml.schrodinger.model.LightSB` state dict (``CellFit.state``).
    pairs : xarray.Dataset, optional
        The ``lightsb/pairs`` dataset; without it the pair is rebuilt with ``pair_seed``.

    Returns
    -------
    dict
        ``score`` and ``val_cbw2_uvp``, ``val_bw2_uvp`` (percent).

    Raises
    ------
    DataError
        If the state dict is not a LightSB of the retrain cell's dimension and eps.
    ConfigError
        If the cell is not on the grid of ``pairs``.

    References
    ----------
    .. [1] Gushchin et al., "Building the Bridge of Schrödinger: A Continuous Entropic Optimal
       Transport Benchmark", NeurIPS 2023 Datasets and Benchmarks, Section 4.
    """
    dim, eps = settings.retrain_dim, settings.retrain_eps
    model = LightSB.from_state_dict(dict(state_dict))
    if model.dim != dim or not np.isclose(model.eps, eps, rtol=1e-9, atol=0):
        raise DataError(f"state dict is a LightSB of dim={model.dim}, eps={model.eps:g}; the retrain "
                        f"cell is dim={dim}, eps={eps:g}")  # fmt: skip
    pair = (settings.pair(dim, eps) if pairs is None
            else _pair(pairs, dim, eps, settings.pair_frames))  # fmt: skip
    scores = score_plan(model, pair, n_test=settings.n_test, seed=validation_seed(dim, eps, settings.seed))
    return {"score": scores["cbw2_uvp"], "val_cbw2_uvp": scores["cbw2_uvp"],
            "val_bw2_uvp": scores["bw2_uvp"]}  # fmt: skip


def metrics_dataset(cells: Iterable[CellFit], settings: LightSBConfig) -> xr.Dataset:
    """The ``lightsb/metrics`` dataset (dims dim, eps, seed) of the fitted cells.

    Korotin et al., ICLR 2024, Section 5.2, Table 2.

    Parameters
    ----------
    cells : iterable of CellFit
    settings : LightSBConfig
        Its K, covariance structure, steps and draws go to the attrs.

    Returns
    -------
    xarray.Dataset
        ``cbw2_uvp``, ``bw2_uvp`` (%), ``fit_seconds`` (s), ``final_loss``.
    """
    return to_dataset([c.record() for c in cells],
                      attrs={"n_components": settings.n_components, "cov": settings.cov,
                             "n_steps": settings.n_steps, "n_train": settings.n_train,
                             "pair_frames": settings.pair_frames})  # fmt: skip


# ------------------------------------------------------------------------- stored model versions
def pack_states(cells: Iterable[CellFit]) -> dict[str, torch.Tensor]:
    """Every fitted parameter set as one flat state dict, keys ``d{D}/eps{eps:g}/seed{s}/<param>``.

    Parameters
    ----------
    cells : iterable of CellFit

    Returns
    -------
    dict of torch.Tensor
    """
    return {f"d{c.dim}/eps{c.eps:g}/seed{c.seed}/{k}": v for c in cells for k, v in c.state.items()}


def unpack_states(flat: Mapping[str, torch.Tensor]) -> dict[str, dict[str, torch.Tensor]]:
    """The inverse of :func:`pack_states`: ``{"d{D}/eps{eps:g}/seed{s}": state_dict}``.

    Parameters
    ----------
    flat : mapping of str to torch.Tensor

    Returns
    -------
    dict
        One :meth:`LightSB.from_state_dict <sciml.schrodinger.model.LightSB.from_state_dict>`
        input per cell.
    """
    out: dict[str, dict[str, torch.Tensor]] = {}
    for key, value in flat.items():
        cell, name = key.rsplit("/", 1)
        out.setdefault(cell, {})[name] = value
    return out


def model_metrics(cells: Iterable[CellFit]) -> dict[str, float]:
    """Mean and max cBW2-UVP over the cells, stored with their model version.

    Parameters
    ----------
    cells : iterable of CellFit

    Returns
    -------
    dict
        ``mean_cbw2_uvp``, ``max_cbw2_uvp`` (percent).
    """
    scores = [c.scores["cbw2_uvp"] for c in cells]
    return {"mean_cbw2_uvp": float(np.mean(scores)), "max_cbw2_uvp": float(np.max(scores))}


# ------------------------------------------------------------------------------------- examples
@dataclass(frozen=True)
class Examples:
    """Simulated 2-D bridges by example name (``pair_d2_eps<eps>``, ``swiss_roll``).

    ``paths[name]`` (T, n, 2) on ``times`` (T,); ``targets[name]`` (n, 2) target samples;
    ``eps[name]``; ``samples[name]`` the (source, exact target, LightSB) draws of each 2-D pair.
    """

    times: np.ndarray
    paths: dict[str, np.ndarray]
    targets: dict[str, np.ndarray]
    eps: dict[str, float]
    samples: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]


def simulate_examples(
    settings: LightSBConfig,
    pairs: xr.Dataset,
    cells: Iterable[CellFit],
    logger: Logger | None = None,
) -> Examples:
    r"""Simulate the learned SB process on every 2-D pair and on the Swiss-roll example.

    Korotin et al., ICLR 2024, Section 5.1 and Fig. 3: for each fitted D = 2 cell of the first
    training seed, ``n_traj`` source points with exact target draws and one LightSB draw each,
    and the Euler-Maruyama bridge from them (``traj_steps`` steps); then LightSB fitted at
    ``clouds_eps`` between the unpaired Gaussian and Swiss-roll clouds and its bridge from the
    first ``n_traj`` source points. Seeds: :func:`example_seeds`.

    Parameters
    ----------
    settings : LightSBConfig
    pairs : xarray.Dataset
        The ``lightsb/pairs`` dataset.
    cells : iterable of CellFit
        The fitted grid (only the D = 2 cells of ``settings.seed`` are simulated).
    logger : logging.Logger, optional
        Receives the Swiss-roll training progress.

    Returns
    -------
    Examples
    """
    seeds = example_seeds(settings)
    rng = np.random.default_rng(seeds.draws)
    paths, targets, epss, samples = {}, {}, {}, {}
    for c in cells:
        if c.dim != 2 or c.seed != settings.seed:
            continue
        pair = _pair(pairs, 2, c.eps, settings.pair_frames)
        model = c.model()
        x = pair.sample_source(settings.n_traj, rng)
        y_true = pair.sample_conditional(x, rng)
        with torch.no_grad():
            y_fit = model.sample(torch.as_tensor(x), 1,
                                 torch.Generator().manual_seed(seeds.sample))[0]  # fmt: skip
        name = f"pair_d2_eps{c.eps:g}"
        samples[name] = (x, y_true, y_fit.numpy())
        times, paths[name] = sb_trajectories(model, x, settings.traj_steps, seed=seeds.simulate)
        targets[name], epss[name] = y_true, c.eps
    src, tgt = make_clouds(settings.clouds_n, seed=seeds.clouds)
    res = fit_lightsb(src, tgt, settings.clouds_eps, n_components=settings.n_components,
                      n_steps=settings.n_steps, batch_size=settings.batch_size, lr=settings.lr,
                      seed=seeds.fit, logger=logger)  # fmt: skip
    times, paths["swiss_roll"] = sb_trajectories(res.model, src[: settings.n_traj],
                                                 settings.traj_steps, seed=seeds.simulate)
    targets["swiss_roll"], epss["swiss_roll"] = tgt[: settings.n_traj], settings.clouds_eps
    return Examples(times, paths, targets, epss, samples)


def trajectories_dataset(examples: Examples) -> xr.Dataset:
    """The ``lightsb/trajectories`` dataset (dims example, t, particle, axis) of the examples.

    Korotin et al., ICLR 2024, Section 5.1.

    Parameters
    ----------
    examples : Examples

    Returns
    -------
    xarray.Dataset
        ``path``, ``target``, ``eps``.
    """
    return trajectories_to_dataset(examples.times, examples.paths, examples.targets, examples.eps)


# --------------------------------------------------------------------------------------- report
def metrics_table(metrics: xr.Dataset) -> pd.DataFrame:
    """Headline table: cBW2-UVP, BW2-UVP (%) and fit time (s) per (dim, eps), mean over seeds.

    Korotin et al., ICLR 2024, Section 5.2, Table 2.

    Parameters
    ----------
    metrics : xarray.Dataset
        The ``lightsb/metrics`` dataset.

    Returns
    -------
    pandas.DataFrame
        Columns dim, eps, cbw2_uvp, bw2_uvp, fit_seconds.
    """
    return metrics[["cbw2_uvp", "bw2_uvp", "fit_seconds"]].mean("seed").to_dataframe().reset_index()


def run(settings: LightSBConfig, logger: Logger | None = None) -> dict[str, xr.Dataset]:
    """The whole experiment in one call: pairs, every cell of the grid, the simulated examples.

    Korotin et al., ICLR 2024, Sections 5.1-5.2; the same steps as the ``lightsb`` flow, which
    also stores :func:`pack_states` as a model version and plots the examples.

    Parameters
    ----------
    settings : LightSBConfig
    logger : logging.Logger, optional
        Receives the training progress.

    Returns
    -------
    dict of xarray.Dataset
        ``lightsb/pairs``, ``lightsb/metrics`` and ``lightsb/trajectories``.
    """
    pairs = make_pairs(settings)
    cells = [fit_cell(settings, d, e, s, pairs, logger) for d, e, s in grid(settings)]
    examples = simulate_examples(settings, pairs, cells, logger)
    return {
        PAIRS: pairs,
        METRICS: metrics_dataset(cells, settings),
        TRAJECTORIES: trajectories_dataset(examples),
    }
