"""Speed and accuracy of the chaos workflow; writes ``benchmarks/results/chaos.md``.

Run: ``python -m benchmarks.bench_chaos [--quick] [--only generation]`` (OMP_NUM_THREADS=1 is set
here; ``--only generation`` re-measures section 2 and keeps the other sections of the existing
fragment).

1. 1,000 Lorenz initial conditions x 10,000 output points in one batched DOP853 call vs a loop of
   ``scipy.integrate.solve_ivp(method="DOP853")`` at the same tolerance (the loop is timed on a
   random subset and extrapolated; the per-IC time's standard error is reported).
2. Whole benchmark generation (every flow and delay system: train/test x coarse/fine x
   clean/noisy) with two worker processes, against ``dysts``' own generator (its
   ``make_trajectory`` per system and series, DOP853 at the same tolerance, the same 12 periods,
   15 and 100 points per period, clean and noisy) timed in the same run on the systems both
   catalogues hold. The current dysts (0.96) conflicts with the project's pins (its ``gluonts``
   dependency wants pandas < 3), so it is installed apart: ``pip install --no-deps --target
   benchmarks/_work/dysts-site dysts gluonts sdeint pyarrow``; this script appends that folder to
   ``sys.path`` when it exists (a dysts in the environment itself, e.g. 0.95 from the ``bench``
   extra, wins; its noisy series need ``sdeint``).
3. Invariant estimation for the whole catalogue (time), and maximum exponents against literature
   values with their sources.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import os
import platform
import re
import subprocess
import sys
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")
_DYSTS_SITE = Path(__file__).resolve().parent / "_work" / "dysts-site"
if _DYSTS_SITE.is_dir() and str(_DYSTS_SITE) not in sys.path:
    sys.path.append(str(_DYSTS_SITE))  # appended: the project's own pins win

import numpy as np  # noqa: E402
from scipy.integrate import solve_ivp  # noqa: E402

from benchmarks._common import RESULTS, header, write_fragment  # noqa: E402
from sciml.chaos import (  # noqa: E402
    estimate_invariants,
    generate_many,
    get_system,
    list_systems,
    plan_chunks,
    solve_ode,
)
from sciml.chaos.polynomial import fit_polynomial  # noqa: E402
from sciml.chaos.systems import compiled_rhs  # noqa: E402

TOL = 1e-9
N_PERIODS = 12
PPP = (15, 100)
NOISE = 0.1
N_DYSTS_NOISY = 30


def _gen(names: list[str]) -> tuple[list[str], float, float, dict]:
    """One chunk through the batched generator; returns its names, CPU and wall s, dropped."""
    c, t = time.process_time(), time.perf_counter()
    _, dropped = generate_many([get_system(n) for n in names], rtol=TOL, atol=TOL, seed=0)
    return names, time.process_time() - c, time.perf_counter() - t, dropped


def _ours(names: list[str], workers: int) -> dict:
    """Generate the benchmark of ``names`` on ``workers`` processes: wall, summed CPU, dropped."""
    systems = [get_system(n) for n in names]
    n_flow = sum(1 for s in systems if s.kind == "flow" and not s.stiff)
    chunks = plan_chunks(systems, max_size=max(1, -(-n_flow // (2 * workers))))
    chunks.sort(key=len, reverse=True)
    t0 = time.perf_counter()
    with ProcessPoolExecutor(workers, initializer=_warm) as pool:
        gen = list(pool.map(_gen, chunks))
    wall = time.perf_counter() - t0
    kinds = {s.name: (s.kind, s.stiff) for s in systems}
    return {
        "wall": wall,
        "cpu": sum(g[1] for g in gen),
        "cpu_flows": sum(g[1] for g in gen if all(kinds[n] == ("flow", False) for n in g[0])),
        "dropped": {n: st for g in gen for n, st in g[3].items()},
    }


def _dysts_system(args: tuple[str, int]) -> dict:
    """dysts' own generator on one system: its 4 clean benchmark series, and one noisy series.

    The dysts model keeps its parameters, initial condition and step ``dt``; its period is set to
    ours so that both generators integrate the same 12-period span. Train starts from dysts' ``ic``,
    test from it scaled by 1 + 1e-3 (dysts' generator has no on-attractor sampling; ours does).
    The model's numba right-hand side is compiled by a warm-up call outside the timing.
    ``noisy`` >= 0 times the noisy series number ``noisy`` (train/test x coarse/fine order) of
    the four: dysts integrates every noisy series with sdeint on the same ``dt`` grid over the
    same span whatever the granularity (it resamples afterwards), so the four cost the same and
    the caller counts it four times.
    """
    name, noisy = args
    import dysts.flows

    warnings.filterwarnings("ignore")
    model = getattr(dysts.flows, name)()
    model.period = get_system(name).period
    ics = (np.asarray(model.ic, float), np.asarray(model.ic, float) * (1 + 1e-3))
    model.make_trajectory(20, pts_per_period=10, method="DOP853", rtol=TOL, atol=TOL)
    out = {"name": name, "clean": 0.0, "noisy": 0.0, "clean_wall": 0.0, "noisy_wall": 0.0,
           "failed": 0, "series": 0}
    for i, (ic, ppp) in enumerate((ic, ppp) for ic in ics for ppp in PPP):
        for kind in ("clean", "noisy") if i == noisy else ("clean",):
            c, t = time.process_time(), time.perf_counter()
            x = model.make_trajectory(
                N_PERIODS * ppp, pts_per_period=ppp, init_cond=ic, method="DOP853",
                rtol=TOL, atol=TOL, noise=NOISE if kind == "noisy" else 0.0)
            out[kind] += time.process_time() - c
            out[kind + "_wall"] += time.perf_counter() - t
            out["series"] += 1
            out["failed"] += int(x is None or not np.all(np.isfinite(x)))
    return out


_WARM_CODE = (
    "import numpy as np\n"
    "from sciml.chaos.integrate import poly_batch, solve_ode_compiled, solve_ode_poly, "
    "solve_sde_poly\n"
    "from sciml.chaos.systems._compiled import COMPILED_RHS\n"
    "pb = poly_batch([np.eye(4, 3, -1)], 3)\n"
    "solve_ode_poly(pb, np.ones((1, 3)), np.linspace(0, 1, 3))\n"
    "solve_sde_poly(pb, np.ones((1, 3)), np.linspace(0, 1, 3))\n"
    "solve_ode_compiled(COMPILED_RHS['Thomas'], np.ones((1, 3)), np.linspace(0, 1, 3), [0.2])\n"
)


def _warm() -> None:
    """Worker initializer: load the compiled kernels once per process, outside the timings
    (as dysts' numba right-hand sides are compiled by a warm-up call outside its timings)."""
    exec(_WARM_CODE, {})  # noqa: S102 - fixed code above


def _compile_times() -> dict:
    """Cold (empty numba cache) and warm (load from the on-disk cache) one-time cost of the
    compiled kernels and the 14 compiled right-hand sides, each in a fresh process."""
    code = ("import time\nt0 = time.perf_counter()\n" + _WARM_CODE
            + "print(time.perf_counter() - t0)\n")
    import tempfile

    res = {}
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, NUMBA_CACHE_DIR=tmp)
        for label in ("cold", "warm"):
            out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                                 text=True, check=True)
            res[label] = float(out.stdout.strip().splitlines()[-1])
    return res


