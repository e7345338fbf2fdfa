"""Flow ``gpme-data``: exact solutions of the ProbConserv problems as train/val/test zarr datasets.

The GPME problems (diffusion, PME, Stefan) and the hyperbolic ones (linear advection, Burgers).

Writes ``gpme/<problem>/train``, ``gpme/<problem>/val`` (validation parameters drawn from the
training range: what probconserv selects and re-scores champions on) and ``gpme/<problem>/test``
(dims ``function``, ``t``, ``x``; the parameter as coordinate ``param``). Science in
:mod:`sciml.gpme`.
"""

from __future__ import annotations

from typing import Literal

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from prefect import flow, task, unmapped  # noqa: E402
from pydantic import Field  # noqa: E402

from flows.artifacts import publish_metrics
from flows.common import (
    FlowConfig,
    Workflow,
    get_catalog,
    run_logger,
    write_dataset,
    write_figure,
)
from sciml.gpme import (  # noqa: E402
    get_problem,
    make_gpme_dataset,
    sample_parameters,
    total_mass,
    validation_parameters,
)

Problem = Literal["diffusion", "pme", "stefan", "advection", "burgers"]


class GPMEDataConfig(FlowConfig):
    """Grids and sizes of the GPME datasets (fast defaults; ``paper``: 201 x 201 grids)."""

    problems: tuple[Problem, ...] = ("diffusion", "pme", "stefan", "advection", "burgers")
    n_train_functions: int = Field(64, ge=1)
    n_val_functions: int = Field(8, ge=1)
    n_t: int = Field(101, ge=2)
    n_x: int = Field(101, ge=2)

    PROFILES = {
        "fast": {},
        "paper": {"n_train_functions": 1000, "n_val_functions": 16, "n_t": 201, "n_x": 201},
        "tiny": {"n_train_functions": 4, "n_val_functions": 3, "n_t": 11, "n_x": 21},
    }


def _problem_seed(config: GPMEDataConfig, problem: str) -> int:
    return config.seed + {"diffusion": 0, "pme": 1, "stefan": 2, "advection": 3, "burgers": 4}[problem]


def write_validation(problem: str, config: GPMEDataConfig) -> str:
    """Write ``gpme/<problem>/val``: exact solutions at ``n_val_functions`` validation parameters
    (:func:`~sciml.gpme.validation_parameters`); returns the name. Also used by probconserv when
    the dataset is missing (a data dir written before it existed)."""
    params = validation_parameters(problem, config.n_val_functions, _problem_seed(config, problem))
    val = make_gpme_dataset(problem, params, config.n_t, config.n_x, split="val")
    return write_dataset.fn(f"gpme/{problem}/val", val, config)


@task
def generate_problem(problem: str, config: GPMEDataConfig) -> dict[str, str]:
    """Generate and write the train, validation and test sets of one problem; returns their names."""
    spec = get_problem(problem)
    seed = _problem_seed(config, problem)
    train = make_gpme_dataset(
        problem,
        sample_parameters(problem, config.n_train_functions, seed),
        config.n_t,
        config.n_x,
        split="train",
    )
    test = make_gpme_dataset(
        problem, np.array(spec.test_values), config.n_t, config.n_x, split="test"
    )
    names = {"train": f"gpme/{problem}/train", "val": f"gpme/{problem}/val",
             "test": f"gpme/{problem}/test"}  # fmt: skip
    write_dataset.fn(names["train"], train, config)
    write_validation(problem, config)
    write_dataset.fn(names["test"], test, config)
    run_logger().info(
        f"{problem}: {train.sizes['function']} train / {config.n_val_functions} validation / "
        f"{test.sizes['function']} test functions "
        f"on {config.n_t} x {config.n_x} grids"
    )
    return names


def _summary(problem: str) -> tuple[dict, str]:
    """Conservation check of the exact test solutions: trapezoid U vs closed-form U at eval time."""
    ds = get_catalog().open(f"gpme/{problem}/test").load()
    spec = get_problem(problem)
    at = ds.sel(t=spec.eval_time, method="nearest")
    quad = total_mass(at.u.values, ds.x.values)
    rows = [
        {
            "problem": problem,
            "param": spec.param_name,
            "value": float(p),
            "t": float(at.t),
            "U exact": float(m),
            "U trapezoid": float(q),
            "abs diff": float(abs(q - m)),
        }
        for p, m, q in zip(at.param.values, at.mass.values, quad, strict=True)
    ]
    fig, ax = plt.subplots(figsize=(5, 3.2))
    for i in range(ds.sizes["function"]):
        ax.plot(ds.x, at.u.isel(function=i), label=f"{spec.param_name}={float(at.param[i]):g}")
    ax.set(
        xlabel="x",
        ylabel=f"u(t={float(at.t):.3g}, x)",
        title=f"GPME {problem}: exact test solutions",
    )
    ax.legend(fontsize=8)
    fig.tight_layout()
    return {"rows": rows}, write_figure(f"gpme/figures/{problem}_test_profiles", fig)


@flow(name="gpme-data", log_prints=True)
def gpme_data_flow(config: GPMEDataConfig | None = None) -> list[str]:
    """Write exact-solution train/val/test datasets for each GPME problem (fan-out over problems)."""
    config = config or GPMEDataConfig()
    futures = generate_problem.map(list(config.problems), config=unmapped(config))
    names = [n for f in futures for n in f.result().values()]
    rows, figures = [], []
    for problem in config.problems:
        summary, fig = _summary(problem)
        rows += summary["rows"]
        figures.append(fig)
    publish_metrics(
        "gpme-data-summary",
        pd.DataFrame(rows),
        "GPME exact solutions: conservation at eval time",
        figures=figures,
        notes="The trapezoid mass of an exact solution with a front (the Stefan, advection and Burgers "
        "jumps, the PME's vertical tangent) differs from U(t) on a finite grid: docs/gpme.md.",
    )
    return names


WORKFLOW = Workflow(name="gpme-data", flow=gpme_data_flow, config=GPMEDataConfig, retrain=None)
