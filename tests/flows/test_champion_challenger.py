"""Champion/challenger and commit events: decisions, history rows, refused data, unknown names."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from flows import events
from flows.common import champion_challenger
from sciml.catalog import events as catalog_events
from sciml.errors import DataError, DatasetNotFoundError, UnknownNameError
from sciml.gpme import make_gpme_dataset
from sciml.settings import Settings

pytestmark = pytest.mark.xdist_group("champion_challenger")


def _score(sd):
    return {"score": float(sd["w"][0]), "other": 1.0}


def _decide(w: float, **kw):
    return champion_challenger("demo", {"w": torch.tensor([w], dtype=torch.float64)}, _score,
                               Settings(), score="score", history="csib/retrain_history",
                               data_versions={"csib/bike_sharing": "A"}, **kw)  # fmt: skip


def test_decisions_rescore_the_champion_and_are_recorded(catalog):
    first, worse, better = _decide(0.5), _decide(0.7), _decide(0.2)
    assert first["promoted"] and first["champion_before"] is None and np.isnan(first["champion_score"])
    assert not worse["promoted"] and worse["champion"] == "v1" and worse["champion_score"] == 0.5
    assert better["promoted"] and better["champion_before"] == "v1" and better["champion"] == "v3"
    assert catalog.champion("demo") == "v3"
    hist = catalog.open("csib/retrain_history").load()
    assert hist.sizes["retrain"] == 3
    assert hist.promoted.values.tolist() == [True, False, True]
    assert hist.challenger_score.values.tolist() == [0.5, 0.7, 0.2]
    assert hist.champion_after.values.tolist() == ["v1", "v1", "v3"]
    assert json.loads(str(hist.data_versions.values[0])) == {"csib/bike_sharing": "A"}
    assert hist.attrs["score"] == "score" and catalog.model_info("demo", "v2")["data_versions"] == {
        "csib/bike_sharing": "A"}
    higher = champion_challenger("demo", {"w": torch.tensor([0.9], dtype=torch.float64)}, _score,
                                 Settings(), score="score", history="csib/retrain_history",
                                 lower_is_better=False)  # fmt: skip
    assert higher["promoted"] and higher["champion_score"] == 0.2


def test_a_champion_that_cannot_be_scored_on_current_data_loses(catalog):
    catalog.save_model("demo", {"other_layer": torch.zeros(1)}, {"score": 0.0})
    catalog.promote("demo", "v1")
    out = _decide(0.9)
    assert out["promoted"] and "cannot be scored" in out["reason"] and np.isnan(out["champion_score"])


def test_data_that_fails_validation_saves_no_challenger(catalog):
    def refuse(sd):
        raise DataError("validation split of csib/bike_sharing holds NaN targets")

    with pytest.raises(DataError, match="NaN targets"):
        champion_challenger("demo", {"w": torch.ones(1)}, refuse, Settings(), score="score",
                            history="csib/retrain_history")  # fmt: skip
    assert catalog.model_versions("demo") == [] and not catalog.exists("csib/retrain_history")


def test_commits_are_published_to_listeners_and_a_failing_listener_keeps_the_commit(catalog):
    seen: list = []

    def broken(event):
        raise RuntimeError("listener down")

    catalog_events.subscribe(seen.append)
    catalog_events.subscribe(broken)
    try:
        ds = make_gpme_dataset("stefan", [0.6], 6, 11, "test")
        version = catalog.write("gpme/stefan/test", ds)
    finally:
        catalog_events.unsubscribe(seen.append)
        catalog_events.unsubscribe(broken)
    assert [(e.name, e.version, e.producer) for e in seen] == [("gpme/stefan/test", version, "gpme-data")]
    assert catalog.version("gpme/stefan/test") == version


def test_retrain_triggers_name_only_catalog_datasets():
    trigger = events.retrain_trigger("csib")
    ids = trigger.match.root["prefect.resource.id"]
    assert "sciml.dataset.csib/bike_sharing" in ids and trigger.expect == {events.EVENT}
    assert events.is_retrain_input("gpme/pme/val") and not events.is_retrain_input("csib/metrics")
    with pytest.raises(DatasetNotFoundError, match="did you mean 'csib/bike_sharing'"):
        events.retrain_trigger("csib", names=["csib/bike_sharng"])
    with pytest.raises(UnknownNameError, match="unknown retraining workflow 'chaos'"):
        events.input_names("chaos")
