"""Cauchy-Schwarz divergence Information Bottleneck (CS-IB) regression, baselines and datasets.

Yu, Yu, Løkse, Jenssen & Principe, "Cauchy-Schwarz Divergence Information Bottleneck for
Regression", ICLR 2024 (arXiv:2404.17951). Estimators in :mod:`.divergence`, network in
:mod:`.model`, one module per method (:mod:`.csib`, :mod:`.mse`, :mod:`.vib`, :mod:`.nib`,
:mod:`.hsic`; the robust-loss nets of :mod:`.robust`), attacks in :mod:`.attacks`, metrics in
:mod:`.metrics`, the four shipped real datasets in :mod:`.data`, a user's own table (CSV or
Parquet) in :mod:`.table`, their ``xarray`` stores and the metrics dataset in
:mod:`.datasets`, the whole recipe (training, evaluation, results) in :mod:`.experiment`
behind :class:`CSIBConfig` (:mod:`.config`), and the figures in :mod:`.plots`.
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
from sciml.csib.datasets import (
    inputs_to_dataset,
    resplit,
    split_from_dataset,
    table_to_dataset,
    to_dataset,
)
from sciml.csib.divergence import (
    conditional_cs_divergence,
    cs_divergence,
    cs_mutual_information,
    gaussian_cs_divergence,
    kernel_width,
    log_gram,
)
from sciml.csib.experiment import (
    BETA_FREE,
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
from sciml.csib.metrics import (
    information_plane,
    paired_difference,
    regression_metrics,
    select_beta,
    summary_table,
)
from sciml.csib.model import Decoder, IBNet, StochasticEncoder, init_parameters
from sciml.csib.mse import mse_loss
from sciml.csib.nib import kde_mi_upper_bound, nib_loss
from sciml.csib.plots import figures, plot_information_plane, plot_rmse_vs_beta, plot_rmse_vs_epsilon
from sciml.csib.robust import huber_loss, welsch_loss
from sciml.csib.table import (
    TABLE,
    PreparedTable,
    TableSettings,
    load_table,
    prepare_table,
    read_table,
    table_summary,
)
from sciml.csib.vib import gaussian_kl, vib_loss

__all__ = [
    "ATTACKS",
    "BETA_FREE",
    "DATASETS",
    "MODELS",
    "TABLE",
    "CSIBConfig",
    "Cell",
    "Challenger",
    "DatasetSpec",
    "Decoder",
    "IBNet",
    "Prepared",
    "PreparedTable",
    "Split",
    "StochasticEncoder",
    "TableSettings",
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
    "huber_loss",
    "information_plane",
    "init_parameters",
    "inputs_to_dataset",
    "kde_mi_upper_bound",
    "kernel_width",
    "load_dataset",
    "load_frame",
    "load_split",
    "load_table",
    "log_gram",
    "metrics_dataset",
    "metrics_table",
    "mse_loss",
    "nib_loss",
    "paired_difference",
    "normalized_hsic",
    "pgd",
    "plot_information_plane",
    "plot_rmse_vs_beta",
    "plot_rmse_vs_epsilon",
    "predict",
    "prepare_table",
    "prepare_inputs",
    "preprocess",
    "read_frame",
    "read_table",
    "regression_metrics",
    "resplit",
    "run",
    "run_cell",
    "select_beta",
    "sha256_file",
    "split_from_dataset",
    "split_indices",
    "standardize",
    "summary_table",
    "table_summary",
    "table_to_dataset",
    "to_dataset",
    "train_and_evaluate",
    "train_challenger",
    "validation_metrics",
    "vib_loss",
    "welsch_loss",
]
