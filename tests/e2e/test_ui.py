"""The Prefect UI in a real headless browser: deployments, their schedules, a run and its artifact.

The test starts `prefect server start` with its UI (SQLite in a temp PREFECT_HOME, 127.0.0.1, a free
port), serves the csib deployments from a subprocess, runs `csib/default` on the tiny profile with
`prefect deployment run ... --watch`, then drives Debian's chromium (`/usr/bin/chromium`, never a
downloaded build) with Playwright through what a person sees: the UI at the server's root, the
deployments page listing `csib/default` and `csib/retrain` with its nightly schedule, the finished
flow run, and the run's `csib-metrics` artifact with the metrics table and the embedded PNG plots.
Every request the page makes to another host is refused, so the UI is shown to work offline.
Screenshots go into the test's tmp_path.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from flows.csib import CSIBConfig
from flows.server import _stop, local_prefect_server, server_env, ui_url

PREFECT = str(Path(sys.executable).parent / "prefect")
CHROMIUM = shutil.which("chromium")
TIMEOUT_MS = 30_000  # the UI's own data loads; generous for a loaded CI machine

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.xdist_group("e2e"),
    pytest.mark.skipif(
        CHROMIUM is None,
        reason="Debian's chromium is not installed (apt-get install -y chromium; `make test` does it)",
    ),
]


def _api(api: str, path: str, body: dict | None = None):
    """POST ``body`` (or GET) to the Prefect REST API at ``api``; the decoded JSON reply."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(api + path, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.load(resp)


def _deployment_names(api: str) -> set[str]:
    flows = {f["id"]: f["name"] for f in _api(api, "/flows/filter", {})}
    return {f"{flows.get(d['flow_id'], '?')}/{d['name']}" for d in _api(api, "/deployments/filter", {})}


def _deployment_id(api: str, name: str) -> str:
    flows = {f["id"]: f["name"] for f in _api(api, "/flows/filter", {})}
    (dep,) = [d for d in _api(api, "/deployments/filter", {})
              if f"{flows.get(d['flow_id'], '?')}/{d['name']}" == name]  # fmt: skip
    return dep["id"]


def _browse(ui: str, flow_run: dict, artifact: dict, datasets, shots: Path, retrain_id: str) -> dict:
    """Walk the UI as a person does; return the plots' widths per UI, the refused requests, the base."""
    from playwright.sync_api import expect, sync_playwright

    external: list[tuple[str, str, str]] = []  # (UI page, method, URL) of each refused request
    widths: dict[str, list[int]] = {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True)
        try:
            context = browser.new_context(viewport={"width": 1400, "height": 1000}, timezone_id="UTC")
            origin = urlsplit(ui).netloc
            page = context.new_page()

            def offline(route):  # the UI must work with the server alone
                if urlsplit(route.request.url).netloc == origin:
                    route.continue_()
                else:
                    external.append((page.url, route.request.method, route.request.url))
                    route.abort()

            context.route("**/*", offline)
            context.set_default_timeout(TIMEOUT_MS)
            expect.set_options(timeout=TIMEOUT_MS)

            # what `make serve` prints: the root, which opens the dashboard of the default UI
            page.goto(ui)
            page.wait_for_url("**/dashboard**")
            page.get_by_role("link", name="Deployments", exact=True).first.click()
            page.wait_for_url("**/deployments**")
            base = page.url.split("/deployments")[0]  # the default UI's base (V2: /v2)
            retrain = page.get_by_role("row").filter(has_text="retrain")
            expect(retrain).to_contain_text("csib")
            expect(retrain).to_contain_text("At 02:00 AM")  # cron 0 2 * * *, in UTC
            expect(page.get_by_role("row").filter(has_text="default")).to_contain_text("csib")
            page.wait_for_load_state("networkidle")
            page.screenshot(path=shots / "deployments.png", full_page=True)

            # the retraining deployment's page: its schedule and its new-data trigger
            page.goto(f"{base}/deployments/deployment/{retrain_id}")
            expect(page.get_by_text("csib: new input data").first).to_be_visible()
            page.wait_for_load_state("networkidle")
            page.screenshot(path=shots / "retrain_deployment.png", full_page=True)

            # the finished run, and its artifact listed on the run's Artifacts tab
            page.goto(f"{base}/runs/flow-run/{flow_run['id']}")
            expect(page.get_by_text(flow_run["name"]).first).to_be_visible()
            expect(page.get_by_text("Completed").first).to_be_visible()
            page.get_by_role("tab", name="Artifacts").click()
            expect(page.get_by_text("csib-metrics").first).to_be_visible()
            page.wait_for_load_state("networkidle")
            page.screenshot(path=shots / "flow_run.png")

            # the artifact: the metrics table and the embedded plots, loaded; in the default UI
            # and in the legacy one (V1, served at the root)
            for ui_name, ui_base in (("default", base), ("v1", ui)):
                page.goto(f"{ui_base}/artifacts/artifact/{artifact['id']}")
                for header in ("dataset", "model", "mean"):
                    expect(page.get_by_role("columnheader", name=header, exact=True)).to_be_visible()
                for dataset in datasets:
                    expect(page.get_by_role("cell", name=dataset).first).to_be_visible()
                images = page.locator('img[src^="data:image/png"]')
                expect(images.first).to_be_visible()
                page.wait_for_function(
                    "() => Array.from(document.images)"
                    ".some(i => i.src.startsWith('data:image/png') && i.naturalWidth > 0)"
                )
                widths[ui_name] = images.evaluate_all("els => els.map(e => e.naturalWidth)")
                page.screenshot(path=shots / f"artifact_{ui_name}.png", full_page=True)
        finally:
            browser.close()
    return {"widths": widths, "external": external, "base": base}


