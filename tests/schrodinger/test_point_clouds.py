"""A user's point clouds: NPY, CSV and AnnData .h5ad read back exactly; bad input fails by name."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sciml.errors import ConfigError, DataError, UnknownNameError
from sciml.schrodinger.point_clouds import (
    PointCloudSettings,
    clouds_from_dataset,
    load_point_clouds,
    read_points,
    samples_to_dataset,
)


@pytest.fixture
def cells(tmp_path, write_h5ad):
    """An .h5ad of 3 days (0, 2, 4) of 30, 20, 25 cells in a 4-D PCA embedding, and its arrays."""
    rng = np.random.default_rng(0)
    day = np.repeat(["0", "2", "4"], [30, 20, 25])
    pca = rng.standard_normal((75, 4)) + (day.astype(float) / 2)[:, None]
    path = tmp_path / "cells.h5ad"
    write_h5ad(path, {"X_pca": pca, "X_umap": pca[:, :2]},
               {"day": day, "day_number": day.astype(float), "n_genes": rng.integers(100, 200, 75)},
               x=np.eye(75, 6))
    return path, pca, day


def test_h5ad_embedding_split_by_obs_column(cells):
    path, pca, day = cells
    for value in ("0", "2", "4"):
        got = read_points(path, embedding="X_pca", obs_key="day", value=value)
        np.testing.assert_array_equal(got, pca[day == value])
    # a numeric obs column by number (4 matches 4.0); the matrix X (dense) by embedding="X"
    np.testing.assert_array_equal(read_points(path, obs_key="day_number", value="4"),
                                  pca[day == "4"])
    np.testing.assert_array_equal(read_points(path, embedding="X"), np.eye(75, 6))


def test_h5ad_sparse_x(tmp_path, write_h5ad):
    x = np.zeros((10, 5))
    x[np.arange(10), np.arange(10) % 5] = np.arange(1, 11)
    path = tmp_path / "sparse.h5ad"
    write_h5ad(path, {"X_pca": np.zeros((10, 2))}, {}, x=x, x_sparse=True)
    np.testing.assert_array_equal(read_points(path, embedding="X"), x)


def test_npy_and_csv(tmp_path):
    rng = np.random.default_rng(1)
    a = rng.standard_normal((12, 3))
    np.save(tmp_path / "a.npy", a)
    np.testing.assert_array_equal(read_points(tmp_path / "a.npy"), a)
    frame = pd.DataFrame(a, columns=["pc1", "pc2", "pc3"]).assign(batch=["x"] * 6 + ["y"] * 6)
    frame.to_csv(tmp_path / "a.csv", index=False)
    np.testing.assert_allclose(read_points(tmp_path / "a.csv"), a, rtol=1e-15)  # text column left out
    np.testing.assert_allclose(read_points(tmp_path / "a.csv", obs_key="batch", value="y",
                                           columns=("pc1", "pc3")), a[6:, [0, 2]], rtol=1e-15)


def test_load_settings_heldout_time_and_round_trip(cells):
    path, pca, day = cells
    settings = PointCloudSettings.model_validate(
        {"source": str(path), "target": str(path), "obs_key": "day", "source_value": 0,
         "target_value": 4, "heldout_value": 2})
    clouds = load_point_clouds(settings, n_components=5)
    np.testing.assert_array_equal(clouds.heldout, pca[day == "2"])
    assert clouds.heldout_time == pytest.approx(0.5)  # (2 - 0) / (4 - 0)
    assert clouds.inputs["source"]["n_points"] == 30 and len(clouds.inputs["target"]["sha256"]) == 64
    back = clouds_from_dataset(samples_to_dataset(clouds))
    np.testing.assert_array_equal(back.source, clouds.source)
    np.testing.assert_array_equal(back.target, clouds.target)
    np.testing.assert_array_equal(back.heldout, clouds.heldout)
    assert back.heldout_time == clouds.heldout_time and back.inputs == clouds.inputs


def test_bad_input_errors_name_the_input(cells, tmp_path):
    path, _, _ = cells
    base = {"source": str(path), "target": str(path), "obs_key": "day", "source_value": "0",
            "target_value": "4"}
    with pytest.raises(UnknownNameError, match=r"embedding .*data.source.*'X_pcaa'.*X_pca"):
        load_point_clouds(PointCloudSettings(**base, embedding="X_pcaa"))
    with pytest.raises(UnknownNameError, match=r"value of 'day'.*data.target.*'5'"):
        load_point_clouds(PointCloudSettings(**{**base, "target_value": "5"}))
    with pytest.raises(DataError, match=r"data.target .* 25 point\(s\), fewer than n_components=30"):
        load_point_clouds(PointCloudSettings(**base), n_components=30)
    np.save(tmp_path / "three.npy", np.zeros((40, 3)))
    with pytest.raises(DataError, match=r"data.target .*three.npy' has dimension 3 but data.source"):
        load_point_clouds(PointCloudSettings(**{**base, "target": str(tmp_path / "three.npy")}))
    bad = np.ones((8, 4))
    bad[[2, 5], 1] = np.nan
    np.save(tmp_path / "nan.npy", bad)
    with pytest.raises(DataError, match=r"data.source .*nan.npy': 2 row\(s\) hold NaN or inf \(rows "
                                        r"\[2, 5\]\); drop or impute"):
        read_points(tmp_path / "nan.npy", what="data.source")
    with pytest.raises(DataError, match="does not exist"):
        read_points(tmp_path / "missing.csv")
    with pytest.raises(ConfigError, match="heldout_time"):
        load_point_clouds(PointCloudSettings(**{**base, "source_value": "0", "heldout_value": "2",
                                                "target_value": "0"}))
