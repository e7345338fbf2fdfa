"""The whole chaos recipe in one call, and the per-system fallback of the invariants."""

from __future__ import annotations

import numpy as np
import pytest

from sciml.catalog import Catalog
from sciml.chaos import experiment
from sciml.chaos.experiment import ChaosConfig, run, system_invariants
from sciml.errors import DivergenceError

pytestmark = pytest.mark.xdist_group("chaos-experiment")  # one worker builds the module fixture

_CONFIG = ChaosConfig.for_profile(
    "tiny", systems=("Lorenz", "Henon"), n_ics=1, lyapunov_periods=5.0, corr_periods=10.0,
    models=("naive", "linear_ar"), n_attractor_plots=0,
)


@pytest.fixture(scope="module")
def datasets():
    return run(_CONFIG)


def test_run_returns_what_the_catalog_declares(datasets, tmp_path):
    cat = Catalog.load(data_dir=tmp_path)
    assert set(datasets) == {n for n in cat.list() if n.startswith("chaos/")}
    for name, ds in datasets.items():
        cat.validate(name, ds)


def test_maps_get_invariants_but_no_benchmark_series(datasets):
    assert list(datasets["chaos/invariants"].system.values) == ["Lorenz", "Henon"]
    assert list(datasets["chaos/benchmark"].system.values) == ["Lorenz"]
    assert list(datasets["chaos/forecast_metrics"].model.values) == ["naive", "linear_ar"]


def test_naive_forecast_scores_match_a_direct_computation(datasets):
    """sMAPE of the naive forecast (last history value held) recomputed from the stored series."""
    bench = datasets["chaos/benchmark"].sel(system="Lorenz", granularity="fine", noise="clean")
    n = int(bench.step_mask.sum())
    n_hist = int(bench.n_history)
    y = bench.univariate.sel(split="test").values[:n]
    truth, last = y[n_hist:], y[n_hist - 1]
    expected = float(np.mean(200 * np.abs(truth - last) / (np.abs(truth) + np.abs(last))))
    got = float(datasets["chaos/forecast_metrics"].smape.sel(
        model="naive", system="Lorenz", granularity="fine", noise="clean"))
    assert got == pytest.approx(expected, rel=1e-9)


def test_a_failing_system_gets_a_flagged_nan_record(monkeypatch):
    def boom(*args, **kwargs):
        raise DivergenceError("every initial condition left the basin")

    monkeypatch.setattr(experiment, "estimate_invariants", boom)
    rec = system_invariants("Lorenz", 2, 10.0, 20.0, seed=0)
    assert np.isnan(rec["lyapunov_max"]) and not rec["reliable"]
    assert rec["flags"] == ["failed: DivergenceError: every initial condition left the basin"]


def test_code_version_is_a_stable_hash():
    assert experiment.code_version() == experiment.code_version()
    assert len(experiment.code_version()) == 16
