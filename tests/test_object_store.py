"""The catalog and the model registry on an object store: a local S3 endpoint (moto server mode)."""

from __future__ import annotations

import subprocess
import sys
import time

import numpy as np
import pytest
import torch

from sciml.catalog import Catalog
from sciml.errors import ChampionMovedError
from sciml.gpme import make_gpme_dataset

pytestmark = pytest.mark.xdist_group("object_store")


def _stefan(n_f=2):
    return make_gpme_dataset("stefan", np.linspace(0.55, 0.7, n_f), 6, 11, "test")


def test_versions_on_the_object_store(s3_data_dir):
    cat = Catalog.load(data_dir=s3_data_dir)
    assert not cat.exists("gpme/stefan/test")
    v1 = cat.write("gpme/stefan/test", _stefan(2))
    v2 = cat.write("gpme/stefan/test", _stefan(3))
    assert cat.path("gpme/stefan/test").startswith("s3://")
    assert [h.id for h in cat.history("gpme/stefan/test")] == [v2, v1]
    assert cat.open("gpme/stefan/test").sizes["function"] == 3
    back = cat.open("gpme/stefan/test", version=v1).load()
    np.testing.assert_array_equal(back.u.values, _stefan(2).u.values)


def test_model_registry_on_the_object_store(s3_data_dir):
    cat = Catalog.load(data_dir=s3_data_dir)
    assert cat.save_model("csib/demo", {"w": torch.arange(4.0)}, {"val_rmse": 0.3}) == "v1"
    assert cat.save_model("csib/demo", {"w": torch.zeros(4)}, {"val_rmse": 0.2}) == "v2"
    cat.promote("csib/demo", "v1", expected=None)
    with pytest.raises(ChampionMovedError):
        cat.promote("csib/demo", "v2", expected=None)
    cat.promote("csib/demo", "v2", expected="v1")
    state, info = cat.load_model("csib/demo")
    assert torch.equal(state["w"], torch.zeros(4)) and info["metrics"] == {"val_rmse": 0.2}


_RACER = """
import sys, time, numpy as np, xarray as xr
from sciml.catalog import Catalog
from sciml.gpme import make_gpme_dataset

cat = Catalog.load(data_dir=sys.argv[1])
value, start = float(sys.argv[2]), float(sys.argv[3])
for i in range(3):
    ds = make_gpme_dataset("stefan", np.linspace(0.55, 0.7, 4), 20, 100, "test")
    ds["u"] = xr.full_like(ds.u, value)
    while time.time() < start + 1.0 * i:
        time.sleep(0.005)
    cat.write("gpme/stefan/test", ds, {"config_hash": f"{value}-{i}"})
"""


def test_two_writers_on_the_object_store_never_mix(s3_data_dir, tmp_path):
    script = tmp_path / "racer.py"
    script.write_text(_RACER)
    start = time.time() + 4.0
    procs = [subprocess.Popen([sys.executable, str(script), s3_data_dir, str(v), str(start)])
             for v in (1.0, 2.0)]  # fmt: skip
    assert [p.wait(timeout=180) for p in procs] == [0, 0]
    cat = Catalog.load(data_dir=s3_data_dir)
    history = cat.history("gpme/stefan/test")
    assert len(history) == 6
    for h in history:
        u = cat.open("gpme/stefan/test", version=h.id).u.values
        assert np.unique(u).tolist() == [float(h.metadata["config_hash"].split("-")[0])]
