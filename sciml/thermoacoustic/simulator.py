r"""Surrogate multi-sensor combustor: a stochastically forced Van der Pol first-tangential mode.

The real BKD data of Sengupta et al. (arXiv 2107.06396, Sec. 2) are not public, so this module
simulates runs with the same sensor set: the dynamic pressure of the first tangential (1T) mode,
OH* chemiluminescence, chamber static pressure, injector pressures and temperatures, and the
pre-programmed oxidiser/fuel mass-flow commands.

Acoustics (Noiray & Schuermans 2013, Eq. 1; Noiray 2017)
--------------------------------------------------------
The modal acoustic pressure :math:`\eta` [bar] obeys

.. math::

    \ddot\eta + \omega_0^2 \eta = \big(2\nu(t) - \kappa\eta^2 - \kappa_5\eta^4\big)\dot\eta + \xi(t),
    \qquad \langle \xi(t)\xi(t') \rangle = \Gamma\,\delta(t - t'),

so :math:`\Gamma` [bar^2 s^-3] is the *two-sided intensity* of the white forcing (its one-sided
PSD is :math:`2\Gamma`). With :math:`\kappa_5 = 0`, :math:`\kappa > 0` the Hopf bifurcation at
:math:`\nu = 0` is supercritical; with :math:`\kappa < 0, \kappa_5 > 0` it is subcritical
(bistable, hysteresis for :math:`\nu \in (\nu_{fold}, 0)`, :math:`\nu_{fold} = -\kappa^2/(4\kappa_5)`).
Writing :math:`\eta = A\cos(\omega_0 t + \varphi)` and averaging over one period
(stochastic averaging, Roberts & Spanos 1986) gives the Itô amplitude equation

.. math::

    dA = \Big(\nu A - \frac{\kappa A^3}{8} - \frac{\kappa_5 A^5}{16}
          + \frac{\Gamma}{4\omega_0^2 A}\Big)dt + \sqrt{\frac{\Gamma}{2\omega_0^2}}\,dW,

whose stationary Fokker-Planck density for constant :math:`\nu` is

.. math::

    P(A) \propto A \exp\Big[\frac{4\omega_0^2}{\Gamma}\Big(\frac{\nu A^2}{2}
        - \frac{\kappa A^4}{32} - \frac{\kappa_5 A^6}{96}\Big)\Big]

(:func:`stationary_amplitude_density`; with :math:`\kappa_5 = 0` this is the closed form of the
issue). Check: for :math:`\kappa = \kappa_5 = 0, \nu < 0` it is a Rayleigh density with
:math:`\mathrm{Var}\,\eta = \Gamma / (4|\nu|\omega_0^2)`, the variance of the linear oscillator
:math:`\ddot\eta + 2|\nu|\dot\eta + \omega_0^2\eta = \xi`.

Integrator: Lie splitting per step of :math:`\Delta t = 1/f_s`: the exact harmonic rotation of
:math:`(\eta, \dot\eta/\omega_0)` by :math:`\omega_0\Delta t`, then the exact Ornstein-Uhlenbeck
step of :math:`d\dot\eta = c\,\dot\eta\,dt + \sqrt\Gamma dW` with frozen
:math:`c = 2\nu - \kappa\eta^2 - \kappa_5\eta^4`. The frequency is exact and the averaged drift and
diffusion are exact to :math:`O(\nu\Delta t)`.

Operating point (slow channels)
-------------------------------
The controls :math:`\dot m_{ox}(t), \dot m_f(t)` [kg/s] are piecewise-linear programmes (plateaus
joined by ramps), known in advance. Chamber pressure lags total mass flow,
:math:`\tau_{pc}\dot p_c = K_{pc}(\dot m_{ox} + \dot m_f) - p_c`; injector pressures are
:math:`p_{inj} = p_c + K\dot m^2`; the hydrogen injection temperature lags the fuel flow
(:math:`\tau_T \dot T_f = T_{f,0} - S_T(\dot m_f - \dot m_{f,0}) - T_f`). The linear growth rate is
a smooth function of the operating point crossing zero,

.. math::

    \nu = \nu_{max}\tanh\!\Big(\frac{\nu_0 + a_{pc}(p_c/p_{ref} - 1) + a_{rof}(ROF/ROF_{ref} - 1)
          - a_T(T_f/T_{ref} - 1) + \delta_{run}}{\nu_{max}}\Big),

with a per-run hardware offset :math:`\delta_{run} \sim N(0, \sigma_\delta^2)` the forecaster must
infer from the history. OH* is :math:`\bar q(\dot m_f, p_c) + b\,\eta_\phi + \epsilon`, with
:math:`\eta_\phi` the mode shifted by the flame phase :math:`\phi`. Sensors add white noise.

The mode frequency is scaled to 1 kHz (BKD's 1T mode is near 10 kHz) so that many runs fit a
laptop; only the ratio of the amplitude time scales (1/|nu| ~ 25-100 ms) to the forecast horizons
(10-500 ms) matters for the forecasting problem.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

import numba
import numpy as np

from sciml.errors import ConfigError, DataError, DivergenceError

__all__ = [
    "CombustorParams",
    "SimulatedRuns",
    "control_schedule",
    "operating_point",
    "integrate_mode",
    "simulate_runs",
    "resimulate",
    "frame_amplitude",
    "stationary_amplitude_density",
    "SLOW_CHANNELS",
    "CONTROL_CHANNELS",
    "FAST_CHANNELS",
]

SLOW_CHANNELS = ("p_c", "p_inj_ox", "p_inj_f", "T_inj_ox", "T_inj_f")
CONTROL_CHANNELS = ("mdot_ox", "mdot_f")
FAST_CHANNELS = ("p_dyn", "oh_star")


@dataclass(frozen=True)
class CombustorParams:
    """Physical and sensor parameters of the surrogate combustor (units in brackets).

    Acoustics: ``f0`` mode frequency [Hz]; ``fs`` fast sampling rate [Hz]; ``frame_rate`` rate of
    frames / forecasts [Hz]; ``kappa`` cubic nonlinear damping [1/(s bar^2)] (negative for the
    subcritical variant); ``kappa5`` quintic damping [1/(s bar^4)]; ``gamma`` two-sided intensity
    Gamma of the white forcing [bar^2/s^3]; ``band`` (lo, hi) of the mode band [Hz].
    Growth rate: ``nu0`` [1/s] at the reference point; ``a_pc``, ``a_rof``, ``a_t`` [1/s]
    sensitivities to relative chamber pressure, mixture ratio and H2 temperature; ``nu_max`` [1/s]
    saturation; ``sigma_delta`` [1/s] std of the per-run offset; ``pc_ref`` [bar], ``rof_ref``,
    ``t_ref`` [K]. Plant: ``k_pc`` [bar/(kg/s)], ``tau_pc`` [s], ``k_inj_ox``, ``k_inj_f``
    [bar/(kg/s)^2], ``t_f0`` [K], ``s_t`` [K/(kg/s)], ``mdot_f0`` [kg/s], ``tau_t`` [s],
    ``t_ox0`` [K], ``tau_tox`` [s]. Flame: ``oh_gain`` [a.u./bar], ``oh_phase`` [rad],
    ``oh_noise`` [a.u.]. Sensor noise stds: ``noise_p_dyn`` [bar], ``noise_p`` [bar],
    ``noise_t`` [K]. Control ranges: ``mdot_ox_range``, ``mdot_f_range`` [kg/s];
    ``plateau`` (min, max) [s]; ``ramp`` (min, max) [s].
    """

    f0: float = 1000.0
    fs: float = 10_000.0
    frame_rate: float = 100.0
    kappa: float = 15.0
    kappa5: float = 0.0
    gamma: float = 2.0e8
    band: tuple[float, float] = (800.0, 1200.0)
    nu0: float = -5.0
    a_pc: float = 60.0
    a_rof: float = 45.0
    a_t: float = 40.0
    nu_max: float = 40.0
    sigma_delta: float = 4.0
    pc_ref: float = 60.0
    rof_ref: float = 5.5
    t_ref: float = 100.0
    k_pc: float = 9.0
    tau_pc: float = 0.05
    k_inj_ox: float = 0.4
    k_inj_f: float = 8.0
    t_f0: float = 100.0
    s_t: float = 60.0
    mdot_f0: float = 1.1
    tau_t: float = 0.6
    t_ox0: float = 110.0
    tau_tox: float = 1.5
    oh_gain: float = 0.05
    oh_phase: float = 0.6
    oh_noise: float = 0.05
    noise_p_dyn: float = 0.05
    noise_p: float = 0.3
    noise_t: float = 0.5
    mdot_ox_range: tuple[float, float] = (4.0, 7.0)
    mdot_f_range: tuple[float, float] = (0.8, 1.4)
    plateau: tuple[float, float] = (0.8, 2.0)
    ramp: tuple[float, float] = (0.3, 1.0)

    @property
    def w0(self) -> float:
        """Angular mode frequency [rad/s]."""
        return 2.0 * np.pi * self.f0

    @property
    def samples_per_frame(self) -> int:
        return int(round(self.fs / self.frame_rate))

    @classmethod
    def subcritical(cls, **overrides) -> CombustorParams:
        """Subcritical (hysteretic) variant: ``kappa < 0``, ``kappa5 > 0``; fold at nu = -8 1/s."""
        base = {"kappa": -16.0, "kappa5": 2.0}
        base.update(overrides)
        return cls(**base)

    def validate(self) -> CombustorParams:
        n = self.fs / self.frame_rate
        if abs(n - round(n)) > 1e-9 or n < 8:
            raise ConfigError(
                f"fs/frame_rate must be an integer >= 8 (got fs={self.fs}, "
                f"frame_rate={self.frame_rate}); choose fs as a multiple of frame_rate"
            )
        if self.fs <= 2.5 * self.band[1]:
            raise ConfigError(f"fs={self.fs} Hz too low for the mode band {self.band}; use fs > 2.5*band[1]")
        if self.gamma <= 0:
            raise ConfigError(f"gamma must be > 0 (got {self.gamma})")
        if self.kappa5 < 0 or (self.kappa <= 0 and self.kappa5 <= 0):
            raise ConfigError(
                f"unbounded oscillator: kappa={self.kappa}, kappa5={self.kappa5}; need kappa > 0 "
                "(supercritical) or kappa5 > 0 (subcritical)"
            )
        return self

    def to_dict(self) -> dict:
        d = asdict(self)
        return {k: (list(v) if isinstance(v, tuple) else float(v)) for k, v in d.items()}


@dataclass
class SimulatedRuns:
    """Arrays of a batch of simulated runs (fast rate ``fs``, frame rate ``frame_rate``).

    Attributes: ``p_dyn``, ``oh_star`` (n_runs, n_fast); slow channels and controls
    (n_runs, n_frames) sampled at frame ends; ``amplitude`` (n_runs, n_frames) the 1T band
    amplitude of each frame of ``p_dyn`` (the target); ``nu`` (n_runs, n_frames) the true growth
    rate; ``state`` (n_runs, n_frames, 2) the acoustic state (eta, deta/dt) at each frame end;
    ``nu_fast`` (n_runs, n_fast) the growth rate at the fast rate, float32 (needed to re-simulate;
    the simulation itself integrates the float64 values, a relative difference below 1e-7);
    ``delta`` (n_runs,) the per-run offsets; ``params``.
    """

    p_dyn: np.ndarray
    oh_star: np.ndarray
    slow: dict[str, np.ndarray]
    controls: dict[str, np.ndarray]
    amplitude: np.ndarray
    nu: np.ndarray
    state: np.ndarray
    nu_fast: np.ndarray
    delta: np.ndarray
    params: CombustorParams
    seed: int = 0

    @property
    def n_runs(self) -> int:
        return self.p_dyn.shape[0]

    @property
    def n_frames(self) -> int:
        return self.amplitude.shape[1]


def control_schedule(
    n_runs: int, n_fast: int, params: CombustorParams, rngs: list[np.random.Generator]
) -> tuple[np.ndarray, np.ndarray]:
    """Pre-programmed mass-flow sequences: random plateaus joined by linear ramps.

    ``rngs`` holds one generator per run (as :func:`simulate_runs` spawns them), so a run's
    schedule does not depend on the other runs.
    Returns ``mdot_ox, mdot_f``, each (n_runs, n_fast) [kg/s], at the fast rate.
    """
    if len(rngs) != n_runs:
        raise ConfigError(f"control_schedule: {len(rngs)} generators for {n_runs} runs")
    t = np.arange(n_fast) / params.fs
    duration = n_fast / params.fs
    n_knots = int(np.ceil(duration / (params.plateau[0] + params.ramp[0]))) + 2
    ranges = (params.plateau, params.ramp, params.mdot_ox_range, params.mdot_f_range)
    d = np.stack([np.stack([g.uniform(*rg, size=n_knots) for rg in ranges]) for g in rngs])
    plate, ramp, lev_ox, lev_f = (d[:, i] for i in range(4))
    # knot times: plateau i spans [s_i, s_i + plate_i], ramp to i+1 over ramp_i
    seg = plate + ramp
    starts = np.concatenate([np.zeros((n_runs, 1)), np.cumsum(seg, axis=1)[:, :-1]], axis=1)
    kt = np.stack([starts, starts + plate], axis=2).reshape(n_runs, -1)
    ox = np.repeat(lev_ox, 2, axis=1)
    fu = np.repeat(lev_f, 2, axis=1)
    mdot_ox = np.empty((n_runs, n_fast))
    mdot_f = np.empty((n_runs, n_fast))
    for r in range(n_runs):
        mdot_ox[r] = np.interp(t, kt[r], ox[r])
        mdot_f[r] = np.interp(t, kt[r], fu[r])
    return mdot_ox, mdot_f


def _lag(u: np.ndarray, tau: float, dt: float, y0: np.ndarray) -> np.ndarray:
    """First-order lag ``tau y' = u - y`` discretised exactly for piecewise-constant ``u``."""
    from scipy.signal import lfilter

    a = np.exp(-dt / tau)
    zi = (a * y0)[:, None]
    y, _ = lfilter([1.0 - a], [1.0, -a], u, axis=-1, zi=zi)
    return y


