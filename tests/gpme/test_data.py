"""Training and validation parameter draws of the GPME datasets."""

from __future__ import annotations

import numpy as np
import pytest

from sciml.errors import DataError
from sciml.gpme import get_problem, make_gpme_dataset, sample_parameters, validation_parameters


@pytest.mark.parametrize("problem", ["diffusion", "pme", "stefan"])
def test_validation_parameters_lie_in_the_training_range_and_are_their_own_draw(problem):
    spec = get_problem(problem)
    val = validation_parameters(problem, 16, seed=3)
    lo, hi = spec.train_range
    assert np.all((val >= lo) & (val <= hi)) and np.all(np.diff(val) > 0)
    np.testing.assert_array_equal(val, validation_parameters(problem, 16, seed=3))  # seeded
    # another stream than the training draw of the same seed, and never a test value
    assert not np.isin(val, sample_parameters(problem, 16, seed=3)).any()
    assert not np.isin(val, spec.test_values).any()


def test_validation_dataset_is_labelled_and_errors_name_the_count():
    ds = make_gpme_dataset("pme", validation_parameters("pme", 3, seed=1), 11, 21, split="val")
    assert ds.attrs["split"] == "val" and ds.sizes == {"function": 3, "t": 11, "x": 21}
    with pytest.raises(DataError, match="n_functions must be >= 1; got 0"):
        validation_parameters("pme", 0, seed=1)
