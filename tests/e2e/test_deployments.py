"""End to end against a real Prefect server: serve deployments, `prefect deployment run`, read zarr.

The test starts `prefect server start` (SQLite in a temp PREFECT_HOME, 127.0.0.1, a free port),
serves the gpme-data deployments from a subprocess, triggers a run with the Prefect CLI, waits for
`Completed`, then opens the result through the catalog and checks its values.
"""

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
from sciml.gpme import stefan_alpha

PREFECT = str(Path(sys.executable).parent / "prefect")


def _wait_for_deployment(name: str, env: dict, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        out = subprocess.run(
            [PREFECT, "deployment", "inspect", name], env=env, capture_output=True, text=True
        )
        if out.returncode == 0:
            return
        time.sleep(1.0)
    raise TimeoutError(f"deployment {name} never appeared")


@pytest.mark.e2e
@pytest.mark.xdist_group("e2e")
def test_deployment_run_through_real_server(tmp_path):
    home, data = tmp_path / "prefect", tmp_path / "data"
    with local_prefect_server(home) as api:
        env = server_env(home, api) | {"SCIML_DATA_DIR": str(data), "PREFECT_LOGGING_LEVEL": "INFO"}
        log = open(tmp_path / "serve.log", "wb")  # noqa: SIM115
        served = subprocess.Popen(
            [sys.executable, "-m", "flows.deployments", "--only", "gpme-data"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            _wait_for_deployment("gpme-data/default", env)
            params = {"config": {"n_train_functions": 3, "n_t": 11, "n_x": 41}}
            run = subprocess.run(
                [
                    PREFECT,
                    "deployment",
                    "run",
                    "gpme-data/default",
                    "--params",
                    json.dumps(params),
                    "--watch",
                    "--watch-timeout",
                    "300",
                ],
                env=env,
                capture_output=True,
                text=True,
                timeout=360,
            )
        finally:
            _stop(served)
            log.close()
    output = run.stdout + run.stderr
    assert run.returncode == 0, output + (tmp_path / "serve.log").read_text()[-3000:]
    assert "Completed" in output
    cat = Catalog.load(data_dir=data)
    ds = cat.open("gpme/stefan/test")
    assert dict(ds.sizes) == {"function": 2, "t": 11, "x": 41}
    assert ds.attrs.get("flow_run_id")
    # the front of u* = 0.6 at t = 0.05 sits at alpha sqrt(t) ~ 0.235: u > 0 behind it, 0 ahead
    u = ds.sel(param=0.6).sel(t=0.05, method="nearest").u
    front = float(stefan_alpha(0.6)[0] * np.sqrt(float(u.t)))
    assert float(u.sel(x=front - 0.05, method="nearest")) > 0.5
    assert float(u.sel(x=front + 0.05, method="nearest")) == 0.0