def _reference_lorenz_loop(s, ics, t, rng, n_loop):
    per = []
    for i in rng.choice(len(ics), n_loop, replace=False):
        t1 = time.perf_counter()
        solve_ivp(lambda _t, y: s.rhs(y), (0, t[-1]), ics[i], method="DOP853", t_eval=t,
                  rtol=TOL, atol=TOL)
        per.append(time.perf_counter() - t1)
    return np.array(per)


def bench_lorenz(n_ics: int, n_loop: int) -> dict:
    s = get_system("Lorenz")
    rng = np.random.default_rng(0)
    ics = s.ic + rng.normal(scale=1.0, size=(n_ics, 3))
    t = np.arange(10_000) * 0.01
    t0 = time.perf_counter()
    res = solve_ode(s.rhs, ics, t, rtol=TOL, atol=TOL)
    batched = time.perf_counter() - t0
    per = _reference_lorenz_loop(s, ics, t, rng, n_loop)
    loop = per.mean() * n_ics
    loop_se = per.std(ddof=1) / np.sqrt(len(per)) * n_ics
    return {"batched": batched, "loop": loop, "loop_se": loop_se, "n_ics": n_ics,
            "n_loop": n_loop, "steps": float(res.n_steps.mean()), "ok": int(res.ok.sum())}


