"""The dataset catalog: names of ``data_catalog.yaml`` -> zarr stores, validated, with provenance.

Only this package turns a name into a path. :class:`Catalog` reads and writes datasets by name
(:mod:`sciml.catalog.zarr_store` does the atomic I/O), writes the figures the catalog declares, and
gives access to the model registry (:class:`~sciml.catalog.registry.ModelRegistry`).
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.resources
import io
import os
from collections.abc import Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from sciml.catalog import events, versioned_store
from sciml.catalog.entries import CatalogEntry, load_entries
from sciml.catalog.provenance import utc_now
from sciml.catalog.registry import NO_EXPECTATION, ModelRegistry
from sciml.catalog.zarr_store import is_url, prepare_for_zarr, write_bytes
from sciml.errors import CatalogError, DatasetNotFoundError, SchemaError, SciMLError

__all__ = ["Catalog", "default_catalog_path"]

_REPO_ROOT = Path(__file__).resolve().parents[2]
_PACKAGE = "package://"


def default_catalog_path() -> Path:
    """``$SCIML_CATALOG`` if set, else the project's ``data_catalog.yaml``."""
    env = os.environ.get("SCIML_CATALOG")
    return Path(env) if env else _REPO_ROOT / "data_catalog.yaml"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


_METADATA_KEYS = ("config_hash", "flow_run_id", "git_revision", "package_version", "producer_config",
                  "created_utc", "imported_from", "imported_sha256")


def _function(spec: str) -> Any:
    """The function named by ``package.module:function``."""
    module, _, function = spec.partition(":")
    return getattr(importlib.import_module(module), function)


def _legacy_store(path: str) -> bool:
    """A plain zarr store (or a link to one) written before the catalog kept versions."""
    return not is_url(path) and Path(path, "zarr.json").is_file()


def _message(name: str, ds: xr.Dataset) -> str:
    source = ds.attrs.get("imported_from")
    return f"import {name} from {source}" if source else f"write {name}"


def _commit_metadata(ds: xr.Dataset) -> dict[str, str]:
    """The provenance attrs that identify a version, as the commit's metadata."""
    return {k: str(ds.attrs[k]) for k in _METADATA_KEYS if k in ds.attrs}


def _same_content(stored: xr.Dataset, new: xr.Dataset) -> bool:
    """Whether ``new`` holds the same variables, coordinates and values as ``stored`` (attrs aside)."""
    if set(stored.variables) != set(new.variables) or dict(stored.sizes) != dict(new.sizes):
        return False
    for key, var in new.variables.items():
        old = stored[key].variable
        if old.dims != var.dims:
            return False
        a, b = np.asarray(old.values), np.asarray(var.values)
        if a.dtype.kind in "OUST" or b.dtype.kind in "OUST":
            if a.astype(str).tolist() != b.astype(str).tolist():
                return False
        elif not np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"):
            return False
    return True


def _as_datetime(when: datetime | str, name: str) -> datetime:
    if isinstance(when, datetime):
        return when
    try:
        return datetime.fromisoformat(str(when))
    except ValueError:
        raise DatasetNotFoundError(
            f"dataset {name!r}: as_of {when!r} is not an ISO 8601 time (e.g. 2026-12-01T02:00)"
        ) from None


