"""The versioned catalog: history, versions by id and time, kill -9, concurrent writers, CAS.

Every fault here is real: writers are separate processes, killed with SIGKILL mid-commit, or
racing on one dataset or one champion alias.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
import torch
import xarray as xr

from sciml.catalog import Catalog
from sciml.errors import ChampionMovedError, DatasetNotFoundError, SchemaError, StoreUnreachableError
from sciml.gpme import make_gpme_dataset

pytestmark = pytest.mark.xdist_group("versioned_catalog")


def _stefan(n_f=2, value=None):
    ds = make_gpme_dataset("stefan", np.linspace(0.55, 0.7, n_f), 6, 11, "test")
    if value is not None:
        ds["u"] = xr.full_like(ds.u, value)
    return ds


def test_every_write_is_a_version_readable_by_id_and_time(catalog):
    v1 = catalog.write("gpme/stefan/test", _stefan(2), {"config_hash": "aaa"})
    between = datetime.now(UTC)
    time.sleep(0.05)
    v2 = catalog.write("gpme/stefan/test", _stefan(3), {"config_hash": "bbb"})
    history = catalog.history("gpme/stefan/test")
    assert [h.id for h in history] == [v2, v1] and v1 != v2
    assert history[0].metadata["config_hash"] == "bbb" and history[1].metadata["config_hash"] == "aaa"
    assert history[0].written_utc >= history[1].written_utc
    assert catalog.version("gpme/stefan/test") == v2
    latest = catalog.open("gpme/stefan/test")
    assert latest.sizes["function"] == 3 and latest.attrs["catalog_version"] == v2
    assert catalog.open("gpme/stefan/test", version=v1).sizes["function"] == 2
    assert catalog.open("gpme/stefan/test", version=v1[:6]).attrs["catalog_version"] == v1
    old = catalog.open("gpme/stefan/test", as_of=between)
    assert old.sizes["function"] == 2 and old.attrs["config_hash"] == "aaa"
    assert catalog.open("gpme/stefan/test", as_of=between.isoformat()).sizes["function"] == 2
    with pytest.raises(DatasetNotFoundError, match="no version was written at or before"):
        catalog.open("gpme/stefan/test", as_of=between - timedelta(days=1))
    with pytest.raises(DatasetNotFoundError, match="is not one of its versions"):
        catalog.open("gpme/stefan/test", version="ZZZZZZZZ")
    with pytest.raises(DatasetNotFoundError, match="not an ISO 8601 time"):
        catalog.open("gpme/stefan/test", as_of="last tuesday")


def test_a_refused_write_adds_no_version(catalog):
    catalog.write("gpme/stefan/test", _stefan())
    bad = _stefan(3)
    bad["u"][0, 0, 0] = np.nan
    with pytest.raises(SchemaError, match="NaN"):
        catalog.write("gpme/stefan/test", bad)
    assert len(catalog.history("gpme/stefan/test")) == 1
    assert catalog.open("gpme/stefan/test").sizes["function"] == 2


def test_a_store_from_before_versioning_is_read_then_kept_aside(catalog):
    path = Path(catalog.path("gpme/stefan/test"))
    path.parent.mkdir(parents=True)
    _stefan(4).to_zarr(path, consolidated=False)
    legacy = catalog.open("gpme/stefan/test")
    assert legacy.sizes["function"] == 4 and legacy.attrs["catalog_version"] == "unversioned"
    assert catalog.history("gpme/stefan/test") == []
    with pytest.raises(DatasetNotFoundError, match="before the catalog kept versions"):
        catalog.open("gpme/stefan/test", version="ABCD")
    catalog.write("gpme/stefan/test", _stefan(2))
    assert len(catalog.history("gpme/stefan/test")) == 1
    kept = [p for p in path.parent.iterdir() if ".pre-versioning-" in p.name]
    assert len(kept) == 1 and xr.open_zarr(kept[0], consolidated=False).sizes["function"] == 4


_PAUSED_WRITER = """
import sys, numpy as np, xarray as xr, icechunk, torch
from sciml.catalog import Catalog
from sciml.gpme import make_gpme_dataset

