"""Benchmark hygiene: every section records its revision, and a stale one is marked as such."""

from __future__ import annotations

import subprocess

from benchmarks._common import ROOT, git_revision, header
from benchmarks.run_all import _with_stale_mark, staleness


def _root_commit() -> str:
    out = subprocess.run(["git", "rev-list", "--max-parents=0", "HEAD"], cwd=ROOT,
                         capture_output=True, text=True, check=True)  # fmt: skip
    return out.stdout.split()[-1][:12]


def test_header_records_a_dirty_aware_revision():
    rev = git_revision()
    assert f"git {rev}" in header("demo")
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    assert rev.removesuffix("-dirty") == head.stdout.strip()[:12]


def test_sections_of_changed_or_unknown_code_are_stale():
    first = _root_commit()
    assert "changed since" in staleness("catalog", f"## x\n\n_Measured on a CPU, git {first}._\n")
    assert "uncommitted changes" in staleness("catalog", f"## x\n\n_git {first}-dirty._\n")
    assert "not in this repository" in staleness("catalog", "## x\n\n_git 0123456789ab._\n")
    assert staleness("catalog", "## x\n\nno revision here\n") == "it records no revision"
    marked = _with_stale_mark("catalog", f"## Catalog\n\n_git {first}._\n\n| a |")
    assert marked.startswith("## Catalog\n\n> **Stale:** the code it measures changed since")
    assert marked.endswith("| a |")
