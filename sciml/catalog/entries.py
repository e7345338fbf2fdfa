"""The entries of ``data_catalog.yaml``: one declaration per dataset or figure, parsed and checked.

An entry names a store ``path`` (relative to the data directory, or an fsspec URL), a
``description``, the ``producer`` flow, and for datasets the ``dims``, ``variables`` and ``coords``
a store must hold. Names may be templates (``gpme/{problem}/test``) expanded over ``values``.
``kind: figure`` declares PNG figures a flow writes (``cat.write_figure``); ``kind: raw`` declares an
input file read as it is (a shipped CSV, say), with the ``sha256`` its bytes must have; its path
may name a file inside an installed package, ``package://<package>/<path>``. A dataset entry may
name a ``validator``, ``package.module:function`` taking and returning the Dataset, that checks
what the schema cannot (the layout of a user's recordings, say) before every write.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from sciml.errors import CatalogError

__all__ = ["CatalogEntry", "SAFE_PART", "load_entries", "parse_entry"]

SAFE_PART = re.compile(r"^[A-Za-z0-9_.=\-]+$")
_KINDS = ("dataset", "figure", "raw")
_ENTRY_KEYS = {
    "path",
    "description",
    "producer",
    "kind",
    "dims",
    "variables",
    "coords",
    "values",
    "versioning",
    "index_coords",
    "require_finite",
    "sha256",
    "validator",
    "importer",
}


@dataclass(frozen=True)
class CatalogEntry:
    """One declaration of ``data_catalog.yaml`` (a template if its name holds ``{...}``)."""

    name: str
    path: str
    description: str
    producer: str
    kind: str = "dataset"
    dims: tuple[str, ...] = ()
    variables: tuple[str, ...] = ()
    coords: tuple[str, ...] = ()
    values: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    versioning: str = "history"
    index_coords: tuple[str, ...] = ()
    require_finite: tuple[str, ...] = ()
    sha256: str | None = None
    validator: str | None = None
    importer: str | None = None

    @property
    def placeholders(self) -> list[str]:
        return re.findall(r"{(\w+)}", self.name)

    def expand(self) -> list[str]:
        """Every concrete name of a template (over ``values``), or the name itself.

        A placeholder without declared values (a figure's name, say) expands to nothing.
        """
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
            if not SAFE_PART.match(value) or value in {".", ".."}:
                raise CatalogError(
                    f"dataset name {name!r}: {key}={value!r} is not a safe name part "
                    "(letters, digits, '_', '.', '=', '-')"
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


def parse_entry(name: str, raw: Any) -> CatalogEntry:
    """Check one raw YAML entry and build its :class:`CatalogEntry`."""
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
        kind=str(raw.get("kind", "dataset")),
        dims=_as_tuple(name, "dims", raw.get("dims")),
        variables=_as_tuple(name, "variables", raw.get("variables")),
        coords=_as_tuple(name, "coords", raw.get("coords")),
        values={k: _as_tuple(name, f"values.{k}", v) for k, v in values.items()},
        versioning=str(raw.get("versioning", "history")),
        index_coords=_as_tuple(name, "index_coords", raw.get("index_coords")),
        require_finite=_as_tuple(name, "require_finite", raw.get("require_finite")),
        sha256=raw.get("sha256"),
        validator=raw.get("validator"),
        importer=raw.get("importer"),
    )
    if set(entry.placeholders) != set(re.findall(r"{(\w+)}", entry.path)):
        raise CatalogError(f"catalog entry {name!r}: name and path must use the same placeholders")
    if entry.kind not in _KINDS:
        raise CatalogError(f"catalog entry {name!r}: kind {entry.kind!r}; supported: {list(_KINDS)}")
    if entry.kind == "figure" and not entry.path.endswith(".png"):
        raise CatalogError(f"catalog entry {name!r}: a figure's path must end in .png; got {entry.path!r}")
    if entry.kind == "raw" and not (
        isinstance(entry.sha256, str) and re.fullmatch(r"[0-9a-f]{64}", entry.sha256)
    ):
        raise CatalogError(
            f"catalog entry {name!r}: a raw input needs its 'sha256' (64 hex digits); got {entry.sha256!r}"
        )
    if entry.kind != "raw" and entry.sha256 is not None:
        raise CatalogError(f"catalog entry {name!r}: 'sha256' is for raw inputs (kind: raw) only")
    for key in ("validator", "importer"):
        value = getattr(entry, key)
        if value is not None and not (isinstance(value, str) and re.fullmatch(r"[\w.]+:\w+", value)):
            raise CatalogError(
                f"catalog entry {name!r}: {key} must be 'package.module:function'; got {value!r}"
            )
    if entry.versioning != "history":
        raise CatalogError(
            f"catalog entry {name!r}: versioning {entry.versioning!r}; supported: 'history' "
            "(every write a new version, every version kept)"
        )
    return entry


def load_entries(path: str | Path) -> dict[str, CatalogEntry]:
    """Read and check every entry of the catalog file ``path``."""
    p = Path(path)
    if not p.is_file():
        raise CatalogError(f"catalog file {str(p)!r} not found; set SCIML_CATALOG or pass path=")
    try:
        raw = yaml.safe_load(p.read_text())
    except yaml.YAMLError as exc:
        raise CatalogError(f"catalog file {str(p)!r} is not valid YAML: {exc}") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("datasets"), dict):
        raise CatalogError(f"catalog file {str(p)!r} must be a mapping with a 'datasets' mapping")
    return {name: parse_entry(name, e) for name, e in raw["datasets"].items()}
