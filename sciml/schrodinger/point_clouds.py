r"""A user's own point clouds for LightSB: read (CSV, NPY, AnnData ``.h5ad``), checked, as xarray.

Korotin, Gushchin, Burnaev, "Light Schrödinger Bridge", ICLR 2024 (arXiv:2310.01174), Section 5.3:
LightSB between two *unpaired* samples, e.g. the cells of two time points of a single-cell
experiment in a PCA embedding, scored at a held-out intermediate time point. The settings
:class:`PointCloudSettings` (the ``data`` settings of
:class:`~sciml.schrodinger.experiment.LightSBConfig`) name the files; :func:`load_point_clouds`
reads and checks them; :func:`samples_to_dataset` makes the ``lightsb/user_samples`` dataset and
:func:`clouds_from_dataset` reads it back.

Formats, by file suffix:

- **NPY** (``.npy``): one float array (n, D).
- **CSV** (``.csv``, ``.tsv``, compressed ``.csv.gz`` ...): one point per row; the coordinates
  are ``columns`` (default: every numeric column but ``obs_key``).
- **AnnData** (``.h5ad``): the embedding ``obsm[embedding]`` (``"X"`` for the matrix ``X``,
  dense or CSR/CSC), read with h5py after the AnnData on-disk specification (``anndata``
  itself does not work with the pinned pandas 3). An observation column ``obs[obs_key]``
  selects the rows of each cloud (``source_value``, ``target_value``, ``heldout_value``), so
  source, target and held-out cells may come from one file.

A CSV file may also hold several clouds split by a column (``obs_key``). Bad input raises a
:mod:`sciml.errors` type naming the input (``data.source`` ...), the file and the fix.
"""

from __future__ import annotations

import hashlib
import pathlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr
from pydantic import BaseModel, ConfigDict, Field, field_validator

from sciml.errors import ConfigError, DataError, unknown_name

__all__ = [
    "ROLES",
    "PointCloudSettings",
    "PointClouds",
    "read_points",
    "load_point_clouds",
    "samples_to_dataset",
    "clouds_from_dataset",
]

#: the clouds a run reads: source (t = 0), target (t = 1) and an optional held-out time point
ROLES = ("source", "target", "heldout")
_CSV = (".csv", ".csv.gz", ".csv.bz2", ".csv.xz", ".tsv", ".tsv.gz", ".txt")


