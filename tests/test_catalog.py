"""The data catalog: names, schema validation, atomic writes, provenance, model registry, faults."""

from __future__ import annotations

import subprocess
import textwrap
import threading
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
    import io

    import zarr

    from sciml.catalog import versioned_store

    buffer = io.BytesIO()
    torch.save({"evil": threading.Lock}, buffer)  # an arbitrary class, not a tensor
    evil = np.frombuffer(buffer.getvalue(), dtype=np.uint8)

    def replace_weights(store, _repo):
        group = zarr.open_group(store, mode="a")["v1"]
        del group["weights"]
        group.create_array("weights", data=evil)

    versioned_store.transaction(catalog.models._path("demo"), replace_weights, "tamper")
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


def test_figures_are_written_by_name_and_not_listed(catalog):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    ax.plot([0, 1], [1, 0])
    path = catalog.write_figure("probconserv/figures/profile_stefan_u_star=0.6", fig)
    plt.close(fig)
    assert path == str(Path(catalog.data_dir, "figures", "probconserv", "profile_stefan_u_star=0.6.png"))
    assert Path(path).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not [p for p in Path(path).parent.iterdir() if p.name.startswith(".")]  # no temporaries
    assert not any("/figures/" in n for n in catalog.list())
    with pytest.raises(CatalogError, match="not a figure"):
        catalog.write_figure("probconserv/metrics", fig)
    with pytest.raises(CatalogError, match="not a dataset"):
        catalog.open("probconserv/figures/ce_vs_t")
    with pytest.raises(CatalogError, match="not a safe name"):
        catalog.write_figure("probconserv/figures/..", fig)


def test_figure_entries_need_a_png_path(tmp_path):
    path = _write_catalog(
        tmp_path,
        """
        datasets:
          demo/figures/{figure}:
            kind: figure
            path: figures/demo/{figure}.jpg
            description: d
            producer: demo
        """,
    )
    with pytest.raises(CatalogError, match="must end in .png"):
        Catalog.load(path, data_dir=tmp_path)
    path.write_text(path.read_text().replace("kind: figure", "kind: table"))
    with pytest.raises(CatalogError, match="kind 'table'"):
        Catalog.load(path, data_dir=tmp_path)


def test_git_revision_marks_uncommitted_changes(tmp_path):
    from sciml.catalog import git_revision

    def git(*args):
        subprocess.run(["git", *args], cwd=tmp_path, check=True, capture_output=True)

    git("init", "-q")
    (tmp_path / "a.txt").write_text("1")
    git("add", "a.txt")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "one")
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=tmp_path, capture_output=True, text=True)
    assert git_revision(tmp_path) == head.stdout.strip()
    (tmp_path / "a.txt").write_text("2")
    assert git_revision(tmp_path) == head.stdout.strip() + "-dirty"
    assert git_revision(tmp_path / "missing") is None


def test_raw_inputs_are_verified_by_their_sha256(tmp_path):
    import hashlib

    data = tmp_path / "data"
    data.mkdir()
    (data / "in.csv").write_text("a,b\n1,2\n")
    good = hashlib.sha256(b"a,b\n1,2\n").hexdigest()
    path = _write_catalog(
        tmp_path,
        f"""
        datasets:
          demo/raw/in:
            kind: raw
            path: in.csv
            sha256: {good}
            description: d
            producer: shipped
          demo/raw/missing:
            kind: raw
            path: gone.csv
            sha256: {good}
            description: d
            producer: shipped
        """,
    )
    cat = Catalog.load(path, data_dir=data)
    assert cat.raw_path("demo/raw/in") == data / "in.csv"
    assert cat.list() == []  # raw inputs are not datasets
    (data / "in.csv").write_text("a,b\n1,3\n")  # one byte changed
    with pytest.raises(SchemaError, match="sha256 .* differs from the catalog's"):
        cat.raw_path("demo/raw/in")
    with pytest.raises(DatasetNotFoundError, match="does not exist"):
        cat.raw_path("demo/raw/missing")
    path.write_text(path.read_text().replace(good, "abc", 1))
    with pytest.raises(CatalogError, match="needs its 'sha256'"):
        Catalog.load(path, data_dir=data)


def test_shipped_csib_inputs_are_catalogued_with_the_checksums_the_loader_checks(catalog):
    from sciml.csib.data import DATASETS

    for name, spec in DATASETS.items():
        entry, _ = catalog.entry(f"csib/raw/{name}")
        assert entry.sha256 == spec.sha256
        assert catalog.raw_path(f"csib/raw/{name}").name == spec.filename
