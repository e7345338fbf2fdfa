"""Helpers of the benchmark scripts: machine facts, child-process timing with peak RSS."""

from __future__ import annotations

import datetime as _dt
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).resolve().parent / "results"


def machine() -> str:
    """One line: CPU model, cores, memory, Python, torch threads."""
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kb = int(
            next(
                ln for ln in Path("/proc/meminfo").read_text().splitlines() if ln.startswith("MemTotal")
            ).split()[1]
        )
        mem = f", {kb / 2**20:.0f} GiB RAM"
    except (OSError, StopIteration):
        pass
    return f"{cpu}, {os.cpu_count()} cores{mem}, Python {platform.python_version()}"


def git_revision() -> str:
    """The checkout's revision (12 hex digits), ``-dirty`` when the work tree has uncommitted
    changes: a figure measured on uncommitted code says so."""
    from sciml.catalog import git_revision as _revision

    rev = _revision(ROOT)
    if rev is None:
        return "unknown"
    dirty = rev.endswith("-dirty")
    return rev.removesuffix("-dirty")[:12] + ("-dirty" if dirty else "")


def header(title: str) -> str:
    now = _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"## {title}\n\n_Measured {now} on {machine()}, git {git_revision()}._\n"


def run_measured(cmd: list[str], env: dict | None = None, timeout: float | None = None) -> dict:
    """Run ``cmd``; return wall seconds, peak RSS (MiB) of the process tree's largest member, rc."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env)
    deadline = None if timeout is None else start + timeout
    while True:
        pid, status, rusage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if deadline and time.perf_counter() > deadline:
            proc.kill()
            pid, status, rusage = os.wait4(proc.pid, 0)
            break
        time.sleep(0.05)
    wall = time.perf_counter() - start
    return {
        "seconds": wall,
        "peak_rss_mib": rusage.ru_maxrss / 1024.0,
        "returncode": os.waitstatus_to_exitcode(status),
    }


def write_fragment(name: str, text: str) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.md"
    path.write_text(text.rstrip() + "\n")
    print(text)
    return path


PY = sys.executable
