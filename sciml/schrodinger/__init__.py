"""Light Schrödinger Bridge, entropic-OT ground-truth pairs and cBW2-UVP.

Korotin, Gushchin, Burnaev, "Light Schrödinger Bridge", ICLR 2024 (arXiv:2310.01174), scored on
pairs built like those of Gushchin et al., "Building the Bridge of Schrödinger", NeurIPS 2023.

Rooms: :mod:`~sciml.schrodinger.data` (inputs: the mixture pairs of :mod:`~.pairs`, the Gaussian
pairs of :mod:`~.gaussian`, the Swiss-roll clouds of :mod:`~.clouds`, the user's own clouds of
:mod:`~.point_clouds`), :mod:`~.model` (LightSB, its plan and SB process), :mod:`~.fit`
(training), :mod:`~.metrics` (BW2-UVP, cBW2-UVP, energy distance, W2), :mod:`~.experiment` (the
benchmark recipe behind :class:`LightSBConfig`), :mod:`~.translation` (the recipe on the user's
clouds), :mod:`~.plots`, :mod:`~.datasets` (to and from xarray).
"""

from sciml.schrodinger.data import (
    DIMS,
    EPSILONS,
    GaussianPair,
    MixturePair,
    benchmark_pairs,
    make_clouds,
    make_gaussian_pair,
    make_mixture_pair,
)
from sciml.schrodinger.datasets import (
    pair_from_dataset,
    pairs_to_dataset,
    to_dataset,
    trajectories_to_dataset,
)
from sciml.schrodinger.experiment import (
    CellFit,
    LightSBConfig,
    fit_cell,
    pack_states,
    run,
    run_cell,
    simulate_examples,
    unpack_states,
    validation_metrics,
)
from sciml.schrodinger.fit import FitResult, fit_lightsb
from sciml.schrodinger.gaussian import (
    gaussian_eot_conditional,
    gaussian_eot_cross_cov,
    gaussian_lightsb_params,
    gaussian_sb_drift,
)
from sciml.schrodinger.metrics import (
    bw2_squared,
    bw2_uvp,
    cbw2_uvp,
    cbw2_uvp_samples,
    energy_distance,
    moments_from_samples,
    score_plan,
    w2_empirical,
)
from sciml.schrodinger.model import LightSB, bridge_sample, sb_trajectories
from sciml.schrodinger.plots import plot_samples, plot_trajectories
from sciml.schrodinger.point_clouds import (
    PointClouds,
    PointCloudSettings,
    load_point_clouds,
    read_points,
)
from sciml.schrodinger.translation import CloudFit, fit_clouds

__all__ = [
    "DIMS",
    "EPSILONS",
    "CellFit",
    "CloudFit",
    "FitResult",
    "GaussianPair",
    "LightSB",
    "LightSBConfig",
    "MixturePair",
    "PointCloudSettings",
    "PointClouds",
    "benchmark_pairs",
    "bridge_sample",
    "bw2_squared",
    "bw2_uvp",
    "cbw2_uvp",
    "cbw2_uvp_samples",
    "energy_distance",
    "fit_clouds",
    "fit_cell",
    "fit_lightsb",
    "gaussian_eot_conditional",
    "gaussian_eot_cross_cov",
    "gaussian_lightsb_params",
    "gaussian_sb_drift",
    "make_clouds",
    "make_gaussian_pair",
    "load_point_clouds",
    "make_mixture_pair",
    "moments_from_samples",
    "pack_states",
    "pair_from_dataset",
    "pairs_to_dataset",
    "plot_samples",
    "plot_trajectories",
    "read_points",
    "run",
    "run_cell",
    "sb_trajectories",
    "score_plan",
    "simulate_examples",
    "to_dataset",
    "trajectories_to_dataset",
    "unpack_states",
    "validation_metrics",
    "w2_empirical",
]
