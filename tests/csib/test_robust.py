"""The arms that separate CS-IB's gain: robust losses of the same net, and CS-IB at beta = 0."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from sciml.csib import (
    BETA_FREE,
    CSIBConfig,
    build_net,
    conditional_cs_divergence,
    fit,
    grid,
    split_indices,
    standardize,
)
from sciml.csib.robust import HUBER_DELTA, huber, welsch

_CFG = CSIBConfig(d_t=4, enc_hidden=(16,), dec_hidden=(16,), batch_size=64, max_epochs=2, patience=2)


@pytest.fixture(scope="module")
def split():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(300, 3))
    y = x[:, 0] - 0.5 * x[:, 1] + 0.1 * rng.standard_t(2, size=300)
    return standardize(x, y, *split_indices(300, 0))


@pytest.mark.parametrize("sigma", [0.5, 2.0])
def test_welsch_closed_form_and_gradient(sigma):
    e = torch.linspace(-6, 6, 25, dtype=torch.float64, requires_grad=True)
    val = welsch(e, sigma)
    expected = 2 * sigma**2 * (1 - torch.exp(-(e.detach() ** 2) / (2 * sigma**2)))
    torch.testing.assert_close(val.detach(), expected, rtol=1e-12, atol=1e-15)
    val.sum().backward()
    # the squared error's gradient 2e times CS-IB's near-diagonal weight exp(-e^2 / (2 sigma^2))
    weight = torch.exp(-(e.detach() ** 2) / (2 * sigma**2))
    torch.testing.assert_close(e.grad, 2 * e.detach() * weight, rtol=1e-12, atol=1e-15)


def test_welsch_tends_to_squared_error_and_is_bounded():
    e = torch.linspace(-3, 3, 13, dtype=torch.float64)
    torch.testing.assert_close(welsch(e, 1e4), e**2, rtol=1e-7, atol=1e-12)
    assert float(welsch(torch.tensor(1e6, dtype=torch.float64), 2.0)) == pytest.approx(8.0)


def test_huber_is_squared_inside_linear_outside_and_continuous():
    d = HUBER_DELTA
    e = torch.tensor([0.0, 0.5, -1.0, d, 2.0, -5.0], dtype=torch.float64, requires_grad=True)
    val = huber(e)
    torch.testing.assert_close(val[:4].detach(), e[:4].detach() ** 2)
    torch.testing.assert_close(val[4:].detach(), 2 * d * e[4:].detach().abs() - d * d)
    val.sum().backward()
    assert float(e.grad.abs().max()) == pytest.approx(2 * d)  # bounded gradient
    assert float(huber(torch.tensor(d + 1e-9, dtype=torch.float64))) == pytest.approx(d * d)


def test_cs_prediction_term_of_a_constant_shift_with_isolated_inputs_is_c2_over_sigma2():
    """A constant error c with no neighbour in the x window: -2 log exp(-c^2/(2 s^2)) = c^2/s^2
    (c^2/4 at CS-IB's sigma_y = 2) -- what the Welsch net stands in for."""
    x = 10.0 * torch.arange(40, dtype=torch.float64)[:, None]
    y = torch.randn(40, 1, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    for c in (0.5, 1.0, 3.0):
        val = conditional_cs_divergence(x, y, y + c, 0.25, 2.0)
        assert float(val) == pytest.approx(c * c / 4.0, rel=1e-10)


def test_beta_free_arms_run_once_and_share_the_architecture():
    cfg = CSIBConfig(datasets=("bike_sharing",), betas=(0.01, 0.1))
    cells = grid(cfg)
    for m in BETA_FREE:
        assert [c.beta for c in cells if c.model == m] == [None]
    assert {c.beta for c in cells if c.model == "csib"} == {0.01, 0.1}
    shapes = {m: [p.shape for n, p in build_net(m, 5, _CFG, 0).named_parameters() if "log_std" not in n]
              for m in ("mse", "huber", "welsch", "csib_beta0", "csib")}  # fmt: skip
    assert len({str(s) for s in shapes.values()}) == 1
    assert build_net("welsch", 5, _CFG, 0).encoder.noise == "none"
    assert build_net("csib_beta0", 5, _CFG, 0).encoder.noise == "learned"


def test_csib_beta0_ignores_beta_and_is_csib_at_zero(split):
    a = fit("csib_beta0", split, 0.5, seed=0, config=_CFG)
    b = fit("csib", split, 0.0, seed=0, config=_CFG)
    np.testing.assert_array_equal(a.history["val_rmse"], b.history["val_rmse"])
    assert (a.history["compression"] == 0).all()


def test_welsch_net_with_a_wide_window_trains_as_the_mse_net(split):
    wide = _CFG.model_copy(update={"sigma_y": 1e4})
    a = fit("welsch", split, 0.0, seed=0, config=wide)
    b = fit("mse", split, 0.0, seed=0, config=wide)
    np.testing.assert_allclose(a.history["val_rmse"], b.history["val_rmse"], rtol=1e-4)
