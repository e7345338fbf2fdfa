r"""The ProbConserv experiment: settings, training, evaluation and results, as one recipe.

Hansen, Maddix, Alizadeh, Gupta, Mahoney, "Learning Physical Models that Can Respect Conservation
Laws", ICML 2023 (arXiv 2302.11002), Sec. 4. Per problem (the GPME problems diffusion, PME,
Stefan; the hyperbolic linear advection and Burgers):

1. draw a training set of functions at parameters from the training range
   (:func:`~sciml.probconserv.data.make_training_set`, seed :func:`problem_seed`);
2. train the Attentive Neural Process (the black box) and the SoftC-ANP
   (:func:`train_problem`);
3. at each test parameter value, predict on the dense (t, x) grid, apply the ProbConserv update
   :math:`\tilde\mu = \mu + \Sigma G^\top (G \Sigma G^\top + \sigma_G^2)^{-1} (b - G\mu)` (Eq. 6-7)
   and the HardC projection, and score every model (:func:`evaluate_problem`);
4. assemble the ``predictions``, ``metrics`` and ``shock`` datasets (:func:`to_datasets`).

Model selection never reads the test values: champion/challenger scores a packed pair of
networks with :func:`validation_metrics`, the ANP's MSE at the evaluation time on validation
functions (``gpme/<problem>/val``, parameters drawn from the training range).

:func:`run` does all four in one call; the ``probconserv`` flow runs the same functions as tasks
(one per problem) and writes their output through the catalog. Every seed derives from
``ProbConservConfig.seed``, so the same settings give the same arrays.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal, NamedTuple

import numpy as np
import pandas as pd
import torch
import xarray as xr
from pydantic import Field, ValidationInfo, field_validator, model_validator

from sciml.errors import DataError
from sciml.gpme import get_problem, trapezoid_weights
from sciml.probconserv.data import (
    ContextTargetSet,
    TestSet,
    make_test_set,
    make_training_set,
    normalise_inputs,
    sample_points,
    test_grid_from_dataset,
)
from sciml.probconserv.datasets import to_dataset
from sciml.probconserv.evaluate import (
    NONNEGATIVE_PROBLEMS,
    ParamResult,
    evaluate_param,
    predict_on_grid,
)
from sciml.probconserv.metrics import squared_error
from sciml.probconserv.model import AttentiveNeuralProcess, init_weights, train_anp
from sciml.probconserv.postprocess import nonneg_projection
from sciml.probconserv.softc import train_softc
from sciml.probconserv.user_data import UserLaw
from sciml.settings import Settings

__all__ = [
    "PROBLEMS",
    "ProbConservConfig",
    "ProblemTraining",
    "RunResult",
    "anp_test_mse",
    "champion_compatible",
    "evaluate_problem",
    "evaluation_seed",
    "metrics_table",
    "new_anp",
    "pack_states",
    "problem_seed",
    "run",
    "stored_config",
    "to_datasets",
    "train_problem",
    "train_problem_anp",
    "unpack_states",
    "validation_metrics",
    "validation_seed",
]

Problem = Literal["diffusion", "pme", "stefan", "advection", "burgers"]
PROBLEMS: tuple[str, ...] = ("diffusion", "pme", "stefan", "advection", "burgers")
_PROBLEM_INDEX = {p: i for i, p in enumerate(PROBLEMS)}  # seeds: new problems go last
# SoftC-ANP's penalty weight lambda per problem (fast profile)
_SOFTC_WEIGHT: dict[str, float] = dict.fromkeys(PROBLEMS, 1e-3)
# ANP training steps and Beta(a, a) shape of the training-parameter draw per problem (fast
# profile; a = 1: uniform). PME: 4,800 steps with a = 0.5, chosen on validation parameters
# (m in {2, 4, 5.5, 5.8}; docs/notes/probconserv-investigations.md): the edge draw removes the
# ANP's mass deficit at the top of the range, the longer training sharpens it. The hyperbolic
# problems (a moving jump, like Stefan's) take Stefan's settings
_N_STEPS: dict[str, int] = {**dict.fromkeys(PROBLEMS, 1600), "pme": 4800}
_PARAM_BETA: dict[str, float] = {**dict.fromkeys(PROBLEMS, 1.0), "pme": 0.5}
_NLL_BETA: dict[str, float] = {**dict.fromkeys(PROBLEMS, 0.5), "diffusion": 0.0}
# x refinement factor of ProbConserv's constraint grid per problem (1: the evaluation grid;
# docs/notes/probconserv-investigations.md, 2026-12-03)
_REFINE: dict[str, int] = dict.fromkeys(PROBLEMS, 1)
# fast-profile defaults of the per-problem fields (a number or a partial mapping fills them)
_PER_PROBLEM_DEFAULTS: dict[str, dict[str, Any]] = {
    "n_steps": _N_STEPS, "param_beta": _PARAM_BETA, "softc_weight": _SOFTC_WEIGHT, "nll_beta": _NLL_BETA,
    "refine": _REFINE,
}  # fmt: skip
# Fields that define a trained model: a champion is reused only when all of them but the seed
# match (the seed picks one draw of training data and initial weights; retraining varies it).
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


class ProbConservConfig(Settings):
    """ProbConserv settings (fast defaults; ``paper``: width 128, 4 heads, 201 x 201).

    ``data`` (:class:`~sciml.probconserv.user_data.UserLaw`) names a user's own solutions and
    conservation law; the workflow then runs on them (catalog datasets ``probconserv/user/...``)
    instead of the GPME ``problems``. Its keys may be given nested (``{"data": {"path": ...,
    "total": ...}}``, a deployment's parameters) or dotted (``{"data.path": ...}``, as
    ``sciml run probconserv --set data.path=...``).
    """

    problems: tuple[Problem, ...] = PROBLEMS
    data: UserLaw | None = Field(
        None, description="your solutions u(t, x) and conservation law: run on them instead of the problems"
    )
    # ANP architecture and training
    width: int = Field(64, ge=4)
    n_heads: int = Field(2, ge=1)
    n_self_attention: int = Field(1, ge=0)
    min_std: float = Field(1e-3, gt=0)
    # Fourier-feature octaves of the (t, x) inputs and the context values (0: Kim et al.'s raw
    # inputs); with K = 6 the ANP's Stefan front follows u* and the validation MSE of every
    # problem drops
    n_fourier: int = Field(6, ge=0)
    # summary of the latent path's context set (mean: Kim et al.; meanmax; attention: a learned
    # query); the alternatives did not help on validation
    latent_pool: Literal["mean", "meanmax", "attention"] = "mean"
    n_train_functions: int = Field(1000, ge=1)
    # ANP training steps per problem (a number sets every problem)
    n_steps: dict[Problem, Annotated[int, Field(ge=1)]] = Field(default_factory=lambda: dict(_N_STEPS))
    batch_size: int = Field(8, ge=1)
    lr: float = Field(1e-3, gt=0)
    lr_floor: float = Field(0.1, gt=0, le=1)
    # beta-NLL weighting of the ANP's likelihood term per problem (0: the plain ELBO); chosen on
    # validation parameters: it helps Stefan and PME, hurts diffusion. SoftC keeps the plain
    # ELBO + lambda * residual (beta < 1 would change lambda's meaning)
    nll_beta: dict[Problem, Annotated[float, Field(ge=0, le=1)]] = Field(
        default_factory=lambda: dict(_NLL_BETA)
    )
    # training parameters lo + (hi - lo) * Beta(a, a) on the training range, a per problem (1: the
    # paper's uniform draw; a < 1: more functions near both edges)
    param_beta: dict[Problem, Annotated[float, Field(gt=0)]] = Field(
        default_factory=lambda: dict(_PARAM_BETA)
    )
    # SoftC-ANP: lambda per problem (a number sets every problem), steps, collocation points;
    # fine-tuned from the ANP or trained from scratch. The fast lambdas are the best of
    # {1e-3, 1e-2, 1e-1, 1} on validation parameters
    softc_weight: dict[Problem, Annotated[float, Field(ge=0)]] = Field(
        default_factory=lambda: dict(_SOFTC_WEIGHT)
    )
    softc_steps: int = Field(150, ge=1)
    softc_from_anp: bool = True
    softc_points: int = Field(32, ge=1)
    softc_lr: float | None = Field(None, gt=0)  # None: lr * lr_floor when fine-tuning, else lr
    # evaluation
    n_test_functions: int = Field(10, ge=1)
    n_t: int = Field(201, ge=3)
    n_x: int = Field(201, ge=3)
    n_latent_samples: int = Field(8, ge=1)
    sigma_g: float = Field(0.0, ge=0)
    # ProbConserv's constraint on an x grid `refine` times finer (the ANP queried there, the
    # posterior's marginal at the evaluation nodes reported), per problem; 1: the evaluation grid
    refine: dict[Problem, Annotated[int, Field(ge=1, le=32)]] = Field(default_factory=lambda: dict(_REFINE))
    n_shock_draws: int = Field(500, ge=1)
    shock_level: float = 0.0
    # the paper's non-negativity post-processing (PME, Stefan), every model alike
    nonneg: bool = True
    n_store_functions: int | None = Field(None, ge=1)
    reuse_champion: bool = True
    # torch intra-op threads during a flow run (restored after): problems already train in
    # parallel tasks, and intra-op threads spin-wait when the cores are shared
    torch_threads: int = Field(1, ge=1)

    @model_validator(mode="before")
    @classmethod
    def _dotted_keys(cls, data: Any) -> Any:
        """``{"data.path": p}`` -> ``{"data": {"path": p}}`` (merged into a ``data`` mapping)."""
        if not isinstance(data, dict) or not any(isinstance(k, str) and "." in k for k in data):
            return data
        out: dict = {}
        for key, value in data.items():
            head, dot, rest = key.partition(".") if isinstance(key, str) else (key, "", "")
            if not dot or head not in cls.model_fields:
                out[key] = value  # an unknown key: rejected by name (extra="forbid")
                continue
            sub = out.get(head, data.get(head))
            sub = sub.model_dump() if isinstance(sub, UserLaw) else dict(sub or {})
            sub[rest] = value
            out[head] = sub
        return out

    @field_validator("n_steps", "param_beta", "softc_weight", "nll_beta", "refine", mode="before")
    @classmethod
    def _per_problem_value(cls, value: Any, info: ValidationInfo) -> Any:
        """A number sets every problem; a partial mapping keeps the other problems' defaults."""
        defaults = _PER_PROBLEM_DEFAULTS[info.field_name]
        if isinstance(value, int | float) and not isinstance(value, bool):
            return dict.fromkeys(defaults, value)
        if isinstance(value, dict):
            return {**defaults, **value}
        return value

    PROFILES = {
        "fast": {},
        "paper": {
            "width": 128,
            "n_heads": 4,
            "n_self_attention": 2,
            "n_fourier": 0,
            "nll_beta": 0.0,
            "param_beta": 1.0,
            "n_train_functions": 10_000,
            "n_steps": 20_000,
            "batch_size": 250,
            "lr": 1e-4,
            "lr_floor": 1.0,
            "softc_weight": 1.0,
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


# ---------------------------------------------------------------------------------------- seeds
def problem_seed(config: ProbConservConfig, problem: str) -> int:
    """Seed of ``problem``'s training set and ANP initialisation: ``10 seed + problem index``
    (SoftC-ANP uses this plus one)."""
    return config.seed * 10 + _PROBLEM_INDEX[problem]


def evaluation_seed(config: ProbConservConfig, problem: str, j: int) -> int:
    """Seed of the contexts and draws at the ``j``-th test value of ``problem``."""
    entropy = [config.seed, _PROBLEM_INDEX[problem], j]
    return int(np.random.SeedSequence(entropy).generate_state(1)[0])


# entropy tag of the validation stream (contexts and latent draws of validation functions)
_VALIDATION_TAG = 20_231_103


def validation_seed(problem: str, j: int) -> int:
    """Seed of the contexts and latent draws at the ``j``-th validation function of ``problem``.

    Fixed (``SeedSequence([tag, problem index, j])``), not derived from the training seed:
    retraining shifts that seed, and champion and challenger must be scored on the same draws.
    """
    entropy = [_VALIDATION_TAG, _PROBLEM_INDEX[problem], int(j)]
    return int(np.random.SeedSequence(entropy).generate_state(1)[0])


# ------------------------------------------------------------------------------------- training
def new_anp(config: ProbConservConfig, seed: int) -> AttentiveNeuralProcess:
    """An ANP of the configured architecture, initialised from ``seed``."""
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


def train_problem_anp(problem: str, config: ProbConservConfig, logger: Any = None) -> ProblemTraining:
    """Train the ANP of one problem: training set of :func:`problem_seed` (``param_beta``),
    inputs rescaled to [0, 1], ``n_steps[problem]`` steps of Adam on the (beta-NLL) ELBO."""
    seed = problem_seed(config, problem)
    data = make_training_set(
        problem, config.n_train_functions, seed=seed, param_beta=config.param_beta.get(problem, 1.0)
    )
    xc = normalise_inputs(problem, data.x_context)
    xt = normalise_inputs(problem, data.x_target)
    anp = new_anp(config, seed)
    train_anp(anp, xc, data.y_context, xt, data.y_target, n_steps=config.n_steps[problem],
              seed=seed, logger=logger, desc=f"ANP {problem}", batch_size=config.batch_size,
              lr=config.lr, lr_floor=config.lr_floor,
              nll_beta=config.nll_beta.get(problem, 0.0))  # fmt: skip
    return ProblemTraining(anp, data, xc, xt, seed)


def train_problem(
    problem: str, config: ProbConservConfig, logger: Any = None
) -> dict[str, dict[str, torch.Tensor]]:
    """Train the ANP and the SoftC-ANP of one problem; returns ``{"anp": ..., "softc": ...}``
    state dicts. SoftC is fine-tuned from the ANP (``softc_from_anp``) or trained anew."""
    anp, data, xc, xt, seed = train_problem_anp(problem, config, logger)
    softc = new_anp(config, seed + 1)
    softc_lr = config.softc_lr or config.lr
    if config.softc_from_anp:
        softc.load_state_dict(anp.state_dict())
        softc_lr = config.softc_lr or config.lr * config.lr_floor
    train_softc(softc, problem, xc, data.y_context, xt, data.y_target, data.param,
                n_steps=config.softc_steps, seed=seed + 1, weight=config.softc_weight[problem],
                n_points=config.softc_points, logger=logger, batch_size=config.batch_size,
                lr=softc_lr, lr_floor=config.lr_floor)  # fmt: skip
    return {"anp": anp.state_dict(), "softc": softc.state_dict()}


# ------------------------------------------------------------------------- stored model versions
def pack_states(states: Mapping[str, Mapping[str, Mapping[str, torch.Tensor]]]) -> dict[str, torch.Tensor]:
    """``{problem: {"anp"|"softc": state_dict}}`` as one flat state dict (``problem/kind/name``)."""
    return {f"{p}/{kind}/{k}": v for p, sd in states.items() for kind, d in sd.items() for k, v in d.items()}  # noqa: E501


def unpack_states(flat: Mapping[str, torch.Tensor]) -> dict[str, dict[str, dict[str, torch.Tensor]]]:
    """The inverse of :func:`pack_states`."""
    out: dict[str, dict[str, dict[str, torch.Tensor]]] = {}
    for key, value in flat.items():
        problem, kind, name = key.split("/", 2)
        out.setdefault(problem, {}).setdefault(kind, {})[name] = value
    return out


def stored_config(info: Mapping[str, Any]) -> dict[str, Any]:
    """The settings saved with a model version, completed for older versions (no ``n_fourier`` or
    ``nll_beta``: 0; ``latent_pool``: mean; ``param_beta``: 1, the uniform draw; ``n_steps`` was
    one number for every problem)."""
    stored = {
        "n_fourier": 0,
        "latent_pool": "mean",
        "nll_beta": dict.fromkeys(PROBLEMS, 0.0),
        "param_beta": dict.fromkeys(PROBLEMS, 1.0),
        **info.get("config", {}),
    }
    if isinstance(stored.get("n_steps"), int):
        stored["n_steps"] = dict.fromkeys(PROBLEMS, stored["n_steps"])
    return stored


def champion_compatible(
    config: ProbConservConfig, info: Mapping[str, Any], states: Mapping[str, Any]
) -> bool:
    """Whether a stored model (its metadata ``info`` and unpacked ``states``) was trained with
    ``config``'s model settings and holds every configured problem, so it can be reused.

    Per-problem settings (``n_steps``, ``nll_beta``, ...) are compared on the configured problems
    only: a champion trained before a problem was added, or with other settings for a problem not
    run now, still serves the problems it holds."""
    stored = stored_config(info)

    def same(key: str, value: Any) -> bool:
        if key in _PER_PROBLEM_DEFAULTS:
            held = stored.get(key) or {}
            return isinstance(held, dict) and all(held.get(p) == value[p] for p in config.problems)
        return stored.get(key) == value

    fits = all(same(k, v) for k, v in config.model_key().items() if k != "seed")
    return fits and set(config.problems) <= set(states)


def _load_net(
    config: ProbConservConfig, state: Mapping[str, torch.Tensor], label: str
) -> AttentiveNeuralProcess:
    """An ANP of ``config``'s architecture holding ``state``; a state of another shape raises."""
    net = new_anp(config, 0)
    try:
        net.load_state_dict(dict(state))
    except RuntimeError as exc:
        first = " ".join(line.strip() for line in str(exc).strip().splitlines()[:2])
        raise DataError(
            f"state dict {label} does not fit the configured ANP (width={config.width}, "
            f"n_heads={config.n_heads}, n_self_attention={config.n_self_attention}, "
            f"n_fourier={config.n_fourier}, latent_pool={config.latent_pool!r}): {first}"
        ) from None
    return net.eval()


def _validation_set(problem: str, param: float, t: float, x: np.ndarray, u: np.ndarray,
                    mass: float, n_functions: int, seed: int) -> TestSet:
    """Contexts of one validation function and its truth at the single time ``t``."""
    xc, yc = sample_points(problem, np.full(n_functions, param), 10, 10, seed)
    return TestSet(problem, float(param), xc, yc, np.array([t]), x, u[None, :], np.array([mass]),
                   trapezoid_weights(x))


def validation_metrics(
    config: ProbConservConfig,
    state_dict: Mapping[str, torch.Tensor],
    val_data: Mapping[str, xr.Dataset],
) -> dict[str, float]:
    r"""Score a packed ANP/SoftC-ANP pair on the validation functions of every configured problem.

    For validation function :math:`j` of a problem (parameter :math:`\theta_j` drawn from the
    training range), ``n_test_functions`` context sets are drawn (seed :func:`validation_seed`),
    the ANP predicts at the grid row nearest the evaluation time :math:`t_e` (moment-matched
    over ``n_latent_samples`` latents) and, with ``nonneg`` on PME and Stefan, its mean is clipped
    at 0, as in the test evaluation. The score is the mean over problems of the mean over their
    validation functions of

    .. math:: \mathrm{MSE}_j = \frac{1}{F X}\sum_{f, i} (\mu_f(t_e, x_i) - u(t_e, x_i; \theta_j))^2,

    the validation analogue of :func:`anp_test_mse`. Deterministic: the same state and data
    give the same floats.

    Parameters
    ----------
    config : the settings (architecture, problems, ``n_test_functions``, ``n_latent_samples``,
        ``nonneg``).
    state_dict : flat state dict of :func:`pack_states` (``problem/anp|softc/<param>``).
    val_data : ``{problem: gpme/<problem>/val dataset}``, each with ``u`` (function, t, x),
        ``mass`` (function, t) and coordinate ``param``.

    Returns
    -------
    dict
        ``score`` and ``val_mse`` (the ANP's mean validation MSE), ``val_mse_softc``, and per
        problem ``val_mse_<problem>`` and ``val_mse_softc_<problem>``.

    Raises
    ------
    DataError
        If the state dict lacks a configured problem or network, its tensors do not fit the
        configured architecture, or a problem has no validation data.

    References
    ----------
    .. [1] Hansen et al., "Learning Physical Models that Can Respect Conservation Laws",
       ICML 2023, PMLR 202:12469-12510, Sec. 4.
    """
    try:
        states = unpack_states(state_dict)
    except ValueError:
        raise DataError("state dict keys are not problem/kind/name; not a probconserv state dict") from None
    out: dict[str, float] = {}
    for problem in config.problems:
        held = states.get(problem, {})
        missing = {"anp", "softc"} - set(held)
        if missing:
            raise DataError(f"state dict has no {sorted(missing)} network of problem {problem!r}; "
                            f"it holds problems {sorted(states)}")  # fmt: skip
        if problem not in val_data:
            raise DataError(f"no validation data for problem {problem!r}; write gpme/{problem}/val "
                            "with the gpme-data flow")  # fmt: skip
        nets = {k: _load_net(config, held[k], f"{problem}/{k}") for k in ("anp", "softc")}
        ds = val_data[problem].load()
        t = ds["t"].values
        i = int(np.argmin(np.abs(t - get_problem(problem).eval_time)))
        x, u, mass = ds["x"].values, ds["u"].values[:, i], ds["mass"].values[:, i]
        project = config.nonneg and problem in NONNEGATIVE_PROBLEMS
        mse: dict[str, list[float]] = {"anp": [], "softc": []}
        for j, param in enumerate(ds["param"].values):
            seed = validation_seed(problem, j)
            vs = _validation_set(problem, float(param), float(t[i]), x, u[j], float(mass[j]),
                                 config.n_test_functions, seed)  # fmt: skip
            draws = np.random.SeedSequence([seed, 7]).generate_state(2)
            for (kind, net), draw in zip(nets.items(), draws, strict=True):
                mean, std = predict_on_grid(net, vs, config.n_latent_samples, int(draw))
                if project:
                    mean = nonneg_projection(mean, std**2, vs.g, np.inf)
                mse[kind].append(float(np.mean(squared_error(mean, vs.u))))
        out[f"val_mse_{problem}"] = float(np.mean(mse["anp"]))
        out[f"val_mse_softc_{problem}"] = float(np.mean(mse["softc"]))
    out["val_mse"] = float(np.mean([out[f"val_mse_{p}"] for p in config.problems]))
    out["val_mse_softc"] = float(np.mean([out[f"val_mse_softc_{p}"] for p in config.problems]))
    out["score"] = out["val_mse"]
    return out


# ------------------------------------------------------------------------------------ evaluation
def evaluate_problem(
    problem: str,
    states: Mapping[str, Mapping[str, torch.Tensor]],
    config: ProbConservConfig,
    test_data: xr.Dataset | None = None,
    logger: Any = None,
) -> list[ParamResult]:
    """Predict, update and score every test value of ``problem`` with its trained networks.

    Parameters
    ----------
    problem : problem name.
    states : ``{"anp": state_dict, "softc": state_dict}`` from :func:`train_problem`.
    config : the settings (grid, latent samples, shock draws, ...).
    test_data : the ``gpme/<problem>/test`` dataset; where it holds a test value on the
        configured grid, its solution is the truth, else the exact solution is evaluated.
    logger : where to say which truth each value used (optional).

    Returns
    -------
    list of ParamResult, one per test value (the paper's, :attr:`GPMEProblem.test_values`).
    """
    anp, softc = new_anp(config, 0), new_anp(config, 0)
    anp.load_state_dict(states["anp"])
    softc.load_state_dict(states["softc"])
    spec = get_problem(problem)
    results = []
    for j, value in enumerate(spec.test_values):
        seed = evaluation_seed(config, problem, j)
        grid = test_grid_from_dataset(test_data, value, config.n_t, config.n_x)
        test = make_test_set(problem, value, config.n_test_functions, config.n_t, config.n_x,
                             seed=seed, grid=grid)  # fmt: skip
        results.append(
            evaluate_param(test, anp, softc, n_latent_samples=config.n_latent_samples,
                           sigma_g=config.sigma_g, n_shock_draws=config.n_shock_draws,
                           shock_level=config.shock_level, nonneg=config.nonneg,
                           refine=config.refine[problem], seed=seed)  # fmt: skip
        )
        if logger is not None:
            source = f"gpme/{problem}/test" if grid is not None else "exact solution"
            logger.info(f"{problem} {spec.param_name}={value:g}: truth from {source}")
    return results


def to_datasets(results: Iterable[ParamResult], config: ProbConservConfig) -> dict[str, xr.Dataset]:
    """``{"probconserv/predictions", "probconserv/metrics"[, "probconserv/shock"]}`` datasets of
    the evaluation results (shock: when a front problem, PME or Stefan, was evaluated)."""
    results = list(results)
    out = {
        "probconserv/predictions": to_dataset(results, "predictions", n_store_functions=config.n_store_functions),  # noqa: E501
        "probconserv/metrics": to_dataset(results, "metrics"),
    }
    if any(r.front_draws is not None for r in results):
        out["probconserv/shock"] = to_dataset(results, "shock")
    return out


def anp_test_mse(metrics: xr.Dataset) -> float:
    """Mean ANP MSE at the evaluation times over problems and test values (the retraining score)."""
    return float(np.nanmean(metrics["mse"].sel(model="ANP").values))


def metrics_table(metrics: xr.Dataset, shock: xr.Dataset | None = None) -> pd.DataFrame:
    """Headline table: MSE, CE, LL (with standard errors) and front error/coverage per model,
    problem and test value at the evaluation time."""
    cols = ["mse", "mse_se", "ce", "ll", "ll_se"]
    df = metrics[cols].to_dataframe().dropna(subset=["mse"])
    if shock is None:
        return df[cols].reset_index()
    front = ["front_error", "front_error_se", "front_coverage"]
    df = df.join(shock[front].to_dataframe()[front], how="left")
    return df[cols + front].reset_index()


# --------------------------------------------------------------------------------- whole recipe
@dataclass
class RunResult:
    """Everything one run of the experiment made."""

    states: dict[str, dict[str, dict[str, torch.Tensor]]]
    results: list[ParamResult]
    datasets: dict[str, xr.Dataset]

    @property
    def score(self) -> float:
        """:func:`anp_test_mse` of the run."""
        return anp_test_mse(self.datasets["probconserv/metrics"])


def run(
    config: ProbConservConfig,
    test_data: Mapping[str, xr.Dataset] | None = None,
    states: Mapping[str, Mapping[str, Mapping[str, torch.Tensor]]] | None = None,
    logger: Any = None,
) -> RunResult:
    """The whole experiment: train (unless ``states`` are given), evaluate, build the datasets.

    Parameters
    ----------
    config : the settings.
    test_data : ``{problem: gpme/<problem>/test dataset}`` to take the truth from (optional).
    states : trained networks per problem (a reused champion), else each problem is trained.
    logger : receives training progress and notes.

    Returns
    -------
    RunResult
    """
    test_data = test_data or {}
    if states is None:
        states = {p: train_problem(p, config, logger) for p in config.problems}
    results = [
        r for p in config.problems
        for r in evaluate_problem(p, states[p], config, test_data.get(p), logger)
    ]  # fmt: skip
    return RunResult({p: dict(states[p]) for p in config.problems}, results, to_datasets(results, config))
