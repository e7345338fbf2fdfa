"""A user's own table: reading CSV and Parquet, kinds, missing values, split, and every bad input."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from sciml.csib import (
    TABLE,
    CSIBConfig,
    TableSettings,
    load_table,
    prepare_inputs,
    prepare_table,
    split_from_dataset,
    train_challenger,
    validation_metrics,
)
from sciml.errors import DataError


def _frame(n: int = 400, seed: int = 0) -> pd.DataFrame:
    """price = 2 a - b + 1.5 [region = north] + noise; an id column and a few holes."""
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({
        "id": np.arange(n),
        "a": rng.normal(size=n),
        "b": rng.normal(size=n),
        "region": rng.choice(["north", "south", "east"], n),
    })  # fmt: skip
    df["price"] = 2 * df.a - df.b + 1.5 * (df.region == "north") + 0.1 * rng.normal(size=n)
    return df


@pytest.fixture
def table(tmp_path):
    """A CSV with one missing target (row 5), one missing number (row 3), one missing category
    (row 7); returns its path and frame."""
    df = _frame()
    df.loc[3, "a"] = np.nan
    df.loc[5, "price"] = np.nan
    df.loc[7, "region"] = None
    path = tmp_path / "my.csv"
    df.to_csv(path, index=False)
    return path, df


def _spec(path, **kw) -> TableSettings:
    return TableSettings(**{"path": str(path), "target": "price", "exclude": ("id",), **kw})


def test_drop_policy_counts_and_one_hot_columns(table):
    path, df = table
    t = load_table(_spec(path))
    assert t.features == ("a", "b", "region=east", "region=north", "region=south")
    assert t.x.shape == (400 - 3, 5) and list(t.row[:5]) == [0, 1, 2, 4, 6]
    rep = t.report
    assert (rep["rows_read"], rep["rows_used"]) == (400, 397)
    assert rep["rows_dropped_missing_target"] == 1 and rep["rows_dropped_missing_features"] == 2
    assert rep["missing_values"] == {"a": 1, "region": 1} and rep["values_imputed"] == {}
    assert rep["categorical_columns"] == {"region": ["east", "north", "south"]}
    assert rep["numeric_columns"] == ["a", "b"] and rep["excluded_columns"] == ["id"]
    # one-hot rows sum to one and match the category of the file's row
    np.testing.assert_array_equal(t.x[:, 2:].sum(1), 1.0)
    north = (df.region.to_numpy()[t.row] == "north").astype(float)
    np.testing.assert_array_equal(t.x[:, 3], north)
    np.testing.assert_allclose(t.y, df.price.to_numpy()[t.row])


def test_impute_policy_fills_with_training_statistics(table):
    path, df = table
    t = load_table(_spec(path, missing="impute"))
    assert t.report["rows_used"] == 399 and t.report["values_imputed"] == {"a": 1, "region": 1}
    train = t.split == "train"
    i3 = int(np.flatnonzero(t.row == 3)[0])
    others = (t.row != 3) & train
    assert t.x[i3, 0] == np.median(t.x[others, 0])  # the median of the training rows only
    i7 = int(np.flatnonzero(t.row == 7)[0])
    counts = pd.Series(df.region.to_numpy()[t.row[train & (t.row != 7)]]).value_counts()
    mode = counts.idxmax()
    assert t.x[i7, 2:].tolist() == [float(c == mode) for c in ("east", "north", "south")]


def test_parquet_gives_the_csv_arrays(table, tmp_path):
    path, df = table
    pq = tmp_path / "my.parquet"
    df.to_parquet(pq)
    a, b = load_table(_spec(path)), load_table(_spec(pq))
    assert a.features == b.features and b.report["source_format"] == "parquet"
    np.testing.assert_array_equal(a.x, b.x)
    np.testing.assert_array_equal(a.split, b.split)


def test_appended_rows_keep_the_split_of_earlier_rows(tmp_path):
    df = _frame(500)
    first, more = tmp_path / "first.csv", tmp_path / "more.csv"
    df.iloc[:300].to_csv(first, index=False)
    df.to_csv(more, index=False)
    a, b = load_table(_spec(first)), load_table(_spec(more))
    np.testing.assert_array_equal(b.split[:300], a.split)
    sizes = b.report["split_sizes"]
    assert sizes["train"] + sizes["val"] + sizes["test"] == 500
    assert abs(sizes["train"] / 500 - 0.7) < 0.07  # a binomial draw: within ~3 s.d.


def test_declared_split_column_and_numeric_codes_as_categories(tmp_path):
    df = _frame(60)
    df["fold"] = ["train"] * 40 + ["Validation"] * 10 + ["test"] * 10
    df["zone"] = np.arange(60) % 3 + 10
    path = tmp_path / "fold.csv"
    df.to_csv(path, index=False)
    t = load_table(_spec(path, split_column="fold", categorical=("zone",)))
    assert t.split.tolist() == ["train"] * 40 + ["val"] * 10 + ["test"] * 10
    assert "fold" not in " ".join(t.features)
    assert t.features[-3:] == ("zone=10", "zone=11", "zone=12")
    assert t.report["split"] == "column 'fold'"


def test_store_reports_what_was_done(table):
    path, _ = table
    cfg = CSIBConfig.for_profile("tiny", **{"data.path": str(path), "data.target": "price",
                                            "data.exclude": "id", "data.units": "kUSD"})  # fmt: skip
    ds = prepare_inputs(TABLE, cfg)
    assert ds.attrs["dataset"] == TABLE and ds.attrs["source_file"] == str(path.resolve())
    assert ds.attrs["rows_dropped_missing_target"] == 1 and ds.attrs["missing_policy"] == "drop"
    assert len(ds.attrs["source_sha256"]) == 64 and ds.y.attrs["units"] == "kUSD"
    assert "2 (missing-value policy 'drop')" in ds.attrs["description"]
    assert "region (3 categories)" in ds.attrs["description"]
    json.dumps(ds.attrs)  # plain JSON types: the store's attrs
    split = split_from_dataset(ds, cfg.max_rows, seed=cfg.split_seed)
    assert split.x_train.shape[1] == 5


def _write(tmp_path, df, name="bad.csv"):
    path = tmp_path / name
    df.to_csv(path, index=False)
    return path


def test_no_such_column(tmp_path):
    path = _write(tmp_path, _frame(100))
    with pytest.raises(DataError, match=r"target column 'prce' is not in table .*bad\.csv.*'price'\?"):
        load_table(TableSettings(path=str(path), target="prce"))
    with pytest.raises(DataError, match="excluded column 'ids' is not in"):
        load_table(TableSettings(path=str(path), target="price", exclude=("ids",)))
    with pytest.raises(DataError, match="split column 'fold' is not in"):
        load_table(TableSettings(path=str(path), target="price", split_column="fold"))


def test_non_numeric_target(tmp_path):
    df = _frame(100).astype({"price": object})
    df.loc[[4, 9], "price"] = ["cheap", "dear"]
    path = _write(tmp_path, df)
    with pytest.raises(DataError, match=r"target column 'price' of table .*bad\.csv.* non-numeric "
                       r"values \['cheap', 'dear'\] \(data rows \[5, 10\]\)"):  # fmt: skip
        load_table(_spec(path))


def test_all_missing_columns(tmp_path):
    df = _frame(100)
    df["empty"] = np.nan
    path = _write(tmp_path, df)
    with pytest.raises(DataError, match=r"columns \['empty'\] of table .*bad\.csv.* hold no values"):
        load_table(_spec(path))
    assert load_table(_spec(path, exclude=("id", "empty"))).x.shape[1] == 5
    df["price"] = np.nan
    with pytest.raises(DataError, match="target column 'price' .* holds no values"):
        load_table(_spec(_write(tmp_path, df), exclude=("id", "empty")))


def test_fewer_rows_than_a_batch(tmp_path):
    path = _write(tmp_path, _frame(80))
    cfg = CSIBConfig.for_profile("tiny", data=_spec(path))  # batch 64
    with pytest.raises(DataError, match=r"bad\.csv' gives \d+ training rows .* fewer than one batch "
                       r"\(batch_size=64\)"):  # fmt: skip
        prepare_inputs(TABLE, cfg)
    assert prepare_inputs(TABLE, cfg.model_copy(update={"batch_size": 32})).sizes["sample"] == 80


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda df: df.assign(fold=["train"] * 99 + ["dev"]), r"split column 'fold' .* holds \['dev'\]"),
        (lambda df: df.assign(note=[f"n{i}" for i in range(100)]), r"column 'note' .* 100 distinct values"),
        (lambda df: df.assign(a=np.where(np.arange(100) == 3, np.inf, df.a)), "column 'a' .* infinite"),
    ],
    ids=["split-label", "too-many-categories", "infinite"],
)
def test_bad_values_name_the_column(tmp_path, change, match):
    path = _write(tmp_path, change(_frame(100)))
    split = "fold" if "split" in match else None
    with pytest.raises(DataError, match=match):
        load_table(_spec(path, split_column=split))


def test_bad_files(tmp_path):
    with pytest.raises(DataError, match="table '.*nope.csv' does not exist"):
        load_table(TableSettings(path=str(tmp_path / "nope.csv"), target="price"))
    (tmp_path / "t.xlsx").write_bytes(b"x")
    with pytest.raises(DataError, match="unknown format"):
        load_table(TableSettings(path=str(tmp_path / "t.xlsx"), target="price"))
    stamps = _frame(50).assign(when=pd.date_range("2026-01-01", periods=50, freq="h"))
    stamps.to_parquet(tmp_path / "t.parquet")
    with pytest.raises(DataError, match="column 'when' .* holds timestamps"):
        load_table(_spec(tmp_path / "t.parquet"))
    with pytest.raises(DataError, match="2 rows in each part"):
        prepare_table(_frame(6), TableSettings(path="x.csv", target="price"))


def test_settings_nested_dotted_and_from_the_command_line():
    nested = CSIBConfig.model_validate({"profile": "tiny", "data": {"path": "my.csv", "target": "price"}})
    dotted = CSIBConfig.for_profile("tiny", **{"data.path": "my.csv", "data.target": "price"})
    assert nested == dotted and dotted.dataset_names() == (TABLE,)
    assert CSIBConfig().dataset_names() == CSIBConfig().datasets
    cli = CSIBConfig(**{"data.path": "t.csv", "data.target": 2021, "data.exclude": "id",
                        "models": "csib", "max_rows": "none"})  # fmt: skip
    assert cli.data.target == "2021" and cli.data.exclude == ("id",)
    assert cli.models == ("csib",) and cli.max_rows is None
    with pytest.raises(ValueError, match="targt"):
        CSIBConfig(**{"data.path": "t.csv", "data.targt": "price"})
    with pytest.raises(ValueError, match="missing"):
        CSIBConfig(**{"data.path": "t.csv", "data.target": "price", "data.missing": "mean"})
    with pytest.raises(ValueError, match="fractions"):
        TableSettings(path="t.csv", target="price", fractions=(0.5, 0.5, 0.5))


def test_champion_of_other_features_cannot_be_scored(table, tmp_path):
    path, df = table
    cfg = CSIBConfig.for_profile("tiny", data=_spec(path))
    inputs = prepare_inputs(TABLE, cfg)
    state = train_challenger(inputs, cfg).state_dict
    assert validation_metrics(cfg, state, inputs)["n_val"] > 0
    renamed = _write(tmp_path, df.rename(columns={"b": "c"}), "renamed.csv")
    other = prepare_inputs(TABLE, cfg.model_copy(update={"data": _spec(renamed)}))
    with pytest.raises(DataError, match=r"trained on features \['a', 'b', .*has \['a', 'c'"):
        validation_metrics(cfg, state, other)
