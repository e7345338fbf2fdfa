"""ProbConserv: an attentive neural process with a Bayesian conservation update.

Hansen, Maddix, Alizadeh, Gupta, Mahoney, "Learning Physical Models that Can Respect Conservation
Laws", ICML 2023 (arXiv 2302.11002). Black box: the Attentive Neural Process (Kim et al., ICLR
2019); update: Sec. 3, Eq. (6)-(7); baselines HardC / SoftC and metrics: Sec. 4.

Rooms: :mod:`~sciml.probconserv.data` (context/target and test sets), :mod:`~.model` (the ANP),
:mod:`~.update` (ProbConserv, one or several constraint rows), :mod:`~.hardc`, :mod:`~.softc`,
:mod:`~.postprocess` (non-negativity), :mod:`~.evaluate` and :mod:`~.metrics` (scores),
:mod:`~.experiment` (the whole recipe behind :class:`ProbConservConfig`), :mod:`~.plots`,
:mod:`~.datasets` (to xarray); a user's own conservation law: :mod:`~.user_data` (their file and
constraint, checked) and :mod:`~.user_experiment` (train or load, update, score).
"""

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
    MODELS,
    NONNEGATIVE_PROBLEMS,
    ParamResult,
    evaluate_param,
    evaluate_prediction,
    predict_on_grid,
)
from sciml.probconserv.experiment import (
    ProbConservConfig,
    RunResult,
    evaluate_problem,
    run,
    train_problem,
    validation_metrics,
)
from sciml.probconserv.hardc import hardc_projection
from sciml.probconserv.metrics import (
    conservation_error,
    log_likelihood,
    mean_and_se,
    shock_position,
    shock_summary,
    squared_error,
)
from sciml.probconserv.model import (
    AttentiveNeuralProcess,
    init_weights,
    moment_match,
    predict_anp,
    train_anp,
)
from sciml.probconserv.postprocess import nonneg_projection
from sciml.probconserv.softc import make_softc_penalty, pde_residual, train_softc
from sciml.probconserv.update import ConstrainedGaussian, probconserv_update
from sciml.probconserv.user_data import UserLaw, read_user_law, user_law_inputs, validate_inputs
from sciml.probconserv.user_experiment import (
    evaluate_user,
    run_user,
    train_user_anp,
    user_datasets,
    user_validation_metrics,
)

__all__ = [
    "ContextTargetSet",
    "TestSet",
    "make_test_set",
    "make_training_set",
    "normalise_inputs",
    "sample_points",
    "test_grid_from_dataset",
    "to_dataset",
    "MODELS",
    "NONNEGATIVE_PROBLEMS",
    "ParamResult",
    "evaluate_param",
    "evaluate_prediction",
    "evaluate_problem",
    "predict_on_grid",
    "ProbConservConfig",
    "RunResult",
    "run",
    "train_problem",
    "validation_metrics",
    "hardc_projection",
    "nonneg_projection",
    "conservation_error",
    "log_likelihood",
    "mean_and_se",
    "shock_position",
    "shock_summary",
    "squared_error",
    "AttentiveNeuralProcess",
    "init_weights",
    "moment_match",
    "predict_anp",
    "train_anp",
    "make_softc_penalty",
    "pde_residual",
    "train_softc",
    "ConstrainedGaussian",
    "probconserv_update",
    "UserLaw",
    "read_user_law",
    "user_law_inputs",
    "validate_inputs",
    "evaluate_user",
    "run_user",
    "train_user_anp",
    "user_datasets",
    "user_validation_metrics",
]
