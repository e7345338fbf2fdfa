r"""One benchmark cell: build the (dim, eps) pair, fit LightSB on unpaired draws, score it.

Gushchin et al. (NeurIPS 2023) protocol as used in Korotin et al. (ICLR 2024), Section 5.2:
training draws of :math:`P_0` and :math:`P_1` are independent (unpaired); the score is the
cBW2-UVP of the fitted plan against the exact conditional plan, and the BW2-UVP of its target
marginal.
"""

from __future__ import annotations

import logging

import numpy as np
import torch

from sciml.schrodinger.fit import fit_lightsb
from sciml.schrodinger.metrics import score_plan
from sciml.schrodinger.pairs import MixturePair, make_mixture_pair

__all__ = ["run_cell"]


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
    logger: logging.Logger | logging.LoggerAdapter | None = None,
) -> tuple[dict[str, float], dict[str, torch.Tensor]]:
    """Fit and score LightSB on one mixture pair.

    ``seed`` seeds the unpaired training draws (``n_train`` of each side) and the fit; the pair
    itself is the fixed-seed benchmark pair of (dim, eps) unless ``pair`` is given; the n_test
    scoring points come from a separate fixed stream.

    Returns
    -------
    metrics : dict with ``cbw2_uvp``, ``bw2_uvp`` (percent), ``fit_seconds``, ``final_loss``
    state_dict : the fitted parameters
    """
    pair = make_mixture_pair(dim, eps) if pair is None else pair
    rng = np.random.default_rng([int(seed), int(dim), int(round(eps * 1000))])
    x_train = pair.sample_source(n_train, rng)
    y_train = pair.sample_target(n_train, rng)
    res = fit_lightsb(
        x_train, y_train, eps, n_components=n_components, cov=cov, n_steps=n_steps,
        batch_size=batch_size, lr=lr, seed=seed, logger=logger,
    )
    scores = score_plan(res.model, pair, n_test=n_test, seed=10_000 + int(seed))
    scores["fit_seconds"] = float(res.fit_seconds)
    scores["final_loss"] = float(res.loss[-1])
    return scores, {k: v.detach().clone() for k, v in res.model.state_dict().items()}
