"""Flow ``csib``: CS-IB regression vs MSE, VIB, NIB and HSIC baselines (``csib/default``, ``csib/retrain``).

``csib`` writes ``csib/{dataset}`` (preprocessed real data with its split) for each dataset,
fans out over the (dataset, model, beta, seed) grid with task mapping, and writes
``csib/metrics`` (dims dataset, model, beta, seed, plus epsilon and epoch), a markdown
artifact of test RMSE at the validation-selected beta, and three PNG plots.
``csib_retrain_flow`` trains CS-IB once per dataset on the newest ``csib/{dataset}`` and
promotes it to champion of ``models/csib/{dataset}`` only if its validation RMSE beats the
current champion's, re-scored on the same validation rows; decisions go to
``csib/retrain_history``.
The recipe is :mod:`sciml.csib.experiment` (Yu et al., ICLR 2024, arXiv:2404.17951).
"""

from __future__ import annotations

import pandas as pd
from prefect import flow, task, unmapped

from flows.artifacts import publish_metrics
from flows.common import (
    Workflow,
    champion_challenger,
    get_catalog,
    run_logger,
    write_dataset,
    write_figure,
)
from sciml.csib import experiment, plots
from sciml.csib.experiment import Cell, CSIBConfig

__all__ = ["CSIBConfig", "WORKFLOW", "csib_flow", "csib_retrain_flow"]

WORKFLOW_NAME = "csib"
HISTORY = "csib/retrain_history"


@task(retries=1, retry_delay_seconds=1)
def prepare_dataset(dataset: str, config: CSIBConfig) -> str:
    """Read the raw input ``csib/raw/{dataset}`` (sha256 checked by the catalog), preprocess it and
    write ``csib/{dataset}``; returns the name."""
    source = get_catalog().raw_path(f"csib/raw/{dataset}")
    return write_dataset.fn(f"csib/{dataset}", experiment.prepare_inputs(dataset, config, source), config)


@task(retries=0)
def run_cell(dataset: str, model: str, beta: float | None, seed: int, config: CSIBConfig) -> dict:
    """Train and evaluate one grid cell; returns its (small) result record."""
    inputs = get_catalog().open(f"csib/{dataset}")
    return experiment.run_cell(Cell(dataset, model, beta, seed), inputs, config, run_logger())


@flow(name="csib", log_prints=True)
def csib_flow(config: CSIBConfig | None = None) -> str:
    """CS-IB and baselines on the four real datasets; writes ``csib/metrics``; returns its name."""
    config = config or CSIBConfig()
    logger = run_logger()
    prepared = prepare_dataset.map(list(config.datasets), config=unmapped(config))
    inputs = [f.result() for f in prepared]
    cells = experiment.grid(config)
    logger.info(f"csib: {len(cells)} training runs on {inputs}")
    futures = run_cell.map(
        [c.dataset for c in cells],
        [c.model for c in cells],
        [c.beta for c in cells],
        [c.seed for c in cells],
        config=unmapped(config),
    )
    ds = experiment.metrics_dataset([f.result() for f in futures], config)
    name = write_dataset("csib/metrics", ds, config)
    figures = [
        write_figure(f"{WORKFLOW_NAME}/figures/{fig_name}", fig, dpi=100)
        for fig_name, fig in plots.figures(ds).items()
    ]
    publish_metrics(
        "csib-metrics",
        experiment.metrics_table(ds),
        "CS-IB regression: test RMSE (mean, s.e. over seeds), beta selected on validation",
        figures=figures,
        notes=f"max_rows={config.max_rows}, {config.n_seeds} seed(s), betas {list(config.betas)}; "
        "RMSE in each dataset's target units (California: log(100k USD)).",
    )
    return name


@task(retries=0)
def retrain_dataset(dataset: str, config: CSIBConfig) -> dict:
    """Train CS-IB at ``retrain_beta`` on the newest ``csib/{dataset}``; champion/challenger on
    the validation RMSE, the champion re-scored on the same validation rows."""
    cat = get_catalog()
    name = f"csib/{dataset}"
    if not cat.exists(name):
        prepare_dataset.fn(dataset, config)
    inputs = cat.open(name).load()
    versions = {name: inputs.attrs["catalog_version"]}
    challenger = experiment.train_challenger(inputs, config, run_logger())
    out = champion_challenger(
        name, challenger.state_dict, lambda state: experiment.validation_metrics(config, state, inputs),
        config, score="val_rmse", history=HISTORY, data_versions=versions, lower_is_better=True,
    )  # fmt: skip
    reported = {k: challenger.metrics[k] for k in ("beta", "test_rmse", "test_r2")}  # never compared
    return {"dataset": dataset, "val_rmse": out["challenger_score"], **reported,
            **{k: out[k] for k in ("challenger_score", "champion_before", "champion_score",
                                   "promoted", "champion", "version")}}  # fmt: skip


@flow(name="csib", log_prints=True)
def csib_retrain_flow(config: CSIBConfig | None = None) -> list[dict]:
    """Retrain CS-IB per dataset; promote a challenger only if its validation RMSE is lower."""
    config = config or CSIBConfig()
    futures = retrain_dataset.map(list(config.datasets), config=unmapped(config))
    rows = [f.result() for f in futures]
    publish_metrics(
        "csib-retrain", pd.DataFrame(rows),
        "CS-IB retraining: champion/challenger on the validation RMSE (test RMSE reported only)",
    )  # fmt: skip
    return rows


WORKFLOW = Workflow(name=WORKFLOW_NAME, flow=csib_flow, config=CSIBConfig, retrain=csib_retrain_flow)
