"""Flow ``probconserv``: ANP + ProbConserv update on the GPME problems, with HardC/SoftC baselines.

Per problem (fan-out with ``.map``): train the ANP and the SoftC-ANP on sampled context/target
sets, or reuse the registered champion when its architecture and training settings match; predict
on the dense test grid (read from ``gpme/<problem>/test`` when the gpme-data flow wrote a matching
grid, else evaluated exactly); apply the ProbConserv update and HardC projection; score. Writes
``probconserv/predictions``, ``probconserv/metrics``, ``probconserv/shock``, a markdown artifact
and PNG plots. ``probconserv_retrain_flow`` (deployment ``probconserv/retrain``) trains a
challenger and promotes it only if its test MSE is lower. Science in :mod:`sciml.probconserv`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, NamedTuple

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import torch  # noqa: E402
from prefect import flow, task, unmapped  # noqa: E402
from pydantic import Field, ValidationInfo, field_validator  # noqa: E402

from flows.common import (  # noqa: E402
    FlowConfig,
    Workflow,
    champion_challenger,
    figure_dir,
    get_catalog,
    publish_metrics,
    run_logger,
    write_dataset,
)
from sciml.errors import DatasetNotFoundError, ModelNotFoundError  # noqa: E402
from sciml.gpme import get_problem  # noqa: E402
from sciml.probconserv import (  # noqa: E402
    AttentiveNeuralProcess,
    ContextTargetSet,
    evaluate_param,
    init_weights,
    make_test_set,
    make_training_set,
    normalise_inputs,
    train_anp,
    train_softc,
)
from sciml.probconserv.dataset import to_dataset  # noqa: E402

Problem = Literal["diffusion", "pme", "stefan"]
# SoftC-ANP's penalty weight lambda per problem (fast profile; see ProbConservConfig.softc_weight)
_SOFTC_WEIGHT: dict[str, float] = {"diffusion": 1e-3, "pme": 1e-3, "stefan": 1e-3}
# ANP training steps and Beta(a, a) shape of the training-parameter draw per problem (fast
# profile; a = 1: uniform). PME: 4,800 steps with a = 0.5, chosen on validation parameters
# (m in {2, 4, 5.5, 5.8}, docs/probconserv.md, fourth pass): the edge draw removes the ANP's
# mass deficit at the top of the range, the longer training sharpens it (MSE, LL and front error
# of ANP and ProbConserv-ANP improve on every validation value)
_N_STEPS: dict[str, int] = {"diffusion": 1600, "pme": 4800, "stefan": 1600}
_PARAM_BETA: dict[str, float] = {"diffusion": 1.0, "pme": 0.5, "stefan": 1.0}
# fast-profile defaults of the per-problem fields (a number or a partial mapping fills them)
_PER_PROBLEM_DEFAULTS: dict[str, dict[str, Any]] = {
    "n_steps": _N_STEPS, "param_beta": _PARAM_BETA, "softc_weight": _SOFTC_WEIGHT,
}
WORKFLOW_NAME = "probconserv"


_PROBLEM_INDEX = {"diffusion": 0, "pme": 1, "stefan": 2}
# Fields that define a trained model: a champion is reused only when all of them match.
_MODEL_FIELDS = (
    "seed",
    "width",
    "n_heads",
    "n_self_attention",
    "min_std",
    "n_fourier",
    "latent_pool",
    "nll_beta",
    "param_beta",
    "n_train_functions",
    "n_steps",
    "batch_size",
    "lr",
    "lr_floor",
    "softc_weight",
    "softc_steps",
    "softc_from_anp",
    "softc_points",
    "softc_lr",
)


class ProbConservConfig(FlowConfig):
    """ProbConserv workflow settings (fast defaults; ``paper``: width 128, 4 heads, 201 x 201)."""

    problems: tuple[Problem, ...] = ("diffusion", "pme", "stefan")
    # ANP architecture and training
    width: int = Field(64, ge=4)
    n_heads: int = Field(2, ge=1)
    n_self_attention: int = Field(1, ge=0)
    min_std: float = Field(1e-3, gt=0)
    # Fourier-feature octaves of the (t, x) inputs and the context values (0: Kim et al.'s raw
    # inputs); chosen on validation parameters (see docs/probconserv.md): with K = 6 the ANP's
    # Stefan front follows u* and the validation MSE of every problem drops
    n_fourier: int = Field(6, ge=0)
    # summary of the latent path's context set (mean: Kim et al.; meanmax; attention: a learned
    # query); the alternatives did not help on validation (docs/probconserv.md)
    latent_pool: Literal["mean", "meanmax", "attention"] = "mean"
    n_train_functions: int = Field(1000, ge=1)
    # ANP training steps per problem (a number sets every problem)
    n_steps: dict[Problem, Annotated[int, Field(ge=1)]] = Field(
        default_factory=lambda: dict(_N_STEPS)
    )
    batch_size: int = Field(8, ge=1)
    lr: float = Field(1e-3, gt=0)
    lr_floor: float = Field(0.1, gt=0, le=1)
    # beta-NLL weighting of the ANP's likelihood term per problem (0: the plain ELBO); chosen on
    # validation parameters (docs/probconserv.md): it helps Stefan and PME, hurts diffusion.
    # SoftC keeps the plain ELBO + lambda * residual (beta < 1 would shrink the likelihood
    # against the residual term, i.e. change lambda's meaning)
    nll_beta: dict[Problem, Annotated[float, Field(ge=0, le=1)]] = Field(
        default_factory=lambda: {"diffusion": 0.0, "pme": 0.5, "stefan": 0.5}
    )
    # training parameters lo + (hi - lo) * Beta(a, a) on the training range, a per problem (1: the
    # paper's uniform draw; a < 1: more functions near both edges, where the ANP regresses towards
    # the interior, e.g. too little mass at the top of the PME range; docs/probconserv.md)
    param_beta: dict[Problem, Annotated[float, Field(gt=0)]] = Field(
        default_factory=lambda: dict(_PARAM_BETA)
    )
    # SoftC-ANP: lambda per problem (a number sets every problem), steps, collocation points;
    # fine-tuned from the ANP or trained from scratch. The fast lambdas are the best of
    # {1e-3, 1e-2, 1e-1, 1} on validation parameters (docs/probconserv.md): every lambda raised
    # the MSE on PME and Stefan, the smallest least.
    softc_weight: dict[Problem, Annotated[float, Field(ge=0)]] = Field(
        default_factory=lambda: dict(_SOFTC_WEIGHT)
    )
    softc_steps: int = Field(150, ge=1)

    @field_validator("n_steps", "param_beta", "softc_weight", mode="before")
    @classmethod
    def _per_problem_value(cls, value: Any, info: ValidationInfo) -> Any:
        """A number sets every problem; a partial mapping keeps the other problems' defaults."""
        defaults = _PER_PROBLEM_DEFAULTS[info.field_name]
        if isinstance(value, int | float) and not isinstance(value, bool):
            return dict.fromkeys(defaults, value)
        if isinstance(value, dict):
            return {**defaults, **value}
        return value

    softc_from_anp: bool = True
    softc_points: int = Field(32, ge=1)
    softc_lr: float | None = Field(None, gt=0)  # None: lr * lr_floor when fine-tuning, else lr
    # evaluation
    n_test_functions: int = Field(10, ge=1)
    n_t: int = Field(201, ge=3)
    n_x: int = Field(201, ge=3)
    n_latent_samples: int = Field(8, ge=1)
    sigma_g: float = Field(0.0, ge=0)
    n_shock_draws: int = Field(500, ge=1)
    shock_level: float = 0.0
    # paper's non-negativity post-processing (PME, Stefan), every model alike; chosen on
    # validation parameters (see docs/probconserv.md)
    nonneg: bool = True
    n_store_functions: int | None = Field(None, ge=1)
    reuse_champion: bool = True
    # torch intra-op threads during the run (restored after): problems already train in parallel
    # tasks, and intra-op threads spin-wait when the cores are shared
    torch_threads: int = Field(1, ge=1)

    PROFILES = {
        "fast": {},
        "paper": {
            "width": 128,
            "n_heads": 4,
            "n_self_attention": 2,
            "n_fourier": 0,
            "nll_beta": {"diffusion": 0.0, "pme": 0.0, "stefan": 0.0},
            "param_beta": {"diffusion": 1.0, "pme": 1.0, "stefan": 1.0},
            "n_train_functions": 10_000,
            "n_steps": 20_000,
            "batch_size": 250,
            "lr": 1e-4,
            "lr_floor": 1.0,
            "softc_weight": {"diffusion": 1.0, "pme": 1.0, "stefan": 1.0},
            "softc_steps": 20_000,
            "softc_from_anp": False,
            "softc_points": 100,
            "n_test_functions": 50,
            "n_t": 201,
            "n_x": 201,
            "n_latent_samples": 50,
            "n_store_functions": 5,
        },
        "tiny": {
            "problems": ("pme", "stefan"),
            "width": 16,
            "n_heads": 2,
            "n_train_functions": 32,
            "n_steps": 30,
            "batch_size": 4,
            "softc_steps": 5,
            "softc_points": 8,
            "n_test_functions": 3,
            "n_t": 11,
            "n_x": 21,
            "n_latent_samples": 2,
            "n_shock_draws": 50,
        },
    }

    def model_key(self) -> dict[str, Any]:
        """The settings that define the trained networks (champion reuse compares these)."""
        return {k: getattr(self, k) for k in _MODEL_FIELDS}


