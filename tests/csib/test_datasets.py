"""Packaged datasets: checksums, validation errors, and the documented preprocessing facts."""

from __future__ import annotations

import gzip
import importlib.resources
import pathlib
import shutil

import numpy as np
import pandas as pd
import pytest

from sciml.csib.data import (
    DATASETS,
    load_dataset,
    load_frame,
    preprocess,
    read_frame,
    sha256_file,
    split_indices,
    standardize,
)
from sciml.csib.datasets import inputs_to_dataset, split_from_dataset
from sciml.errors import ConfigError, DataError, UnknownNameError

DATA = pathlib.Path(str(importlib.resources.files("sciml.csib") / "data"))


def test_packaged_files_match_checksums_file_and_specs():
    listed = {}
    for line in (DATA / "SHA256SUMS.sha256").read_text().splitlines():
        digest, name = line.split()
        listed[name] = digest
    assert sorted(listed) == sorted(s.filename for s in DATASETS.values())
    for spec in DATASETS.values():
        assert listed[spec.filename] == spec.sha256
        assert sha256_file(DATA / spec.filename) == spec.sha256


@pytest.mark.parametrize("name", sorted(DATASETS))
def test_raw_row_counts(name):
    assert len(load_frame(name)) == DATASETS[name].rows


def test_california_preprocessing():
    frame = load_frame("california_housing")
    p = preprocess("california_housing", frame)
    assert p.features == (
        "MedInc",
        "HouseAge",
        "AveRooms",
        "AveBedrms",
        "Population",
        "AveOccup",
        "Latitude",
        "Longitude",
    )
    assert (frame["median_house_value"] >= 500_000).sum() == 992
    assert p.x.shape == (20_640 - 992, 8) == (19_648, 8)
    assert p.y.max() < np.log(5.0)  # log(value / 100k) with value < 500k
    np.testing.assert_allclose(
        p.y, np.log(frame.loc[frame.median_house_value < 5e5, "median_house_value"] / 1e5)
    )
    # the feature formulas reproduce scikit-learn's published means on all 20,640 rows
    full = preprocess("california_housing", frame.assign(median_house_value=1e5))
    expected = [3.870671, 28.639486, 5.429000, 1.096675, 1425.476744, 3.070655, 35.631861, -119.569704]
    np.testing.assert_allclose(full.x.mean(0), expected, rtol=2e-6)


def test_bike_preprocessing_drops_leakage_and_ids():
    p = load_dataset("bike_sharing")
    assert p.x.shape == (17_379, 12)
    for col in ("casual", "registered", "instant", "dteday", "cnt"):
        assert col not in p.features
    frame = load_frame("bike_sharing")
    np.testing.assert_array_equal(frame["casual"] + frame["registered"], frame["cnt"])
    np.testing.assert_array_equal(p.y, frame["cnt"])


def test_pm25_preprocessing_drops_missing_targets_and_one_hots_wind():
    p = load_dataset("beijing_pm25")
    assert p.x.shape == (41_757, 14)
    assert np.isfinite(p.y).all()
    onehot = [p.features.index(f"cbwd_{c}") for c in ("NE", "NW", "SE", "cv")]
    np.testing.assert_array_equal(p.x[:, onehot].sum(1), 1.0)
    assert "No" not in p.features and "cbwd" not in p.features and "pm2.5" not in p.features
    frame = load_frame("beijing_pm25")
    kept = frame[frame["pm2.5"].notna()]
    assert np.array_equal(p.x[:, onehot[1]], (kept["cbwd"] == "NW").to_numpy(dtype=float))


def test_energy_preprocessing_time_features_and_no_noise_columns():
    p = load_dataset("appliances_energy")
    assert p.x.shape == (19_735, 27)
    for col in ("date", "rv1", "rv2", "Appliances"):
        assert col not in p.features
    nsm = p.x[:, p.features.index("nsm")]
    assert nsm.min() == 0 and nsm.max() == 86_400 - 600  # 10-minute readings
    assert p.x[0, p.features.index("nsm")] == 17 * 3600  # 2016-01-11 17:00:00
    assert p.x[0, p.features.index("day_of_week")] == 0  # a Monday
    assert set(np.unique(p.x[:, p.features.index("day_of_week")])) == set(range(7))


def _write_csv(tmp_path, name, frame, gz=False):
    path = tmp_path / name
    if gz:
        with gzip.open(path, "wt", newline="") as fh:
            frame.to_csv(fh, index=False)
    else:
        frame.to_csv(path, index=False)
    return path


