"""Paper-profile runs of every workflow (``pytest -m slow``; ``make test-all``).

Each test builds its workflow's config with ``Config.for_profile("paper", ...)``, runs a part of
the workflow that is meaningful at that scale, and checks a property known in advance (a closed
form, an invariant, a literature value). Where the whole paper profile would take hours on two
CPU cores, the docstring names the counts that are overridden; the paper's architecture, grid and
data sizes are kept.
"""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.slow


def test_gpme_data_paper_grid_conserves_mass(prefect_harness, catalog):
    """gpme-data at its paper profile (1,000 training functions per problem, 201 x 201 grids).

    Diffusion: the trapezoid rule on the periodic grid integrates e^{-kt} sin x to round-off, so
    every stored function conserves U = 0. PME: the trapezoid error at t = 0.5 (front on a grid
    node) falls by 2^{1 + 1/m} from the fast 101-point grid to the paper's 201 points (the front
    singularity x^{1/m}), and is zero for m = 1 (a piecewise-linear profile). Stefan: at t = 0 the
    profile is 1 at x = 0 only, so its trapezoid mass is exactly dx / 2, while U(0) = 0.
    """
    from flows.gpme import GPMEDataConfig, gpme_data_flow
    from sciml.gpme import exact_solution, exact_total_mass, get_problem, total_mass

    cfg = GPMEDataConfig.for_profile("paper")
    gpme_data_flow(config=cfg)
    for problem in cfg.problems:
        train = catalog.open(f"gpme/{problem}/train")
        assert dict(train.sizes) == {"function": 1000, "t": 201, "x": 201}, problem

    diffusion = catalog.open("gpme/diffusion/train").load()
    np.testing.assert_allclose(total_mass(diffusion.u.values, diffusion.x.values), 0.0,
                               atol=1e-13)
    np.testing.assert_array_equal(diffusion.mass.values, 0.0)

    pme = catalog.open("gpme/pme/test").load().sel(t=0.5)
    m = pme.param.values
    paper_err = np.abs(total_mass(pme.u.values, pme.x.values) - pme.mass.values)
    np.testing.assert_allclose(pme.mass.values, exact_total_mass("pme", m, [0.5])[:, 0])
    fast = GPMEDataConfig.for_profile("fast")
    _, x_fast = get_problem("pme").grid(fast.n_t, fast.n_x)
    fast_err = np.abs(total_mass(exact_solution("pme", m, [0.5], x_fast)[:, 0], x_fast)
                      - pme.mass.values)
    assert m.tolist() == [1.0, 3.0, 6.0]
    assert paper_err[0] < 1e-15 and fast_err[0] < 1e-15
    np.testing.assert_allclose(fast_err[1:] / paper_err[1:], 2.0 ** (1 + 1 / m[1:]), rtol=0.02)

    stefan = catalog.open("gpme/stefan/train").load().isel(t=0)
    dx = float(stefan.x[1] - stefan.x[0])
    np.testing.assert_array_equal(stefan.mass.values, 0.0)
    np.testing.assert_allclose(total_mass(stefan.u.values, stefan.x.values), dx / 2, rtol=1e-12)


def test_lightsb_paper_cell_meets_the_gaussian_closed_form():
    """lightsb at its paper profile on a Gaussian cell (D = 64, eps = 1, diagonal covariances):
    100,000 unpaired draws per side, K = 50 diagonal components, 3,000 Adam steps of batch 1,024
    (``LightSBConfig.fit_kwargs``). The EOT plan between Gaussians has a closed form (Janati et al.
    2020) that one diagonal component represents exactly, so the fitted plan's cBW2-UVP against
    the exact conditionals stays below the benchmark's 0.1 % target for the Gaussian check."""
    from flows.lightsb import LightSBConfig
    from sciml.schrodinger import run_cell
    from sciml.schrodinger.gaussian import make_gaussian_pair

    cfg = LightSBConfig.for_profile("paper")
    kwargs = cfg.fit_kwargs(64)
    assert kwargs["n_train"] == 100_000 and kwargs["n_steps"] == 3_000
    assert kwargs["batch_size"] == 1_024 and kwargs["cov"] == "diagonal"
    pair = make_gaussian_pair(64, 1.0, seed=0, diagonal=True)
    scores, state = run_cell(64, 1.0, seed=cfg.seed, pair=pair, **kwargs)
    assert scores["cbw2_uvp"] < 0.1, scores
    assert scores["bw2_uvp"] < 0.1, scores
    assert state["r"].shape == (cfg.n_components, 64)


