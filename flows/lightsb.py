"""Flow ``lightsb``: Light Schrödinger Bridge on exact EOT benchmark pairs.

Deployments ``lightsb/default`` and ``lightsb/retrain``.

``lightsb`` builds the Gaussian-mixture benchmark pairs of every (dim, eps) with a fixed seed and
writes ``lightsb/pairs``; fans out over the (dim, eps, seed) grid with task mapping, each task
reading its pair through the catalog, fitting LightSB on unpaired draws and scoring it with exact
conditional moments; writes ``lightsb/metrics`` (dims dim, eps, seed: cbw2_uvp, bw2_uvp,
fit_seconds, final_loss); saves every fitted parameter set as one model version; simulates the
learned SB process for the 2-D pairs and the Gaussian-to-Swiss-roll example
(``lightsb/trajectories``); and publishes a markdown table and PNG plots.
``lightsb_retrain_flow`` (``lightsb/retrain``) refits one cell and promotes it only if its
cBW2-UVP beats the champion's.
Science in :mod:`sciml.schrodinger` (Korotin, Gushchin, Burnaev, ICLR 2024).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd
import torch
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
from sciml.schrodinger import (
    LightSB,
    fit_lightsb,
    make_clouds,
    make_mixture_pair,
    pair_from_dataset,
    pairs_to_dataset,
    plot_samples,
    plot_trajectories,
    run_cell,
    sb_trajectories,
    to_dataset,
    trajectories_to_dataset,
)


class LightSBConfig(FlowConfig):
    """LightSB benchmark grid (fast defaults: D in {2, 16}, every eps, one seed).

    ``paper``: D in {2, 16, 64, 128}, 3 seeds, 100k unpaired training draws per side, 3,000 Adam
    steps (6,000 for D = 128) with batches of 1,024. ``seed`` is the first training seed
    (``n_seeds`` consecutive seeds); the pairs themselves use the fixed ``pair_seed``.
    """

    dims: tuple[int, ...] = (2, 16)
    epsilons: tuple[float, ...] = (0.1, 1.0, 10.0)
    n_seeds: int = Field(1, ge=1)
    pair_seed: int = 0
    n_components: int = Field(50, ge=1)
    cov: Literal["diagonal", "full"] = "diagonal"
    n_steps: int = Field(2000, ge=1)
    n_steps_by_dim: dict[int, int] = Field(default_factory=dict)
    batch_size: int = Field(512, ge=1)
    lr: float = Field(2e-2, gt=0)
    n_train: int = Field(20_000, ge=10)
    n_test: int = Field(1_000, ge=10)
    n_moments: int = Field(20_000, ge=100)
    clouds_n: int = Field(5_000, ge=10)
    clouds_eps: float = Field(0.1, gt=0)
    traj_steps: int = Field(100, ge=1)
    n_traj: int = Field(500, ge=1)
    retrain_dim: int = Field(16, ge=1)
    retrain_eps: float = Field(1.0, gt=0)

    PROFILES = {
        "fast": {},
        "paper": {"dims": (2, 16, 64, 128), "n_seeds": 3, "n_train": 100_000,
                  "n_steps": 3_000, "n_steps_by_dim": {128: 6_000}, "batch_size": 1_024,
                  "n_moments": 50_000},
        "tiny": {"dims": (2, 3), "epsilons": (0.1, 1.0), "n_components": 5, "n_steps": 60,
                 "batch_size": 64, "n_train": 500, "n_test": 50, "n_moments": 500,
                 "clouds_n": 300, "traj_steps": 10, "n_traj": 40, "retrain_dim": 2},
    }

    @field_validator("dims")
    @classmethod
    def _dims(cls, v: tuple[int, ...]) -> tuple[int, ...]:
        if not v or any(d < 1 for d in v):
            raise ValueError(f"dims needs at least one value, all >= 1; got {v}")
        return tuple(sorted(set(int(d) for d in v)))

    @field_validator("epsilons")
    @classmethod
    def _eps(cls, v: tuple[float, ...]) -> tuple[float, ...]:
        if not v or any(e <= 0 for e in v):
            raise ValueError(f"epsilons needs at least one value, all > 0; got {v}")
        return tuple(sorted(set(float(e) for e in v)))

    def seeds(self) -> list[int]:
        return [self.seed + i for i in range(self.n_seeds)]

    def fit_kwargs(self, dim: int) -> dict:
        """Keyword arguments of :func:`sciml.schrodinger.run_cell` for dimension ``dim``."""
        return dict(n_train=self.n_train, n_test=self.n_test, n_components=self.n_components,
                    cov=self.cov, n_steps=self.n_steps_by_dim.get(dim, self.n_steps),
                    batch_size=self.batch_size, lr=self.lr)


@task(retries=1)
def make_pairs(config: LightSBConfig) -> str:
    """Build the fixed-seed benchmark pairs and their target moments; writes ``lightsb/pairs``."""
    pairs = {(d, e): make_mixture_pair(d, e, seed=config.pair_seed)
             for d in config.dims for e in config.epsilons}
    moments = {k: p.target_moments(config.n_moments, np.random.default_rng(config.pair_seed))
               for k, p in pairs.items()}
    return write_dataset.fn("lightsb/pairs", pairs_to_dataset(pairs, moments), config)


@task(retries=0)
def fit_cell(pairs: str, dim: int, eps: float, seed: int, config: LightSBConfig) -> dict:
    """Fit and score one (dim, eps, seed) cell; returns its record and fitted state dict."""
    pair = pair_from_dataset(get_catalog().open(pairs), dim, eps)
    scores, state = run_cell(dim, eps, seed, pair=pair, logger=run_logger(),
                             **config.fit_kwargs(dim))
    return {"dim": dim, "eps": eps, "seed": seed, **scores, "state": state}


@task(retries=0)
def simulate_examples(pairs: str, cells: list[dict], config: LightSBConfig) -> tuple[str, list]:
    """SB trajectories and sample plots of the 2-D pairs and of the Swiss-roll example."""
    rng = np.random.default_rng(config.seed)
    paths, targets, epss, figures = {}, {}, {}, []
    ds_pairs = get_catalog().open(pairs)
    for c in cells:
        if c["dim"] != 2 or c["seed"] != config.seed:
            continue
        pair = pair_from_dataset(ds_pairs, 2, c["eps"])
        model = LightSB.from_state_dict(c["state"])
        x = pair.sample_source(config.n_traj, rng)
        y_true = pair.sample_conditional(x, rng)
        with torch.no_grad():
            y_fit = model.sample(torch.as_tensor(x), 1, torch.Generator().manual_seed(0))[0]
        name = f"pair_d2_eps{c['eps']:g}"
        fig = plot_samples(x, y_true, y_fit.numpy(), f"D=2, eps={c['eps']:g}: samples")
        figures.append(write_figure(f"lightsb/figures/samples_{name}", fig, dpi=100))
        times, path = sb_trajectories(model, x, config.traj_steps, seed=config.seed)
        paths[name], targets[name], epss[name] = path, y_true, c["eps"]
    src, tgt = make_clouds(config.clouds_n, seed=config.seed)
    res = fit_lightsb(src, tgt, config.clouds_eps, n_components=config.n_components,
                      n_steps=config.n_steps, batch_size=config.batch_size, lr=config.lr,
                      seed=config.seed, logger=run_logger())
    times, path = sb_trajectories(res.model, src[: config.n_traj], config.traj_steps,
                                  seed=config.seed)
    paths["swiss_roll"], targets["swiss_roll"] = path, tgt[: config.n_traj]
    epss["swiss_roll"] = config.clouds_eps
    for name, path in paths.items():
        fig = plot_trajectories(path, targets[name], title=f"LightSB bridge: {name}")
        figures.append(write_figure(f"lightsb/figures/trajectories_{name}", fig, dpi=100))
    ds = trajectories_to_dataset(times, paths, targets, epss)
    return write_dataset.fn("lightsb/trajectories", ds, config), figures


@task(retries=2, retry_delay_seconds=1, tags=["io"])
def save_models(cells: list[dict], config: LightSBConfig) -> str:
    """Every fitted parameter set as one model version (keys ``d{D}/eps{eps}/seed{s}/<param>``)."""
    state = {f"d{c['dim']}/eps{c['eps']:g}/seed{c['seed']}/{k}": v
             for c in cells for k, v in c["state"].items()}
    metrics = {"mean_cbw2_uvp": float(np.mean([c["cbw2_uvp"] for c in cells])),
               "max_cbw2_uvp": float(np.max([c["cbw2_uvp"] for c in cells]))}
    return get_catalog().save_model("lightsb", state, metrics, config.model_dump(mode="json"))


@flow(name="lightsb", log_prints=True)
def lightsb_flow(config: LightSBConfig | None = None) -> str:
    """LightSB on the (dim, eps, seed) grid; writes ``lightsb/metrics`` and returns its name."""
    config = config or LightSBConfig()
    logger = run_logger()
    pairs = make_pairs(config)
    grid = [(d, e, s) for d in config.dims for e in config.epsilons for s in config.seeds()]
    logger.info(f"lightsb: {len(grid)} fits")
    futures = fit_cell.map(unmapped(pairs), [g[0] for g in grid], [g[1] for g in grid],
                           [g[2] for g in grid], config=unmapped(config))
    cells = [f.result() for f in futures]
    records = [{k: v for k, v in c.items() if k != "state"} for c in cells]
    ds = to_dataset(records, attrs={"n_components": config.n_components, "cov": config.cov,
                                    "n_steps": config.n_steps, "n_train": config.n_train})
    name = write_dataset("lightsb/metrics", ds, config)
    version = save_models(cells, config)
    _, figures = simulate_examples(pairs, cells, config)
    table = (ds[["cbw2_uvp", "bw2_uvp", "fit_seconds"]].mean("seed").to_dataframe()
             .reset_index())
    publish_metrics(
        "lightsb-metrics", table, "LightSB on the mixture EOT benchmark: cBW2-UVP and BW2-UVP "
        "(%, mean over seeds), fit time (s)", figures=figures,
        notes=f"K={config.n_components} {config.cov} S_k, {config.n_steps} steps, batch "
        f"{config.batch_size}, {config.n_train} unpaired draws per side, {config.n_seeds} "
        f"seed(s); parameters saved as model version {version}.",
    )
    return name


@flow(name="lightsb", log_prints=True)
def lightsb_retrain_flow(config: LightSBConfig | None = None) -> dict:
    """Refit the (retrain_dim, retrain_eps) cell; promote it iff its cBW2-UVP is lower."""
    config = config or LightSBConfig()
    pair = make_mixture_pair(config.retrain_dim, config.retrain_eps, seed=config.pair_seed)
    scores, state = run_cell(config.retrain_dim, config.retrain_eps, config.seed, pair=pair,
                             logger=run_logger(), **config.fit_kwargs(config.retrain_dim))
    out = champion_challenger("lightsb/retrain", state, scores, config, score="cbw2_uvp",
                              lower_is_better=True)
    row = {"dim": config.retrain_dim, "eps": config.retrain_eps, **scores,
           **{k: out[k] for k in ("version", "promoted", "champion")}}
    publish_metrics("lightsb-retrain", pd.DataFrame([row]),
                    "LightSB retraining: champion/challenger on cBW2-UVP")
    return row


WORKFLOW = Workflow(name="lightsb", flow=lightsb_flow, config=LightSBConfig,
                    retrain=lightsb_retrain_flow)
