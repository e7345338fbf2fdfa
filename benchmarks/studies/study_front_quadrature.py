"""Does ProbConserv's front gain follow the grid truth's own conservation error? (validation values)

The update conditions the grid values on ``G u = U(t)`` with the trapezoid row G and the exact
total U(t). On a finite grid the exact solution itself misses that constraint
(NOTES.md): at a Stefan front (a jump from u* to 0 at x*) the trapezoid rule counts
``dx u* (1/2 - theta)`` too much in the cell that holds x*, where theta = (x* - x_left) / dx is the
front's place in its cell; at a PME front (a vertical tangent on a grid node for every m > 1) it
counts too little. An ANP that matches the grid truth inherits that error, and the update, whose
shift has the sign of ``U(t) - G mu`` at every point (docs/notes/probconserv-investigations.md), moves
its front left where the grid truth over-counts and right where it under-counts.

For each training seed, the ANP is trained as the flow does; then at validation values of the
parameter (Stefan u* across [0.555, 0.695], so theta sweeps its cell many times; PME m in
{2, 4, 5.5, 5.8}) three black boxes, all with the ANP's std, are updated and scored by
:func:`evaluate_prediction`:

* ``anp``: the ANP itself;
* ``plateau``: the exact solution up to one cell behind the front (x <= x*(t) - dx), the ANP's
  mean from there on — an ANP whose only error is its smooth front;
* ``oracle``: the exact solution on the grid — a perfect black box, so whatever the update does
  to it comes from the constraint alone.

With ``--b-grid`` the constraint's right-hand side is the trapezoid integral of the exact grid
solution instead of U(t): a constraint the grid truth satisfies exactly (only possible in a
benchmark, where the solution is known), to show what the update does once the quadrature
error is taken out.

With ``--refine R1 R2 ...`` each black box is also built on the x grid refined R times (the ANP
queried there, the exact solution evaluated there) and ProbConserv conditions on the refined
grid's trapezoid row (:mod:`sciml.probconserv.refine`); every factor is scored on the same
trained ANP and contexts (1: the evaluation grid). The truth CE column is then that of the
refined grid.

Prints per value theta, the truth's CE, each black box's CE and the ProbConserv - black box
differences of MSE and front error (mean ± standard error over seeds), then per black box the
correlation of its front-error difference with the truth's CE. docs/notes/probconserv-investigations.md
quotes::

    python -m benchmarks.studies.study_front_quadrature --seeds 0 1 2

Not part of ``make bench``: training 50 s (Stefan) and 170 s (PME) CPU per seed, plus ~3 s of
evaluation per value and seed.
"""

from __future__ import annotations

import argparse
from dataclasses import replace

import numpy as np
import torch

from benchmarks.bench_probconserv import _VALIDATION_PME, _se
from sciml.gpme import exact_solution, front_position, get_problem, trapezoid_weights
from sciml.probconserv import evaluate_prediction, make_test_set, predict_on_grid
from sciml.probconserv.evaluate import predict_refined
from sciml.probconserv.experiment import ProbConservConfig, train_problem_anp
from sciml.probconserv.refine import coarse_nodes, refined_grid

#: validation values: Stefan u* on a fine grid of its training range [0.55, 0.7] (not the test
#: value 0.6), PME m as in the bench
VALUES = {
    "stefan": tuple(float(v) for v in np.round(np.arange(0.555, 0.6951, 0.01), 3)),
    "pme": _VALIDATION_PME,
}


#: the black boxes the update is applied to (see the module docstring)
BOXES = ("anp", "plateau", "oracle")


def _scores(r, e: int) -> dict[str, float]:
    """The black box's CE and front error, and ProbConserv - black box differences of MSE and
    front error, at the evaluation time (means over the test functions)."""
    front = r.front_draws[:2].mean(axis=-1)  # (2 models, F): posterior-mean fronts
    err = np.abs(front - r.front_true).mean(axis=-1)
    return {
        "ce": float(r.ce_t[0, :, e].mean()),
        "d_mse": float(r.mse_t[1, :, e].mean() - r.mse_t[0, :, e].mean()),
        "d_front": float(err[1] - err[0]),
        "front": float(err[0]),
    }


def _boxes(problem: str, value: float, test, x: np.ndarray, mean: np.ndarray) -> dict[str, np.ndarray]:
    """The three black boxes' means on the grid ``x`` (the evaluation grid or a refined one)."""
    truth = np.broadcast_to(exact_solution(problem, [value], test.t, x)[0], mean.shape)
    dx = test.x[1] - test.x[0]  # one cell of the evaluation grid
    x_star_t = front_position(problem, [value], test.t)[0]  # (T,)
    behind = x[None, :] <= x_star_t[:, None] - dx + 1e-12  # (T, X)
    return {"anp": mean, "plateau": np.where(behind, truth, mean), "oracle": truth}