def test_ui_shows_deployments_runs_and_artifacts(tmp_path):
    home, data, shots = tmp_path / "prefect", tmp_path / "data", tmp_path / "screenshots"
    shots.mkdir()
    with local_prefect_server(home, ui=True) as api:
        env = server_env(home, api) | {
            "SCIML_DATA_DIR": str(data),
            "PREFECT_LOGGING_LEVEL": "INFO",
            "PREFECT_RUNNER_POLL_FREQUENCY": "2",  # pick the triggered run up in 2 s, not 10
        }
        log = open(tmp_path / "serve.log", "wb")  # noqa: SIM115
        served = subprocess.Popen(
            [sys.executable, "-m", "flows.deployments", "--only", "csib"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + 180
            while not {"csib/default", "csib/retrain"} <= _deployment_names(api):
                if served.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("csib deployments never appeared:\n" + (tmp_path / "serve.log").read_text())
                time.sleep(1.0)
            run = subprocess.run(
                [PREFECT, "deployment", "run", "csib/default",
                 "--params", json.dumps({"config": {"profile": "tiny"}}),
                 "--watch", "--watch-timeout", "300"],
                env=env, capture_output=True, text=True, timeout=360,
            )
            assert run.returncode == 0, run.stdout + run.stderr + (tmp_path / "serve.log").read_text()[-3000:]
            (artifact,) = _api(api, "/artifacts/filter", {"artifacts": {"key": {"any_": ["csib-metrics"]}}})
            flow_run = _api(api, f"/flow_runs/{artifact['flow_run_id']}")
            assert flow_run["state_type"] == "COMPLETED"
            assert artifact["type"] == "markdown" and "data:image/png;base64," in artifact["data"]
            assert len(artifact["data"]) < 400_000  # thumbnails, not full-size plots
            # analytics stay off: the UI reads this and then sends no usage events
            assert _api(api, "/admin/settings")["server"]["analytics_enabled"] is False
            seen = _browse(ui_url(api), flow_run, artifact, CSIBConfig.for_profile("tiny").datasets, shots,
                           _deployment_id(api, "csib/retrain"))
        finally:
            _stop(served)
            log.close()
    for ui_name, w in seen["widths"].items():
        assert w and all(0 < x <= 600 for x in w), (ui_name, w)
    # refused requests must not be usage events: the V2 UI's analytics SDK fetches its remote
    # config (a GET, refused here) but sends no event while the server reports analytics off;
    # the V1 UI asks for nothing outside the server
    external = seen["external"]
    assert not [r for r in external if r[1] != "GET"], external
    assert not [r for r in external if not r[0].startswith(seen["base"])], external
    shot_names = ("deployments", "retrain_deployment", "flow_run", "artifact_default", "artifact_v1")
    assert all((shots / f"{n}.png").stat().st_size > 0 for n in shot_names)
