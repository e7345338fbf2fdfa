"""Bayesian forecasting of thermoacoustic instabilities on a surrogate multi-sensor combustor.

Sengupta, Waxenegger-Wilfing, Martin, Hardi, Juniper, "Forecasting Thermoacoustic Instabilities in
Liquid Propellant Rocket Engines Using Multimodal Bayesian Deep Learning", arXiv 2107.06396 (2021).
"""

from sciml.thermoacoustic.attribution import integrated_gradients
from sciml.thermoacoustic.baselines import PersistenceForecaster, fit_deterministic, fit_persistence
from sciml.thermoacoustic.bnn import BayesianMLP, BNNForecaster, fit_bnn
from sciml.thermoacoustic.data import (
    params_from_dataset,
    runs_from_dataset,
    runs_to_dataset,
    split_runs,
    validate_runs,
)
from sciml.thermoacoustic.datasets import KINDS, to_dataset
from sciml.thermoacoustic.ensemble import fit_anchored_ensemble, predict_members
from sciml.thermoacoustic.experiment import (
    MODELS,
    Prepared,
    ThermoacousticConfig,
    ablation_study,
    attribution_study,
    ensemble_from_state_dict,
    ensemble_state_dict,
    evaluate,
    failure_study,
    oracle_study,
    predict_all,
    prepare,
    simulate_dataset,
    train_forecasters,
    validation_metrics,
)
from sciml.thermoacoustic.features import (
    FEATURE_CHANNELS,
    SENSOR_SETS,
    Standardizer,
    Windows,
    frame_features,
    make_windows,
)
from sciml.thermoacoustic.metrics import (
    crps_variance_scale,
    detect_onsets,
    exceedance_probability,
    horizon_scores,
    oracle_scores,
    warning_scores,
)
from sciml.thermoacoustic.model import EnsembleMLP, Forecast, combine_members
from sciml.thermoacoustic.recordings import load_folder
from sciml.thermoacoustic.simulator import (
    CombustorParams,
    SimulatedRuns,
    frame_amplitude,
    integrate_mode,
    resimulate,
    simulate_runs,
    stationary_amplitude_density,
)
from sciml.thermoacoustic.studies import failed_features, failure_effect

__all__ = [
    "BNNForecaster",
    "BayesianMLP",
    "CombustorParams",
    "EnsembleMLP",
    "ThermoacousticConfig",
    "FEATURE_CHANNELS",
    "Forecast",
    "KINDS",
    "MODELS",
    "PersistenceForecaster",
    "Prepared",
    "SENSOR_SETS",
    "SimulatedRuns",
    "Standardizer",
    "Windows",
    "ablation_study",
    "attribution_study",
    "combine_members",
    "crps_variance_scale",
    "detect_onsets",
    "ensemble_from_state_dict",
    "ensemble_state_dict",
    "evaluate",
    "exceedance_probability",
    "failed_features",
    "failure_effect",
    "failure_study",
    "fit_anchored_ensemble",
    "fit_bnn",
    "fit_deterministic",
    "fit_persistence",
    "frame_amplitude",
    "frame_features",
    "horizon_scores",
    "integrate_mode",
    "integrated_gradients",
    "load_folder",
    "make_windows",
    "oracle_scores",
    "oracle_study",
    "params_from_dataset",
    "predict_all",
    "predict_members",
    "prepare",
    "resimulate",
    "runs_from_dataset",
    "runs_to_dataset",
    "simulate_dataset",
    "simulate_runs",
    "split_runs",
    "stationary_amplitude_density",
    "to_dataset",
    "train_forecasters",
    "validation_metrics",
    "validate_runs",
    "warning_scores",
]
