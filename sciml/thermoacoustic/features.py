r"""Frame features and forecasting windows (Sengupta et al., arXiv 2107.06396, Sec. 3).

Fast channels are reduced per frame of :math:`N = f_s/f_{frame}` samples by a short-time DFT:
the log band amplitude in the 1T band, :math:`\log(a + a_0)` with
:math:`a = \frac2N(\sum_{b\in B}|X_b|^2)^{1/2}`, and the log RMS outside the band; for OH* also the
frame mean. The dynamic pressure also gives ``p_dyn_tail``, the log band amplitude of the frame's
*last mode period* only (:math:`n = f_s/f_0` samples): the frame amplitude :math:`a_k` averages
over 10 ms, while the state at the forecast origin (what the simulator's oracle knows exactly) is
best seen in the most recent period: over a frame of :math:`T` = 10 ms the end-point amplitude
differs from the frame mean by :math:`\sqrt{\Gamma T/(6\omega_0^2)} \approx 0.09` bar (std,
amplitude diffusion of the simulator's Ito equation).
Two causal exponential moving averages of the log band amplitude (time constants 0.5 s and 2 s,
``p_dyn_ema_short``/``p_dyn_ema_long``) carry the run's longer history: the per-run growth-rate
offset :math:`\delta_{run}` shows only in how the amplitude level relates to the operating point,
and 300 ms of history hold a handful of independent amplitude fluctuations (correlation time
:math:`1/|\nu|` ~ 25-100 ms); on a dev run set, giving the network the true :math:`\delta` cut the
500 ms CRPS ratio from 1.45 to 1.30, the moving averages recover part of that.
Slow channels and the controls enter as is (one value per frame). A sample at frame
:math:`k` holds the last :math:`W` frames of every channel, the control commands of the next
:math:`H_{max}` frames (every ``future_stride``-th), and targets :math:`a_{k+h}` for each horizon.

A dead or stuck fast sensor (zeroed, or holding one value) has no acoustic content: its band
features sit at :math:`\log a_0`, below every training frame. :meth:`Standardizer.out_of_range`
flags such windows against the training range of each channel, as a plant monitor would.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sciml.errors import ConfigError, DataError
from sciml.thermoacoustic.simulator import (
    CONTROL_CHANNELS,
    SLOW_CHANNELS,
    CombustorParams,
    _band_bins,
    _frame_spectrum,
)

__all__ = [
    "FEATURE_CHANNELS",
    "SENSOR_GROUPS",
    "SENSOR_SETS",
    "frame_features",
    "make_windows",
    "Windows",
    "Standardizer",
    "channel_indices",
    "measured_amplitude",
    "nowcast",
    "still_frames",
    "tail_amplitude",
]

FEATURE_CHANNELS = (
    "p_dyn_band",
    "p_dyn_broad",
    "p_dyn_tail",
    "p_dyn_ema_short",
    "p_dyn_ema_long",
    "oh_band",
    "oh_mean",
    *SLOW_CHANNELS,
    *CONTROL_CHANNELS,
)
SENSOR_GROUPS = {
    "p_dyn": ("p_dyn_band", "p_dyn_broad", "p_dyn_tail", "p_dyn_ema_short", "p_dyn_ema_long"),
    "oh_star": ("oh_band", "oh_mean"),
    "slow": SLOW_CHANNELS,
    "controls": CONTROL_CHANNELS,
}
SENSOR_SETS = {
    "all": ("p_dyn", "oh_star", "slow", "controls"),
    "no_p_dyn": ("oh_star", "slow", "controls"),
    "no_oh_star": ("p_dyn", "slow", "controls"),
    "slow_only": ("slow", "controls"),
}
AMP_FLOOR = 1e-2  # bar, a_0 in log(a + a_0)
EMA_TIMES = (0.5, 2.0)  # s, time constants of the causal moving averages of log a


def channel_indices(sensor_set: str) -> np.ndarray:
    """Indices into :data:`FEATURE_CHANNELS` of the channels in a named sensor set."""
    if sensor_set not in SENSOR_SETS:
        from sciml.errors import unknown_name

        raise unknown_name("sensor set", sensor_set, list(SENSOR_SETS))
    names = [c for g in SENSOR_SETS[sensor_set] for c in SENSOR_GROUPS[g]]
    return np.array([FEATURE_CHANNELS.index(c) for c in FEATURE_CHANNELS if c in names])


def tail_amplitude(x: np.ndarray, params: CombustorParams) -> np.ndarray:
    r"""Band amplitude of the last mode period of every frame.

    With :math:`n = \mathrm{round}(f_s/f_0)` samples (one period of the mode), the DFT of the last
    :math:`n` samples of each frame has a bin at :math:`f_s/n \approx f_0`;
    :math:`a^{tail} = \frac2n(\sum_{b \in B}|X_b|^2)^{1/2}` over the bins in ``params.band``.
    For :math:`A\cos(\omega_0 t + \varphi)` sampled with an integer :math:`f_s/f_0`,
    :math:`a^{tail} = A`.

    Parameters
    ----------
    x : ndarray, shape (..., n_frames * N)

    Returns
    -------
    ndarray, shape (..., n_frames)

    Raises
    ------
    DataError
        if no bin of the short DFT lies in the band (band too narrow for one period).
    """
    n_frame = params.samples_per_frame
    n = int(round(params.fs / params.f0))
    n = min(max(n, 2), n_frame)
    bins = _band_bins(params, n)
    if bins.size == 0:
        raise DataError(
            f"no bin of a {n}-sample DFT (resolution {params.fs / n:g} Hz) lies in the mode band "
            f"{params.band}; widen band_lo/band_hi around f0={params.f0:g} Hz"
        )
    spec = _frame_spectrum(np.asarray(x, dtype=np.float64), params, last=n)
    return (2.0 / n) * np.sqrt(spec[..., bins].sum(-1))


def _ema(x: np.ndarray, n: float) -> np.ndarray:
    """Causal exponential moving average over the last axis, time constant ``n`` samples."""
    from scipy.signal import lfilter

    a = np.exp(-1.0 / n)
    y, _ = lfilter([1.0 - a], [1.0, -a], x, axis=-1, zi=a * x[..., :1])
    return y


def measured_amplitude(feats: np.ndarray) -> np.ndarray:
    """Frame band amplitude [bar] as the dynamic-pressure sensor reports it (from ``p_dyn_band``).

    Equals the target series ``amplitude`` while the sensor works (up to float32 rounding); after a
    failure it is what the failed sensor reads (0 for a dead or stuck sensor).
    """
    band = feats[..., FEATURE_CHANNELS.index("p_dyn_band")].astype(np.float64)
    return np.maximum(np.exp(band) - AMP_FLOOR, 0.0)


def frame_features(
    p_dyn: np.ndarray,
    oh_star: np.ndarray,
    slow: dict[str, np.ndarray],
    controls: dict[str, np.ndarray],
    params: CombustorParams,
    chunk: int = 16,
) -> np.ndarray:
    """Per-frame features of every channel.

    Parameters
    ----------
    p_dyn, oh_star : ndarray, shape (n_runs, n_frames * N)
    slow, controls : dicts of ndarray, shape (n_runs, n_frames)
    chunk : runs whose fast channels are transformed at once (memory only)

    Returns
    -------
    ndarray, shape (n_runs, n_frames, len(FEATURE_CHANNELS)), float32
    """
    bins = _band_bins(params)
    n = params.samples_per_frame

    def band_and_rest(x):
        x = np.asarray(x, dtype=np.float64)
        spec = _frame_spectrum(x, params)
        pb = spec[..., bins].sum(-1)
        band = (2.0 / n) * np.sqrt(pb)
        rest = np.sqrt(2.0 * np.maximum(spec.sum(-1) - pb - spec[..., 0], 0.0)) / n
        mean = x.reshape(*x.shape[:-1], -1, n).mean(-1)
        return band, rest, mean

    # fast channels a few runs at a time: the float64 copies and spectra stay small
    p_dyn, oh_star = np.asarray(p_dyn), np.asarray(oh_star)
    if p_dyn.shape != oh_star.shape or p_dyn.ndim != 2:
        raise DataError(f"p_dyn {p_dyn.shape} and oh_star {oh_star.shape} must be (n_runs, n_fast)")
    n_runs = p_dyn.shape[0]
    fast = np.empty((5, n_runs, p_dyn.shape[1] // n))
    for c0 in range(0, n_runs, chunk):
        sl = slice(c0, c0 + chunk)
        pb, pr, _ = band_and_rest(p_dyn[sl])
        ob, _, om = band_and_rest(oh_star[sl])
        fast[:, sl] = (pb, pr, tail_amplitude(p_dyn[sl], params), ob, om)
    la = np.log(fast[0] + AMP_FLOOR)
    feats = [la, np.log(fast[1] + AMP_FLOOR), np.log(fast[2] + AMP_FLOOR),
             *(_ema(la, tau * params.frame_rate) for tau in EMA_TIMES),
             np.log(fast[3] + AMP_FLOOR), fast[4]]
    feats += [np.asarray(slow[k], dtype=np.float64) for k in SLOW_CHANNELS]
    feats += [np.asarray(controls[k], dtype=np.float64) for k in CONTROL_CHANNELS]
    shapes = {f.shape for f in feats}
    if len(shapes) != 1:
        raise DataError(f"fast and frame channels disagree in shape: {sorted(shapes)}")
    f = np.stack(feats, axis=-1).astype(np.float32)
    if not np.all(np.isfinite(f)):
        raise DataError("non-finite frame features; check the sensor channels for NaN/inf")
    return f


@dataclass
class Windows:
    """Forecasting samples: ``x_hist`` (n, C, W), ``x_fut`` (n, 2, F), ``y`` (n, H) amplitudes,
    ``y_now`` (n,) amplitude of the current frame, ``run``/``frame`` (n,) indices."""

    x_hist: np.ndarray
    x_fut: np.ndarray
    y: np.ndarray
    y_now: np.ndarray
    run: np.ndarray
    frame: np.ndarray

    def __len__(self) -> int:
        return self.y.shape[0]

    def subset(self, mask: np.ndarray) -> Windows:
        return Windows(*(getattr(self, k)[mask] for k in
                         ("x_hist", "x_fut", "y", "y_now", "run", "frame")))


def make_windows(
    feats: np.ndarray,
    amplitude: np.ndarray,
    window: int,
    horizons: tuple[int, ...],
    future_stride: int = 5,
    runs: np.ndarray | None = None,
    stride: int = 1,
) -> Windows:
    """Cut every valid (run, frame) into a history window, future controls and targets.

    Parameters
    ----------
    feats : ndarray, shape (n_runs, n_frames, C) from :func:`frame_features`
    amplitude : ndarray, shape (n_runs, n_frames), the target series
    window : history length W in frames
    horizons : horizons in frames (max H_max)
    future_stride : keep every ``future_stride``-th future control frame
    runs : which runs (default all)
    stride : keep every ``stride``-th frame

    Returns
    -------
    Windows
    """
    n_runs, n_frames, _ = feats.shape
    h = np.asarray(horizons, dtype=int)
    hmax = int(h.max())
    if window < 1 or hmax < 1 or window + hmax > n_frames:
        raise DataError(f"window={window} + horizon={hmax} frames exceeds the run ({n_frames} frames)")
    runs = np.arange(n_runs) if runs is None else np.asarray(runs, dtype=int)
    ks = np.arange(window - 1, n_frames - hmax, stride)
    r_idx = np.repeat(runs, ks.size)
    k_idx = np.tile(ks, runs.size)
    n, n_c = r_idx.size, feats.shape[2]
    # filled lag by lag: no (n, W, C) temporary next to the (n, C, W) result
    x_hist = np.empty((n, n_c, window), dtype=np.float32)
    for j, lag in enumerate(range(-window + 1, 1)):
        x_hist[:, :, j] = feats[r_idx, k_idx + lag]
    ctrl = np.array([FEATURE_CHANNELS.index(c) for c in CONTROL_CHANNELS])
    fut = np.arange(future_stride, hmax + 1, future_stride)
    x_fut = feats[r_idx[:, None], k_idx[:, None] + fut[None, :]][..., ctrl]  # (n, F, 2)
    y = amplitude[r_idx[:, None], k_idx[:, None] + h[None, :]]
    return Windows(
        x_hist=x_hist,
        x_fut=np.ascontiguousarray(x_fut.transpose(0, 2, 1), dtype=np.float32),
        y=y.astype(np.float32),
        y_now=amplitude[r_idx, k_idx].astype(np.float32),
        run=r_idx,
        frame=k_idx,
    )


def still_frames(x_hist: np.ndarray) -> np.ndarray:
    """Trailing run of exactly repeated values per window and channel.

    Parameters
    ----------
    x_hist : ndarray, shape (n, C, W)

    Returns
    -------
    ndarray of int, shape (n, C): how many of the last frames equal the frame before them
    (0 if the last frame changed; at most W - 1).
    """
    same = x_hist[:, :, :0:-1] == x_hist[:, :, -2::-1]  # frame j == j - 1, latest first
    return np.logical_and.accumulate(same, axis=-1).sum(axis=-1)


def nowcast(w: Windows) -> np.ndarray:
    """Amplitude [bar] at each window's forecast origin as the sensor reports it, shape (n,).

    The band amplitude of the last mode period of the current frame (:func:`tail_amplitude`), read
    back from the window's ``p_dyn_tail`` input; 0 once the dynamic-pressure sensor is dead or
    stuck.
    """
    t = w.x_hist[:, FEATURE_CHANNELS.index("p_dyn_tail"), -1].astype(np.float64)
    return np.maximum(np.exp(t) - AMP_FLOOR, 0.0)


@dataclass
class Standardizer:
    r"""Per-channel affine scaling of the inputs, and of the target (change) per horizon.

    With ``residual`` (the default, for sensor sets that include the dynamic pressure) the networks
    model :math:`z_h = (a_{k+h} - \hat a_k - m_h)/s_h`, a residual on the *nowcast*
    :math:`\hat a_k` (:meth:`nowcast`: the band amplitude of the last mode period, read back from
    the ``p_dyn_tail`` input), with :math:`m_h, s_h` the training mean/std of that change. Short
    horizons then start from the amplitude at the forecast origin instead of re-learning it from
    log features (a network on :math:`\log a` fits the linear-in-:math:`a` short-horizon map
    poorly), and the base is whatever the sensor reports, so a failed sensor fails the base too.
    A sensor set without the dynamic pressure does not observe the amplitude, so it models
    :math:`z_h = (a_{k+h} - m_h)/s_h` (``residual=False``). ``hist_min``/``hist_max`` hold each
    channel's training range (:meth:`out_of_range`), ``hist_still`` the longest run of exactly
    repeated values per channel in the training windows (:meth:`frozen`).
    """

    hist_mean: np.ndarray
    hist_std: np.ndarray
    fut_mean: np.ndarray
    fut_std: np.ndarray
    y_mean: np.ndarray
    y_std: np.ndarray
    hist_min: np.ndarray
    hist_max: np.ndarray
    residual: bool = True
    hist_still: np.ndarray | None = None

    @classmethod
    def fit(cls, w: Windows, residual: bool = True) -> Standardizer:
        hm = w.x_hist.mean(axis=(0, 2))
        hs = w.x_hist.std(axis=(0, 2)) + 1e-6
        fm = w.x_fut.mean(axis=(0, 2))
        fs = w.x_fut.std(axis=(0, 2)) + 1e-6
        d = w.y.astype(np.float64) - (nowcast(w)[:, None] if residual else 0.0)
        return cls(hm, hs, fm, fs, d.mean(axis=0), d.std(axis=0) + 1e-6,
                   w.x_hist.min(axis=(0, 2)), w.x_hist.max(axis=(0, 2)), bool(residual),
                   still_frames(w.x_hist).max(axis=0))

    def _base(self, w: Windows) -> np.ndarray:
        return nowcast(w) if self.residual else np.zeros(len(w))

    def inputs(self, w: Windows, channels: np.ndarray | None = None) -> np.ndarray:
        """Flattened standardised inputs, shape (n, C' * W + 2 * F), float32.

        Written channel by channel into one preallocated array (no full-size temporaries).
        """
        ch = np.arange(w.x_hist.shape[1]) if channels is None else np.asarray(channels)
        n, n_w, n_f = len(w), w.x_hist.shape[2], w.x_fut.shape[1] * w.x_fut.shape[2]
        out = np.empty((n, ch.size * n_w + n_f), dtype=np.float32)
        xh = out[:, : ch.size * n_w].reshape(n, ch.size, n_w)
        for i, c in enumerate(ch):
            np.subtract(w.x_hist[:, c], np.float32(self.hist_mean[c]), out=xh[:, i])
            xh[:, i] /= np.float32(self.hist_std[c])
        xf = (w.x_fut - self.fut_mean[None, :, None]) / self.fut_std[None, :, None]
        out[:, ch.size * n_w :] = xf.reshape(n, -1)
        return out

    def target(self, w: Windows) -> np.ndarray:
        """Standardised targets (n, H) of windows ``w``."""
        d = w.y.astype(np.float64) - self._base(w)[:, None]
        return ((d - self.y_mean) / self.y_std).astype(np.float32)

    def forecast(self, fc, w: Windows):
        """Map a standardised :class:`~.model.Forecast` of windows ``w`` back to amplitudes in bar."""
        out = fc.scaled(self.y_mean, self.y_std)
        out.mean = out.mean + self._base(w)[:, None]
        return out

    def out_of_range(self, w: Windows, margin: float = 0.0) -> np.ndarray:
        """Which channels of each window leave their training range.

        Parameters
        ----------
        w : Windows
        margin : widen the range by ``margin`` training stds on both sides

        Returns
        -------
        ndarray of bool, shape (n, C): some frame of channel ``c`` lies outside
        ``[hist_min - margin * hist_std, hist_max + margin * hist_std]``.
        """
        lo = (self.hist_min - margin * self.hist_std)[None, :, None]
        hi = (self.hist_max + margin * self.hist_std)[None, :, None]
        return ((w.x_hist < lo) | (w.x_hist > hi)).any(axis=2)

    def exceedance(self, w: Windows) -> np.ndarray:
        r"""Largest distance of any input channel outside its training range, in training stds.

        Returns
        -------
        ndarray, shape (n,): 0 for a window inside the training range of every channel, else
        :math:`\max_{c,t} \max(m_c - x_{ct}, x_{ct} - M_c, 0)/s_c` with :math:`[m_c, M_c]` the
        channel's training range and :math:`s_c` its training std.
        """
        out = np.zeros(len(w))
        for c in range(w.x_hist.shape[1]):
            x = w.x_hist[:, c]
            e = np.maximum(self.hist_min[c] - x.min(axis=1), x.max(axis=1) - self.hist_max[c])
            np.maximum(out, e / self.hist_std[c], out=out)
        return out

    def off_data_weight(self, w: Windows) -> np.ndarray:
        r"""Weight :math:`\nu = 1 - \exp(-e^2/2)` of the prior noise level, shape (n,).

        :math:`e` is :meth:`exceedance`: :math:`\nu = 0` inside the training range, 0.39 at one
        training std outside (the margin of the range monitor), 0.99 beyond three.
        """
        e = self.exceedance(w)
        return -np.expm1(-0.5 * e**2)

    def frozen(self, w: Windows, min_frames: int = 3) -> np.ndarray:
        """Which channels of each window have stopped changing (a frozen-value monitor).

        A channel is flagged when its last values repeat exactly for more frames than it ever
        did in the training windows (:func:`still_frames`), and for at least ``min_frames``.
        Noisy channels (every sensor feature) never repeat a value in training, so a stuck
        feature pipeline or a sample-and-hold is flagged after ``min_frames`` frames; control
        commands legitimately hold for whole plateaus, longer than a window, so they are never
        flagged.

        Returns
        -------
        ndarray of bool, shape (n, C)
        """
        if self.hist_still is None:
            raise ConfigError("this Standardizer carries no training still-frame counts "
                              "(hist_still); refit it with Standardizer.fit")
        lim = np.maximum(np.asarray(self.hist_still) + 1, min_frames)
        return still_frames(w.x_hist) >= lim[None, :]

    def to_arrays(self) -> dict[str, np.ndarray]:
        return {
            "hist_mean": self.hist_mean, "hist_std": self.hist_std,
            "fut_mean": self.fut_mean, "fut_std": self.fut_std,
            "y_mean": self.y_mean, "y_std": self.y_std,
            "hist_min": self.hist_min, "hist_max": self.hist_max,
            "residual": np.asarray([float(self.residual)]),
        } | ({} if self.hist_still is None else {"hist_still": np.asarray(self.hist_still)})

    @classmethod
    def from_arrays(cls, d: dict) -> Standardizer:
        arrs = (np.asarray(d[k], dtype=np.float64) for k in
                ("hist_mean", "hist_std", "fut_mean", "fut_std", "y_mean", "y_std", "hist_min",
                 "hist_max"))
        still = d.get("hist_still")
        return cls(*arrs, residual=bool(np.asarray(d["residual"]).ravel()[0]),
                   hist_still=None if still is None else np.asarray(still).astype(np.int64))
