"""Flow ``csib``: CS-IB regression vs MSE, robust-loss and IB nets (``csib/default``, ``csib/retrain``).

``csib`` writes ``csib/{dataset}`` (preprocessed real data with its split) for each dataset,
fans out over the (dataset, model, beta, split, seed) grid with task mapping, and writes
``csib/metrics`` (dims dataset, model, beta, split, seed, plus epsilon and epoch), a markdown
artifact of test RMSE at the validation-selected beta, and three PNG plots. With ``data`` set
(a user's CSV or Parquet table and its target) the same runs on that table, written first as a
new version of ``csib/table``.
``csib_retrain_flow`` trains CS-IB once per dataset on the newest ``csib/{dataset}`` (and on
the newest ``csib/table`` once one was written; with ``data`` set, the table is re-read first)
and promotes it to champion of ``models/csib/{dataset}`` only if its validation RMSE beats the
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
from sciml.csib.table import TABLE, table_summary
from sciml.errors import DataError

__all__ = ["CSIBConfig", "WORKFLOW", "csib_flow", "csib_retrain_flow"]

WORKFLOW_NAME = "csib"
HISTORY = "csib/retrain_history"


def _not_bad_data(task, task_run, state) -> bool:
    """Retry a read that failed on I/O, never one that found the data unusable."""
    return not isinstance(state.result(raise_on_failure=False), DataError)


@task(retries=1, retry_delay_seconds=1, retry_condition_fn=_not_bad_data)
def prepare_dataset(dataset: str, config: CSIBConfig) -> str:
    """Read the raw input ``csib/raw/{dataset}`` (sha256 checked by the catalog), or the user's
    table of ``config.data`` for ``dataset="table"``, preprocess it and write ``csib/{dataset}``
    (a new version); returns the name."""
    if dataset == TABLE:
        return write_dataset.fn(f"csib/{TABLE}", experiment.prepare_inputs(TABLE, config), config)
    source = get_catalog().raw_path(f"csib/raw/{dataset}")
    return write_dataset.fn(f"csib/{dataset}", experiment.prepare_inputs(dataset, config, source), config)


@task(retries=0)
def run_cell(dataset: str, model: str, beta: float | None, seed: int, split: int, config: CSIBConfig) -> dict:
    """Train and evaluate one grid cell; returns its (small) result record."""
    inputs = get_catalog().open(f"csib/{dataset}")
    return experiment.run_cell(Cell(dataset, model, beta, seed, split), inputs, config, run_logger())


@flow(name="csib", log_prints=True)
def csib_flow(config: CSIBConfig | None = None) -> str:
    """CS-IB and baselines on the four real datasets (or the table of ``config.data``); writes
    ``csib/metrics``; returns its name."""
    config = config or CSIBConfig()
    logger = run_logger()
    prepared = prepare_dataset.map(list(config.dataset_names()), config=unmapped(config))
    inputs = [f.result() for f in prepared]
    cells = experiment.grid(config)
    logger.info(f"csib: {len(cells)} training runs on {inputs}")
    futures = run_cell.map(
        [c.dataset for c in cells],
        [c.model for c in cells],
        [c.beta for c in cells],
        [c.seed for c in cells],
        [c.split for c in cells],
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
        "CS-IB regression: test RMSE (mean, s.e. over splits and seeds), beta selected on validation",
        figures=figures,
        notes=_notes(config),
    )
    return name


def _notes(config: CSIBConfig) -> str:
    """The artifact's notes: the budget, and what was done to a user's table."""
    text = (f"max_rows={config.max_rows}, {config.n_splits} split(s) x {config.n_seeds} seed(s), betas "
            f"{list(config.betas)}, at most {config.max_epochs} epochs; RMSE in each dataset's target "
            "units (California: log(100k USD)).")  # fmt: skip
    if config.data is not None:
        text += f"\n\nTable `csib/{TABLE}`: " + table_summary(get_catalog().open(f"csib/{TABLE}").attrs)
    return text


@task(retries=0)
def retrain_dataset(dataset: str, config: CSIBConfig) -> dict:
    """Train CS-IB at ``retrain_beta`` on the newest ``csib/{dataset}``; champion/challenger on
    the validation RMSE, the champion re-scored on the same validation rows."""
    cat = get_catalog()
    name = f"csib/{dataset}"
    if not cat.exists(name) or (dataset == TABLE and config.data is not None):
        prepare_dataset.fn(dataset, config)  # a user's table is re-read: its new rows count
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
    """Retrain CS-IB per dataset (and on ``csib/table`` once written); promote a challenger only
    if its validation RMSE is lower."""
    config = config or CSIBConfig()
    datasets = list(config.dataset_names())
    if config.data is None and get_catalog().exists(f"csib/{TABLE}"):
        datasets.append(TABLE)  # a commit of new rows to the user's table starts this run
    futures = retrain_dataset.map(datasets, config=unmapped(config))
    rows = [f.result() for f in futures]
    publish_metrics(
        "csib-retrain", pd.DataFrame(rows),
        "CS-IB retraining: champion/challenger on the validation RMSE (test RMSE reported only)",
    )  # fmt: skip
    return rows


WORKFLOW = Workflow(name=WORKFLOW_NAME, flow=csib_flow, config=CSIBConfig, retrain=csib_retrain_flow)