cat = Catalog.load(data_dir=sys.argv[1])
real_commit = icechunk.Session.commit

def paused(self, *args, **kwargs):
    print("staged", flush=True)  # every chunk of the new version is written; commit next
    sys.stdin.read()  # the test kills this process here
    return real_commit(self, *args, **kwargs)

icechunk.Session.commit = paused
if sys.argv[2] == "dataset":
    ds = make_gpme_dataset("stefan", np.linspace(0.55, 0.7, 9), 6, 11, "test")
    cat.write("gpme/stefan/test", ds)
else:
    cat.save_model("demo", {"w": torch.zeros(1000)}, {"m": 0.0})
print("done", flush=True)
"""


@pytest.mark.parametrize("what", ["dataset", "model"])
def test_sigkill_mid_commit_keeps_the_previous_version(catalog, tmp_path, what):
    """A writer killed after writing every chunk, at its commit: the previous version stays the
    newest and intact, and the next write succeeds."""
    if what == "dataset":
        catalog.write("gpme/stefan/test", _stefan(2))
    else:
        catalog.save_model("demo", {"w": torch.ones(3)}, {"m": 1.0})
    script = tmp_path / "writer.py"
    script.write_text(_PAUSED_WRITER)
    proc = subprocess.Popen([sys.executable, str(script), catalog.data_dir, what],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE)  # fmt: skip
    assert proc.stdout.readline().strip() == b"staged"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    if what == "dataset":
        assert len(catalog.history("gpme/stefan/test")) == 1
        assert catalog.open("gpme/stefan/test").load().sizes["function"] == 2
        catalog.write("gpme/stefan/test", _stefan(3))
        assert catalog.open("gpme/stefan/test").sizes["function"] == 3
    else:
        assert catalog.model_versions("demo") == ["v1"]
        state, _ = catalog.load_model("demo", "v1")
        assert torch.equal(state["w"], torch.ones(3))
        assert catalog.save_model("demo", {"w": torch.ones(2)}, {"m": 0.5}) == "v2"


_RACING_WRITER = """
import sys, time, numpy as np, xarray as xr
from sciml.catalog import Catalog
from sciml.gpme import make_gpme_dataset

cat = Catalog.load(data_dir=sys.argv[1])
value, start = float(sys.argv[2]), float(sys.argv[3])
for i in range(int(sys.argv[4])):
    ds = make_gpme_dataset("stefan", np.linspace(0.55, 0.7, 4), 40, 200, "test")
    ds["u"] = xr.full_like(ds.u, value)
    while time.time() < start + 0.4 * i:  # both writers start each round together
        time.sleep(0.005)
    cat.write("gpme/stefan/test", ds, {"config_hash": f"{value}-{i}"})
"""


def test_two_writers_of_one_dataset_never_mix_and_lose_nothing(catalog, tmp_path):
    """Two processes write the same dataset at the same moments: every snapshot holds exactly one
    writer's data (never a mix), and every write lands as its own version (the loser of a
    commit race redoes its write on top of the winner's)."""
    rounds = 5
    script = tmp_path / "racer.py"
    script.write_text(_RACING_WRITER)
    start = time.time() + 3.0
    procs = [subprocess.Popen([sys.executable, str(script), catalog.data_dir, str(v), str(start),
                               str(rounds)]) for v in (1.0, 2.0)]  # fmt: skip
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    history = catalog.history("gpme/stefan/test")
    assert sorted(h.metadata["config_hash"] for h in history) == sorted(
        f"{v}-{i}" for v in (1.0, 2.0) for i in range(rounds)
    )
    for h in history:
        u = catalog.open("gpme/stefan/test", version=h.id).u.values
        assert np.unique(u).tolist() == [float(h.metadata["config_hash"].split("-")[0])]