def section_lorenz(quick: bool) -> list[str]:
    lz = bench_lorenz(200 if quick else 1000, 5 if quick else 20)
    sp = lz["loop"] / lz["batched"]
    return ["### 1. Batched integration: Lorenz", "",
            f"{lz['n_ics']} initial conditions x 10,000 output points (dt = 0.01, t in [0, 100]; "
            f"{lz['steps']:.0f} adaptive DOP853 steps per trajectory on average).", "",
            "| integrator | wall time (s) |", "|---|---|",
            f"| batched `solve_ode` (DOP853, one call) | {lz['batched']:.2f} |",
            f"| loop of `solve_ivp(DOP853)` (extrapolated from {lz['n_loop']} ICs) | "
            f"{lz['loop']:.1f} ± {lz['loop_se']:.1f} |", "",
            f"Speed-up: **{sp:.0f}x** (target >= 50x: {'PASS' if sp >= 50 else 'FAIL'}).", ""]


def _se_ratio(num: np.ndarray, den: float, scale: float) -> tuple[float, float]:
    """Extrapolated total (mean x scale) and its standard error, divided by ``den``."""
    tot = num.mean() * scale
    se = num.std(ddof=1) / np.sqrt(num.size) * scale if num.size > 1 else float("nan")
    return tot / den, se / den


