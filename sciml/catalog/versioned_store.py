"""Versioned, transactional zarr storage on Icechunk: one repository per catalog dataset.

Every write is one Icechunk commit on the branch ``main`` of the repository at the dataset's path
(a local directory or an ``s3://bucket/prefix`` URL). A commit is atomic on both: readers see the
previous snapshot or the new one, a writer killed mid-write leaves the previous snapshot as the
tip, and every earlier snapshot stays readable by id or by time. Two writers of one dataset never
mix: the later commit fails with a conflict and is redone from a fresh session (on an object store
Icechunk's conditional writes arbitrate; on a local disk a lock file per repository serialises
commits, because Icechunk's local storage does not arbitrate concurrent commits).

The measured comparison with the earlier symlink writer and the reasons for this layout are in
``docs/notes/catalog-storage-evaluation.md``.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import random
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import xarray as xr

from sciml.errors import ConflictError, DatasetNotFoundError, StoreUnreachableError

__all__ = [
    "BRANCH",
    "DatasetVersion",
    "commit",
    "expire",
    "history",
    "is_repository",
    "open_dataset",
    "repository",
    "resolve_version",
    "storage_for",
    "transaction",
]

BRANCH = "main"
COMMIT_RETRIES = 30


@dataclass(frozen=True)
class DatasetVersion:
    """One committed version of a dataset: its snapshot id, time, message and commit metadata."""

    id: str
    written_utc: datetime
    message: str
    metadata: dict[str, Any] = field(default_factory=dict)

    def as_row(self) -> dict[str, Any]:
        """A flat dict for tables: id, written_utc (ISO 8601), message and the metadata."""
        return {"version": self.id, "written_utc": self.written_utc.isoformat(timespec="seconds"),
                "message": self.message, **self.metadata}  # fmt: skip


def _s3_settings(url: str) -> dict[str, Any]:
    parsed = urlparse(url)
    endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
    settings: dict[str, Any] = {
        "bucket": parsed.netloc,
        "prefix": parsed.path.strip("/") or None,
        "region": os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1",
    }
    if endpoint:  # an S3-compatible endpoint (MinIO, Ceph, moto): path-style addressing
        settings |= {"endpoint_url": endpoint, "allow_http": endpoint.startswith("http://"),
                     "force_path_style": True}  # fmt: skip
    key, secret = os.environ.get("AWS_ACCESS_KEY_ID"), os.environ.get("AWS_SECRET_ACCESS_KEY")
    if key and secret:
        settings |= {"access_key_id": key, "secret_access_key": secret,
                     "session_token": os.environ.get("AWS_SESSION_TOKEN")}  # fmt: skip
    else:
        settings["from_env"] = True
    return settings


_QUIET = False


def _quiet() -> None:
    """Icechunk logs a warning on every local repository opened (its local storage does not
    arbitrate concurrent commits; the lock file here does). Keep its errors, drop that warning,
    unless the user set ``ICECHUNK_LOG`` themselves."""
    global _QUIET
    if not _QUIET and "ICECHUNK_LOG" not in os.environ:
        import icechunk

        icechunk.set_logs_filter("error")
    _QUIET = True


def storage_for(path: str) -> Any:
    """The Icechunk storage of ``path``: a local directory, or ``s3://bucket/prefix``.

    Object-store credentials and endpoint come from the standard AWS variables
    (``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``, ``AWS_REGION``, and ``AWS_ENDPOINT_URL`` for
    an S3-compatible service).
    """
    import icechunk

    _quiet()
    scheme = urlparse(path).scheme if "://" in path else ""
    if scheme == "":
        return icechunk.local_filesystem_storage(str(path))
    if scheme in {"s3", "s3a"}:
        settings = _s3_settings(path)
        if "endpoint_url" in settings:
            _check_reachable(settings["endpoint_url"], path)
        return icechunk.s3_storage(**settings)
    raise StoreUnreachableError(f"store {path!r}: only local paths and s3:// URLs are supported")


def _check_reachable(endpoint: str, path: str, timeout: float = 3.0) -> None:
    """Fail fast, naming the store, when an S3-compatible endpoint does not accept connections
    (the object-store client would otherwise retry for minutes)."""
    import socket

    parsed = urlparse(endpoint)
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        with socket.create_connection((parsed.hostname or "localhost", port), timeout=timeout):
            pass
    except OSError as exc:
        raise StoreUnreachableError(
            f"store {path!r} cannot be reached: endpoint {endpoint} refuses connections ({exc})"
        ) from exc


def _config() -> Any:
    import icechunk

    retries = int(os.environ.get("SCIML_STORE_RETRIES", "4"))
    return icechunk.RepositoryConfig(
        storage=icechunk.StorageSettings(
            retries=icechunk.StorageRetriesSettings(max_tries=retries, initial_backoff_ms=100,
                                                    max_backoff_ms=2000)  # fmt: skip
        )
    )


@contextlib.contextmanager
def _translated(path: str) -> Iterator[None]:
    """Icechunk's errors as the catalog's: unreachable stores name the URL."""
    import icechunk

    try:
        yield
    except icechunk.ConflictError:
        raise
    except (icechunk.IcechunkError, OSError) as exc:
        text = str(exc)
        lowered = text.lower()
        if any(s in lowered for s in ("connect", "dispatch", "timed out", "timeout", "dns",
                                      "unreachable", "nosuchbucket", "no such bucket", "forbidden",
                                      "accessdenied", "credential")):  # fmt: skip
            first = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
            raise StoreUnreachableError(f"store {path!r} cannot be reached: {first}") from exc
        raise


def is_repository(path: str) -> bool:
    """Whether an Icechunk repository exists at ``path``."""
    import icechunk

    if "://" not in path and not Path(path).is_dir():
        return False
    with _translated(path):
        return bool(icechunk.Repository.exists(storage_for(path)))


def repository(path: str, create: bool = False) -> Any:
    """The repository at ``path``; with ``create``, made (and its parent directory) if missing.

    A plain zarr store or a link left at ``path`` by the earlier writer is moved aside to
    ``<path>.pre-versioning-<id>`` before the repository is created (kept, never deleted).
    """
    import icechunk

    with _translated(path):
        storage = storage_for(path)
        if icechunk.Repository.exists(storage):
            return icechunk.Repository.open(storage, config=_config())
        if not create:
            raise DatasetNotFoundError(f"no versioned store at {path!r}")
        with _commit_lock(path):  # one creator per local repository; S3: conditional create
            if icechunk.Repository.exists(storage):
                return icechunk.Repository.open(storage, config=_config())
            if "://" not in path:
                target = Path(path)
                if target.is_symlink() or target.exists():
                    aside = f"{target.name}.pre-versioning-{uuid.uuid4().hex[:8]}"
                    target.rename(target.with_name(aside))
                target.parent.mkdir(parents=True, exist_ok=True)
            try:
                return icechunk.Repository.create(storage, config=_config())
            except icechunk.IcechunkError:  # another writer created it first (object store)
                for _ in range(50):
                    if icechunk.Repository.exists(storage):
                        return icechunk.Repository.open(storage, config=_config())
                    time.sleep(0.1)
                raise


@contextlib.contextmanager
def _commit_lock(path: str) -> Iterator[None]:
    """Serialise commits to one local repository across processes (no-op on an object store)."""
    if "://" in path:
        yield
        return
    lock = Path(path).with_name(f".{Path(path).name}.lock")
    lock.parent.mkdir(parents=True, exist_ok=True)
    with lock.open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _jsonable(metadata: Mapping[str, Any]) -> dict[str, Any]:
    import json

    return json.loads(json.dumps(dict(metadata), default=str))


def transaction(
    path: str,
    write: Callable[[Any, Any], None],
    message: str,
    metadata: Mapping[str, Any] | None = None,
    retries: int = COMMIT_RETRIES,
    what: str = "",
) -> str:
    """Run ``write(store, repo)`` in a fresh writable session and commit it; returns the snapshot id.

    ``write`` fills the session's zarr store (it may read the store first: it sees the branch tip
    the session started from). If another writer commits first, the whole ``write`` is redone
    from a fresh session, up to ``retries`` times, then :class:`~sciml.errors.ConflictError`.
    Nothing is visible until the commit succeeds.
    """
    import icechunk

    label = what or path
    repo = repository(path, create=True)
    for attempt in range(retries):
        with _translated(path):
            session = repo.writable_session(BRANCH)
            write(session.store, repo)
            if not session.has_uncommitted_changes:
                return session.snapshot_id
            try:
                with _commit_lock(path):
                    return session.commit(message, metadata=_jsonable(metadata or {}))
            except icechunk.ConflictError:  # redo on the new tip, after a jittered back-off
                time.sleep(random.uniform(0, min(1.0, 0.01 * 2**attempt)))
                continue
    raise ConflictError(
        f"{label}: {retries} concurrent commits won over this write; it was not committed"
    )


def commit(
    path: str, ds: xr.Dataset, message: str, metadata: Mapping[str, Any] | None = None, what: str = ""
) -> str:
    """Write ``ds`` as the whole new content of the repository at ``path``; returns the snapshot id."""
    import dask

    def write(store: Any, _repo: Any) -> None:
        with dask.config.set(scheduler="threads"):  # inside a Dask worker too: the session is local
            ds.to_zarr(store, mode="w", consolidated=False)

    return transaction(path, write, message, metadata, what=what)


def _snapshots(repo: Any) -> list[Any]:
    """The branch's snapshots, newest first, without the repository's empty initial snapshot."""
    return [s for s in repo.ancestry(branch=BRANCH) if s.parent_id is not None]


def history(path: str) -> list[DatasetVersion]:
    """Every committed version of the repository at ``path``, newest first."""
    repo = repository(path)
    with _translated(path):
        return [
            DatasetVersion(s.id, s.written_at.astimezone(UTC), s.message, dict(s.metadata or {}))
            for s in _snapshots(repo)
        ]


def resolve_version(repo: Any, version: str, what: str) -> str:
    """The full snapshot id of ``version``: an id, or a unique prefix of one (at least 4 characters)."""
    ids = [s.id for s in _snapshots(repo)]
    if version in ids:
        return version
    matches = [i for i in ids if len(version) >= 4 and i.startswith(version)]
    if len(matches) == 1:
        return matches[0]
    shown = ", ".join(ids[:5]) + (" ..." if len(ids) > 5 else "")
    why = "is ambiguous" if matches else "is not one of its versions"
    raise DatasetNotFoundError(f"{what}: version {version!r} {why} (newest first: {shown})")


def open_dataset(
    path: str, version: str | None = None, as_of: datetime | None = None, what: str = ""
) -> tuple[xr.Dataset, str]:
    """Open a version of the dataset at ``path`` lazily; returns it and its snapshot id.

    ``version`` (a snapshot id or unique prefix) or ``as_of`` (the version current at that time;
    a naive datetime is UTC) select an earlier version; neither: the newest.
    """
    label = what or path
    repo = repository(path)
    with _translated(path):
        if version is not None and as_of is not None:
            raise DatasetNotFoundError(f"{label}: give a version or an as_of time, not both")
        if version is not None:
            session = repo.readonly_session(snapshot_id=resolve_version(repo, version, label))
        elif as_of is not None:
            when = as_of if as_of.tzinfo else as_of.replace(tzinfo=UTC)
            first = _snapshots(repo)[-1:] or [None]
            if first[0] is None or when < first[0].written_at:
                raise DatasetNotFoundError(f"{label}: no version was written at or before {when.isoformat()}")
            session = repo.readonly_session(branch=BRANCH, as_of=when)
        else:
            session = repo.readonly_session(branch=BRANCH)
        if session.snapshot_id == repo.lookup_branch(BRANCH) and not _snapshots(repo):
            raise DatasetNotFoundError(f"{label}: the store at {path!r} holds no committed version")
        return xr.open_zarr(session.store, chunks={}, consolidated=False), session.snapshot_id


#: garbage collection never deletes objects younger than this: a writer that has written chunks
#: but not yet committed them must find them at its commit (``garbage_collect(now)`` would not)
GC_GRACE = timedelta(days=1)


def expire(path: str, older_than: datetime) -> tuple[int, int]:
    """Drop the versions written before ``older_than`` from the history and delete the chunks only
    they used; the newest version is always kept. Returns (versions expired, objects deleted).

    Objects younger than :data:`GC_GRACE` are never deleted, whatever ``older_than`` says.
    """
    repo = repository(path)
    when = older_than if older_than.tzinfo else older_than.replace(tzinfo=UTC)
    with _translated(path), _commit_lock(path):
        before = len(_snapshots(repo))
        repo.expire_snapshots(older_than=when)
        expired = before - len(_snapshots(repo))
        cutoff = min(when, datetime.now(UTC) - GC_GRACE)
        summary = repo.garbage_collect(cutoff)
    deleted = sum(getattr(summary, k, 0) for k in ("chunks_deleted", "manifests_deleted",
                                                   "snapshots_deleted", "attributes_deleted",
                                                   "transaction_logs_deleted"))  # fmt: skip
    return expired, int(deleted)
