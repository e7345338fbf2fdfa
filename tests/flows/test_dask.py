"""Scale-out: the gpme-data flow on a 2-worker Dask LocalCluster (prefect-dask)."""

from __future__ import annotations

import numpy as np
import pytest

from flows.common import make_task_runner, with_runner
from flows.gpme import GPMEDataConfig, gpme_data_flow
from sciml.errors import ConfigError


@pytest.mark.xdist_group("dask")
def test_gpme_flow_on_dask_local_cluster(prefect_harness, catalog):
    flow = with_runner(gpme_data_flow, "dask")
    cfg = GPMEDataConfig.for_profile("tiny", problems=("pme", "stefan"))
    names = flow(config=cfg)
    assert len(names) == 6  # train, val and test of each problem
    ds = catalog.open("gpme/pme/test")
    assert ds.sizes["function"] == 3
    assert ds.attrs["catalog_name"] == "gpme/pme/test"


def test_unknown_runner():
    with pytest.raises(ConfigError, match="unknown task runner 'ray'"):
        make_task_runner("ray")


@pytest.mark.xdist_group("dask")
def test_csib_fan_out_on_process_workers_through_the_object_store(
    prefect_harness, tmp_path, s3_data_dir, monkeypatch
):
    """csib's grid on a Dask cluster of 2 *process* workers, every worker reading and writing
    through the catalog on the local S3 endpoint: the same arrays as the thread runner's on a
    local disk."""
    from flows.csib import CSIBConfig, csib_flow
    from sciml.catalog import Catalog

    cfg = CSIBConfig.for_profile("tiny", datasets=("bike_sharing",), models=("mse", "csib"))
    monkeypatch.setenv("SCIML_DASK_WORKERS", "2")
    with_runner(csib_flow, "dask")(config=cfg)
    on_s3 = Catalog.load(data_dir=s3_data_dir)
    assert on_s3.path("csib/metrics").startswith("s3://")
    remote = on_s3.open("csib/metrics").load()
    assert on_s3.open("csib/bike_sharing").attrs["catalog_name"] == "csib/bike_sharing"

    local_dir = tmp_path / "local"
    monkeypatch.setenv("SCIML_DATA_DIR", str(local_dir))
    with_runner(csib_flow, "thread")(config=cfg)
    local = Catalog.load(data_dir=local_dir).open("csib/metrics").load()
    for name in ("rmse", "val_rmse", "i_xt", "rmse_fgsm"):
        np.testing.assert_array_equal(remote[name].values, local[name].values, err_msg=name)