def section_generation(quick: bool, workers: int) -> list[str]:
    loadable, unloadable = [], []
    for n in list_systems():
        try:
            loadable.append((n, get_system(n).kind))
        except Exception as exc:  # noqa: BLE001 - reported in the results
            unloadable.append(f"{n} ({type(exc).__name__})")
    names = [n for n, k in loadable if k != "map"]
    if quick:
        names = names[:12]
    comp = _compile_times()
    flows = [get_system(n) for n in names if get_system(n).kind == "flow"]
    n_poly = sum(fit_polynomial(s.rhs, s.dim, s.ic, max_degree=4, max_monomials=600) is not None
                 for s in flows)
    n_comp = sum(compiled_rhs(s) is not None for s in flows)
    ours_all = _ours(names, workers)
    lines = ["### 2. Whole benchmark generation", "",
             f"{len(names)} flow/delay systems x train/test x coarse/fine x clean/noisy "
             f"({N_PERIODS} periods each; on-attractor ICs from a 10-period transient), "
             f"{workers} worker processes. Of the {len(flows)} flows, {n_poly} are polynomial "
             "(vector field verified to be a polynomial of degree <= 4) and run on the compiled "
             "polynomial kernels (`solve_ode_poly`, `solve_sde_poly`: DOP853 and Euler-Maruyama, "
             f"one kernel for all), {n_comp} have a compiled right-hand side "
             "(`solve_ode_compiled`, `solve_sde_compiled`, same kernels), "
             f"{len(flows) - n_poly - n_comp} use the numpy path; the "
             f"{len(names) - len(flows)} delay systems use the numpy method of steps.", "",
             "| measure | value |", "|---|---|",
             f"| wall time, {workers} processes (after the one-time load below) | "
             f"{ours_all['wall']:.1f} s |",
             f"| summed CPU time of the workers | {ours_all['cpu']:.1f} s "
             f"({ours_all['cpu_flows']:.1f} s non-stiff flows, "
             f"{ours_all['cpu'] - ours_all['cpu_flows']:.1f} s delay systems and stiff flows) |",
             f"| one-time numba cost (2 kernels + 14 compiled right-hand sides; `cache=True`), "
             f"outside the CPU sums above, once per worker process | cold (empty cache, once "
             f"per machine) {comp['cold']:.1f} s, warm (cache load) {comp['warm']:.2f} s wall |",
             f"| systems failed / dropped | {len(ours_all['dropped'])} |", ""]
    wall = ours_all["wall"]
    target_line = f"Target under 2 minutes wall: {'PASS' if wall < 120 else 'FAIL'} ({wall:.0f} s)."
    try:
        import dysts
        import dysts.flows
    except ImportError as exc:
        lines += [f"`dysts` could not be imported ({exc}); install it as described in this "
                  "script's docstring to time the reference.", "", target_line, ""]
        return lines
    shared = [n for n in names if hasattr(dysts.flows, n) and get_system(n).kind == "flow"]
    rng = np.random.default_rng(1)
    k_noisy = min(len(shared), 2 if quick else N_DYSTS_NOISY)
    noisy_sub = sorted(rng.choice(shared, k_noisy, replace=False).tolist())
    t0 = time.perf_counter()
    with ProcessPoolExecutor(workers) as pool:
        dy = list(pool.map(_dysts_system, [
            (n, noisy_sub.index(n) % 4 if n in noisy_sub else -1) for n in shared]))
    dy_wall = time.perf_counter() - t0
    ours_shared = _ours(shared, workers)
    ours_sub = _ours(noisy_sub, workers)
    clean_cpu = np.array([d["clean"] for d in dy])
    clean_wall = np.array([d["clean_wall"] for d in dy])
    # per system, all four noisy series (one timed, x4: see _dysts_system)
    noisy_cpu = np.array([4 * d["noisy"] for d in dy if d["name"] in noisy_sub])
    noisy_wall = np.array([4 * d["noisy_wall"] for d in dy if d["name"] in noisy_sub])
    sub_cpu = np.array([d["clean"] + 4 * d["noisy"] for d in dy if d["name"] in noisy_sub])
    failed = sum(d["failed"] for d in dy)
    n_series = sum(d["series"] for d in dy)
    # whole benchmark of the shared flows by dysts: all clean series measured, the noisy ones
    # extrapolated from the subset (mean per system x number of systems, with its standard error)
    noisy_tot = noisy_cpu.mean() * len(shared)
    noisy_se = noisy_cpu.std(ddof=1) / np.sqrt(noisy_cpu.size) * len(shared)
    dy_total = clean_cpu.sum() + noisy_tot
    dy_total_wall = clean_wall.sum() + noisy_wall.mean() * len(shared)
    r_sub = sub_cpu.sum() / ours_sub["cpu"]
    r_clean = clean_cpu.sum() / ours_shared["cpu"]
    r_total, r_total_se = dy_total / ours_shared["cpu"], noisy_se / ours_shared["cpu"]
    r_wall = dy_total_wall / workers / ours_shared["wall"]
    lines += [
        f"**Against dysts {importlib.metadata.version('dysts')}** "
        f"(its own `make_trajectory`, DOP853 at rtol = atol = {TOL:g}, {N_PERIODS} periods at "
        f"{PPP[0]} and {PPP[1]} points per period, train/test ICs, clean and noisy with noise "
        f"{NOISE}; dysts' noisy series come from its stochastic integrator, sdeint's Ito SRI2 "
        "scheme on the model's `dt` grid, which it uses whatever the `method`). Systems compared: "
        f"the **{len(shared)} flows both catalogues hold** (same names; dysts with its own "
        "parameters and IC, its period set to ours so that both cover the same time span). "
        f"dysts' clean series were timed on all {len(shared)}, its noisy series on a fixed random "
        f"subset of {k_noisy} (numpy seed 1: {', '.join(noisy_sub)}), one noisy series per "
        "system (the four cost the same in dysts: one sdeint run on the model's `dt` grid over "
        f"the same span, resampled afterwards; counted four times). Both on {workers} worker "
        f"processes; CPU = summed process time of the workers; dysts' numba right-hand sides "
        "compiled by a warm-up call outside its timing. "
        f"dysts series that failed (None or non-finite): {failed} of {n_series}.", "",
        "| comparison (same systems, same tolerance) | dysts | ours | speed-up |",
        "|---|---|---|---|",
        f"| {k_noisy}-flow subset, whole benchmark (8 series per system), CPU | "
        f"{sub_cpu.sum():.1f} s | {ours_sub['cpu']:.1f} s | **{r_sub:.0f}x** |",
        f"| {len(shared)} shared flows, whole benchmark (dysts' noisy part extrapolated from the "
        f"subset), CPU | {dy_total:.0f} ± {noisy_se:.0f} s | {ours_shared['cpu']:.1f} s | "
        f"**{r_total:.0f}x** ± {r_total_se:.0f} |",
        f"| {len(shared)} shared flows, wall on {workers} processes (dysts: summed series wall / "
        f"{workers}, noisy extrapolated) | {dy_total_wall / workers:.0f} s | "
        f"{ours_shared['wall']:.1f} s | **{r_wall:.0f}x** |",
        f"| same, ours including the one-time per-process load (import + numba cache) | "
        f"{dy_total_wall / workers:.0f} s | {ours_shared['wall'] + comp['warm']:.1f} s | "
        f"**{dy_total_wall / workers / (ours_shared['wall'] + comp['warm']):.0f}x** |",
        f"| {len(shared)} shared flows, dysts' **clean series only** vs our whole benchmark "
        f"(clean + noisy + IC transients), CPU | {clean_cpu.sum():.1f} s | "
        f"{ours_shared['cpu']:.1f} s | **{r_clean:.1f}x** |", "",
        f"dysts run wall time ({len(shared)} systems, {workers} processes, clean everywhere and "
        f"noisy on the subset): {dy_wall:.0f} s. Mean per system: clean {clean_cpu.mean():.2f} s "
        f"(4 series), noisy {noisy_cpu.mean():.2f} s (4 series) CPU.", "",
        target_line + f" Speed-up over dysts' own generator at equal tolerance, whole benchmark: "
        f"**{r_total:.0f}x** CPU, **{r_wall:.0f}x** wall (target >= 10x: "
        f"{'PASS' if r_total >= 10 else 'FAIL'}); on the clean series alone (ours still doing "
        f"everything): **{r_clean:.1f}x** ({'>=' if r_clean >= 10 else '<'} 10x).", ""]
    if ours_all["dropped"]:
        lines += ["Failed systems: " + "; ".join(f"{n} ({s})" for n, s in
                                                 ours_all["dropped"].items()), ""]
    if unloadable:
        lines += [f"Systems that could not be loaded from the catalogue ({len(unloadable)}): "
                  + ", ".join(unloadable), ""]
    return lines


