"""Light Schrödinger Bridge, entropic-OT ground-truth pairs and cBW2-UVP.

Korotin, Gushchin, Burnaev, "Light Schrödinger Bridge", ICLR 2024 (arXiv:2310.01174), scored on
pairs built like those of Gushchin et al., "Building the Bridge of Schrödinger", NeurIPS 2023.

Rooms: :mod:`~sciml.schrodinger.data` (inputs: the mixture pairs of :mod:`~.pairs`, the Gaussian
pairs of :mod:`~.gaussian`, the Swiss-roll clouds of :mod:`~.clouds`), :mod:`~.model` (LightSB,
its plan and SB process), :mod:`~.fit` (training), :mod:`~.metrics` (BW2-UVP, cBW2-UVP),
:mod:`~.experiment` (the whole recipe behind :class:`LightSBConfig`), :mod:`~.plots`,
:mod:`~.datasets` (to and from xarray).
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
)
from sciml.schrodinger.metrics import (
    bw2_squared,
    bw2_uvp,
    cbw2_uvp,
    cbw2_uvp_samples,
    moments_from_samples,
    score_plan,
)
from sciml.schrodinger.model import LightSB, bridge_sample, sb_trajectories
from sciml.schrodinger.plots import plot_samples, plot_trajectories

__all__ = [
    "DIMS",
    "EPSILONS",
    "CellFit",
    "FitResult",
    "GaussianPair",
    "LightSB",
    "LightSBConfig",
    "MixturePair",
    "benchmark_pairs",
    "bridge_sample",
    "bw2_squared",
    "bw2_uvp",
    "cbw2_uvp",
    "cbw2_uvp_samples",
    "fit_cell",
    "fit_lightsb",
    "gaussian_eot_conditional",
    "gaussian_eot_cross_cov",
    "gaussian_lightsb_params",
    "make_clouds",
    "make_gaussian_pair",
    "make_mixture_pair",
    "moments_from_samples",
    "pack_states",
    "pair_from_dataset",
    "pairs_to_dataset",
    "plot_samples",
    "plot_trajectories",
    "run",
    "run_cell",
    "sb_trajectories",
    "score_plan",
    "simulate_examples",
    "to_dataset",
    "trajectories_to_dataset",
    "unpack_states",
    "validation_metrics",
]
