"""The documentation: the MkDocs site builds strictly, the README stays short, links resolve.

The site build (``mkdocs build --strict``) also renders the API reference with mkdocstrings, so a
docstring that the numpydoc parser cannot read, or a package that no longer imports, fails here.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
README = ROOT / "README.md"
PACKAGES = (
    "catalog",
    "uq",
    "errors",
    "gpme",
    "probconserv",
    "thermoacoustic",
    "chaos",
    "schrodinger",
    "csib",
)
WORKFLOW_PAGES = ("gpme", "probconserv", "thermoacoustic", "chaos", "lightsb", "csib")
# words of a research log, not of user documentation
LAB_LOG = re.compile(
    r"fourth pass|fifth pass|third pass|second pass|session [0-9]|load average|issue [0-9]+",
    re.IGNORECASE,
)
_LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
_FENCE = re.compile(r"^(```|~~~).*?^\1", re.MULTILINE | re.DOTALL)
_CODE_SPAN = re.compile(r"`[^`\n]*`")


def _markdown_files() -> list[Path]:
    return [README, ROOT / "CHANGELOG.md", *sorted(DOCS.rglob("*.md"))]


def _relative_links(text: str) -> list[str]:
    """Targets of the relative markdown links outside code blocks and code spans."""
    text = _CODE_SPAN.sub("", _FENCE.sub("", text))
    out = []
    for target in _LINK.findall(text):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.IGNORECASE) or target.startswith("#"):
            continue  # http(s)://, mailto:, in-page anchors
        out.append(target)
    return out


def test_mkdocs_site_builds_strictly(tmp_path):
    pytest.importorskip("mkdocs", reason="the dev extra installs mkdocs")
    pytest.importorskip("mkdocstrings", reason="the dev extra installs mkdocstrings")
    site = tmp_path / "site"
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--config-file",
         str(ROOT / "mkdocs.yml"), "--site-dir", str(site)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, f"mkdocs build --strict failed:\n{proc.stdout}\n{proc.stderr}"
    expected = [
        "index.html",
        "operations/index.html",
        "changelog/index.html",
        "notes/index.html",
        *(f"{page}/index.html" for page in WORKFLOW_PAGES),
        *(f"notes/{page}-investigations/index.html" for page in WORKFLOW_PAGES if page != "gpme"),
        *(f"api/{package}/index.html" for package in PACKAGES),
    ]
    missing = [page for page in expected if not (site / page).is_file()]
    assert not missing, f"pages missing from the built site: {missing}"
    # the API pages hold the re-exported public API, not just a heading
    for package in PACKAGES:
        html = (site / "api" / package / "index.html").read_text(encoding="utf-8")
        assert f'id="sciml.{package}.' in html, f"api/{package}: no documented member"
    # the changelog page includes CHANGELOG.md itself
    assert "2026-11-29" in (site / "changelog" / "index.html").read_text(encoding="utf-8")


def test_readme_is_short_and_starts_with_the_two_commands():
    lines = README.read_text(encoding="utf-8").splitlines()
    assert len(lines) <= 200, f"README.md has {len(lines)} lines (at most 200)"
    head = lines[:20]
    fences = [i for i, line in enumerate(head) if line.startswith("```")]
    assert len(fences) >= 2, "the first 20 lines of README.md need a code block"
    block = head[fences[0] + 1 : fences[1]]
    for command in ("make run", "make test"):
        assert any(line.strip().startswith(command) for line in block), (
            f"`{command}` is not in the README's first code block (first 20 lines)"
        )


@pytest.mark.parametrize("path", _markdown_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_research_log_wording(path):
    hits = [
        f"{path.relative_to(ROOT)}:{n}: {line.strip()}"
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if LAB_LOG.search(line)
    ]
    assert not hits, "research-log wording in user documentation:\n" + "\n".join(hits)


@pytest.mark.parametrize("path", _markdown_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_point_to_existing_files(path):
    broken = []
    for target in _relative_links(path.read_text(encoding="utf-8")):
        file_part = target.split("#", 1)[0]
        if file_part and not (path.parent / file_part).exists():
            broken.append(target)
    assert not broken, f"{path.relative_to(ROOT)}: links to missing files: {broken}"


def test_every_workflow_page_is_linked_from_the_readme():
    links = set(_relative_links(README.read_text(encoding="utf-8")))
    for page in WORKFLOW_PAGES:
        assert f"docs/{page}.md" in links, f"README.md does not link docs/{page}.md"


def test_documented_deployment_parameters_validate():
    """Every ``prefect deployment run '<flow>/<name>' --params '...'`` example in the docs builds
    the workflow's settings (a typo in a key would fail the run on the server)."""
    import json

    from flows.registry import workflows

    wfs = workflows()
    found = 0
    for path in _markdown_files():
        for flow, params in re.findall(r"deployment run '([\w-]+)/\w+'\s+--params '(\{.*?\})'",
                                       path.read_text()):  # fmt: skip
            config = json.loads(params)["config"]
            wfs[flow].config.model_validate(config)
            found += 1
    assert found >= 6, "one example per workflow"