def _new_anp(config: ProbConservConfig, seed: int) -> AttentiveNeuralProcess:
    net = AttentiveNeuralProcess(
        width=config.width,
        n_heads=config.n_heads,
        n_self_attention=config.n_self_attention,
        min_std=config.min_std,
        n_fourier=config.n_fourier,
        latent_pool=config.latent_pool,
    )
    return init_weights(net, seed)


class ProblemTraining(NamedTuple):
    """One problem's trained ANP with its training set (inputs rescaled) and training seed."""

    anp: AttentiveNeuralProcess
    data: ContextTargetSet
    xc: np.ndarray
    xt: np.ndarray
    seed: int


def train_problem_anp(
    problem: str, config: ProbConservConfig, logger: Any = None
) -> ProblemTraining:
    """The ANP of one problem, trained as the flow trains it: training set of seed
    ``10 config.seed + problem index`` (``param_beta``), inputs rescaled, ``n_steps`` of Adam."""
    seed = config.seed * 10 + _PROBLEM_INDEX[problem]
    data = make_training_set(
        problem, config.n_train_functions, seed=seed, param_beta=config.param_beta.get(problem, 1.0)
    )
    xc = normalise_inputs(problem, data.x_context)
    xt = normalise_inputs(problem, data.x_target)
    anp = _new_anp(config, seed)
    train_anp(anp, xc, data.y_context, xt, data.y_target, n_steps=config.n_steps[problem],
              seed=seed, logger=logger, desc=f"ANP {problem}", batch_size=config.batch_size,
              lr=config.lr, lr_floor=config.lr_floor,
              nll_beta=config.nll_beta.get(problem, 0.0))  # fmt: skip
    return ProblemTraining(anp, data, xc, xt, seed)