def test_chaos_paper_invariants_and_benchmark_of_a_subset(prefect_harness, catalog):
    """chaos at its paper profile on a subset of the catalogue (Lorenz, Rossler and the Henon
    map instead of ``systems="all"``): 6 initial conditions, 300-period Lyapunov and correlation
    runs, clean and noisy benchmark series at the standard length, every forecaster at the
    paper's sizes. Known in advance: Sprott's (2003) largest exponents, the exponents' sum equal
    to the constant divergence of the Lorenz field and to ln b of the Henon map, and Lorenz's
    Kaplan-Yorke dimension 2.06."""
    from flows.chaos import ChaosConfig, chaos_flow

    cfg = ChaosConfig.for_profile("paper", systems=("Lorenz", "Rossler", "Henon"))
    assert (cfg.n_ics, cfg.lyapunov_periods, cfg.noises) == (6, 300.0, ("clean", "noisy"))
    chaos_flow(config=cfg)

    inv = catalog.open("chaos/invariants").load()
    lam = inv.lyapunov_max
    assert float(lam.sel(system="Lorenz")) == pytest.approx(0.9056, rel=0.03)
    assert float(lam.sel(system="Rossler")) == pytest.approx(0.0714, rel=0.05)
    assert float(lam.sel(system="Henon")) == pytest.approx(0.41922, abs=0.005)
    np.testing.assert_allclose(inv.lyapunov_max_literature.sel(system=["Lorenz", "Henon"]),
                               [0.9056, 0.41922])
    assert float(inv.lyapunov_sum.sel(system="Lorenz")) == pytest.approx(-(10 + 1 + 8 / 3),
                                                                          rel=1e-4)
    assert float(inv.lyapunov_sum.sel(system="Henon")) == pytest.approx(np.log(0.3), abs=1e-6)
    assert float(inv.kaplan_yorke.sel(system="Lorenz")) == pytest.approx(2.06, abs=0.02)

    bench = catalog.open("chaos/benchmark").load()
    assert list(bench.system.values) == ["Lorenz", "Rossler"]  # maps are not forecast
    assert list(bench.noise.values) == ["clean", "noisy"]
    fine = bench.x.sel(granularity="fine")
    assert fine.sizes["step"] == 12 * 100  # 12 periods of 100 points
    assert np.all(np.isfinite(fine.values))
    assert not np.allclose(fine.sel(noise="noisy").values, fine.sel(noise="clean").values)
    fm = catalog.open("chaos/forecast_metrics")
    assert dict(fm.smape.sizes) == {"model": len(cfg.models), "system": 2, "granularity": 2,
                                    "noise": 2}
    assert np.all(np.isfinite(fm.smape.values))


def test_thermoacoustic_paper_ensemble_flags_a_dead_sensor():
    """thermoacoustic at its paper profile: 320 simulated runs of 10 s, 10-member anchored
    ensemble of two 128-unit layers, integrated gradients on 256 test windows with 64 nodes.
    ``epochs`` is overridden (2 instead of 30; 30 would take ~15 min here), and only the anchored
    ensemble is trained (the BNN's 8,000 SVI steps take longer still). Known in advance: the
    split is 60/15/25 % of the runs; integrated gradients are complete (sum = F(x) - F(x')); a
    dead dynamic-pressure sensor puts every later window outside the training range, a stuck one
    gives the same features, the ensemble's epistemic std rises several-fold (Sengupta et al.,
    Sec. 4.3) and its aleatoric std reverts to the validation average."""
    from flows.thermoacoustic import ThermoacousticConfig
    from sciml.thermoacoustic import (
        attribution_study,
        failure_study,
        prepare,
        simulate_dataset,
        train_forecasters,
    )

    cfg = ThermoacousticConfig.for_profile("paper", epochs=2)
    assert (cfg.n_runs, cfg.duration, cfg.n_members, cfg.hidden) == (320, 10.0, 10, (128, 128))
    ds = simulate_dataset(cfg)
    assert ds.sizes["run"] == 320 and ds.sizes["time"] == 1000
    splits = {s: int((ds.split.values == s).sum()) for s in ("train", "val", "test")}
    assert splits == {"train": 192, "val": 48, "test": 80}
    prep = prepare(ds, cfg)
    models = train_forecasters(prep, cfg, ("anchored_ensemble",))
    net = models["anchored_ensemble"]

    attr = attribution_study(prep, net, cfg)
    assert attr["history"].shape[0] == cfg.ig_samples
    assert float(attr["completeness_error"].max()) <= 0.01
    total = attr["history"].sum(axis=(1, 2)) + attr["future"].sum(axis=(1, 2))
    np.testing.assert_allclose(total, attr["delta_f"], rtol=0.01, atol=1e-5)

    res = failure_study(ds, prep, models, cfg, sensors=("p_dyn",), modes=("zeroed", "frozen"))
    zeroed = res["effects"][("anchored_ensemble", "p_dyn", "zeroed")]
    frozen = res["effects"][("anchored_ensemble", "p_dyn", "frozen")]
    assert zeroed["out_of_range"] == 1.0 and zeroed["out_of_range_before"] == 0.0
    assert frozen["epistemic_ratio"] == pytest.approx(zeroed["epistemic_ratio"], rel=1e-6)
    assert zeroed["epistemic_ratio"] > 3.0, zeroed["epistemic_ratio"]
    eta_bar = net.ale_prior.numpy() * prep.scaler.y_std**2 * net.var_scale.numpy()
    assert zeroed["aleatoric_std_failed"] == pytest.approx(np.sqrt(eta_bar[-1]), rel=0.02)