_RETRAINER = """
import sys
import numpy as np, torch
from flows.common import champion_challenger
from sciml.settings import Settings

rng = np.random.default_rng(int(sys.argv[1]))
for _ in range(int(sys.argv[2])):
    w = float(rng.uniform())
    champion_challenger("race", {"w": torch.tensor([w], dtype=torch.float64)},
                        lambda sd: {"score": float(sd["w"][0])}, Settings(), score="score",
                        history="csib/retrain_history", data_versions={"csib/x": "V"})
"""


def test_two_concurrent_retrains_never_leave_a_worse_champion(catalog, tmp_path):
    """Two retraining processes, 10 rounds each, promoting by compare-and-swap: the champion at
    the end is the best of all 20 challengers, and every decision is in the history."""
    script = tmp_path / "retrain.py"
    script.write_text(_RETRAINER)
    env = {**os.environ, "SCIML_DATA_DIR": catalog.data_dir}
    procs = [subprocess.Popen([sys.executable, str(script), str(seed), "10"], env=env)
             for seed in (11, 12)]  # fmt: skip
    assert [p.wait(timeout=300) for p in procs] == [0, 0]
    versions = catalog.model_versions("race")
    assert len(versions) == 20
    scores = {v: catalog.model_info("race", v)["metrics"]["score"] for v in versions}
    champion = catalog.champion("race")
    assert scores[champion] == min(scores.values())
    hist = catalog.open("csib/retrain_history").load()
    assert hist.sizes["retrain"] == 20
    assert sorted(map(str, hist.challenger_version.values)) == sorted(versions)
    promoted = hist.where(hist.promoted, drop=True)
    beaten = promoted.champion_score.values
    assert np.all(np.isnan(beaten) | (promoted.challenger_score.values < beaten))
    assert all(json.loads(str(d)) == {"csib/x": "V"} for d in hist.data_versions.values)


def test_compare_and_swap_refuses_a_moved_champion(catalog):
    for w in (3.0, 2.0):
        catalog.save_model("cas", {"w": torch.tensor([w])}, {"m": w})
    catalog.promote("cas", "v1", expected=None)
    with pytest.raises(ChampionMovedError, match="is 'v1', not the expected None"):
        catalog.promote("cas", "v2", expected=None)
    catalog.promote("cas", "v2", expected="v1")
    assert catalog.champion("cas") == "v2"


def test_an_unreachable_object_store_is_named_and_nothing_is_written(tmp_path, monkeypatch):
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    monkeypatch.setenv("SCIML_STORE_RETRIES", "1")
    cat = Catalog.load(data_dir="s3://sciml-absent/catalog")
    with pytest.raises(StoreUnreachableError, match="s3://sciml-absent/catalog/gpme/stefan/test.zarr"):
        cat.write("gpme/stefan/test", _stefan())
    with pytest.raises(StoreUnreachableError, match="cannot be reached"):
        cat.open("gpme/stefan/test")


def test_expiring_old_versions_keeps_the_newest_and_young_objects(catalog):
    for n in (2, 3, 4):
        catalog.write("gpme/stefan/test", _stefan(n))
    time.sleep(0.05)
    expired, deleted = catalog.expire("gpme/stefan/test", datetime.now(UTC))
    assert expired == 2 and len(catalog.history("gpme/stefan/test")) == 1
    assert deleted == 0  # every object is younger than the one-day grace of garbage collection
    assert catalog.open("gpme/stefan/test").sizes["function"] == 4
    catalog.write("gpme/stefan/test", _stefan(5))
    assert len(catalog.history("gpme/stefan/test")) == 2


def test_an_unchanged_rewrite_can_skip_the_commit(catalog):
    first = catalog.write("gpme/stefan/test", _stefan(3), {"config_hash": "a"})
    same = catalog.write("gpme/stefan/test", _stefan(3), {"config_hash": "b"}, skip_unchanged=True)
    assert same == first and len(catalog.history("gpme/stefan/test")) == 1
    changed = _stefan(3, value=0.5)
    assert catalog.write("gpme/stefan/test", changed, skip_unchanged=True) != first
    assert len(catalog.history("gpme/stefan/test")) == 2
    assert catalog.write("gpme/stefan/test", _stefan(3)) != first  # by default every write commits
