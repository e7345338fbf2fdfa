"""Provenance of everything the catalog stores: config, its hash, package version, revision, time.

Every dataset's ``attrs`` and every model version's metadata carry these keys, so a result can be
traced to the settings and the code that made it.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sciml import __version__

__all__ = ["config_hash", "git_revision", "provenance_attrs", "utc_now"]

_REPO_ROOT = Path(__file__).resolve().parents[2]


def config_hash(config_json: str) -> str:
    """Short stable hash (sha256, 16 hex digits) of a canonical JSON config string.

    >>> config_hash('{"seed": 0}')
    'de7d7744ccd7722e'
    """
    return hashlib.sha256(config_json.encode()).hexdigest()[:16]


def git_revision(root: str | Path = _REPO_ROOT) -> str | None:
    """The checkout's revision, ``-dirty`` appended when the work tree has uncommitted changes.

    ``None`` outside a git checkout (an installed package) or without git.
    """
    try:
        out = subprocess.run(
            ["git", "describe", "--always", "--dirty", "--abbrev=40"],
            cwd=root, capture_output=True, text=True, timeout=5,
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return None
    return (out.stdout.strip() or None) if out.returncode == 0 else None


def utc_now() -> str:
    """The current UTC time, ISO 8601 to the second."""
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


def provenance_attrs(config: Mapping[str, Any] | None = None, **extra: Any) -> dict[str, str]:
    """Provenance attributes: config JSON and hash, package version, git revision, UTC time.

    ``extra`` (e.g. ``flow_run_id``) is added as strings; ``None`` values are dropped.
    """
    cfg_json = json.dumps(config or {}, sort_keys=True, default=str)
    attrs = {
        "config": cfg_json,
        "config_hash": config_hash(cfg_json),
        "sciml_version": __version__,
        "git_revision": git_revision() or "unknown",
        "created_utc": utc_now(),
    }
    attrs.update({k: str(v) for k, v in extra.items() if v is not None})
    return attrs
