"""The data catalog: names, schema validation, atomic writes, provenance, model registry, faults."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import torch
import xarray as xr

from sciml.catalog import Catalog, provenance_attrs
from sciml.errors import CatalogError, DatasetNotFoundError, ModelNotFoundError, SchemaError
from sciml.gpme import make_gpme_dataset


def _stefan(n_f=2):
    return make_gpme_dataset("stefan", np.linspace(0.55, 0.7, n_f), 6, 11, "test")


def _write_catalog(tmp_path, text):
    p = tmp_path / "cat.yaml"
    p.write_text(textwrap.dedent(text))
    return p


def test_list_expands_templates(catalog):
    names = catalog.list()
    for problem in ("diffusion", "pme", "stefan"):
        assert f"gpme/{problem}/train" in names and f"gpme/{problem}/test" in names
    assert not any("{" in n for n in names)


def test_write_open_roundtrip_with_provenance(catalog):
    ds = _stefan()
    catalog.write("gpme/stefan/test", ds, provenance_attrs({"a": 1}, flow_run_id="abc"))
    out = catalog.open("gpme/stefan/test")
    assert out.u.chunks is not None  # lazy, dask-backed
    np.testing.assert_array_equal(out.u.values, ds.u.values)
    np.testing.assert_array_equal(out.param.values, ds.param.values)
    for key in (
        "config",
        "config_hash",
        "sciml_version",
        "git_revision",
        "created_utc",
        "flow_run_id",
    ):
        assert key in out.attrs
    assert out.attrs["flow_run_id"] == "abc"
    # the parameter coordinate is indexed on open: select by label as a user writes it
    np.testing.assert_allclose(out.sel(param=0.7).u.values, ds.u.isel(function=1).values)


def test_string_labels_roundtrip_and_select(catalog, tmp_path):
    path = _write_catalog(
        tmp_path,
        """
        datasets:
          demo/metrics:
            path: demo/metrics.zarr
            description: demo
            producer: demo
            dims: [model, problem]
            variables: [mse]
    """,
    )
    cat = Catalog.load(path, data_dir=catalog.data_dir)
    ds = xr.Dataset(
        {"mse": (("model", "problem"), np.arange(6.0).reshape(3, 2))},
        coords={"model": ["ANP", "ProbConserv-ANP", "HardC-ANP"], "problem": ["pme", "stefan"]},
    )
    cat.write("demo/metrics", ds)
    out = cat.open("demo/metrics")
    assert float(out.sel(model="ProbConserv-ANP", problem="stefan").mse) == 3.0
    df = out.to_dataframe()
    assert df.loc[("HardC-ANP", "pme"), "mse"] == 4.0
    assert out.mse.sel(problem="stefan").idxmin("model").compute().item() == "ANP"


def test_schema_mismatch_raises_and_keeps_previous_version(catalog):
    catalog.write("gpme/stefan/test", _stefan())
    bad = _stefan().rename({"x": "space"})
    with pytest.raises(SchemaError, match=r"lacks dims \['x'\]"):
        catalog.write("gpme/stefan/test", bad)
    with pytest.raises(SchemaError, match=r"lacks variables \['mass'\]"):
        catalog.write("gpme/stefan/test", _stefan().drop_vars("mass"))
    assert catalog.open("gpme/stefan/test").sizes["x"] == 11


def test_nan_data_is_refused_where_required_finite(catalog):
    ds = _stefan()
    ds["u"][0, 1, 1] = np.nan
    with pytest.raises(SchemaError, match="NaN"):
        catalog.write("gpme/stefan/test", ds)
    assert not catalog.exists("gpme/stefan/test")


def test_method_dimension_is_refused(catalog, tmp_path):
    path = _write_catalog(
        tmp_path,
        """
        datasets:
          demo/x: {path: demo/x.zarr, description: d, producer: p}
    """,
    )
    cat = Catalog.load(path, data_dir=catalog.data_dir)
    with pytest.raises(SchemaError, match="'method'"):
        cat.write("demo/x", xr.Dataset({"a": (("method",), [1.0])}))


def test_unknown_dataset_names_close_match(catalog):
    with pytest.raises(DatasetNotFoundError, match="did you mean 'gpme/stefan/test'"):
        catalog.open("gpme/stefan/tset")
    with pytest.raises(DatasetNotFoundError, match="not in catalog"):
        catalog.open("gpme/heat/test")  # 'heat' not among the template values


def test_unwritten_dataset_names_its_producer(catalog):
    with pytest.raises(DatasetNotFoundError, match="run the 'gpme-data' flow"):
        catalog.open("gpme/pme/train")


@pytest.mark.parametrize(
    "text, match",
    [
        ("datasets: [1, 2]", "must be a mapping"),
        ("datasets:\n  a/b: {description: d, producer: p}", "non-empty string 'path'"),
        (
            "datasets:\n  a/b: {path: p.zarr, description: d, producer: p, colour: red}",
            "unknown keys",
        ),
        (
            "datasets:\n  a/b: {path: p.zarr, description: d, producer: p, dims: x}",
            "list of strings",
        ),
        ("datasets: {a: [", "not valid YAML"),
        ("datasets:\n  a/{k}: {path: p.zarr, description: d, producer: p}", "same placeholders"),
    ],
)
def test_malformed_catalog_file(tmp_path, text, match):
    with pytest.raises(CatalogError, match=match):
        Catalog.load(_write_catalog(tmp_path, text), data_dir=tmp_path)


def test_missing_catalog_file(tmp_path):
    with pytest.raises(CatalogError, match="not found"):
        Catalog.load(tmp_path / "nope.yaml")


def test_path_escaping_data_dir_is_refused(tmp_path):
    path = _write_catalog(
        tmp_path,
        """
        datasets:
          evil/x: {path: ../../outside.zarr, description: d, producer: p}
          evil/abs: {path: /etc/outside.zarr, description: d, producer: p}
    """,
    )
    cat = Catalog.load(path, data_dir=tmp_path / "data")
    for name in ("evil/x", "evil/abs"):
        with pytest.raises(CatalogError, match="escapes the data dir"):
            cat.path(name)


def test_template_value_cannot_escape(tmp_path):
    path = _write_catalog(
        tmp_path,
        """
        datasets:
          "free/{name}": {path: "free/{name}.zarr", description: d, producer: p}
    """,
    )
    cat = Catalog.load(path, data_dir=tmp_path / "data")
    assert cat.path("free/ok").endswith("free/ok.zarr")
    with pytest.raises(CatalogError, match="not a safe name part"):
        cat.path("free/..")


def test_fsspec_memory_store_roundtrip(tmp_path):
    path = _write_catalog(
        tmp_path,
        """
        datasets:
          gpme/stefan/test: {path: gpme/stefan/test.zarr, description: d, producer: p, dims: [x]}
    """,
    )
    cat = Catalog.load(path, data_dir="memory://sciml-test")
    cat.write("gpme/stefan/test", _stefan())
    cat.write("gpme/stefan/test", _stefan(3))
    assert cat.open("gpme/stefan/test").sizes["function"] == 3


def test_model_registry_versions_and_champion(catalog):
    v1 = catalog.save_model(
        "probconserv/stefan", {"w": torch.ones(2)}, {"test_mse": 0.2}, {"lr": 1e-3}
    )
    v2 = catalog.save_model("probconserv/stefan", {"w": torch.zeros(2)}, {"test_mse": 0.1})
    assert (v1, v2) == ("v1", "v2")
    with pytest.raises(ModelNotFoundError, match="no champion"):
        catalog.load_model("probconserv/stefan")
    catalog.promote("probconserv/stefan", v2)
    state, info = catalog.load_model("probconserv/stefan")
    assert torch.equal(state["w"], torch.zeros(2)) and info["version"] == "v2"
    assert info["metrics"]["test_mse"] == 0.1
    assert catalog.model_info("probconserv/stefan", "v1")["config"] == {"lr": 1e-3}  # a dict, not JSON
    with pytest.raises(ModelNotFoundError, match="no version 'v9'"):
        catalog.promote("probconserv/stefan", "v9")
    with pytest.raises(CatalogError, match="not a safe name"):
        catalog.save_model("../x", {}, {})


def test_model_loading_refuses_pickled_objects(catalog):
    catalog.save_model("demo", {"w": torch.ones(1)}, {"m": 1.0})
    catalog.promote("demo", "v1")
    model_file = Path(catalog.data_dir, "models", "demo", "v1", "model.pt")
    torch.save({"evil": threading.Lock}, model_file)  # an arbitrary class, not a tensor
    with pytest.raises(Exception, match="[Ww]eights only"):
        catalog.load_model("demo")


def test_concurrent_model_writers_get_distinct_versions(catalog):
    versions: list[str] = []

    def worker():
        for _ in range(5):
            versions.append(catalog.save_model("race", {"w": torch.ones(1)}, {"m": 1.0}))

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(versions, key=lambda v: int(v[1:])) == [f"v{i}" for i in range(1, 21)]
    assert catalog.model_versions("race") == [f"v{i}" for i in range(1, 21)]


_KILL_SCRIPT = """
import sys, numpy as np, xarray as xr
from sciml.catalog import Catalog
cat = Catalog.load(data_dir=sys.argv[1])
n = 160
ds = xr.Dataset({"u": (("function", "t", "x"), np.random.default_rng(0).random((n, 500, 500))),
                 "mass": (("function", "t"), np.zeros((n, 500)))},
                coords={"function": np.arange(n), "param": ("function", np.linspace(0.55, 0.7, n))})