def operating_point(
    mdot_ox: np.ndarray, mdot_f: np.ndarray, params: CombustorParams, delta: np.ndarray
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Noise-free slow plant states and the growth rate nu(t) from the controls.

    Parameters
    ----------
    mdot_ox, mdot_f : ndarray, shape (n_runs, n)
    params : CombustorParams
    delta : ndarray, shape (n_runs,), per-run growth-rate offset [1/s]

    Returns
    -------
    slow : dict of the ``SLOW_CHANNELS`` arrays, each (n_runs, n)
    nu : ndarray, shape (n_runs, n) [1/s]
    """
    p = params
    dt = 1.0 / p.fs
    pc_ss = p.k_pc * (mdot_ox + mdot_f)
    pc = _lag(pc_ss, p.tau_pc, dt, pc_ss[:, 0])
    tf_ss = p.t_f0 - p.s_t * (mdot_f - p.mdot_f0)
    tf = _lag(tf_ss, p.tau_t, dt, tf_ss[:, 0])
    tox_ss = p.t_ox0 + 2.0 * (mdot_ox - 5.5)
    tox = _lag(tox_ss, p.tau_tox, dt, tox_ss[:, 0])
    slow = {
        "p_c": pc,
        "p_inj_ox": pc + p.k_inj_ox * mdot_ox**2,
        "p_inj_f": pc + p.k_inj_f * mdot_f**2,
        "T_inj_ox": tox,
        "T_inj_f": tf,
    }
    rof = mdot_ox / mdot_f
    lin = (
        p.nu0
        + p.a_pc * (pc / p.pc_ref - 1.0)
        + p.a_rof * (rof / p.rof_ref - 1.0)
        - p.a_t * (tf / p.t_ref - 1.0)
        + delta[:, None]
    )
    nu = p.nu_max * np.tanh(lin / p.nu_max)
    return slow, nu


@numba.njit(cache=True)
def _integrate_kernel(eta0, v0, nu, z, w0, kappa, kappa5, gamma, dt, eta_out, v_out):
    n_runs, n = nu.shape
    cth = np.cos(w0 * dt)
    sth = np.sin(w0 * dt)
    for r in range(n_runs):
        eta = eta0[r]
        v = v0[r]
        for i in range(n):
            # exact harmonic rotation
            e_new = eta * cth + (v / w0) * sth
            v = -eta * w0 * sth + v * cth
            eta = e_new
            # exact OU step for v with frozen damping c
            e2 = eta * eta
            c = 2.0 * nu[r, i] - kappa * e2 - kappa5 * e2 * e2
            x = c * dt
            if abs(x) < 1e-8:
                decay = 1.0 + x
                var = gamma * dt * (1.0 + x)
            else:
                decay = np.exp(x)
                var = gamma * np.expm1(2.0 * x) / (2.0 * c)
            v = v * decay + np.sqrt(var) * z[r, i]
            eta_out[r, i] = eta
            v_out[r, i] = v


def integrate_mode(
    nu: np.ndarray,
    noise: np.ndarray,
    params: CombustorParams,
    eta0: np.ndarray | None = None,
    v0: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    r"""Integrate the forced Van der Pol mode for a batch of runs (see module docstring).

    Parameters
    ----------
    nu : ndarray, shape (n_runs, n), growth rate at each fast step [1/s]
    noise : ndarray, shape (n_runs, n), standard normal draws driving :math:`\xi`
    params : CombustorParams
    eta0, v0 : ndarray, shape (n_runs,), initial state (default 0)

    Returns
    -------
    eta, deta : ndarray, shape (n_runs, n), the state after each step

    Raises
    ------
    DivergenceError
        if the state becomes non-finite.
    """
    nu = np.ascontiguousarray(nu, dtype=np.float64)
    z = np.ascontiguousarray(noise, dtype=np.float64)
    if nu.shape != z.shape or nu.ndim != 2:
        raise DataError(f"nu {nu.shape} and noise {z.shape} must have the same 2-D shape")
    n_runs = nu.shape[0]
    e0 = np.zeros(n_runs) if eta0 is None else np.asarray(eta0, dtype=np.float64)
    w0 = np.zeros(n_runs) if v0 is None else np.asarray(v0, dtype=np.float64)
    eta = np.empty_like(nu)
    v = np.empty_like(nu)
    _integrate_kernel(
        e0, w0, nu, z, params.w0, params.kappa, params.kappa5, params.gamma, 1.0 / params.fs, eta, v
    )
    if not np.all(np.isfinite(eta[:, -1])):
        raise DivergenceError("Van der Pol state became non-finite; reduce nu_max or 1/fs")
    return eta, v


def frame_amplitude(x: np.ndarray, params: CombustorParams) -> np.ndarray:
    r"""Band amplitude of each frame of a fast signal (the forecasting target).

    For frames of :math:`N` samples, :math:`a = \frac{2}{N}\big(\sum_{b \in B}|X_b|^2\big)^{1/2}`
    with :math:`X_b` the DFT of the frame and :math:`B` the bins inside ``params.band``; for
    :math:`A\cos(\omega_0 t + \varphi)` with an integer number of periods per frame, :math:`a = A`.

    Parameters
    ----------
    x : ndarray, shape (..., n_frames * N)

    Returns
    -------
    ndarray, shape (..., n_frames)
    """
    spec = _frame_spectrum(x, params)
    return (2.0 / params.samples_per_frame) * np.sqrt(spec[..., _band_bins(params)].sum(axis=-1))


def _frame_spectrum(x: np.ndarray, params: CombustorParams, last: int | None = None) -> np.ndarray:
    """|DFT|^2 of every frame, or of only its ``last`` samples; shape (..., n_frames, bins)."""
    n = params.samples_per_frame
    if x.shape[-1] % n:
        raise DataError(f"fast signal length {x.shape[-1]} is not a multiple of the frame length {n}")
    fr = x.reshape(*x.shape[:-1], x.shape[-1] // n, n)
    if last is not None:
        fr = fr[..., n - last :]
    return np.abs(np.fft.rfft(fr, axis=-1)) ** 2


def _band_bins(params: CombustorParams, n_samples: int | None = None) -> np.ndarray:
    """Bins of an ``n_samples`` DFT (default: one frame) inside ``params.band``."""
    f = np.fft.rfftfreq(n_samples or params.samples_per_frame, 1.0 / params.fs)
    return np.flatnonzero((f >= params.band[0]) & (f <= params.band[1]))


def simulate_runs(
    n_runs: int, duration: float, seed: int, params: CombustorParams | None = None,
    chunk: int = 32,
) -> SimulatedRuns:
    """Simulate ``n_runs`` independent test runs of ``duration`` seconds (vectorised over runs).

    Every run draws from its own generator, spawned from ``seed``
    (``np.random.SeedSequence(seed).spawn(n_runs)``), so run ``i`` is the same whatever
    ``n_runs`` or ``chunk``; runs are simulated ``chunk`` at a time, so the float64 fast-rate
    intermediates (plant states, growth rate, forcing, state) never exceed ``chunk`` runs.
    Stored fast channels (``p_dyn``, ``oh_star``, ``nu_fast``) are float32.

    Parameters
    ----------
    n_runs : number of runs.
    duration : run length [s]; rounded down to whole frames.
    seed : seed of every random draw (schedules, offsets, forcing, sensor noise).
    params : CombustorParams (default: supercritical defaults).
    chunk : runs simulated at once (memory only; the result does not depend on it).

    Returns
    -------
    SimulatedRuns

    Examples
    --------
    >>> runs = simulate_runs(2, 0.5, seed=0)
    >>> runs.amplitude.shape
    (2, 50)
    """
    p = (params or CombustorParams()).validate()
    if n_runs < 1 or duration <= 0 or chunk < 1:
        raise ConfigError(f"need n_runs >= 1, duration > 0 and chunk >= 1 (got {n_runs}, "
                          f"{duration}, {chunk})")
    N = p.samples_per_frame
    n_frames = int(duration * p.frame_rate)
    n_fast = n_frames * N
    seqs = np.random.SeedSequence(seed).spawn(n_runs)
    p_dyn = np.empty((n_runs, n_fast), dtype=np.float32)
    oh = np.empty((n_runs, n_fast), dtype=np.float32)
    nu_fast = np.empty((n_runs, n_fast), dtype=np.float32)
    slow = {k: np.empty((n_runs, n_frames)) for k in SLOW_CHANNELS}
    controls = {k: np.empty((n_runs, n_frames)) for k in CONTROL_CHANNELS}
    amplitude = np.empty((n_runs, n_frames))
    nu = np.empty((n_runs, n_frames))
    state = np.empty((n_runs, n_frames, 2))
    delta = np.empty(n_runs)
    end = np.arange(N - 1, n_fast, N)
    noise_std = {"p_c": p.noise_p, "p_inj_ox": p.noise_p, "p_inj_f": p.noise_p,
                 "T_inj_ox": p.noise_t, "T_inj_f": p.noise_t}
    for c0 in range(0, n_runs, chunk):
        sl = slice(c0, min(c0 + chunk, n_runs))
        gens = [np.random.default_rng(s) for s in seqs[sl]]
        m = len(gens)
        mdot_ox, mdot_f = control_schedule(m, n_fast, p, gens)
        d = np.array([g.normal(0.0, p.sigma_delta) for g in gens])
        slow_c, nu_c = operating_point(mdot_ox, mdot_f, p, d)
        # start in the stationary linear regime: small random state
        a0 = np.sqrt(p.gamma / (4.0 * p.w0**2 * np.maximum(-nu_c[:, 0], 5.0)))
        st0 = np.array([g.normal(0.0, [a, a * p.w0]) for g, a in zip(gens, a0, strict=True)])
        z = np.stack([g.standard_normal(n_fast) for g in gens])
        eta, v = integrate_mode(nu_c, z, p, st0[:, 0], st0[:, 1])
        del z
        pd = eta + p.noise_p_dyn * np.stack([g.standard_normal(n_fast) for g in gens])
        p_dyn[sl] = pd
        amplitude[sl] = frame_amplitude(pd, p)
        del pd
        oh[sl] = _oh_star(eta, v, mdot_f, slow_c["p_c"], p) + p.oh_noise * np.stack(
            [g.standard_normal(n_fast) for g in gens])
        for k in SLOW_CHANNELS:
            slow[k][sl] = slow_c[k][:, end] + noise_std[k] * np.stack(
                [g.standard_normal(n_frames) for g in gens])
        controls["mdot_ox"][sl] = mdot_ox[:, end]
        controls["mdot_f"][sl] = mdot_f[:, end]
        nu_fast[sl] = nu_c
        nu[sl] = nu_c[:, end]
        state[sl] = np.stack([eta[:, end], v[:, end]], axis=-1)
        delta[sl] = d
        del eta, v, slow_c, nu_c, mdot_ox, mdot_f
    return SimulatedRuns(p_dyn=p_dyn, oh_star=oh, slow=slow, controls=controls,
                         amplitude=amplitude, nu=nu, state=state, nu_fast=nu_fast, delta=delta,
                         params=p, seed=seed)


def _oh_star(eta, v, mdot_f, pc, p: CombustorParams):
    """OH* intensity: mean level from the operating point plus the phase-shifted mode."""
    eta_phi = eta * np.cos(p.oh_phase) - (v / p.w0) * np.sin(p.oh_phase)
    return 1.0 * (mdot_f / p.mdot_f0) * (pc / p.pc_ref) + p.oh_gain * eta_phi


def resimulate(
    runs: SimulatedRuns,
    run_index: np.ndarray,
    frame_index: np.ndarray,
    n_frames_ahead: int,
    n_seeds: int,
    seed: int,
    chunk: int = 8,
) -> np.ndarray:
    """Re-simulate each (run, frame-end) state with ``n_seeds`` fresh noise realisations.

    The acoustic state at the end of frame ``frame_index[i]`` of run ``run_index[i]`` is
    propagated with the run's known growth-rate trajectory and new forcing and sensor noise; the
    future band amplitudes are the empirical forecast distribution of the simulator itself (the
    oracle of the issue).

    Returns
    -------
    ndarray, shape (n_states, n_seeds, n_frames_ahead): amplitude of frames k+1 ... k+H.
    """
    p = runs.params
    N = p.samples_per_frame
    run_index = np.asarray(run_index, dtype=int)
    frame_index = np.asarray(frame_index, dtype=int)
    if np.any(frame_index + n_frames_ahead >= runs.n_frames):
        raise DataError("resimulate: frame_index + n_frames_ahead must lie inside the run")
    rng = np.random.default_rng(seed)
    n_fast = n_frames_ahead * N
    out = np.empty((run_index.size, n_seeds, n_frames_ahead))
    for c0 in range(0, run_index.size, chunk):
        r = run_index[c0 : c0 + chunk]
        k = frame_index[c0 : c0 + chunk]
        m = r.size
        start = (k + 1) * N
        idx = start[:, None] + np.arange(n_fast)[None, :]
        nu = np.repeat(runs.nu_fast[r[:, None], idx], n_seeds, axis=0)
        st = np.repeat(runs.state[r, k], n_seeds, axis=0)
        z = rng.standard_normal((m * n_seeds, n_fast))
        eta, _ = integrate_mode(nu, z, p, st[:, 0], st[:, 1])
        eta += p.noise_p_dyn * rng.standard_normal(eta.shape)
        out[c0 : c0 + m] = frame_amplitude(eta, p).reshape(m, n_seeds, n_frames_ahead)
    return out


def stationary_amplitude_density(a: np.ndarray, nu: float, params: CombustorParams) -> np.ndarray:
    r"""Normalised Fokker-Planck stationary density of the mode amplitude for constant nu.

    .. math:: P(A) \propto A \exp\Big[\frac{4\omega_0^2}{\Gamma}\Big(\frac{\nu A^2}{2}
              - \frac{\kappa A^4}{32} - \frac{\kappa_5 A^6}{96}\Big)\Big]

    normalised numerically on a fine grid (trapezoid rule).

    Parameters
    ----------
    a : ndarray, amplitudes [bar] >= 0
    nu : growth rate [1/s]
    params : CombustorParams (uses w0, gamma, kappa, kappa5)

    References
    ----------
    .. [1] Noiray & Schuermans, "Deterministic quantities characterizing noise driven Hopf
       bifurcations in gas turbine combustors", Int. J. Non-Linear Mech. 50 (2013) 152-163.
    """
    p = params
    c = 4.0 * p.w0**2 / p.gamma

    def log_un(x):
        x = np.asarray(x, dtype=np.float64)
        return np.log(np.maximum(x, 1e-300)) + c * (
            nu * x**2 / 2 - p.kappa * x**4 / 32 - p.kappa5 * x**6 / 96
        )

    grid = _density_grid(nu, p)
    lg = log_un(grid)
    m = lg.max()
    z = np.trapezoid(np.exp(lg - m), grid)
    return np.where(np.asarray(a) > 0, np.exp(log_un(a) - m) / z, 0.0)


def _density_grid(nu: float, p: CombustorParams) -> np.ndarray:
    # covers both the Rayleigh scale and the limit-cycle amplitude with a wide margin
    scale = np.sqrt(p.gamma / (p.w0**2 * max(abs(nu), 1.0)))
    # largest limit-cycle amplitude: root in x = A^2 of nu - kappa x / 8 - kappa5 x^2 / 16 = 0
    roots = np.roots([-p.kappa5 / 16.0, -p.kappa / 8.0, nu]) if p.kappa5 > 0 else (
        np.array([8.0 * nu / p.kappa]) if p.kappa > 0 else np.array([0.0]))
    real = roots[np.isreal(roots)].real
    lc = float(np.sqrt(real.max())) if real.size and real.max() > 0 else 0.0
    hi = 10.0 * scale + 3.0 * lc + 1.0
    return np.linspace(0.0, hi, 20001)


def with_params(params: CombustorParams, **overrides) -> CombustorParams:
    """Copy of ``params`` with ``overrides`` (validated)."""
    return replace(params, **overrides).validate()
