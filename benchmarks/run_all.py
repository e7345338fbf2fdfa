"""`make bench`: run every benchmark and assemble ``benchmarks/RESULTS.md``.

Each ``benchmarks/bench_<name>.py`` writes ``benchmarks/results/<name>.md``; this script runs them
(each in its own process, so one failure does not stop the rest) and concatenates the fragments.
``--reuse`` keeps existing fragments instead of re-running those benchmarks.

A fragment records the revision it was measured at (``git <rev>`` in its header, ``-dirty`` when
the work tree had uncommitted changes). A section whose measured code (:data:`MEASURES`) changed
since that revision, or that was measured on a dirty tree, is marked stale in RESULTS.md, so
figures of different code are never silently mixed.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

from benchmarks._common import RESULTS, ROOT, git_revision, machine

HERE = Path(__file__).resolve().parent
ORDER = ["pipeline", "catalog", "probconserv", "thermoacoustic", "chaos", "lightsb", "csib"]
#: The code each benchmark measures (besides its own script): a change there makes it stale.
MEASURES: dict[str, tuple[str, ...]] = {
    "pipeline": ("sciml", "flows", "data_catalog.yaml"),
    "catalog": ("sciml/catalog", "flows/common.py"),
    "probconserv": ("sciml/probconserv", "sciml/gpme"),
    "thermoacoustic": ("sciml/thermoacoustic",),
    "chaos": ("sciml/chaos",),
    "lightsb": ("sciml/schrodinger",),
    "csib": ("sciml/csib",),
}
_REVISION = re.compile(r"(?<![A-Za-z])git ([0-9a-f]{7,40})(-dirty)?(?![0-9a-f])")


def _git(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)


def staleness(name: str, fragment: str) -> str | None:
    """Why the fragment of benchmark ``name`` no longer measures the current code, or None.

    Stale when its revision is unknown, it was measured on a dirty tree, or the measured paths
    differ between that revision and the work tree (committed or not).
    """
    m = _REVISION.search(fragment)
    if m is None:
        return "it records no revision"
    rev, dirty = m.group(1), bool(m.group(2))
    if _git("cat-file", "-e", f"{rev}^{{commit}}").returncode != 0:
        return f"its revision {rev} is not in this repository"
    if dirty:
        return f"it was measured on uncommitted changes to {rev}"
    paths = [*MEASURES.get(name, ("sciml",)), f"benchmarks/bench_{name}.py"]
    changed = _git("diff", "--name-only", rev, "--", *paths).stdout.split()
    if changed:
        shown = ", ".join(changed[:4]) + (f" and {len(changed) - 4} more" if len(changed) > 4 else "")
        return f"the code it measures changed since {rev} ({shown})"
    return None


def _with_stale_mark(name: str, fragment: str) -> str:
    reason = staleness(name, fragment)
    if reason is None:
        return fragment
    head, _, rest = fragment.partition("\n")
    mark = (f"> **Stale:** {reason}. Re-measure with "
            f"`python -m benchmarks.run_all --only {name}`.")  # fmt: skip
    return f"{head}\n\n{mark}\n{rest}"


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
        "Each section says when and at which revision it was measured, and is marked stale when "
        "the code it measures changed since; a missed target is reported as such, never hidden.",
        "",
    ]
    for name in available():
        frag = RESULTS / f"{name}.md"
        if frag.is_file():
            parts += [_with_stale_mark(name, frag.read_text().strip()), ""]
        else:
            parts += [f"## {name}", "", "_not run yet_", ""]
    if failed:
        parts += ["## Failures", "", *[f"- bench_{n} exited non-zero" for n in failed], ""]
    (HERE / "RESULTS.md").write_text("\n".join(parts))
    print(f"wrote {HERE / 'RESULTS.md'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
