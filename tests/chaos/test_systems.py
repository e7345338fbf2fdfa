"""Tests of the chaotic-system catalogue (sciml.chaos.systems)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from sciml.chaos.systems import DelaySystem, System, all_specs, get_system, list_systems
from sciml.chaos.systems._base import load_metadata
from sciml.errors import ConfigError, DataError, UnknownNameError

ALL = list_systems()
FLOWS = list_systems(kind="flow")
MAPS = list_systems(kind="map")
DELAYS = list_systems(kind="delay")


def _points(s: System, n: int, seed: int) -> np.ndarray:
    """``n`` states near the system's ic (a few percent of its scale), deterministic."""
    rng = np.random.default_rng(seed)
    scale = 0.05 * (np.abs(s.ic) + 0.1)
    x = s.ic + scale * rng.standard_normal((n, s.dim))
    if s.metadata.get("periodic_coordinates"):
        period = float(s.metadata["coordinate_period"])
        for i in s.metadata["periodic_coordinates"]:
            x[:, i] = np.mod(x[:, i], period)
    return x


def _wrap(diff: np.ndarray, s: System) -> np.ndarray:
    """Differences of torus coordinates taken modulo their period (standard and circle maps)."""
    if not s.metadata.get("periodic_coordinates"):
        return diff
    period = float(s.metadata["coordinate_period"])
    out = diff.copy()
    for i in s.metadata["periodic_coordinates"]:
        out[..., i] = (out[..., i] + period / 2) % period - period / 2
    return out


def _fd_jacobian(f, x: np.ndarray, s: System) -> np.ndarray:
    """Central finite differences of ``f`` at the states ``x`` (n, d) -> (n, d, d)."""
    cols = []
    for k in range(x.shape[-1]):
        h = 1e-6 * np.maximum(1.0, np.abs(x[:, k]))[:, None]
        e = np.zeros_like(x)
        e[:, k] = 1.0
        cols.append(_wrap(f(x + h * e) - f(x - h * e), s) / (2 * h))
    return np.stack(cols, axis=-1)


# --- catalogue and metadata -------------------------------------------------------------------


def test_catalogue_has_at_least_100_flows_plus_maps_and_delays():
    assert len(FLOWS) >= 100
    assert len(MAPS) >= 10
    assert "MackeyGlass" in DELAYS
    for name in ("Lorenz", "Rossler", "Chua", "Lorenz96", "HyperRossler", "DoublePendulum"):
        assert name in FLOWS
    for name in ("Henon", "Logistic", "Ikeda", "Standard"):
        assert name in MAPS


def test_every_spec_has_a_data_entry_and_no_orphans():
    meta = load_metadata()
    assert set(meta) == set(all_specs())


def _metadata_problems(s: System) -> list[str]:
    """Every metadata field of ``s`` that breaks the catalogue's contract (empty: all good)."""
    bad = []

    def check(ok, field: str, value) -> None:
        if not ok:
            bad.append(f"{field}={value!r}")

    check(s.kind in ("flow", "map", "delay"), "kind", s.kind)
    check(len(s.citation) > 20, "citation", s.citation)
    check(len(s.description) > 10, "description", s.description)
    check(s.period > 0, "period", s.period)
    check(s.dt > 0, "dt", s.dt)
    if s.kind == "map":
        check(s.period == 1.0, "period (maps iterate once per period)", s.period)
        check(s.dt == 1.0, "dt (maps iterate once per step)", s.dt)
    else:
        check(s.dt < s.period, "dt (must be below the period)", (s.dt, s.period))
    check(s.params.dtype == np.float64, "params.dtype", s.params.dtype)
    check(s.params.shape == (len(s.param_names),), "params.shape vs param_names",
          (s.params.shape, s.param_names))
    check(s.ic.dtype == np.float64, "ic.dtype", s.ic.dtype)
    check(s.ic.shape == (s.dim,), "ic.shape vs dim", (s.ic.shape, s.dim))
    check(bool(np.all(np.isfinite(s.ic))), "ic (non-finite)", s.ic)
    check(bool(np.all(np.isfinite(s.params))), "params (non-finite)", s.params)
    check(isinstance(s.metadata.get("equations"), str), "metadata.equations",
          s.metadata.get("equations"))
    if "lyapunov_max_literature" in s.metadata:
        check("lyapunov_source" in s.metadata, "metadata.lyapunov_source (literature value "
              "without a source)", s.metadata.get("lyapunov_max_literature"))
    # the ic is not a rest point of the flow (it lies on a chaotic attractor or sea)
    if s.kind == "flow":
        speed = float(np.linalg.norm(s.rhs(s.ic)))
        check(speed > 1e-6, "ic (a rest point: |rhs(ic)|)", speed)
    return bad


def test_metadata_complete_for_every_system():
    """One pass over the whole catalogue; the message lists every bad system and field."""
    failures = []
    for name in ALL:
        s = get_system(name)
        problems = ([] if s.name == name else [f"name={s.name!r}"]) + _metadata_problems(s)
        failures += [f"{name}: {p}" for p in problems]
    assert not failures, f"{len(failures)} metadata problem(s):\n" + "\n".join(failures)


