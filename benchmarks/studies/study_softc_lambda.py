"""SoftC-ANP's penalty weight lambda, chosen on validation parameters (never the test values).

For one problem: train the fast-profile ANP once (seed as the flow's), fine-tune SoftC from it at
each lambda (the flow's steps, points and learning rate), and print the MSE at the evaluation
time on the validation values (20 functions each) next to the ANP's. The table in
docs/notes/probconserv-investigations.md (SoftC's lambda) comes from::

    python -m benchmarks.studies.study_softc_lambda pme --lambdas 0 1e-3 1e-2 1e-1 1

(lambda 0 is the ANP itself). Not part of ``make bench``: ~1 min CPU per problem plus ~10 s per
lambda.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from sciml.probconserv import make_test_set, train_softc
from sciml.probconserv.evaluate import evaluate_param
from sciml.probconserv.experiment import ProbConservConfig, new_anp, train_problem_anp

#: validation values inside each training range, as in the other validation studies
VALIDATION = {"diffusion": (2.0, 3.0, 4.0), "pme": (2.0, 4.0, 5.5), "stefan": (0.57, 0.62, 0.67)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("problem", choices=sorted(VALIDATION))
    parser.add_argument("--lambdas", type=float, nargs="+", default=[0.0, 1e-3, 1e-2, 1e-1, 1.0])
    parser.add_argument("--n-functions", type=int, default=20)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    problem = args.problem
    config = ProbConservConfig.for_profile("fast")
    cpu = time.process_time()
    anp, data, xc, xt, seed = train_problem_anp(problem, config)
    print(f"{problem}: ANP trained in {time.process_time() - cpu:.0f} s CPU", flush=True)
    tests = [
        make_test_set(problem, v, args.n_functions, config.n_t, config.n_x, seed=900 + j)
        for j, v in enumerate(VALIDATION[problem])
    ]
    print(f"| lambda | SoftC MSE at {', '.join(map(str, VALIDATION[problem]))} | ANP MSE |")
    for lam in args.lambdas:
        softc = new_anp(config, seed + 1)
        softc.load_state_dict(anp.state_dict())
        softc_lr = config.softc_lr or config.lr * config.lr_floor
        if lam > 0:
            train_softc(softc, problem, xc, data.y_context, xt, data.y_target, data.param,
                        n_steps=config.softc_steps, seed=seed + 1, weight=lam,
                        n_points=config.softc_points, batch_size=config.batch_size,
                        lr=softc_lr, lr_floor=config.lr_floor)  # fmt: skip
        soft, plain = [], []
        for j, test in enumerate(tests):
            r = evaluate_param(test, anp, softc, n_latent_samples=config.n_latent_samples,
                               sigma_g=config.sigma_g, n_shock_draws=50, shock_level=config.shock_level,
                               nonneg=config.nonneg, seed=900 + j)  # fmt: skip
            at_eval = r.mse_t[:, :, r.eval_index].mean(axis=1)  # (model,)
            soft.append(at_eval[r.models.index("SoftC-ANP")])
            plain.append(at_eval[r.models.index("ANP")])
        print(f"| {lam:g} | {' / '.join(f'{v:.1e}' for v in soft)} | "
              f"{' / '.join(f'{v:.1e}' for v in np.asarray(plain))} |", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
