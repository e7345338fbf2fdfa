"""Benchmark of the thermoacoustic workflow against its targets.

Runs the fast default experiment (simulate, train both Bayesian models and the baselines, forecast,
oracle, studies) on this machine and writes ``benchmarks/results/thermoacoustic.md`` with every
measured figure, standard errors (across held-out runs, or bootstrap over oracle states) and
pass/fail per target. ``python -m benchmarks.bench_thermoacoustic [--oracle-states N]``.
"""

from __future__ import annotations

import argparse
import os
import resource
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402

from benchmarks._common import header, write_fragment  # noqa: E402
from sciml.thermoacoustic import (  # noqa: E402
    ThermoacousticConfig,
    ablation_study,
    attribution_study,
    evaluate,
    failure_study,
    oracle_study,
    predict_all,
    prepare,
    simulate_dataset,
    train_forecasters,
)
from sciml.uq import central_interval, crps_gaussian  # noqa: E402

# "aleatoric stays comparable": mean aleatoric std after the failure within a
# factor 1.5 of the nominal one, either way
ALE_BAND = (1 / 1.5, 1.5)


def _per_run(prep, fc, h=-1):
    w = prep.windows["test"]
    rows = []
    for r in np.unique(w.run):
        m = w.run == r
        y, mu, sd = w.y[m, h], fc.mean[m, h], np.maximum(fc.std[m, h], 1e-9)
        lo, hi = central_interval(mu, sd, 0.9)
        rows.append((np.mean((mu - y) ** 2), np.mean(crps_gaussian(y, mu, sd)),
                     np.mean((y >= lo) & (y <= hi))))
    return np.array(rows)


def _se(x):
    return float(np.std(x, ddof=1) / np.sqrt(len(x)))


