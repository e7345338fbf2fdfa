"""Every registered workflow follows the pattern: typed config with profiles, deployments named
`<flow>/default` and `<flow>/retrain`, and no dimension named after a `.sel` keyword in the catalog."""

from __future__ import annotations

import pytest

from flows.common import FlowConfig
from flows.deployments import build_deployments
from flows.registry import get_workflow, workflows
from sciml.catalog import Catalog
from sciml.errors import UnknownNameError

WORKFLOWS = list(workflows())


def test_gpme_data_runs_first():
    assert WORKFLOWS[0] == "gpme-data"


@pytest.mark.parametrize("name", WORKFLOWS)
def test_workflow_pattern(name):
    wf = get_workflow(name)
    assert wf.flow.name == name
    assert issubclass(wf.config, FlowConfig)
    assert {"fast", "paper"} <= set(wf.config.PROFILES)
    fast, paper = wf.config.for_profile("fast"), wf.config.for_profile("paper")
    assert fast == wf.config()  # the fields' defaults are the fast profile
    assert fast.config_hash() != paper.config_hash()
    if wf.retrain is not None:
        assert wf.retrain.name == name, "retrain flow must share the flow name: <flow>/retrain"


def test_deployment_names():
    names = {f"{d.flow_name}/{d.name}" for d in build_deployments(retrain_cron="0 3 * * *")}
    for name, wf in workflows().items():
        assert f"{name}/default" in names
        assert (f"{name}/retrain" in names) == (wf.retrain is not None)
    retrain = [d for d in build_deployments() if d.name == "retrain"]
    for d in retrain:
        assert d.schedules and "0 2 * * *" in str(d.schedules[0].schedule)


def test_every_catalog_producer_is_a_workflow():
    """Every dataset is written by a registered workflow, except a user's own inputs
    (``producer: user``, written by ``sciml catalog import``)."""
    cat = Catalog.load()
    producers = {cat.entry(n)[0].producer for n in cat.list()}
    assert producers - {"user"} == set(WORKFLOWS)
    assert "thermoacoustic/recordings" in [n for n in cat.list() if cat.entry(n)[0].producer == "user"]


def test_unknown_workflow():
    with pytest.raises(UnknownNameError, match="gpme-data"):
        get_workflow("gpme-dat")