@task
def train_problem(problem: str, config: ProbConservConfig) -> dict[str, dict[str, torch.Tensor]]:
    """Train the ANP and the SoftC-ANP of one problem; returns their state dicts."""
    logger = run_logger()
    anp, data, xc, xt, seed = train_problem_anp(problem, config, logger)
    softc = _new_anp(config, seed + 1)
    softc_lr = config.softc_lr or config.lr
    if config.softc_from_anp:
        softc.load_state_dict(anp.state_dict())
        softc_lr = config.softc_lr or config.lr * config.lr_floor
    train_softc(softc, problem, xc, data.y_context, xt, data.y_target, data.param,
                n_steps=config.softc_steps, seed=seed + 1, weight=config.softc_weight[problem],
                n_points=config.softc_points, logger=logger, batch_size=config.batch_size,
                lr=softc_lr, lr_floor=config.lr_floor)  # fmt: skip
    return {"anp": anp.state_dict(), "softc": softc.state_dict()}


def _pack(states: dict[str, dict[str, dict[str, torch.Tensor]]]) -> dict[str, torch.Tensor]:
    return {f"{p}/{kind}/{k}": v for p, sd in states.items() for kind, d in sd.items() for k, v in d.items()}  # noqa: E501


def _unpack(flat: dict[str, torch.Tensor]) -> dict[str, dict[str, dict[str, torch.Tensor]]]:
    out: dict[str, dict[str, dict[str, torch.Tensor]]] = {}
    for key, value in flat.items():
        problem, kind, name = key.split("/", 2)
        out.setdefault(problem, {}).setdefault(kind, {})[name] = value
    return out


