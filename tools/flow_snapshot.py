"""Run workflows on a profile into a fresh data dir and dump every dataset they wrote, or compare two dumps.

Used to show that a refactor leaves the arrays unchanged (same config -> same arrays):

    python tools/flow_snapshot.py run OUT.npz [--profile tiny] [--workflows gpme-data probconserv ...]
    python tools/flow_snapshot.py compare BEFORE.npz AFTER.npz

``run`` writes one array per (dataset, variable or coordinate); provenance attrs (times, run ids,
revisions) are left out, and ``compare`` skips measured durations (variables named ``*_seconds``):
everything else must be bit-identical.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile

import numpy as np


def _run(out: str, profile: str, names: list[str]) -> int:
    data_dir = tempfile.mkdtemp(prefix="sciml-snapshot-")
    os.environ["SCIML_DATA_DIR"] = data_dir
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ["SCIML_PROGRESS_BAR"] = "0"
    import importlib

    import torch
    from prefect.testing.utilities import prefect_test_harness

    from sciml.catalog import Catalog

    torch.set_num_threads(1)
    with prefect_test_harness(server_startup_timeout=120):
        for name in names:  # only the named workflows' modules are imported
            wf = importlib.import_module(f"flows.{name.split('-')[0]}").WORKFLOW
            wf.flow(config=wf.config.for_profile(profile))
    cat = Catalog.load(data_dir=data_dir)
    arrays = {}
    for ds_name in cat.list():
        if not cat.exists(ds_name):
            continue
        ds = cat.open(ds_name).load()
        for key, var in ds.variables.items():
            values = var.values
            if values.dtype.kind in "OUT":  # labels: object or numpy StringDType -> fixed-width
                values = np.array(values.tolist(), dtype=str)
            arrays[f"{ds_name}::{key}"] = values
    np.savez(out, **arrays)
    print(f"{len(arrays)} arrays from {len({k.split('::')[0] for k in arrays})} datasets -> {out}")
    return 0


def _compare(before: str, after: str) -> int:
    a, b = np.load(before, allow_pickle=False), np.load(after, allow_pickle=False)
    bad = []
    for key in sorted(set(a.files) | set(b.files)):
        if key.endswith("_seconds"):  # wall-clock durations, never reproducible
            continue
        if key not in a.files or key not in b.files:
            bad.append(f"{key}: only in {'after' if key not in a.files else 'before'}")
            continue
        x, y = a[key], b[key]
        if x.shape != y.shape or x.dtype != y.dtype:
            bad.append(f"{key}: {x.shape} {x.dtype} vs {y.shape} {y.dtype}")
        elif not np.array_equal(x, y, equal_nan=x.dtype.kind in "fc"):
            diff = np.nanmax(np.abs(x - y)) if x.dtype.kind in "fc" else "labels differ"
            bad.append(f"{key}: values differ (max |diff| {diff})")
    print(f"{len(a.files)} arrays before, {len(b.files)} after; {len(bad)} differ")
    for line in bad:
        print("  " + line)
    return 1 if bad else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p_run = sub.add_parser("run")
    p_run.add_argument("out")
    p_run.add_argument("--profile", default="tiny")
    p_run.add_argument("--workflows", nargs="*", default=["gpme-data", "probconserv"])
    p_cmp = sub.add_parser("compare")
    p_cmp.add_argument("before")
    p_cmp.add_argument("after")
    args = parser.parse_args(argv)
    if args.command == "run":
        return _run(args.out, args.profile, args.workflows)
    return _compare(args.before, args.after)


if __name__ == "__main__":
    sys.exit(main())
