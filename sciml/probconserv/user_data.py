r"""A user's own conservation law: their u(t, x), their constraint G u = b, as checked inputs.

ProbConserv (Hansen et al., "Learning Physical Models that Can Respect Conservation Laws",
ICML 2023, arXiv 2302.11002, Sec. 3) needs, besides a black box, the integral form of a
conservation law: a linear map :math:`G` of the solution on the x grid and the value :math:`b(t)` it
must take. For a scalar law :math:`u_t + \partial_x F = 0` on :math:`[x_0, x_1]` the mass is
conserved up to the boundary fluxes,

.. math:: b(t) = \int_{x_0}^{x_1} u(t, x)\,dx
          = b(t_0) + \int_{t_0}^{t} \big(F(s, x_0) - F(s, x_1)\big)\,ds,

and :math:`G` is the quadrature row of the grid (the trapezoid rule on any, non-uniform, x grid).
More rows (a first moment, or any other conserved linear functional) make :math:`G` a
:math:`K \times n_x` matrix with one total per row.

:func:`read_user_law` reads a zarr store or a netCDF file holding ``u`` with dims (t, x), or
(function, t, x) for several solutions (runs of a solver, experiments), together with what
defines the constraint (:class:`UserLaw`: a total variable or number, boundary fluxes, a
constraint matrix, sigma_G), and returns the inputs in one layout (:func:`validate_inputs`
checks it before every catalog write of ``probconserv/user/inputs``):

* ``u`` (function, t, x), float64, finite;
* ``total`` (function, t, constraint): :math:`b`, finite;
* ``g`` (constraint, x): the rows of :math:`G`, finite;
* ``sigma_g`` (t, constraint): :math:`\sigma_G \ge 0` (``inf`` drops a row at that time);
* ``split`` (function): ``train``, ``val``, ``test``, or ``all`` (a single function used for
  training, validation and evaluation alike);
* coordinates ``t`` and ``x`` strictly increasing (x may be non-uniform), ``constraint`` the
  row names.

Errors are :class:`sciml.errors.DataError` (bad data: shapes, NaN, a non-monotone grid) and
:class:`sciml.errors.ConfigError` (settings that contradict each other); messages name the
setting or variable.
"""

from __future__ import annotations

import hashlib
import json
import pathlib
from typing import Any

import numpy as np
import xarray as xr
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from sciml.errors import ConfigError, DataError
from sciml.gpme import total_from_fluxes, trapezoid_weights

__all__ = [
    "SPLITS",
    "UserLaw",
    "content_digest",
    "read_user_law",
    "user_law_inputs",
    "validate_inputs",
]

#: split labels of a user's functions
SPLITS: tuple[str, ...] = ("train", "val", "test", "all")


