"""The versioned catalog: commit throughput, open latency and a retrain decision's overhead.

Measured in one run, alternating, best of ``repeats``:

- commit / read throughput of a 1 GiB float32 dataset on local disk, the versioned catalog
  (Icechunk) against the previous writer (a fresh zarr store and an atomic link swap, kept here
  as the baseline);
- the same for 256 MiB on a local S3 endpoint (moto server mode), against a plain zarr write
  through fsspec (the previous object-store writer's copy-and-delete move no longer runs with the
  pinned fsspec, so the plain write is its lower bound);
- open latency of the newest version and of an older version by id (median of 20; 8 MiB dataset);
- the overhead of one champion/challenger decision (save the challenger, load and re-score the
  champion with a no-op score, compare-and-swap, append the history row).

Targets: local commit and read >= 200 MB/s; the versioned commit within 0.8x of the previous
writer.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from contextlib import contextmanager
from pathlib import Path
from unittest import mock

import numpy as np
import xarray as xr

from benchmarks._common import header, write_fragment
from sciml.catalog import Catalog
from sciml.catalog.zarr_store import prepare_for_zarr

GIB = 2**30
CATALOG = (
    "datasets:\n"
    "  bench/array:\n    path: bench/array.zarr\n    description: throughput\n"
    "    producer: bench\n    dims: [function, t, x]\n    variables: [u]\n"
    "  bench/small:\n    path: bench/small.zarr\n    description: latency\n"
    "    producer: bench\n    dims: [function, t, x]\n    variables: [u]\n"
    "  bench/retrain_history:\n    path: bench/retrain_history.zarr\n    description: decisions\n"
    "    producer: bench\n    dims: [retrain]\n    variables: [promoted]\n"
)


def _field(size_bytes: int) -> xr.Dataset:
    """A smooth field with noise: realistic compressibility (neither constant nor white noise)."""
    n_t = n_x = 1024
    n_f = max(1, size_bytes // (4 * n_t * n_x))
    rng = np.random.default_rng(0)
    base = np.sin(np.linspace(0, 20, n_x, dtype=np.float32))[None, None, :]
    u = (base + 1e-3 * rng.standard_normal((n_f, n_t, n_x), dtype=np.float32)).astype(np.float32)
    return xr.Dataset({"u": (("function", "t", "x"), u)})


def _baseline_local(path: Path, ds: xr.Dataset) -> None:
    """The previous writer: a fresh sibling store, then an atomic symlink swap."""
    versions = path.parent / ".versions"
    versions.mkdir(parents=True, exist_ok=True)
    target = versions / f"{path.name}.{uuid.uuid4().hex[:12]}"
    prepare_for_zarr(ds).to_zarr(str(target), mode="w-", consolidated=False)
    old = path.resolve() if path.is_symlink() else None
    link = path.parent / f".{path.name}.link-{uuid.uuid4().hex[:12]}"
    os.symlink(os.path.relpath(target, path.parent), link)
    os.replace(link, path)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _baseline_s3(url: str, ds: xr.Dataset) -> None:
    import fsspec

    fs, root = fsspec.core.url_to_fs(url)
    prepare_for_zarr(ds).to_zarr(fs.get_mapper(root), mode="w", consolidated=False)


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


@contextmanager
def _moto():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            urllib.request.urlopen(url + "/moto-api/", timeout=1)
            break
        except OSError:
            time.sleep(0.2)
    aws = {"AWS_ENDPOINT_URL": url, "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
           "AWS_REGION": "us-east-1"}  # fmt: skip
    try:
        with mock.patch.dict(os.environ, aws):
            import boto3

            boto3.client("s3", endpoint_url=url, region_name="us-east-1").create_bucket(Bucket="bench")
            yield "s3://bench"
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def _throughput(cat: Catalog, ds: xr.Dataset, baseline, repeats: int) -> dict[str, float]:
    """Best-of-``repeats`` seconds of versioned commit, versioned read and baseline write."""
    u = ds.u.values
    commits, reads, base = [], [], []
    for _ in range(repeats):  # alternating, so both see the same machine state
        commits.append(_timed(lambda: cat.write("bench/array", ds)))
        base.append(_timed(lambda: baseline(ds)))
        start = time.perf_counter()
        back = cat.open("bench/array").u.values
        reads.append(time.perf_counter() - start)
        if back.shape != u.shape or not np.array_equal(back[-1], u[-1]):
            raise RuntimeError("round trip changed the data")
    return {"commit": min(commits), "read": min(reads), "baseline": min(base)}


def _latency(cat: Catalog, n: int = 20) -> dict[str, float]:
    small = _field(8 * 2**20)
    old = cat.write("bench/small", small)
    cat.write("bench/small", small + 1)
    latest = [_timed(lambda: cat.open("bench/small")) for _ in range(n)]
    by_version = [_timed(lambda: cat.open("bench/small", version=old)) for _ in range(n)]
    return {"latest": float(np.median(latest)), "version": float(np.median(by_version))}


def _decision_overhead(data_dir: str, cat_file: Path, n: int = 5) -> float:
    """Median seconds of one champion/challenger decision with a no-op score."""
    import torch

    os.environ["SCIML_CATALOG"], os.environ["SCIML_DATA_DIR"] = str(cat_file), data_dir
    from flows.common import champion_challenger
    from sciml.settings import Settings

    state = {"w": torch.zeros(256, 256)}  # 256 KiB of weights
    times = []
    for i in range(n):
        times.append(_timed(lambda i=i: champion_challenger(
            "bench", state, lambda sd: {"score": float(i % 2)}, Settings(), score="score",
            history="bench/retrain_history", data_versions={"bench/small": "V"})))  # fmt: skip
    return float(np.median(times))


def main(size_bytes: int = GIB, s3_bytes: int = GIB // 4, repeats: int = 3) -> str:
    tmp = Path(tempfile.mkdtemp(prefix="sciml-bench-catalog-", dir=os.environ.get("TMPDIR")))
    cat_file = tmp / "catalog.yaml"
    cat_file.write_text(CATALOG)
    try:
        with mock.patch.dict(os.environ):  # the decision overhead sets SCIML_CATALOG/SCIML_DATA_DIR
            local = Catalog.load(cat_file, data_dir=tmp / "data")
            ds = _field(size_bytes)
            mb = ds.u.nbytes / 1e6
            loc = _throughput(local, ds, lambda d: _baseline_local(tmp / "baseline" / "array.zarr", d),
                              repeats)  # fmt: skip
            loc_lat = _latency(local)
            loc_dec = _decision_overhead(str(tmp / "data"), cat_file)
            with _moto() as bucket:
                remote = Catalog.load(cat_file, data_dir=f"{bucket}/data")
                ds_s3 = _field(s3_bytes)
                mb_s3 = ds_s3.u.nbytes / 1e6
                s3 = _throughput(remote, ds_s3, lambda d: _baseline_s3(f"{bucket}/baseline.zarr", d),
                                 repeats)  # fmt: skip
                s3_lat = _latency(remote)
                s3_dec = _decision_overhead(f"{bucket}/data", cat_file)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    def rate(m: float, s: float) -> str:
        return f"{s:.2f} s = **{m / s:.0f} MB/s**"

    ratio = loc["baseline"] / loc["commit"]
    rows = [
        ("what", f"local disk ({mb:.0f} MB)", f"local S3 endpoint ({mb_s3:.0f} MB)", "target"),
        ("---", "---", "---", "---"),
        (f"versioned commit (best of {repeats})", rate(mb, loc["commit"]), rate(mb_s3, s3["commit"]),
         "local >= 200 MB/s: " + ("pass" if mb / loc["commit"] >= 200 else "MISS")),
        (f"previous writer (best of {repeats})", rate(mb, loc["baseline"]) + " (link swap)",
         rate(mb_s3, s3["baseline"]) + " (plain write, not atomic)", ""),
        ("commit speed / previous writer's", f"**{ratio:.2f}x**",
         f"{s3['baseline'] / s3['commit']:.2f}x", "local >= 0.8x: " + ("pass" if ratio >= 0.8 else "MISS")),
        (f"read newest (best of {repeats})", rate(mb, loc["read"]), rate(mb_s3, s3["read"]),
         "local >= 200 MB/s: " + ("pass" if mb / loc["read"] >= 200 else "MISS")),
        ("open newest, 8 MiB (median of 20)", f"{1e3 * loc_lat['latest']:.1f} ms",
         f"{1e3 * s3_lat['latest']:.1f} ms", ""),
        ("open an older version by id (median of 20)", f"{1e3 * loc_lat['version']:.1f} ms",
         f"{1e3 * s3_lat['version']:.1f} ms", ""),
        ("one champion/challenger decision, no-op score (median of 5)", f"{1e3 * loc_dec:.0f} ms",
         f"{1e3 * s3_dec:.0f} ms", ""),
    ]  # fmt: skip
    table = "\n".join("| " + " | ".join(r) + " |" for r in rows)
    text = (
        header("Versioned catalog: commit throughput, open latency, retrain decision")
        + f"""
{table}

Each commit is one Icechunk snapshot (chunks of about 16 MiB, Blosc-LZ4 with byte shuffle,
compressed in parallel by dask threads); reads are warm (OS page cache, moto's memory). The
decision overhead is the catalog's part of a retrain: saving a 256 KiB challenger, loading the
champion, the compare-and-swap and the history row (the re-scoring itself is the workflow's).
"""
    )
    write_fragment("catalog", text)
    return text


if __name__ == "__main__":
    main()
