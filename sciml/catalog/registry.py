"""The model registry: immutable numbered versions of a model's weights, and a champion alias.

Each model (``probconserv``, ``csib/california_housing``, ...) is one Icechunk repository at
``<data dir>/registry/<model>`` (a local directory or an object-store URL, like the datasets).
Version ``v<N>`` is a group holding the serialised state dict (``weights``, bytes loaded with
``torch.load(weights_only=True)``) and its metadata (metrics, config, provenance, the versions of
the datasets it was trained and scored on). A version is written once and never changed. The
``champion`` alias is an attribute of the root group, moved only by compare-and-swap
(:meth:`ModelRegistry.promote` with ``expected``): two retrains that promote at once cannot both
win, and neither can leave the alias on a half-written version, because saving a version and
moving the alias are separate atomic commits.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Mapping
from typing import Any

import numpy as np

from sciml.catalog import versioned_store
from sciml.catalog.entries import SAFE_PART
from sciml.catalog.provenance import provenance_attrs
from sciml.errors import CatalogError, ChampionMovedError, DatasetNotFoundError, ModelNotFoundError

__all__ = ["ModelRegistry", "NO_EXPECTATION"]

_VERSION = re.compile(r"v(\d+)")
WEIGHT_CHUNK = 8 * 2**20


class _NoExpectation:
    def __repr__(self) -> str:
        return "NO_EXPECTATION"


NO_EXPECTATION: Any = _NoExpectation()
"""``promote(..., expected=NO_EXPECTATION)`` moves the champion whatever it is now."""


def _open_root(store: Any, mode: str = "r") -> Any:
    import zarr

    return zarr.open_group(store, mode=mode, zarr_format=3)


def _version_names(root: Any) -> list[str]:
    names = [n for n in root.group_keys() if _VERSION.fullmatch(n)]
    return sorted(names, key=lambda v: int(v[1:]))


class ModelRegistry:
    """Trained models by name, one versioned repository each, under ``root``.

    Parameters
    ----------
    root : the registry's location (``<data dir>/registry``): a local directory or an fsspec URL.
    """

    def __init__(self, root: str) -> None:
        self.root = str(root).rstrip("/")

    def _path(self, model: str) -> str:
        parts = model.split("/")
        if not model or any(not SAFE_PART.match(p) or p in {".", ".."} for p in parts):
            raise CatalogError(f"model name {model!r} is not a safe name")
        return "/".join([self.root, *parts])

    def _read_root(self, model: str) -> Any | None:
        """The root group of ``model``'s newest snapshot, or ``None`` if it was never saved."""
        path = self._path(model)
        if not versioned_store.is_repository(path):
            return None
        try:
            repo = versioned_store.repository(path)
        except DatasetNotFoundError:
            return None
        session = repo.readonly_session(branch=versioned_store.BRANCH)
        try:
            return _open_root(session.store)
        except (FileNotFoundError, KeyError, ValueError):  # created, nothing committed yet
            return None

    def versions(self, model: str) -> list[str]:
        """Existing versions of ``model``, oldest first (``v1``, ``v2``, ...)."""
        root = self._read_root(model)
        return [] if root is None else _version_names(root)

    def save(
        self,
        model: str,
        state_dict: Mapping[str, Any],
        metrics: Mapping[str, float],
        config: Mapping[str, Any] | None = None,
        data_versions: Mapping[str, str] | None = None,
    ) -> str:
        """Save a new version ``v<N>`` (state dict + metrics + config); returns ``"v<N>"``.

        One commit; when another writer saves at the same time, this one is redone with the next
        number. A writer killed before its commit leaves no version behind.
        """
        import torch

        buffer = io.BytesIO()
        torch.save(dict(state_dict), buffer)
        weights = np.frombuffer(buffer.getvalue(), dtype=np.uint8)
        base = {
            **provenance_attrs(config),
            "workflow": model,
            "metrics": {k: float(v) for k, v in metrics.items()},
            "config": json.loads(json.dumps(config or {}, default=str)),
            "data_versions": dict(data_versions or {}),
        }
        saved: dict[str, str] = {}

        def write(store: Any, _repo: Any) -> None:
            root = _open_root(store, mode="a")
            names = _version_names(root)
            version = f"v{int(names[-1][1:]) + 1 if names else 1}"
            group = root.create_group(version)
            array = group.create_array(
                "weights", shape=weights.shape, dtype=np.uint8,
                chunks=(min(max(weights.size, 1), WEIGHT_CHUNK),),
            )  # fmt: skip
            array[:] = weights
            group.attrs["meta"] = json.dumps({**base, "version": version}, sort_keys=True)
            saved["version"] = version

        versioned_store.transaction(
            self._path(model), write, message=f"save {model} model", metadata={"model": model},
            what=f"model {model!r}",
        )  # fmt: skip
        return saved["version"]

    def champion(self, model: str) -> str | None:
        """The champion version of ``model``, or ``None`` when none was promoted."""
        root = self._read_root(model)
        return None if root is None else root.attrs.get("champion")

    def promote(self, model: str, version: str, expected: Any = NO_EXPECTATION) -> None:
        """Move ``model``'s champion alias to ``version``, atomically.

        With ``expected`` (a version, or ``None`` for "no champion yet") the move is a
        compare-and-swap: it happens only if the champion is still ``expected`` when the commit
        lands, else :class:`~sciml.errors.ChampionMovedError` (the caller re-compares against the
        new champion).
        """
        if version not in self.versions(model):
            raise ModelNotFoundError(
                f"model {model!r} has no version {version!r}; known: {self.versions(model)}"
            )

        def write(store: Any, _repo: Any) -> None:
            root = _open_root(store, mode="a")
            current = root.attrs.get("champion")
            if expected is not NO_EXPECTATION and current != expected:
                raise ChampionMovedError(
                    f"champion of {model!r} is {current!r}, not the expected {expected!r}"
                )
            if current != version:
                root.attrs["champion"] = version

        versioned_store.transaction(
            self._path(model), write, message=f"promote {model} {version}",
            metadata={"model": model, "champion": version}, what=f"model {model!r}",
        )  # fmt: skip

    def info(self, model: str, version: str = "champion") -> dict[str, Any]:
        """Metadata (version, metrics, config, provenance, data versions) of a model version."""
        root = self._read_root(model)
        known = [] if root is None else _version_names(root)
        champion = None if root is None else root.attrs.get("champion")
        resolved = champion if version == "champion" else version
        if resolved is None:
            raise ModelNotFoundError(
                f"model {model!r} has no champion yet; train it first (versions: {known})"
            )
        if resolved not in known:
            raise ModelNotFoundError(f"model {model!r} has no version {resolved!r}; known: {known}")
        return json.loads(root[resolved].attrs["meta"])

    def load(self, model: str, version: str = "champion") -> tuple[dict[str, Any], dict[str, Any]]:
        """A model's state dict (loaded with ``weights_only=True``) and its metadata."""
        import torch

        info = self.info(model, version)
        root = self._read_root(model)
        raw = np.asarray(root[info["version"]]["weights"][:], dtype=np.uint8).tobytes()
        state = torch.load(io.BytesIO(raw), weights_only=True, map_location="cpu")
        return state, info
