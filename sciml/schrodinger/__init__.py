"""Light Schrödinger Bridge, entropic-OT ground-truth pairs and cBW2-UVP.

Korotin, Gushchin, Burnaev, "Light Schrödinger Bridge", ICLR 2024 (arXiv:2310.01174), scored on
pairs built like those of Gushchin et al., "Building the Bridge of Schrödinger", NeurIPS 2023.
"""

from sciml.schrodinger.clouds import make_clouds, sb_trajectories
from sciml.schrodinger.data import (
    pair_from_dataset,
    pairs_to_dataset,
    to_dataset,
    trajectories_to_dataset,
)
from sciml.schrodinger.experiment import run_cell
from sciml.schrodinger.fit import FitResult, fit_lightsb
from sciml.schrodinger.gaussian import (
    GaussianPair,
    gaussian_eot_conditional,
    gaussian_eot_cross_cov,
    gaussian_lightsb_params,
    make_gaussian_pair,
)
from sciml.schrodinger.metrics import (
    bw2_squared,
    bw2_uvp,
    cbw2_uvp,
    cbw2_uvp_samples,
    moments_from_samples,
    score_plan,
)
from sciml.schrodinger.model import LightSB, bridge_sample
from sciml.schrodinger.pairs import DIMS, EPSILONS, MixturePair, make_mixture_pair
from sciml.schrodinger.plots import plot_samples, plot_trajectories

__all__ = [
    "DIMS",
    "EPSILONS",
    "FitResult",
    "GaussianPair",
    "LightSB",
    "MixturePair",
    "bridge_sample",
    "bw2_squared",
    "bw2_uvp",
    "cbw2_uvp",
    "cbw2_uvp_samples",
    "fit_lightsb",
    "gaussian_eot_conditional",
    "gaussian_eot_cross_cov",
    "gaussian_lightsb_params",
    "make_clouds",
    "make_gaussian_pair",
    "make_mixture_pair",
    "moments_from_samples",
    "pair_from_dataset",
    "pairs_to_dataset",
    "plot_samples",
    "plot_trajectories",
    "run_cell",
    "sb_trajectories",
    "score_plan",
    "to_dataset",
    "trajectories_to_dataset",
]
