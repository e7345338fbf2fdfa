r"""Scores of the amplitude forecasts: accuracy, proper scores, coverage, oracle ratio, onset warnings.

Per horizon: RMSE, Gaussian NLL, CRPS and the central 90% interval coverage (shared scores of
:mod:`sciml.uq`, Gneiting & Raftery 2007). The oracle of the issue is the simulator itself: each
held-out state is re-simulated with fresh noise (:func:`~.simulator.resimulate`), and its empirical
CRPS (:func:`sciml.uq.crps_samples`) is the floor no forecaster can beat on average.

Onset warnings (Sengupta et al., arXiv 2107.06396, Sec. 4.3 discuss early warning): an onset is a
frame where the 5-frame moving average of the amplitude first exceeds ``threshold`` after at least
``quiet`` frames below it. At frame :math:`k` a model warns when
:math:`P(a_{k+h} > \text{threshold}) \ge p_{warn}` for the warning horizon :math:`h`. An onset at
:math:`k_o` is flagged in time if a warning occurs in :math:`[k_o - h_{early}, k_o - h_{lead}]`
(e.g. 600 ms to 300 ms ahead). The false-alarm rate is the fraction of quiet frames (amplitude
below threshold now and in the next ``h_early`` frames) on which a warning is raised.
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtr

from sciml.thermoacoustic.model import Forecast
from sciml.uq import central_interval, crps_gaussian, crps_samples, gaussian_nll, interval_coverage

__all__ = [
    "horizon_scores",
    "oracle_scores",
    "detect_onsets",
    "warning_scores",
    "exceedance_probability",
    "crps_variance_scale",
]


def horizon_scores(y: np.ndarray, fc: Forecast, level: float = 0.9) -> dict[str, np.ndarray]:
    """RMSE, NLL, CRPS, coverage and mean stds per horizon.

    Parameters
    ----------
    y : ndarray, shape (n, H) observed amplitudes
    fc : Forecast with arrays (n, H)

    Returns
    -------
    dict of ndarray, shape (H,)
    """
    std = np.maximum(fc.std, 1e-9)
    lo, hi = central_interval(fc.mean, std, level)
    return {
        "rmse": np.sqrt(np.mean((fc.mean - y) ** 2, axis=0)),
        "nll": np.mean(gaussian_nll(y, fc.mean, std), axis=0),
        "crps": np.mean(crps_gaussian(y, fc.mean, std), axis=0),
        "coverage90": interval_coverage(y, lo, hi, axis=0),
        "aleatoric_std": np.sqrt(np.mean(fc.aleatoric_var, axis=0)),
        "epistemic_std": np.sqrt(np.mean(fc.epistemic_var, axis=0)),
    }


def crps_variance_scale(y: np.ndarray, fc: Forecast, grid: np.ndarray | None = None) -> np.ndarray:
    r"""Per-horizon variance factor :math:`f_h` minimising the mean CRPS of :math:`N(\mu, f_h\sigma^2)`.

    Post-hoc recalibration by variance scaling (Levi, Gispan, Giladi, Fetaya, "Evaluating and
    Calibrating Uncertainty Prediction in Regression Tasks", Sensors 22 (2022) 5540; Kuleshov et
    al., ICML 2018, PMLR 80:2796-2804): fitted on held-out *validation* runs, it corrects a
    systematically over- or under-dispersed predictive spread without touching the mean. Scaling
    both variance parts by :math:`f_h` keeps their proportions, so the aleatoric/epistemic split
    and every failed/nominal ratio are unchanged.

    Parameters
    ----------
    y : ndarray, shape (n, H) observed amplitudes (validation windows)
    fc : Forecast with arrays (n, H)
    grid : candidate std factors (default ``geomspace(0.5, 2, 61)``)

    Returns
    -------
    ndarray, shape (H,): variance factors (squares of the best std factors)
    """
    s = np.geomspace(0.5, 2.0, 61) if grid is None else np.asarray(grid, dtype=np.float64)
    std = np.maximum(fc.std, 1e-9)
    c = np.stack([crps_gaussian(y, fc.mean, k * std).mean(axis=0) for k in s])  # (G, H)
    return s[np.argmin(c, axis=0)] ** 2


def oracle_scores(y: np.ndarray, samples: np.ndarray) -> np.ndarray:
    """Per-state CRPS of the oracle's empirical distribution.

    Parameters
    ----------
    y : ndarray, shape (n, H)
    samples : ndarray, shape (n, S, H)

    Returns
    -------
    ndarray, shape (n, H)
    """
    return crps_samples(y, samples, axis=1)


def exceedance_probability(fc: Forecast, threshold: float) -> np.ndarray:
    """Gaussian predictive probability that the amplitude exceeds ``threshold``."""
    return 1.0 - ndtr((threshold - fc.mean) / np.maximum(fc.std, 1e-9))


def detect_onsets(amplitude: np.ndarray, threshold: float, quiet: int, smooth: int = 5) -> np.ndarray:
    """Boolean (n_runs, n_frames) marking instability onsets (see module docstring)."""
    a = np.asarray(amplitude, dtype=np.float64)
    kernel = np.ones(smooth) / smooth
    sm = np.apply_along_axis(lambda r: np.convolve(r, kernel, mode="full")[: r.size], 1, a)
    above = sm > threshold
    onset = np.zeros_like(above)
    for k in range(quiet, a.shape[1]):
        onset[:, k] = above[:, k] & ~above[:, k - quiet : k].any(axis=1)
    return onset


def warning_scores(
    warn: np.ndarray,
    onset: np.ndarray,
    amplitude_smooth_above: np.ndarray,
    lead: int,
    early: int,
) -> dict[str, float]:
    """Fraction of onsets warned ``lead``..``early`` frames ahead, and the false-alarm rate.

    Parameters
    ----------
    warn : bool (n_runs, n_frames), warning raised at the frame (False where no forecast)
    onset : bool (n_runs, n_frames) from :func:`detect_onsets`
    amplitude_smooth_above : bool (n_runs, n_frames), smoothed amplitude above threshold
    lead, early : frames; a timely warning lies in [k_o - early, k_o - lead]

    Returns
    -------
    dict with ``n_onsets``, ``onset_warning_rate``, ``false_alarm_rate``, ``n_quiet_frames``
    """
    n_runs, n_frames = warn.shape
    hits, total = 0, 0
    r_idx, k_idx = np.nonzero(onset)
    for r, k in zip(r_idx, k_idx, strict=False):
        if k - early < 0:
            continue
        total += 1
        hits += bool(warn[r, k - early : k - lead + 1].any())
    # quiet frames: below now and for the next `early` frames
    future_above = np.zeros_like(amplitude_smooth_above)
    for j in range(0, early + 1):
        future_above[:, : n_frames - j] |= amplitude_smooth_above[:, j:]
    quiet = ~future_above
    quiet[:, n_frames - early :] = False
    n_quiet = int(quiet.sum())
    return {
        "n_onsets": int(total),
        "onset_warning_rate": float(hits / total) if total else float("nan"),
        "false_alarm_rate": float((warn & quiet).sum() / n_quiet) if n_quiet else float("nan"),
        "n_quiet_frames": n_quiet,
    }
