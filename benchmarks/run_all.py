"""`make bench`: run every benchmark and assemble ``benchmarks/RESULTS.md``.

Each ``benchmarks/bench_<name>.py`` writes ``benchmarks/results/<name>.md``; this script runs them
(each in its own process, so one failure does not stop the rest) and concatenates the fragments.
``--reuse`` keeps existing fragments instead of re-running those benchmarks.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from benchmarks._common import RESULTS, git_revision, machine

HERE = Path(__file__).resolve().parent
ORDER = ["pipeline", "catalog", "probconserv", "thermoacoustic", "chaos", "lightsb", "csib"]


def available() -> list[str]:
    found = {p.stem.removeprefix("bench_") for p in HERE.glob("bench_*.py")}
    return [n for n in ORDER if n in found] + sorted(found - set(ORDER))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", nargs="*", help="run only these benchmarks")
    parser.add_argument("--reuse", action="store_true", help="keep fragments that already exist")
    args = parser.parse_args(argv)
    failed = []
    for name in available():
        if args.only and name not in args.only:
            continue
        if args.reuse and (RESULTS / f"{name}.md").is_file():
            continue
        print(f"=== bench {name}", flush=True)
        rc = subprocess.run([sys.executable, "-m", f"benchmarks.bench_{name}"]).returncode
        if rc != 0:
            failed.append(name)
    parts = [
        "# Benchmark results",
        "",
        f"Written by `make bench` (`python -m benchmarks.run_all`) on {machine()}, git {git_revision()}. "
        "Each section says when it was measured; targets are the issues' goals, and a miss is "
        "reported as such, never hidden.",
        "",
    ]
    for name in available():
        frag = RESULTS / f"{name}.md"
        if frag.is_file():
            parts += [frag.read_text().strip(), ""]
        else:
            parts += [f"## {name}", "", "_not run yet_", ""]
    if failed:
        parts += ["## Failures", "", *[f"- bench_{n} exited non-zero" for n in failed], ""]
    (HERE / "RESULTS.md").write_text("\n".join(parts))
    print(f"wrote {HERE / 'RESULTS.md'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
