"""The whole thermoacoustic recipe in one call: every dataset the catalog declares, valid."""

from __future__ import annotations

import numpy as np
import pytest

from sciml.catalog import Catalog
from sciml.thermoacoustic.experiment import ORACLE_ONLY, ThermoacousticConfig, run, select_runs

pytestmark = pytest.mark.xdist_group("thermoacoustic-experiment")  # one worker builds the module fixture


@pytest.fixture(scope="module")
def datasets():
    return run(ThermoacousticConfig.for_profile("tiny"))


def test_run_writes_what_the_catalog_declares(datasets, tmp_path):
    cat = Catalog.load(data_dir=tmp_path)
    expected = {n for n in cat.list() if cat.entry(n)[0].producer == "thermoacoustic"}
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
