"""Cauchy-Schwarz divergence Information Bottleneck (CS-IB) regression, baselines and datasets.

Yu, Yu, Løkse, Jenssen & Principe, "Cauchy-Schwarz Divergence Information Bottleneck for
Regression", ICLR 2024 (arXiv:2404.17951). Estimators in :mod:`.divergence`, network in
:mod:`.model`, one module per method (:mod:`.csib`, :mod:`.mse`, :mod:`.vib`, :mod:`.nib`,
:mod:`.hsic`), training in :mod:`.train`, attacks in :mod:`.attacks`, metrics and the
``xarray`` result in :mod:`.metrics`, the four packaged real datasets in :mod:`.datasets`.
"""

from sciml.csib.attacks import ATTACKS, attack_rmse, fgsm, pgd
from sciml.csib.csib import csib_loss
from sciml.csib.datasets import (
    DATASETS,
    DatasetSpec,
    Prepared,
    Split,
    inputs_to_dataset,
    load_dataset,
    load_frame,
    preprocess,
    read_frame,
    sha256_file,
    split_from_dataset,
    split_indices,
    standardize,
)
from sciml.csib.divergence import (
    conditional_cs_divergence,
    cs_divergence,
    cs_mutual_information,
    gaussian_cs_divergence,
    kernel_width,
    log_gram,
)
from sciml.csib.hsic import hsic_loss, normalized_hsic
from sciml.csib.metrics import (
    information_plane,
    regression_metrics,
    select_beta,
    summary_table,
    to_dataset,
)
from sciml.csib.model import Decoder, IBNet, StochasticEncoder, init_parameters
from sciml.csib.mse import mse_loss
from sciml.csib.nib import kde_mi_upper_bound, nib_loss
from sciml.csib.plots import plot_information_plane, plot_rmse_vs_beta, plot_rmse_vs_epsilon
from sciml.csib.train import (
    MODELS,
    TrainConfig,
    TrainResult,
    build_net,
    fit,
    predict,
    train_and_evaluate,
)
from sciml.csib.vib import gaussian_kl, vib_loss

__all__ = [
    "ATTACKS",
    "DATASETS",
    "MODELS",
    "DatasetSpec",
    "Decoder",
    "IBNet",
    "Prepared",
    "Split",
    "StochasticEncoder",
    "TrainConfig",
    "TrainResult",
    "attack_rmse",
    "build_net",
    "conditional_cs_divergence",
    "cs_divergence",
    "cs_mutual_information",
    "csib_loss",
    "fgsm",
    "fit",
    "gaussian_cs_divergence",
    "gaussian_kl",
    "hsic_loss",
    "information_plane",
    "init_parameters",
    "inputs_to_dataset",
    "kde_mi_upper_bound",
    "kernel_width",
    "load_dataset",
    "load_frame",
    "log_gram",
    "mse_loss",
    "nib_loss",
    "normalized_hsic",
    "pgd",
    "plot_information_plane",
    "plot_rmse_vs_beta",
    "plot_rmse_vs_epsilon",
    "predict",
    "preprocess",
    "read_frame",
    "regression_metrics",
    "select_beta",
    "sha256_file",
    "split_from_dataset",
    "split_indices",
    "standardize",
    "summary_table",
    "to_dataset",
    "train_and_evaluate",
    "vib_loss",
]