def study(
    problem: str,
    seeds: list[int],
    n_functions: int,
    sigma_g: float | None = None,
    b_grid: bool = False,
    refine: tuple[int, ...] = (1,),
    values: tuple[float, ...] | None = None,
) -> dict[int, list[dict]]:
    """Per refinement factor and validation value: theta, the truth's CE against U(t) and per
    seed the scores of each black box (ProbConserv with the config's sigma_G, or ``sigma_g``
    where given; with ``b_grid`` conditioned on G u = G u_exact instead of G u = U(t))."""
    values = VALUES[problem] if values is None else values
    out = {r: [{"value": v, **{box: [] for box in BOXES}} for v in values] for r in refine}
    for seed in seeds:
        config = ProbConservConfig.for_profile("fast", seed=seed)
        anp = train_problem_anp(problem, config).anp
        for j, value in enumerate(values):
            sub = int(np.random.SeedSequence([seed, 5, 400 + j]).generate_state(1)[0])
            exact = make_test_set(problem, value, n_functions, config.n_t, config.n_x, seed=sub)
            test = replace(exact, mass=exact.u @ exact.g) if b_grid else exact
            kw = dict(sigma_g=config.sigma_g if sigma_g is None else sigma_g,
                      n_shock_draws=config.n_shock_draws, shock_level=config.shock_level,
                      nonneg=config.nonneg, seed=sub)  # fmt: skip
            for factor in refine:
                row = out[factor][j]
                if factor == 1:
                    mean, std = predict_on_grid(anp, test, config.n_latent_samples, sub)
                    boxes = _boxes(problem, value, test, test.x, mean)
                    fine = {box: None for box in boxes}
                    x_c = test.x
                else:
                    x_f = refined_grid(test.x, factor)
                    f_mean, f_std = predict_refined(anp, test, factor, config.n_latent_samples, sub)
                    nodes = coarse_nodes(test.x.size, factor)
                    fine = {box: (m, f_std) for box, m in _boxes(problem, value, test, x_f, f_mean).items()}
                    boxes = {box: m[..., nodes] for box, (m, _) in fine.items()}
                    std, x_c = f_std[..., nodes], x_f
                for box, m in boxes.items():
                    r = evaluate_prediction(test, (m, std), refine=factor, fine_box=fine[box], **kw)
                    row[box].append(_scores(r, r.eval_index))
                e = r.eval_index
                x_star = front_position(problem, [value], [test.t[e]])[0, 0]
                row["theta"] = (x_star - test.x[0]) / (test.x[1] - test.x[0]) % 1.0
                u_c = exact_solution(problem, [value], [test.t[e]], x_c)[0, 0]
                row["ce_truth"] = float(u_c @ trapezoid_weights(x_c) - exact.mass[e])
    return out


def _cell(runs: list[dict], key: str, scale: float = 1.0, digits: str = ".2f") -> str:
    v = [r[key] * scale for r in runs]
    return f"{np.mean(v):+{digits}} ± {_se(v):{digits}}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--problems", nargs="+", choices=sorted(VALUES), default=["stefan", "pme"])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--n-functions", type=int, default=10)
    parser.add_argument("--b-grid", action="store_true",
                        help="condition on G u = G u_exact (the grid truth's total) instead of U(t)")
    parser.add_argument("--sigma-g", type=float, default=None,
                        help="ProbConserv's constraint noise std (default: the config's, 0)")
    parser.add_argument("--refine", type=int, nargs="+", default=[1],
                        help="x refinement factors of ProbConserv's constraint grid (1: the evaluation grid)")
    parser.add_argument("--every", type=int, default=1, help="use every n-th validation value")  # fmt: skip
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    for problem in args.problems:
        values = VALUES[problem][:: args.every]
        by_factor = study(problem, args.seeds, args.n_functions, args.sigma_g, args.b_grid,
                          tuple(args.refine), values)  # fmt: skip
        for factor, rows in by_factor.items():
            _print(problem, factor, rows, args)


def _print(problem: str, factor: int, rows: list[dict], args: argparse.Namespace) -> None:
    print(f"\n{problem}: ProbConserv - black box at t = {get_problem(problem).eval_time}, "
          f"{len(args.seeds)} seeds x {args.n_functions} functions, sigma_G = "
          f"{args.sigma_g or 0:g}, b = {'G u_exact' if args.b_grid else 'U(t)'}, constraint grid "
          f"refined {factor}x (CE, Δ MSE in 1e-3)\n")  # fmt: skip
    print("| value | theta | truth CE | CE ANP / plateau | front error ANP / plateau / oracle "
          + "".join(f"| Δ MSE ({b}) | Δ front error ({b}) " for b in BOXES) + "|")
    print("|---|---|---|---|---|" + "---|---|" * len(BOXES))
    for row in rows:
        cells = "".join(f"| {_cell(row[b], 'd_mse', 1e3, '.3f')} "
                        f"| {_cell(row[b], 'd_front', 1.0, '.4f')} " for b in BOXES)
        print(f"| {row['value']:g} | {row['theta']:.2f} | {row['ce_truth'] * 1e3:+.2f} "
              f"| {_cell(row['anp'], 'ce', 1e3)} / {_cell(row['plateau'], 'ce', 1e3)} "
              f"| {' / '.join(_cell(row[b], 'front', 1.0, '.4f') for b in BOXES)} {cells}|",
              flush=True)  # fmt: skip
    ce_truth = np.array([row["ce_truth"] for row in rows])
    for box in BOXES:
        d = np.array([np.mean([s["d_front"] for s in row[box]]) for row in rows])
        lower = d < 0
        print(f"\n{box}: corr(Δ front error, truth CE) = "
              f"{np.corrcoef(d, ce_truth)[0, 1]:+.2f} over {len(rows)} values; front error "
              f"lower at {lower[ce_truth > 0].sum()} of {(ce_truth > 0).sum()} values with "
              f"truth CE > 0 and {lower[ce_truth <= 0].sum()} of {(ce_truth <= 0).sum()} "
              "with truth CE <= 0")  # fmt: skip


if __name__ == "__main__":
    main()