def test_probconserv_paper_architecture_conserves_exactly_on_the_paper_grid(prefect_harness,
                                                                              catalog):
    """probconserv at its paper profile on PME: the paper's ANP (width 128, 4 heads, 2
    self-attention layers, raw inputs), its 10,000 training functions, batch 250 and learning
    rate, SoftC's lambda = 1 with 100 collocation points, the 201 x 201 test grid and 500 front
    draws. Overridden, because one Adam step of batch 250 takes ~10 s on two shared cores: 5 ANP
    steps and 2 SoftC steps instead of 20,000 each, and 2 test functions x 2 latent samples
    instead of 50 x 50 at evaluation. What ProbConserv guarantees does not depend on how well
    the ANP was trained: with sigma_G = 0 the updated mean satisfies G mu = U(t) at all 201 times
    (as does the HardC projection), the update's variance never exceeds the ANP's (conditioning
    a Gaussian on a linear observation), and the PME front at t = 0.5 sits at x* = t."""
    from flows.probconserv import ProbConservConfig, probconserv_flow

    cfg = ProbConservConfig.for_profile("paper", problems=("pme",), n_steps=5, softc_steps=2,
                                        n_test_functions=2, n_latent_samples=2)
    assert (cfg.width, cfg.n_heads, cfg.n_self_attention, cfg.n_fourier) == (128, 4, 2, 0)
    assert (cfg.n_train_functions, cfg.batch_size, cfg.n_t, cfg.n_x) == (10_000, 250, 201, 201)
    assert cfg.sigma_g == 0.0
    out = probconserv_flow(config=cfg)
    assert out["trained"]

    met = catalog.open("probconserv/metrics").load().sel(problem="pme")
    assert met.sizes["t"] == 201
    for model in ("ProbConserv-ANP", "HardC-ANP"):
        assert float(np.abs(met.ce_t.sel(model=model)).max()) < 1e-10, model
    assert float(np.abs(met.ce_t.sel(model="ANP")).max()) > 1e-4  # the black box does not

    preds = catalog.open("probconserv/predictions").load().sel(problem="pme")
    assert preds["mean"].sizes["t"] == 201 and preds["mean"].sizes["x"] == 201
    std_pc, std_anp = preds["std"].sel(model="ProbConserv-ANP"), preds["std"].sel(model="ANP")
    assert bool((std_pc <= std_anp * (1 + 1e-9) + 1e-12).all())

    shock = catalog.open("probconserv/shock").load()
    draws = shock["front"].sel(model="ProbConserv-ANP", problem="pme", param=6.0)
    assert draws.sizes == {"function": 2, "draw": cfg.n_shock_draws}
    assert float(shock["front_true"].sel(problem="pme", param=6.0)) == pytest.approx(0.5)


def test_csib_paper_training_on_full_california_housing(prefect_harness, catalog):
    """csib at its paper profile on one dataset: all 19,648 rows of California housing (no
    subsampling), the paper's network and 100 epochs with patience 10. Overridden: one dataset,
    one seed, beta = 0.01 and the MSE and CS-IB models only, instead of 4 datasets x 5 seeds x 4
    betas x 5 models. Known in advance: early stopping stops exactly ``patience`` epochs after
    the best validation epoch (or at epoch 100); both networks beat ordinary least squares on
    the same split; R^2 and RMSE describe the same test rows (RMSE^2 = (1 - R^2) Var(y))."""
    from flows.csib import CSIBConfig, csib_flow
    from sciml.csib import split_from_dataset

    cfg = CSIBConfig.for_profile("paper", datasets=("california_housing",), models=("mse", "csib"),
                                 n_seeds=1, betas=(0.01,))
    assert (cfg.max_rows, cfg.max_epochs, cfg.patience) == (None, 100, 10)
    csib_flow(config=cfg)
    split = split_from_dataset(catalog.open("csib/california_housing"), cfg.max_rows,
                               seed=cfg.split_seed)
    assert len(split.y_train) + len(split.y_val) + len(split.y_test) == 19_648
    ones = np.ones((len(split.y_train), 1))
    coef, *_ = np.linalg.lstsq(np.hstack([split.x_train, ones]), split.y_train, rcond=None)
    pred = np.hstack([split.x_test, np.ones((len(split.y_test), 1))]) @ coef
    y = split.y_test.astype(np.float64)
    r2_ols = 1 - np.sum((y - pred) ** 2) / np.sum((y - y.mean()) ** 2)

    ds = catalog.open("csib/metrics").load().sel(dataset="california_housing")
    for model in ("mse", "csib"):
        cell = ds.sel(model=model).isel(beta=0, seed=0)
        n_epochs = int(np.isfinite(cell.plane_i_xt.values).sum())
        best = int(cell.best_epoch)
        assert n_epochs == cfg.max_epochs or n_epochs - best == cfg.patience, (model, n_epochs, best)
        assert float(cell.r2) > r2_ols + 0.05, (model, float(cell.r2), r2_ols)
        var = float(np.var(y)) * split.y_std**2
        assert float(cell.rmse) ** 2 == pytest.approx((1 - float(cell.r2)) * var, rel=1e-4)
