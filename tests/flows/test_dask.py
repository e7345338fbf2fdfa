"""Scale-out: the gpme-data flow on a 2-worker Dask LocalCluster (prefect-dask)."""

from __future__ import annotations

import pytest

from flows.common import make_task_runner, with_runner
from flows.gpme import GPMEDataConfig, gpme_data_flow
from sciml.errors import ConfigError


@pytest.mark.xdist_group("dask")
def test_gpme_flow_on_dask_local_cluster(prefect_harness, catalog):
    flow = with_runner(gpme_data_flow, "dask")
    cfg = GPMEDataConfig.for_profile("tiny", problems=("pme", "stefan"))
    names = flow(config=cfg)
    assert len(names) == 4
    ds = catalog.open("gpme/pme/test")
    assert ds.sizes["function"] == 3
    assert ds.attrs["catalog_name"] == "gpme/pme/test"


def test_unknown_runner():
    with pytest.raises(ConfigError, match="unknown task runner 'ray'"):
        make_task_runner("ray")