def _stored_config(info: dict[str, Any]) -> dict[str, Any]:
    """The config saved with a model version (older versions lack ``n_fourier``/``nll_beta``: 0,
    ``latent_pool``: mean, ``param_beta``: 1, the uniform draw; ``n_steps`` was one number)."""
    stored = {
        "n_fourier": 0,
        "latent_pool": "mean",
        "nll_beta": dict.fromkeys(_PROBLEM_INDEX, 0.0),
        "param_beta": dict.fromkeys(_PROBLEM_INDEX, 1.0),
        **info.get("config", {}),
    }
    if isinstance(stored.get("n_steps"), int):  # one number for every problem (older versions)
        stored["n_steps"] = dict.fromkeys(_PROBLEM_INDEX, stored["n_steps"])
    return stored


@task
def load_champion(config: ProbConservConfig) -> dict[str, dict[str, dict[str, torch.Tensor]]] | None:
    """The champion's state dicts if it was trained with this config's model settings, else None."""
    try:
        state, info = get_catalog().load_model(WORKFLOW_NAME, "champion")
    except ModelNotFoundError:
        return None
    stored = _stored_config(info)
    if any(stored.get(k) != v for k, v in config.model_key().items()):
        run_logger().info(f"champion {info.get('version')} has other model settings; training anew")
        return None
    states = _unpack(state)
    if not set(config.problems) <= set(states):
        return None
    run_logger().info(f"reusing champion {info.get('version')} of {WORKFLOW_NAME}")
    return states


def _catalogued_tests(problem: str, config: ProbConservConfig):
    """``gpme/<problem>/test`` when it was written on this config's grid, else None (opened once)."""
    try:
        ds = get_catalog().open(f"gpme/{problem}/test")
    except DatasetNotFoundError:
        return None
    if ds.sizes.get("t") != config.n_t or ds.sizes.get("x") != config.n_x:
        return None
    return ds


def _test_grid(ds, param: float):
    """(t, x, u, mass) of ``param`` from the catalogued test set ``ds``, else None."""
    if ds is None:
        return None
    hit = np.flatnonzero(np.isclose(ds["param"].values, param))
    if hit.size == 0:
        return None
    sel = ds.isel(function=int(hit[0])).load()
    return sel.t.values, sel.x.values, sel.u.values, sel.mass.values