def _run(cfg: ThermoacousticConfig) -> dict:
    """The fast experiment step by step, each stage timed (wall, process CPU, peak RSS)."""
    t = {}  # stage -> (wall s, process CPU s, peak RSS so far MiB)
    clock = [time.perf_counter(), time.process_time()]

    def lap(name):
        w, c = time.perf_counter(), time.process_time()
        t[name] = (w - clock[0], c - clock[1], resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
        clock[:] = [w, c]

    t0, c0 = time.perf_counter(), time.process_time()
    ds = simulate_dataset(cfg)
    lap("simulate")
    prep = prepare(ds, cfg)
    lap("features")
    models, fcs = {}, {}
    for m in ("persistence", "deterministic", "anchored_ensemble", "bnn"):
        models |= train_forecasters(prep, cfg, (m,))
        lap(f"train {m}")
    fcs = predict_all(models, prep, n_samples=cfg.bnn_samples)
    lap("predict")
    orc = oracle_study(ds, prep, cfg)
    ev = evaluate(prep, fcs, cfg, orc)
    lap(f"oracle ({cfg.oracle_states} states x {cfg.oracle_seeds} seeds) + scores")
    fail = failure_study(ds, prep, models, cfg)
    lap("failure study")
    attr = attribution_study(prep, models["anchored_ensemble"], cfg)
    lap("integrated gradients")
    abl = ablation_study(prep, cfg)
    lap("ablation (4 ensembles)")
    total, total_cpu = time.perf_counter() - t0, time.process_time() - c0
    return {"prep": prep, "models": models, "fcs": fcs, "orc": orc, "ev": ev, "fail": fail,
            "attr": attr, "abl": abl, "t": t, "total": total, "total_cpu": total_cpu}



def _intro(cfg: ThermoacousticConfig) -> list[str]:
    L = [header("thermoacoustic: Bayesian forecasting on the surrogate combustor")]
    L.append(f"torch {torch.__version__}, 1 torch thread. Fast default "
             f"profile: {cfg.n_runs} runs x {cfg.duration:g} s (split 60/15/25 by run), window "
             f"{cfg.window * 10} ms, {cfg.n_members} anchored members x {cfg.epochs} epochs, BNN "
             f"{cfg.bnn_map_steps} MAP steps then {cfg.bnn_steps} SVI steps (AutoNormal, means "
             f"started at the MAP, initial std {cfg.bnn_init_scale:g}), {cfg.bnn_samples} "
             f"predictive samples; "
             f"inputs include the last-period amplitude (`p_dyn_tail`, the residual base); "
             f"bounded (PETS) variance heads; per-horizon variance "
             f"{'recalibrated on the validation runs' if cfg.recalibrate else 'not recalibrated'}. "
             f"Data are simulated (BKD data are not public): no number here is comparable "
             f"one-to-one with the paper's.\n")
    return L


def _scores_section(ev: dict, H: list[int]) -> list[str]:
    L: list[str] = []
    L.append("### Per-horizon scores on held-out runs\n")
    L.append("| model | metric | " + " | ".join(f"{h} ms" for h in H) + " |")
    L.append("|---|---|" + "---|" * len(H))
    for m, sc in ev["scores"].items():
        for k in ("rmse", "nll", "crps", "coverage90", "crps_oracle_ratio", "epistemic_std"):
            L.append(f"| {m} | {k} | " + " | ".join(f"{v:.3f}" for v in sc[k]) + " |")
    L.append("| oracle | crps (subset) | " + " | ".join(f"{v:.3f}" for v in ev["oracle_crps"]) + " |")
    L.append("| oracle, Gaussian shape | crps / oracle crps | "
             + " | ".join(f"{v:.3f}" for v in ev["oracle_gaussian_ratio"]) + " |")
    L.append("")
    return L


def _target_rows(prep, fcs: dict, orc: dict, ev: dict) -> list[tuple]:
    """Per model at 500 ms: RMSE reduction vs persistence, coverage, CRPS / oracle (bootstrap
    standard errors over held-out runs or oracle states)."""
    # targets at 500 ms
    pr = _per_run(prep, fcs["persistence"])
    rows = []
    for m in ("anchored_ensemble", "bnn", "deterministic"):
        r = _per_run(prep, fcs[m])
        red = 1 - np.sqrt(r[:, 0].mean()) / np.sqrt(pr[:, 0].mean())
        # SE of the reduction by a bootstrap over held-out runs
        rng = np.random.default_rng(0)
        boot = []
        for _ in range(500):
            i = rng.integers(0, len(r), len(r))
            boot.append(1 - np.sqrt(r[i, 0].mean()) / np.sqrt(pr[i, 0].mean()))
        cov = ev["scores"][m]["coverage90"][-1]
        w = prep.windows["test"]
        idx = orc["index"]
        c_m = crps_gaussian(w.y[idx, -1], fcs[m].mean[idx, -1], np.maximum(fcs[m].std[idx, -1], 1e-9))
        c_o = orc["crps"][:, -1]
        rb = []
        for _ in range(500):
            i = rng.integers(0, len(idx), len(idx))
            rb.append(c_m[i].mean() / c_o[i].mean())
        ratio_all = ev["scores"][m]["crps_oracle_ratio"]
        # bootstrap SE over oracle states of the ratio at every horizon
        c_mh = crps_gaussian(w.y[idx], fcs[m].mean[idx], np.maximum(fcs[m].std[idx], 1e-9))
        boot_h = []
        for _ in range(500):
            i = rng.integers(0, len(idx), len(idx))
            boot_h.append(c_mh[i].mean(0) / orc["crps"][i].mean(0))
        ratio_se = np.std(boot_h, axis=0)
        rows.append((m, red, np.std(boot), cov, _se(r[:, 2]), c_m.mean() / c_o.mean(), np.std(rb),
                     ratio_all, ratio_se))
    return rows


def _targets_section(
    rows: list[tuple], fail: dict, H: list[int], total: float, total_cpu: float
) -> list[str]:
    L: list[str] = []
    L.append("### Targets (500 ms horizon unless stated)\n")
    L.append("| target | model | measured | SE | pass |")
    L.append("|---|---|---|---|---|")
    for m, red, red_se, cov, cov_se, ratio, ratio_se, ratio_all, ratio_all_se in rows:
        L.append(f"| RMSE >= 20% below persistence | {m} | {100 * red:.1f}% below | "
                 f"{100 * red_se:.1f}% | {'yes' if red >= 0.2 else 'NO'} |")
        L.append(f"| 90% coverage in [0.85, 0.95] | {m} | {cov:.3f} | {cov_se:.3f} | "
                 f"{'yes' if 0.85 <= cov <= 0.95 else 'NO'} |")
        L.append(f"| CRPS <= 1.3 x oracle | {m} | {ratio:.2f}x | {ratio_se:.2f} | "
                 f"{'yes' if ratio <= 1.3 else 'NO'} |")
        L.append(f"| CRPS <= 1.3 x oracle, every horizon ({', '.join(f'{h} ms' for h in H)}) | {m} | "
                 f"{', '.join(f'{v:.2f}' for v in ratio_all)} | "
                 f"{', '.join(f'{v:.2f}' for v in ratio_all_se)} | "
                 f"{'yes' if np.all(ratio_all <= 1.3) else 'NO'} |")
    for m in ("anchored_ensemble", "bnn"):
        for mode in ("zeroed", "frozen"):
            e = fail["effects"][(m, "p_dyn", mode)]
            L.append(f"| epistemic std x3 after p_dyn fails ({mode}) | {m} | "
                     f"x{e['epistemic_ratio']:.2f} | - | "
                     f"{'yes' if e['epistemic_ratio'] >= 3 else 'NO'} |")
            for kind, key in (("raw", "aleatoric_ratio_raw"), ("reverted", "aleatoric_ratio")):
                ale_ok = ALE_BAND[0] <= e[key] <= ALE_BAND[1]
                L.append(f"| aleatoric comparable (ratio in [{ALE_BAND[0]:.2f}, {ALE_BAND[1]:.2f}]) "
                         f"after p_dyn fails ({mode}), {kind} | {m} | x{e[key]:.2f} | - | "
                         f"{'yes' if ale_ok else 'NO'} |")
    for m in ("anchored_ensemble", "bnn"):
        e = fail["effects"][(m, "p_dyn", "stale")]
        L.append(f"| stale p_dyn features flagged (frozen-value monitor), after / before | {m} | "
                 f"{e['flagged']:.2f} / {e['flagged_before']:.2f} | - | "
                 f"{'yes' if e['flagged'] >= 0.9 and e['flagged_before'] == 0 else 'NO'} |")
    L.append(f"| default profile < 10 min on 2 cores | all | {total:.0f} s wall, {total_cpu:.0f} s CPU | - | "
             f"{'yes' if total < 600 else 'NO'} |")
    L.append("")
    return L


def _warnings_section(cfg: ThermoacousticConfig, ev: dict) -> list[str]:
    L: list[str] = []
    L.append(f"### Onset warnings (threshold {cfg.threshold} bar, P(exceed at 500 ms) >= "
             f"{cfg.warn_prob}, timely = {cfg.lead_frames * 10}-{cfg.early_frames * 10} ms ahead)\n")
    L.append("| model | onsets | warned >= 300 ms ahead | false-alarm rate (per quiet frame) |")
    L.append("|---|---|---|---|")
    for m, wsc in ev["warnings"].items():
        L.append(f"| {m} | {wsc['n_onsets']} | {wsc['onset_warning_rate']:.2f} | "
                 f"{wsc['false_alarm_rate']:.4f} |")
    L.append("")
    return L


def _failure_section(fail: dict) -> list[str]:
    L: list[str] = []
    L.append("### Sensor failure (mean std after the failure at 4 s, failed / nominal inputs)\n")
    L.append("zeroed: the raw signal reads 0; frozen: the raw signal holds its last sample (a stuck "
             "sensor; for a fast channel this removes all acoustic content, so its features equal "
             "the zeroed ones); stale: not a sensor failure but a stuck feature pipeline repeating "
             "the last per-frame features (every value stays in the training range). Out of range: "
             "fraction of windows with some channel outside its training range widened by 1 "
             "training std (`Standardizer.out_of_range`); frozen: fraction with some channel whose "
             "last values repeat exactly for longer than in any training window, and >= 3 frames "
             "(`Standardizer.frozen`); after / before the failure.\n")
    L.append("Aleatoric ratio: raw is the network's own aleatoric variance; reverted is what the "
             "forecast reports (off the training range it moves toward the validation-average noise "
             "level, `revert_aleatoric`), so a reverted ratio near 1 holds partly by construction; "
             "the raw ratio is the test of the model itself.\n")
    L.append("| model | sensor | mode | epistemic ratio | aleatoric ratio raw / reverted | out of "
             "range after / before | frozen after / before |")
    L.append("|---|---|---|---|---|---|---|")
    for (m, sen, mode), e in fail["effects"].items():
        L.append(f"| {m} | {sen} | {mode} | {e['epistemic_ratio']:.2f} "
                 f"| {e['aleatoric_ratio_raw']:.2f} / {e['aleatoric_ratio']:.2f} "
                 f"| {e['out_of_range']:.2f} / {e['out_of_range_before']:.2f} "
                 f"| {e['frozen']:.2f} / {e['frozen_before']:.2f} |")
    L.append("")
    return L


def _ablation_section(cfg: ThermoacousticConfig, abl: dict, attr: dict) -> list[str]:
    L: list[str] = []
    L.append("### Sensor ablation (anchored ensembles, 500 ms)\n")
    L.append("| sensor set | RMSE | CRPS | coverage90 |")
    L.append("|---|---|---|---|")
    for k, sc in abl.items():
        L.append(f"| {k} | {sc['rmse'][-1]:.3f} | {sc['crps'][-1]:.3f} | {sc['coverage90'][-1]:.3f} |")
    L.append("")
    share = np.abs(attr["history"]).sum(2).mean(0)
    share = share / share.sum()
    from sciml.thermoacoustic import FEATURE_CHANNELS

    top = np.argsort(share)[::-1][:4]
    L.append(f"Integrated gradients ({cfg.ig_samples} windows, {cfg.ig_steps} Gauss-Legendre nodes): "
             f"max completeness error {attr['completeness_error'].max():.2e} (target <= 1e-2); "
             "largest history shares: "
             + ", ".join(f"{FEATURE_CHANNELS[i]} {share[i]:.2f}" for i in top) + ".\n")
    return L


def _timing_section(t: dict, total: float, total_cpu: float) -> list[str]:
    L: list[str] = []
    L.append("### Timing\n")
    L.append("Process CPU time (1 torch thread) is the work itself; the wall time also holds "
             "whatever else ran on the machine.\n")
    L.append("| stage | wall s | CPU s | peak RSS so far (MiB) |")
    L.append("|---|---|---|---|")
    for k, (v, c, r) in t.items():
        L.append(f"| {k} | {v:.1f} | {c:.1f} | {r:.0f} |")
    peak = max(r for *_, r in t.values())
    L.append(f"| **total** | **{total:.1f}** | **{total_cpu:.1f}** | **{peak:.0f}** |")
    L.append("")
    L.append("Peak RSS here is this benchmark's single process (stages run one after another); the "
             "flow (`sciml run thermoacoustic`) trains the four models in parallel threads, its "
             "peak is in `benchmarks/results/pipeline.md`.")
    L.append("")
    return L


def main(argv=None) -> str:
    ap = argparse.ArgumentParser()
    ap.add_argument("--oracle-states", type=int, default=200)
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    cfg = ThermoacousticConfig(oracle_states=args.oracle_states)
    r = _run(cfg)
    H = [h * 10 for h in cfg.horizons]
    L = _intro(cfg)
    L += _scores_section(r["ev"], H)
    L += _targets_section(_target_rows(r["prep"], r["fcs"], r["orc"], r["ev"]), r["fail"], H,
                          r["total"], r["total_cpu"])  # fmt: skip
    L += _warnings_section(cfg, r["ev"])
    L += _failure_section(r["fail"])
    L += _ablation_section(cfg, r["abl"], r["attr"])
    L += _timing_section(r["t"], r["total"], r["total_cpu"])
    text = "\n".join(L)
    write_fragment("thermoacoustic", text)
    return text


if __name__ == "__main__":
    main()
