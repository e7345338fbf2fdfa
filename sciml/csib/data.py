"""Inputs of the CS-IB experiment: the four shipped real regression datasets, checked and preprocessed.

Yu et al., "Cauchy-Schwarz Divergence Information Bottleneck for Regression", ICLR 2024,
Sec. 5.1 (California Housing, Appliances Energy, Beijing PM2.5, Bike Sharing). The raw files
ship inside this package (``sciml/csib/data/``, byte-for-byte copies, see the README there);
their sha256 is verified on every load, so nothing at run time reads outside the package.

Preprocessing per dataset (each step is tested in ``tests/csib/test_datasets.py``):

``california_housing``
    scikit-learn's 8 features computed from the StatLib columns (MedInc, HouseAge,
    AveRooms = rooms/households, AveBedrms = bedrooms/households, Population,
    AveOccup = population/households, Latitude, Longitude); the 992 rows with
    ``median_house_value >= 500,000`` (the censored cap) are dropped, leaving 19,648;
    target ``log(median_house_value / 100,000)`` (log of sklearn's MedHouseVal), as in
    Kolchinsky et al. (2019) Sec. 4.2 and the CS-IB paper.
``bike_sharing``
    target ``cnt`` (rentals per hour); ``casual`` and ``registered`` are dropped (they sum to
    the target: leakage), ``instant`` (row id) and ``dteday`` (the date, whose information is
    in ``yr``/``mnth``/``weekday``) are dropped; 12 features, 17,379 rows.
``beijing_pm25``
    target ``pm2.5`` (ug/m^3); the 2,067 rows with a missing target are dropped (41,757 left);
    ``No`` (row number) is dropped; wind direction ``cbwd`` is one-hot encoded into
    ``cbwd_NE, cbwd_NW, cbwd_SE, cbwd_cv``; 14 features.
``appliances_energy``
    target ``Appliances`` (Wh per 10 min); ``date`` is replaced by two time features,
    ``nsm`` (seconds since midnight) and ``day_of_week`` (0 = Monday), as in Candanedo et al.
    (2017); ``rv1``/``rv2`` are dropped: they are random noise by design (identical columns),
    which a model can only overfit; 27 features, 19,735 rows.

Splits are a seeded permutation (default 70 / 10 / 20 % train / validation / test), and
:func:`standardize` uses training statistics only. The ``csib/{dataset}`` store of a prepared
dataset and its split is built in :mod:`sciml.csib.datasets`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.resources
import pathlib
from collections.abc import Callable

import numpy as np
import pandas as pd

from sciml.errors import ConfigError, DataError, unknown_name

__all__ = [
    "DATASETS",
    "DatasetSpec",
    "Prepared",
    "Split",
    "sha256_file",
    "dataset_spec",
    "read_frame",
    "load_frame",
    "preprocess",
    "load_dataset",
    "split_indices",
    "standardize",
    "describe",
]


@dataclasses.dataclass(frozen=True)
class DatasetSpec:
    """Description of one raw dataset file.

    Attributes
    ----------
    name : str
        Dataset key, e.g. ``"beijing_pm25"``.
    filename : str
        File inside ``sciml/csib/data``.
    sha256 : str
        Expected checksum of the file's bytes.
    columns : tuple of str
        Columns that must be present.
    numeric : tuple of str
        Columns whose values must all parse as numbers (``NA`` allowed only in ``nullable``).
    nullable : tuple of str
        Numeric columns in which a missing value is legitimate (rows are dropped later).
    target : str
        Raw target column.
    target_units : str
        Units of the target *as modelled* (after any transform).
    rows : int
        Data rows in the raw file.
    """

    name: str
    filename: str
    sha256: str
    columns: tuple[str, ...]
    numeric: tuple[str, ...]
    nullable: tuple[str, ...]
    target: str
    target_units: str
    rows: int


_CAL = (
    "longitude",
    "latitude",
    "housing_median_age",
    "total_rooms",
    "total_bedrooms",
    "population",
    "households",
    "median_income",
    "median_house_value",
)
_BIKE_NUM = (
    "instant",
    "season",
    "yr",
    "mnth",
    "hr",
    "holiday",
    "weekday",
    "workingday",
    "weathersit",
    "temp",
    "atemp",
    "hum",
    "windspeed",
    "casual",
    "registered",
    "cnt",
)
_PM_NUM = ("No", "year", "month", "day", "hour", "pm2.5", "DEWP", "TEMP", "PRES", "Iws", "Is", "Ir")
_ENERGY_NUM = (
    "Appliances",
    "lights",
    *[f"T{i}" for i in range(1, 10)],
    *[f"RH_{i}" for i in range(1, 10)],
    "T_out",
    "Press_mm_hg",
    "RH_out",
    "Windspeed",
    "Visibility",
    "Tdewpoint",
    "rv1",
    "rv2",
)

DATASETS: dict[str, DatasetSpec] = {
    "california_housing": DatasetSpec(
        "california_housing",
        "california_housing.csv",
        "534365b6c3c9b07c2b7d88e0ff9f1b41725d8b799748f5c0b80e1067f51c8ab3",
        _CAL,
        _CAL,
        (),
        "median_house_value",
        "log(100,000 USD)",
        20640,
    ),
    "bike_sharing": DatasetSpec(
        "bike_sharing",
        "bike_sharing_hour.csv",
        "e03de4ee4ef4dc376ac6e04bf829673c6269e8eba5c60fa121640fa2f829504f",
        ("dteday", *_BIKE_NUM),
        _BIKE_NUM,
        (),
        "cnt",
        "rentals per hour",
        17379,
    ),
    "beijing_pm25": DatasetSpec(
        "beijing_pm25",
        "beijing_pm25.csv",
        "4127f868775e31b3956522adc0ec75af8937dde6a3896e8beed3a376c6d27f1c",
        (*_PM_NUM, "cbwd"),
        _PM_NUM,
        ("pm2.5",),
        "pm2.5",
        "ug/m^3",
        43824,
    ),
    "appliances_energy": DatasetSpec(
        "appliances_energy",
        "appliances_energy.csv.gz",
        "6b1af29ce87e12fd1d090cf06d1cce394e5a491466937f15827b3d7f06e6a7e3",
        ("date", *_ENERGY_NUM),
        _ENERGY_NUM,
        (),
        "Appliances",
        "Wh",
        19735,
    ),
}


@dataclasses.dataclass(frozen=True)
class Prepared:
    """A preprocessed dataset: features, target and their names (no split, not standardised).

    Attributes
    ----------
    name : str
    x : ndarray, shape (n, d), float64
    y : ndarray, shape (n,), float64 (target after its transform, e.g. log for California)
    features : tuple of str, length d
    target : str, name of the modelled target
    target_units : str
    """

    name: str
    x: np.ndarray
    y: np.ndarray
    features: tuple[str, ...]
    target: str
    target_units: str


@dataclasses.dataclass(frozen=True)
class Split:
    """Standardised train/validation/test arrays and the training statistics used.

    ``x_*`` are float32 standardised features, ``y_*`` float32 standardised targets;
    ``x_mean``/``x_std``/``y_mean``/``y_std`` (float64) come from the training part only.
    ``y_std`` converts an RMSE on the standardised scale back to target units.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    x_mean: np.ndarray
    x_std: np.ndarray
    y_mean: float
    y_std: float


