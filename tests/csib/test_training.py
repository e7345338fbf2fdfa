"""Network, losses of every model, seeded training with validation-only early stopping, attacks, metrics."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from sciml.csib import (
    MODELS,
    CSIBConfig,
    attack_rmse,
    build_net,
    fgsm,
    fit,
    gaussian_kl,
    kde_mi_upper_bound,
    normalized_hsic,
    pgd,
    predict,
    regression_metrics,
    split_indices,
    standardize,
    to_dataset,
)
from sciml.errors import ConfigError, DivergenceError, UnknownNameError

TINY = CSIBConfig(
    d_t=4, enc_hidden=(16,), dec_hidden=(16,), batch_size=64, max_epochs=6, patience=3, lr=3e-3
)


@pytest.fixture(scope="module")
def split():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(500, 3))
    y = np.sin(2 * x[:, 0]) + 0.5 * x[:, 1] ** 2 + 0.1 * rng.normal(size=500)
    return standardize(x, y, *split_indices(500, 0))


def test_same_seed_same_model_different_seed_different(split):
    a = fit("csib", split, 0.1, seed=3, config=TINY)
    b = fit("csib", split, 0.1, seed=3, config=TINY)
    c = fit("csib", split, 0.1, seed=4, config=TINY)
    np.testing.assert_array_equal(predict(a.net, split.x_test), predict(b.net, split.x_test))
    np.testing.assert_array_equal(a.history["val_rmse"], b.history["val_rmse"])
    assert not np.array_equal(predict(a.net, split.x_test), predict(c.net, split.x_test))


def test_global_rng_does_not_affect_training(split):
    torch.manual_seed(123)
    a = predict(fit("vib", split, 0.01, seed=1, config=TINY).net, split.x_val)
    torch.manual_seed(999)
    b = predict(fit("vib", split, 0.01, seed=1, config=TINY).net, split.x_val)
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("model", MODELS)
def test_every_model_learns_and_tracks_the_information_plane(split, model):
    cfg = CSIBConfig(
        d_t=4,
        enc_hidden=(32,),
        dec_hidden=(32,),
        batch_size=64,
        max_epochs=25,
        patience=25,
        lr=3e-3,
    )
    res = fit(model, split, 0.01, seed=0, config=cfg)
    assert res.best_val_rmse < 0.75  # a constant predictor scores ~1 on the standardised scale
    h = res.history
    assert len(h["epoch"]) == 25 and np.isfinite(h["i_xt"]).all() and np.isfinite(h["i_yt"]).all()
    assert (h["i_xt"] >= 0).all() and (h["i_yt"] >= 0).all()
    assert res.best_val_rmse == pytest.approx(h["val_rmse"].min())
    assert res.best_epoch == int(np.argmin(h["val_rmse"])) + 1
    # the returned network is the best-validation one
    pv = predict(res.net, split.x_val)
    assert np.sqrt(np.mean((pv - split.y_val) ** 2)) == pytest.approx(res.best_val_rmse, rel=1e-5)


def test_training_never_reads_the_test_set(split):
    poisoned = type(split)(
        **{**split.__dict__, "x_test": split.x_test * np.nan, "y_test": split.y_test * np.nan}
    )
    a = fit("csib", split, 0.1, seed=0, config=TINY)
    b = fit("csib", poisoned, 0.1, seed=0, config=TINY)
    np.testing.assert_array_equal(a.history["val_rmse"], b.history["val_rmse"])


def test_early_stopping_on_validation(split):
    cfg = CSIBConfig(
        d_t=4,
        enc_hidden=(16,),
        dec_hidden=(16,),
        batch_size=64,
        max_epochs=200,
        patience=2,
        lr=0.05,
    )
    res = fit("mse", split, 0.0, seed=0, config=cfg)
    n = len(res.history["epoch"])
    assert n < 200 and n - res.best_epoch == 2


def test_non_finite_loss_raises_divergence_error(split):
    bad = type(split)(**{**split.__dict__, "y_train": split.y_train * np.inf})
    with pytest.raises(DivergenceError, match="csib loss became"):
        fit("csib", bad, 0.1, seed=0, config=TINY)


def test_config_and_name_errors(split):
    with pytest.raises(UnknownNameError, match="csib"):
        fit("cs-ib", split, 0.1, seed=0, config=TINY)
    with pytest.raises(ConfigError):
        fit("csib", split, -1.0, seed=0, config=TINY)
    with pytest.raises(ValueError, match="max_epochs"):
        CSIBConfig(max_epochs=0)


def test_noise_modes_of_the_shared_network():
    nets = {m: build_net(m, 5, TINY, seed=0) for m in MODELS}
    x = torch.randn(10, 5)
    # same architecture (encoder body and decoder shapes) for every model
    shapes = {
        m: [p.shape for n_, p in net.named_parameters() if "log_std" not in n_] for m, net in nets.items()
    }
    assert shapes["mse"] == shapes["csib"] == shapes["nib"] == shapes["hsic"]
    t1, mean, log_std = nets["mse"].encoder(x)
    assert log_std is None and torch.equal(t1, mean)
    t2, mean2, _ = nets["csib"].encoder(x, generator=torch.Generator().manual_seed(0))
    assert not torch.equal(t2, mean2)
    assert nets["csib"].encoder.log_std.requires_grad
    _, _, ls = nets["vib"].encoder(x)
    assert ls.shape == (10, TINY.d_t)


def test_vib_kl_matches_torch_distributions():
    mean = torch.randn(7, 3)
    log_std = 0.3 * torch.randn(7, 3)
    ref = torch.distributions.kl_divergence(
        torch.distributions.Normal(mean, log_std.exp()), torch.distributions.Normal(0.0, 1.0)
    ).sum(-1)
    torch.testing.assert_close(gaussian_kl(mean, log_std), ref)


def test_nib_bound_limits():
    n = 50
    same = torch.zeros(n, 2)
    assert float(kde_mi_upper_bound(same, torch.zeros(2))) == pytest.approx(0.0, abs=1e-6)
    far = 1e3 * torch.randn(n, 2, generator=torch.Generator().manual_seed(0))
    assert float(kde_mi_upper_bound(far, torch.zeros(2))) == pytest.approx(np.log(n), rel=1e-6)
    mid = torch.randn(n, 2, generator=torch.Generator().manual_seed(1))
    small, big = (float(kde_mi_upper_bound(mid, torch.full((2,), v))) for v in (-1.0, 1.0))
    assert 0 < big < small < np.log(n)  # more noise, less information


def test_normalized_hsic():
    g = torch.Generator().manual_seed(0)
    a = torch.randn(300, 2, generator=g)
    b = torch.randn(300, 2, generator=g)
    assert float(normalized_hsic(a, a)) == pytest.approx(1.0, abs=1e-5)
    assert float(normalized_hsic(a, b)) < 0.05
    assert float(normalized_hsic(a, a[:, :1] ** 2)) > 0.1


@pytest.fixture(scope="module")
def trained(split):
    return fit("mse", split, 0.0, seed=0, config=TINY).net


def test_attacks_stay_in_the_ball_and_hurt(split, trained):
    x = torch.as_tensor(split.x_test)
    y = torch.as_tensor(split.y_test)
    for adv in (
        fgsm(trained, x, y, 0.1),
        pgd(trained, x, y, 0.1, steps=5, generator=torch.Generator().manual_seed(0)),
    ):
        assert float((adv - x).abs().max()) <= 0.1 + 1e-6
    eps = [0.0, 0.05, 0.1, 0.3]
    f = attack_rmse(trained, split.x_test, split.y_test, eps, "fgsm", y_std=2.0)
    p = attack_rmse(trained, split.x_test, split.y_test, eps, "pgd", y_std=2.0, seed=0)
    clean = regression_metrics(split.y_test, predict(trained, split.x_test), 2.0)["rmse"]
    assert f[0] == pytest.approx(clean, rel=1e-5) and p[0] == pytest.approx(clean, rel=1e-5)
    assert (np.diff(f) > 0).all() and (np.diff(p) > 0).all()
    assert p[-1] >= 0.98 * f[-1]  # the iterated attack is at least about as strong
    with pytest.raises(UnknownNameError):
        attack_rmse(trained, split.x_test, split.y_test, eps, "cw")


def test_regression_metrics_by_hand():
    y = np.array([1.0, 2.0, 3.0, 4.0])
    yh = np.array([1.5, 2.0, 2.0, 4.0])
    m = regression_metrics(y, yh, scale=10.0)
    assert m["rmse"] == pytest.approx(10 * np.sqrt((0.25 + 1.0) / 4))
    assert m["mae"] == pytest.approx(10 * 1.5 / 4)
    assert m["r2"] == pytest.approx(1 - 1.25 / 5.0)
    assert regression_metrics(y, y)["r2"] == 1.0


def test_to_dataset_layout_and_mse_broadcast():
    eps = [0.0, 0.1]

    def rec(model, beta, seed, v):
        return {
            "dataset": "bike_sharing",
            "model": model,
            "beta": beta,
            "seed": seed,
            "rmse": v,
            "mae": v / 2,
            "r2": 0.5,
            "val_rmse": v,
            "i_xt": 0.1,
            "i_yt": 0.2,
            "best_epoch": 3,
            "train_seconds": 1.0,
            "rmse_fgsm": [v, v + 1],
            "rmse_pgd": [v, v + 2],
            "plane_i_xt": [0.1, 0.2],
            "plane_i_yt": [0.3, 0.4],
        }

    recs = [rec("mse", None, 0, 50.0), rec("csib", 0.1, 0, 40.0), rec("csib", 1.0, 0, 45.0)]
    ds = to_dataset(recs, ["bike_sharing"], ["mse", "csib"], [0.1, 1.0], [0], eps, n_epochs=4)
    assert dict(ds.rmse.sizes) == {"dataset": 1, "model": 2, "beta": 2, "split": 1, "seed": 1}
    assert ds.rmse_pgd.dims == ("dataset", "model", "beta", "split", "seed", "epsilon")
    np.testing.assert_array_equal(ds.rmse.sel(model="mse").values.ravel(), [50.0, 50.0])
    assert float(ds.rmse.sel(model="csib", beta=1.0).squeeze()) == 45.0
    assert np.isnan(ds.plane_i_xt.sel(model="csib", beta=0.1, epoch=4)).all()
    df = ds[["rmse", "r2"]].to_dataframe()
    assert len(df) == 4 and ds.model.dtype.kind == "U"


def test_beta_is_selected_on_validation_not_test():
    from sciml.csib import select_beta, summary_table

    def rec(model, beta, seed, val, test):
        return {
            "dataset": "beijing_pm25",
            "model": model,
            "beta": beta,
            "seed": seed,
            "rmse": test,
            "mae": test,
            "r2": 0.0,
            "val_rmse": val,
            "i_xt": 0.0,
            "i_yt": 0.0,
            "best_epoch": 1,
            "train_seconds": 0.0,
            "rmse_fgsm": [test],
            "rmse_pgd": [test],
            "plane_i_xt": [0.0],
            "plane_i_yt": [0.0],
        }

    recs = [rec("mse", None, s, 10.0, 10.0 + s) for s in (0, 1)]
    # beta 0.1 has the better *test* RMSE but the worse validation RMSE
    recs += [rec("csib", 0.01, s, 8.0, 9.0 + s) for s in (0, 1)]
    recs += [rec("csib", 0.1, s, 9.0, 5.0 + s) for s in (0, 1)]
    ds = to_dataset(recs, ["beijing_pm25"], ["mse", "csib"], [0.01, 0.1], [0, 1], [0.0], 1)
    sel = select_beta(ds)
    np.testing.assert_array_equal(sel.beta_selected.sel(model="csib").values.ravel(), 0.01)
    table = summary_table(ds)
    assert table.loc[("beijing_pm25", "csib"), "mean"] == pytest.approx(9.5)
    assert table.loc[("beijing_pm25", "csib"), "se"] == pytest.approx(0.5)
    assert table.loc[("beijing_pm25", "csib"), "beta"] == 0.01
    assert np.isnan(table.loc[("beijing_pm25", "mse"), "beta"])


def test_vib_noise_scale_is_bounded_for_outlying_inputs():
    net = build_net("vib", 3, TINY, seed=0)
    x = torch.tensor([[0.0, 0.0, 0.0], [1e4, -1e4, 1e4]])
    _, _, log_std = net.encoder(x)
    assert bool((log_std <= 0).all()) and torch.isfinite(log_std).all()
    assert net.encoder.log_std_head is not None
    with torch.no_grad():
        net.encoder.log_std_head.weight.zero_()
        net.encoder.log_std_head.bias.zero_()
    _, _, ls1 = net.encoder(torch.zeros(1, 3))
    torch.testing.assert_close(ls1.exp(), torch.full_like(ls1, TINY.noise_std))
