"""A user's own conservation law read from a file: totals, rows, fluxes, sigma_G, bad inputs."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from pydantic import ValidationError

from sciml.cli import parse_selection
from sciml.errors import DataError
from sciml.gpme import trapezoid_weights
from sciml.probconserv import UserLaw, read_user_law, user_law_inputs, validate_inputs
from sciml.probconserv.experiment import ProbConservConfig


def _heat(n_f: int = 3) -> xr.Dataset:
    """u = exp(-a t) sin(pi x) on a non-uniform x grid of [0, 1]; mass and first moment exact."""
    rng = np.random.default_rng(0)
    x = np.sort(np.concatenate([[0.0, 1.0], rng.uniform(0, 1, 30)]))
    t = np.linspace(0.0, 1.0, 11)
    a = np.linspace(1.0, 2.0, n_f)
    decay = np.exp(-a[:, None] * t[None, :])
    u = decay[..., None] * np.sin(np.pi * x)
    moments = np.stack([2 / np.pi * decay, 1 / np.pi * decay], axis=-1)  # int u dx, int x u dx
    w = trapezoid_weights(x)
    return xr.Dataset(
        {
            "u": (("function", "t", "x"), u),
            "mass": (("function", "t"), moments[..., 0]),
            "moments": (("function", "t", "row"), moments),
            "G": (("row", "x"), np.stack([w, w * x])),
            "noise": (("t",), np.linspace(0.0, 0.1, t.size)),
        },
        coords={"t": t, "x": x, "row": ["mass", "moment"]},
    )


@pytest.fixture
def heat_file(tmp_path):
    path = tmp_path / "heat.nc"
    _heat().to_netcdf(path)
    return str(path)


def test_a_netcdf_file_with_a_total_variable_becomes_the_inputs_layout(heat_file):
    inputs = read_user_law(UserLaw(path=heat_file, total="mass"))
    src = _heat()
    assert dict(inputs.sizes) == {"function": 3, "t": 11, "x": 32, "constraint": 1}
    np.testing.assert_array_equal(inputs.x.values, src.x.values)  # the non-uniform grid is kept
    np.testing.assert_allclose(inputs.g.sel(constraint="mass"), trapezoid_weights(src.x.values))
    np.testing.assert_array_equal(inputs.total.values[..., 0], src.mass.values)
    assert list(inputs.split.values) == ["train", "val", "test"]  # last: test, the one before: val
    assert inputs.attrs["source_sha256"] and inputs.attrs["total_source"] == "variable 'mass'"
    validate_inputs(inputs)
    # the same data give the same digest; a zarr store of it reads the same
    again = read_user_law(UserLaw(path=heat_file, total="mass"))
    assert again.attrs["content_sha256"] == inputs.attrs["content_sha256"]


def test_several_rows_per_time_sigma_and_zarr(tmp_path):
    src = _heat()
    path = tmp_path / "heat.zarr"
    src.to_zarr(path)
    law = UserLaw(path=str(path), total="moments", constraint="G", sigma_g="noise", test=(0,), val=())
    inputs = read_user_law(law)
    assert list(inputs.constraint.values) == ["mass", "moment"]
    np.testing.assert_allclose(inputs.sigma_g.values, np.repeat(src.noise.values[:, None], 2, axis=1))
    np.testing.assert_array_equal(inputs.total.values, src.moments.values)
    assert list(inputs.split.values) == ["test", "train", "train"]
    # the trapezoid rows of the fine non-uniform grid meet the exact moments closely
    ce = np.einsum("ftx,kx->ftk", inputs.u.values, inputs.g.values) - inputs.total.values
    assert np.abs(ce).max() < 5e-3


def test_totals_from_boundary_fluxes_and_constants():
    """u = 1{x <= 0.5 + t} on [0, 1] (advection at speed 1): inflow 1 at x = 0, no outflow while
    the front is inside, so U(t) = 0.5 + t = U(0) + int_0^t (F(0) - F(1)) ds."""
    t, x = np.linspace(0, 0.4, 9), np.linspace(0, 1, 41)
    ds = xr.Dataset({"u": (("t", "x"), (x[None, :] <= 0.5 + t[:, None]).astype(float)),
                     "fin": (("t",), np.ones(t.size))}, coords={"t": t, "x": x})  # fmt: skip
    law = UserLaw(path="memory", flux_left="fin", flux_right=0.0, total_initial=0.5)
    inputs = user_law_inputs(ds, law)
    np.testing.assert_allclose(inputs.total.values[0, :, 0], 0.5 + t, atol=1e-14)
    assert list(inputs.split.values) == ["all"]  # one function: trained and evaluated on
    const = user_law_inputs(ds, UserLaw(path="memory", total=2.5))
    np.testing.assert_array_equal(const.total.values, 2.5)
    # b(t0) defaults to the quadrature of u(t0)
    default = user_law_inputs(ds, UserLaw(path="memory", flux_left=1.0, flux_right=0.0))
    assert default.total.values[0, 0, 0] == pytest.approx(float(trapezoid_weights(x) @ ds.u.values[0]))


def test_a_decreasing_grid_is_sorted_and_the_file_dims_can_be_named():
    src = _heat(2)
    flipped = src.isel(x=slice(None, None, -1)).rename({"t": "time", "x": "pos", "function": "run"})
    law = UserLaw(path="memory", total="mass", t_dim="time", x_dim="pos", function_dim="run")
    inputs = user_law_inputs(flipped, law)
    np.testing.assert_array_equal(inputs.x.values, src.x.values)
    np.testing.assert_array_equal(inputs.u.values, src.u.values)


@pytest.mark.parametrize(
    ("change", "law", "match"),
    [
        (lambda ds: ds.assign(G=ds.G.isel(x=slice(0, 5)).rename(x="x5")),
         {"constraint": "G", "total": "moments"},
         r"data.constraint='G' has dims \('row', 'x5'\)"),  # fmt: skip
        (lambda ds: ds.assign(G=ds.G.isel(x=0)), {"constraint": "G", "total": "moments"},
         r"dims \('row',\) .* to match the grid of 32 x points"),  # fmt: skip
        (lambda ds: ds.drop_vars("x"), {"total": "mass"}, "no coordinate values for 'x'"),
        (lambda ds: ds.assign(mass=ds.mass.where(ds.t != 0.5)), {"total": "mass"},
         r"data.total='mass' holds 3 NaN .* the first at \{'function': 0, 't': 0.5\}"),
        (lambda ds: ds.assign_coords(x=np.r_[ds.x.values[:10], ds.x.values[10:][::-1]]), {"total": "mass"},
         "the x coordinate 'x' of the dataset is not strictly monotone"),  # fmt: skip
        (lambda ds: ds.assign_coords(t=np.r_[0.0, ds.t.values[:-1]]), {"total": "mass"},
         "not strictly monotone"),
        (lambda ds: ds, {"total": "mas"}, r"data.total='mas': no such variable .* variables: \['G', "),
        (lambda ds: ds, {"total": "moments"}, "has no row dim|allowed"),
        (lambda ds: ds, {"total": "moments", "constraint": "G", "sigma_g": "mass"},
         "may not vary by function"),
        (lambda ds: ds.assign(u=ds.u.where(ds.x > 0.5)), {"total": "mass"}, "data.variable='u' holds"),
        (lambda ds: ds, {"total": "mass", "test": (0,), "val": (1, 2)}, "leave no function"),
    ],
)
def test_bad_inputs_raise_data_errors_naming_the_input(change, law, match):
    with pytest.raises(DataError, match=match):
        user_law_inputs(change(_heat()), UserLaw(path="memory", **law))


def test_settings_errors_and_dotted_keys(heat_file):
    with pytest.raises(ValidationError, match="the conserved total is missing"):
        UserLaw(path=heat_file)
    with pytest.raises(ValidationError, match="not both"):
        UserLaw(path=heat_file, total=1.0, flux_left=1.0, flux_right=0.0)
    with pytest.raises(ValidationError, match="data.sigma_g must be >= 0"):
        UserLaw(path=heat_file, total=1.0, sigma_g=-1.0)
    with pytest.raises(DataError, match="does not exist"):
        read_user_law(UserLaw(path=heat_file + ".missing", total=1.0))
    # `sciml run probconserv --set data.path=... --set data.total=mass` is the nested mapping of a
    # deployment's parameters
    dotted = ProbConservConfig.for_profile(
        "tiny",
        **parse_selection([f"data.path={heat_file}", "data.total=mass", "data.sigma_g=0.01", "data.test=-1"]),
    )
    nested = ProbConservConfig.model_validate(
        {"profile": "tiny", "data": {"path": heat_file, "total": "mass", "sigma_g": 0.01, "test": [-1]}}
    )
    assert dotted == nested and dotted.data.test == (-1,) and dotted.data.sigma_g == 0.01
    assert dotted.config_hash() == nested.config_hash()
    with pytest.raises(ValidationError, match="data.totl"):
        ProbConservConfig(**{"data.path": heat_file, "data.totl": "mass"})


def test_the_catalog_checks_what_is_written(catalog, heat_file):
    inputs = read_user_law(UserLaw(path=heat_file, total="mass"))
    version = catalog.write("probconserv/user/inputs", inputs)
    back = catalog.open("probconserv/user/inputs", version=version)
    assert back.attrs["content_sha256"] == inputs.attrs["content_sha256"]
    bad = inputs.assign_coords(x=inputs.x.values[::-1].copy())
    with pytest.raises(DataError, match="probconserv/user/inputs.*'x' must be strictly increasing"):
        catalog.write("probconserv/user/inputs", bad)
    with pytest.raises(DataError, match="sigma_g"):
        catalog.write("probconserv/user/inputs", inputs.assign(sigma_g=-inputs.sigma_g - 1))