@task
def evaluate_problem_task(
    problem: str, states: dict[str, dict[str, torch.Tensor]], config: ProbConservConfig
) -> list:
    """Predict, update and score every test value of ``problem``."""
    anp, softc = _new_anp(config, 0), _new_anp(config, 0)
    anp.load_state_dict(states["anp"])
    softc.load_state_dict(states["softc"])
    results = []
    catalogued = _catalogued_tests(problem, config)
    for j, value in enumerate(get_problem(problem).test_values):
        sub = int(np.random.SeedSequence([config.seed, _PROBLEM_INDEX[problem], j]).generate_state(1)[0])
        grid = _test_grid(catalogued, value)
        test = make_test_set(problem, value, config.n_test_functions, config.n_t, config.n_x,
                             seed=sub, grid=grid)  # fmt: skip
        results.append(
            evaluate_param(test, anp, softc, n_latent_samples=config.n_latent_samples,
                           sigma_g=config.sigma_g, n_shock_draws=config.n_shock_draws,
                           shock_level=config.shock_level, nonneg=config.nonneg,
                           seed=sub)  # fmt: skip
        )
        run_logger().info(
            f"{problem} {get_problem(problem).param_name}={value:g}: grid from "
            f"{'gpme/' + problem + '/test' if grid is not None else 'exact solution'}"
        )
    return results


def _train_or_reuse(config: ProbConservConfig, reuse: bool):
    states = load_champion(config) if reuse else None
    if states is not None:
        return states, False
    futures = train_problem.map(list(config.problems), config=unmapped(config))
    return {p: f.result() for p, f in zip(config.problems, futures, strict=True)}, True


def _evaluate(config: ProbConservConfig, states) -> list:
    futures = evaluate_problem_task.map(
        list(config.problems), [states[p] for p in config.problems], config=unmapped(config)
    )
    return [r for f in futures for r in f.result()]


def _test_mse(metrics_ds) -> float:
    """Mean ANP test MSE at the evaluation times over problems and test values (the score)."""
    return float(np.nanmean(metrics_ds["mse"].sel(model="ANP").values))


def _plots(results: list, metrics_ds) -> list[str]:
    out = figure_dir(WORKFLOW_NAME)
    paths = []
    for r in results:
        e, spec = r.eval_index, get_problem(r.problem)
        fig, ax = plt.subplots(figsize=(6, 3.6))
        ax.plot(r.x, r.u[e], "k-", lw=2, label="exact")
        for i, m in enumerate(r.models):
            mu, sd = r.mean[i, 0, e], r.std[i, 0, e]
            (line,) = ax.plot(r.x, mu, lw=1.2, label=m)
            ax.fill_between(r.x, mu - 2 * sd, mu + 2 * sd, color=line.get_color(), alpha=0.15)
        ax.set(xlabel="x", ylabel="u", title=f"{r.problem} {spec.param_name}={r.param:g}, "
               f"t={r.t[e]:.3g} (function 0, mean ± 2 sd)")  # fmt: skip
        ax.legend(fontsize=7)
        fig.tight_layout()
        path = out / f"profile_{r.problem}_{spec.param_name}={r.param:g}.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        paths.append(str(path))
    problems = list(metrics_ds.problem.values)
    fig, axes = plt.subplots(1, len(problems), figsize=(4.2 * len(problems), 3.4), squeeze=False)
    colors = {m: f"C{i}" for i, m in enumerate(metrics_ds.model.values)}
    for ax, problem in zip(axes[0], problems, strict=True):
        sub = metrics_ds.sel(problem=problem)
        valid = [p for p in sub.param.values if not np.all(np.isnan(sub["ce_t"].sel(param=p)))]
        for k, param in enumerate(valid):
            cell = sub.sel(param=param)
            for m in cell.model.values:
                ax.plot(sub["t_value"].values, cell["ce_t"].sel(model=m), color=colors[m],
                        ls=("-", "--", ":")[k % 3], lw=1,
                        label=f"{m}, {cell.param_name.item()}={param:g}")  # fmt: skip
        ax.set(xlabel="t", ylabel="CE = G mu - U(t)", title=problem)
        ax.legend(fontsize=6)
    fig.tight_layout()
    path = out / "ce_vs_t.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return [*paths, str(path)]


