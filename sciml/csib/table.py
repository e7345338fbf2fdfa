r"""A user's own table (CSV or Parquet) as CS-IB regression inputs: read, checked, cleaned, split.

The CS-IB experiment (Yu, Yu, Løkse, Jenssen & Principe, "Cauchy-Schwarz Divergence Information
Bottleneck for Regression", ICLR 2024, arXiv:2404.17951, Sec. 5.1) needs numeric features ``x``,
a numeric target ``y`` and a train/validation/test split. :func:`prepare_table` makes them from
any table, in this order (every count is reported in :attr:`PreparedTable.report`):

1. **Columns.** The target must be a column holding numbers; every other column, less
   ``exclude`` and the split column, is a feature. A column that holds no value at all is an
   error (drop it with ``exclude``); so is a timestamp column (derive numbers from it first).
2. **Kinds.** A feature whose present values all parse as numbers (or a Parquet numeric or
   boolean column) is numeric, unless it is listed in ``categorical``; every other feature is
   categorical and is one-hot encoded, one 0/1 column ``<column>=<category>`` per category seen
   (sorted), at most ``max_categories`` per column (more looks like an id or free text).
3. **Missing values.** Rows without a target are always dropped. For missing feature values
   the policy ``missing`` is explicit: ``"drop"`` drops the rows; ``"impute"`` fills a numeric
   column with its median and a categorical one with its most frequent category, both taken
   over the *training* rows only.
4. **Split.** A declared ``split_column`` (values ``train``, ``val`` or ``validation``,
   ``test``), or a seeded draw per row: row :math:`i` of the file gets :math:`u_i`, the
   :math:`i`-th number of ``numpy.random.default_rng(split_seed).random``, and goes to train
   if :math:`u_i < f_1`, to validation if :math:`u_i < f_1 + f_2`, else to test. A row's
   part depends only on its position and the seed, so rows appended to the file later leave
   the parts of the earlier rows unchanged (a retrain re-scores its champion on validation rows
   it never trained on).

Problems raise :class:`sciml.errors.DataError` naming the file and the column.
"""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
import pathlib
from collections.abc import Mapping
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, field_validator

from sciml.errors import DataError

__all__ = [
    "TABLE",
    "TableSettings",
    "PreparedTable",
    "read_table",
    "prepare_table",
    "load_table",
    "table_summary",
]

#: dataset label of a user's table (its catalog dataset is ``csib/table``)
TABLE = "table"

_CSV = (".csv", ".csv.gz", ".csv.bz2", ".csv.xz", ".csv.zip", ".tsv", ".txt")
_PARQUET = (".parquet", ".pq")
_SPLIT_NAMES = {"train": "train", "val": "val", "validation": "val", "test": "test"}
_NA_VALUES = ("", "NA", "N/A", "NaN", "nan", "null", "NULL", "None", "?")