def test_metadata_check_names_the_bad_system_and_field():
    """The aggregated check can fail: a broken copy of Lorenz is reported field by field."""
    s = get_system("Lorenz")
    broken = dataclasses.replace(s, citation="x", dt=2 * s.period)
    problems = _metadata_problems(broken)
    assert any(p.startswith("citation=") for p in problems)
    assert any(p.startswith("dt (must be below the period)") for p in problems)
    assert len(problems) == 2


def test_system_is_frozen_and_arrays_read_only():
    s = get_system("Lorenz")
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.name = "x"  # type: ignore[misc]
    with pytest.raises(ValueError):
        s.params[0] = 1.0
    with pytest.raises(ValueError):
        s.ic[0] = 1.0
    assert get_system("Lorenz") is s  # cached


# --- Jacobians --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", FLOWS + MAPS)
def test_jacobian_matches_central_differences(name):
    s = get_system(name)
    x = _points(s, 3, seed=1)
    jac = s.jac(x)
    fd = _fd_jacobian(s.rhs, x, s)
    assert jac.shape == (3, s.dim, s.dim)
    np.testing.assert_allclose(jac, fd, rtol=1e-5, atol=1e-5 * (1 + np.abs(fd).max()))


@pytest.mark.parametrize("name", DELAYS)
def test_delay_jacobians_match_central_differences(name):
    s = get_system(name)
    assert isinstance(s, DelaySystem)
    x, xd = _points(s, 3, seed=2), _points(s, 3, seed=3)
    jx, jd = s.jac(x, xd)
    fdx = _fd_jacobian(lambda z: s.rhs(z, xd), x, s)
    fdd = _fd_jacobian(lambda z: s.rhs(x, z), xd, s)
    np.testing.assert_allclose(jx, fdx, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(jd, fdd, rtol=1e-5, atol=1e-7)
    assert s.delay == s.params[s.param_names.index("tau")] > 0


# --- vectorisation ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", FLOWS + MAPS)
def test_rhs_and_jac_vectorised_over_states_and_params(name):
    s = get_system(name)
    rng = np.random.default_rng(4)
    x = _points(s, 4, seed=5)
    p = s.params * (1 + 0.01 * rng.standard_normal((3, s.n_params)))
    batched = s.rhs(x[None, :, :], p[:, None, :])
    jb = s.jac(x[None, :, :], p[:, None, :])
    assert batched.shape == (3, 4, s.dim) and jb.shape == (3, 4, s.dim, s.dim)
    for i in range(3):
        for j in range(4):
            np.testing.assert_allclose(batched[i, j], s.rhs(x[j], p[i]), rtol=1e-12, atol=1e-12)
            np.testing.assert_allclose(jb[i, j], s.jac(x[j], p[i]), rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(s.rhs(x), s.rhs(x, s.params))


@pytest.mark.parametrize("name", DELAYS)
def test_delay_rhs_vectorised(name):
    s = get_system(name)
    x, xd = _points(s, 4, seed=6), _points(s, 4, seed=7)
    p = s.params * np.array([[1.0], [1.01], [0.99]])
    out = s.rhs(x[None], xd[None], p[:, None, :])
    assert out.shape == (3, 4, 1)
    for i in range(3):
        for j in range(4):
            np.testing.assert_allclose(out[i, j], s.rhs(x[j], xd[j], p[i]), rtol=1e-12)


def test_bad_shapes_raise_data_error():
    s = get_system("Lorenz")
    with pytest.raises(DataError, match="shape"):
        s.rhs(np.zeros(4))
    with pytest.raises(DataError, match="parameters"):
        s.rhs(s.ic, np.ones(2))
    with pytest.raises(TypeError):
        get_system("MackeyGlass").rhs(np.ones(1))  # the delayed state is required


# --- dynamics ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", FLOWS)
def test_short_integration_from_ic_stays_finite_and_bounded(name):
    s = get_system(name)
    method = "Radau" if s.stiff else "DOP853"
    kw = {"jac": lambda t, x: s.jac(x)} if s.stiff else {}
    sol = solve_ivp(
        lambda t, x: s.rhs(x), (0, 3 * s.period), s.ic, method=method, rtol=1e-6, atol=1e-9, **kw
    )
    assert sol.status == 0 and np.all(np.isfinite(sol.y))
    keep = [i for i in range(s.dim) if i not in s.metadata.get("unbounded_coordinates", [])]
    if keep:  # angles that are not reduced (ABC flow, pendula) may drift
        scale = 1 + np.abs(s.ic[keep]).max()
        assert np.abs(sol.y[keep]).max() < 50 * scale
    else:
        assert np.all(np.abs(sol.y[:, -1] - s.ic) < 100 * (1 + s.period))


@pytest.mark.parametrize("name", MAPS)
def test_map_orbit_from_ic_stays_finite_and_bounded(name):
    s = get_system(name)
    x = s.ic.copy()
    for _ in range(2000):
        x = s.rhs(x)
        assert np.all(np.isfinite(x)) and np.abs(x).max() < 50 * (1 + np.abs(s.ic).max())


def test_henon_lyapunov_exponent_from_jacobian():
    """Benettin on the Jacobian products: lambda_1 ~ 0.419 (Sprott 2003), sum = ln b."""
    s = get_system("Henon")
    x, q, acc, n = s.ic.copy(), np.eye(2), np.zeros(2), 20000
    for _ in range(n):
        q, r = np.linalg.qr(s.jac(x) @ q)
        acc += np.log(np.abs(np.diag(r)))
        x = s.rhs(x)
    le = acc / n
    assert abs(le[0] - 0.419) < 0.01
    assert abs(le.sum() - np.log(0.3)) < 1e-9


def test_closed_form_values():
    lor = get_system("Lorenz")
    np.testing.assert_allclose(lor.rhs([1.0, 2.0, 3.0]), [10.0, 23.0, 2.0 - 8.0])
    np.testing.assert_allclose(np.trace(lor.jac(lor.ic)), -(10 + 1 + 8 / 3))
    hen = get_system("Henon")
    np.testing.assert_allclose(np.linalg.det(hen.jac([0.3, -0.2])), -0.3)
    log = get_system("Logistic")
    np.testing.assert_allclose(log.rhs([0.75]), [0.75])
    mg = get_system("MackeyGlass")  # x* = 1 is the positive fixed point for beta = 2 gamma
    np.testing.assert_allclose(mg.rhs([1.0], [1.0]), [0.0], atol=1e-15)


def test_henon_heiles_conserves_energy():
    s = get_system("HenonHeiles")

    def energy(z):
        x, y, px, py = z
        return 0.5 * (px**2 + py**2 + x**2 + y**2) + x**2 * y - y**3 / 3

    sol = solve_ivp(lambda t, z: s.rhs(z), (0, 50), s.ic, method="DOP853", rtol=1e-10, atol=1e-12)
    assert energy(s.ic) < 1 / 6
    np.testing.assert_allclose(energy(sol.y[:, -1]), energy(s.ic), atol=1e-8)


@pytest.mark.parametrize(
    "name", ["Duffing", "Ueda", "ForcedVanDerPol", "ForcedPendulum", "ShawVanDerPol", "DuffingVanDerPol"]
)
def test_forcing_phase_stays_on_unit_circle(name):
    s = get_system(name)
    np.testing.assert_allclose(s.ic[2] ** 2 + s.ic[3] ** 2, 1.0, atol=1e-10)
    sol = solve_ivp(lambda t, z: s.rhs(z), (0, 20), s.ic, method="DOP853", rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(sol.y[2] ** 2 + sol.y[3] ** 2, 1.0, atol=1e-7)


# --- names and dimensions ---------------------------------------------------------------------


def test_unknown_name_lists_close_matches():
    with pytest.raises(UnknownNameError, match="Lorenz96") as info:
        get_system("Lorenz69")
    assert isinstance(info.value, KeyError)
    with pytest.raises(UnknownNameError, match="Rossler"):
        get_system("Rosler")


def test_configurable_dimension():
    s = get_system("Lorenz96", dim=10)
    assert s.dim == 10 and s.ic.shape == (10,)
    assert s.rhs(s.ic).shape == (10,) and s.jac(s.ic).shape == (10, 10)
    fd = _fd_jacobian(s.rhs, s.ic[None], s)[0]
    np.testing.assert_allclose(s.jac(s.ic), fd, atol=1e-6)
    assert np.std(s.ic) > 0.5  # relaxed onto the attractor, not left at the rest state F
    b = get_system("BaierSahle", dim=6)
    assert b.dim == 6 and np.all(np.isfinite(b.ic))
    ks = get_system("KuramotoSivashinsky", dim=40)
    assert ks.ic.shape == (40,) and 0.1 < np.std(ks.ic) < 10
    assert get_system("Lorenz96").dim == all_specs()["Lorenz96"].dim
    with pytest.raises(ConfigError, match="fixed dimension"):
        get_system("Lorenz", dim=4)
    with pytest.raises(ConfigError, match="dim >= 4"):
        get_system("Lorenz96", dim=3)


def test_list_systems_filters():
    assert ALL == sorted(ALL)
    assert all(get_system(n).kind == "map" for n in MAPS)
    three = list_systems(dim=3)
    assert "Lorenz" in three and all(get_system(n).dim == 3 for n in three)
    assert list_systems(kind="flow", dim=4)
    with pytest.raises(ConfigError, match="kind"):
        list_systems(kind="ode")


def test_with_params_replaces_by_name():
    s = get_system("Lorenz")
    p = s.with_params(rho=99.96)
    assert p[1] == 99.96 and p[0] == 10.0
    assert s.default_params()["sigma"] == 10.0
    with pytest.raises(ConfigError, match="no parameter"):
        s.with_params(r=1.0)
