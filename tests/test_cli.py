"""The `sciml` command line: catalog list/show, query with labels, errors."""

from __future__ import annotations

import io
import json
from contextlib import redirect_stderr, redirect_stdout

import numpy as np
import pandas as pd
import pytest

from sciml.cli import main, parse_selection
from sciml.gpme import make_gpme_dataset


def _run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def stefan_written(catalog):
    catalog.write("gpme/stefan/test", make_gpme_dataset("stefan", [0.6, 0.5], 11, 21, "test"))
    return catalog


def test_parse_selection():
    assert parse_selection(["param=0.6", "model=ANP", "t=1", "k=a,b"]) == {
        "param": 0.6,
        "model": "ANP",
        "t": 1,
        "k": ["a", "b"],
    }


def test_catalog_list_and_show(stefan_written):
    code, out, _ = _run("catalog", "list")
    assert code == 0
    line = next(ln for ln in out.splitlines() if ln.startswith("gpme/stefan/test"))
    assert "written" in line and "gpme-data" in line
    code, out, _ = _run("catalog", "show", "gpme/stefan/test")
    info = json.loads(out)
    assert info["dims"] == {"function": 2, "t": 11, "x": 21}
    assert set(info["variables"]) == {"u", "mass"}


def test_query_by_parameter_label_prints_values(stefan_written):
    code, out, _ = _run(
        "query", "gpme/stefan/test", "--sel", "param=0.6", "--sel", "t=0.05", "--var", "u", "--csv"
    )
    assert code == 0
    df = pd.read_csv(io.StringIO(out))
    assert len(df) == 21 and set(df.param) == {0.6}
    assert df.u.iloc[0] == 1.0 and df.u.iloc[-1] == 0.0


def test_query_string_labels(catalog, tmp_path, monkeypatch):
    import xarray as xr

    cat_file = tmp_path / "c.yaml"
    cat_file.write_text(
        "datasets:\n  demo/m: {path: demo/m.zarr, description: d, producer: p, dims: [model]}\n"
    )
    monkeypatch.setenv("SCIML_CATALOG", str(cat_file))
    from sciml.catalog import Catalog

    Catalog.load().write(
        "demo/m", xr.Dataset({"mse": (("model",), [0.1, 0.2])}, coords={"model": ["ANP", "ProbConserv-ANP"]})
    )
    code, out, _ = _run("query", "demo/m", "--sel", "model=ProbConserv-ANP", "--csv")
    assert code == 0 and "0.2" in out and "ANP" in out
    assert np.isclose(pd.read_csv(io.StringIO(out)).mse.iloc[0], 0.2)


@pytest.mark.parametrize(
    "argv, match",
    [
        (("query", "gpme/stefan/tset"), "did you mean"),
        (("query", "gpme/stefan/test", "--sel", "alpha=1"), "no coordinate 'alpha'"),
        (("query", "gpme/stefan/test", "--var", "v"), "not in"),
        (("query", "gpme/stefan/test", "--sel", "param"), "key=value"),
    ],
)
def test_query_errors_are_clear(stefan_written, argv, match):
    code, _, err = _run(*argv)
    assert code == 2 and match in err


def test_history_and_queries_of_earlier_versions(stefan_written):
    stefan_written.write("gpme/stefan/test", make_gpme_dataset("stefan", [0.6, 0.5, 0.55], 11, 21, "test"))
    code, out, _ = _run("catalog", "history", "gpme/stefan/test")
    versions = [v.id for v in stefan_written.history("gpme/stefan/test")]
    assert code == 0 and len(versions) == 2
    lines = [ln for ln in out.splitlines() if ln.split() and ln.split()[0] in versions]
    assert [ln.split()[0] for ln in lines] == versions  # newest first
    code, out, _ = _run("query", "gpme/stefan/test", "--version", versions[1][:8], "--isel", "t=0",
                        "--isel", "x=0", "--var", "u", "--csv")  # fmt: skip
    assert code == 0 and len(pd.read_csv(io.StringIO(out))) == 2
    code, out, _ = _run("query", "gpme/stefan/test", "--isel", "t=0", "--isel", "x=0", "--csv")
    assert len(pd.read_csv(io.StringIO(out))) == 3
    code, _, err = _run("query", "gpme/stefan/test", "--version", "NOPE1234")
    assert code == 2 and "is not one of its versions" in err
    code, out, _ = _run("catalog", "expire", "gpme/stefan/test", "--older-than-days", "0")
    assert code == 0 and "1 version(s)" in out
    assert len(stefan_written.history("gpme/stefan/test")) == 1


def test_a_refused_import_adds_no_version(stefan_written, tmp_path):
    bad = make_gpme_dataset("stefan", [0.6, 0.5], 11, 21, "test")
    bad["u"][0, 0, 0] = np.nan
    bad.to_netcdf(tmp_path / "bad.nc")
    code, _, err = _run("catalog", "import", "gpme/stefan/test", str(tmp_path / "bad.nc"))
    assert code == 2 and "NaN" in err
    code, _, err = _run("catalog", "import", "gpme/stefan/tset", str(tmp_path / "bad.nc"))
    assert code == 2 and "did you mean 'gpme/stefan/test'" in err
    assert len(stefan_written.history("gpme/stefan/test")) == 1
