"""Name -> :class:`System` lookup over every family module (``get_system``, ``list_systems``)."""

from __future__ import annotations

import functools

import numpy as np

from sciml.errors import ConfigError, DataError, unknown_name

from . import (
    _attractors,
    _bio,
    _circuits,
    _classic,
    _delay,
    _extended,
    _hyperchaotic,
    _maps,
    _mechanical,
    _sprott,
)
from ._base import KINDS, Spec, System, build, load_metadata

__all__ = ["get_system", "list_systems", "all_specs"]

_FAMILIES = (
    _classic,
    _attractors,
    _sprott,
    _hyperchaotic,
    _bio,
    _circuits,
    _mechanical,
    _extended,
    _maps,
    _delay,
)


@functools.cache
def all_specs() -> dict[str, Spec]:
    """Every registered system's code spec, ``{name: Spec}`` (checked for duplicate names)."""
    out: dict[str, Spec] = {}
    for module in _FAMILIES:
        for name, spec in module.SPECS.items():
            if name in out:
                raise DataError(f"system {name!r} is defined twice ({module.__name__})")
            out[name] = spec
    return out


def list_systems(kind: str | None = None, dim: int | None = None) -> list[str]:
    """Sorted names of the catalogue's systems.

    Parameters
    ----------
    kind : {"flow", "map", "delay"}, optional
        Keep only systems of this kind.
    dim : int, optional
        Keep only systems whose default dimension is ``dim``.

    Raises
    ------
    ConfigError
        If ``kind`` is not one of the three kinds.
    """
    if kind is not None and kind not in KINDS:
        raise ConfigError(f"kind must be one of {KINDS}, got {kind!r}")
    specs = all_specs()
    return sorted(
        n
        for n, s in specs.items()
        if (kind is None or s.kind == kind) and (dim is None or s.dim == dim)
    )


def get_system(name: str, dim: int | None = None) -> System:
    """The system called ``name`` (default parameters, ic, metadata).

    Parameters
    ----------
    name : str
        Stable identifier, e.g. ``"Lorenz"``; see :func:`list_systems`.
    dim : int, optional
        State dimension for systems of configurable size (``Lorenz96``, ``BaierSahle``); others
        accept only their own dimension.

    Raises
    ------
    UnknownNameError
        If ``name`` is unknown (the message lists close matches).
    ConfigError
        If ``dim`` is given for a system of fixed dimension, or is too small.
    """
    specs = all_specs()
    if name not in specs:
        raise unknown_name("system", name, list(specs))
    spec = specs[name]
    if dim is None or int(dim) == spec.dim:
        return _cached_system(name, spec.dim)
    dim = int(dim)
    if not spec.variable_dim:
        raise ConfigError(
            f"system {name!r} has fixed dimension {spec.dim}, got dim={dim}; "
            "drop the dim argument (configurable: "
            f"{[n for n, s in specs.items() if s.variable_dim]})"
        )
    if dim < spec.min_dim:
        raise ConfigError(f"system {name!r} needs dim >= {spec.min_dim}, got dim={dim}")
    return _cached_system(name, dim)


@functools.cache
def _cached_system(name: str, dim: int) -> System:
    spec = all_specs()[name]
    meta = load_metadata()
    if name not in meta:
        raise DataError(f"system {name!r} has no entry in sciml/chaos/systems/systems.yaml")
    entry = meta[name]
    if entry.get("kind") != spec.kind:
        raise DataError(f"systems.yaml gives {name!r} kind {entry.get('kind')!r}, code {spec.kind!r}")
    ic = np.asarray(entry["ic"], dtype=np.float64)
    if dim != spec.dim:
        ic = _relax_ic(spec, entry, dim)
    if ic.shape != (dim,):
        raise DataError(f"systems.yaml ic of {name!r} has shape {ic.shape}, expected ({dim},)")
    return build(name, spec, entry, dim, ic)


def _relax_ic(spec: Spec, entry: dict, dim: int) -> np.ndarray:
    """A point on the attractor of a resized flow, from a perturbed rest state, transient cut.

    The start is the data file's ``ic_seed`` value in every coordinate plus a small deterministic
    ramp that breaks the symmetry; ``entry["transient_periods"]`` periods are integrated with
    scipy's LSODA and the analytic Jacobian (stiffness grows with the dimension of
    discretised PDEs such as Kuramoto-Sivashinsky) and discarded.
    """
    from scipy.integrate import solve_ivp

    cols = tuple(float(v) for v in entry["params"].values())
    x0 = float(entry.get("ic_seed", 0.0)) + 0.01 * np.sin(np.arange(1, dim + 1, dtype=np.float64))
    t_end = float(entry.get("transient_periods", 50)) * float(entry["period"])
    sol = solve_ivp(
        lambda t, x: spec.rhs(x, *cols),
        (0.0, t_end),
        x0,
        method="LSODA",
        jac=lambda t, x: spec.jac(x, *cols),
        rtol=1e-6,
        atol=1e-9,
    )
    x = sol.y[:, -1]
    if sol.status != 0 or not np.all(np.isfinite(x)):
        raise DataError(f"relaxing the ic of a {dim}-dimensional system failed: {sol.message}")
    return x
