"""End to end against a real Prefect server: serve deployments, `prefect deployment run`, read zarr.

The test starts `prefect server start` (SQLite in a temp PREFECT_HOME, 127.0.0.1, a free port),
serves the gpme-data and lightsb deployments from a subprocess, triggers runs with the Prefect CLI
(`gpme-data/default`, then the scheduled-retraining deployment `lightsb/retrain`), waits for
`Completed`, then opens the results through the catalog and the model registry and checks them.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from flows.lightsb import LightSBConfig
from flows.server import _stop, local_prefect_server, server_env
from sciml.catalog import Catalog
from sciml.gpme import stefan_alpha
from sciml.schrodinger import LightSB, make_mixture_pair, score_plan
from sciml.schrodinger.experiment import validation_seed

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


def _run_deployment(name: str, params: dict, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [PREFECT, "deployment", "run", name, "--params", json.dumps(params), "--watch",
         "--watch-timeout", "300"],
        env=env,
        capture_output=True,
        text=True,
        timeout=360,
    )


@pytest.mark.e2e
@pytest.mark.xdist_group("e2e")
def test_deployment_run_through_real_server(tmp_path):
    home, data = tmp_path / "prefect", tmp_path / "data"
    with local_prefect_server(home) as api:
        env = server_env(home, api) | {"SCIML_DATA_DIR": str(data), "PREFECT_LOGGING_LEVEL": "INFO"}
        log = open(tmp_path / "serve.log", "wb")  # noqa: SIM115
        served = subprocess.Popen(
            [sys.executable, "-m", "flows.deployments", "--only", "gpme-data", "lightsb"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            _wait_for_deployment("gpme-data/default", env)
            run = _run_deployment(
                "gpme-data/default", {"config": {"n_train_functions": 3, "n_t": 11, "n_x": 41}}, env
            )
            _wait_for_deployment("lightsb/retrain", env)
            # a profile by name, with overrides: what a user types after --params
            tiny = {"profile": "tiny", "dims": [2], "epsilons": [1.0]}
            retrain = _run_deployment("lightsb/retrain", {"config": tiny}, env)
        finally:
            _stop(served)
            log.close()
    for done in (run, retrain):
        output = done.stdout + done.stderr
        assert done.returncode == 0, output + (tmp_path / "serve.log").read_text()[-3000:]
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
    # the retraining deployment trained a challenger and, with no champion yet, promoted it
    assert cat.champion("lightsb/retrain") == "v1"
    info = cat.model_info("lightsb/retrain")
    expected = LightSBConfig.for_profile("tiny", dims=(2,), epsilons=(1.0,))
    assert info["config"] == expected.model_dump(mode="json")  # the profile's values arrived
    assert info["config"]["retrain_dim"] == 2
    # the promoted parameters reproduce the recorded validation score on the fixed-seed pair,
    # and the decision is in the retraining history with the pairs' version
    state, _ = cat.load_model("lightsb/retrain")
    pair = make_mixture_pair(expected.retrain_dim, expected.retrain_eps, seed=expected.pair_seed)
    seed = validation_seed(expected.retrain_dim, expected.retrain_eps, expected.seed)
    score = score_plan(LightSB.from_state_dict(state), pair, n_test=expected.n_test,
                       seed=seed)["cbw2_uvp"]
    assert score == pytest.approx(info["metrics"]["val_cbw2_uvp"], rel=1e-6)
    hist = cat.open("lightsb/retrain_history")
    assert hist.sizes["retrain"] == 1 and bool(hist.promoted[0])
    assert json.loads(str(hist.data_versions.values[0])) == {"lightsb/pairs": cat.version("lightsb/pairs")}
