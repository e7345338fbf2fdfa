r"""Inputs of the LightSB workflow: the entropic-OT benchmark pairs and the Swiss-roll clouds.

The entry point for every input of :mod:`sciml.schrodinger`; each generator keeps its own module:

- :mod:`~sciml.schrodinger.pairs`: Gaussian-mixture pairs with a known EOT plan, built like those
  of Gushchin et al., "Building the Bridge of Schrödinger", NeurIPS 2023 Datasets and Benchmarks,
  Section 3 (:func:`make_mixture_pair`); :func:`benchmark_pairs` builds the whole (dim, eps) grid
  with the moments of each :math:`P_1`.
- :mod:`~sciml.schrodinger.gaussian`: Gaussian pairs whose EOT plan has a closed form
  (:func:`make_gaussian_pair`).
- :mod:`~sciml.schrodinger.clouds`: the unpaired Gaussian-to-Swiss-roll example of Korotin,
  Gushchin, Burnaev, "Light Schrödinger Bridge", ICLR 2024, Section 5.1 (:func:`make_clouds`).
- :mod:`~sciml.schrodinger.point_clouds`: the user's own clouds (NPY, CSV, AnnData ``.h5ad``),
  read and checked (:func:`load_point_clouds`), Section 5.3.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from sciml.schrodinger.clouds import make_clouds
from sciml.schrodinger.gaussian import GaussianPair, make_gaussian_pair
from sciml.schrodinger.pairs import DIMS, EPSILONS, MixturePair, make_mixture_pair
from sciml.schrodinger.point_clouds import PointCloudSettings, load_point_clouds

__all__ = [
    "DIMS",
    "EPSILONS",
    "GaussianPair",
    "MixturePair",
    "PointCloudSettings",
    "benchmark_pairs",
    "load_point_clouds",
    "make_clouds",
    "make_gaussian_pair",
    "make_mixture_pair",
]


def benchmark_pairs(
    dims: Iterable[int],
    epsilons: Iterable[float],
    seed: int = 0,
    n_moments: int = 20_000,
    rotate: bool = True,
) -> tuple[
    dict[tuple[int, float], MixturePair], dict[tuple[int, float], tuple[np.ndarray, np.ndarray]]
]:
    r"""The fixed-seed mixture pair of every (dim, eps) and the mean and covariance of its :math:`P_1`.

    Gushchin et al., NeurIPS 2023 Datasets and Benchmarks, Section 3: one pair per cell of the
    grid, each from :func:`make_mixture_pair` with the same ``seed``; the moments of
    :math:`P_1` come from :meth:`MixturePair.target_moments` over ``n_moments`` draws of
    :math:`P_0`, each pair with a fresh ``numpy.random.Generator`` seeded with ``seed``.

    Parameters
    ----------
    dims : iterable of int
        Dimensions :math:`D`.
    epsilons : iterable of float
        Entropic regularisations :math:`\varepsilon > 0`.
    seed : int
        Seed of the pairs and of their moment estimates.
    n_moments : int
        Draws of :math:`P_0` behind the moments of :math:`P_1` (tower rule).
    rotate : bool
        Plan components in random orthogonal frames (default) or axis-aligned
        (:func:`make_mixture_pair`).

    Returns
    -------
    pairs : dict
        ``{(dim, eps): MixturePair}``, dims outermost, in the order given.
    moments : dict
        ``{(dim, eps): (mean (dim,), cov (dim, dim))}`` of :math:`P_1`.

    Examples
    --------
    >>> pairs, moments = benchmark_pairs((2,), (1.0,), n_moments=200)
    >>> pairs[(2, 1.0)].dim, moments[(2, 1.0)][1].shape
    (2, (2, 2))
    """
    epsilons = tuple(epsilons)
    pairs = {(d, e): make_mixture_pair(d, e, seed=seed, rotate=rotate) for d in dims for e in epsilons}
    moments = {k: p.target_moments(n_moments, np.random.default_rng(seed)) for k, p in pairs.items()}
    return pairs, moments