def section_invariants(quick: bool, workers: int) -> list[str]:
    inv_names = list_systems()
    if quick:
        inv_names = inv_names[:8]
    t0 = time.perf_counter()
    with ProcessPoolExecutor(workers) as pool:
        inv = list(pool.map(_inv, inv_names))
    inv_wall = time.perf_counter() - t0
    rows = ["| system | kind | dim | λ_max QR (± se) | λ_max two-traj | literature | "
            "rel. diff | KY | flags | source |", "|---|---|---|---|---|---|---|---|---|---|"]
    rel = []
    for name, _, r in inv:
        if isinstance(r, str):
            rows.append(f"| {name} | | | failed: {r} | | | | | | |")
            continue
        s = get_system(name)
        lit = s.metadata.get("lyapunov_max_literature")
        d = ""
        if lit is not None and np.isfinite(r["lyapunov_max"]) and float(lit) != 0:
            dd = (r["lyapunov_max"] - float(lit)) / abs(float(lit))
            rel.append(dd)
            d = f"{dd:+.0%}"
        src = str(s.metadata.get("lyapunov_source", "")).replace("|", "/")[:70]
        rows.append(
            f"| {name} | {r['kind']} | {r['dim']} | {r['lyapunov_max']:.4g} ± "
            f"{r['lyapunov_max_se']:.2g} | {r['lyapunov_max_two_traj']:.4g} | "
            f"{'' if lit is None else f'{float(lit):.4g}'} | {d} | {r['kaplan_yorke']:.3g} | "
            f"{','.join(r['flags'])} | {src} |")
    rel = np.array(rel)
    within = float(np.mean(np.abs(rel) <= 0.15)) if rel.size else float("nan")
    return ["### 3. Invariants of the whole catalogue", "",
            f"{len(inv_names)} systems, 3 ICs each, 40 periods of QR (4 QR steps per period) "
            f"and of two-trajectory divergence, 40-period trajectories for D2 and the period: "
            f"wall **{inv_wall:.0f} s** with {workers} processes "
            f"({sum(i[1] for i in inv):.0f} s CPU).", "",
            f"Maximum exponents with a literature value: {rel.size}; within 15%: "
            f"{within:.0%}; median |relative difference| "
            f"{np.median(np.abs(rel)) if rel.size else float('nan'):.1%}.", "", *rows, ""]


