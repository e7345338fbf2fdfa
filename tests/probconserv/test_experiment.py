"""The whole ProbConserv recipe on a tiny configuration: reproducible, reusable, comparable."""

from __future__ import annotations

import numpy as np
import pytest

from sciml.errors import DataError
from sciml.gpme import make_gpme_dataset, validation_parameters
from sciml.probconserv.experiment import (
    ProbConservConfig,
    champion_compatible,
    evaluation_seed,
    new_anp,
    pack_states,
    problem_seed,
    run,
    stored_config,
    unpack_states,
    validation_metrics,
    validation_seed,
)

pytestmark = pytest.mark.xdist_group("probconserv-experiment")  # one worker builds the module fixture

_CONFIG = ProbConservConfig.for_profile("tiny", problems=("stefan",), n_steps=10, softc_steps=2)


@pytest.fixture(scope="module")
def first():
    return run(_CONFIG)


def test_same_settings_give_the_same_arrays(first):
    again = run(_CONFIG)
    for name, ds in first.datasets.items():
        for var in ds.data_vars:
            np.testing.assert_array_equal(again.datasets[name][var].values, ds[var].values, err_msg=name)


def test_given_states_are_evaluated_not_retrained(first):
    reused = run(_CONFIG, states=first.states)
    assert reused.score == first.score
    other = run(_CONFIG.model_copy(update={"seed": 1}))
    assert other.score != first.score  # other training data and initial weights


def test_datasets_hold_every_model_and_test_value(first):
    met = first.datasets["probconserv/metrics"]
    assert set(first.datasets) == {"probconserv/predictions", "probconserv/metrics", "probconserv/shock"}
    assert list(met.model.values) == ["ANP", "ProbConserv-ANP", "HardC-ANP", "SoftC-ANP"]
    stefan = met.sel(problem="stefan").dropna("param", how="all", subset=["mse"])
    assert sorted(stefan.param.values) == [0.5, 0.6]  # the paper's Stefan test values
    assert first.score == pytest.approx(float(np.nanmean(met["mse"].sel(model="ANP").values)))


def test_seeds_are_distinct_per_problem_and_test_value():
    cfg = ProbConservConfig(seed=3)
    assert [problem_seed(cfg, p) for p in ("diffusion", "pme", "stefan")] == [30, 31, 32]
    seeds = {evaluation_seed(cfg, p, j) for p in ("diffusion", "pme", "stefan") for j in range(3)}
    assert len(seeds) == 9


def test_packed_states_round_trip_and_champion_compatibility(first):
    packed = pack_states(first.states)
    assert all(key.count("/") >= 2 for key in packed)
    states = unpack_states(packed)
    assert set(states) == {"stefan"} and set(states["stefan"]) == {"anp", "softc"}
    info = {"config": _CONFIG.model_dump(mode="json")}
    info["config"]["problems"] = list(info["config"]["problems"])
    assert champion_compatible(_CONFIG, info, states)
    assert not champion_compatible(_CONFIG.model_copy(update={"width": 32}), info, states)
    # another training seed is the same model settings: a retrained champion is reused
    assert champion_compatible(_CONFIG.model_copy(update={"seed": 5}), info, states)
    assert not champion_compatible(_CONFIG.model_copy(update={"problems": ("pme", "stefan")}), info, states)
    # versions saved before a setting existed carry its old default (raw inputs, mean pooling)
    assert stored_config({"config": {}})["n_fourier"] == 0


# validation functions of Stefan: u* drawn from the training range [0.55, 0.7], never a test value
_VAL = {"stefan": make_gpme_dataset("stefan", validation_parameters("stefan", 3, seed=2), 11, 21, "val")}


def test_validation_score_is_deterministic_and_trained_beats_its_initialisation(first):
    packed = pack_states(first.states)
    a, b = validation_metrics(_CONFIG, packed, _VAL), validation_metrics(_CONFIG, packed, _VAL)
    assert a == b and a["score"] == a["val_mse"] == a["val_mse_stefan"]
    # the networks before training (the same initial weights) score worse
    seed = problem_seed(_CONFIG, "stefan")
    init = pack_states({"stefan": {"anp": new_anp(_CONFIG, seed).state_dict(),
                                   "softc": new_anp(_CONFIG, seed + 1).state_dict()}})
    assert validation_metrics(_CONFIG, init, _VAL)["score"] > 1.5 * a["score"]
    # the validation draws do not move with the training seed (retraining shifts it)
    assert validation_metrics(_CONFIG.model_copy(update={"seed": 4}), packed, _VAL) == a
    assert validation_seed("stefan", 0) != validation_seed("stefan", 1) != validation_seed("pme", 1)


def test_validation_rejects_a_state_that_does_not_fit(first):
    packed = pack_states(first.states)
    with pytest.raises(DataError, match=r"stefan/anp does not fit the configured ANP \(width=8"):
        validation_metrics(_CONFIG.model_copy(update={"width": 8}), packed, _VAL)
    with pytest.raises(DataError, match="no \\['anp', 'softc'\\] network of problem 'pme'"):
        validation_metrics(_CONFIG.model_copy(update={"problems": ("pme", "stefan")}), packed, _VAL)
    with pytest.raises(DataError, match="no validation data for problem 'stefan'"):
        validation_metrics(_CONFIG, packed, {})


def test_the_hyperbolic_problems_run_through_the_recipe():
    """Advection and Burgers on the tiny profile: ProbConserv conserves where the ANP does not, and
    the front posterior sits against the closed-form fronts (1/2 + a t; Burgers: the ramp's foot
    at 0 for a = 1 before breaking at t = 1, the shock (3 t - 1)/2 = 0.25 for a = 3)."""
    cfg = ProbConservConfig.for_profile("tiny", problems=("advection", "burgers"), n_steps=10, softc_steps=2)
    res = run(cfg)
    met, shock = res.datasets["probconserv/metrics"], res.datasets["probconserv/shock"]
    for problem in cfg.problems:
        cell = met.sel(problem=problem).dropna("param", how="all", subset=["mse"])
        assert sorted(cell.param.values) == [1.0, 3.0]
        assert float(np.abs(cell["ce_t"].sel(model="ProbConserv-ANP")).max()) < 1e-10
        assert float(np.abs(cell["ce_t"].sel(model="ANP")).max()) > 1e-3
    fronts = shock["front_true"].sel(problem=["advection", "burgers"], param=[1.0, 3.0]).values
    np.testing.assert_allclose(fronts, [[0.6, 0.8], [0.0, 0.25]])
    assert met["eval_time"].sel(problem=["advection", "burgers"]).values.tolist() == [0.1, 0.5]