def test_wrong_checksum_raises(tmp_path):
    spec = DATASETS["bike_sharing"]
    path = tmp_path / spec.filename
    shutil.copyfile(DATA / spec.filename, path)
    raw = bytearray(path.read_bytes())
    raw[-3] = ord("7") if raw[-3] != ord("7") else ord("8")  # alter one digit of the last row
    path.write_bytes(bytes(raw))
    with pytest.raises(DataError, match=r"checksum mismatch for 'bike_sharing'.*restore"):
        read_frame(path, spec, sha256=spec.sha256)


def test_missing_columns_raise(tmp_path):
    spec = DATASETS["beijing_pm25"]
    frame = pd.read_csv(DATA / spec.filename, nrows=50).drop(columns=["cbwd", "Iws"])
    path = _write_csv(tmp_path, "pm.csv", frame)
    with pytest.raises(DataError, match=r"missing columns \['Iws', 'cbwd'\]"):
        read_frame(path, spec, sha256=sha256_file(path))


def test_non_numeric_values_raise(tmp_path):
    spec = DATASETS["appliances_energy"]
    frame = pd.read_csv(DATA / spec.filename, nrows=50, dtype=str)
    frame.loc[3, "T_out"] = "warm"
    path = _write_csv(tmp_path, "energy.csv.gz", frame, gz=True)
    with pytest.raises(DataError, match=r"column 'T_out' holds non-numeric values \['warm'\]"):
        read_frame(path, spec)


def test_missing_value_outside_nullable_columns_raises(tmp_path):
    spec = DATASETS["beijing_pm25"]
    frame = pd.read_csv(DATA / spec.filename, nrows=50, dtype=str, keep_default_na=False)
    frame.loc[5, "TEMP"] = "NA"
    path = _write_csv(tmp_path, "pm.csv", frame)
    with pytest.raises(DataError, match="column 'TEMP' has missing values"):
        read_frame(path, spec)
    ok = read_frame(_write_csv(tmp_path, "ok.csv", frame.assign(TEMP="1")), spec)
    assert ok["pm2.5"].isna().sum() == (frame["pm2.5"] == "NA").sum()  # NA target is allowed


def test_unknown_dataset_and_missing_file(tmp_path):
    with pytest.raises(UnknownNameError, match="bike_sharing"):
        load_dataset("bike_share")
    with pytest.raises(DataError, match="does not exist"):
        read_frame(tmp_path / "nope.csv", DATASETS["bike_sharing"])


def test_split_is_seeded_partition():
    tr, va, te = split_indices(1000, seed=3)
    assert (len(tr), len(va), len(te)) == (700, 100, 200)
    np.testing.assert_array_equal(np.sort(np.concatenate([tr, va, te])), np.arange(1000))
    tr2, _, _ = split_indices(1000, seed=3)
    np.testing.assert_array_equal(tr, tr2)
    assert not np.array_equal(tr, split_indices(1000, seed=4)[0])
    with pytest.raises(ConfigError, match="fractions"):
        split_indices(100, 0, (0.5, 0.5, 0.5))


def test_standardize_uses_training_rows_only():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 3))
    y = rng.normal(size=200)
    tr, va, te = split_indices(200, 0)
    a = standardize(x, y, tr, va, te)
    x2, y2 = x.copy(), y.copy()
    x2[te] += 100.0
    y2[va] -= 50.0
    b = standardize(x2, y2, tr, va, te)
    np.testing.assert_array_equal(a.x_mean, b.x_mean)
    assert a.y_std == b.y_std
    np.testing.assert_allclose(a.x_train.mean(0), 0, atol=1e-6)
    np.testing.assert_allclose(a.x_train.std(0), 1, atol=1e-5)
    assert a.x_train.dtype == np.float32


def test_inputs_dataset_roundtrip_and_subsample():
    p = load_dataset("california_housing")
    ds = inputs_to_dataset(p, split_seed=0)
    assert dict(ds.sizes) == {"sample": 19_648, "feature": 8}
    assert int((ds.split == "train").sum()) == round(0.7 * 19_648)
    assert int((ds.split == "test").sum()) == 19_648 - round(0.7 * 19_648) - round(0.1 * 19_648)
    assert "992" in ds.attrs["description"]
    full = split_from_dataset(ds)
    tr, va, te = split_indices(len(p.y), 0)
    ref = standardize(p.x, p.y, tr, va, te)
    np.testing.assert_array_equal(full.x_test, ref.x_test)
    small = split_from_dataset(ds, max_rows=1000, seed=1)
    n = len(small.y_train) + len(small.y_val) + len(small.y_test)
    assert abs(n - 1000) <= 2 and len(small.y_train) == 700
