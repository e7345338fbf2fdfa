r"""ProbConserv on a user's own conservation law: train or load an ANP, update, score, datasets.

Hansen, Maddix, Alizadeh, Gupta, Mahoney, "Learning Physical Models that Can Respect Conservation
Laws", ICML 2023 (arXiv 2302.11002), Sec. 3-4, applied to the inputs of
:mod:`~sciml.probconserv.user_data` (the user's solutions u(t, x) on their grid, their constraint
rows G, totals b(t) and noise sigma_G):

1. **Training** (:func:`train_user_anp`). Each training draw takes one of the training functions
   (split ``train`` or ``all``) and samples a context and a target set on its grid, like the
   GPME sets (:mod:`~sciml.probconserv.data`): ``n_context_t`` stratified times (one grid time in
   each of that many equal blocks of the t grid) crossed with ``n_context_x`` distinct grid x,
   sorted. Inputs are rescaled to :math:`[0, 1]^2` by the grid's ranges. The ANP is trained on
   the (beta-NLL) ELBO as for the GPME problems.
2. **Update** (:func:`evaluate_user`). For every test function, ``n_test_functions`` context
   draws; the ANP predicts mean and std on the whole grid (moment-matched over latents);
   ProbConserv conditions every time on :math:`G u = b(t)` with the per-time
   :math:`\sigma_G` (:func:`~sciml.probconserv.update.probconserv_update`, any number of rows);
   HardC projects the mean.
3. **Scores**: MSE and Gaussian log-likelihood per time against the user's u, the signed
   conservation error :math:`G\mu - b` of each row, and that of the user's own data
   (``ce_truth_t``: how well the data meet their constraint on this grid).
4. **Selection** (:func:`user_validation_metrics`): the ANP's MSE on the validation functions
   (split ``val``; the training functions when none is declared), never on the test functions.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import xarray as xr

from sciml.errors import DataError
from sciml.probconserv.evaluate import MODELS
from sciml.probconserv.experiment import ProbConservConfig, new_anp
from sciml.probconserv.hardc import hardc_projection
from sciml.probconserv.metrics import conservation_error, log_likelihood, mean_and_se, squared_error
from sciml.probconserv.model import AttentiveNeuralProcess, predict_anp, train_anp
from sciml.probconserv.update import probconserv_update
from sciml.probconserv.user_data import UserLaw

__all__ = [
    "USER_MODEL",
    "USER_MODELS",
    "UserResult",
    "evaluate_user",
    "run_user",
    "sample_grid_sets",
    "train_user_anp",
    "user_champion_compatible",
    "user_datasets",
    "user_law_of",
    "user_validation_metrics",
]

#: registry name of the models trained on a user's law
USER_MODEL = "probconserv/user"
#: the models of a user's law: no SoftC (its PDE residual needs the PDE, not only its totals)
USER_MODELS: tuple[str, ...] = MODELS[:3]
_USER_TAG = 4_242  # entropy tag of the user-law streams
_VALIDATION_TAG = 20_231_103
# the settings that define a trained network, besides the law's own (UserLaw.training_key)
_NET_FIELDS = ("width", "n_heads", "n_self_attention", "min_std", "n_fourier", "latent_pool",
               "n_train_functions", "batch_size", "lr", "lr_floor")  # fmt: skip


def _seed(*entropy: int) -> int:
    return int(np.random.SeedSequence([int(e) for e in entropy]).generate_state(1)[0])


def user_law_of(config: ProbConservConfig, inputs: xr.Dataset) -> UserLaw:
    """The law settings: ``config.data``, else those the inputs were made with (their attrs)."""
    if config.data is not None:
        return config.data
    import json

    stored = inputs.attrs.get("data_settings")
    if stored:
        return UserLaw.model_validate(json.loads(stored))
    return UserLaw(path=str(inputs.attrs.get("source_file", "inputs")), total=0.0)


def _functions(inputs: xr.Dataset, kinds: tuple[str, ...]) -> np.ndarray:
    return np.flatnonzero(np.isin(inputs["split"].values.astype(str), kinds))


def _normalise(points: np.ndarray, t: np.ndarray, x: np.ndarray) -> np.ndarray:
    """(t, x) columns rescaled to [0, 1] by the grid's ranges, float32."""
    lo = np.array([t[0], x[0]])
    span = np.array([t[-1] - t[0], x[-1] - x[0]])
    return ((np.asarray(points, dtype=np.float64) - lo) / span).astype(np.float32)


