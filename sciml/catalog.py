"""The data catalog: dataset names -> zarr stores, validated, atomic, with provenance.

``data_catalog.yaml`` (in the spirit of Kedro's and Intake's catalogs) declares every dataset a
flow reads or writes: its ``path`` relative to the data directory (``SCIML_DATA_DIR``, default
``./data``) or an fsspec URL, a ``description``, the ``producer`` flow, and the ``dims`` and
``variables`` a store must hold. Only this module turns a name into a path.

Writes go to a fresh sibling store first; on a local disk the dataset path is a symbolic link that
is swapped onto the new store with an atomic ``os.replace``, so a reader sees the old version or the
new one, never a half-written store, and a killed writer leaves the old version intact (its partial
store is collected by the next write once the process is gone). Trained
models live in a small file-based registry (``models/<workflow>/v<N>``, a ``champion`` pointer).
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import json
import os
import re
import shutil
import subprocess
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr
import yaml

from sciml import __version__
from sciml.errors import CatalogError, DatasetNotFoundError, ModelNotFoundError, SchemaError

__all__ = ["Catalog", "CatalogEntry", "default_catalog_path", "provenance_attrs", "config_hash"]

_REPO_ROOT = Path(__file__).resolve().parents[1]
_SAFE_PART = re.compile(r"^[A-Za-z0-9_.\-]+$")
_ENTRY_KEYS = {
    "path",
    "description",
    "producer",
    "dims",
    "variables",
    "coords",
    "values",
    "versioning",
    "index_coords",
    "require_finite",
}
_CHUNK_BYTES = 16 * 2**20


def default_catalog_path() -> Path:
    """``$SCIML_CATALOG`` if set, else the project's ``data_catalog.yaml``."""
    env = os.environ.get("SCIML_CATALOG")
    return Path(env) if env else _REPO_ROOT / "data_catalog.yaml"


def config_hash(config_json: str) -> str:
    """Short stable hash (sha256, 16 hex digits) of a canonical JSON config string."""
    return hashlib.sha256(config_json.encode()).hexdigest()[:16]


def _git_revision() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=_REPO_ROOT, capture_output=True, text=True, timeout=5
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def provenance_attrs(config: Mapping[str, Any] | None = None, **extra: Any) -> dict[str, str]:
    """Provenance attributes: config JSON and hash, package version, git revision, UTC time.

    ``extra`` (e.g. ``flow_run_id``) is added as strings; ``None`` values are dropped.
    """
    cfg_json = json.dumps(config or {}, sort_keys=True, default=str)
    attrs = {
        "config": cfg_json,
        "config_hash": config_hash(cfg_json),
        "sciml_version": __version__,
        "git_revision": _git_revision() or "unknown",
        "created_utc": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
    }
    attrs.update({k: str(v) for k, v in extra.items() if v is not None})
    return attrs


@dataclass(frozen=True)
class CatalogEntry:
    """One dataset declaration of ``data_catalog.yaml`` (a template if its name holds ``{...}``)."""

    name: str
    path: str
    description: str
    producer: str
    dims: tuple[str, ...] = ()
    variables: tuple[str, ...] = ()
    coords: tuple[str, ...] = ()
    values: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    versioning: str = "overwrite"
    index_coords: tuple[str, ...] = ()
    require_finite: tuple[str, ...] = ()

    @property
    def placeholders(self) -> list[str]:
        return re.findall(r"{(\w+)}", self.name)

    def expand(self) -> list[str]:
        """Every concrete name of a template (over ``values``), or the name itself."""
        names = [self.name]
        for key in self.placeholders:
            names = [n.replace("{" + key + "}", v) for n in names for v in self.values.get(key, ())]
        return names

    def match(self, name: str) -> dict[str, str] | None:
        """The placeholder values if ``name`` is an instance of this entry, else ``None``."""
        if not self.placeholders:
            return {} if name == self.name else None
        pattern = re.escape(self.name)
        for key in self.placeholders:
            pattern = pattern.replace(re.escape("{" + key + "}"), f"(?P<{key}>[^/]+)")
        m = re.fullmatch(pattern, name)
        if m is None:
            return None
        parts = m.groupdict()
        for key, value in parts.items():
            allowed = self.values.get(key)
            if allowed and value not in allowed:
                return None
            if not _SAFE_PART.match(value) or value in {".", ".."}:
                raise CatalogError(
                    f"dataset name {name!r}: {key}={value!r} is not a safe name part"
                )
        return parts