class TableSettings(BaseModel):
    """Where a user's table is and how to read it (the ``data`` settings of ``CSIBConfig``).

    Attributes
    ----------
    path : str
        The table: CSV (``.csv``, compressed ``.csv.gz`` ..., tab-separated ``.tsv``) or
        Parquet (``.parquet``, ``.pq``); a local path or an fsspec URL.
    target : str
        The column to predict (numeric).
    exclude : tuple of str
        Columns that are not features (ids, timestamps, leaks of the target).
    categorical : tuple of str
        Numeric-looking columns to one-hot encode as well (codes such as a zip code); columns
        holding text are categorical anyway.
    missing : {"drop", "impute"}
        Policy for missing feature values (rows without a target are always dropped).
    split_column : str, optional
        A column labelling each row ``train``, ``val`` (or ``validation``) or ``test``; without
        it, a seeded per-row draw with ``fractions``.
    fractions : (float, float, float)
        Train, validation and test fractions of the seeded draw.
    units : str
        Units of the target, for tables and plots.
    max_categories : int
        Most categories one categorical column may have.
    na_values : tuple of str
        Strings of a CSV file read as missing.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    path: str = Field(min_length=1)
    target: str = Field(min_length=1)
    exclude: tuple[str, ...] = ()
    categorical: tuple[str, ...] = ()
    missing: Literal["drop", "impute"] = "drop"
    split_column: str | None = None
    fractions: tuple[float, float, float] = (0.7, 0.1, 0.2)
    units: str = ""
    max_categories: int = Field(50, ge=2)
    na_values: tuple[str, ...] = _NA_VALUES

    @field_validator("path", "target", "split_column", "units", mode="before")
    @classmethod
    def _text(cls, v: Any) -> Any:
        """A name typed on the command line may parse as a number (``--set data.target=2021``)."""
        return str(v) if isinstance(v, int | float) and not isinstance(v, bool) else v

    @field_validator("exclude", "categorical", "na_values", mode="before")
    @classmethod
    def _one_or_more(cls, v: Any) -> Any:
        """One name is a tuple of one (``--set data.exclude=id``)."""
        return (str(v),) if isinstance(v, str | int | float) and not isinstance(v, bool) else v

    @field_validator("fractions")
    @classmethod
    def _fractions(cls, v: tuple[float, float, float]) -> tuple[float, float, float]:
        if any(f <= 0 for f in v) or abs(sum(v) - 1.0) > 1e-9:
            raise ValueError(f"fractions must be 3 positive numbers summing to 1, got {v}")
        return v


@dataclasses.dataclass(frozen=True)
class PreparedTable:
    """A user's table made into CS-IB inputs (not standardised).

    Attributes
    ----------
    x : ndarray, shape (n, d), float64
        Numeric features, then one-hot columns, in the table's column order.
    y : ndarray, shape (n,), float64
    split : ndarray, shape (n,), str
        ``"train"``, ``"val"`` or ``"test"`` per row.
    features : tuple of str, length d
        ``<column>`` for a numeric feature, ``<column>=<category>`` for a one-hot column.
    target, units : str
    row : ndarray, shape (n,), int64
        The row of the file (0-based, header excluded) each row came from.
    report : dict
        What was read and done: counts of rows read and dropped, missing and imputed values per
        column, the categories of every one-hot column, the split's source (all JSON types).
    """

    x: np.ndarray
    y: np.ndarray
    split: np.ndarray
    features: tuple[str, ...]
    target: str
    units: str
    row: np.ndarray
    report: dict[str, Any]


def _file_format(path: str) -> str:
    low = path.lower()
    if low.endswith(_PARQUET):
        return "parquet"
    if low.endswith(_CSV):
        return "csv"
    raise DataError(
        f"table {path!r}: unknown format; use a CSV ({', '.join(_CSV)}) or Parquet "
        f"({', '.join(_PARQUET)}) file"
    )


def read_table(path: str | pathlib.Path, na_values: tuple[str, ...] = _NA_VALUES) -> pd.DataFrame:
    """Read a CSV or Parquet table as it is (CSV cells as strings, ``na_values`` missing).

    Parameters
    ----------
    path : str or path
        CSV (``.csv``, ``.csv.gz``, ``.tsv`` ...) or Parquet (``.parquet``, ``.pq``); a local
        path or an fsspec URL.
    na_values : tuple of str
        CSV cells read as missing.

    Returns
    -------
    pandas.DataFrame
        With ``attrs["format"]`` (``"csv"`` or ``"parquet"``).

    Raises
    ------
    DataError
        If the file does not exist, has another format, cannot be parsed or has no data row.
    """
    text = str(path)
    kind = _file_format(text)
    local = "://" not in text
    if local and not pathlib.Path(text).is_file():
        raise DataError(f"table {text!r} does not exist")
    try:
        if kind == "parquet":
            frame = pd.read_parquet(text)
        else:
            sep = "\t" if text.lower().endswith(".tsv") else ","
            frame = pd.read_csv(text, sep=sep, dtype=str, keep_default_na=False, na_values=list(na_values))
    except ImportError as exc:  # pragma: no cover - pyarrow is a dependency
        raise DataError(f"table {text!r}: reading Parquet needs pyarrow ({exc})") from exc
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, OSError, ValueError) as exc:
        raise DataError(f"table {text!r} cannot be read as {kind}: {exc}") from exc
    if frame.empty:
        raise DataError(f"table {text!r} has no data rows")
    frame.columns = [str(c) for c in frame.columns]
    dupes = sorted({c for c in frame.columns if list(frame.columns).count(c) > 1})
    if dupes:
        raise DataError(f"table {text!r} has duplicate column names {dupes}")
    frame.attrs["format"] = kind
    return frame


def _need_column(frame: pd.DataFrame, col: str, role: str, source: str) -> None:
    if col in frame.columns:
        return
    close = difflib.get_close_matches(col, list(frame.columns), n=3, cutoff=0.6)
    hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
    shown = list(frame.columns)[:30]
    raise DataError(f"{role} column {col!r} is not in {source}{hint} (columns: {shown})")


def _rows(mask: np.ndarray, n: int = 5) -> list[int]:
    """1-based data-row numbers of the first ``n`` True entries (as a spreadsheet counts them)."""
    return [int(i) + 1 for i in np.flatnonzero(mask)[:n]]


def _as_numbers(s: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """``s`` as float64 and the mask of present values that are not numbers."""
    if pd.api.types.is_bool_dtype(s):
        return s.astype(np.float64), np.zeros(len(s), dtype=bool)
    if pd.api.types.is_numeric_dtype(s):
        return s.astype(np.float64), np.zeros(len(s), dtype=bool)
    num = pd.to_numeric(s, errors="coerce")
    return num.astype(np.float64), (num.isna() & s.notna()).to_numpy()


def _target(frame: pd.DataFrame, spec: TableSettings, source: str) -> np.ndarray:
    s = frame[spec.target]
    if s.isna().all():
        raise DataError(f"target column {spec.target!r} of {source} holds no values (all missing)")
    y, bad = _as_numbers(s)
    if bad.any():
        vals = [s.iloc[i] for i in np.flatnonzero(bad)[:5]]
        raise DataError(
            f"target column {spec.target!r} of {source} holds non-numeric values {vals} (data rows "
            f"{_rows(bad)}); the target of a regression must be a number"
        )
    if np.isinf(y.to_numpy()).any():
        raise DataError(f"target column {spec.target!r} of {source} holds infinite values "
                        f"(data rows {_rows(np.isinf(y.to_numpy()))})")  # fmt: skip
    return y.to_numpy()


def _split(frame: pd.DataFrame, spec: TableSettings, seed: int, source: str) -> tuple[np.ndarray, str]:
    """Split label per row of the file, and how it was made."""
    if spec.split_column is not None:
        raw = frame[spec.split_column]
        labels = raw.astype("string").str.strip().str.lower().map(_SPLIT_NAMES)
        bad = labels.isna().to_numpy()
        if bad.any():
            vals = sorted({str(raw.iloc[i]) for i in np.flatnonzero(bad)})[:5]
            raise DataError(
                f"split column {spec.split_column!r} of {source} holds {vals} (data rows "
                f"{_rows(bad)}); each row must be one of 'train', 'val' ('validation'), 'test'"
            )
        return labels.to_numpy(dtype=object).astype(str), f"column {spec.split_column!r}"
    u = np.random.default_rng(seed).random(len(frame))
    f_train, f_val, _ = spec.fractions
    labels = np.where(u < f_train, "train", np.where(u < f_train + f_val, "val", "test"))
    how = f"seeded draw per row (split_seed {seed}, fractions {list(spec.fractions)})"
    return labels, how


def _kinds(
    frame: pd.DataFrame, features: list[str], spec: TableSettings, source: str
) -> tuple[dict[str, pd.Series], dict[str, pd.Series]]:
    """Numeric features (float64) and categorical ones (strings, missing kept)."""
    numeric: dict[str, pd.Series] = {}
    categorical: dict[str, pd.Series] = {}
    for col in features:
        s = frame[col]
        if pd.api.types.is_datetime64_any_dtype(s) or pd.api.types.is_timedelta64_dtype(s):
            raise DataError(
                f"column {col!r} of {source} holds timestamps; derive numeric features from it "
                f"(hour, weekday, ...) or exclude it (data.exclude)"
            )
        num, bad = _as_numbers(s)
        if col not in spec.categorical and not bad.any():
            if np.isinf(num.to_numpy()).any():
                raise DataError(f"column {col!r} of {source} holds infinite values (data rows "
                                f"{_rows(np.isinf(num.to_numpy()))})")  # fmt: skip
            numeric[col] = num
        else:
            text = s.astype("string").str.strip()
            categorical[col] = text.where(s.notna())
    return numeric, categorical


def prepare_table(
    frame: pd.DataFrame, spec: TableSettings, split_seed: int = 0, source: str = "the table"
) -> PreparedTable:
    """Make CS-IB inputs of a table: features, target and split, with what was done reported.

    Parameters
    ----------
    frame : pandas.DataFrame
        The table as :func:`read_table` reads it (one row per sample).
    spec : TableSettings
        Target, excluded and categorical columns, missing-value policy, split.
    split_seed : int
        Seed of the per-row split draw (unused with ``spec.split_column``).
    source : str
        Name of the table in messages (its file).

    Returns
    -------
    PreparedTable
        See the module docstring for the steps (Yu et al., ICLR 2024, Sec. 5.1 use the same
        70/10/20 fractions).

    Raises
    ------
    DataError
        If a named column is absent, the target is not numeric, a column holds no value, a
        categorical column has more than ``max_categories`` categories, or a part of the split
        has fewer than 2 rows after cleaning.
    """
    src = source
    _need_column(frame, spec.target, "target", src)
    for col in spec.exclude:
        _need_column(frame, col, "excluded", src)
    for col in spec.categorical:
        _need_column(frame, col, "categorical", src)
    if spec.split_column is not None:
        _need_column(frame, spec.split_column, "split", src)
        if spec.split_column == spec.target:
            raise DataError(f"split column {spec.split_column!r} of {src} is the target")
    if spec.target in spec.exclude or spec.target in spec.categorical:
        raise DataError(f"target column {spec.target!r} of {src} is also listed in data.exclude "
                        "or data.categorical")  # fmt: skip
    skip = {spec.target, *spec.exclude, *([spec.split_column] if spec.split_column else [])}
    features = [c for c in frame.columns if c not in skip]
    if not features:
        raise DataError(f"{src} has no feature column besides the target {spec.target!r}")
    empty = [c for c in features if frame[c].isna().all()]
    if empty:
        raise DataError(f"columns {empty} of {src} hold no values (all missing); drop them with "
                        "data.exclude")  # fmt: skip
    y_all = _target(frame, spec, src)
    labels_all, split_how = _split(frame, spec, split_seed, src)
    numeric, categorical = _kinds(frame, features, spec, src)

    n_read = len(frame)
    keep = np.isfinite(y_all)
    missing_target = int((~keep).sum())
    miss = {c: (numeric[c] if c in numeric else categorical[c]).isna().to_numpy() for c in features}
    missing_counts = {c: int((m & keep).sum()) for c, m in miss.items() if (m & keep).any()}
    any_missing = np.zeros(n_read, dtype=bool)
    for m in miss.values():
        any_missing |= m
    dropped_missing = 0
    if spec.missing == "drop":
        dropped_missing = int((any_missing & keep).sum())
        keep &= ~any_missing
    rows = np.flatnonzero(keep)
    labels = labels_all[rows]
    sizes = {lab: int((labels == lab).sum()) for lab in ("train", "val", "test")}
    if min(sizes.values()) < 2:
        raise DataError(
            f"{src}: {len(rows)} of {n_read} rows are usable (missing target: {missing_target}, "
            f"missing features with data.missing={spec.missing!r}: {dropped_missing}); the split "
            f"{sizes} needs at least 2 rows in each part"
        )
    train = labels == "train"

    imputed: dict[str, int] = {}
    columns: list[np.ndarray] = []
    names: list[str] = []
    levels: dict[str, list[str]] = {}
    for col in features:
        if col in numeric:
            v = numeric[col].to_numpy()[rows].copy()
            gaps = np.isnan(v)
            if gaps.any():  # only under "impute"
                ref = v[train & ~gaps]
                if len(ref) == 0:
                    raise DataError(f"column {col!r} of {src} has no value on the training rows; "
                                    "cannot impute it (exclude it with data.exclude)")  # fmt: skip
                v[gaps] = float(np.median(ref))
                imputed[col] = int(gaps.sum())
            columns.append(v)
            names.append(col)
            continue
        v = categorical[col].to_numpy(dtype=object)[rows].copy()
        gaps = pd.isna(v)
        if gaps.any():
            ref = pd.Series(v[train & ~gaps])
            if ref.empty:
                raise DataError(f"column {col!r} of {src} has no value on the training rows; "
                                "cannot impute it (exclude it with data.exclude)")  # fmt: skip
            v[gaps] = ref.value_counts().sort_index().idxmax()
            imputed[col] = int(gaps.sum())
        cats = sorted({str(c) for c in v})
        if len(cats) > spec.max_categories:
            examples = cats[:3]
            raise DataError(
                f"column {col!r} of {src} is not numeric (values like {examples}) and has "
                f"{len(cats)} distinct values, more than data.max_categories={spec.max_categories}: "
                "fix its values, exclude it (data.exclude) or raise data.max_categories"
            )
        levels[col] = cats
        text = v.astype(str)
        for c in cats:
            columns.append((text == c).astype(np.float64))
            names.append(f"{col}={c}")
    x = np.column_stack(columns).astype(np.float64)
    y = y_all[rows]
    report = {
        "source_format": str(frame.attrs.get("format", "")),
        "rows_read": int(n_read),
        "rows_used": int(len(rows)),
        "rows_dropped_missing_target": missing_target,
        "rows_dropped_missing_features": dropped_missing,
        "missing_policy": spec.missing,
        "missing_values": missing_counts,
        "values_imputed": imputed,
        "numeric_columns": [c for c in features if c in numeric],
        "categorical_columns": levels,
        "excluded_columns": list(spec.exclude),
        "split": split_how,
        "split_sizes": sizes,
    }
    return PreparedTable(x, y, labels.astype("<U5"), tuple(names), spec.target, spec.units,
                         rows.astype(np.int64), report)  # fmt: skip


def _sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def load_table(spec: TableSettings, split_seed: int = 0) -> PreparedTable:
    """Read the table of ``spec`` (:func:`read_table`) and prepare it (:func:`prepare_table`).

    The report also holds ``source_file`` (absolute path or URL) and, for a local file,
    ``source_sha256``.

    Raises
    ------
    DataError
        See :func:`read_table` and :func:`prepare_table`; messages name the file.
    """
    frame = read_table(spec.path, spec.na_values)
    local = "://" not in spec.path
    where = str(pathlib.Path(spec.path).resolve()) if local else spec.path
    prepared = prepare_table(frame, spec, split_seed, source=f"table {spec.path!r}")
    extra = {"source_file": where, "source_sha256": _sha256(spec.path) if local else ""}
    return dataclasses.replace(prepared, report={**extra, **prepared.report})


def table_summary(report: Mapping[str, Any]) -> str:
    """One paragraph of what was read and done to a table (its report, or its store's attrs).

    Parameters
    ----------
    report : mapping
        :attr:`PreparedTable.report`, or the ``attrs`` of a ``csib/table`` store.

    Returns
    -------
    str
        Rows read, used and dropped (and why), values imputed, the one-hot columns with their
        number of categories, and the split.
    """
    cats = report.get("categorical_columns") or {}
    imputed = report.get("values_imputed") or {}
    one_hot = ", ".join(f"{c} ({len(v)} categories)" for c, v in cats.items()) or "none"
    filled = ", ".join(f"{c}: {n}" for c, n in imputed.items()) or "none"
    return (
        f"{report.get('source_file', 'table')}: {report.get('rows_read', '?')} rows read, "
        f"{report.get('rows_used', '?')} used; dropped for a missing target "
        f"{report.get('rows_dropped_missing_target', 0)}, for missing features "
        f"{report.get('rows_dropped_missing_features', 0)} (missing-value policy "
        f"{report.get('missing_policy', '?')!r}); values imputed: {filled}; one-hot: {one_hot}; "
        f"split: {report.get('split', '?')} {report.get('split_sizes', '')}."
    )
