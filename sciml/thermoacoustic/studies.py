r"""Sensor studies: channel ablation and sensor failure at test time.

Sengupta et al. (arXiv 2107.06396, Sec. 4.2-4.4) train on sensor subsets and show that a Bayesian
forecaster's epistemic uncertainty flags inputs unlike the training data. Here a failing channel
is simulated on the held-out runs from ``fail_frame`` on, either

* ``zeroed``: the raw signal reads 0 (a dead sensor or amplifier), features recomputed;
* ``frozen``: the raw signal holds its last pre-failure sample (a stuck sensor or a
  sample-and-hold that stops updating), features recomputed. A frozen fast channel carries no
  acoustic content, so its band features drop to the floor :math:`\log a_0`, outside the training
  range, exactly as for a zeroed one; a frozen slow channel holds a plausible value; or
* ``stale``: not a sensor failure but a stuck *feature pipeline*: the channel's per-frame features
  repeat their last pre-failure values. Every value stays inside the training range, so nothing
  flags it; reported as the hard case.

After a dynamic-pressure failure the forecaster's persistence base :math:`a_k` is what the failed
sensor reports (:func:`~.features.measured_amplitude`), not the true amplitude. The effect is the
ratio of mean epistemic (and aleatoric) std on the post-failure frames between the failed and the
nominal inputs.
"""

from __future__ import annotations

import numpy as np

from sciml.errors import ConfigError, unknown_name
from sciml.thermoacoustic.features import FEATURE_CHANNELS, SENSOR_GROUPS, frame_features
from sciml.thermoacoustic.model import Forecast
from sciml.thermoacoustic.simulator import CombustorParams

__all__ = ["FAILURE_MODES", "failed_features", "failure_effect"]

FAILURE_MODES = ("zeroed", "frozen", "stale")


def failed_features(
    p_dyn: np.ndarray,
    oh_star: np.ndarray,
    slow: dict[str, np.ndarray],
    controls: dict[str, np.ndarray],
    params: CombustorParams,
    sensor: str,
    mode: str,
    fail_frame: int,
) -> np.ndarray:
    """Frame features of runs whose ``sensor`` fails from ``fail_frame`` on.

    Parameters
    ----------
    sensor : ``"p_dyn"``, ``"oh_star"`` or a slow channel name (``"p_c"``, ...)
    mode : ``"zeroed"``, ``"frozen"`` or ``"stale"`` (see the module docstring)
    fail_frame : first failed frame

    Returns
    -------
    ndarray, shape (n_runs, n_frames, C), as :func:`~.features.frame_features`
    """
    if mode not in FAILURE_MODES:
        raise unknown_name("failure mode", mode, list(FAILURE_MODES))
    n_frames = np.shape(controls[next(iter(controls))])[-1]
    if not 1 <= fail_frame < n_frames:
        raise ConfigError(f"fail_frame={fail_frame} must lie in [1, {n_frames - 1}] (frames of the run)")
    fast = {"p_dyn": p_dyn, "oh_star": oh_star}
    slow_names = list(slow)
    if sensor not in fast and sensor not in slow_names:
        raise unknown_name("sensor", sensor, list(fast) + slow_names)
    n = params.samples_per_frame
    if mode in ("zeroed", "frozen"):
        if sensor in fast:
            x = np.array(fast[sensor], copy=True)
            x[:, fail_frame * n :] = 0.0 if mode == "zeroed" else x[:, fail_frame * n - 1 : fail_frame * n]
            fast[sensor] = x
        else:
            s = dict(slow)
            s[sensor] = np.array(slow[sensor], copy=True)
            s[sensor][:, fail_frame:] = 0.0 if mode == "zeroed" else s[sensor][:, fail_frame - 1 : fail_frame]
            slow = s
        return frame_features(fast["p_dyn"], fast["oh_star"], slow, controls, params)
    feats = frame_features(p_dyn, oh_star, slow, controls, params)
    chans = SENSOR_GROUPS[sensor] if sensor in SENSOR_GROUPS else (sensor,)
    idx = [FEATURE_CHANNELS.index(c) for c in chans]
    feats[:, fail_frame:, idx] = feats[:, fail_frame - 1 : fail_frame, idx]
    return feats


def failure_effect(
    nominal: Forecast, failed: Forecast, frame: np.ndarray, fail_frame: int, horizon: int = -1
) -> dict[str, float]:
    """Ratios of mean epistemic and aleatoric std after the failure, failed / nominal inputs.

    Parameters
    ----------
    nominal, failed : forecasts on the same windows (n, H)
    frame : ndarray (n,), current frame of each window
    fail_frame : first failed frame
    horizon : horizon index to summarise (default the longest)
    """
    after = frame >= fail_frame
    before = ~after

    def m(v, mask):
        return float(np.sqrt(v[mask, horizon]).mean())

    return {
        "epistemic_ratio": m(failed.epistemic_var, after) / m(nominal.epistemic_var, after),
        "aleatoric_ratio": m(failed.aleatoric_var, after) / m(nominal.aleatoric_var, after),
        "epistemic_after_before": m(failed.epistemic_var, after) / m(failed.epistemic_var, before),
        "epistemic_std_nominal": m(nominal.epistemic_var, after),
        "epistemic_std_failed": m(failed.epistemic_var, after),
        "aleatoric_std_nominal": m(nominal.aleatoric_var, after),
        "aleatoric_std_failed": m(failed.aleatoric_var, after),
    }
