"""The :class:`System` record, the registry of right-hand sides and the metadata loader.

Every family module (``_classic.py``, ``_sprott.py``, ...) exposes a ``SPECS`` dict mapping a stable
system name to a :class:`Spec`: the kind (``"flow"``, ``"map"`` or ``"delay"``), the state dimension,
the parameter names and two pure numpy functions ``rhs(x, *params)`` and ``jac(x, *params)`` (for a
delay system ``rhs(x, x_delayed, *params)`` and ``jac(x, x_delayed, *params)``). The numbers that
are facts of the literature (default parameters, citation, period, a point on the attractor, ...)
live in ``systems.yaml`` beside this module, read once on first use.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, NamedTuple

import numpy as np

from sciml.errors import ConfigError, DataError

__all__ = ["Spec", "System", "DelaySystem", "unpack", "stack", "matrix", "load_metadata"]

KINDS = ("flow", "map", "delay")
_CORE_KEYS = ("kind", "params", "ic", "period", "dt", "stiff", "citation", "description")


class Spec(NamedTuple):
    """Code side of one system: kind, dimension, parameter names and the two numpy functions.

    ``dim`` is the default dimension; ``variable_dim`` marks systems whose dimension the user may
    choose (``get_system("Lorenz96", dim=10)``) and ``min_dim`` its smallest allowed value.
    """

    kind: str
    dim: int
    param_names: tuple[str, ...]
    rhs: Callable[..., np.ndarray]
    jac: Callable[..., np.ndarray]
    variable_dim: bool = False
    min_dim: int = 1


def unpack(s: np.ndarray) -> tuple[np.ndarray, ...]:
    """State components ``s[..., 0], s[..., 1], ...`` as a tuple of arrays."""
    return tuple(np.moveaxis(s, -1, 0))


def stack(*components: Any) -> np.ndarray:
    """Stack state components (arrays or scalars) along a new last axis, broadcasting them."""
    arrs = np.broadcast_arrays(*[np.asarray(c, dtype=np.float64) for c in components])
    return np.stack(arrs, axis=-1)


def matrix(rows: list[list[Any]]) -> np.ndarray:
    """Assemble a batched square matrix ``(..., d, d)`` from rows of arrays or scalars."""
    d = len(rows)
    flat = [entry for row in rows for entry in row]
    if len(flat) != d * d:
        raise DataError(f"matrix rows must form a {d}x{d} square, got {len(flat)} entries")
    arrs = np.broadcast_arrays(*[np.asarray(e, dtype=np.float64) for e in flat])
    return np.stack(arrs, axis=-1).reshape(arrs[0].shape + (d, d))


@functools.cache
def load_metadata() -> dict[str, dict[str, Any]]:
    """Read ``systems.yaml`` (once; cached) and return ``{name: entry}``."""
    import yaml

    text = resources.files("sciml.chaos.systems").joinpath("systems.yaml").read_text("utf-8")
    data = yaml.safe_load(text)
    if not isinstance(data, dict):
        raise DataError("sciml/chaos/systems/systems.yaml must map system names to entries")
    return data


def _as_params(p: Any, defaults: np.ndarray, name: str) -> np.ndarray:
    if p is None:
        return defaults
    arr = np.asarray(p, dtype=np.float64)
    if arr.ndim == 0 or arr.shape[-1] != defaults.shape[0]:
        raise DataError(
            f"parameters of {name!r} must have shape (..., {defaults.shape[0]}), got {arr.shape}; "
            "pass None for the defaults"
        )
    return arr


def _as_state(x: Any, dim: int, name: str, what: str = "x") -> np.ndarray:
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim == 0 or arr.shape[-1] != dim:
        raise DataError(f"state {what} of {name!r} must have shape (..., {dim}), got {arr.shape}")
    return arr


@dataclass(frozen=True, eq=False)
class System:
    """A chaotic dynamical system: vectorised right-hand side, analytic Jacobian and metadata.

    Attributes
    ----------
    name : str
        Stable identifier (``"Lorenz"``).
    kind : {"flow", "map", "delay"}
        ``flow``: ``rhs`` is ``dx/dt``; ``map``: ``rhs`` is the next state; ``delay``: see
        :class:`DelaySystem`.
    dim : int
        State dimension.
    param_names : tuple of str
    params : ndarray, shape (n_params,)
        Default (chaotic) parameters, float64.
    ic : ndarray, shape (dim,)
        A point on (or very near) the attractor for the default parameters.
    period : float
        Typical oscillation period (time units) from the dominant spectral peak; 1.0 for maps.
    dt : float
        Suggested integration step (time units; 1.0 for maps).
    stiff : bool
        Whether an implicit integrator is advisable.
    citation, description : str
    metadata : dict
        Everything else from the data file: ``equations``, ``lyapunov_max_literature`` with its
        ``lyapunov_source``, ``kaplan_yorke_literature``, ``unbounded``, ``notes``...
    """

    name: str
    kind: str
    dim: int
    param_names: tuple[str, ...]
    params: np.ndarray
    ic: np.ndarray
    period: float
    dt: float
    stiff: bool
    citation: str
    description: str
    metadata: dict[str, Any] = field(repr=False)
    _rhs: Callable[..., np.ndarray] = field(repr=False)
    _jac: Callable[..., np.ndarray] = field(repr=False)

    def _cols(self, p: Any) -> tuple[np.ndarray, ...]:
        arr = _as_params(p, self.params, self.name)
        return tuple(arr[..., i] for i in range(arr.shape[-1]))

    def rhs(self, x: Any, p: Any = None) -> np.ndarray:
        """Vector field ``dx/dt`` (flows) or the next state (maps).

        Parameters
        ----------
        x : array_like, shape (..., dim)
            States, float64.
        p : array_like, shape (..., n_params), optional
            Parameter sets, broadcast against the batch shape of ``x``; ``None`` -> defaults.

        Returns
        -------
        ndarray, shape (broadcast batch shape, dim)

        Raises
        ------
        DataError
            If the last axis of ``x`` or ``p`` has the wrong length.
        """
        x = _as_state(x, self.dim, self.name)
        out = self._rhs(x, *self._cols(p))
        return _broadcast_out(out, x, p, self.dim)

    def jac(self, x: Any, p: Any = None) -> np.ndarray:
        """Analytic Jacobian ``d rhs / d x``, shape ``(..., dim, dim)``; arguments as :meth:`rhs`."""
        x = _as_state(x, self.dim, self.name)
        out = self._jac(x, *self._cols(p))
        return _broadcast_out(out, x, p, self.dim, square=True)

    @property
    def n_params(self) -> int:
        """Number of parameters."""
        return len(self.param_names)

    def default_params(self) -> dict[str, float]:
        """Default parameters as a ``{name: value}`` dict."""
        return {k: float(v) for k, v in zip(self.param_names, self.params, strict=True)}

    def with_params(self, **values: float) -> np.ndarray:
        """Default parameter vector with some entries replaced by name.

        Raises
        ------
        ConfigError
            If a name is not a parameter of the system.
        """
        out = self.params.copy()
        for k, v in values.items():
            if k not in self.param_names:
                raise ConfigError(
                    f"{self.name!r} has no parameter {k!r}; its parameters: {self.param_names}"
                )
            out[self.param_names.index(k)] = float(v)
        return out


@dataclass(frozen=True, eq=False)
class DelaySystem(System):
    """A delay differential equation ``dx/dt = f(x(t), x(t - tau); p)``.

    ``tau`` is the parameter named ``"tau"``; ``ic`` is a constant history value on the attractor's
    range. :meth:`rhs` and :meth:`jac` take the delayed state as their second argument.
    """

    def rhs(self, x: Any, x_delayed: Any, p: Any = None) -> np.ndarray:  # type: ignore[override]
        """``dx/dt`` from the current and the delayed state, each ``(..., dim)``."""
        x = _as_state(x, self.dim, self.name)
        xd = _as_state(x_delayed, self.dim, self.name, "x_delayed")
        out = self._rhs(x, xd, *self._cols(p))
        return _broadcast_out(out, np.broadcast_arrays(x, xd)[0], p, self.dim)

    def jac(self, x: Any, x_delayed: Any, p: Any = None) -> tuple[np.ndarray, np.ndarray]:  # type: ignore[override]
        """Jacobians ``(d f / d x, d f / d x_delayed)``, each ``(..., dim, dim)``."""
        x = _as_state(x, self.dim, self.name)
        xd = _as_state(x_delayed, self.dim, self.name, "x_delayed")
        jx, jd = self._jac(x, xd, *self._cols(p))
        xb = np.broadcast_arrays(x, xd)[0]
        return (
            _broadcast_out(jx, xb, p, self.dim, square=True),
            _broadcast_out(jd, xb, p, self.dim, square=True),
        )

    @property
    def delay(self) -> float:
        """The default delay ``tau`` (time units)."""
        return float(self.params[self.param_names.index("tau")])


def _broadcast_out(
    out: np.ndarray, x: np.ndarray, p: Any, dim: int, square: bool = False
) -> np.ndarray:
    """Make the output's batch shape the broadcast of the state's and the parameters' batch."""
    batch = x.shape[:-1]
    if p is not None:
        batch = np.broadcast_shapes(batch, np.shape(p)[:-1])
    tail = (dim, dim) if square else (dim,)
    return np.broadcast_to(out, batch + tail).astype(np.float64, copy=True)


def build(name: str, spec: Spec, entry: dict[str, Any], dim: int, ic: np.ndarray) -> System:
    """Assemble a :class:`System` from its code spec and its data-file entry."""
    params = entry["params"]
    if tuple(params) != spec.param_names:
        raise DataError(
            f"systems.yaml entry {name!r} lists parameters {tuple(params)}, "
            f"the code expects {spec.param_names}"
        )
    extra = {k: v for k, v in entry.items() if k not in _CORE_KEYS}
    cls = DelaySystem if spec.kind == "delay" else System
    values = np.array([float(v) for v in params.values()], dtype=np.float64)
    ic = np.array(ic, dtype=np.float64)
    values.flags.writeable = False
    ic.flags.writeable = False
    return cls(
        name=name,
        kind=spec.kind,
        dim=dim,
        param_names=spec.param_names,
        params=values,
        ic=ic,
        period=float(entry["period"]),
        dt=float(entry["dt"]),
        stiff=bool(entry.get("stiff", False)),
        citation=str(entry["citation"]),
        description=str(entry["description"]),
        metadata=extra,
        _rhs=spec.rhs,
        _jac=spec.jac,
    )