def _inv(name: str) -> tuple[str, float, dict | str]:
    t = time.process_time()
    try:
        res = estimate_invariants(get_system(name), n_ics=3, n_periods=40, corr_periods=40,
                                  n_iter=5000)
    except Exception as exc:  # noqa: BLE001
        res = f"{type(exc).__name__}: {str(exc)[:80]}"
    return name, time.process_time() - t, res


def _old_sections() -> dict:
    """Sections of the existing fragment by number ("1".."3"): (text, when measured); "when":
    the date and revision of the fragment's header."""
    path = RESULTS / "chaos.md"
    if not path.exists():
        return {}
    text = path.read_text()
    parts = re.split(r"(?m)^(?=### \d\. )", text)
    when = re.search(r"(?m)^_Measured (.*?) on .*?, (git \w+)\._$", parts[0])
    out = {"when": f"{when.group(1)}, {when.group(2)}" if when else "an earlier run"}
    for part in parts[1:]:
        body = re.sub(r"(?ms)^Benchmark run time:.*\Z", "", part)
        m = re.search(r"(?m)^_\(Section \d measured (.*?); not re-measured in this run\.\)_$",
                      body)
        out[part[4]] = (body, m.group(1) if m else None)
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="subsets only (smoke run)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--only", choices=["lorenz", "generation", "invariants"],
                    help="re-measure one section, keep the others from the existing fragment")
    args = ap.parse_args(argv)
    start = time.perf_counter()
    old = _old_sections() if args.only else {}
    lines = [header("Chaos: batched integration, benchmark generation, invariants"),
             f"2-core budget, numpy "
             f"{np.__version__}, {platform.machine()}. Tolerance rtol = atol = {TOL:g} for every "
             "generation/integration timing.", ""]
    sections = [("1", "lorenz", lambda: section_lorenz(args.quick)),
                ("2", "generation", lambda: section_generation(args.quick, args.workers)),
                ("3", "invariants", lambda: section_invariants(args.quick, args.workers))]
    for key, label, run in sections:
        if args.only and args.only != label and key in old:
            text, when = old[key]
            text = re.sub(r"(?m)^_\(Section \d measured .*\)_\n?", "", text).rstrip()
            lines += [text, "", f"_(Section {key} measured {when or old['when']}; not re-measured "
                      "in this run.)_", ""]
            continue
        part = run()
        print("\n".join(part), flush=True)
        lines += part
    lines += [f"Benchmark run time: {time.perf_counter() - start:.0f} s"
              + (f" (section {args.only} only)." if args.only else "."), ""]
    write_fragment("chaos", "\n".join(lines))


if __name__ == "__main__":
    main()
