"""Flow ``csib``: CS-IB regression vs MSE, VIB, NIB and HSIC baselines (``csib/default``, ``csib/retrain``).

``csib`` writes ``csib/{dataset}`` (preprocessed real data with its split) for each dataset,
fans out over the (dataset, model, beta, seed) grid with task mapping, and writes
``csib/metrics`` (dims dataset, model, beta, seed, plus epsilon and epoch), a markdown
artifact of test RMSE at the validation-selected beta, and three PNG plots.
``csib_retrain_flow`` trains CS-IB once per dataset and promotes it to champion of
``models/csib/{dataset}`` only if its validation RMSE beats the current champion's.
Science in :mod:`sciml.csib` (Yu et al., ICLR 2024, arXiv:2404.17951).
"""

from __future__ import annotations

from typing import Literal

import pandas as pd
from prefect import flow, task, unmapped
from pydantic import Field, field_validator

from flows.common import (
    FlowConfig,
    Workflow,
    champion_challenger,
    get_catalog,
    publish_metrics,
    run_logger,
    write_dataset,
    write_figure,
)
from sciml.csib import (
    DATASETS,
    TrainConfig,
    inputs_to_dataset,
    load_dataset,
    plot_information_plane,
    plot_rmse_vs_beta,
    plot_rmse_vs_epsilon,
    predict,
    regression_metrics,
    split_from_dataset,
    summary_table,
    to_dataset,
    train_and_evaluate,
)
from sciml.csib import fit as fit_model

Dataset = Literal["california_housing", "bike_sharing", "beijing_pm25", "appliances_energy"]
Model = Literal["mse", "csib", "vib", "nib", "hsic"]


class CSIBConfig(FlowConfig):
    """CS-IB experiment grid (fast defaults: every dataset subsampled to ``max_rows`` rows).

    ``paper``: full datasets, 5 seeds, beta in {1e-3, 1e-2, 1e-1, 1}, 100 epochs (patience 10).
    ``seed`` is the first model seed; ``n_seeds`` consecutive seeds are run. The split seed is
    fixed separately (``split_seed``) so every model and seed sees the same split.
    """

    datasets: tuple[Dataset, ...] = tuple(DATASETS)  # type: ignore[assignment]
    models: tuple[Model, ...] = ("mse", "csib", "vib", "nib", "hsic")
    betas: tuple[float, ...] = (0.01, 0.1)
    n_seeds: int = Field(1, ge=1)
    split_seed: int = 0
    max_rows: int | None = Field(2000, ge=50)
    max_epochs: int = Field(15, ge=1)
    patience: int = Field(5, ge=1)
    batch_size: int = Field(256, ge=8)
    lr: float = Field(1e-3, gt=0)
    d_t: int = Field(16, ge=1)
    enc_hidden: tuple[int, ...] = (128, 128)
    dec_hidden: tuple[int, ...] = (128,)
    noise_std: float = Field(0.1, gt=0)
    sigma_x: float = Field(0.25, gt=0)
    sigma_y: float = Field(2.0, gt=0)
    epsilons: tuple[float, ...] = (0.0, 0.05, 0.1, 0.2)
    pgd_steps: int = Field(10, ge=1)
    retrain_beta: float = Field(0.1, ge=0)

    PROFILES = {
        "fast": {},
        "paper": {
            "max_rows": None,
            "n_seeds": 5,
            "betas": (0.001, 0.01, 0.1, 1.0),
            "max_epochs": 100,
            "patience": 10,
        },
        "tiny": {
            "datasets": ("bike_sharing", "beijing_pm25"),
            "betas": (0.1,),
            "max_rows": 300,
            "max_epochs": 2,
            "patience": 2,
            "batch_size": 64,
            "enc_hidden": (16,),
            "dec_hidden": (16,),
            "d_t": 4,
            "epsilons": (0.0, 0.1),
            "pgd_steps": 2,
        },
    }

    @field_validator("betas", "epsilons")
    @classmethod
    def _non_negative(cls, v: tuple[float, ...]) -> tuple[float, ...]:
        if not v or any(b < 0 for b in v):
            raise ValueError(f"needs at least one value, all >= 0; got {v}")
        return tuple(sorted(set(float(b) for b in v)))

    def train_config(self) -> TrainConfig:
        """The :class:`sciml.csib.TrainConfig` of this flow config."""
        return TrainConfig(
            d_t=self.d_t,
            enc_hidden=tuple(self.enc_hidden),
            dec_hidden=tuple(self.dec_hidden),
            noise_std=self.noise_std,
            batch_size=self.batch_size,
            lr=self.lr,
            max_epochs=self.max_epochs,
            patience=self.patience,
            sigma_x=self.sigma_x,
            sigma_y=self.sigma_y,
        )

    def seeds(self) -> list[int]:
        return [self.seed + i for i in range(self.n_seeds)]


