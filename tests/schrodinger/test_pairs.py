"""Mixture benchmark pairs: exact conditionals, exact sampling, and the plan is LightSB-shaped."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from sciml.errors import ConfigError, DataError
from sciml.schrodinger.metrics import cbw2_uvp, moments_from_samples
from sciml.schrodinger.model import LightSB
from sciml.schrodinger.pairs import make_mixture_pair


def test_same_seed_same_pair_and_source_shared_over_eps():
    a = make_mixture_pair(4, 1.0, seed=0)
    b = make_mixture_pair(4, 1.0, seed=0)
    c = make_mixture_pair(4, 10.0, seed=0)
    np.testing.assert_array_equal(a.potential_means, b.potential_means)
    np.testing.assert_array_equal(a.source_means, c.source_means)
    assert not np.allclose(a.potential_means, c.potential_means)
    assert not np.allclose(a.potential_means, make_mixture_pair(4, 1.0, seed=1).potential_means)


@pytest.mark.parametrize("rotate", [False, True])
def test_conditional_sampling_matches_exact_moments(rotate):
    pair = make_mixture_pair(3, 1.0, seed=2, rotate=rotate)
    x = np.array([[0.5, -1.0, 0.2]])
    rng = np.random.default_rng(0)
    y = pair.sample_conditional(np.repeat(x, 100_000, 0), rng)
    m, c = pair.conditional_moments(x)
    me, ce = moments_from_samples(y)
    np.testing.assert_allclose(me, m[0], atol=0.02)
    np.testing.assert_allclose(ce, c[0], atol=0.03)


@pytest.mark.parametrize(("eps", "rotate"), [(0.1, True), (1.0, False), (10.0, True)])
def test_plan_is_exactly_a_lightsb_plan(eps, rotate):
    """pi*(y|x) ∝ exp(<x,y>/eps) v*(y) with v* a Gaussian mixture: LightSB with K = N is exact."""
    pair = make_mixture_pair(5, eps, seed=3, rotate=rotate)
    la, r, s = pair.lightsb_params()
    model = LightSB(5, len(la), eps, cov="full").set_params(
        torch.tensor(la), torch.tensor(r), torch.tensor(s)
    )
    x = pair.sample_source(300, np.random.default_rng(1))
    with torch.no_grad():
        mh, ch = model.conditional_moments(torch.tensor(x))
    mt, ct = pair.conditional_moments(x)
    _, cov1 = pair.target_moments(2_000)
    assert cbw2_uvp(mh.numpy(), ch.numpy(), mt, ct, float(np.trace(cov1))) < 1e-8
    np.testing.assert_allclose(
        model.conditional_weights(torch.tensor(x)).detach().numpy(),
        np.exp(pair.conditional_log_weights(x)), atol=1e-9,
    )


def test_target_moments_match_target_samples():
    pair = make_mixture_pair(2, 1.0, seed=4)
    mean, cov = pair.target_moments(20_000, np.random.default_rng(0))
    y = pair.sample_target(100_000, np.random.default_rng(1))
    me, ce = moments_from_samples(y)
    np.testing.assert_allclose(me, mean, atol=0.05)
    np.testing.assert_allclose(ce, cov, atol=0.1, rtol=0.03)


def test_source_sampler_moments():
    pair = make_mixture_pair(2, 1.0, seed=5)
    x = pair.sample_source(100_000, np.random.default_rng(0))
    w = pair.source_weights
    mean = w @ pair.source_means
    np.testing.assert_allclose(x.mean(0), mean, atol=0.02)


def test_errors():
    with pytest.raises(ConfigError, match="dim"):
        make_mixture_pair(0, 1.0)
    with pytest.raises(ConfigError, match="eps"):
        make_mixture_pair(2, -1.0)
    with pytest.raises(DataError, match="shape"):
        make_mixture_pair(2, 1.0).conditional_log_weights(np.zeros((3, 4)))
