"""Cauchy-Schwarz divergence Information Bottleneck (CS-IB) regression, baselines and datasets.

Yu, Yu, Løkse, Jenssen & Principe, "Cauchy-Schwarz Divergence Information Bottleneck for
Regression", ICLR 2024 (arXiv:2404.17951). Estimators in :mod:`.divergence`, network in
:mod:`.model`, one module per method (:mod:`.csib`, :mod:`.mse`, :mod:`.vib`, :mod:`.nib`,
:mod:`.hsic`), attacks in :mod:`.attacks`, metrics in :mod:`.metrics`, the four shipped real
datasets in :mod:`.data`, their ``xarray`` stores and the metrics dataset in :mod:`.datasets`,
the whole recipe (training, evaluation, results) behind :class:`CSIBConfig` in
:mod:`.experiment`, and the figures in :mod:`.plots`.
"""

from sciml.csib.attacks import ATTACKS, attack_rmse, fgsm, pgd
from sciml.csib.csib import csib_loss
from sciml.csib.data import (
    DATASETS,
    DatasetSpec,
    Prepared,
    Split,
    describe,
    load_dataset,
    load_frame,
    preprocess,
    read_frame,
    sha256_file,
    split_indices,
    standardize,
)
from sciml.csib.datasets import inputs_to_dataset, split_from_dataset, to_dataset
from sciml.csib.divergence import (
    conditional_cs_divergence,
    cs_divergence,
    cs_mutual_information,
    gaussian_cs_divergence,
    kernel_width,
    log_gram,
)
from sciml.csib.experiment import (
    MODELS,
    Cell,
    Challenger,
    CSIBConfig,
    TrainResult,
    build_net,
    fit,
    grid,
    load_split,
    metrics_dataset,
    metrics_table,
    predict,
    prepare_inputs,
    run,
    run_cell,
    train_and_evaluate,
    train_challenger,
    validation_metrics,
)
from sciml.csib.hsic import hsic_loss, normalized_hsic
from sciml.csib.metrics import information_plane, regression_metrics, select_beta, summary_table
from sciml.csib.model import Decoder, IBNet, StochasticEncoder, init_parameters
from sciml.csib.mse import mse_loss
from sciml.csib.nib import kde_mi_upper_bound, nib_loss
from sciml.csib.plots import figures, plot_information_plane, plot_rmse_vs_beta, plot_rmse_vs_epsilon
from sciml.csib.vib import gaussian_kl, vib_loss

__all__ = [
    "ATTACKS",
    "DATASETS",
    "MODELS",
    "CSIBConfig",
    "Cell",
    "Challenger",
    "DatasetSpec",
    "Decoder",
    "IBNet",
    "Prepared",
    "Split",
    "StochasticEncoder",
    "TrainResult",
    "attack_rmse",
    "build_net",
    "conditional_cs_divergence",
    "cs_divergence",
    "cs_mutual_information",
    "csib_loss",
    "describe",
    "fgsm",
    "figures",
    "fit",
    "gaussian_cs_divergence",
    "gaussian_kl",
    "grid",
    "hsic_loss",
    "information_plane",
    "init_parameters",
    "inputs_to_dataset",
    "kde_mi_upper_bound",
    "kernel_width",
    "load_dataset",
    "load_frame",
    "load_split",
    "log_gram",
    "metrics_dataset",
    "metrics_table",
    "mse_loss",
    "nib_loss",
    "normalized_hsic",
    "pgd",
    "plot_information_plane",
    "plot_rmse_vs_beta",
    "plot_rmse_vs_epsilon",
    "predict",
    "prepare_inputs",
    "preprocess",
    "read_frame",
    "regression_metrics",
    "run",
    "run_cell",
    "select_beta",
    "sha256_file",
    "split_from_dataset",
    "split_indices",
    "standardize",
    "summary_table",
    "to_dataset",
    "train_and_evaluate",
    "train_challenger",
    "validation_metrics",
    "vib_loss",
]