def sha256_file(path: str | pathlib.Path) -> str:
    """Hex sha256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def dataset_spec(name: str) -> DatasetSpec:
    """The :class:`DatasetSpec` of dataset ``name``; unknown names list the known ones."""
    if name not in DATASETS:
        raise unknown_name("csib dataset", name, tuple(DATASETS))
    return DATASETS[name]


def _packaged_path(spec: DatasetSpec) -> pathlib.Path:
    ref = importlib.resources.files("sciml.csib") / "data" / spec.filename
    return pathlib.Path(str(ref))


def read_frame(path: str | pathlib.Path, spec: DatasetSpec, sha256: str | None = None) -> pd.DataFrame:
    """Read a raw dataset file and validate it against ``spec``.

    Parameters
    ----------
    path : path of a CSV (``.csv`` or ``.csv.gz``) file.
    spec : the dataset description (columns, numeric columns, nullable columns).
    sha256 : expected checksum; ``None`` skips the check (for files built in tests).

    Returns
    -------
    DataFrame with the numeric columns as float64 (missing values only in ``spec.nullable``).

    Raises
    ------
    DataError
        If the file is missing, its checksum differs, a required column is absent, or a
        numeric column holds a non-numeric value (or a missing one outside ``nullable``).
    """
    path = pathlib.Path(path)
    if not path.is_file():
        raise DataError(f"dataset file {str(path)!r} for {spec.name!r} does not exist")
    if sha256 is not None:
        got = sha256_file(path)
        if got != sha256:
            raise DataError(
                f"checksum mismatch for {spec.name!r} ({path.name}): expected sha256 {sha256}, "
                f"got {got}; the file is corrupt or modified, restore the original copy"
            )
    try:
        frame = pd.read_csv(path, keep_default_na=False, na_values=["NA", ""], dtype=str)
    except (pd.errors.ParserError, UnicodeDecodeError, OSError) as exc:
        raise DataError(f"cannot parse {spec.name!r} file {path.name}: {exc}") from exc
    missing = [c for c in spec.columns if c not in frame.columns]
    if missing:
        raise DataError(
            f"dataset {spec.name!r} ({path.name}) is missing columns {missing}; expected {list(spec.columns)}"
        )
    out = frame.loc[:, list(spec.columns)].copy()
    for col in spec.numeric:
        raw = out[col]
        num = pd.to_numeric(raw, errors="coerce")
        bad = num.isna() & raw.notna()
        if bad.any():
            rows = np.flatnonzero(bad.to_numpy())[:5]
            vals = [raw.iloc[i] for i in rows]
            raise DataError(
                f"dataset {spec.name!r} column {col!r} holds non-numeric values {vals} "
                f"(data rows {list(map(int, rows + 1))}); fix or restore the file"
            )
        if col not in spec.nullable and num.isna().any():
            rows = np.flatnonzero(num.isna().to_numpy())[:5]
            raise DataError(
                f"dataset {spec.name!r} column {col!r} has missing values at data rows "
                f"{list(map(int, rows + 1))}; only {list(spec.nullable)} may be missing"
            )
        out[col] = num.astype(np.float64)
    return out


def load_frame(name: str) -> pd.DataFrame:
    """Read the packaged raw file of dataset ``name`` (sha256 verified), see :func:`read_frame`."""
    spec = dataset_spec(name)
    return read_frame(_packaged_path(spec), spec, sha256=spec.sha256)


def _california(f: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series, str]:
    f = f[f["median_house_value"] < 500_000.0]
    hh = f["households"]
    x = pd.DataFrame(
        {
            "MedInc": f["median_income"],
            "HouseAge": f["housing_median_age"],
            "AveRooms": f["total_rooms"] / hh,
            "AveBedrms": f["total_bedrooms"] / hh,
            "Population": f["population"],
            "AveOccup": f["population"] / hh,
            "Latitude": f["latitude"],
            "Longitude": f["longitude"],
        }
    )
    return x, np.log(f["median_house_value"] / 100_000.0), "log_MedHouseVal"


def _bike(f: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series, str]:
    x = f.drop(columns=["cnt", "casual", "registered", "instant", "dteday"])
    return x, f["cnt"], "cnt"


def _pm25(f: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series, str]:
    f = f[f["pm2.5"].notna()]
    cats = f["cbwd"].astype(str)
    known = ("NE", "NW", "SE", "cv")
    unknown = sorted(set(cats) - set(known))
    if unknown:
        raise DataError(
            f"beijing_pm25 column 'cbwd' has unknown categories {unknown}; expected {list(known)}"
        )
    onehot = pd.DataFrame({f"cbwd_{c}": (cats == c).astype(np.float64) for c in known}, index=f.index)
    x = pd.concat([f.drop(columns=["pm2.5", "No", "cbwd"]), onehot], axis=1)
    return x, f["pm2.5"], "pm2.5"


def _energy(f: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series, str]:
    stamp = pd.to_datetime(f["date"], format="%Y-%m-%d %H:%M:%S", errors="coerce")
    if stamp.isna().any():
        rows = np.flatnonzero(stamp.isna().to_numpy())[:5]
        raise DataError(
            f"appliances_energy column 'date' has unparsable timestamps at data "
            f"rows {list(map(int, rows + 1))}; expected 'YYYY-MM-DD hh:mm:ss'"
        )
    nsm = (stamp.dt.hour * 3600 + stamp.dt.minute * 60 + stamp.dt.second).astype(np.float64)
    x = f.drop(columns=["date", "Appliances", "rv1", "rv2"]).assign(
        nsm=nsm, day_of_week=stamp.dt.day_of_week.astype(np.float64)
    )
    return x, f["Appliances"], "Appliances"


_PREPROCESS: dict[str, Callable[[pd.DataFrame], tuple[pd.DataFrame, pd.Series, str]]] = {
    "california_housing": _california,
    "bike_sharing": _bike,
    "beijing_pm25": _pm25,
    "appliances_energy": _energy,
}


def preprocess(name: str, frame: pd.DataFrame) -> Prepared:
    """Apply the documented preprocessing of dataset ``name`` to a validated raw frame.

    Returns
    -------
    Prepared
        float64 features and target; see the module docstring for each dataset's steps.

    Raises
    ------
    DataError
        If the result holds a non-finite value.
    """
    spec = dataset_spec(name)
    x, y, target = _PREPROCESS[name](frame)
    xa = x.to_numpy(dtype=np.float64)
    ya = y.to_numpy(dtype=np.float64)
    if not (np.isfinite(xa).all() and np.isfinite(ya).all()):
        raise DataError(f"dataset {name!r} has non-finite values after preprocessing")
    return Prepared(name, xa, ya, tuple(map(str, x.columns)), target, spec.target_units)


def load_dataset(name: str) -> Prepared:
    """Load and preprocess a packaged dataset (checksum verified). See :func:`preprocess`."""
    return preprocess(name, load_frame(name))


def split_indices(
    n: int, seed: int, fractions: tuple[float, float, float] = (0.7, 0.1, 0.2)
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Seeded random train/validation/test index split.

    Parameters
    ----------
    n : number of rows.
    seed : seed of ``numpy.random.default_rng``.
    fractions : train, validation, test fractions (positive, summing to 1).

    Returns
    -------
    (train, val, test) : sorted int arrays partitioning ``range(n)``.
    """
    fr = np.asarray(fractions, dtype=np.float64)
    if fr.shape != (3,) or (fr <= 0).any() or abs(fr.sum() - 1.0) > 1e-9:
        raise ConfigError(f"split fractions must be 3 positive numbers summing to 1, got {fractions}")
    perm = np.random.default_rng(seed).permutation(n)
    n_train = int(round(fr[0] * n))
    n_val = int(round(fr[1] * n))
    if min(n_train, n_val, n - n_train - n_val) < 2:
        raise ConfigError(f"{n} rows are too few for a split with fractions {fractions}")
    tr, va, te = np.split(perm, [n_train, n_train + n_val])
    return np.sort(tr), np.sort(va), np.sort(te)


