"""Flow ``lightsb``: Light Schrödinger Bridge on exact EOT benchmark pairs.

Deployments ``lightsb/default`` and ``lightsb/retrain``.

``lightsb`` builds the Gaussian-mixture benchmark pairs of every (dim, eps) with a fixed seed and
writes ``lightsb/pairs``; fans out over the (dim, eps, seed) grid with task mapping, each task
reading its pair through the catalog, fitting LightSB on unpaired draws and scoring it with exact
conditional moments; writes ``lightsb/metrics`` (dims dim, eps, seed: cbw2_uvp, bw2_uvp,
fit_seconds, final_loss); saves every fitted parameter set as one model version; simulates the
learned SB process for the 2-D pairs and the Gaussian-to-Swiss-roll example
(``lightsb/trajectories``); and publishes a markdown table and PNG plots.
``lightsb_retrain_flow`` (``lightsb/retrain``) refits one cell on the newest catalogued pair and
promotes it only if its cBW2-UVP on validation points (a stream of their own, not the test points)
beats the champion's, re-scored on the same points; decisions go to ``lightsb/retrain_history``.
The recipe is :mod:`sciml.schrodinger.experiment` (Korotin, Gushchin, Burnaev, ICLR 2024).
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
from sciml.schrodinger import experiment, plots
from sciml.schrodinger.experiment import METRICS, PAIRS, TRAJECTORIES, CellFit, LightSBConfig

__all__ = ["LightSBConfig", "WORKFLOW", "lightsb_flow", "lightsb_retrain_flow"]

WORKFLOW_NAME = "lightsb"
HISTORY = "lightsb/retrain_history"


@task(retries=1)
def make_pairs(config: LightSBConfig) -> str:
    """Build the fixed-seed benchmark pairs and their target moments; writes ``lightsb/pairs``."""
    return write_dataset.fn(PAIRS, experiment.make_pairs(config), config)


@task(retries=0)
def fit_cell(pairs: str, dim: int, eps: float, seed: int, config: LightSBConfig) -> CellFit:
    """Fit and score one (dim, eps, seed) cell on its catalogued pair."""
    return experiment.fit_cell(config, dim, eps, seed, get_catalog().open(pairs), run_logger())


@task(retries=0)
def simulate_examples(pairs: str, cells: list[CellFit], config: LightSBConfig) -> list[str]:
    """SB trajectories of the 2-D pairs and of the Swiss-roll example; writes them and the plots."""
    examples = experiment.simulate_examples(config, get_catalog().open(pairs), cells, run_logger())
    figures = [write_figure(f"{WORKFLOW_NAME}/figures/{name}", fig, dpi=100)
               for name, fig in plots.figures(examples).items()]  # fmt: skip
    write_dataset.fn(TRAJECTORIES, experiment.trajectories_dataset(examples), config)
    return figures


@task(retries=2, retry_delay_seconds=1, tags=["io"])
def save_models(cells: list[CellFit], config: LightSBConfig) -> str:
    """Every fitted parameter set as one model version (keys ``d{D}/eps{eps}/seed{s}/<param>``)."""
    return get_catalog().save_model(WORKFLOW_NAME, experiment.pack_states(cells),
                                    experiment.model_metrics(cells), config.model_dump(mode="json"))


@flow(name="lightsb", log_prints=True)
def lightsb_flow(config: LightSBConfig | None = None) -> str:
    """LightSB on the (dim, eps, seed) grid; writes ``lightsb/metrics`` and returns its name."""
    config = config or LightSBConfig()
    pairs = make_pairs(config)
    grid = experiment.grid(config)
    run_logger().info(f"lightsb: {len(grid)} fits")
    futures = fit_cell.map(unmapped(pairs), [g[0] for g in grid], [g[1] for g in grid],
                           [g[2] for g in grid], config=unmapped(config))  # fmt: skip
    cells = [f.result() for f in futures]
    ds = experiment.metrics_dataset(cells, config)
    name = write_dataset(METRICS, ds, config)
    version = save_models(cells, config)
    figures = simulate_examples(pairs, cells, config)
    publish_metrics(
        "lightsb-metrics", experiment.metrics_table(ds), "LightSB on the mixture EOT benchmark: "
        "cBW2-UVP and BW2-UVP (%, mean over seeds), fit time (s)", figures=figures,
        notes=f"K={config.n_components} {config.cov} S_k, {config.n_steps} steps, batch "
        f"{config.batch_size}, {config.n_train} unpaired draws per side, {config.n_seeds} "
        f"seed(s); parameters saved as model version {version}.",
    )
    return name


@flow(name="lightsb", log_prints=True)
def lightsb_retrain_flow(config: LightSBConfig | None = None) -> dict:
    """Refit the (retrain_dim, retrain_eps) cell on the newest ``lightsb/pairs``; promote it iff
    its validation cBW2-UVP is lower than the champion's on the same validation points."""
    config = config or LightSBConfig()
    cat = get_catalog()
    if not cat.exists(PAIRS):
        make_pairs(config)  # first run: nothing catalogued yet
    pairs = cat.open(PAIRS).load()
    versions = {PAIRS: pairs.attrs["catalog_version"]}
    cell = experiment.retrain_cell(config, pairs, run_logger())
    out = champion_challenger(
        "lightsb/retrain", cell.state, lambda state: experiment.validation_metrics(config, state, pairs),
        config, score="val_cbw2_uvp", history=HISTORY, data_versions=versions, lower_is_better=True,
    )  # fmt: skip
    row = {"dim": cell.dim, "eps": cell.eps, **cell.scores,  # test points: reported, never compared
           "val_cbw2_uvp": out["challenger_score"],
           **{k: out[k] for k in ("challenger_score", "champion_before", "champion_score",
                                  "promoted", "champion", "version")}}  # fmt: skip
    publish_metrics("lightsb-retrain", pd.DataFrame([row]),
                    "LightSB retraining: champion/challenger on the validation cBW2-UVP (%)",
                    notes=f"{out['reason']}; data versions {versions}.")  # fmt: skip
    return row


WORKFLOW = Workflow(name=WORKFLOW_NAME, flow=lightsb_flow, config=LightSBConfig,
                    retrain=lightsb_retrain_flow)
