"""Writing and reading zarr stores atomically, on a local disk and through fsspec.

On a local disk a dataset path is a symbolic link. A write fills a fresh sibling store under
``.versions/`` first and then swaps the link onto it with an atomic ``os.replace``: a reader sees
the old version or the new one, never a half-written store, and a killed writer leaves the old
version intact (its partial store is collected by the next write once the process is gone). On an
object store the new store is written under a temporary key and moved into place.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import uuid
from pathlib import Path

import numpy as np
import xarray as xr

__all__ = [
    "CHUNK_BYTES",
    "auto_chunks",
    "collect_orphans",
    "is_url",
    "prepare_for_zarr",
    "write_bytes",
    "write_local",
    "write_remote",
    "writer_tag",
]

CHUNK_BYTES = 16 * 2**20


def is_url(path: str) -> bool:
    """Whether ``path`` is an fsspec URL (``s3://...``) rather than a local path."""
    return "://" in path


def writer_tag() -> str:
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


def collect_orphans(versions: Path, name: str) -> list[Path]:
    """Delete the partial stores of writers of ``name`` that died mid-write (SIGKILL, power loss).

    A writer names its store ``<name>.<host>-<pid>-<uuid>`` under ``.versions``. A store that the
    dataset's link does not point to, written on this host by a process that no longer runs, can
    never become visible and is removed. Stores of live writers, of other hosts (a shared file
    system: their PIDs mean nothing here) and stores moved aside (``<name>.aside-*``) are kept.
    """
    live = (versions.parent / name).resolve() if (versions.parent / name).is_symlink() else None
    host = writer_tag().rsplit("-", 1)[0]
    pattern = re.compile(rf"^{re.escape(name)}\.{re.escape(host)}-(\d+)-[0-9a-f]{{12}}$")
    removed = []
    for entry in versions.iterdir():
        m = pattern.match(entry.name)
        if m is None or entry.resolve() == live or _pid_alive(int(m.group(1))):
            continue
        shutil.rmtree(entry, ignore_errors=True)
        removed.append(entry)
    return removed


def auto_chunks(var: xr.DataArray) -> tuple[int, ...]:
    """Chunks of about 16 MiB, split along the leading dims first (rows stay contiguous)."""
    shape = list(var.shape)
    itemsize = var.dtype.itemsize
    chunks = list(shape)
    for i in range(len(chunks)):
        size = int(np.prod(chunks)) * itemsize
        if size <= CHUNK_BYTES:
            break
        rest = int(np.prod(chunks[i + 1 :])) * itemsize
        chunks[i] = max(1, CHUNK_BYTES // max(rest, 1))
    return tuple(max(1, c) for c in chunks)


def prepare_for_zarr(ds: xr.Dataset) -> xr.Dataset:
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
            data = da.from_array(np.asarray(var.data), chunks=auto_chunks(var))
            out[name] = (var.dims, data, var.attrs)
    for var in out.variables.values():
        var.encoding = {}
        if var.dtype.kind in "biufc" and var.ndim > 0:
            var.encoding["compressors"] = [BloscCodec(cname="lz4", clevel=5, shuffle="shuffle")]
    return out


def write_local(path: Path, ds: xr.Dataset) -> None:
    """Write ``ds`` as the zarr store behind the link ``path``, swapped in atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    versions = path.parent / ".versions"
    versions.mkdir(exist_ok=True)
    collect_orphans(versions, path.name)
    target = versions / f"{path.name}.{writer_tag()}-{uuid.uuid4().hex[:12]}"
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


def write_remote(path: str, ds: xr.Dataset) -> None:
    """Write ``ds`` to the fsspec URL ``path`` under a temporary key, then move it into place."""
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


def write_bytes(path: str, data: bytes) -> None:
    """Write a small file (a figure) whole: a temporary sibling renamed into place on a local disk,
    one ``pipe`` (a single PUT) on an object store."""
    if is_url(path):
        import fsspec

        fs, key = fsspec.core.url_to_fs(path)
        fs.pipe_file(key, data)
        return
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.parent / f".{target.name}.tmp-{uuid.uuid4().hex[:12]}"
    try:
        tmp.write_bytes(data)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
