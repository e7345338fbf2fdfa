"""LightSB: Gaussian check, mixture-benchmark grid, and cost per training step vs K and D.

Targets:
- Gaussian pair, D = 16, eps = 1, diagonal covariances: cBW2-UVP < 0.1 % within 30 s of training.
- Mixture pairs, D in {2, 16, 64, 128} x eps in {0.1, 1, 10}: cBW2-UVP < 1 % for D <= 64,
  reported for D = 128; fit time per cell < 2 min on CPU.
- Cost per training step vs K and D (O(B K D) for diagonal S_k).

Run: ``python -m benchmarks.bench_lightsb [--quick]`` (writes ``benchmarks/results/lightsb.md``).
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402

from benchmarks._common import header, write_fragment  # noqa: E402
from sciml.schrodinger import (  # noqa: E402
    LightSB,
    fit_lightsb,
    make_gaussian_pair,
    make_mixture_pair,
    run_cell,
    score_plan,
)

DIMS = (2, 16, 64, 128)
EPSILONS = (0.1, 1.0, 10.0)


def _se(v) -> float:
    v = np.asarray(v, dtype=float)
    return float(v.std(ddof=1) / np.sqrt(len(v))) if len(v) > 1 else float("nan")


def gaussian_check(seeds=(0, 1, 2)) -> tuple[str, bool]:
    rows, scores, times = [], [], []
    for s in seeds:
        pair = make_gaussian_pair(16, 1.0, seed=100 + s, diagonal=True)
        res = fit_lightsb(pair.sample_source, pair.sample_target, 1.0, n_components=1,
                          n_steps=1_500, batch_size=1_024, seed=s)
        sc = score_plan(res.model, pair, n_test=2_000, seed=s)
        scores.append(sc["cbw2_uvp"])
        times.append(res.fit_seconds)
        rows.append(f"| {s} | {sc['cbw2_uvp']:.4f} | {sc['bw2_uvp']:.4f} | {res.fit_seconds:.1f} |")
    ok = max(scores) < 0.1 and max(times) < 30
    text = (
        "### Gaussian pair, D = 16, eps = 1, diagonal covariances\n\n"
        "LightSB K = 1, diagonal S, 1,500 Adam steps, batch 1,024, fresh samples each step; "
        "scored with exact conditional moments on 2,000 test points.\n\n"
        "| seed | cBW2-UVP (%) | BW2-UVP (%) | fit (s) |\n|---|---|---|---|\n" + "\n".join(rows)
        + f"\n| mean ± s.e. | {np.mean(scores):.4f} ± {_se(scores):.4f} | | "
        f"{np.mean(times):.1f} ± {_se(times):.1f} |\n\n"
        f"Target cBW2-UVP < 0.1 % within 30 s: **{'pass' if ok else 'MISS'}** "
        f"(worst {max(scores):.4f} %, slowest {max(times):.1f} s).\n"
    )
    return text, ok


def mixture_grid(dims, epsilons, seeds, n_steps, batch_size, n_train,
                 steps_by_dim=None) -> tuple[str, bool]:
    steps_by_dim = steps_by_dim or {}
    res: dict[tuple[int, float], list[dict]] = {}
    for d in dims:
        for e in epsilons:
            pair = make_mixture_pair(d, e)
            for s in seeds:
                t0 = time.perf_counter()
                sc, _ = run_cell(d, e, s, pair=pair, n_train=n_train,
                                 n_steps=steps_by_dim.get(d, n_steps), batch_size=batch_size)
                sc["cell_seconds"] = time.perf_counter() - t0
                res.setdefault((d, e), []).append(sc)
                print(f"D={d} eps={e} seed={s}: {sc}", flush=True)
    head = "| D | " + " | ".join(f"eps={e:g}" for e in epsilons) + " |"
    sep = "|---|" + "---|" * len(epsilons)

    def cell(d, e, key, fmt):
        v = [r[key] for r in res[(d, e)]]
        se = _se(v)
        return fmt.format(np.mean(v)) + ("" if np.isnan(se) else " ± " + fmt.format(se))

    tabs = []
    for key, title, fmt in [("cbw2_uvp", "cBW2-UVP (%)", "{:.3f}"),
                            ("bw2_uvp", "BW2-UVP of the target marginal (%)", "{:.3f}"),
                            ("fit_seconds", "fit time (s)", "{:.1f}"),
                            ("cell_seconds", "whole cell: draws + fit + scoring (s)", "{:.1f}")]:
        rows = [f"| {d} | " + " | ".join(cell(d, e, key, fmt) for e in epsilons) + " |"
                for d in dims]
        tabs.append(f"**{title}**\n\n{head}\n{sep}\n" + "\n".join(rows))
    ok_small = all(np.mean([r["cbw2_uvp"] for r in res[(d, e)]]) < 1.0
                   for d in dims if d <= 64 for e in epsilons)
    ok_time = all(r["fit_seconds"] < 120 for v in res.values() for r in v)
    worst128 = max((np.mean([r["cbw2_uvp"] for r in res[(128, e)]]) for e in epsilons
                    if (128, e) in res), default=float("nan"))
    text = (
        "### Mixture benchmark grid\n\n"
        f"Pairs from `make_mixture_pair(D, eps, seed=0)` (3-component P0, 5-component plan); "
        f"LightSB K = 50, diagonal S_k, {n_steps} Adam steps"
        + "".join(f" ({v} for D = {k})" for k, v in steps_by_dim.items() if k in dims)
        + " (lr 0.02, cosine decay), batch "
        f"{batch_size}, {n_train:,} unpaired training draws per side; seeds {list(seeds)} "
        "(± is the standard error over seeds where there is more than one). cBW2-UVP from exact "
        "conditional moments at 1,000 test points.\n\n" + "\n\n".join(tabs) + "\n\n"
        f"- Target cBW2-UVP < 1 % for D <= 64: **{'pass' if ok_small else 'MISS'}**.\n"
        f"- D = 128 reported: worst cell {worst128:.3f} %.\n"
        f"- Target fit < 2 min per cell: **{'pass' if ok_time else 'MISS'}**.\n"
        "- The LightSB paper (Korotin et al. 2024, Table 2) reports LightSB well under 1 % in "
        "every cell of the authors' own benchmark pairs; these pairs are rebuilt from the same "
        "closed form with our own seed (the authors' stored pairs are a download, and nothing "
        "is downloaded at run time), so the comparison is of magnitude, cell by cell, not of identical "
        "numbers.\n"
    )
    return text, ok_small and ok_time


def step_cost(ks=(1, 10, 50, 100), dims=(2, 16, 64, 128), batch=1_024, reps=5,
              steps=20) -> str:
    torch.set_num_threads(1)
    g = torch.Generator().manual_seed(0)
    out = {}
    for cov, kk, dd in [("diagonal", ks, dims), ("full", (1, 10), (16, 64))]:
        for k in kk:
            for d in dd:
                m = LightSB(d, k, 1.0, cov=cov)
                opt = torch.optim.Adam(m.parameters(), lr=1e-3)
                x = torch.randn(batch, d, generator=g, dtype=torch.float64)
                y = torch.randn(batch, d, generator=g, dtype=torch.float64)
                ts = []
                for _ in range(reps):
                    t0 = time.perf_counter()
                    for _ in range(steps):
                        loss = m.loss(x, y)
                        opt.zero_grad()
                        loss.backward()
                        opt.step()
                    ts.append((time.perf_counter() - t0) / steps * 1e3)
                out[(cov, k, d)] = (float(np.median(ts)), _se(ts))
    lines = []
    for cov, kk, dd in [("diagonal", ks, dims), ("full", (1, 10), (16, 64))]:
        lines.append(f"**{cov} S_k** (ms per step, median of {reps} x {steps} steps, ± s.e.)\n")
        lines.append("| K \\ D | " + " | ".join(str(d) for d in dd) + " |")
        lines.append("|---|" + "---|" * len(dd))
        for k in kk:
            lines.append(f"| {k} | " + " | ".join(
                f"{out[(cov, k, d)][0]:.2f} ± {out[(cov, k, d)][1]:.2f}" for d in dd) + " |")
        lines.append("")
    big = out[("diagonal", max(ks), max(dims))][0]
    small = out[("diagonal", min(ks), min(dims))][0]
    return (
        f"### Cost per training step (batch {batch}, float64, 1 thread)\n\n" + "\n".join(lines)
        + f"\nDiagonal S_k: from (K, D) = ({min(ks)}, {min(dims)}) to ({max(ks)}, {max(dims)}) "
        f"the work B K D grows {max(ks) * max(dims) // (min(ks) * min(dims))}x and the step time "
        f"{big / small:.0f}x (fixed per-step overhead dominates small problems). Full S_k add the "
        "O(K D^3) matrix exponential of the rotations and O(B K D^2) rotations per step.\n"
    )


def main(quick: bool = False) -> str:
    torch.set_num_threads(1)
    t0 = time.perf_counter()
    g_text, _ = gaussian_check((0,) if quick else (0, 1, 2))
    print(g_text, flush=True)
    dims = (2, 16) if quick else DIMS
    m_text, _ = mixture_grid(dims, EPSILONS, (0,), n_steps=1_000 if quick else 3_000,
                             batch_size=1_024, n_train=20_000 if quick else 100_000,
                             steps_by_dim={128: 6_000})
    c_text = step_cost(reps=3 if quick else 5)
    total = time.perf_counter() - t0
    text = (
        header("Light Schrödinger Bridge")
        + "\nOn 2 cores; the wall time also holds whatever else ran on the machine. "
        f"Whole benchmark: {total / 60:.1f} min"
        f"{' (quick mode)' if quick else ''}.\n\n"
        + g_text + "\n" + m_text + "\n" + c_text
    )
    write_fragment("lightsb", text)
    return text


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="D in {2, 16}, fewer steps")
    main(ap.parse_args().quick)
