"""Wall time and peak memory of every workflow's default (fast) flow, each in a fresh process.

Target: the whole default pipeline under 15 minutes and 4 GiB peak RSS on 2 cores.
"""

from __future__ import annotations

import os
import tempfile

from benchmarks._common import PY, header, run_measured, write_fragment
from sciml.catalog import Catalog


def main() -> str:
    rows = []
    data_dir = tempfile.mkdtemp(prefix="sciml-bench-pipeline-")
    env = dict(os.environ, SCIML_DATA_DIR=data_dir, SCIML_PROGRESS_BAR="0", PREFECT_LOGGING_LEVEL="WARNING")
    # every producer of the catalog, in its order (the pipeline's: gpme-data first)
    names = list(dict.fromkeys(e.producer for e in Catalog.load().entries.values()))
    for name in names:
        res = run_measured([PY, "-m", "sciml.cli", "run", name], env=env, timeout=1800)
        rows.append((name, res))
        print(f"{name}: {res}", flush=True)
    total = sum(r["seconds"] for _, r in rows)
    peak = max(r["peak_rss_mib"] for _, r in rows)
    ok = all(r["returncode"] == 0 for _, r in rows)
    lines = [
        header("Default pipeline (`make run`): wall time and peak memory per workflow"),
        "",
        "| workflow | wall time (s) | peak RSS (MiB) | exit |",
        "|---|---:|---:|---:|",
    ]
    lines += [f"| {n} | {r['seconds']:.1f} | {r['peak_rss_mib']:.0f} | {r['returncode']} |" for n, r in rows]
    lines += [
        f"| **total** | **{total:.1f}** | **{peak:.0f}** (max) | {'ok' if ok else 'FAILED'} |",
        "",
        f"Targets: total under 900 s ({'pass' if total < 900 else 'MISS'}), peak RSS under 4096 MiB "
        f"({'pass' if peak < 4096 else 'MISS'}). Each workflow runs in its own process "
        "(`sciml run <workflow>`, ephemeral Prefect API included in the time).",
    ]
    text = "\n".join(lines)
    write_fragment("pipeline", text)
    return text


if __name__ == "__main__":
    main()