def _table(metrics_ds, shock_ds) -> pd.DataFrame:
    df = metrics_ds[["mse", "mse_se", "ce", "ll", "ll_se"]].to_dataframe().dropna(subset=["mse"])
    sh = shock_ds[["front_error", "front_error_se", "front_coverage"]].to_dataframe()
    df = df.join(sh[["front_error", "front_error_se", "front_coverage"]], how="left")
    keep = ["mse", "mse_se", "ce", "ll", "ll_se", "front_error", "front_error_se", "front_coverage"]
    return df[keep].reset_index()


@flow(name="probconserv", log_prints=True)
def probconserv_flow(config: ProbConservConfig | None = None) -> dict[str, Any]:
    """Train (or reuse the champion), predict, apply ProbConserv/HardC, score and write results."""
    config = config or ProbConservConfig()
    logger = run_logger()
    threads = torch.get_num_threads()
    torch.set_num_threads(config.torch_threads)
    try:
        return _run(config, logger)
    finally:
        torch.set_num_threads(threads)


def _run(config: ProbConservConfig, logger) -> dict[str, Any]:
    states, trained = _train_or_reuse(config, config.reuse_champion)
    results = _evaluate(config, states)
    preds = to_dataset(results, "predictions", n_store_functions=config.n_store_functions)
    metrics_ds = to_dataset(results, "metrics")
    names = [
        write_dataset("probconserv/predictions", preds, config),
        write_dataset("probconserv/metrics", metrics_ds, config),
    ]
    shock_ds = None
    if any(r.front_draws is not None for r in results):
        shock_ds = to_dataset(results, "shock")
        names.append(write_dataset("probconserv/shock", shock_ds, config))
    score = _test_mse(metrics_ds)
    decision = None
    if trained:
        decision = champion_challenger(
            WORKFLOW_NAME, _pack(states), {"test_mse": score}, config, score="test_mse"
        )
    figures = _plots(results, metrics_ds)
    table = (
        _table(metrics_ds, shock_ds)
        if shock_ds is not None
        else metrics_ds[["mse", "mse_se", "ce", "ll", "ll_se"]].to_dataframe().dropna().reset_index()
    )
    publish_metrics(
        "probconserv-metrics",
        table,
        "ProbConserv: MSE, conservation error, log-likelihood and front error at the eval time",
        figures=figures,
        notes=f"ANP test MSE (score) = {score:.4g}; models {'trained' if trained else 'reused'}.",
    )
    logger.info(f"probconserv wrote {names}")
    return {"datasets": names, "test_mse": score, "trained": trained, "champion": decision}


@flow(name="probconserv", log_prints=True)
def probconserv_retrain_flow(config: ProbConservConfig | None = None) -> dict[str, Any]:
    """Train a challenger and promote it only if its test MSE is lower than the champion's.

    The challenger's seed is ``config.seed`` plus the number of stored versions, so each
    scheduled retraining draws fresh training data and initial weights (recorded in its config).
    """
    config = config or ProbConservConfig()
    n_versions = len(get_catalog().model_versions(WORKFLOW_NAME))
    config = config.model_copy(update={"seed": config.seed + n_versions})
    run_logger().info(f"challenger seed {config.seed} ({n_versions} stored versions)")
    threads = torch.get_num_threads()
    torch.set_num_threads(config.torch_threads)
    try:
        states, _ = _train_or_reuse(config, reuse=False)
        metrics_ds = to_dataset(_evaluate(config, states), "metrics")
    finally:
        torch.set_num_threads(threads)
    return champion_challenger(
        WORKFLOW_NAME, _pack(states), {"test_mse": _test_mse(metrics_ds)}, config, score="test_mse"
    )


WORKFLOW = Workflow(
    name=WORKFLOW_NAME,
    flow=probconserv_flow,
    config=ProbConservConfig,
    retrain=probconserv_retrain_flow,
)
