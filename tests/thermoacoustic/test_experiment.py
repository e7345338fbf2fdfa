"""The whole thermoacoustic recipe in one call: every dataset the catalog declares, valid."""

from __future__ import annotations

import numpy as np
import pytest

from sciml.catalog import Catalog
from sciml.errors import DataError
from sciml.thermoacoustic.experiment import (
    ORACLE_ONLY,
    ThermoacousticConfig,
    ensemble_state_dict,
    prepare,
    run,
    select_runs,
    simulate_dataset,
    train_forecasters,
    validation_metrics,
)

pytestmark = pytest.mark.xdist_group("thermoacoustic-experiment")  # one worker builds the module fixture


@pytest.fixture(scope="module")
def datasets():
    return run(ThermoacousticConfig.for_profile("tiny"))


def test_run_writes_what_the_catalog_declares(datasets, tmp_path):
    cat = Catalog.load(data_dir=tmp_path)
    expected = {n for n in cat.list() if cat.entry(n)[0].producer == "thermoacoustic"}
    expected -= {"thermoacoustic/retrain_history"}  # the retraining flow's decisions
    assert set(datasets) == expected
    for name, ds in datasets.items():
        cat.validate(name, ds)  # raises SchemaError naming what is off


def test_persistence_is_its_own_reference(datasets):
    met = datasets["thermoacoustic/metrics"]
    reduction = met["rmse_reduction_vs_persistence"].sel(model="persistence").values
    np.testing.assert_allclose(reduction, 0.0, atol=1e-12)


def test_training_never_sees_test_runs_nor_the_oracle_state(datasets):
    runs = datasets["thermoacoustic/runs"]
    part = select_runs(runs, train_only=True)
    assert set(np.asarray(part["split"].values).astype(str)) == {"train", "val"}
    assert not set(ORACLE_ONLY) & set(part.data_vars)
    assert set(ORACLE_ONLY) & set(select_runs(runs, oracle=True).data_vars)


def test_window_must_fit_in_a_run():
    with pytest.raises(ValueError, match="too short for window"):
        ThermoacousticConfig(duration=0.5, window=30, horizons=(50,))


# enough runs (5 train, 2 validation) that training beats the anchors it started from
_VAL_CONFIG = ThermoacousticConfig.for_profile("tiny", n_runs=10, split=(0.5, 0.2, 0.3), epochs=10)


@pytest.fixture(scope="module")
def ensemble():
    """(prepared train/val runs, state dict of an anchored ensemble trained on them)."""
    runs = select_runs(simulate_dataset(_VAL_CONFIG), train_only=True)
    prep = prepare(runs, _VAL_CONFIG, ("train", "val"))
    net = train_forecasters(prep, _VAL_CONFIG, ("anchored_ensemble",))["anchored_ensemble"]
    return prep, ensemble_state_dict(net, prep.scaler, _VAL_CONFIG)


def test_validation_score_is_deterministic_and_responds_to_the_weights(ensemble):
    prep, state = ensemble
    a, b = validation_metrics(_VAL_CONFIG, state, prep), validation_metrics(_VAL_CONFIG, state, prep)
    assert a == b and a["score"] == a["val_crps"] > 0
    assert a["horizon_ms"] == 200.0 and a["n_windows"] == len(prep.windows["val"])
    # the trained weights, scaled: the same networks badly off their fit
    off = {k: 3.0 * v if k.startswith("net.weights") else v for k, v in state.items()}
    assert validation_metrics(_VAL_CONFIG, off, prep)["score"] > 2.0 * a["score"]


def test_validation_rejects_an_ensemble_of_other_settings(ensemble):
    prep, state = ensemble
    with pytest.raises(DataError, match=r"does not fit hidden=\(8,\)"):
        validation_metrics(_VAL_CONFIG.model_copy(update={"hidden": (8,)}), state, prep)
    with pytest.raises(DataError, match=r"lacks 'net.biases.2' for hidden=\(16, 16\)"):
        validation_metrics(_VAL_CONFIG.model_copy(update={"hidden": (16, 16)}), state, prep)
    with pytest.raises(DataError, match="forecasts 3 horizons"):
        validation_metrics(_VAL_CONFIG.model_copy(update={"horizons": (1, 5)}), state, prep)
    no_val = prepare(select_runs(simulate_dataset(_VAL_CONFIG), train_only=True), _VAL_CONFIG, ("train",))
    with pytest.raises(DataError, match="no validation windows"):
        validation_metrics(_VAL_CONFIG, state, no_val)