class PointCloudSettings(BaseModel):
    r"""Where a user's point clouds are and how to read them (``data`` of ``LightSBConfig``).

    Attributes
    ----------
    source, target : str
        Files of the source (:math:`t = 0`) and target (:math:`t = 1`) clouds: ``.npy``,
        ``.csv`` (``.tsv``, compressed) or ``.h5ad``; the two may be one file split by
        ``obs_key``.
    heldout : str, optional
        File of a held-out intermediate time point (default: ``source`` when ``heldout_value``
        is set); the bridge is scored there.
    embedding : str
        AnnData ``obsm`` key of the coordinates (``"X_pca"``), or ``"X"`` for the matrix.
    obs_key : str, optional
        The AnnData ``obs`` column (or CSV column) whose values split the clouds.
    source_value, target_value, heldout_value : str, optional
        The values of ``obs_key`` of each cloud (compared as text: ``0``, ``day4`` ...).
    columns : tuple of str
        CSV coordinate columns (default: every numeric column but ``obs_key``).
    heldout_time : float, optional
        Time :math:`t_h \in (0, 1)` of the held-out cloud on the bridge; by default
        :math:`(v_h - v_0)/(v_1 - v_0)` when the three ``*_value`` are numbers (days).
    eps : float
        Entropic regularisation :math:`\varepsilon` of the fit, in squared units of the
        coordinates.
    max_eval : int
        Points per cloud (a seeded subsample) behind the energy distance and :math:`W_2`.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    source: str = Field(min_length=1)
    target: str = Field(min_length=1)
    heldout: str | None = None
    embedding: str = "X_pca"
    obs_key: str | None = None
    source_value: str | None = None
    target_value: str | None = None
    heldout_value: str | None = None
    columns: tuple[str, ...] = ()
    heldout_time: float | None = Field(None, gt=0, lt=1)
    eps: float = Field(0.1, gt=0)
    max_eval: int = Field(2_000, ge=10)

    @field_validator("source", "target", "heldout", "embedding", "obs_key", "source_value",
                     "target_value", "heldout_value", mode="before")
    @classmethod
    def _text(cls, v: Any) -> Any:
        """A value typed on the command line may parse as a number (``--set data.source_value=0``)."""
        return str(v) if isinstance(v, int | float) and not isinstance(v, bool) else v

    @field_validator("columns", mode="before")
    @classmethod
    def _one_or_more(cls, v: Any) -> Any:
        """One name is a tuple of one (``--set data.columns=pc1``)."""
        return (str(v),) if isinstance(v, str | int | float) and not isinstance(v, bool) else v

    def file(self, role: str) -> str | None:
        """The file of cloud ``role`` (``heldout`` defaults to ``source`` when selected by value)."""
        if role == "heldout" and self.heldout is None:
            return self.source if self.heldout_value is not None else None
        return getattr(self, role)

    def value(self, role: str) -> str | None:
        """The ``obs_key`` value selecting cloud ``role``, or ``None`` (every row)."""
        return getattr(self, f"{role}_value")


@dataclass(frozen=True)
class PointClouds:
    """The checked clouds of a run: arrays (n, D) float64, the held-out time, where they came from.

    ``inputs[role]`` holds the file, its sha256, the format, the selection and the row count.
    """

    source: np.ndarray
    target: np.ndarray
    heldout: np.ndarray | None = None
    heldout_time: float | None = None
    inputs: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def dim(self) -> int:
        return int(self.source.shape[1])


# ----------------------------------------------------------------------------------- readers
def _sha256(path: pathlib.Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _format(path: str, what: str) -> str:
    low = path.lower()
    if low.endswith(".npy"):
        return "npy"
    if low.endswith(".h5ad"):
        return "h5ad"
    if low.endswith(_CSV):
        return "csv"
    raise DataError(f"{what} {path!r}: unknown format; use .npy, .csv (.tsv, .csv.gz) or .h5ad")


def _select(labels: np.ndarray, obs_key: str, value: str | None, what: str, path: str) -> np.ndarray:
    """Boolean rows of ``labels == value``: as numbers when both are (``4`` matches ``4.0``), else
    as text; an unknown value lists the known ones."""
    text = np.asarray([str(v) for v in labels], dtype=object)
    if value is None:
        raise ConfigError(f"{what}: {path!r} is split by {obs_key!r}; set its value "
                          f"(known: {sorted(set(text))[:20]})")  # fmt: skip
    rows = text == value
    if np.asarray(labels).dtype.kind in "iuf":
        try:
            rows = np.asarray(labels, dtype=np.float64) == float(value)
        except ValueError:
            pass
    if not rows.any():
        raise unknown_name(f"value of {obs_key!r} for {what} in {path!r}", value,
                           sorted(set(text)))  # fmt: skip
    return rows


def _read_npy(path: pathlib.Path, what: str) -> np.ndarray:
    try:
        arr = np.load(path, allow_pickle=False)
    except ValueError as exc:
        raise DataError(f"{what} {str(path)!r}: not a numeric .npy array ({exc})") from exc
    return arr


def _read_csv(path: pathlib.Path, what: str, obs_key: str | None, value: str | None,
              columns: tuple[str, ...]) -> np.ndarray:  # fmt: skip
    sep = "\t" if ".tsv" in path.name.lower() else ","
    frame = pd.read_csv(path, sep=sep)
    if obs_key is not None:
        if obs_key not in frame.columns:
            raise unknown_name(f"column (obs_key) of {what} {str(path)!r}", obs_key,
                               [str(c) for c in frame.columns])  # fmt: skip
        frame = frame[_select(frame[obs_key].to_numpy(), obs_key, value, what, str(path))]
    if columns:
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            raise unknown_name(f"column of {what} {str(path)!r}", missing[0],
                               [str(c) for c in frame.columns])  # fmt: skip
        frame = frame[list(columns)]
    else:
        frame = frame.drop(columns=[obs_key] if obs_key is not None else [])
        frame = frame.select_dtypes(include="number")
        if frame.shape[1] == 0:
            raise DataError(f"{what} {str(path)!r}: no numeric column; name the coordinates with "
                            "data.columns")  # fmt: skip
    try:
        return frame.to_numpy(dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise DataError(f"{what} {str(path)!r}: the columns {list(frame.columns)} are not all "
                        f"numeric ({exc})") from exc  # fmt: skip


def _h5_strings(ds: Any) -> np.ndarray:
    """A string dataset (vlen or fixed-length bytes) as text."""
    values = ds[()]
    return np.asarray([v.decode() if isinstance(v, bytes) else str(v) for v in np.ravel(values)],
                      dtype=object)  # fmt: skip


def _h5_column(node: Any, name: str, what: str) -> np.ndarray:
    """One ``obs`` column of the AnnData on-disk format (array, string-array, categorical,
    nullable-integer/boolean)."""
    import h5py

    kind = node.attrs.get("encoding-type", "array")
    kind = kind.decode() if isinstance(kind, bytes) else str(kind)
    if isinstance(node, h5py.Group):
        if kind == "categorical":
            cats = node["categories"]
            labels = (_h5_strings(cats) if cats.dtype.kind in "OSU" else cats[()])
            codes = node["codes"][()]
            out = np.asarray(labels, dtype=object)[np.clip(codes, 0, None)]
            out[codes < 0] = None
            return out
        if kind.startswith("nullable"):
            values = node["values"][()].astype(object)
            values[node["mask"][()]] = None
            return values
        raise DataError(f"{what}: obs column {name!r} has an unsupported encoding {kind!r}")
    return _h5_strings(node) if node.dtype.kind in "OSU" else node[()]


def _h5_matrix(node: Any, what: str) -> np.ndarray:
    """A dense array, or a CSR/CSC sparse matrix group, as a dense float64 array."""
    import h5py

    if isinstance(node, h5py.Dataset):
        return node[()]
    kind = node.attrs.get("encoding-type", "")
    kind = kind.decode() if isinstance(kind, bytes) else str(kind)
    if kind not in ("csr_matrix", "csc_matrix"):
        raise DataError(f"{what}: a {kind or 'group'!r} is not a matrix of coordinates")
    from scipy import sparse

    cls = sparse.csr_matrix if kind == "csr_matrix" else sparse.csc_matrix
    shape = tuple(int(s) for s in node.attrs["shape"])
    return cls((node["data"][()], node["indices"][()], node["indptr"][()]), shape=shape).toarray()


def _read_h5ad(path: pathlib.Path, what: str, embedding: str, obs_key: str | None,
               value: str | None) -> np.ndarray:  # fmt: skip
    import h5py

    try:
        f = h5py.File(path, "r")
    except OSError as exc:
        raise DataError(f"{what} {str(path)!r}: not an HDF5 (.h5ad) file ({exc})") from exc
    with f:
        if embedding == "X":
            if "X" not in f:
                raise DataError(f"{what} {str(path)!r}: the file has no matrix X")
            points = _h5_matrix(f["X"], f"{what} {str(path)!r} X")
        else:
            known = sorted(f["obsm"].keys()) if "obsm" in f else []
            if embedding not in known:
                raise unknown_name(f"embedding (obsm key) of {what} {str(path)!r}", embedding,
                                   known + ["X"])  # fmt: skip
            points = _h5_matrix(f["obsm"][embedding], f"{what} {str(path)!r} obsm/{embedding}")
        if obs_key is not None:
            obs = f["obs"] if "obs" in f else None
            if obs is None or not hasattr(obs, "keys"):
                raise DataError(f"{what} {str(path)!r}: no obs dataframe in the AnnData layout "
                                "(files of anndata < 0.7 are not read; re-save with a newer one)")
            index = obs.attrs.get("_index", "_index")
            index = index.decode() if isinstance(index, bytes) else index
            known = sorted(k for k in obs.keys() if k != index and k != "__categories")
            if obs_key not in known:
                raise unknown_name(f"obs column (obs_key) of {what} {str(path)!r}", obs_key, known)
            labels = _h5_column(obs[obs_key], obs_key, f"{what} {str(path)!r}")
            if labels.shape[0] != points.shape[0]:
                raise DataError(f"{what} {str(path)!r}: obs has {labels.shape[0]} rows but the "
                                f"embedding has {points.shape[0]}")  # fmt: skip
            points = points[_select(labels, obs_key, value, what, str(path))]
    return points


def read_points(
    path: str | pathlib.Path,
    *,
    what: str = "data.source",
    embedding: str = "X_pca",
    obs_key: str | None = None,
    value: str | None = None,
    columns: tuple[str, ...] = (),
) -> np.ndarray:
    """Read one point cloud from a ``.npy``, CSV or ``.h5ad`` file and check it.

    Parameters
    ----------
    path : str or Path
    what : str
        The setting that named the file (``data.source`` ...), for messages.
    embedding : str
        ``.h5ad``: the ``obsm`` key, or ``"X"``.
    obs_key, value : str, optional
        ``.h5ad`` or CSV: keep the rows whose ``obs_key`` equals ``value`` (as text).
    columns : tuple of str
        CSV: the coordinate columns (default every numeric column but ``obs_key``).

    Returns
    -------
    ndarray, shape (n, D), float64

    Raises
    ------
    DataError
        A missing or unreadable file, not 2-D, non-numeric, empty, or rows with NaN or inf.
    UnknownNameError
        An embedding key, column or ``obs_key`` value the file does not have (the message
        lists the known ones).
    ConfigError
        ``obs_key`` on a ``.npy`` file, or a split file without the cloud's value.
    """
    p = pathlib.Path(path)
    if not p.is_file():
        raise DataError(f"{what}: file {str(p)!r} does not exist")
    kind = _format(str(p), what)
    if kind == "npy":
        if obs_key is not None:
            raise ConfigError(f"{what} {str(p)!r}: a .npy file has no column to split by "
                              f"obs_key={obs_key!r}; give each cloud its own file")  # fmt: skip
        points = _read_npy(p, what)
    elif kind == "csv":
        points = _read_csv(p, what, obs_key, value, columns)
    else:
        points = _read_h5ad(p, what, embedding, obs_key, value)
    return _checked(points, what, str(p))


def _checked(points: np.ndarray, what: str, path: str) -> np.ndarray:
    points = np.asarray(points)
    if points.dtype.kind not in "biuf":
        raise DataError(f"{what} {path!r}: coordinates must be numbers; got dtype {points.dtype}")
    points = points.astype(np.float64)
    if points.ndim != 2 or points.shape[0] < 1 or points.shape[1] < 1:
        raise DataError(f"{what} {path!r}: need a (n points, D) array with n, D >= 1; got shape "
                        f"{points.shape}")  # fmt: skip
    bad = np.flatnonzero(~np.isfinite(points).all(1))
    if bad.size:
        raise DataError(f"{what} {path!r}: {bad.size} row(s) hold NaN or inf (rows "
                        f"{bad[:10].tolist()}{' ...' if bad.size > 10 else ''}); drop or impute "
                        "them")  # fmt: skip
    return points


# ------------------------------------------------------------------------------------- loading
def _heldout_time(settings: PointCloudSettings) -> float:
    """The held-out time: the setting, or from numeric ``*_value`` (days, hours ...)."""
    if settings.heldout_time is not None:
        return float(settings.heldout_time)
    try:
        v0, v1, vh = (float(settings.value(r)) for r in ("source", "target", "heldout"))
    except (TypeError, ValueError):
        raise ConfigError("data.heldout_time: set the held-out cloud's time in (0, 1) on the "
                          "bridge (it follows from the values only when they are numbers)") from None
    t = (vh - v0) / (v1 - v0) if v1 != v0 else float("nan")
    if not 0.0 < t < 1.0:
        raise ConfigError(f"data.heldout_value={settings.heldout_value!r} is not between the "
                          f"source's {settings.source_value!r} and the target's "
                          f"{settings.target_value!r}; set data.heldout_time")  # fmt: skip
    return float(t)


def load_point_clouds(settings: PointCloudSettings, n_components: int = 1) -> PointClouds:
    """Read and check the clouds of ``settings``.

    Parameters
    ----------
    settings : PointCloudSettings
    n_components : int
        The K of the fit: the source and target need at least K points each.

    Returns
    -------
    PointClouds

    Raises
    ------
    DataError
        Any cloud unreadable or bad (:func:`read_points`), clouds of different dimensions, or a
        source or target with fewer points than components.
    ConfigError, UnknownNameError
        See :func:`read_points`; a held-out cloud without a time.
    """
    arrays: dict[str, np.ndarray] = {}
    inputs: dict[str, dict[str, Any]] = {}
    for role in ROLES:
        path = settings.file(role)
        if path is None:
            continue
        what = f"data.{role}"
        obs_key = settings.obs_key if not path.lower().endswith(".npy") else None
        arrays[role] = read_points(path, what=what, embedding=settings.embedding, obs_key=obs_key,
                                   value=settings.value(role), columns=settings.columns)  # fmt: skip
        p = pathlib.Path(path)
        inputs[role] = {"file": str(p.resolve()), "sha256": _sha256(p),
                        "format": _format(path, what), "n_points": int(arrays[role].shape[0]),
                        **({"obs_key": obs_key, "value": settings.value(role)} if obs_key else {}),
                        **({"embedding": settings.embedding} if p.suffix == ".h5ad" else {})}  # fmt: skip
    dim = arrays["source"].shape[1]
    for role, arr in arrays.items():
        if arr.shape[1] != dim:
            raise DataError(f"data.{role} {settings.file(role)!r} has dimension {arr.shape[1]} but "
                            f"data.source {settings.source!r} has {dim}; use the same embedding "
                            "for every cloud")  # fmt: skip
    for role in ("source", "target"):
        if arrays[role].shape[0] < n_components:
            raise DataError(f"data.{role} {settings.file(role)!r} has {arrays[role].shape[0]} "
                            f"point(s), fewer than n_components={n_components}; lower "
                            "n_components or add points")  # fmt: skip
    heldout = arrays.get("heldout")
    return PointClouds(arrays["source"], arrays["target"], heldout,
                       _heldout_time(settings) if heldout is not None else None, inputs)


# --------------------------------------------------------------------------------------- xarray
def samples_to_dataset(clouds: PointClouds) -> xr.Dataset:
    """The ``lightsb/user_samples`` dataset: the user's clouds with where they came from.

    Variables ``source`` (source_point, axis), ``target`` (target_point, axis) and, with a
    held-out cloud, ``heldout`` (heldout_point, axis); attrs ``heldout_time`` and per cloud
    ``<role>_file``, ``<role>_sha256``, ``<role>_format``, and the selection.

    Parameters
    ----------
    clouds : PointClouds

    Returns
    -------
    xarray.Dataset
    """
    data = {
        "source": (("source_point", "axis"), clouds.source, {"long_name": "source cloud (t = 0)"}),
        "target": (("target_point", "axis"), clouds.target, {"long_name": "target cloud (t = 1)"}),
    }
    attrs: dict[str, Any] = {"description": "A user's unpaired point clouds for LightSB"}
    if clouds.heldout is not None:
        data["heldout"] = (("heldout_point", "axis"), clouds.heldout,
                           {"long_name": "held-out cloud (t = heldout_time)"})  # fmt: skip
        attrs["heldout_time"] = float(clouds.heldout_time)
    for role, info in clouds.inputs.items():
        attrs.update({f"{role}_{k}": v for k, v in info.items() if v is not None})
    return xr.Dataset(data, coords={"axis": np.arange(clouds.dim)}, attrs=attrs)


def clouds_from_dataset(ds: xr.Dataset) -> PointClouds:
    """The clouds back from a ``lightsb/user_samples`` dataset (:func:`samples_to_dataset`).

    Parameters
    ----------
    ds : xarray.Dataset

    Returns
    -------
    PointClouds
    """
    heldout = np.asarray(ds["heldout"].values, np.float64) if "heldout" in ds else None
    time = float(ds.attrs["heldout_time"]) if heldout is not None else None
    inputs = {r: {k.removeprefix(f"{r}_"): v for k, v in ds.attrs.items()
                  if k.startswith(f"{r}_") and k != "heldout_time"}
              for r in ROLES if f"{r}_file" in ds.attrs}  # fmt: skip
    return PointClouds(np.asarray(ds["source"].values, np.float64),
                       np.asarray(ds["target"].values, np.float64), heldout, time, inputs)
