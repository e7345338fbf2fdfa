"""Flow ``lightsb``: Light Schrödinger Bridge on exact EOT benchmark pairs.

Deployments ``lightsb/default`` and ``lightsb/retrain``.

``lightsb`` builds the Gaussian-mixture benchmark pairs of every (dim, eps) with a fixed seed and
writes ``lightsb/pairs``; fans out over the (dim, eps, seed) grid with task mapping, each task
reading its pair through the catalog, fitting LightSB on unpaired draws and scoring it with exact
conditional moments; writes ``lightsb/metrics`` (dims dim, eps, seed: cbw2_uvp, bw2_uvp,
fit_seconds, final_loss); saves every fitted parameter set as one model version; simulates the
learned SB process for the 2-D pairs and the Gaussian-to-Swiss-roll example
(``lightsb/trajectories``); and publishes a markdown table and PNG plots.
With ``data`` set (``sciml run lightsb --set data.source=... --set data.target=...``), the run
fits LightSB between the user's own point clouds instead: it reads and checks the files and
writes them as a new version of ``lightsb/user_samples``, fits on that version, saves the fitted
model as a version of ``lightsb/user`` (with the samples' version), and writes the transported
points (``lightsb/user_transport``), SB trajectories (``lightsb/user_trajectories``) and the
energy distance and W2 to the target and, with a held-out time point, of the bridge at that time
(``lightsb/user_metrics``).
``lightsb_retrain_flow`` (``lightsb/retrain``) refits one cell on the newest catalogued pair and
promotes it only if its cBW2-UVP on validation points (a stream of their own, not the test points)
beats the champion's, re-scored on the same points; decisions go to ``lightsb/retrain_history``.
The recipes are :mod:`sciml.schrodinger.experiment` and :mod:`sciml.schrodinger.translation`
(Korotin, Gushchin, Burnaev, ICLR 2024).
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
from sciml.schrodinger import experiment, plots, translation
from sciml.schrodinger.experiment import METRICS, PAIRS, TRAJECTORIES, CellFit, LightSBConfig
from sciml.schrodinger.point_clouds import clouds_from_dataset, load_point_clouds, samples_to_dataset
from sciml.schrodinger.translation import SAMPLES, USER_METRICS, USER_MODEL, CloudFit

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


@task(retries=0)
def import_point_clouds(config: LightSBConfig) -> str:
    """Read and check the user's clouds of ``config.data``; writes a version of ``lightsb/user_samples``."""
    clouds = load_point_clouds(config.data, n_components=config.n_components)
    return write_dataset.fn(SAMPLES, samples_to_dataset(clouds), config)


@task(retries=0)
def fit_point_clouds(samples: str, config: LightSBConfig) -> tuple[CloudFit, str]:
    """Fit LightSB on the catalogued clouds; returns the fit and the samples' version."""
    ds = get_catalog().open(samples).load()
    return translation.fit_clouds(config, clouds_from_dataset(ds), run_logger()), ds.attrs["catalog_version"]


@task(retries=0)
def transport_point_clouds(samples: str, fit: CloudFit, config: LightSBConfig) -> tuple[str, list[str]]:
    """Transported points, trajectories, distances and a trajectory plot; returns the metrics' name."""
    clouds = clouds_from_dataset(get_catalog().open(samples).load())
    write_dataset.fn(translation.TRANSPORT, translation.transport_dataset(config, fit, clouds), config)
    traj = translation.trajectories_dataset(config, fit, clouds)
    write_dataset.fn(translation.USER_TRAJECTORIES, traj, config)
    fig = plots.plot_trajectories(traj.path.values, clouds.target,
                                  title="LightSB bridge between your clouds (first two axes)")  # fmt: skip
    figures = [write_figure(f"{WORKFLOW_NAME}/figures/user_trajectories", fig, dpi=100)]
    return write_dataset.fn(USER_METRICS, translation.metrics_dataset(config, fit, clouds), config), figures


@task(retries=2, retry_delay_seconds=1, tags=["io"])
def save_point_cloud_model(fit: CloudFit, samples_version: str, config: LightSBConfig) -> str:
    """The fitted model as a version of ``lightsb/user``, with the samples' version it was fitted on."""
    return get_catalog().save_model(USER_MODEL, fit.state,
                                    {"fit_seconds": fit.fit_seconds, "final_loss": fit.final_loss},
                                    config.model_dump(mode="json"),
                                    data_versions={SAMPLES: samples_version})  # fmt: skip


def _point_cloud_run(config: LightSBConfig) -> str:
    samples = import_point_clouds(config)
    fit, version = fit_point_clouds(samples, config)
    model_version = save_point_cloud_model(fit, version, config)
    name, figures = transport_point_clouds(samples, fit, config)
    data = config.data
    publish_metrics(
        "lightsb-user-metrics", translation.metrics_table(get_catalog().open(name).load()),
        "LightSB between your point clouds: energy distance and W2 (data units)", figures=figures,
        notes=f"{data.source} -> {data.target}, eps={data.eps:g}, K={config.n_components} "
        f"{config.cov} S_k, {config.n_steps} steps, fit {fit.fit_seconds:.1f} s; samples version "
        f"{version}, model version {USER_MODEL} {model_version}.",
    )
    return name


@flow(name="lightsb", log_prints=True)
def lightsb_flow(config: LightSBConfig | None = None) -> str:
    """LightSB on the (dim, eps, seed) grid, or between the clouds of ``config.data``; writes
    ``lightsb/metrics`` (``lightsb/user_metrics``) and returns its name."""
    config = config or LightSBConfig()
    if config.data is not None:
        return _point_cloud_run(config)
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
        notes=f"{config.pair_frames} pairs; K={config.n_components} {config.cov} S_k, "
        f"{config.n_steps} steps, batch "
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
