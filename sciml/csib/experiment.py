r"""The CS-IB regression experiment: settings, training, evaluation and results, as one recipe.

Yu, Yu, Løkse, Jenssen & Principe, "Cauchy-Schwarz Divergence Information Bottleneck for
Regression", ICLR 2024 (arXiv:2404.17951), Sec. 5. Per shipped dataset (Sec. 5.1):

1. load, check and preprocess it and fix its train/validation/test split
   (:func:`prepare_inputs`, seed ``split_seed``), then standardise it with the training rows'
   statistics (:func:`load_split`);
2. for every (dataset, model, beta, seed) cell of :func:`grid`, train the shared
   encoder/decoder with the loss of the model (:mod:`~sciml.csib.csib`, :mod:`~sciml.csib.mse`,
   :mod:`~sciml.csib.robust`, :mod:`~sciml.csib.vib`, :mod:`~sciml.csib.nib`,
   :mod:`~sciml.csib.hsic`; :data:`MODELS`): Adam on
   mini-batches, early stopping on the *validation* RMSE only, the information plane
   (I(x;t), I(y;t)) tracked on a fixed training subset after every epoch (:func:`fit`);
3. score it on the test rows: RMSE/MAE/R^2, I(x;t) and I(y;t), RMSE under FGSM and PGD attack
   (:func:`run_cell`);
4. assemble the ``csib/metrics`` dataset (:func:`metrics_dataset`) and its headline table, test
   RMSE at the validation-selected beta (:func:`metrics_table`).

:func:`run` does all four in one call; the ``csib`` flow runs the same functions as tasks (one
per dataset, one per grid cell) and writes their output through the catalog. The retraining
deployment trains a CS-IB challenger with :func:`train_challenger` and scores it, and the
current champion, on the validation rows with :func:`validation_metrics`. Every seed derives from
``CSIBConfig.seed`` (model seeds, :meth:`CSIBConfig.seeds`) and ``CSIBConfig.split_seed`` (the
splits, :meth:`CSIBConfig.splits`, and the ``max_rows`` subsample), so the same settings give
the same arrays. The settings live in :mod:`sciml.csib.config` (re-exported here).
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd
import torch
import xarray as xr

from sciml.csib import csib, hsic, mse, nib, robust, vib
from sciml.csib.attacks import attack_rmse
from sciml.csib.config import BETA_FREE, MODELS, CSIBConfig
from sciml.csib.data import (
    DATASETS,
    Split,
    dataset_spec,
    load_dataset,
    preprocess,
    read_frame,
    standardize,
)
from sciml.csib.datasets import (
    inputs_to_dataset,
    split_from_dataset,
    split_rows,
    table_to_dataset,
    to_dataset,
)
from sciml.csib.divergence import KernelWidth, kernel_width
from sciml.csib.metrics import information_plane, regression_metrics, summary_table
from sciml.csib.model import IBNet, init_parameters
from sciml.csib.table import TABLE, load_table
from sciml.errors import ConfigError, DataError, DivergenceError, unknown_name
from sciml.progress import Progress

__all__ = [
    "BETA_FREE",
    "MODELS",
    "CSIBConfig",
    "Cell",
    "Challenger",
    "TrainResult",
    "build_net",
    "fit",
    "grid",
    "load_split",
    "metrics_dataset",
    "metrics_table",
    "predict",
    "prepare_inputs",
    "run",
    "run_cell",
    "train_and_evaluate",
    "train_challenger",
    "validation_metrics",
]

Logger = logging.Logger | logging.LoggerAdapter
LossFn = Callable[..., tuple[torch.Tensor, dict[str, torch.Tensor]]]

#: model name -> (encoder noise mode, loss function). The first four have no compression term
#: and separate what CS-IB's gain is made of: the squared error, two robust losses of the same
#: deterministic net (Huber; Welsch with CS-IB's target window, the limit of its prediction term
#: when the x window holds no neighbour), CS-IB's own prediction term at beta = 0 (its x-kernel
#: coupling and learned noise, no bottleneck), then CS-IB with the bottleneck.
_LOSSES: dict[str, tuple[str, LossFn]] = {
    "mse": (mse.NOISE, mse.mse_loss),
    "huber": (robust.NOISE, robust.huber_loss),
    "welsch": (robust.NOISE, robust.welsch_loss),
    "csib_beta0": (csib.NOISE, csib.csib_loss),
    "csib": (csib.NOISE, csib.csib_loss),
    "vib": (vib.NOISE, vib.vib_loss),
    "nib": (nib.NOISE, nib.nib_loss),
    "hsic": (hsic.NOISE, hsic.hsic_loss),
}
if tuple(_LOSSES) != MODELS:  # pragma: no cover - the two lists are kept in step by hand
    raise RuntimeError(f"loss table {tuple(_LOSSES)} and MODELS {MODELS} differ")

# Fixed parts of the recipe (no profile changes them): the widths of t and x in CS-IB's
# compression term I_CS(x; t), NIB's exponent r (1: the NIB Lagrangian), the weight of
# nHSIC(y, t) in the HSIC bottleneck, and the training rows of the per-epoch information plane.
_SIGMA_T: KernelWidth = "median"
_SIGMA_X_MI: KernelWidth = "median"
_NIB_POWER = 1.0
_HSIC_GAMMA = 1.0
PLANE_SIZE = 512

# ----------------------------------------------------------------------------------------- grid
class Cell(NamedTuple):
    """One training run of the grid; ``beta`` is ``None`` for the models without a compression
    term; ``split`` is the repeated-split number (0: the stored split)."""

    dataset: str
    model: str
    beta: float | None
    seed: int
    split: int = 0


def grid(config: CSIBConfig) -> list[Cell]:
    """Every (dataset, model, beta, seed, split) cell of the experiment, in the order the flow maps them.

    Parameters
    ----------
    config : CSIBConfig
        The settings (``datasets``, ``models``, ``betas``, :meth:`CSIBConfig.seeds`,
        :meth:`CSIBConfig.splits`).

    Returns
    -------
    list of Cell
        Dataset-major (:meth:`CSIBConfig.dataset_names`), then split, seed, model and beta. The
        models of :data:`BETA_FREE` (``mse``, ``huber``, ``welsch``, ``csib_beta0``) have no
        compression term, so each runs once per (dataset, seed) with ``beta=None`` (Yu et al.,
        ICLR 2024, Sec. 5.1).
    """
    cells = []
    for d in config.dataset_names():
        for r in config.splits():
            for s in config.seeds():
                for m in config.models:
                    for b in [None] if m in BETA_FREE else list(config.betas):
                        cells.append(Cell(d, m, b, s, r))
    return cells


# ----------------------------------------------------------------------------------------- data
def prepare_inputs(dataset: str, config: CSIBConfig, source: str | Path | None = None) -> xr.Dataset:
    """The ``csib/{dataset}`` store: a shipped dataset loaded (sha256-checked), preprocessed and split.

    Parameters
    ----------
    dataset : str
        Key of :data:`sciml.csib.data.DATASETS`, or ``"table"`` for the user's table of
        ``config.data`` (:func:`sciml.csib.table.load_table`).
    config : CSIBConfig
        Its ``split_seed`` seeds the 70/10/20 train/validation/test permutation.
    source : path of the raw file, already verified by the caller (the catalog's
        ``csib/raw/{dataset}``); ``None`` reads the packaged file and checks its sha256 here.

    Returns
    -------
    xarray.Dataset
        ``x`` (sample, feature), ``y`` (sample), ``split`` (sample); see
        :func:`sciml.csib.datasets.inputs_to_dataset` and
        :func:`~sciml.csib.datasets.table_to_dataset` (Yu et al., ICLR 2024, Sec. 5.1).

    Raises
    ------
    ConfigError
        If ``dataset`` is ``"table"`` and ``config.data`` is not set.
    DataError
        If the table is unusable (:func:`sciml.csib.table.prepare_table`), or its training
        rows (after the ``max_rows`` subsample) are fewer than one batch.
    """
    if dataset == TABLE:
        if config.data is None:
            raise ConfigError("dataset 'table' needs the table's settings: set data.path and data.target")
        inputs = table_to_dataset(load_table(config.data, config.split_seed), config.split_seed)
        _check_batch(inputs, config)
        return inputs
    if source is None:
        prepared = load_dataset(dataset)
    else:
        prepared = preprocess(dataset, read_frame(source, dataset_spec(dataset)))
    return inputs_to_dataset(prepared, config.split_seed)


def _check_batch(inputs: xr.Dataset, config: CSIBConfig) -> None:
    """A table must fill one training batch: the Gram estimators need full batches."""
    _, _, (train, _, _) = split_rows(inputs, config.max_rows, seed=config.split_seed)
    if len(train) < config.batch_size:
        rep = inputs.attrs
        raise DataError(
            f"table {rep.get('source_file', '')!r} gives {len(train)} training rows "
            f"({rep.get('rows_used', '?')} of {rep.get('rows_read', '?')} rows usable"
            f"{'' if config.max_rows is None else f', max_rows={config.max_rows}'}), fewer than one "
            f"batch (batch_size={config.batch_size}): supply more rows or lower batch_size"
        )


def load_split(inputs: xr.Dataset, config: CSIBConfig, split: int = 0) -> Split:
    """Standardised train/validation/test arrays of a ``csib/{dataset}`` store.

    Parameters
    ----------
    inputs : xarray.Dataset
        Made by :func:`prepare_inputs` (or read back from the catalog).
    config : CSIBConfig
        ``max_rows`` subsamples every part in proportion, seeded by ``split_seed``.
    split : int
        Repeated-split number: 0 is the stored split, ``r >= 1`` one re-drawn from
        ``split_seed`` (:func:`sciml.csib.datasets.resplit`).

    Returns
    -------
    Split
        Standardised with the training rows' statistics only (Yu et al., ICLR 2024, Sec. 5.1).
    """
    return split_from_dataset(inputs, config.max_rows, seed=config.split_seed, split=split)


# ------------------------------------------------------------------------------------- training
@dataclasses.dataclass
class TrainResult:
    """Outcome of :func:`fit`.

    Attributes
    ----------
    net : the network with the best-validation weights loaded (eval mode).
    history : per-epoch arrays ``epoch, loss, prediction, compression, val_rmse, i_xt, i_yt``
        (val_rmse on the standardised scale).
    best_epoch : epoch (1-based) of the lowest validation RMSE.
    best_val_rmse : that RMSE, standardised scale.
    seconds : wall-clock training time.
    """

    net: IBNet
    history: dict[str, np.ndarray]
    best_epoch: int
    best_val_rmse: float
    seconds: float


def build_net(model: str, d_in: int, config: CSIBConfig, seed: int) -> IBNet:
    """The shared encoder/decoder with the noise mode of ``model``, initialised from ``seed``.

    Parameters
    ----------
    model : str
        One of :data:`MODELS`.
    d_in : int
        Number of input features.
    config : CSIBConfig
        Sizes: ``d_t``, ``enc_hidden``, ``dec_hidden``, ``noise_std``.
    seed : int
        Seed of the initial weights.

    Returns
    -------
    IBNet
        The same architecture for every model (Yu et al., ICLR 2024, Sec. 5.1).
    """
    if model not in _LOSSES:
        raise unknown_name("csib model", model, MODELS)
    net = IBNet(
        d_in,
        config.d_t,
        tuple(config.enc_hidden),
        tuple(config.dec_hidden),
        noise=_LOSSES[model][0],
        noise_std=config.noise_std,
    )
    init_parameters(net, torch.Generator().manual_seed(seed))
    return net


def _resolve(width: KernelWidth, x: np.ndarray) -> KernelWidth:
    """A rule for the *input* kernel is applied once to a training subset (x does not change)."""
    if isinstance(width, str):
        return float(kernel_width(torch.as_tensor(x, dtype=torch.float64), width))
    return width


def _loss_options(model: str, config: CSIBConfig, x_ref: np.ndarray) -> dict:
    if model in ("csib", "csib_beta0"):
        return {
            "sigma_x": _resolve(config.sigma_x, x_ref),
            "sigma_y": config.sigma_y,
            "sigma_t": _SIGMA_T,
            "sigma_x_mi": _resolve(_SIGMA_X_MI, x_ref),
        }
    if model == "welsch":
        return {"sigma_y": config.sigma_y}
    if model == "nib":
        return {"power": _NIB_POWER}
    if model == "hsic":
        return {"gamma": _HSIC_GAMMA, "sigma_x": _resolve("median", x_ref)}
    return {}


def predict(net: IBNet, x: np.ndarray, batch: int = 8192) -> np.ndarray:
    """Deterministic predictions (mean encoding) on the standardised scale.

    Parameters
    ----------
    net : IBNet
        A trained network.
    x : ndarray, shape (n, d)
        Standardised inputs.
    batch : int
        Rows per forward pass.

    Returns
    -------
    ndarray, shape (n,), float64
    """
    xt = torch.as_tensor(x, dtype=torch.float32)
    with torch.no_grad():
        out = [net.predict(xt[i : i + batch]) for i in range(0, len(xt), batch)]
    return torch.cat(out).double().numpy()


def fit(
    model: str,
    split: Split,
    beta: float,
    seed: int,
    config: CSIBConfig | None = None,
    logger: Logger | None = None,
    plane_size: int = PLANE_SIZE,
) -> TrainResult:
    """Train ``model`` on ``split`` with compression weight ``beta``; early stopping on validation.

    Adam on mini-batches of ``batch_size`` (the ragged last batch is dropped: the Gram
    estimators need full batches), at most ``max_epochs`` epochs, stopped after ``patience``
    epochs without a lower validation RMSE; the best-validation weights are returned. Unlike
    the authors' scripts, the test rows are never read here (Yu et al., ICLR 2024, Sec. 5.1).

    Parameters
    ----------
    model : str
        One of :data:`MODELS`.
    split : Split
        Standardised train/val/test arrays (test is not used here).
    beta : float
        Compression weight (ignored by the models of :data:`BETA_FREE`: ``csib_beta0`` is
        CS-IB at beta = 0 whatever is passed).
    seed : int
        Seeds initialisation, mini-batch order and noise (same seed -> same weights).
    config : CSIBConfig, optional
        Sizes and optimisation settings (default: the ``fast`` profile).
    logger : logging.Logger, optional
        Receives progress (via :class:`sciml.progress.Progress`).
    plane_size : int
        Training rows of the per-epoch information-plane estimates.

    Returns
    -------
    TrainResult

    Raises
    ------
    ConfigError
        If ``beta`` is negative.
    DivergenceError
        If a mini-batch loss or the validation RMSE is not finite.
    """
    config = CSIBConfig() if config is None else config
    if not beta >= 0:
        raise ConfigError(f"beta must be >= 0, got {beta}")
    net = build_net(model, split.x_train.shape[1], config, seed)
    loss_fn = _LOSSES[model][1]
    beta = 0.0 if model in BETA_FREE else beta
    gen = torch.Generator().manual_seed(seed + 1)
    opt = torch.optim.Adam(net.parameters(), lr=config.lr)
    xtr = torch.as_tensor(split.x_train)
    ytr = torch.as_tensor(split.y_train)
    n = len(ytr)
    bs = min(config.batch_size, n)
    n_batches = n // bs  # drop the ragged last batch: Gram estimators need full batches
    plane_idx = np.sort(np.random.default_rng(seed).permutation(n)[:plane_size])
    opts = _loss_options(model, config, split.x_train[plane_idx])
    hist: dict[str, list[float]] = {
        k: [] for k in ("epoch", "loss", "prediction", "compression", "val_rmse", "i_xt", "i_yt")
    }
    best = (np.inf, 0, {k: v.detach().clone() for k, v in net.state_dict().items()})
    prog = Progress(total=config.max_epochs, desc=f"csib {model} beta={beta:g} seed={seed}", logger=logger)
    start = time.perf_counter()
    for epoch in range(1, config.max_epochs + 1):
        net.train()
        perm = torch.randperm(n, generator=gen)
        sums = torch.zeros(3, dtype=torch.float64)
        for b in range(n_batches):
            idx = perm[b * bs : (b + 1) * bs]
            loss, parts = loss_fn(net, xtr[idx], ytr[idx], beta, generator=gen, **opts)
            if not torch.isfinite(loss):
                raise DivergenceError(
                    f"{model} loss became {float(loss.detach())} at epoch {epoch}, batch {b} "
                    f"(beta={beta}, seed={seed}); lower lr or beta"
                )
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sums += torch.stack(
                [loss.detach().double(), parts["prediction"].double(), parts["compression"].double()]
            )
        net.eval()
        val_pred = predict(net, split.x_val)
        val_rmse = float(np.sqrt(np.mean((val_pred - split.y_val) ** 2)))
        i_xt, i_yt = information_plane(net, split.x_train[plane_idx], split.y_train[plane_idx], seed=seed)
        means = (sums / max(n_batches, 1)).tolist()
        for k, v in zip(hist, [epoch, *means, val_rmse, i_xt, i_yt], strict=True):
            hist[k].append(float(v))
        if not np.isfinite(val_rmse):
            raise DivergenceError(f"{model} validation RMSE is {val_rmse} at epoch {epoch}")
        if val_rmse < best[0]:
            best = (val_rmse, epoch, {k: v.detach().clone() for k, v in net.state_dict().items()})
        prog.update(epoch, loss=means[0], val_rmse=val_rmse)
        if epoch - best[1] >= config.patience:
            break
    prog.close()
    net.load_state_dict(best[2])
    net.eval()
    return TrainResult(
        net, {k: np.asarray(v) for k, v in hist.items()}, best[1], best[0], time.perf_counter() - start
    )


# ----------------------------------------------------------------------------------- evaluation
def train_and_evaluate(
    dataset: str,
    model: str,
    beta: float | None,
    seed: int,
    split: Split,
    config: CSIBConfig | None = None,
    logger: Logger | None = None,
    plane_size: int = PLANE_SIZE,
) -> tuple[dict, TrainResult]:
    """Fit one (dataset, model, beta, seed) cell and evaluate it on the test set.

    The test set is touched only here, after training (early stopping used validation).

    Parameters
    ----------
    dataset, model : str
        Labels of the cell (``model`` one of :data:`MODELS`).
    beta : float or None
        Compression weight; ``None`` for the MSE net (trained with 0).
    seed : int
        Model seed (:func:`fit`; also seeds the attacks and the test-plane subset).
    split : Split
        Standardised arrays of ``dataset``.
    config : CSIBConfig, optional
        Sizes, optimisation, ``epsilons`` and ``pgd_steps`` (default: the ``fast`` profile).
    logger : logging.Logger, optional
        Receives training progress.
    plane_size : int
        Test rows of the final I(x;t), I(y;t) (and training rows of the per-epoch plane).

    Returns
    -------
    record : dict
        The fields :func:`sciml.csib.datasets.to_dataset` expects: test RMSE/MAE/R^2 in target
        units, validation RMSE, I(x;t), I(y;t), FGSM/PGD RMSE per epsilon, the per-epoch
        information plane (Yu et al., ICLR 2024, Sec. 5.2-5.4); ``beta`` is ``None`` for the MSE
        net.
    result : TrainResult
    """
    config = CSIBConfig() if config is None else config
    res = fit(model, split, 0.0 if beta is None else beta, seed, config, logger=logger, plane_size=plane_size)
    test = regression_metrics(split.y_test, predict(res.net, split.x_test), split.y_std)
    idx = np.sort(np.random.default_rng(seed).permutation(len(split.y_test))[:plane_size])
    i_xt, i_yt = information_plane(res.net, split.x_test[idx], split.y_test[idx], seed=seed)
    epsilons = tuple(config.epsilons)
    record = {
        "dataset": dataset,
        "model": model,
        "beta": None if beta is None else float(beta),
        "seed": int(seed),
        **test,
        "val_rmse": float(res.best_val_rmse * split.y_std),
        "i_xt": i_xt,
        "i_yt": i_yt,
        "best_epoch": int(res.best_epoch),
        "train_seconds": float(res.seconds),
        "rmse_fgsm": attack_rmse(
            res.net, split.x_test, split.y_test, epsilons, "fgsm", split.y_std, seed
        ).tolist(),
        "rmse_pgd": attack_rmse(
            res.net, split.x_test, split.y_test, epsilons, "pgd", split.y_std, seed, steps=config.pgd_steps
        ).tolist(),
        "plane_i_xt": res.history["i_xt"].tolist(),
        "plane_i_yt": res.history["i_yt"].tolist(),
    }
    return record, res


def run_cell(cell: Cell, inputs: xr.Dataset, config: CSIBConfig, logger: Logger | None = None) -> dict:
    """Train and evaluate one grid cell on its dataset's ``csib/{dataset}`` store.

    Parameters
    ----------
    cell : Cell
        The (dataset, model, beta, seed, split) to run.
    inputs : xarray.Dataset
        The ``csib/{dataset}`` store of ``cell.dataset`` (:func:`prepare_inputs`).
    config : CSIBConfig
        The settings.
    logger : logging.Logger, optional
        Receives training progress.

    Returns
    -------
    dict
        The cell's result record (:func:`train_and_evaluate`; Yu et al., ICLR 2024, Sec. 5).
    """
    split = load_split(inputs, config, cell.split)
    record, _ = train_and_evaluate(cell.dataset, cell.model, cell.beta, cell.seed, split, config, logger)
    return {**record, "split": int(cell.split)}


#: prefix of the standardisation statistics a challenger's state dict carries with its weights
_STATS = "standardize."
#: key of the feature names it was trained on (UTF-8, newline-separated, as uint8)
_FEATURES = "standardize.features"


class Challenger(NamedTuple):
    """A retrained CS-IB network (its weights and the training rows' standardisation statistics,
    keys ``standardize.x_mean|x_std|y_mean|y_std``) and its scores."""

    state_dict: dict[str, torch.Tensor]
    metrics: dict[str, float]


def train_challenger(inputs: xr.Dataset, config: CSIBConfig, logger: Logger | None = None) -> Challenger:
    """Train CS-IB at ``retrain_beta`` with model seed ``seed`` and score it for champion/challenger.

    Parameters
    ----------
    inputs : xarray.Dataset
        The ``csib/{dataset}`` store to train on.
    config : CSIBConfig
        The settings (``retrain_beta``, ``seed``, sizes and optimisation).
    logger : logging.Logger, optional
        Receives training progress.

    Returns
    -------
    Challenger
        Weights with the standardisation statistics, and ``metrics``: ``val_rmse`` (the
        early-stopping score: validation only, target units), ``test_rmse`` and ``test_r2``
        (reported, never compared) and ``beta`` (Yu et al., ICLR 2024, Sec. 5.1).
    """
    split = load_split(inputs, config)
    res = fit("csib", split, config.retrain_beta, config.seed, config, logger=logger)
    test = regression_metrics(split.y_test, predict(res.net, split.x_test), split.y_std)
    metrics = {
        "val_rmse": res.best_val_rmse * split.y_std,
        "test_rmse": test["rmse"],
        "test_r2": test["r2"],
        "beta": config.retrain_beta,
    }
    stats = {"x_mean": split.x_mean, "x_std": split.x_std, "y_mean": split.y_mean, "y_std": split.y_std}
    state = res.net.state_dict() | {
        _STATS + k: torch.as_tensor(np.asarray(v, dtype=np.float64)) for k, v in stats.items()
    }
    state[_FEATURES] = _encode_features(inputs)
    return Challenger(state, metrics)


def _encode_features(inputs: xr.Dataset) -> torch.Tensor:
    """The feature names of a ``csib/{dataset}`` store as UTF-8 bytes (a uint8 tensor)."""
    text = "\n".join(map(str, inputs["feature"].values))
    return torch.tensor(list(text.encode()), dtype=torch.uint8)


def validation_metrics(
    config: CSIBConfig, state_dict: dict[str, torch.Tensor], inputs: xr.Dataset
) -> dict[str, float]:
    r"""Scores of a stored CS-IB network on the validation rows of a ``csib/{dataset}`` store.

    The rows are those :func:`load_split` takes (``max_rows`` subsample, ``split_seed``); the
    features are standardised with the statistics the network was trained with (carried by its
    state dict; a state dict without them, from an older version, gets the current training
    rows' statistics) and its mean-encoding prediction is mapped back to target units:

    .. math:: \mathrm{RMSE} = \Big(\frac1{n}\sum_{i \in \mathrm{val}}
              (s_y\,g(f((x_i - m_x)/s_x)) + m_y - y_i)^2\Big)^{1/2}.

    Deterministic: the same state dict and rows give the same floats.

    Parameters
    ----------
    config : CSIBConfig
        Sizes of the network (``d_t``, ``enc_hidden``, ``dec_hidden``, ``noise_std``), and
        ``max_rows``/``split_seed`` of the rows.
    state_dict : dict of torch.Tensor
        ``Challenger.state_dict`` of :func:`train_challenger` (network weights, optionally the
        ``standardize.*`` statistics).
    inputs : xarray.Dataset
        The current ``csib/{dataset}`` store (:func:`prepare_inputs`).

    Returns
    -------
    dict
        ``score`` and ``val_rmse`` (target units), ``val_mae``, ``val_r2`` and ``n_val``.

    Raises
    ------
    DataError
        If the weights do not fit the configured network or the dataset's features (their
        number, or the feature names stored with the weights).

    References
    ----------
    .. [1] Yu, Yu, Løkse, Jenssen, Principe, "Cauchy-Schwarz Divergence Information Bottleneck
       for Regression", ICLR 2024, arXiv:2404.17951, Sec. 5.1.
    """
    x, y, (train, val, _) = split_rows(inputs, config.max_rows, seed=config.split_seed)
    weights = {k: v for k, v in state_dict.items() if not k.startswith(_STATS)}
    stats = {k[len(_STATS):]: v.double().numpy() for k, v in state_dict.items()
             if k.startswith(_STATS) and k != _FEATURES}  # fmt: skip
    if not stats:  # versions saved before the statistics travelled with the weights
        ref = standardize(x, y, train, val, val)
        stats = {"x_mean": ref.x_mean, "x_std": ref.x_std, "y_mean": ref.y_mean, "y_std": ref.y_std}
    if np.shape(stats["x_mean"]) != (x.shape[1],):
        raise DataError(f"state dict standardises {np.size(stats['x_mean'])} features; the dataset "
                        f"{inputs.attrs.get('dataset', '')!r} has {x.shape[1]}")  # fmt: skip
    if _FEATURES in state_dict:  # versions saved before the names travelled with the weights lack it
        trained = bytes(state_dict[_FEATURES].tolist()).decode().split("\n")
        current = [str(f) for f in inputs["feature"].values]
        if trained != current:
            raise DataError(
                f"state dict was trained on features {trained[:8]}{' ...' if len(trained) > 8 else ''}; "
                f"the dataset {inputs.attrs.get('dataset', '')!r} has {current[:8]}"
                f"{' ...' if len(current) > 8 else ''}"
            )
    net = build_net("csib", x.shape[1], config, seed=0)
    try:
        net.load_state_dict(weights)
    except RuntimeError as exc:
        detail = " ".join(line.strip() for line in str(exc).strip().splitlines()[:2])
        raise DataError(
            f"state dict does not fit the CS-IB net (d_t={config.d_t}, enc_hidden="
            f"{tuple(config.enc_hidden)}, dec_hidden={tuple(config.dec_hidden)}): {detail}"
        ) from None
    net.eval()
    xv = ((x[val] - stats["x_mean"]) / stats["x_std"]).astype(np.float32)
    pred = predict(net, xv) * float(stats["y_std"]) + float(stats["y_mean"])
    err = pred - y[val]
    rmse = float(np.sqrt(np.mean(err**2)))
    r2 = 1.0 - float(np.mean(err**2)) / float(np.var(y[val]))
    return {"score": rmse, "val_rmse": rmse, "val_mae": float(np.mean(np.abs(err))), "val_r2": r2,
            "n_val": float(len(val))}  # fmt: skip


# -------------------------------------------------------------------------------------- results
def metrics_dataset(records: Iterable[dict], config: CSIBConfig) -> xr.Dataset:
    """The ``csib/metrics`` dataset of the grid's result records.

    Parameters
    ----------
    records : iterable of dict
        One record per cell of :func:`grid` (:func:`run_cell`).
    config : CSIBConfig
        The settings the records were made with (labels of every dim, epoch budget).

    Returns
    -------
    xarray.Dataset
        Dims dataset, model, beta, split and seed, plus epsilon (attacks) and epoch (information
        plane); RMSE in each dataset's target units (:func:`sciml.csib.datasets.to_dataset`;
        Yu et al., ICLR 2024, Sec. 5.2-5.4).
    """
    return to_dataset(
        list(records),
        config.dataset_names(),
        config.models,
        config.betas,
        config.seeds(),
        config.epsilons,
        config.max_epochs,
        target_units=config.target_units(),
        splits=config.splits(),
    )


def metrics_table(metrics: xr.Dataset) -> pd.DataFrame:
    """Headline table: test RMSE (mean, s.e. over splits and seeds) per dataset and model at the
    validation-selected beta, with the target units.

    Parameters
    ----------
    metrics : xarray.Dataset
        The ``csib/metrics`` dataset.

    Returns
    -------
    pandas.DataFrame
        Columns ``dataset, model, mean, se, n_splits, n_seeds, beta, units``
        (:func:`sciml.csib.metrics.summary_table`; Yu et al., ICLR 2024, Table 2).
    """
    table = summary_table(metrics).reset_index()
    units = metrics.attrs.get("target_units") or {}
    table["units"] = [str(units.get(d, DATASETS[d].target_units if d in DATASETS else ""))
                      for d in table["dataset"]]  # fmt: skip
    return table


# --------------------------------------------------------------------------------- whole recipe
def run(config: CSIBConfig, logger: Logger | None = None) -> dict[str, xr.Dataset]:
    """The whole experiment in one call: prepare every dataset, run every cell, build the metrics.

    Parameters
    ----------
    config : CSIBConfig
        The settings.
    logger : logging.Logger, optional
        Receives training progress.

    Returns
    -------
    dict of str to xarray.Dataset
        By catalog name: ``csib/{dataset}`` for each dataset of
        :meth:`CSIBConfig.dataset_names` (``csib/table`` for a user's table), then ``csib/metrics``
        (Yu et al., ICLR 2024, Sec. 5).
    """
    inputs = {d: prepare_inputs(d, config) for d in config.dataset_names()}
    records = [run_cell(cell, inputs[cell.dataset], config, logger) for cell in grid(config)]
    return {
        **{f"csib/{d}": ds for d, ds in inputs.items()},
        "csib/metrics": metrics_dataset(records, config),
    }