def _as_tuple(entry_name: str, key: str, value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise CatalogError(
            f"catalog entry {entry_name!r}: {key!r} must be a list of strings; got {value!r}"
        )
    return tuple(value)


def _parse_entry(name: str, raw: Any) -> CatalogEntry:
    if not isinstance(raw, dict):
        raise CatalogError(f"catalog entry {name!r} must be a mapping; got {type(raw).__name__}")
    unknown = set(raw) - _ENTRY_KEYS
    if unknown:
        raise CatalogError(
            f"catalog entry {name!r} has unknown keys {sorted(unknown)}; allowed: {sorted(_ENTRY_KEYS)}"
        )
    for key in ("path", "description", "producer"):
        if not isinstance(raw.get(key), str) or not raw[key]:
            raise CatalogError(f"catalog entry {name!r} needs a non-empty string {key!r}")
    values = raw.get("values") or {}
    if not isinstance(values, dict):
        raise CatalogError(f"catalog entry {name!r}: 'values' must map placeholders to lists")
    entry = CatalogEntry(
        name=name,
        path=raw["path"],
        description=raw["description"],
        producer=raw["producer"],
        dims=_as_tuple(name, "dims", raw.get("dims")),
        variables=_as_tuple(name, "variables", raw.get("variables")),
        coords=_as_tuple(name, "coords", raw.get("coords")),
        values={k: _as_tuple(name, f"values.{k}", v) for k, v in values.items()},
        versioning=str(raw.get("versioning", "overwrite")),
        index_coords=_as_tuple(name, "index_coords", raw.get("index_coords")),
        require_finite=_as_tuple(name, "require_finite", raw.get("require_finite")),
    )
    if set(entry.placeholders) != set(re.findall(r"{(\w+)}", entry.path)):
        raise CatalogError(f"catalog entry {name!r}: name and path must use the same placeholders")
    if entry.versioning != "overwrite":
        raise CatalogError(
            f"catalog entry {name!r}: versioning {entry.versioning!r}; supported: 'overwrite'"
        )
    return entry


def _writer_tag() -> str:
    """``<host>-<pid>`` of this process: names a store being written, so leftovers can be traced."""
    host = re.sub(r"[^A-Za-z0-9]", "_", os.uname().nodename) or "host"
    return f"{host}-{os.getpid()}"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by another user
        return True
    return True


def _collect_orphans(versions: Path, name: str) -> list[Path]:
    """Delete the partial stores of writers of ``name`` that died mid-write (SIGKILL, power loss).

    A writer names its store ``<name>.<host>-<pid>-<uuid>`` under ``.versions``. A store that the
    dataset's link does not point to, written on this host by a process that no longer runs, can
    never become visible and is removed. Stores of live writers, of other hosts (a shared file
    system: their PIDs mean nothing here) and stores moved aside (``<name>.aside-*``) are kept.
    """
    live = (versions.parent / name).resolve() if (versions.parent / name).is_symlink() else None
    host = _writer_tag().rsplit("-", 1)[0]
    pattern = re.compile(rf"^{re.escape(name)}\.{re.escape(host)}-(\d+)-[0-9a-f]{{12}}$")
    removed = []
    for entry in versions.iterdir():
        m = pattern.match(entry.name)
        if m is None or entry.resolve() == live or _pid_alive(int(m.group(1))):
            continue
        shutil.rmtree(entry, ignore_errors=True)
        removed.append(entry)
    return removed


def _is_url(path: str) -> bool:
    return "://" in path


def _prepare_for_zarr(ds: xr.Dataset) -> xr.Dataset:
    """Strings as variable-length (zarr v3 'string'); numeric data in ~16 MiB chunks, compressed with
    Blosc-LZ4 + byte shuffle (fast both ways: the catalog is I/O-bound, not disk-bound)."""
    import dask.array as da
    from zarr.codecs import BloscCodec

    out = ds.copy()
    for name, var in list(out.variables.items()):
        if var.dtype.kind in "USO":
            out[name] = var.astype(object) if var.dtype.kind != "O" else var
    for name, var in list(out.data_vars.items()):
        if var.dtype.kind in "biufc" and var.ndim > 0 and var.chunks is None:
            data = da.from_array(np.asarray(var.data), chunks=_auto_chunks(var))
            out[name] = (var.dims, data, var.attrs)
    for var in out.variables.values():
        var.encoding = {}
        if var.dtype.kind in "biufc" and var.ndim > 0:
            var.encoding["compressors"] = [BloscCodec(cname="lz4", clevel=5, shuffle="shuffle")]
    return out


def _auto_chunks(var: xr.DataArray) -> tuple[int, ...]:
    """Chunks of about 16 MiB, split along the leading dims first (rows stay contiguous)."""
    shape = list(var.shape)
    itemsize = var.dtype.itemsize
    chunks = list(shape)
    for i in range(len(chunks)):
        size = int(np.prod(chunks)) * itemsize
        if size <= _CHUNK_BYTES:
            break
        rest = int(np.prod(chunks[i + 1 :])) * itemsize
        chunks[i] = max(1, _CHUNK_BYTES // max(rest, 1))
    return tuple(max(1, c) for c in chunks)


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
        self.data_dir = str(data_dir) if _is_url(str(data_dir)) else str(Path(data_dir).resolve())

    # ------------------------------------------------------------------ loading
    @classmethod
    def load(cls, path: str | Path | None = None, data_dir: str | Path | None = None) -> Catalog:
        """Read and validate a catalog file (default :func:`default_catalog_path`)."""
        p = Path(path) if path is not None else default_catalog_path()
        if not p.is_file():
            raise CatalogError(
                f"catalog file {str(p)!r} not found; set SCIML_CATALOG or pass path="
            )
        try:
            raw = yaml.safe_load(p.read_text())
        except yaml.YAMLError as exc:
            raise CatalogError(f"catalog file {str(p)!r} is not valid YAML: {exc}") from None
        if not isinstance(raw, dict) or not isinstance(raw.get("datasets"), dict):
            raise CatalogError(
                f"catalog file {str(p)!r} must be a mapping with a 'datasets' mapping"
            )
        entries = {name: _parse_entry(name, e) for name, e in raw["datasets"].items()}
        if data_dir is None:
            data_dir = os.environ.get("SCIML_DATA_DIR", "data")
        return cls(entries, data_dir, source=str(p))

    # ------------------------------------------------------------------ names
    def list(self) -> list[str]:
        """Every concrete dataset name (templates expanded), sorted."""
        return sorted(n for e in self.entries.values() for n in e.expand())

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
        if _is_url(rel):
            return rel
        if _is_url(self.data_dir):
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
        path = self.path(name)
        if _is_url(path):
            import fsspec

            fs, p = fsspec.core.url_to_fs(path)
            return fs.exists(p + "/zarr.json")
        return Path(path, "zarr.json").is_file()

    def open(self, name: str) -> xr.Dataset:
        """Open dataset ``name`` lazily (dask-backed) as an :class:`xarray.Dataset`."""
        entry, _ = self.entry(name)
        if not self.exists(name):
            raise DatasetNotFoundError(
                f"dataset {name!r} has not been written yet (expected at {self.path(name)!r}); "
                f"run the {entry.producer!r} flow: `sciml run {entry.producer}`"
            )
        ds = xr.open_zarr(self.path(name), chunks={}, consolidated=False)
        # zarr v3 strings come back as numpy StringDType, which some xarray reductions
        # (idxmin/idxmax over a labelled dim) do not handle yet: give labels as plain objects
        labels = {k: v.astype(object) for k, v in ds.coords.items() if v.dtype.kind == "T"}
        if labels:
            ds = ds.assign_coords(labels)
        for coord in entry.index_coords:
            if coord in ds.coords and coord not in ds.indexes:
                ds = ds.set_xindex(coord)
        return ds

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
        entry, _ = self.entry(name)
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

    def write(self, name: str, ds: xr.Dataset, provenance: Mapping[str, Any] | None = None) -> str:
        """Validate and write ``ds`` as dataset ``name``, atomically; returns the store path.

        ``provenance`` entries are added to ``attrs`` (see :func:`provenance_attrs`).
        """
        self.validate(name, ds)
        ds = ds.copy()
        ds.attrs.update({k: v for k, v in (provenance or {}).items()})
        ds.attrs.setdefault("created_utc", _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"))
        ds.attrs["catalog_name"] = name
        prepared = _prepare_for_zarr(ds)
        path = self.path(name)
        if _is_url(path):
            self._write_remote(path, prepared)
        else:
            self._write_local(Path(path), prepared)
        return path

    @staticmethod
    def _write_local(path: Path, ds: xr.Dataset) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        versions = path.parent / ".versions"
        versions.mkdir(exist_ok=True)
        _collect_orphans(versions, path.name)
        target = versions / f"{path.name}.{_writer_tag()}-{uuid.uuid4().hex[:12]}"
        try:
            ds.to_zarr(str(target), mode="w-", consolidated=False)
        except BaseException:
            shutil.rmtree(target, ignore_errors=True)
            raise
        old = path.resolve() if path.is_symlink() else None
        if path.exists() and not path.is_symlink():
            # a plain store from outside the catalog: move it aside, keep it recoverable
            shutil.move(str(path), str(versions / f"{path.name}.aside-{uuid.uuid4().hex[:12]}"))
        link_tmp = path.parent / f".{path.name}.link-{uuid.uuid4().hex[:12]}"
        os.symlink(os.path.relpath(target, path.parent), link_tmp)
        os.replace(link_tmp, path)  # atomic swap: readers see the old or the new store
        if old is not None and old != target.resolve():
            shutil.rmtree(old, ignore_errors=True)

    @staticmethod
    def _write_remote(path: str, ds: xr.Dataset) -> None:
        import fsspec

        fs, root = fsspec.core.url_to_fs(path)
        tmp = f"{root}.tmp-{uuid.uuid4().hex[:12]}"
        mapper = fs.get_mapper(tmp)
        try:
            ds.to_zarr(mapper, mode="w-", consolidated=False)
            if fs.exists(root):
                fs.rm(root, recursive=True)
            fs.mv(tmp, root, recursive=True)
        except BaseException:
            with contextlib.suppress(Exception):
                fs.rm(tmp, recursive=True)
            raise

    # ------------------------------------------------------------------ models
    def _models_root(self, workflow: str) -> Path:
        parts = workflow.split("/")
        if not workflow or any(not _SAFE_PART.match(p) or p in {".", ".."} for p in parts):
            raise CatalogError(f"model workflow name {workflow!r} is not a safe name")
        if _is_url(self.data_dir):
            raise CatalogError("the model registry needs a local data dir (SCIML_DATA_DIR)")
        return Path(self.data_dir, "models", *parts)

    def model_versions(self, workflow: str) -> list[str]:
        """Existing versions of ``workflow``'s model, oldest first (``v1``, ``v2``, ...)."""
        root = self._models_root(workflow)
        if not root.is_dir():
            return []
        found = [
            p.name
            for p in root.iterdir()
            if re.fullmatch(r"v\d+", p.name) and (p / "meta.json").is_file()
        ]
        return sorted(found, key=lambda v: int(v[1:]))

    def save_model(
        self,
        workflow: str,
        state_dict: Mapping[str, Any],
        metrics: Mapping[str, float],
        config: Mapping[str, Any] | None = None,
    ) -> str:
        """Save a new model version ``v<N>`` (state dict + metrics + config); returns ``"v<N>"``.

        The version directory is filled under a temporary name and renamed into place; a
        concurrent writer that takes the same number first makes this one move on to the next.
        """
        import torch

        root = self._models_root(workflow)
        root.mkdir(parents=True, exist_ok=True)
        staging = root / f".staging-{uuid.uuid4().hex[:12]}"
        staging.mkdir()
        try:
            torch.save(dict(state_dict), staging / "model.pt")
            meta = {
                **provenance_attrs(config),
                "workflow": workflow,
                "metrics": {k: float(v) for k, v in metrics.items()},
                "config": json.loads(json.dumps(config or {}, default=str)),
            }
            (staging / "meta.json").write_text(json.dumps(meta, indent=2, sort_keys=True))
            while True:
                existing = [
                    int(p.name[1:]) for p in root.iterdir() if re.fullmatch(r"v\d+", p.name)
                ]
                version = f"v{max(existing, default=0) + 1}"
                try:
                    os.rename(staging, root / version)  # fails if another writer took the number
                except OSError:
                    continue
                meta["version"] = version
                (root / version / "meta.json").write_text(
                    json.dumps(meta, indent=2, sort_keys=True)
                )
                return version
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    def champion(self, workflow: str) -> str | None:
        """The champion version of ``workflow``, or ``None`` when none was promoted."""
        pointer = self._models_root(workflow) / "champion"
        return pointer.read_text().strip() if pointer.is_file() else None

    def promote(self, workflow: str, version: str) -> None:
        """Move ``workflow``'s champion pointer to ``version`` (atomic file replace)."""
        root = self._models_root(workflow)
        if version not in self.model_versions(workflow):
            raise ModelNotFoundError(
                f"model {workflow!r} has no version {version!r}; known: {self.model_versions(workflow)}"
            )
        tmp = root / f".champion-{uuid.uuid4().hex[:12]}"
        tmp.write_text(version)
        os.replace(tmp, root / "champion")

    def model_info(self, workflow: str, version: str = "champion") -> dict[str, Any]:
        """Metadata (version, metrics, config, provenance) of a model version."""
        root = self._models_root(workflow)
        resolved = self.champion(workflow) if version == "champion" else version
        if resolved is None:
            raise ModelNotFoundError(
                f"model {workflow!r} has no champion yet; train it first (versions: "
                f"{self.model_versions(workflow)})"
            )
        meta = root / resolved / "meta.json"
        if not meta.is_file():
            raise ModelNotFoundError(
                f"model {workflow!r} has no version {resolved!r}; known: {self.model_versions(workflow)}"
            )
        return json.loads(meta.read_text())

    def load_model(
        self, workflow: str, version: str = "champion"
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """Load a model's state dict (``weights_only=True``) and its metadata."""
        import torch

        info = self.model_info(workflow, version)
        state = torch.load(
            self._models_root(workflow) / info["version"] / "model.pt",
            weights_only=True,
            map_location="cpu",
        )
        return state, info

    def __iter__(self) -> Iterator[str]:
        return iter(self.list())

    def __repr__(self) -> str:
        return f"Catalog({self.source!r}, data_dir={self.data_dir!r}, {len(self.list())} datasets)"
