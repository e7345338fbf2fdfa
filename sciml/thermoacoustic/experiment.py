r"""The thermoacoustic forecasting experiment: settings and every step of the recipe (no I/O).

:func:`simulate_dataset` -> :func:`prepare` (features, windows split by run, standardisation) ->
:func:`train_forecasters` (anchored ensemble, Pyro BNN, deterministic net, persistence) ->
:func:`predict_all` -> :func:`evaluate` (per-horizon scores, oracle CRPS ratio, onset warnings) ->
studies (:func:`ablation_study`, :func:`failure_study`, :func:`attribution_study`) ->
:func:`~sciml.thermoacoustic.datasets.to_dataset`. :func:`run` does it all in one call; the
``thermoacoustic`` flow runs the same steps as tasks. Every seed derives from
``ThermoacousticConfig.seed``. Retraining scores a stored ensemble with
:func:`validation_metrics` on the validation runs (never the test runs). Reference: Sengupta et
al., arXiv 2107.06396, Secs. 3-4.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch
import xarray as xr
from pydantic import Field, model_validator

from sciml.errors import ConfigError, DataError, unknown_name
from sciml.settings import Settings
from sciml.thermoacoustic.attribution import integrated_gradients
from sciml.thermoacoustic.baselines import PersistenceForecaster, fit_deterministic, fit_persistence
from sciml.thermoacoustic.bnn import BNNForecaster, fit_bnn
from sciml.thermoacoustic.data import (
    runs_from_dataset,
    runs_to_dataset,
    split_runs,
    str_labels,
    validate_runs,
)
from sciml.thermoacoustic.ensemble import fit_anchored_ensemble, predict_members
from sciml.thermoacoustic.features import (
    FEATURE_CHANNELS,
    SENSOR_SETS,
    Standardizer,
    Windows,
    channel_indices,
    frame_features,
    make_windows,
    measured_amplitude,
)
from sciml.thermoacoustic.metrics import (
    crps_variance_scale,
    detect_onsets,
    exceedance_probability,
    horizon_scores,
    oracle_scores,
    warning_scores,
)
from sciml.thermoacoustic.model import EnsembleMLP, Forecast
from sciml.thermoacoustic.simulator import CONTROL_CHANNELS, CombustorParams, resimulate, simulate_runs
from sciml.thermoacoustic.studies import failed_features, failure_effect

__all__ = [
    "ThermoacousticConfig",
    "Prepared",
    "MODELS",
    "simulate_dataset",
    "prepare",
    "train_forecasters",
    "predict_all",
    "evaluate",
    "oracle_study",
    "ablation_study",
    "failure_study",
    "attribution_study",
    "ensemble_state_dict",
    "ensemble_from_state_dict",
    "validation_metrics",
    "ORACLE_ONLY",
    "select_runs",
    "has_simulator_state",
    "metrics_table",
    "run",
]

MODELS = ("persistence", "deterministic", "anchored_ensemble", "bnn")


class ThermoacousticConfig(Settings):
    """Sizes of the thermoacoustic experiment (fast defaults: ~4-6 min on 2 cores).

    Times: ``duration`` [s] per run; ``window`` [frames] of history; ``horizons`` [frames] (1 frame
    = 10 ms); ``train_stride``: training windows start every ``train_stride`` frames (neighbouring
    windows overlap almost fully; validation and test windows start every frame). Models:
    ``n_members``, ``hidden``, ``epochs`` (ensemble and deterministic net); ``bnn_steps`` (SVI),
    ``bnn_map_steps`` (MAP phase the guide's means start from; 0: they start at a prior draw),
    ``bnn_init_scale`` (the guide's initial std), ``bnn_guide``, ``bnn_samples``. Studies:
    ``ablation_members``, ``ablation_epochs``; ``oracle_states``, ``oracle_seeds``; ``fail_frac``
    (failure at this fraction of a test run); ``threshold`` [bar], ``warn_prob``, ``lead_frames``,
    ``early_frames``, ``quiet_frames`` of the onset warnings; ``ig_samples``, ``ig_steps``.
    ``recalibrate``: per-horizon variance factor fitted on the validation runs;
    ``revert_aleatoric``: off the training range the aleatoric variance reverts to its validation
    average (:meth:`~.model.Forecast.revert_aleatoric`, weight
    :meth:`~.features.Standardizer.off_data_weight`).
    """

    # the run set: simulated by the surrogate, or a user's recordings imported into the catalog
    # (``sciml catalog import thermoacoustic/recordings FILE``; no oracle: it needs the simulator)
    source: Literal["simulate", "recordings"] = "simulate"
    n_runs: int = Field(160, ge=4)
    duration: float = Field(8.0, gt=0)
    split: tuple[float, float, float] = (0.6, 0.15, 0.25)
    subcritical: bool = False
    window: int = Field(30, ge=1)
    horizons: tuple[int, ...] = (1, 5, 10, 20, 30, 50)
    future_stride: int = Field(5, ge=1)
    train_stride: int = Field(1, ge=1)
    n_members: int = Field(5, ge=2)
    hidden: tuple[int, ...] = (64, 64)
    epochs: int = Field(12, ge=1)
    bnn_steps: int = Field(4000, ge=1)
    bnn_map_steps: int = Field(2000, ge=0)
    bnn_init_scale: float = Field(0.005, gt=0)
    bnn_guide: str = "normal"
    bnn_samples: int = Field(100, ge=2)
    ablation_members: int = Field(3, ge=2)
    ablation_epochs: int = Field(8, ge=1)
    oracle_states: int = Field(60, ge=1)
    oracle_seeds: int = Field(200, ge=2)
    fail_frac: float = Field(0.5, gt=0, lt=1)
    threshold: float = Field(1.5, gt=0)
    warn_prob: float = Field(0.3, gt=0, lt=1)
    lead_frames: int = 30
    early_frames: int = 60
    quiet_frames: int = 50
    ig_samples: int = Field(64, ge=1)
    ig_steps: int = Field(64, ge=4)
    recalibrate: bool = True
    revert_aleatoric: bool = True

    PROFILES = {
        "fast": {},
        "paper": {
            "n_runs": 320, "duration": 10.0, "n_members": 10, "epochs": 30, "bnn_steps": 8000,
            "bnn_map_steps": 4000, "bnn_samples": 200, "ablation_members": 5, "ablation_epochs": 20,
            "oracle_states": 400, "oracle_seeds": 400, "ig_samples": 256, "hidden": (128, 128),
        },
        "tiny": {
            "n_runs": 6, "duration": 1.6, "split": (0.5, 0.17, 0.33), "window": 10,
            "horizons": (1, 5, 20), "n_members": 2, "hidden": (16,), "epochs": 1,
            "bnn_steps": 30, "bnn_map_steps": 30, "bnn_samples": 8, "ablation_members": 2,
            "ablation_epochs": 1,
            "oracle_states": 3, "oracle_seeds": 16, "ig_samples": 3, "ig_steps": 32,
            "fail_frac": 0.5, "quiet_frames": 10, "lead_frames": 5, "early_frames": 15,
        },
    }  # fmt: skip

    @model_validator(mode="after")
    def _window_fits_the_run(self) -> ThermoacousticConfig:
        """A run must hold a window and the longest horizon (``duration`` is in s, frames 10 ms)."""
        if max(self.horizons) + self.window >= self.duration * 100:
            raise ValueError(
                f"duration={self.duration} s too short for window + longest horizon "
                f"({self.window} + {max(self.horizons)} frames of 10 ms)"
            )
        return self


@dataclass
class Prepared:
    """Features and windows of a run set, split by run."""

    feats: np.ndarray
    amplitude: np.ndarray
    windows: dict[str, Windows]
    scaler: Standardizer
    params: CombustorParams
    split: np.ndarray
    run_labels: np.ndarray
    time: np.ndarray


def simulate_dataset(cfg: ThermoacousticConfig) -> xr.Dataset:
    """Simulate ``cfg.n_runs`` runs and assign the train/val/test split (seeded)."""
    params = CombustorParams.subcritical() if cfg.subcritical else CombustorParams()
    runs = simulate_runs(cfg.n_runs, cfg.duration, seed=cfg.seed, params=params)
    return runs_to_dataset(runs, split_runs(cfg.n_runs, cfg.split, seed=cfg.seed + 1))


def _raw(ds: xr.Dataset):
    from sciml.thermoacoustic.simulator import SLOW_CHANNELS

    return (ds["p_dyn"].values, ds["oh_star"].values, {k: ds[k].values for k in SLOW_CHANNELS},
            {k: ds[k].values for k in CONTROL_CHANNELS})


def prepare(ds: xr.Dataset, cfg: ThermoacousticConfig,
            splits: tuple[str, ...] = ("train", "val", "test")) -> Prepared:
    """Validate a run set, compute frame features and cut windows per split.

    ``splits``: which splits to cut windows for (training needs only train and val; the run set
    may then hold only those runs). The standardiser is fitted on the train windows.
    """
    from sciml.thermoacoustic.data import params_from_dataset

    ds = validate_runs(ds)
    params = params_from_dataset(ds)
    feats = frame_features(*_raw(ds), params)
    amp = ds["amplitude"].values.astype(np.float64)
    split = str_labels(ds["split"].values)
    windows = {}
    if "train" not in splits:
        raise ConfigError(f"splits={splits} must include 'train' (the standardiser is fitted on it)")
    for s in splits:
        runs = np.flatnonzero(split == s)
        if runs.size == 0:
            raise ConfigError(f"no {s} runs in the run set; adjust the split")
        windows[s] = make_windows(feats, amp, cfg.window, cfg.horizons, cfg.future_stride, runs=runs,
                                  stride=cfg.train_stride if s == "train" else 1)
    return Prepared(feats, amp, windows, Standardizer.fit(windows["train"]), params, split,
                    str_labels(ds["run"].values), ds["time"].values)


def _xy(prep: Prepared, split: str, channels=None):
    w = prep.windows[split]
    return prep.scaler.inputs(w, channels), prep.scaler.target(w)


def train_forecasters(
    prep: Prepared,
    cfg: ThermoacousticConfig,
    models: tuple[str, ...] = MODELS,
    logger: logging.Logger | logging.LoggerAdapter | None = None,
) -> dict:
    """Fit the requested forecasters on the train split (seeded from ``cfg.seed``).

    With ``cfg.recalibrate`` each network's variance factor per horizon is then fitted on the
    validation split (never the test split).
    """
    x, y = _xy(prep, "train")
    out = {}
    for name in models:
        if name == "persistence":
            w = prep.windows["train"]
            out[name] = fit_persistence(w.y_now, w.y)
        elif name == "anchored_ensemble":
            out[name] = fit_anchored_ensemble(x, y, cfg.n_members, cfg.hidden, cfg.epochs,
                                              seed=cfg.seed + 10, logger=logger)
        elif name == "deterministic":
            out[name] = fit_deterministic(x, y, cfg.hidden, cfg.epochs, seed=cfg.seed + 20,
                                          logger=logger)
        elif name == "bnn":
            out[name] = fit_bnn(x, y, cfg.hidden, n_steps=cfg.bnn_steps, guide=cfg.bnn_guide,
                                map_steps=cfg.bnn_map_steps, init_scale=cfg.bnn_init_scale,
                                seed=cfg.seed + 30, logger=logger)
        else:
            raise unknown_name("model", name, list(MODELS))
        if name == "persistence" or not (cfg.recalibrate or cfg.revert_aleatoric):
            continue
        wv = prep.windows["val"]
        raw = _raw_forecast(out[name], prep.scaler.inputs(wv), cfg.bnn_samples)
        if cfg.revert_aleatoric:
            _set_buffer(out[name], "ale_prior", raw.aleatoric_var.mean(axis=0))
        if cfg.recalibrate:
            f = crps_variance_scale(wv.y, _to_bar(out[name], prep, wv, raw, scale=False))
            _set_buffer(out[name], "var_scale", f)
    return out


def _set_buffer(model, name: str, v: np.ndarray) -> None:
    if isinstance(model, EnsembleMLP):
        getattr(model, name).copy_(torch.as_tensor(v, dtype=torch.float32))
    else:
        setattr(model, name, np.asarray(v, dtype=np.float64))


def _fitted(model, name: str) -> np.ndarray | None:
    """A network's fitted per-horizon calibration array ``name`` (None: not fitted, i.e. absent
    or, for an ensemble's buffer, NaN)."""
    if isinstance(model, EnsembleMLP):
        v = getattr(model, name).detach().numpy().astype(np.float64)
        return v if np.all(np.isfinite(v)) else None
    return getattr(model, name, None)


def _raw_forecast(model, x: np.ndarray, n_samples: int) -> Forecast:
    """Standardised mixture forecast of a network (no reversion, no recalibration)."""
    if isinstance(model, EnsembleMLP):
        return predict_members(model, x)
    if isinstance(model, BNNForecaster):
        return model.predict(x, n_samples)
    raise ConfigError(f"cannot predict with {type(model).__name__}")


def _to_bar(model, prep: Prepared, w: Windows, raw: Forecast, scale: bool = True,
            revert: bool = True) -> Forecast:  # fmt: skip
    """Off-data aleatoric reversion (if fitted and ``revert``), back to bar, per-horizon
    recalibration (if fitted)."""
    eta = _fitted(model, "ale_prior") if revert else None
    if eta is not None:
        raw = raw.revert_aleatoric(prep.scaler.off_data_weight(w), eta)
    out = prep.scaler.forecast(raw, w)
    f = _fitted(model, "var_scale") if scale else None
    return out if f is None else out.inflate(f)


def predict_one(model, prep: Prepared, w: Windows, x: np.ndarray | None = None,
                n_samples: int = 100) -> Forecast:
    """Forecast in bar for windows ``w`` (``x``: their standardised inputs, if precomputed)."""
    if isinstance(model, PersistenceForecaster):
        return model.predict(w.y_now)
    x = prep.scaler.inputs(w) if x is None else x
    return _to_bar(model, prep, w, _raw_forecast(model, x, n_samples))


def predict_all(models: dict, prep: Prepared, split: str = "test", n_samples: int = 100) -> dict:
    w = prep.windows[split]
    x = prep.scaler.inputs(w)
    return {k: predict_one(m, prep, w, x, n_samples) for k, m in models.items()}


def oracle_study(ds: xr.Dataset, prep: Prepared, cfg: ThermoacousticConfig) -> dict:
    """Re-simulate ``cfg.oracle_states`` random held-out states with ``cfg.oracle_seeds`` seeds."""
    runs = runs_from_dataset(ds)
    w = prep.windows["test"]
    rng = np.random.default_rng(cfg.seed + 40)
    pick = np.sort(rng.choice(len(w), size=min(cfg.oracle_states, len(w)), replace=False))
    samples = resimulate(runs, w.run[pick], w.frame[pick], max(cfg.horizons), cfg.oracle_seeds,
                         seed=cfg.seed + 41)
    h = np.asarray(cfg.horizons) - 1
    samples = samples[:, :, h]
    return {"index": pick, "samples": samples, "crps": oracle_scores(w.y[pick], samples)}


def evaluate(prep: Prepared, forecasts: dict, cfg: ThermoacousticConfig, oracle: dict | None) -> dict:
    """Per-model, per-horizon scores, oracle CRPS ratio and onset-warning rates."""
    w = prep.windows["test"]
    scores = {m: horizon_scores(w.y, fc) for m, fc in forecasts.items()}
    if oracle is not None:
        from sciml.uq import crps_gaussian

        idx = oracle["index"]
        ocrps = oracle["crps"].mean(axis=0)
        for m, fc in forecasts.items():
            c = crps_gaussian(w.y[idx], fc.mean[idx], np.maximum(fc.std[idx], 1e-9)).mean(axis=0)
            scores[m]["crps_oracle_subset"] = c
            scores[m]["crps_oracle_ratio"] = c / ocrps
    # onset warnings on the test runs, at the longest horizon
    n_runs, n_frames = prep.amplitude.shape
    onset = detect_onsets(prep.amplitude, cfg.threshold, cfg.quiet_frames)
    kernel = np.ones(5) / 5
    sm = np.apply_along_axis(lambda r: np.convolve(r, kernel, mode="full")[: r.size], 1,
                             prep.amplitude)
    test = prep.split == "test"
    warn_scores = {}
    for m, fc in forecasts.items():
        warn = np.zeros((n_runs, n_frames), dtype=bool)
        p = exceedance_probability(fc, cfg.threshold)[:, -1]
        warn[w.run, w.frame] = p >= cfg.warn_prob
        warn_scores[m] = warning_scores(warn[test], onset[test], (sm > cfg.threshold)[test],
                                        cfg.lead_frames, cfg.early_frames)
    out = {"scores": scores, "warnings": warn_scores, "oracle_crps": None,
           "oracle_gaussian_ratio": None}
    if oracle is not None:
        # the floor of any Gaussian forecaster: the oracle's own mean and std with a Gaussian shape
        from sciml.uq import crps_gaussian

        s_ = oracle["samples"]
        g = crps_gaussian(w.y[oracle["index"]], s_.mean(axis=1), np.maximum(s_.std(axis=1), 1e-9))
        out["oracle_crps"] = oracle["crps"].mean(axis=0)
        out["oracle_gaussian_ratio"] = g.mean(axis=0) / out["oracle_crps"]
    return out


def ablation_study(prep: Prepared, cfg: ThermoacousticConfig, logger=None) -> dict:
    """Anchored ensembles trained on each sensor set; scores on the test split.

    Sets without the dynamic pressure do not see the current amplitude, so they forecast the
    amplitude itself rather than a residual on persistence (``Standardizer(residual=False)``).
    """
    out = {}
    w = prep.windows["test"]
    wt = prep.windows["train"]
    for i, name in enumerate(SENSOR_SETS):
        ch = channel_indices(name)
        scaler = Standardizer.fit(wt, residual="p_dyn" in SENSOR_SETS[name])
        x, y = scaler.inputs(wt, ch), scaler.target(wt)
        net = fit_anchored_ensemble(x, y, cfg.ablation_members, cfg.hidden, cfg.ablation_epochs,
                                    seed=cfg.seed + 100 + i, logger=logger)
        fc = scaler.forecast(predict_members(net, scaler.inputs(w, ch)), w)
        out[name] = horizon_scores(w.y, fc)
    return out


def failure_study(
    ds: xr.Dataset, prep: Prepared, models: dict, cfg: ThermoacousticConfig,
    sensors: tuple[str, ...] = ("p_dyn", "oh_star"),
    modes: tuple[str, ...] = ("zeroed", "frozen", "stale"),
) -> dict:
    """Forecasts of the Bayesian models with a sensor failing mid-run on the test runs.

    The failed windows carry what the failed sensor reports (``y_now`` from
    :func:`~.features.measured_amplitude`; the networks' base :func:`~.features.nowcast` reads the
    failed inputs) and the true amplitude as the target; ``out_of_range``
    is the fraction of post-failure windows with some channel outside its training range,
    ``frozen`` the fraction with some channel that stopped changing
    (:meth:`~.features.Standardizer.frozen`), ``flagged`` either (``*_before``: before the failure).
    Aleatoric figures come twice, from the same draws: as forecast (with the off-data reversion
    where ``revert_aleatoric`` fitted it) and ``*_raw``, the network's own aleatoric variance.
    """
    test = np.flatnonzero(prep.split == "test")
    raw = _raw(ds.isel(run=test))
    fail_frame = int(cfg.fail_frac * prep.amplitude.shape[1])
    nominal_w = prep.windows["test"]
    bayes = [m for m in ("anchored_ensemble", "bnn") if m in models]

    def both(model, w):  # the same draws, with and without the off-data aleatoric reversion
        r = _raw_forecast(model, prep.scaler.inputs(w), cfg.bnn_samples)
        return _to_bar(model, prep, w, r), _to_bar(model, prep, w, r, revert=False)

    nominal = {m: both(models[m], nominal_w) for m in bayes}
    out = {}
    for sensor in sensors:
        for mode in modes:
            f_t = failed_features(*raw, prep.params, sensor, mode, fail_frame)
            feats = prep.feats.copy()
            feats[test] = f_t
            w = make_windows(feats, prep.amplitude, cfg.window, cfg.horizons, cfg.future_stride,
                             runs=test)
            w.y_now = measured_amplitude(feats)[w.run, w.frame].astype(np.float32)
            oor = prep.scaler.out_of_range(w, margin=1.0).any(axis=1)
            still = prep.scaler.frozen(w).any(axis=1)
            after = w.frame >= fail_frame
            for m in bayes:
                (nom, nom_raw), (fc, fc_raw) = nominal[m], both(models[m], w)
                eff = failure_effect(nom, fc, w.frame, fail_frame)
                raw_eff = failure_effect(nom_raw, fc_raw, w.frame, fail_frame)
                for k in ("aleatoric_ratio", "aleatoric_std_nominal", "aleatoric_std_failed"):
                    eff[f"{k}_raw"] = raw_eff[k]
                eff["series_nominal"] = nom.epistemic_std[:, -1]
                eff["series_failed"] = fc.epistemic_std[:, -1]
                eff["aleatoric_series_failed"] = fc.aleatoric_std[:, -1]
                eff["aleatoric_series_failed_raw"] = fc_raw.aleatoric_std[:, -1]
                eff["aleatoric_series_nominal"] = nom.aleatoric_std[:, -1]
                for k, flag in (("out_of_range", oor), ("frozen", still),
                                ("flagged", oor | still)):
                    eff[k] = float(flag[after].mean())
                    eff[f"{k}_before"] = float(flag[~after].mean())
                out[(m, sensor, mode)] = eff
    return {"effects": out, "fail_frame": fail_frame, "run": nominal_w.run,
            "frame": nominal_w.frame}


def attribution_study(prep: Prepared, net: EnsembleMLP, cfg: ThermoacousticConfig) -> dict:
    """Integrated gradients of the 500 ms ensemble forecast over ``cfg.ig_samples`` test windows."""
    w = prep.windows["test"]
    rng = np.random.default_rng(cfg.seed + 50)
    pick = np.sort(rng.choice(len(w), size=min(cfg.ig_samples, len(w)), replace=False))
    x = prep.scaler.inputs(w.subset(pick))
    res = integrated_gradients(net, x, horizon=len(cfg.horizons) - 1, n_steps=cfg.ig_steps)
    n_c, n_w = len(FEATURE_CHANNELS), cfg.window
    a = res["attributions"]
    hist = a[:, : n_c * n_w].reshape(-1, n_c, n_w)
    fut = a[:, n_c * n_w :].reshape(a.shape[0], len(CONTROL_CHANNELS), -1)
    return {"history": hist, "future": fut, "delta_f": res["delta_f"],
            "completeness_error": res["completeness_error"], "index": pick}


def ensemble_state_dict(net: EnsembleMLP, scaler: Standardizer, cfg: ThermoacousticConfig) -> dict:
    """Tensors of a trained ensemble plus its standardiser (for the model registry)."""
    sd = {f"net.{k}": v.detach().clone() for k, v in net.state_dict().items()}
    for k, v in scaler.to_arrays().items():
        sd[f"scaler.{k}"] = torch.as_tensor(np.asarray(v, dtype=np.float32))
    return sd


def ensemble_from_state_dict(sd: dict, cfg: ThermoacousticConfig) -> tuple[EnsembleMLP, Standardizer]:
    """Inverse of :func:`ensemble_state_dict`."""
    w0 = sd["net.weights.0"]
    n_out = sd[f"net.biases.{len(cfg.hidden)}"].shape[-1] // 2
    net = EnsembleMLP(w0.shape[0], w0.shape[1], tuple(cfg.hidden), n_out)
    state = {k[4:]: v for k, v in sd.items() if k.startswith("net.")}
    # models saved before the off-data reversion carry no prior noise level: NaN, no reversion
    state.setdefault("ale_prior", torch.full((n_out,), float("nan")))
    net.load_state_dict(state)
    scaler = Standardizer.from_arrays({k[7:]: v.numpy() for k, v in sd.items()
                                       if k.startswith("scaler.")})
    return net.eval(), scaler


def validation_metrics(cfg: ThermoacousticConfig, state_dict: dict, prep: Prepared) -> dict[str, float]:
    r"""Scores of a stored anchored ensemble on the validation windows at the longest horizon.

    The ensemble and the standardiser it was trained with are rebuilt from ``state_dict``
    (:func:`ensemble_state_dict`); it forecasts every validation window of ``prep`` (the current
    run set) in bar, with its own off-data reversion and recalibration, as
    :func:`predict_one` does. The score is the mean CRPS of the Gaussian forecast at the longest
    horizon :math:`h` over the validation windows :math:`i`,

    .. math:: \mathrm{CRPS}_h = \frac1n \sum_i \mathrm{CRPS}(N(\mu_{ih}, \sigma_{ih}^2), a_{i,h}),

    deterministic (the same state and windows give the same floats). Note that the
    recalibration factors of a freshly trained ensemble were fitted on these windows
    (:func:`train_forecasters`).

    Parameters
    ----------
    cfg : ThermoacousticConfig
        ``hidden`` and ``horizons`` must be those the ensemble was trained with.
    state_dict : dict of torch.Tensor
        ``net.*`` and ``scaler.*`` tensors of :func:`ensemble_state_dict`.
    prep : Prepared
        The current run set, prepared with at least the ``val`` split (:func:`prepare`).

    Returns
    -------
    dict
        ``score`` and ``val_crps`` (bar), ``val_rmse`` (bar), ``val_nll``, ``val_coverage90``
        at the longest horizon, ``horizon_ms`` (that horizon) and ``n_windows``.

    Raises
    ------
    DataError
        If ``prep`` has no validation windows, or the state dict is not an ensemble of these
        settings (other hidden sizes, horizons, window or channels).

    References
    ----------
    .. [1] Sengupta, Waxenegger-Wilfing, Martin, Hardi, Juniper, "Forecasting Thermoacoustic
       Instabilities in Liquid Propellant Rocket Engines Using Multimodal Bayesian Deep
       Learning", arXiv 2107.06396 (2021), Secs. 3-4.
    """
    if "val" not in prep.windows:
        raise DataError("the prepared run set has no validation windows; prepare it with "
                        "splits ('train', 'val')")  # fmt: skip
    try:
        net, scaler = ensemble_from_state_dict(dict(state_dict), cfg)
    except KeyError as exc:
        raise DataError(f"state dict lacks {exc} for hidden={tuple(cfg.hidden)}; not an anchored "
                        "ensemble of these settings (ensemble_state_dict)") from None  # fmt: skip
    except RuntimeError as exc:
        detail = " ".join(line.strip() for line in str(exc).strip().splitlines()[:2])
        raise DataError(f"state dict does not fit hidden={tuple(cfg.hidden)}: {detail}") from None
    w = prep.windows["val"]
    if net.n_out != len(cfg.horizons) or scaler.hist_mean.size != w.x_hist.shape[1]:
        raise DataError(f"state dict forecasts {net.n_out} horizons from {scaler.hist_mean.size} "
                        f"channels; the settings have {len(cfg.horizons)} horizons and the run "
                        f"set {w.x_hist.shape[1]} channels")  # fmt: skip
    x = scaler.inputs(w)
    n_in = int(net.weights[0].shape[1])
    if x.shape[1] != n_in:
        raise DataError(f"state dict takes {n_in} inputs, the validation windows give {x.shape[1]} "
                        f"(window={cfg.window}, horizons={tuple(cfg.horizons)})")  # fmt: skip
    fc = predict_one(net, dataclasses.replace(prep, scaler=scaler), w, x)
    sc = horizon_scores(w.y, fc)
    h = int(np.argmax(cfg.horizons))
    crps = float(sc["crps"][h])
    return {"score": crps, "val_crps": crps, "val_rmse": float(sc["rmse"][h]),
            "val_nll": float(sc["nll"][h]), "val_coverage90": float(sc["coverage90"][h]),
            "horizon_ms": 10.0 * float(cfg.horizons[h]), "n_windows": float(len(w))}  # fmt: skip


# simulator-only variables that only the oracle reads (``nu_fast`` is as large as a fast channel)
ORACLE_ONLY: tuple[str, ...] = ("nu_fast", "state", "nu", "delta")


def has_simulator_state(ds: xr.Dataset) -> bool:
    """Whether a run set holds the simulator's state, which the re-simulation oracle needs
    (simulated runs do; recordings do not)."""
    return all(v in ds.data_vars for v in ("state", "nu_fast"))


def select_runs(ds: xr.Dataset, oracle: bool = False, train_only: bool = False) -> xr.Dataset:
    """The part of a run set a step needs: without the oracle's variables unless ``oracle``, and
    only the train and validation runs if ``train_only`` (training never sees the test runs)."""
    if not oracle:
        ds = ds.drop_vars([v for v in ORACLE_ONLY if v in ds.data_vars])
    if train_only:
        keep = np.isin(str_labels(ds["split"].values), ("train", "val"))
        ds = ds.isel(run=np.flatnonzero(keep))
    return ds


def metrics_table(metrics: xr.Dataset):
    """Headline scores of every model at the longest horizon, as a table (pandas DataFrame)."""
    sel = metrics.sel(horizon=float(metrics.horizon[-1]))
    cols = ["rmse", "rmse_reduction_vs_persistence", "coverage90", "crps", "nll",
            "crps_oracle_ratio", "epistemic_std", "onset_warning_rate", "false_alarm_rate"]  # fmt: skip
    cols = [c for c in cols if c in sel]
    return sel[cols].to_dataframe()[cols]


def run(
    cfg: ThermoacousticConfig, runs: xr.Dataset | None = None, logger: logging.Logger | None = None
) -> dict[str, xr.Dataset]:
    """The whole experiment in one call: simulate (unless ``runs`` are given), train every
    forecaster, forecast and score the test runs (against the re-simulation oracle where the runs
    hold the simulator state), run the three sensor studies.

    Returns
    -------
    dict of xarray.Dataset: ``thermoacoustic/<kind>`` for kind in runs, forecasts, metrics,
    failure, attributions, ablation (the flow's datasets).
    """
    from sciml.thermoacoustic.datasets import to_dataset

    runs = simulate_dataset(cfg) if runs is None else runs
    models = train_forecasters(prepare(select_runs(runs, train_only=True), cfg, ("train", "val")),
                               cfg, MODELS, logger=logger)  # fmt: skip
    prep = prepare(select_runs(runs), cfg)
    forecasts = predict_all(models, prep, n_samples=cfg.bnn_samples)
    oracle = oracle_study(runs, prep, cfg) if has_simulator_state(runs) else None
    payloads = {
        "forecasts": forecasts,
        "metrics": evaluate(prep, forecasts, cfg, oracle),
        "failure": failure_study(select_runs(runs), prep, models, cfg),
        "attributions": attribution_study(prep, models["anchored_ensemble"], cfg),
        "ablation": ablation_study(prep, cfg, logger=logger),
    }
    out = {"thermoacoustic/runs": runs}
    out |= {f"thermoacoustic/{k}": to_dataset(k, prep, cfg, v) for k, v in payloads.items()}
    return out
