"""The model registry: immutable numbered versions of a workflow's trained weights, and a champion.

``<data dir>/models/<workflow>/v<N>/`` holds ``model.pt`` (a state dict, loaded with
``weights_only=True``) and ``meta.json`` (metrics, config, provenance); ``champion`` names the
version the default flows load.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sciml.catalog.entries import SAFE_PART
from sciml.catalog.provenance import provenance_attrs
from sciml.errors import CatalogError, ModelNotFoundError

__all__ = ["ModelRegistry"]


class ModelRegistry:
    """Trained models by workflow name, under ``root`` (a local directory).

    Parameters
    ----------
    root : the registry's directory (``<data dir>/models``).
    """

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def _dir(self, workflow: str) -> Path:
        parts = workflow.split("/")
        if not workflow or any(not SAFE_PART.match(p) or p in {".", ".."} for p in parts):
            raise CatalogError(f"model workflow name {workflow!r} is not a safe name")
        return self.root.joinpath(*parts)

    def versions(self, workflow: str) -> list[str]:
        """Existing versions of ``workflow``'s model, oldest first (``v1``, ``v2``, ...)."""
        root = self._dir(workflow)
        if not root.is_dir():
            return []
        found = [
            p.name
            for p in root.iterdir()
            if re.fullmatch(r"v\d+", p.name) and (p / "meta.json").is_file()
        ]
        return sorted(found, key=lambda v: int(v[1:]))

    def save(
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

        root = self._dir(workflow)
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
        pointer = self._dir(workflow) / "champion"
        return pointer.read_text().strip() if pointer.is_file() else None

    def promote(self, workflow: str, version: str) -> None:
        """Move ``workflow``'s champion pointer to ``version`` (atomic file replace)."""
        root = self._dir(workflow)
        if version not in self.versions(workflow):
            raise ModelNotFoundError(
                f"model {workflow!r} has no version {version!r}; known: {self.versions(workflow)}"
            )
        tmp = root / f".champion-{uuid.uuid4().hex[:12]}"
        tmp.write_text(version)
        os.replace(tmp, root / "champion")

    def info(self, workflow: str, version: str = "champion") -> dict[str, Any]:
        """Metadata (version, metrics, config, provenance) of a model version."""
        root = self._dir(workflow)
        resolved = self.champion(workflow) if version == "champion" else version
        if resolved is None:
            raise ModelNotFoundError(
                f"model {workflow!r} has no champion yet; train it first (versions: "
                f"{self.versions(workflow)})"
            )
        meta = root / resolved / "meta.json"
        if not meta.is_file():
            raise ModelNotFoundError(
                f"model {workflow!r} has no version {resolved!r}; known: {self.versions(workflow)}"
            )
        return json.loads(meta.read_text())

    def load(self, workflow: str, version: str = "champion") -> tuple[dict[str, Any], dict[str, Any]]:
        """A model's state dict (loaded with ``weights_only=True``) and its metadata."""
        import torch

        info = self.info(workflow, version)
        state = torch.load(
            self._dir(workflow) / info["version"] / "model.pt", weights_only=True, map_location="cpu"
        )
        return state, info
