"""LightSB training: recovers the Gaussian EOT plan, is seeded, and fails loudly."""

from __future__ import annotations

import time

import numpy as np
import pytest
import torch

from sciml.errors import ConfigError, DataError, DivergenceError
from sciml.schrodinger.fit import fit_lightsb
from sciml.schrodinger.gaussian import make_gaussian_pair
from sciml.schrodinger.metrics import score_plan
from sciml.schrodinger.pairs import make_mixture_pair


@pytest.mark.parametrize("cov", ["diagonal", "full"])
def test_fit_recovers_gaussian_plan(cov):
    pair = make_gaussian_pair(2, 1.0, seed=0, diagonal=cov == "diagonal")
    t0 = time.perf_counter()
    res = fit_lightsb(pair.sample_source, pair.sample_target, 1.0, n_components=1, cov=cov,
                      n_steps=400, batch_size=256, seed=0)
    elapsed = time.perf_counter() - t0
    scores = score_plan(res.model, pair, n_test=500)
    assert scores["cbw2_uvp"] < 0.1
    assert scores["bw2_uvp"] < 0.1
    # the loss is logged every 50 steps and at the last one (of each stage: full S_k start from
    # a diagonal fit of as many steps)
    assert len(res.loss) == (2 if cov == "full" else 1) * (len(range(0, 400, 50)) + 1)
    # fit_seconds is the training time of this call, in seconds (not ms, not cumulative);
    # FitResult's default 0.0 would mean it was never timed
    assert isinstance(res.fit_seconds, float)
    assert 0.0 < res.fit_seconds <= elapsed


def test_full_s_recovers_a_rotated_gaussian_plan_that_diagonal_s_cannot():
    """On a rotated Gaussian pair the K = 1 optimum S = C^T A^-1 is not diagonal: full S reaches
    it, diagonal S keeps a representation floor."""
    pair = make_gaussian_pair(4, 1.0, seed=3, diagonal=False)
    kw = dict(n_components=1, n_steps=600, batch_size=256, seed=0)
    scores = {cov: score_plan(fit_lightsb(pair.sample_source, pair.sample_target, 1.0, cov=cov,
                                          **kw).model, pair, n_test=500)["cbw2_uvp"]
              for cov in ("diagonal", "full")}
    assert scores["full"] < 0.1
    assert scores["diagonal"] > 10 * scores["full"]


@pytest.mark.parametrize("eps", [0.1, 10.0])
def test_fit_mixture_pair_from_arrays(eps):
    pair = make_mixture_pair(2, eps, seed=0)
    rng = np.random.default_rng(0)
    x, y = pair.sample_source(10_000, rng), pair.sample_target(10_000, rng)
    res = fit_lightsb(x, y, eps, n_components=10, n_steps=1000, batch_size=256, seed=0)
    assert score_plan(res.model, pair, n_test=500)["cbw2_uvp"] < 1.0


def test_same_seed_same_fit():
    pair = make_gaussian_pair(3, 0.5, seed=1)
    kw = dict(n_components=3, n_steps=30, batch_size=64, seed=7)
    a = fit_lightsb(pair.sample_source, pair.sample_target, 0.5, **kw).model.state_dict()
    b = fit_lightsb(pair.sample_source, pair.sample_target, 0.5, **kw).model.state_dict()
    for k in a:
        torch.testing.assert_close(a[k], b[k], atol=0, rtol=0)
    c = fit_lightsb(pair.sample_source, pair.sample_target, 0.5,
                    **{**kw, "seed": 8}).model.state_dict()
    assert not torch.equal(a["r"], c["r"])


def test_divergence_and_input_errors():
    x = np.random.default_rng(0).standard_normal((100, 2))
    with pytest.raises(DivergenceError, match="loss"):
        fit_lightsb(x * 1e200, x * 1e200, 1e-3, n_steps=5, batch_size=16, s_init=1.0)
    bad = x.copy()
    bad[3, 1] = np.nan
    with pytest.raises(DataError, match="NaN"):
        fit_lightsb(bad, x, 1.0, n_steps=5)
    with pytest.raises(DataError, match="dimension"):
        fit_lightsb(x[:, :1], x, 1.0, n_steps=5)
    with pytest.raises(ConfigError, match="n_steps"):
        fit_lightsb(x, x, 1.0, n_steps=0)
    with pytest.raises(ConfigError, match="s_init"):
        fit_lightsb(x, x, 1.0, n_steps=5, s_init="big")