print("writing", flush=True)
cat.write("gpme/stefan/test", ds)
print("done", flush=True)
"""


def test_sigkill_during_write_keeps_previous_version(catalog, tmp_path):
    catalog.write("gpme/stefan/test", _stefan())
    script = tmp_path / "writer.py"
    script.write_text(_KILL_SCRIPT)
    proc = subprocess.Popen([sys.executable, str(script), catalog.data_dir], stdout=subprocess.PIPE)
    assert proc.stdout.readline().strip() == b"writing"
    versions = Path(catalog.data_dir, "gpme", "stefan", ".versions")
    deadline = time.monotonic() + 60
    while len(list(versions.iterdir())) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.3)  # well inside the ~300 MB write
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    out = catalog.open("gpme/stefan/test").load()
    assert out.sizes["function"] == 2 and out.sizes["x"] == 11
    assert float(out.u.isel(t=0, x=0)[0]) == 1.0
    visible = [
        p.name
        for p in Path(catalog.data_dir, "gpme", "stefan").iterdir()
        if not p.name.startswith(".")
    ]
    assert visible == ["test.zarr"]
    # the killed writer's partial store is collected by the next write, the live version stays
    leftovers = sorted(p.name for p in versions.iterdir())
    assert len(leftovers) == 2 and any(f"-{proc.pid}-" in name for name in leftovers)
    catalog.write("gpme/stefan/test", _stefan())
    remaining = list(versions.iterdir())
    assert len(remaining) == 1 and remaining[0] == Path(catalog.path("gpme/stefan/test")).resolve()
    assert f"-{proc.pid}-" not in remaining[0].name


def test_orphan_collection_spares_live_writers_and_other_hosts(tmp_path):
    from sciml.catalog import _collect_orphans, _writer_tag

    versions = tmp_path / ".versions"
    versions.mkdir()
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    host = _writer_tag().rsplit("-", 1)[0]
    names = {
        "dead": f"a.zarr.{host}-{dead.pid}-0123456789ab",
        "alive": f"a.zarr.{host}-{os.getpid()}-0123456789ab",
        "other_host": f"a.zarr.elsewhere-{dead.pid}-0123456789ab",
        "aside": "a.zarr.aside-0123456789ab",
        "other_dataset": f"b.zarr.{host}-{dead.pid}-0123456789ab",
    }
    for name in names.values():
        (versions / name).mkdir()
    removed = _collect_orphans(versions, "a.zarr")
    assert [p.name for p in removed] == [names["dead"]]
    assert sorted(p.name for p in versions.iterdir()) == sorted(v for k, v in names.items() if k != "dead")