class Catalog:
    """Datasets and models of sciml-flows, by name.

    Parameters
    ----------
    entries : the parsed catalog entries.
    data_dir : root of every relative path (a local directory or an fsspec URL).
    source : the catalog file (for messages).
    """

    def __init__(
        self, entries: dict[str, CatalogEntry], data_dir: str | Path, source: str = ""
    ) -> None:
        self.entries = entries
        self.source = source
        self.data_dir = str(data_dir) if is_url(str(data_dir)) else str(Path(data_dir).resolve())

    # ------------------------------------------------------------------ loading
    @classmethod
    def load(cls, path: str | Path | None = None, data_dir: str | Path | None = None) -> Catalog:
        """Read and validate a catalog file (default :func:`default_catalog_path`)."""
        p = Path(path) if path is not None else default_catalog_path()
        entries = load_entries(p)
        if data_dir is None:
            data_dir = os.environ.get("SCIML_DATA_DIR", "data")
        return cls(entries, data_dir, source=str(p))

    # ------------------------------------------------------------------ names
    def list(self) -> list[str]:
        """Every concrete dataset name (templates expanded), sorted; figures are not listed."""
        return sorted(n for e in self.entries.values() if e.kind == "dataset" for n in e.expand())

    def entry(self, name: str) -> tuple[CatalogEntry, dict[str, str]]:
        """The entry declaring ``name`` and its placeholder values."""
        if not isinstance(name, str) or not name:
            raise DatasetNotFoundError(f"dataset name must be a non-empty string; got {name!r}")
        for entry in self.entries.values():
            parts = entry.match(name)
            if parts is not None:
                return entry, parts
        import difflib

        known = self.list()
        close = difflib.get_close_matches(name, known, n=3, cutoff=0.5)
        hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
        raise DatasetNotFoundError(
            f"dataset {name!r} not in catalog {self.source!r}{hint} (known: {', '.join(known)})"
        )

    def path(self, name: str) -> str:
        """Resolved store path (local absolute path or URL) of dataset ``name``."""
        entry, parts = self.entry(name)
        rel = entry.path.format(**parts)
        return self._resolve(rel, what=f"dataset {name!r}")

    def _resolve(self, rel: str, what: str) -> str:
        if is_url(rel):
            return rel
        if is_url(self.data_dir):
            if rel.startswith("/") or ".." in Path(rel).parts:
                raise CatalogError(f"{what}: path {rel!r} escapes the data dir {self.data_dir!r}")
            return self.data_dir.rstrip("/") + "/" + rel
        root = Path(self.data_dir)
        full = (root / rel).resolve() if not Path(rel).is_absolute() else Path(rel).resolve()
        if not full.is_relative_to(root):
            raise CatalogError(
                f"{what}: path {rel!r} escapes the data dir {str(root)!r}; use a path inside it"
            )
        return str(root / rel)

    # ------------------------------------------------------------------ reading
    def exists(self, name: str) -> bool:
        """Whether dataset ``name`` has at least one committed version."""
        path = self.path(name)
        return versioned_store.is_repository(path) or _legacy_store(path)

    def _dataset_entry(self, name: str) -> CatalogEntry:
        entry, _ = self.entry(name)
        if entry.kind != "dataset":
            raise CatalogError(f"{name!r} is a {entry.kind} entry, not a dataset")
        return entry

    def open(
        self, name: str, version: str | None = None, as_of: datetime | str | None = None
    ) -> xr.Dataset:
        """Open dataset ``name`` lazily (dask-backed) as an :class:`xarray.Dataset`.

        Parameters
        ----------
        name : str
            A dataset name of the catalog.
        version : str, optional
            A version id from :meth:`history` (or a unique prefix of one); default the newest.
        as_of : datetime or str, optional
            The version that was newest at this time (ISO 8601 string; naive times are UTC),
            e.g. "what did csib/metrics say before last night's retrain".

        Returns
        -------
        xarray.Dataset
            The version, lazily loaded; its id is in ``ds.attrs["catalog_version"]``.
        """
        entry = self._dataset_entry(name)
        path = self.path(name)
        if not self.exists(name):
            raise DatasetNotFoundError(
                f"dataset {name!r} has not been written yet (expected at {path!r}); "
                f"run the {entry.producer!r} flow: `sciml run {entry.producer}`"
            )
        if not versioned_store.is_repository(path):  # written before versioning: one version
            if version is not None or as_of is not None:
                raise DatasetNotFoundError(
                    f"dataset {name!r} was written before the catalog kept versions; "
                    "it has no history (rewrite it with its flow)"
                )
            ds, snapshot = xr.open_zarr(path, chunks={}, consolidated=False), "unversioned"
        else:
            when = _as_datetime(as_of, name) if as_of is not None else None
            ds, snapshot = versioned_store.open_dataset(path, version, when, what=f"dataset {name!r}")
        # zarr v3 strings come back as numpy StringDType, which some xarray operations
        # (idxmin/idxmax over a labelled dim, where with a NaN fill) do not handle yet: plain objects
        labels = {k: v.astype(object) for k, v in ds.coords.items() if v.dtype.kind == "T"}
        if labels:
            ds = ds.assign_coords(labels)
        texts = {k: v.astype(object) for k, v in ds.data_vars.items() if v.dtype.kind == "T"}
        if texts:
            ds = ds.assign(texts)
        for coord in entry.index_coords:
            if coord in ds.coords and coord not in ds.indexes:
                ds = ds.set_xindex(coord)
        ds.attrs["catalog_version"] = snapshot
        return ds

    def version(self, name: str) -> str:
        """The id of the newest version of dataset ``name``."""
        self._dataset_entry(name)
        history = self.history(name)
        if not history:
            return "unversioned"
        return history[0].id

    def history(self, name: str) -> list[versioned_store.DatasetVersion]:
        """Every version of dataset ``name``, newest first (id, time, message, provenance).

        Raises
        ------
        DatasetNotFoundError
            If the dataset has never been written.
        """
        entry = self._dataset_entry(name)
        path = self.path(name)
        if not self.exists(name):
            raise DatasetNotFoundError(
                f"dataset {name!r} has not been written yet; run `sciml run {entry.producer}`"
            )
        if not versioned_store.is_repository(path):
            return []
        return versioned_store.history(path)

    def expire(self, name: str, older_than: datetime | str) -> tuple[int, int]:
        """Forget the versions of ``name`` written before ``older_than`` and free their storage
        (objects younger than a day are always kept); returns (versions expired, objects deleted).
        """
        self._dataset_entry(name)
        path = self.path(name)
        if not versioned_store.is_repository(path):
            return 0, 0
        return versioned_store.expire(path, _as_datetime(older_than, name))

    def raw_path(self, name: str) -> Path:
        """The local path of the raw input ``name`` (``kind: raw``), its sha256 verified.

        ``package://<package>/<path>`` paths resolve inside the installed package.

        Raises
        ------
        DatasetNotFoundError
            If the file does not exist.
        SchemaError
            If its bytes do not have the declared sha256 (a corrupt or modified copy).
        """
        entry, parts = self.entry(name)
        if entry.kind != "raw":
            raise CatalogError(f"{name!r} is a {entry.kind} entry, not a raw input")
        rel = entry.path.format(**parts)
        if rel.startswith(_PACKAGE):
            package, _, inner = rel.removeprefix(_PACKAGE).partition("/")
            path = Path(str(importlib.resources.files(package).joinpath(inner)))
        elif is_url(rel) or is_url(self.data_dir):
            raise CatalogError(f"raw input {name!r}: {rel!r} must be a local or package:// path")
        else:
            path = Path(self._resolve(rel, what=f"raw input {name!r}"))
        if not path.is_file():
            raise DatasetNotFoundError(f"raw input {name!r}: file {str(path)!r} does not exist")
        digest = _sha256(path)
        if digest != entry.sha256:
            raise SchemaError(
                f"raw input {name!r} ({path.name}): sha256 {digest} differs from the "
                f"catalog's {entry.sha256}; the file is corrupt or modified, restore the original"
            )
        return path

    def describe(self, name: str) -> dict[str, Any]:
        """Entry facts, and the stored dims/variables/attrs when the dataset exists."""
        entry, _ = self.entry(name)
        info: dict[str, Any] = {
            "name": name,
            "path": self.path(name),
            "description": entry.description,
            "producer": entry.producer,
            "required_dims": list(entry.dims),
            "required_variables": list(entry.variables),
            "written": self.exists(name),
        }
        if info["written"]:
            versions = self.history(name)
            info["versions"] = len(versions) or 1
            info["newest_version"] = versions[0].as_row() if versions else "unversioned"
            ds = self.open(name)
            info["dims"] = dict(ds.sizes)
            info["coords"] = {k: str(v.dtype) for k, v in ds.coords.items()}
            info["variables"] = {
                k: {
                    "dims": list(v.dims),
                    "dtype": str(v.dtype),
                    **{a: str(b) for a, b in v.attrs.items()},
                }
                for k, v in ds.data_vars.items()
            }
            info["attrs"] = {k: str(v) for k, v in ds.attrs.items()}
        return info

    # ------------------------------------------------------------------ writing
    def validate(self, name: str, ds: xr.Dataset) -> None:
        """Check ``ds`` against the entry of ``name``; raise :class:`SchemaError` naming what is off."""
        entry = self._dataset_entry(name)
        if not isinstance(ds, xr.Dataset):
            raise SchemaError(
                f"dataset {name!r}: expected an xarray.Dataset, got {type(ds).__name__}"
            )
        missing_dims = [d for d in entry.dims if d not in ds.dims]
        if missing_dims:
            raise SchemaError(
                f"dataset {name!r} lacks dims {missing_dims} required by the catalog; "
                f"it has {list(ds.dims)}"
            )
        missing_vars = [v for v in entry.variables if v not in ds.data_vars]
        if missing_vars:
            raise SchemaError(
                f"dataset {name!r} lacks variables {missing_vars} required by the catalog; "
                f"it has {list(ds.data_vars)}"
            )
        missing_coords = [c for c in entry.coords if c not in ds.coords]
        if missing_coords:
            raise SchemaError(
                f"dataset {name!r} lacks coords {missing_coords} required by the catalog"
            )
        for bad in ("method", "tolerance", "drop"):
            if bad in ds.dims:
                raise SchemaError(
                    f"dataset {name!r} has a dimension named {bad!r}, a keyword of .sel(); "
                    "rename it (compared approaches go on 'model')"
                )
        for var in entry.require_finite:
            if var in ds and not bool(np.isfinite(ds[var]).all()):
                raise SchemaError(f"dataset {name!r}: variable {var!r} holds NaN or inf values")

    def _checked(self, name: str, ds: xr.Dataset) -> xr.Dataset:
        """``ds`` through the schema and the entry's ``validator`` (which may fill in variables)."""
        self.validate(name, ds)
        entry = self._dataset_entry(name)
        if entry.validator is None:
            return ds
        check = _function(entry.validator)
        try:
            return check(ds)
        except SciMLError as exc:  # the same type, naming the dataset
            try:
                named = type(exc)(f"dataset {name!r}: {exc}")
            except TypeError:
                raise exc from None
            raise named from exc

    def write(
        self,
        name: str,
        ds: xr.Dataset,
        provenance: Mapping[str, Any] | None = None,
        skip_unchanged: bool = False,
    ) -> str:
        """Validate ``ds`` and commit it as the newest version of dataset ``name``; returns its id.

        The commit is atomic (a reader sees the previous version or this one) and every earlier
        version stays readable (:meth:`history`, :meth:`open` with ``version``/``as_of``).
        ``provenance`` entries are added to ``attrs`` (see :func:`provenance_attrs`) and recorded
        as the commit's metadata. With ``skip_unchanged``, a ``ds`` whose coordinates and data
        equal the newest version's commits nothing (and starts no retrain): that version's id is
        returned.
        """
        if skip_unchanged and self.exists(name):
            newest = self.open(name)
            if _same_content(newest, self._checked(name, ds)):
                return str(newest.attrs["catalog_version"])
        ds = self._prepared(name, ds, provenance)
        path = self.path(name)
        version = versioned_store.commit(
            path, ds, message=_message(name, ds), metadata=_commit_metadata(ds), what=f"dataset {name!r}"
        )
        self._published(name, version, path)
        return version

    def _prepared(self, name: str, ds: xr.Dataset, provenance: Mapping[str, Any] | None) -> xr.Dataset:
        ds = self._checked(name, ds).copy()
        ds.attrs.update({k: v for k, v in (provenance or {}).items()})
        if "created_utc" not in (provenance or {}):
            ds.attrs["created_utc"] = utc_now()
        ds.attrs["catalog_name"] = name
        ds.attrs.pop("catalog_version", None)
        return prepare_for_zarr(ds)

    def _published(self, name: str, version: str, path: str) -> None:
        entry = self._dataset_entry(name)
        events.publish(events.CommitEvent(name=name, version=version, path=path,
                                          producer=entry.producer, kind="dataset"))  # fmt: skip

    def append(
        self,
        name: str,
        rows: xr.Dataset,
        dim: str,
        provenance: Mapping[str, Any] | None = None,
    ) -> str:
        """Commit ``name``'s newest version with ``rows`` concatenated along ``dim``; returns its id.

        The first append creates the dataset. The read of the previous rows and the commit are one
        transaction: when another writer appends at the same time, this append is redone on top of
        the other's rows, so no row is lost.
        """
        import dask

        entry = self._dataset_entry(name)
        path = self.path(name)
        if dim not in rows.dims:
            raise SchemaError(f"dataset {name!r}: rows to append have no dim {dim!r}")
        rows = rows.drop_vars(dim, errors="ignore")

        def write(store: Any, _repo: Any) -> None:
            try:
                old = xr.open_zarr(store, consolidated=False).load()
            except (FileNotFoundError, KeyError, ValueError):
                old = None
            old = None if old is None or dim not in old.dims else old.drop_vars(dim, errors="ignore")
            new = rows if old is None else xr.concat(
                [old, rows], dim=dim, data_vars="all", coords="minimal", combine_attrs="override"
            )
            new = new.assign_coords({dim: np.arange(new.sizes[dim])})
            labels = {k: v.astype(object) for k, v in new.variables.items() if v.dtype.kind == "T"}
            new = new.assign(labels) if labels else new
            prepared = self._prepared(name, new, provenance)
            with dask.config.set(scheduler="threads"):
                prepared.to_zarr(store, mode="w", consolidated=False)

        version = versioned_store.transaction(
            path, write, message=f"append {rows.sizes[dim]} {dim} row(s) to {name}",
            metadata={"producer": entry.producer, **{k: str(v) for k, v in (provenance or {}).items()
                                                     if k in _METADATA_KEYS}},
            what=f"dataset {name!r}",
        )  # fmt: skip
        self._published(name, version, path)
        return version

    def import_file(self, name: str, source: str | Path) -> str:
        """Write a user's file (a zarr store, a netCDF ``.nc`` file, or a folder the entry's
        ``importer`` reads) as the newest version of dataset ``name``; returns the version id.

        The data go through the same checks as every write (the schema, then the entry's
        validator); the source path and sha256 (of a file) are recorded in the provenance attrs.

        Raises
        ------
        DatasetNotFoundError
            If ``source`` does not exist.
        SchemaError, DataError
            If it does not hold what the catalog entry requires.
        """
        src = Path(source)
        if not src.exists():
            raise DatasetNotFoundError(f"file {str(src)!r} to import as {name!r} does not exist")
        entry = self._dataset_entry(name)
        is_zarr = (src / "zarr.json").is_file() or (src / ".zgroup").is_file()
        if src.is_dir() and not is_zarr:
            if entry.importer is None:
                raise CatalogError(
                    f"{str(src)!r} is a folder but not a zarr store, and dataset {name!r} declares "
                    "no importer for folders; give a zarr store or a .nc file"
                )
            ds = _function(entry.importer)(src)
        elif src.suffix == ".nc":
            ds = xr.open_dataset(src).load()
        else:
            try:  # consolidated metadata where the store has it, else the plain zarr v3 store
                ds = xr.open_zarr(src, consolidated=True).load()
            except (ValueError, KeyError):
                ds = xr.open_zarr(src, consolidated=False).load()
        prov = {"imported_from": str(src.resolve()), "imported_utc": utc_now()}
        if src.is_file():
            prov["imported_sha256"] = _sha256(src)
        return self.write(name, ds, prov)

    def write_figure(self, name: str, fig: Any, dpi: int = 110) -> str:
        """Save the matplotlib figure ``fig`` as the catalog figure ``name`` (PNG); returns its path.

        ``name`` must match an entry of ``kind: figure`` (e.g. ``probconserv/figures/ce_vs_t``).
        The file appears whole or not at all (a temporary sibling renamed into place).
        """
        entry, _ = self.entry(name)
        if entry.kind != "figure":
            raise CatalogError(
                f"{name!r} is a dataset entry, not a figure; declare figures with kind: figure"
            )
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=dpi)
        path = self.path(name)
        write_bytes(path, buffer.getvalue())
        return path

    # ------------------------------------------------------------------ models
    @property
    def models(self) -> ModelRegistry:
        """The model registry under ``<data dir>/registry`` (a local directory or an object store)."""
        return ModelRegistry(self._resolve("registry", what="the model registry"))

    def model_versions(self, workflow: str) -> list[str]:
        """Existing versions of ``workflow``'s model, oldest first (:meth:`ModelRegistry.versions`)."""
        return self.models.versions(workflow)

    def save_model(
        self,
        workflow: str,
        state_dict: Mapping[str, Any],
        metrics: Mapping[str, float],
        config: Mapping[str, Any] | None = None,
        data_versions: Mapping[str, str] | None = None,
    ) -> str:
        """Save a new model version ``v<N>``; returns ``"v<N>"`` (:meth:`ModelRegistry.save`)."""
        return self.models.save(workflow, state_dict, metrics, config, data_versions)

    def champion(self, workflow: str) -> str | None:
        """The champion version of ``workflow``, or ``None`` (:meth:`ModelRegistry.champion`)."""
        return self.models.champion(workflow)

    def promote(self, workflow: str, version: str, expected: Any = NO_EXPECTATION) -> None:
        """Move ``workflow``'s champion to ``version``; with ``expected``, only if the champion is
        still that version (compare-and-swap, :meth:`ModelRegistry.promote`)."""
        self.models.promote(workflow, version, expected)

    def model_info(self, workflow: str, version: str = "champion") -> dict[str, Any]:
        """Metadata of a model version (:meth:`ModelRegistry.info`)."""
        return self.models.info(workflow, version)

    def load_model(
        self, workflow: str, version: str = "champion"
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """A model's state dict (``weights_only=True``) and metadata (:meth:`ModelRegistry.load`)."""
        return self.models.load(workflow, version)

    def __iter__(self) -> Iterator[str]:
        return iter(self.list())

    def __repr__(self) -> str:
        return f"Catalog({self.source!r}, data_dir={self.data_dir!r}, {len(self.list())} datasets)"