@task(retries=1, retry_delay_seconds=1)
def prepare_dataset(dataset: str, config: CSIBConfig) -> str:
    """Load (sha256-checked), preprocess and write ``csib/{dataset}``; returns the name."""
    ds = inputs_to_dataset(load_dataset(dataset), config.split_seed)
    return write_dataset.fn(f"csib/{dataset}", ds, config)


@task(retries=0)
def run_cell(dataset: str, model: str, beta: float | None, seed: int, config: CSIBConfig) -> dict:
    """Train and evaluate one grid cell; returns its (small) result record."""
    split = split_from_dataset(get_catalog().open(f"csib/{dataset}"), config.max_rows, seed=config.split_seed)
    record, _ = train_and_evaluate(
        dataset,
        model,
        beta,
        seed,
        split,
        config.train_config(),
        tuple(config.epsilons),
        config.pgd_steps,
        logger=run_logger(),
    )
    return record


def _grid(config: CSIBConfig) -> list[tuple[str, str, float | None, int]]:
    """Every (dataset, model, beta, seed) cell; models without compression run once (beta None)."""
    cells = []
    for d in config.datasets:
        for s in config.seeds():
            for m in config.models:
                for b in [None] if m == "mse" else list(config.betas):
                    cells.append((d, m, b, s))
    return cells


@flow(name="csib", log_prints=True)
def csib_flow(config: CSIBConfig | None = None) -> str:
    """CS-IB and baselines on the four real datasets; writes ``csib/metrics``; returns its name."""
    config = config or CSIBConfig()
    logger = run_logger()
    prepared = prepare_dataset.map(list(config.datasets), config=unmapped(config))
    inputs = [f.result() for f in prepared]
    cells = _grid(config)
    logger.info(f"csib: {len(cells)} training runs on {inputs}")
    futures = run_cell.map(
        [c[0] for c in cells],
        [c[1] for c in cells],
        [c[2] for c in cells],
        [c[3] for c in cells],
        config=unmapped(config),
    )
    records = [f.result() for f in futures]
    units = {d: DATASETS[d].target_units for d in config.datasets}
    ds = to_dataset(
        records,
        config.datasets,
        config.models,
        config.betas,
        config.seeds(),
        config.epsilons,
        config.max_epochs,
        target_units=units,
    )
    name = write_dataset("csib/metrics", ds, config)
    figures = [
        write_figure("csib/figures/information_plane", plot_information_plane(ds), dpi=100),
        write_figure("csib/figures/rmse_vs_beta", plot_rmse_vs_beta(ds), dpi=100),
        write_figure("csib/figures/rmse_vs_epsilon", plot_rmse_vs_epsilon(ds), dpi=100),
    ]
    table = summary_table(ds).reset_index()
    table["units"] = [units[d] for d in table["dataset"]]
    publish_metrics(
        "csib-metrics",
        table,
        "CS-IB regression: test RMSE (mean, s.e. over seeds), beta selected on validation",
        figures=figures,
        notes=f"max_rows={config.max_rows}, {config.n_seeds} seed(s), betas {list(config.betas)}; "
        "RMSE in each dataset's target units (California: log(100k USD)).",
    )
    return name


@task(retries=0)
def retrain_dataset(dataset: str, config: CSIBConfig) -> dict:
    """Train CS-IB at ``retrain_beta`` and run champion/challenger on the validation RMSE."""
    cat = get_catalog()
    if not cat.exists(f"csib/{dataset}"):
        prepare_dataset.fn(dataset, config)
    split = split_from_dataset(cat.open(f"csib/{dataset}"), config.max_rows, seed=config.split_seed)
    res = fit_model(
        "csib", split, config.retrain_beta, config.seed, config.train_config(), logger=run_logger()
    )
    test = regression_metrics(split.y_test, predict(res.net, split.x_test), split.y_std)
    metrics = {
        "val_rmse": res.best_val_rmse * split.y_std,
        "test_rmse": test["rmse"],
        "test_r2": test["r2"],
        "beta": config.retrain_beta,
    }
    out = champion_challenger(
        f"csib/{dataset}", res.net.state_dict(), metrics, config, score="val_rmse", lower_is_better=True
    )
    return {"dataset": dataset, **metrics, **{k: out[k] for k in ("version", "promoted", "champion")}}


@flow(name="csib", log_prints=True)
def csib_retrain_flow(config: CSIBConfig | None = None) -> list[dict]:
    """Retrain CS-IB per dataset; promote a challenger only if its validation RMSE is lower."""
    config = config or CSIBConfig()
    futures = retrain_dataset.map(list(config.datasets), config=unmapped(config))
    rows = [f.result() for f in futures]
    publish_metrics(
        "csib-retrain", pd.DataFrame(rows), "CS-IB retraining: champion/challenger on validation RMSE"
    )
    return rows


WORKFLOW = Workflow(name="csib", flow=csib_flow, config=CSIBConfig, retrain=csib_retrain_flow)
