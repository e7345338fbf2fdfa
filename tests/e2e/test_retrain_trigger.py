"""New data starts a retrain: a user's import -> catalog commit event -> Prefect trigger ->
retraining run -> history row -> champion decision, on a real local Prefect server."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from flows.server import _stop, local_prefect_server, server_env
from sciml.catalog import Catalog
from sciml.csib.experiment import CSIBConfig, prepare_inputs

SCIML = str(Path(sys.executable).parent / "sciml")
PREFECT = str(Path(sys.executable).parent / "prefect")
TINY = {"profile": "tiny", "datasets": ["bike_sharing"]}


def _wait(predicate, timeout: float, what: str, log: Path):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(1.0)
    raise TimeoutError(f"{what} within {timeout:.0f} s; served log:\n{log.read_text()[-4000:]}")


def _import(table, path: Path, env: dict) -> str:
    table.to_netcdf(path)
    out = subprocess.run([SCIML, "catalog", "import", "csib/bike_sharing", str(path)], env=env,
                         capture_output=True, text=True, timeout=120)  # fmt: skip
    assert out.returncode == 0, out.stdout + out.stderr
    return out.stdout.split("version ")[1].split()[0]


def _history_row(cat: Catalog, version: str):
    if not cat.exists("csib/retrain_history"):
        return None
    hist = cat.open("csib/retrain_history").load()
    for i in range(hist.sizes["retrain"]):
        row = hist.isel(retrain=i)
        if json.loads(str(row.data_versions.values)).get("csib/bike_sharing") == version:
            return row
    return None


@pytest.mark.e2e
@pytest.mark.xdist_group("e2e")
def test_new_input_data_triggers_a_retrain(tmp_path):
    home, data = tmp_path / "prefect", tmp_path / "data"
    cat = Catalog.load(data_dir=data)
    cfg = CSIBConfig.for_profile("tiny", datasets=("bike_sharing",))
    table = prepare_inputs("bike_sharing", cfg, cat.raw_path("csib/raw/bike_sharing"))
    with local_prefect_server(home) as api:
        env = server_env(home, api) | {"SCIML_DATA_DIR": str(data), "SCIML_RETRAIN_DELAY": "0",
                                       "SCIML_RETRAIN_WINDOW": "5", "PREFECT_LOGGING_LEVEL": "INFO"}
        log_path = tmp_path / "serve.log"
        log = open(log_path, "wb")  # noqa: SIM115
        served = subprocess.Popen(
            [sys.executable, "-m", "flows.deployments", "--only", "csib",
             "--retrain-params", json.dumps({"config": TINY})],
            env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        try:
            _wait(lambda: subprocess.run([PREFECT, "deployment", "inspect", "csib/retrain"], env=env,
                                         capture_output=True).returncode == 0,
                  120, "csib/retrain was not served", log_path)  # fmt: skip
            first = _import(table, tmp_path / "v1.nc", env)
            row1 = _wait(lambda: _history_row(cat, first), 300, "no retrain on the first import",
                         log_path)  # fmt: skip
            time.sleep(6)  # past the trigger's window: the next commit starts a new run
            more = table.copy(deep=True)
            more["y"] = more.y * 1.0 + 0.0
            second = _import(more.isel(sample=slice(0, int(0.9 * more.sizes["sample"]))),
                             tmp_path / "v2.nc", env)  # fmt: skip
            row2 = _wait(lambda: _history_row(cat, second), 300, "no retrain on the second import",
                         log_path)  # fmt: skip
        finally:
            _stop(served)
            log.close()
    assert first != second
    assert cat.history("csib/bike_sharing")[0].id == second
    # the first retrain found no champion and promoted its challenger
    assert bool(row1.promoted) and str(row1.champion_before.values) == ""
    assert str(row1.flow_run_id.values)  # it ran as a Prefect flow run
    # the second re-scored that champion on the *new* data and decided by the two scores
    assert str(row2.champion_before.values) == str(row1.champion_after.values)
    champion_score, challenger_score = float(row2.champion_score), float(row2.challenger_score)
    assert np.isfinite(champion_score)
    assert bool(row2.promoted) == (challenger_score < champion_score)
    assert cat.champion("csib/bike_sharing") == str(row2.champion_after.values)
    assert cat.model_info("csib/bike_sharing")["data_versions"]["csib/bike_sharing"] in (first, second)
