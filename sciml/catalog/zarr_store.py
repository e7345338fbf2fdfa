"""Encoding datasets for zarr (chunks, codecs, strings) and writing small files whole.

Datasets are committed by :mod:`sciml.catalog.versioned_store`; figures (PNG files) are written
here: a temporary sibling renamed into place on a local disk, one PUT on an object store.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import numpy as np
import xarray as xr

__all__ = [
    "CHUNK_BYTES",
    "auto_chunks",
    "is_url",
    "prepare_for_zarr",
    "write_bytes",
]

CHUNK_BYTES = 16 * 2**20


def is_url(path: str) -> bool:
    """Whether ``path`` is an fsspec URL (``s3://...``) rather than a local path."""
    return "://" in path


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
