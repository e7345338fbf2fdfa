"""Repeated random splits and the paired differences (with their s.e.) that compare models on them."""

from __future__ import annotations

import numpy as np
import pytest

from sciml.csib import CSIBConfig, grid, summary_table, to_dataset
from sciml.csib.datasets import resplit, split_rows
from sciml.csib.metrics import TEST_TRAIN_RATIO, paired_difference


def _labels(n: int = 100) -> np.ndarray:
    lab = np.array(["train"] * 70 + ["val"] * 10 + ["test"] * 20)
    return lab[np.random.default_rng(5).permutation(n)]


def test_split_zero_is_the_stored_one_and_the_others_partition_the_rows():
    lab = _labels()
    parts0 = resplit(lab, 0, seed=3)
    assert [len(p) for p in parts0] == [70, 10, 20]
    np.testing.assert_array_equal(parts0[2], np.flatnonzero(lab == "test"))
    seen = []
    for r in (1, 2):
        parts = resplit(lab, r, seed=3)
        assert [len(p) for p in parts] == [70, 10, 20]
        np.testing.assert_array_equal(np.sort(np.concatenate(parts)), np.arange(100))
        assert all(np.array_equal(a, b) for a, b in zip(parts, resplit(lab, r, seed=3), strict=True))
        seen.append(parts[2])
    assert not np.array_equal(seen[0], seen[1]) and not np.array_equal(seen[0], parts0[2])
    assert not np.array_equal(resplit(lab, 1, seed=4)[2], seen[0])


def test_split_rows_subsamples_a_redrawn_split_reproducibly():
    import xarray as xr

    lab = np.repeat(_labels(100), 10)
    ds = xr.Dataset({"x": (("sample", "feature"), np.arange(2000.0).reshape(1000, 2)),
                     "y": ("sample", np.arange(1000.0)), "split": ("sample", lab)})  # fmt: skip
    a = split_rows(ds, max_rows=200, seed=0, split=2)[2]
    b = split_rows(ds, max_rows=200, seed=0, split=2)[2]
    assert [len(p) for p in a] == [140, 20, 40]
    assert all(np.array_equal(p, q) for p, q in zip(a, b, strict=True))
    assert not np.array_equal(a[2], split_rows(ds, max_rows=200, seed=0, split=1)[2][2])


def test_grid_runs_every_split_and_seed():
    cfg = CSIBConfig(datasets=("bike_sharing",), models=("mse", "csib"), betas=(0.1,), n_seeds=3, n_splits=2)
    cells = grid(cfg)
    assert len(cells) == 2 * 3 * 2 == len(set(cells))
    assert sorted({(c.split, c.seed) for c in cells}) == [(r, s) for r in (0, 1) for s in (0, 1, 2)]
    assert CSIBConfig.for_profile("paper").splits() == [0, 1, 2, 3, 4]
    assert CSIBConfig.for_profile("paper").n_seeds == 3
    with pytest.raises(ValueError, match="split_column 'fold' fixes the split"):
        CSIBConfig(n_splits=2, data={"path": "t.csv", "target": "y", "split_column": "fold"})


def _rec(model, beta, split, seed, val, test):
    return {"dataset": "d", "model": model, "beta": beta, "split": split, "seed": seed, "rmse": test,
            "mae": test, "r2": 0.0, "val_rmse": val, "i_xt": 0.0, "i_yt": 0.0, "best_epoch": 1,
            "train_seconds": 0.0, "rmse_fgsm": [test], "rmse_pgd": [test], "plane_i_xt": [0.0],
            "plane_i_yt": [0.0]}  # fmt: skip


def _metrics(deltas: np.ndarray) -> object:
    """mse at 10 + split offset + seed noise; csib = mse + deltas[split, seed] at its validation-
    selected beta (0.01); at beta 0.1 csib has a better test but worse validation RMSE."""
    recs = []
    rng = np.random.default_rng(0)
    n_split, n_seed = deltas.shape
    for r in range(n_split):
        for s in range(n_seed):
            base = 10.0 + 0.5 * r + 0.1 * rng.normal()
            recs.append(_rec("mse", None, r, s, 1.0, base))
            recs.append(_rec("csib", 0.01, r, s, 0.9, base + deltas[r, s]))
            recs.append(_rec("csib", 0.1, r, s, 1.1, base - 5.0))
    return to_dataset(recs, ["d"], ["mse", "csib"], [0.01, 0.1], list(range(n_seed)), [0.0], 1,
                      splits=list(range(n_split)))  # fmt: skip


def test_paired_difference_has_the_corrected_resampled_standard_error():
    deltas = np.array([[-0.3, -0.1, -0.2], [-0.5, -0.4, -0.3], [0.1, -0.1, 0.0],
                       [-0.2, -0.2, -0.2], [-0.6, -0.2, -0.4]])  # fmt: skip
    out = paired_difference(_metrics(deltas), "csib").sel(dataset="d", model="mse")
    per_split = deltas.mean(1)
    sd = per_split.std(ddof=1)
    assert float(out["mean"]) == pytest.approx(deltas.mean(), abs=1e-12)
    assert float(out["se_naive"]) == pytest.approx(sd / np.sqrt(5), rel=1e-12)
    assert float(out["se"]) == pytest.approx(sd * np.sqrt(1 / 5 + TEST_TRAIN_RATIO), rel=1e-12)
    assert (int(out["n_splits"]), int(out["n_seeds"])) == (5, 3)
    # mean -0.233, corrected se 0.088: lower by more than 2 s.e.
    assert str(out["verdict"].values) == "win"


@pytest.mark.parametrize(
    ("shift", "verdict"), [(-1.0, "win"), (1.0, "loss"), (0.0, "tie")], ids=["win", "loss", "tie"]
)
def test_verdict_needs_two_standard_errors(shift, verdict):
    noise = np.array([[0.2, -0.1], [-0.3, 0.1], [0.25, 0.0], [-0.1, -0.2], [0.1, 0.15]])
    out = paired_difference(_metrics(shift + noise), "csib")
    assert str(out["verdict"].sel(dataset="d", model="mse").values) == verdict
    assert str(out["verdict"].sel(dataset="d", model="csib").values) == ""


def test_one_split_uses_the_seeds_and_one_run_has_no_se():
    out = paired_difference(_metrics(np.array([[-0.2, -0.4]])), "csib").sel(dataset="d", model="mse")
    assert float(out["se"]) == pytest.approx(np.std([-0.2, -0.4], ddof=1) / np.sqrt(2))
    one = paired_difference(_metrics(np.array([[-0.2]])), "csib").sel(dataset="d", model="mse")
    assert np.isnan(float(one["se"])) and str(one["verdict"].values) == "no s.e."


def test_summary_over_splits_and_seeds():
    deltas = np.zeros((5, 3))
    table = summary_table(_metrics(deltas))
    row = table.loc[("d", "csib")]
    assert (row["n_splits"], row["n_seeds"], row["beta"]) == (5, 3, 0.01)
    assert np.isnan(table.loc[("d", "mse"), "beta"])
    # split means 10, 10.5, ... 12 (+ seed noise): mean ~ 11, corrected s.e. of the split means
    assert row["mean"] == pytest.approx(11.0, abs=0.1)
    spread = np.std(10 + 0.5 * np.arange(5), ddof=1)
    assert row["se"] == pytest.approx(spread * np.sqrt(0.2 + TEST_TRAIN_RATIO),
                                      rel=0.1)  # fmt: skip
