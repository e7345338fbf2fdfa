r"""Seeded training with early stopping on the validation set, for CS-IB and the baselines.

Yu et al., ICLR 2024 (arXiv:2404.17951), Sec. 5.1: Adam on mini-batches, the same network
for every model, the loss of each model from its own module (:mod:`sciml.csib.csib`,
:mod:`~sciml.csib.mse`, :mod:`~sciml.csib.vib`, :mod:`~sciml.csib.nib`,
:mod:`~sciml.csib.hsic`). Unlike the authors' scripts, the epoch is selected on the
*validation* RMSE only (the test set is never looked at during training), and the
information plane (I(x;t), I(y;t)) is tracked on a fixed training subset after every epoch.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable

import numpy as np
import torch

from sciml.csib import csib, hsic, mse, nib, vib
from sciml.csib.attacks import attack_rmse
from sciml.csib.datasets import Split
from sciml.csib.divergence import KernelWidth, kernel_width
from sciml.csib.metrics import information_plane, regression_metrics
from sciml.csib.model import IBNet, init_parameters
from sciml.errors import ConfigError, DivergenceError, unknown_name
from sciml.progress import Progress

__all__ = [
    "MODELS",
    "TrainConfig",
    "TrainResult",
    "build_net",
    "fit",
    "predict",
    "train_and_evaluate",
]

LossFn = Callable[..., tuple[torch.Tensor, dict[str, torch.Tensor]]]

#: model name -> (encoder noise mode, loss function)
_LOSSES: dict[str, tuple[str, LossFn]] = {
    "mse": (mse.NOISE, mse.mse_loss),
    "csib": (csib.NOISE, csib.csib_loss),
    "vib": (vib.NOISE, vib.vib_loss),
    "nib": (nib.NOISE, nib.nib_loss),
    "hsic": (hsic.NOISE, hsic.hsic_loss),
}
MODELS: tuple[str, ...] = tuple(_LOSSES)


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """Network sizes and optimisation settings shared by every model.

    Attributes
    ----------
    d_t : bottleneck dimension.
    enc_hidden, dec_hidden : hidden widths of encoder and decoder.
    noise_std : initial (or fixed) noise scale of the stochastic encoders.
    batch_size, lr, weight_decay : Adam mini-batch settings.
    max_epochs : epoch budget; patience : epochs without validation improvement before stop.
    max_seconds : optional wall-clock budget (stops after the epoch that exceeds it).
    sigma_x, sigma_y, sigma_t, sigma_x_mi : CS-IB kernel widths (see :func:`sciml.csib.csib.csib_loss`).
    nib_power : exponent r of the NIB compression term; hsic_gamma : weight of nHSIC(y, t).
    plane_size : training rows used for the per-epoch information-plane estimates.
    """

    d_t: int = 16
    enc_hidden: tuple[int, ...] = (128, 128)
    dec_hidden: tuple[int, ...] = (128,)
    noise_std: float = 0.1
    batch_size: int = 256
    lr: float = 1e-3
    weight_decay: float = 0.0
    max_epochs: int = 100
    patience: int = 10
    max_seconds: float | None = None
    sigma_x: KernelWidth = 0.25
    sigma_y: KernelWidth = 2.0
    sigma_t: KernelWidth = "median"
    sigma_x_mi: KernelWidth = "median"
    nib_power: float = 1.0
    hsic_gamma: float = 1.0
    plane_size: int = 512

    def __post_init__(self) -> None:
        if self.batch_size < 4 or self.max_epochs < 1 or self.patience < 1:
            raise ConfigError(
                f"need batch_size >= 4, max_epochs >= 1, patience >= 1; got {self.batch_size}, "
                f"{self.max_epochs}, {self.patience}"
            )
        if not self.lr > 0:
            raise ConfigError(f"lr must be > 0, got {self.lr}")


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


def build_net(model: str, d_in: int, config: TrainConfig, seed: int) -> IBNet:
    """The shared encoder/decoder with the noise mode of ``model``, initialised from ``seed``."""
    if model not in _LOSSES:
        raise unknown_name("csib model", model, MODELS)
    net = IBNet(
        d_in,
        config.d_t,
        config.enc_hidden,
        config.dec_hidden,
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


def _loss_options(model: str, config: TrainConfig, x_ref: np.ndarray) -> dict:
    if model == "csib":
        return {
            "sigma_x": _resolve(config.sigma_x, x_ref),
            "sigma_y": config.sigma_y,
            "sigma_t": config.sigma_t,
            "sigma_x_mi": _resolve(config.sigma_x_mi, x_ref),
        }
    if model == "nib":
        return {"power": config.nib_power}
    if model == "hsic":
        return {"gamma": config.hsic_gamma, "sigma_x": _resolve("median", x_ref)}
    return {}


def predict(net: IBNet, x: np.ndarray, batch: int = 8192) -> np.ndarray:
    """Deterministic predictions (mean encoding) on the standardised scale, shape (n,)."""
    xt = torch.as_tensor(x, dtype=torch.float32)
    with torch.no_grad():
        out = [net.predict(xt[i : i + batch]) for i in range(0, len(xt), batch)]
    return torch.cat(out).double().numpy()


def fit(
    model: str,
    split: Split,
    beta: float,
    seed: int,
    config: TrainConfig | None = None,
    logger: logging.Logger | logging.LoggerAdapter | None = None,
) -> TrainResult:
    """Train ``model`` on ``split`` with compression weight ``beta``; early stopping on validation.

    Parameters
    ----------
    model : "mse" | "csib" | "vib" | "nib" | "hsic".
    split : standardised train/val/test arrays (test is not used here).
    beta : compression weight (ignored by "mse").
    seed : seeds initialisation, mini-batch order and noise (same seed -> same weights).
    config : sizes and optimisation settings.
    logger : receives progress (via :class:`sciml.progress.Progress`).

    Returns
    -------
    TrainResult

    Raises
    ------
    DivergenceError
        If a mini-batch loss is not finite.
    """
    config = config or TrainConfig()
    if not beta >= 0:
        raise ConfigError(f"beta must be >= 0, got {beta}")
    net = build_net(model, split.x_train.shape[1], config, seed)
    loss_fn = _LOSSES[model][1]
    gen = torch.Generator().manual_seed(seed + 1)
    opt = torch.optim.Adam(net.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    xtr = torch.as_tensor(split.x_train)
    ytr = torch.as_tensor(split.y_train)
    n = len(ytr)
    bs = min(config.batch_size, n)
    n_batches = n // bs  # drop the ragged last batch: Gram estimators need full batches
    plane_idx = np.sort(np.random.default_rng(seed).permutation(n)[: config.plane_size])
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
        if config.max_seconds is not None and time.perf_counter() - start > config.max_seconds:
            break
    prog.close()
    net.load_state_dict(best[2])
    net.eval()
    return TrainResult(
        net, {k: np.asarray(v) for k, v in hist.items()}, best[1], best[0], time.perf_counter() - start
    )


def train_and_evaluate(
    dataset: str,
    model: str,
    beta: float | None,
    seed: int,
    split: Split,
    config: TrainConfig | None = None,
    epsilons: tuple[float, ...] = (0.0, 0.05, 0.1, 0.2),
    pgd_steps: int = 10,
    plane_size: int = 512,
    logger: logging.Logger | logging.LoggerAdapter | None = None,
) -> tuple[dict, TrainResult]:
    """Fit one (dataset, model, beta, seed) cell and evaluate it on the test set.

    The test set is touched only here, after training (early stopping used validation).

    Returns
    -------
    (record, result): ``record`` holds the fields :func:`sciml.csib.metrics.to_dataset`
    expects (test RMSE/MAE/R^2 in target units, val RMSE, I(x;t), I(y;t) on up to
    ``plane_size`` test rows, FGSM/PGD RMSE per epsilon, the per-epoch information plane);
    ``beta`` is ``None`` for the MSE net (no compression term).
    """
    res = fit(model, split, 0.0 if beta is None else beta, seed, config, logger=logger)
    test = regression_metrics(split.y_test, predict(res.net, split.x_test), split.y_std)
    idx = np.sort(np.random.default_rng(seed).permutation(len(split.y_test))[:plane_size])
    i_xt, i_yt = information_plane(res.net, split.x_test[idx], split.y_test[idx], seed=seed)
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
            res.net, split.x_test, split.y_test, epsilons, "pgd", split.y_std, seed, steps=pgd_steps
        ).tolist(),
        "plane_i_xt": res.history["i_xt"].tolist(),
        "plane_i_yt": res.history["i_yt"].tolist(),
    }
    return record, res