class UserLaw(BaseModel):
    """Where a user's solutions are and what they conserve (the ``data`` settings of probconserv).

    Attributes
    ----------
    path : str
        A netCDF file (``.nc``) or a zarr store holding the solutions.
    variable : str
        The solution variable, dims (t, x) or (function, t, x) (names: ``t_dim``, ``x_dim``,
        ``function_dim``).
    total : str or float, optional
        The conserved total b(t): a variable of the file with dims among (function, t,
        constraint rows) holding t, or one number (constant in time). Give it, or the fluxes.
    flux_left, flux_right : str or float, optional
        Boundary fluxes F(t, x_0) and F(t, x_1) of the law u_t + F_x = 0 (a variable with dims
        (t,) or (function, t), or a number): b(t) = b(t_0) + int (F(x_0) - F(x_1)) dt, by the
        trapezoid rule over the t grid. One constraint row only (the mass).
    total_initial : float, optional
        b(t_0) with the fluxes; default the quadrature of u(t_0, .) with the constraint row.
    constraint : str, optional
        A variable with dims (x,) or (rows, x): the rows of G (mass, momentum, ...); default one
        row, the trapezoid weights of the file's x grid (``mass``).
    sigma_g : str or float
        Constraint noise std: a number, or a variable with dims among (t, rows); 0 is the hard
        constraint.
    split : str, optional
        A variable along ``function_dim`` labelling each function ``train``, ``val`` or
        ``test``. Without it ``test`` and ``val`` pick positions; by default the last function is
        the test function and the one before it the validation function (with 1 function it
        serves all three, with 2 the first trains and validates).
    test, val : tuple of int, optional
        Positions (negative from the end) of the test and validation functions.
    n_steps : int
        ANP training steps on these functions.
    nll_beta : float
        beta-NLL weight of the ANP's likelihood term (0: the plain ELBO).
    n_context_t, n_context_x : int
        Context grid per draw: stratified times by sorted x positions, all grid points.
    model_version : str, optional
        Evaluate this stored version of ``probconserv/user`` (``champion``, ``v3``) instead of
        training or reusing one.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    path: str = Field(min_length=1)
    variable: str = "u"
    total: str | float | None = None
    flux_left: str | float | None = None
    flux_right: str | float | None = None
    total_initial: float | None = None
    constraint: str | None = None
    sigma_g: str | float = 0.0
    t_dim: str = "t"
    x_dim: str = "x"
    function_dim: str = "function"
    split: str | None = None
    test: tuple[int, ...] | None = None
    val: tuple[int, ...] | None = None
    n_steps: int = Field(1600, ge=1)
    nll_beta: float = Field(0.0, ge=0, le=1)
    n_context_t: int = Field(10, ge=1)
    n_context_x: int = Field(10, ge=1)
    model_version: str | None = None

    @field_validator("test", "val", mode="before")
    @classmethod
    def _one_or_more(cls, v: Any) -> Any:
        """One position is a tuple of one (``--set data.test=-1``)."""
        return (v,) if isinstance(v, int) and not isinstance(v, bool) else v

    @field_validator("total", "flux_left", "flux_right", "sigma_g", mode="before")
    @classmethod
    def _number_text(cls, v: Any) -> Any:
        """A number given as text (``"1.5"``, a deployment's JSON) is a number."""
        if isinstance(v, str):
            try:
                return float(v)
            except ValueError:
                return v
        return v

    @model_validator(mode="after")
    def _one_source_of_b(self) -> UserLaw:
        fluxes = (self.flux_left, self.flux_right)
        if self.total is not None and any(f is not None for f in fluxes):
            raise ConfigError("give data.total or the boundary fluxes data.flux_left/flux_right, not both")
        if self.total is None and any(f is None for f in fluxes):
            raise ConfigError(
                "the conserved total is missing: set data.total (a variable of the file or a number), "
                "or both boundary fluxes data.flux_left and data.flux_right"
            )
        if isinstance(self.sigma_g, float) and not (self.sigma_g >= 0):
            raise ConfigError(f"data.sigma_g must be >= 0; got {self.sigma_g}")
        if self.split is not None and (self.test is not None or self.val is not None):
            raise ConfigError("give data.split (a variable of labels) or data.test/data.val, not both")
        return self

    def training_key(self) -> dict[str, Any]:
        """The settings of these that define a trained model (champion reuse compares them)."""
        return {k: getattr(self, k) for k in ("n_steps", "nll_beta", "n_context_t", "n_context_x")}


# ----------------------------------------------------------------------------------------- files
def _open(path: str) -> xr.Dataset:
    """A netCDF file or a zarr store, loaded."""
    src = pathlib.Path(path)
    if "://" not in path and not src.exists():
        raise DataError(f"data.path {path!r} does not exist")
    try:
        if path.endswith(".nc") or (src.is_file() and not path.endswith(".zarr")):
            return xr.open_dataset(path).load()
        try:
            return xr.open_zarr(path).load()
        except (KeyError, ValueError, FileNotFoundError):
            return xr.open_zarr(path, consolidated=False).load()
    except (OSError, ValueError, KeyError) as exc:
        raise DataError(f"data.path {path!r} cannot be read as netCDF or zarr: {exc}") from exc


def _sha256(path: str) -> str:
    src = pathlib.Path(path)
    if "://" in path or not src.is_file():
        return ""
    h = hashlib.sha256()
    with open(src, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _monotone(values: np.ndarray, label: str) -> np.ndarray:
    """Indices that sort a strictly monotone coordinate increasingly; else a DataError."""
    v = np.asarray(values, dtype=np.float64)
    if v.ndim != 1 or v.size < 2:
        raise DataError(f"{label} needs at least 2 points; got shape {v.shape}")
    if not np.all(np.isfinite(v)):
        raise DataError(f"{label} holds NaN or infinite coordinates")
    step = np.diff(v)
    if np.all(step > 0):
        return np.arange(v.size)
    if np.all(step < 0):
        return np.arange(v.size)[::-1]
    first = np.sign(step[0])
    bad = 0 if first == 0 else int(np.flatnonzero(np.sign(step) != first)[0])
    raise DataError(
        f"{label} is not strictly monotone: {float(v[bad])!r} then {float(v[bad + 1])!r} at positions {bad}, "
        f"{bad + 1} (of {v.size}); sort the file along it and drop repeated points"
    )


def _variable(ds: xr.Dataset, name: str, setting: str, source: str) -> xr.DataArray:
    if name not in ds.variables:
        raise DataError(
            f"{setting}={name!r}: no such variable in {source}; variables: {sorted(map(str, ds.variables))}"
        )
    return ds[name]


def _finite(arr: xr.DataArray, label: str) -> None:
    values = np.asarray(arr.values, dtype=np.float64)
    bad = ~np.isfinite(values)
    if bad.any():
        first = np.unravel_index(int(np.flatnonzero(bad)[0]), bad.shape)
        where = {d: arr[d].values[i].item() if d in arr.coords else int(i)
                 for d, i in zip(arr.dims, first, strict=True)}  # fmt: skip
        raise DataError(
            f"{label} holds {int(bad.sum())} NaN or infinite value(s), the first at {where}; "
            "fill or drop those entries"
        )


# ------------------------------------------------------------------------------------- the rows
def _constraint_rows(ds: xr.Dataset, law: UserLaw, x: np.ndarray, source: str) -> xr.DataArray:
    """G as (constraint, x) on the sorted grid."""
    if law.constraint is None:
        return xr.DataArray(trapezoid_weights(x)[None, :], dims=("constraint", "x"),
                            coords={"constraint": ["mass"]})  # fmt: skip
    g = _variable(ds, law.constraint, "data.constraint", source)
    if law.x_dim not in g.dims or g.ndim > 2:
        raise DataError(
            f"data.constraint={law.constraint!r} has dims {g.dims} and shape {g.shape}; it must have "
            f"dims ({law.x_dim!r},) or (rows, {law.x_dim!r}) to match the grid of {x.size} x points"
        )
    if g.sizes[law.x_dim] != x.size:
        raise DataError(
            f"data.constraint={law.constraint!r} has {g.sizes[law.x_dim]} points along "
            f"{law.x_dim!r} (shape {g.shape}) but the grid of {law.variable!r} has {x.size}; "
            "one weight per grid point is needed"
        )
    g = g.transpose(..., law.x_dim)
    if g.ndim == 1:
        g = g.expand_dims(constraint=[law.constraint])
    else:
        row_dim = g.dims[0]
        names = ([str(v) for v in g[row_dim].values] if row_dim in g.coords
                 else [f"{law.constraint}[{i}]" for i in range(g.sizes[row_dim])])  # fmt: skip
        g = g.rename({row_dim: "constraint"}).assign_coords(constraint=names)
    g = g.rename({law.x_dim: "x"}).drop_vars("x", errors="ignore")
    _finite(g, f"data.constraint={law.constraint!r}")
    return g.astype(np.float64)


def _along(
    arr: xr.DataArray, law: UserLaw, rows: xr.DataArray, setting: str, allowed: set[str], per_row: bool = True
) -> xr.DataArray:
    """``arr`` with the user's dim names mapped to function / t / constraint, checked; with
    ``per_row``, several constraint rows need a row dim (one value per row)."""
    row_dim = None
    if law.constraint is not None:
        extra = [d for d in arr.dims if d not in (law.t_dim, law.function_dim)]
        if len(extra) == 1:
            row_dim = extra[0]
    names = {law.t_dim: "t", law.function_dim: "function", **({row_dim: "constraint"} if row_dim else {})}
    unknown = [d for d in arr.dims if d not in names]
    if unknown:
        raise DataError(f"{setting} has dims {arr.dims}; allowed: {sorted(allowed)} (and one row dim "
                        f"of data.constraint)")  # fmt: skip
    arr = arr.rename({d: names[d] for d in arr.dims})
    if "constraint" in arr.dims:
        if arr.sizes["constraint"] != rows.sizes["constraint"]:
            raise DataError(f"{setting} has {arr.sizes['constraint']} rows along {row_dim!r} but "
                            f"data.constraint has {rows.sizes['constraint']}")  # fmt: skip
        arr = arr.drop_vars("constraint", errors="ignore").assign_coords(constraint=rows.constraint.values)
    elif per_row and rows.sizes["constraint"] > 1:
        raise DataError(f"{setting} has no row dim but data.constraint has {rows.sizes['constraint']} rows; "
                        "give one value per row")  # fmt: skip
    return arr


def _split(ds: xr.Dataset, law: UserLaw, n_f: int, source: str) -> np.ndarray:
    """Split label of each function."""
    if law.split is not None:
        raw = _variable(ds, law.split, "data.split", source)
        if raw.dims != (law.function_dim,):
            raise DataError(
                f"data.split={law.split!r} must have dims ({law.function_dim!r},); got {raw.dims}"
            )
        labels = np.array([str(v).strip().lower() for v in raw.values])
        labels = np.where(labels == "validation", "val", labels)
        bad = sorted(set(labels) - set(SPLITS))
        if bad:
            raise DataError(f"data.split={law.split!r} holds {bad}; each function must be one of {SPLITS}")
        return labels.astype("<U5")
    if n_f == 1:
        if law.test not in (None, (0,), (-1,)) or law.val not in (None, (), (0,), (-1,)):
            raise DataError(f"{source} holds one function: data.test and data.val can only name it (0)")
        return np.array(["all"])
    test = law.test if law.test is not None else (n_f - 1,)
    val = law.val if law.val is not None else ((n_f - 2,) if n_f >= 3 else ())
    labels = np.full(n_f, "train", dtype="<U5")
    for name, positions in (("val", val), ("test", test)):
        for p in positions:
            if not -n_f <= p < n_f:
                raise DataError(f"data.{name} position {p} is out of range for {n_f} functions")
            labels[p] = name
    if not np.any(labels == "train"):
        raise DataError(f"data.test {test} and data.val {val} leave no function of {n_f} to train on")
    return labels


def read_user_law(law: UserLaw) -> xr.Dataset:
    """Read the user's file and build the inputs of :func:`validate_inputs`'s layout.

    Parameters
    ----------
    law : UserLaw
        The file, its variables and the constraint (the ``data`` settings).

    Returns
    -------
    xarray.Dataset
        ``u`` (function, t, x), ``total`` (function, t, constraint), ``g`` (constraint, x),
        ``sigma_g`` (t, constraint), ``split`` (function); attrs name the source file (and its
        sha256), how ``total``, ``g`` and ``sigma_g`` were made, the settings (``data_settings``,
        JSON) and a digest of the content (``content_sha256``).

    Raises
    ------
    DataError
        The file or a named variable is missing; a grid coordinate is not strictly monotone;
        the constraint does not match the grid; a total, flux, u or sigma_G value is NaN or
        negative where it may not be; a split that leaves nothing to train on.
    """
    source = f"data.path {law.path!r}"
    return user_law_inputs(_open(law.path), law, source=source, sha256=_sha256(law.path))


def user_law_inputs(
    ds: xr.Dataset, law: UserLaw, source: str = "the dataset", sha256: str = ""
) -> xr.Dataset:
    """:func:`read_user_law` on a dataset already in memory (``source`` names it in messages)."""
    u = _variable(ds, law.variable, "data.variable", source)
    for d in (law.t_dim, law.x_dim):
        if d not in u.dims:
            raise DataError(f"data.variable={law.variable!r} has dims {u.dims}; it needs {law.t_dim!r} "
                            f"and {law.x_dim!r} (set data.t_dim / data.x_dim to your names)")  # fmt: skip
    extra = [d for d in u.dims if d not in (law.t_dim, law.x_dim, law.function_dim)]
    if extra:
        raise DataError(
            f"data.variable={law.variable!r} has dims {u.dims}: {extra} is neither "
            f"{law.t_dim!r}, {law.x_dim!r} nor the function dim {law.function_dim!r}"
        )
    for d in (law.t_dim, law.x_dim):
        if d not in ds.coords:
            raise DataError(f"{source} has no coordinate values for {d!r}; the grid must be given")
    order_t = _monotone(ds[law.t_dim].values, f"the t coordinate {law.t_dim!r} of {source}")
    order_x = _monotone(ds[law.x_dim].values, f"the x coordinate {law.x_dim!r} of {source}")
    ds = ds.isel({law.t_dim: order_t, law.x_dim: order_x})
    u = _variable(ds, law.variable, "data.variable", source)
    if law.function_dim not in u.dims:
        u = u.expand_dims({law.function_dim: 1})
    t = ds[law.t_dim].values.astype(np.float64)
    x = ds[law.x_dim].values.astype(np.float64)
    u = u.transpose(law.function_dim, law.t_dim, law.x_dim)
    _finite(u, f"data.variable={law.variable!r}")
    n_f = u.sizes[law.function_dim]
    rows = _constraint_rows(ds, law, x, source)
    n_k = rows.sizes["constraint"]
    g = rows.values
    fdims = {law.function_dim, law.t_dim}

    if law.total is not None:
        if isinstance(law.total, float):
            total = np.full((n_f, t.size, n_k), law.total)
            how_total = f"the constant {law.total:g}"
        else:
            raw = _along(
                _variable(ds, law.total, "data.total", source), law, rows, f"data.total={law.total!r}", fdims
            )
            if "t" not in raw.dims:
                raise DataError(
                    f"data.total={law.total!r} has dims {raw.dims}; it needs the t dim {law.t_dim!r}"
                )
            _finite(raw, f"data.total={law.total!r}")
            if "function" in raw.dims and raw.sizes["function"] != n_f:
                raise DataError(f"data.total={law.total!r} has {raw.sizes['function']} functions, "
                                f"{law.variable!r} has {n_f}")  # fmt: skip
            raw = raw.expand_dims([d for d in ("function", "constraint") if d not in raw.dims])
            total = np.broadcast_to(raw.transpose("function", "t", "constraint").values, (n_f, t.size, n_k))
            how_total = f"variable {law.total!r}"
    else:
        if n_k != 1:
            raise ConfigError(f"boundary fluxes give one total, but data.constraint has {n_k} rows; "
                              "give data.total with one value per row")  # fmt: skip
        fluxes = []
        for setting, value in (("data.flux_left", law.flux_left), ("data.flux_right", law.flux_right)):
            if isinstance(value, float):
                fluxes.append(np.full((n_f, t.size), value))
                continue
            raw = _along(_variable(ds, value, setting, source), law, rows, f"{setting}={value!r}", fdims)
            if "t" not in raw.dims or "constraint" in raw.dims:
                raise DataError(f"{setting}={value!r} has dims {raw.dims}; it must be (t,) or (function, t)")
            _finite(raw, f"{setting}={value!r}")
            raw = raw.expand_dims([d for d in ("function",) if d not in raw.dims])
            fluxes.append(np.broadcast_to(raw.transpose("function", "t").values, (n_f, t.size)))
        initial = (u.values[:, 0, :] @ g[0] if law.total_initial is None
                   else np.full(n_f, float(law.total_initial)))  # fmt: skip
        total = total_from_fluxes(t, fluxes[0], fluxes[1], initial)[..., None]
        how_total = (f"b(t0) + integral of flux {law.flux_left!r} - {law.flux_right!r} over t (trapezoid), "
                     f"b(t0) = " + ("the quadrature of u(t0)" if law.total_initial is None
                                    else f"{law.total_initial:g}"))  # fmt: skip

    if isinstance(law.sigma_g, float):
        sigma = np.full((t.size, n_k), law.sigma_g)
        how_sigma = f"the constant {law.sigma_g:g}"
    else:
        raw = _along(_variable(ds, law.sigma_g, "data.sigma_g", source), law, rows,
                     f"data.sigma_g={law.sigma_g!r}", {law.t_dim}, per_row=False)  # fmt: skip
        if "function" in raw.dims:
            raise DataError(f"data.sigma_g={law.sigma_g!r} may not vary by function; dims (t,) or (t, rows)")
        raw = raw.expand_dims([d for d in ("t", "constraint") if d not in raw.dims])
        sigma = np.broadcast_to(raw.transpose("t", "constraint").values, (t.size, n_k))
        how_sigma = f"variable {law.sigma_g!r}"

    split = _split(ds, law, n_f, source)
    fn = u[law.function_dim].values if law.function_dim in u.coords else np.arange(n_f)
    out = xr.Dataset(
        {
            "u": (
                ("function", "t", "x"),
                u.values.astype(np.float64),
                {"long_name": f"solution {law.variable}", "units": str(u.attrs.get("units", "1"))},
            ),
            "total": (
                ("function", "t", "constraint"),
                np.array(total, dtype=np.float64),
                {"long_name": "conserved total b(t) of each constraint row"},
            ),
            "g": (("constraint", "x"), g.astype(np.float64), {"long_name": "constraint rows G"}),
            "sigma_g": (
                ("t", "constraint"),
                np.array(sigma, dtype=np.float64),
                {"long_name": "constraint noise std sigma_G"},
            ),
            "split": (("function",), split, {"long_name": "train / val / test / all"}),
        },
        coords={
            "function": ("function", fn),
            "t": ("t", t, {"long_name": "time", "units": str(ds[law.t_dim].attrs.get("units", "1"))}),
            "x": ("x", x, {"long_name": "position", "units": str(ds[law.x_dim].attrs.get("units", "1"))}),
            "constraint": ("constraint", np.asarray(rows.constraint.values, dtype=str)),
        },  # fmt: skip
        attrs={
            "description": "A user's solutions with the linear conservation constraint G u = b",
            "source_file": str(pathlib.Path(law.path).resolve()) if "://" not in law.path else law.path,
            "source_sha256": sha256,
            "variable": law.variable,
            "total_source": how_total,
            "constraint_source": (
                "trapezoid rule over x" if law.constraint is None else f"variable {law.constraint!r}"
            ),  # fmt: skip
            "sigma_g_source": how_sigma,
            "data_settings": json.dumps(law.model_dump(mode="json"), sort_keys=True),
        },
    )
    validate_inputs(out)
    out.attrs["content_sha256"] = content_digest(out)
    return out


# --------------------------------------------------------------------------------------- layout
def validate_inputs(ds: xr.Dataset) -> xr.Dataset:
    """Check a dataset against the inputs layout (the module docstring); return it unchanged.

    The catalog runs this before every write of ``probconserv/user/inputs`` (also a file
    imported with ``sciml catalog import``).

    Raises
    ------
    DataError
        A missing variable or dim, a grid that is not strictly increasing, shapes that do not
        match, NaN/inf in ``u``, ``total`` or ``g``, a negative or NaN ``sigma_g``, unknown split
        labels, or no function to train on.
    """
    want = {"u": ("function", "t", "x"), "total": ("function", "t", "constraint"),
            "g": ("constraint", "x"), "sigma_g": ("t", "constraint"), "split": ("function",)}  # fmt: skip
    for name, dims in want.items():
        if name not in ds.data_vars:
            raise DataError(f"inputs lack variable {name!r}; the layout needs {sorted(want)}")
        if ds[name].dims != dims:
            raise DataError(f"variable {name!r} has dims {ds[name].dims}; expected {dims}")
    for d in ("t", "x"):
        v = np.asarray(ds[d].values, dtype=np.float64)
        if v.size < 2 or not np.all(np.diff(v) > 0):
            raise DataError(f"coordinate {d!r} must be strictly increasing with >= 2 points")
    for name in ("u", "total", "g"):
        _finite(ds[name], f"variable {name!r}")
    sg = np.asarray(ds["sigma_g"].values, dtype=np.float64)
    if np.any(np.isnan(sg)) or np.any(sg < 0):
        raise DataError("variable 'sigma_g' must be >= 0 everywhere (inf drops a row), never NaN")
    labels = {str(v) for v in ds["split"].values}
    if not labels <= set(SPLITS):
        raise DataError(f"variable 'split' holds {sorted(labels - set(SPLITS))}; allowed: {SPLITS}")
    if not labels & {"train", "all"}:
        raise DataError("no function is labelled 'train' (or 'all'): nothing to train on")
    if not labels & {"test", "all"}:
        raise DataError("no function is labelled 'test' (or 'all'): nothing to evaluate")
    return ds


def content_digest(ds: xr.Dataset) -> str:
    """sha256 of the inputs' arrays and coordinates (same data -> same digest)."""
    h = hashlib.sha256()
    for name in ("t", "x", "constraint", "function", "u", "total", "g", "sigma_g", "split"):
        arr = np.asarray(ds[name].values)
        h.update(name.encode())
        h.update(str(arr.shape).encode())
        h.update(
            arr.astype(str).tobytes() if arr.dtype.kind in "OUS" else np.ascontiguousarray(arr).tobytes()
        )
    return h.hexdigest()