def sample_grid_sets(
    u: np.ndarray,
    t: np.ndarray,
    x: np.ndarray,
    functions: np.ndarray,
    n_t: int,
    n_x: int,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    r"""Grid point sets of the given functions: stratified times by sorted distinct x, with u.

    For draw :math:`i` of function :math:`f_i`, time index :math:`\lfloor e_k + U (e_{k+1} -
    e_k)\rfloor` in each block :math:`[e_k, e_{k+1})` of the :math:`T` grid times
    (:math:`e = \mathrm{linspace}(0, T, n_t + 1)`), crossed with :math:`n_x` distinct x indices
    drawn uniformly, sorted.

    Parameters
    ----------
    u : ndarray, shape (F, T, X), the solutions on the grid.
    t, x : ndarray, shapes (T,), (X,), the grid.
    functions : ndarray of int, shape (N,), the function of each draw.
    n_t, n_x : points per draw in t and x (capped at T and X).
    rng : numpy Generator.

    Returns
    -------
    inputs : ndarray, shape (N, n_t * n_x, 2), physical (t, x), t-major.
    values : ndarray, shape (N, n_t * n_x).
    """
    n = functions.size
    n_t, n_x = min(int(n_t), t.size), min(int(n_x), x.size)
    edges = np.linspace(0, t.size, n_t + 1)
    ti = np.floor(edges[:-1] + rng.uniform(size=(n, n_t)) * np.diff(edges)).astype(int)
    ti = np.clip(ti, 0, t.size - 1)
    xi = np.sort(np.argsort(rng.random((n, x.size)), axis=1)[:, :n_x], axis=1)
    values = u[functions[:, None, None], ti[:, :, None], xi[:, None, :]]
    tt = np.broadcast_to(t[ti][:, :, None], (n, n_t, n_x))
    xx = np.broadcast_to(x[xi][:, None, :], (n, n_t, n_x))
    return np.stack([tt, xx], axis=-1).reshape(n, n_t * n_x, 2), values.reshape(n, n_t * n_x)


def train_user_anp(
    config: ProbConservConfig, inputs: xr.Dataset, logger: Any = None
) -> dict[str, torch.Tensor]:
    """Train an ANP on the training functions of a user's inputs; returns its state dict.

    ``config.n_train_functions`` draws of context and target sets (:func:`sample_grid_sets`) over
    the training functions, ``law.n_steps`` steps of Adam on the (beta-NLL) ELBO, seed from
    ``config.seed``.
    """
    law = user_law_of(config, inputs)
    seed = _seed(config.seed, _USER_TAG)
    rng = np.random.default_rng(seed)
    train = _functions(inputs, ("train", "all"))
    t, x, u = inputs["t"].values, inputs["x"].values, inputs["u"].values
    which = rng.choice(train, size=config.n_train_functions)
    xc, yc = sample_grid_sets(u, t, x, which, law.n_context_t, law.n_context_x, rng)
    xt, yt = sample_grid_sets(u, t, x, which, law.n_context_t, law.n_context_x, rng)
    anp = new_anp(config, seed)
    train_anp(anp, _normalise(xc, t, x), yc, _normalise(xt, t, x), yt, n_steps=law.n_steps,
              batch_size=config.batch_size, lr=config.lr, seed=seed, logger=logger,
              desc="ANP user law", lr_floor=config.lr_floor, nll_beta=law.nll_beta)  # fmt: skip
    return anp.state_dict()


def _net(config: ProbConservConfig, state: Mapping[str, torch.Tensor]) -> AttentiveNeuralProcess:
    net = new_anp(config, 0)
    try:
        net.load_state_dict(dict(state))
    except RuntimeError as exc:
        first = " ".join(line.strip() for line in str(exc).strip().splitlines()[:2])
        raise DataError(
            f"state dict does not fit the configured ANP (width={config.width}, "
            f"n_heads={config.n_heads}, n_fourier={config.n_fourier}): {first}"
        ) from None
    return net.eval()


def _predict(net, inputs: xr.Dataset, f: int, law: UserLaw, n_contexts: int, n_latent: int, seed: int):
    """Mean and std (C, T, X) of the ANP on function ``f``'s grid from ``n_contexts`` context draws."""
    t, x, u = inputs["t"].values, inputs["x"].values, inputs["u"].values
    rng = np.random.default_rng(seed)
    xc, yc = sample_grid_sets(u, t, x, np.full(n_contexts, f), law.n_context_t, law.n_context_x, rng)
    tt, xx = np.meshgrid(t, x, indexing="ij")
    grid = _normalise(np.stack([tt.ravel(), xx.ravel()], axis=-1), t, x)
    mean, std = predict_anp(net, _normalise(xc, t, x), yc, grid, n_samples=n_latent,
                            seed=int(rng.integers(2**31)))  # fmt: skip
    return mean.reshape(n_contexts, t.size, x.size), std.reshape(n_contexts, t.size, x.size)


@dataclass
class UserResult:
    """Predictions and scores of every model on one test function of a user's law.

    Attributes
    ----------
    function : the function's label; models : model labels (M).
    mean, std : (M, C, T, X) over C context draws; mse_t, ll_t : (M, C, T); ce_t : (M, C, T, K).
    ce_truth_t : (T, K), G u - b of the user's own data.
    """

    function: Any
    models: tuple[str, ...]
    mean: np.ndarray
    std: np.ndarray
    mse_t: np.ndarray
    ll_t: np.ndarray
    ce_t: np.ndarray
    ce_truth_t: np.ndarray


def _ce(mean: np.ndarray, g: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Signed CE of every row: (..., T, K) = stack over k of G_k mean - b_k."""
    return np.stack([conservation_error(mean, g[k], b[..., k]) for k in range(g.shape[0])], axis=-1)


def evaluate_user(
    config: ProbConservConfig, state: Mapping[str, torch.Tensor], inputs: xr.Dataset
) -> list[UserResult]:
    """Predict with the ANP, apply ProbConserv and HardC, and score every test function.

    Parameters
    ----------
    config : the settings (``n_test_functions`` context draws, ``n_latent_samples``).
    state : the ANP's state dict.
    inputs : the user's inputs (:func:`~sciml.probconserv.user_data.validate_inputs` layout).

    Returns
    -------
    list of UserResult, one per function labelled ``test`` (or ``all``).
    """
    law = user_law_of(config, inputs)
    net = _net(config, state)
    g = inputs["g"].values
    sigma = inputs["sigma_g"].values
    out = []
    for j, f in enumerate(_functions(inputs, ("test", "all"))):
        seed = _seed(config.seed, _USER_TAG, 1, j)
        mean, std = _predict(net, inputs, int(f), law, config.n_test_functions, config.n_latent_samples, seed)
        u, b = inputs["u"].values[f], inputs["total"].values[f]  # (T, X), (T, K)
        post = probconserv_update(mean, std**2, g, b, sigma)
        h_mean, h_std = hardc_projection(mean, std, g, b)
        means, stds = np.stack([mean, post.mean, h_mean]), np.stack([std, post.std, h_std])
        out.append(UserResult(
            function=inputs["function"].values[f].item(), models=USER_MODELS, mean=means, std=stds,
            mse_t=squared_error(means, u), ll_t=log_likelihood(means, stds, u), ce_t=_ce(means, g, b),
            ce_truth_t=_ce(u, g, b),
        ))  # fmt: skip
    return out


def user_validation_metrics(
    config: ProbConservConfig, state: Mapping[str, torch.Tensor], inputs: xr.Dataset
) -> dict[str, float]:
    r"""Score an ANP on the validation functions of a user's law (never the test functions).

    The validation functions are those labelled ``val``; with none, the training functions.
    Each gets ``n_test_functions`` context draws with fixed seeds (independent of
    ``config.seed``, which retraining shifts); the score is the ANP's MSE over the whole grid,

    .. math:: \mathrm{MSE} = \frac{1}{F C T X}\sum_{f, c, t, x} (\mu_{fc}(t, x) - u_f(t, x))^2,

    and ``val_mse_pc`` the same of the ProbConserv posterior mean (recorded, not compared).

    Returns
    -------
    dict with ``score`` (= ``val_mse``), ``val_mse``, ``val_mse_pc``.

    Raises
    ------
    DataError
        If the state does not fit the configured architecture.
    """
    law = user_law_of(config, inputs)
    net = _net(config, state)
    which = _functions(inputs, ("val",))
    if which.size == 0:
        which = _functions(inputs, ("train", "all"))
    g, sigma = inputs["g"].values, inputs["sigma_g"].values
    anp, pc = [], []
    for j, f in enumerate(which):
        mean, std = _predict(net, inputs, int(f), law, config.n_test_functions, config.n_latent_samples,
                             _seed(_VALIDATION_TAG, _USER_TAG, j))  # fmt: skip
        u, b = inputs["u"].values[f], inputs["total"].values[f]
        anp.append(float(np.mean(squared_error(mean, u))))
        pc.append(float(np.mean(squared_error(probconserv_update(mean, std**2, g, b, sigma).mean, u))))
    return {"score": float(np.mean(anp)), "val_mse": float(np.mean(anp)), "val_mse_pc": float(np.mean(pc))}


def user_champion_compatible(config: ProbConservConfig, info: Mapping[str, Any], trained_digest: str | None,
                             inputs: xr.Dataset) -> bool:  # fmt: skip
    """Whether a stored user-law model can be reused: the same network and training settings
    (any seed) and trained on inputs of the same content (``trained_digest`` is the
    ``content_sha256`` of the inputs version it was trained on)."""
    stored = info.get("config", {})
    law = user_law_of(config, inputs)
    same_net = all(stored.get(k) == v for k, v in config.model_dump(mode="json").items() if k in _NET_FIELDS)
    stored_law = stored.get("data") or {}
    same_law = all(stored_law.get(k) == v for k, v in law.training_key().items())
    return same_net and same_law and trained_digest == inputs.attrs.get("content_sha256")


def user_datasets(results: list[UserResult], inputs: xr.Dataset) -> dict[str, xr.Dataset]:
    """``probconserv/user/predictions`` and ``probconserv/user/metrics`` of the evaluation.

    Predictions: ``mean``, ``std`` (model, function, context, t, x) and ``u_true`` (function, t,
    x) on the user's grid (physical ``t`` and ``x``, non-uniform x kept). Metrics: ``mse``,
    ``ll`` (model, function; mean over t, ``*_se`` over context draws), ``ce_max`` (model,
    function, constraint: the largest |CE| over t and context draws), curves ``mse_t``, ``ll_t``
    (model, function, t) and ``ce_t`` (model, function, constraint, t), ``ce_truth_t``
    (function, constraint, t), ``sigma_g`` (t, constraint).
    """
    if not results:
        raise DataError("user_datasets needs at least one result")
    models = list(results[0].models)
    coords = {
        "model": ("model", np.asarray(models, dtype=str)),
        "function": ("function", np.asarray([r.function for r in results])),
        "t": ("t", inputs["t"].values, dict(inputs["t"].attrs)),
        "x": ("x", inputs["x"].values, dict(inputs["x"].attrs)),
        "constraint": ("constraint", np.asarray(inputs["constraint"].values, dtype=str)),
    }
    test = [int(np.flatnonzero(inputs["function"].values == r.function)[0]) for r in results]
    attrs = {"reference": "Hansen et al., ICML 2023 (arXiv 2302.11002)",
             "inputs_version": str(inputs.attrs.get("catalog_version", "")),
             "inputs_sha256": str(inputs.attrs.get("content_sha256", ""))}  # fmt: skip
    pdims = ("model", "function", "context", "t", "x")
    n_c = results[0].mean.shape[1]
    preds = xr.Dataset(
        {
            "mean": (pdims, np.stack([r.mean for r in results], 1).astype(np.float32),
                     {"long_name": "predictive mean of u"}),
            "std": (pdims, np.stack([r.std for r in results], 1).astype(np.float32),
                    {"long_name": "predictive std of u (marginal)"}),
            "u_true": (("function", "t", "x"), inputs["u"].values[test], {"long_name": "the user's u"}),
        },
        coords={**coords, "context": ("context", np.arange(n_c))},
        attrs={**attrs, "description": "Predictive mean and std of each model on the user's grid, one "
               "context draw per 'context'; ProbConserv-ANP conditioned on G u = b."},
    )  # fmt: skip
    mse_c = np.stack([r.mse_t.mean(-1) for r in results], 1)  # (M, F, C)
    ll_c = np.stack([r.ll_t.mean(-1) for r in results], 1)
    mse, mse_se = mean_and_se(mse_c, axis=-1)
    ll, ll_se = mean_and_se(ll_c, axis=-1)
    ce = np.stack([r.ce_t for r in results], 1)  # (M, F, C, T, K)
    metrics = xr.Dataset(
        {
            "mse": (("model", "function"), mse, {"long_name": "MSE over the grid"}),
            "mse_se": (("model", "function"), mse_se, {"long_name": "standard error of mse"}),
            "ll": (("model", "function"), ll, {"long_name": "Gaussian log-likelihood per point"}),
            "ll_se": (("model", "function"), ll_se, {"long_name": "standard error of ll"}),
            "ce_max": (("model", "function", "constraint"), np.abs(ce).max(axis=(2, 3)),
                       {"long_name": "largest |G mu - b| over t and context draws"}),
            "mse_t": (("model", "function", "t"), np.stack([r.mse_t.mean(1) for r in results], 1),
                      {"long_name": "MSE vs t"}),
            "ll_t": (("model", "function", "t"), np.stack([r.ll_t.mean(1) for r in results], 1),
                     {"long_name": "log-likelihood vs t"}),
            "ce_t": (("model", "function", "constraint", "t"), np.moveaxis(ce.mean(2), -1, 2),
                     {"long_name": "conservation error G mu - b vs t (mean over context draws)"}),
            "ce_truth_t": (("function", "constraint", "t"), np.stack([r.ce_truth_t.T for r in results]),
                           {"long_name": "G u - b of the user's own data"}),
            "sigma_g": (("t", "constraint"), inputs["sigma_g"].values, {"long_name": "sigma_G used"}),
        },
        coords=coords,
        attrs={**attrs, "description": "Scores of each model on the user's test functions (means over "
               "context draws, *_se their standard errors)."},
    )  # fmt: skip
    return {"probconserv/user/predictions": preds, "probconserv/user/metrics": metrics}


def run_user(
    config: ProbConservConfig,
    inputs: xr.Dataset,
    state: Mapping[str, torch.Tensor] | None = None,
    logger: Any = None,
) -> tuple[dict[str, torch.Tensor], list[UserResult], dict[str, xr.Dataset]]:
    """The whole user-law recipe: train (unless ``state``), evaluate, build the datasets."""
    if state is None:
        state = train_user_anp(config, inputs, logger)
    results = evaluate_user(config, state, inputs)
    return dict(state), results, user_datasets(results, inputs)
