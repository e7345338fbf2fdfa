"""The PME front at the top of the training range, on validation parameters (never the test values).

For each variant of the PME ANP's training (steps, Beta(a, a) draw of m, Fourier octaves, beta-NLL)
and each training seed: train the ANP as the flow does (seed ``10 s + 1``), then evaluate ANP and
ProbConserv-ANP at m in {2, 4, 5.5, 5.8} with :func:`benchmarks.bench_probconserv.validation_pme`
(the bench's contexts). Prints, per variant and m, the ANP's CE, MSE / LL / front error of both
models and the front-error difference, mean ± standard error over seeds. The variant table of
docs/notes/probconserv-investigations.md comes from::

    python -m benchmarks.studies.study_pme_front --seeds 0 1 2

Not part of ``make bench``: 45-145 s CPU per variant and seed (one torch thread), plus ~10 s of
evaluation.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from benchmarks.bench_probconserv import _VALIDATION_PME, _se, validation_pme
from sciml.probconserv.experiment import ProbConservConfig, train_problem_anp

#: training variants of the PME ANP: fast-profile overrides (a number sets every problem; only PME trains)
VARIANTS: dict[str, dict] = {
    "third-pass default (uniform m, 1,600 steps)": {"n_steps": 1600, "param_beta": 1.0},
    "3,200 steps": {"n_steps": 3200, "param_beta": 1.0},
    "4,800 steps": {"n_steps": 4800, "param_beta": 1.0},
    "Beta(0.5, 0.5), 1,600 steps": {"n_steps": 1600, "param_beta": 0.5},
    "Beta(0.5, 0.5), 3,200 steps": {"n_steps": 3200, "param_beta": 0.5},
    "Beta(0.5, 0.5), 4,800 steps (adopted)": {"n_steps": 4800, "param_beta": 0.5},
    "Beta(0.7, 0.7), 1,600 steps": {"n_steps": 1600, "param_beta": 0.7},
    "K = 8, 1,600 steps": {"n_steps": 1600, "param_beta": 1.0, "n_fourier": 8},
    "beta-NLL 1.0, 1,600 steps": {"n_steps": 1600, "param_beta": 1.0, "nll_beta": {"pme": 1.0}},
}


def _cell(values: list[float], scale: float = 1.0) -> str:
    return f"{np.mean(values) * scale:.4g} ± {_se(values) * scale:.2g}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--variants", nargs="+", choices=sorted(VARIANTS), default=sorted(VARIANTS))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    print("| variant | m | seeds | ANP CPU s | ANP CE (e-3) | MSE ANP / PC (e-3) | LL ANP / PC "
          "| front error ANP / PC | Δ front error |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name in args.variants:
        variant = VARIANTS[name]
        runs, cpu = [], []
        for seed in args.seeds:
            config = ProbConservConfig.for_profile("fast", seed=seed, **variant)
            start = time.process_time()
            anp = train_problem_anp("pme", config).anp
            cpu.append(time.process_time() - start)
            runs.append(validation_pme(config, {"anp": anp.state_dict()}, seed))
        for value in _VALIDATION_PME:
            rows = [r[value] for r in runs]

            def per_model(key: str, scale: float = 1.0, rows=rows) -> str:
                return " / ".join(_cell([r[(m, key)] for r in rows], scale)
                                  for m in ("ANP", "ProbConserv-ANP"))  # fmt: skip

            dfront = [r[("ProbConserv-ANP", "front_error")] - r[("ANP", "front_error")] for r in rows]
            print(f"| {name} | {value:g} | {len(rows)} | {np.mean(cpu):.0f} "
                  f"| {_cell([float(r['ce'].mean()) for r in rows], 1e3)} | {per_model('mse', 1e3)} "
                  f"| {per_model('ll')} | {per_model('front_error')} | {_cell(dfront)} |",
                  flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
