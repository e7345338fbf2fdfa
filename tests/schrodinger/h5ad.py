"""A small writer of AnnData ``.h5ad`` files after the AnnData on-disk specification (tests only).

Layout (anndata >= 0.8): root attrs ``encoding-type=anndata``; ``X`` a dense array or a
``csr_matrix`` group (``data``, ``indices``, ``indptr``, attr ``shape``); ``obs``/``var``
dataframes (attrs ``_index``, ``column-order``; string columns as ``categorical`` groups with
``codes`` and ``categories``, numeric ones as arrays); ``obsm`` a ``dict`` group of arrays.
"""

from __future__ import annotations

from collections.abc import Mapping

import h5py
import numpy as np
from scipy import sparse

_STR = h5py.string_dtype()


def _enc(node, kind: str, version: str) -> None:
    node.attrs["encoding-type"] = kind
    node.attrs["encoding-version"] = version


def _strings(group, name: str, values) -> None:
    ds = group.create_dataset(name, data=np.asarray([str(v) for v in values], dtype=object), dtype=_STR)
    _enc(ds, "string-array", "0.2.0")


def _dataframe(group, index, columns: Mapping[str, np.ndarray]) -> None:
    _enc(group, "dataframe", "0.2.0")
    group.attrs["_index"] = "_index"
    group.attrs["column-order"] = np.asarray(list(columns), dtype=object).astype(_STR) if columns \
        else np.zeros(0, dtype=_STR)
    _strings(group, "_index", index)
    for name, values in columns.items():
        values = np.asarray(values)
        if values.dtype.kind in "OUS":
            cats, codes = np.unique(values.astype(str), return_inverse=True)
            sub = group.create_group(name)
            _enc(sub, "categorical", "0.2.0")
            sub.attrs["ordered"] = False
            sub.create_dataset("codes", data=codes.astype(np.int8))
            _strings(sub, "categories", cats)
        else:
            ds = group.create_dataset(name, data=values)
            _enc(ds, "array", "0.2.0")


def write_h5ad(path, obsm: Mapping[str, np.ndarray], obs: Mapping[str, np.ndarray],
               x: np.ndarray | None = None, x_sparse: bool = False) -> None:
    """Write ``obsm`` embeddings, ``obs`` columns and a matrix ``X`` (zeros (n, 3) by default)."""
    n = next(iter(obsm.values())).shape[0]
    x = np.zeros((n, 3)) if x is None else np.asarray(x)
    with h5py.File(path, "w") as f:
        _enc(f, "anndata", "0.1.0")
        if x_sparse:
            csr = sparse.csr_matrix(x)
            g = f.create_group("X")
            _enc(g, "csr_matrix", "0.1.0")
            g.attrs["shape"] = np.asarray(csr.shape)
            g.create_dataset("data", data=csr.data)
            g.create_dataset("indices", data=csr.indices)
            g.create_dataset("indptr", data=csr.indptr)
        else:
            _enc(f.create_dataset("X", data=x), "array", "0.2.0")
        _dataframe(f.create_group("obs"), [f"cell{i}" for i in range(n)], obs)
        _dataframe(f.create_group("var"), [f"gene{j}" for j in range(x.shape[1])], {})
        g = f.create_group("obsm")
        _enc(g, "dict", "0.1.0")
        for key, value in obsm.items():
            _enc(g.create_dataset(key, data=np.asarray(value)), "array", "0.2.0")
        for name in ("uns", "varm", "obsp", "varp", "layers"):
            _enc(f.create_group(name), "dict", "0.1.0")