def standardize(x: np.ndarray, y: np.ndarray, train: np.ndarray, val: np.ndarray, test: np.ndarray) -> Split:
    """Standardise features and target with the statistics of the training rows only.

    A feature that is constant on the training rows keeps scale 1 (it is only centred).
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    xm = x[train].mean(0)
    xs = x[train].std(0)
    xs = np.where(xs > 0, xs, 1.0)
    ym = float(y[train].mean())
    ys = float(y[train].std())
    if not ys > 0:
        raise DataError("target is constant on the training rows; cannot standardise")

    def fx(idx: np.ndarray) -> np.ndarray:
        return ((x[idx] - xm) / xs).astype(np.float32)

    def fy(idx: np.ndarray) -> np.ndarray:
        return ((y[idx] - ym) / ys).astype(np.float32)

    return Split(fx(train), fy(train), fx(val), fy(val), fx(test), fy(test), xm, xs, ym, ys)


def describe(name: str) -> str:
    """The documented preprocessing of dataset ``name`` (its paragraph of this module's docstring).

    Parameters
    ----------
    name : str
        Dataset key, e.g. ``"bike_sharing"``.

    Returns
    -------
    str
        One line: the paragraph under ``name`` in the module docstring (Yu et al., ICLR 2024,
        Sec. 5.1 datasets), or ``name`` itself when the docstring has none.
    """
    doc = __doc__ or ""
    start = doc.find(f"``{name}``")
    end = doc.find("\n``", start + 1)
    end = doc.find("\n\nSplits", start) if end < 0 else end
    return " ".join(doc[start:end].split()) if start >= 0 else name
