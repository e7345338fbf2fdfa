"""CS-IB benchmark: loss cost per step, one full training run, and the 4-dataset model comparison.

Writes ``benchmarks/results/csib.md``. Targets:

* Gram-matrix CS-IB loss at batch 256 under 5 ms per step;
* one full training run (California Housing, full data, one beta, one seed) under 60 s;
* on each dataset, CS-IB's test RMSE (beta chosen on validation) below the MSE network's and at
  least as good as VIB's and NIB's (mean and s.e. over seeds).

Grid runs are appended to a JSON-lines cache (``--cache``, default in the temp dir) so an
interrupted run resumes; ``--report-only`` rebuilds the markdown from the cache.
A validation-only study of the target kernel width (``--width-study``, cache ``--width-cache``)
is reported alongside.
Usage: ``python -m benchmarks.bench_csib [--seeds 3] [--workers 2] [--width-study] [--report-only]``.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402

from benchmarks._common import header, write_fragment  # noqa: E402
from sciml.csib import (  # noqa: E402
    DATASETS,
    CSIBConfig,
    build_net,
    csib_loss,
    fit,
    inputs_to_dataset,
    load_dataset,
    split_from_dataset,
    summary_table,
    to_dataset,
    train_and_evaluate,
)

MODELS = ("mse", "csib", "vib", "nib", "hsic")
BETAS = (0.001, 0.01, 0.1)
EPSILONS = (0.0, 0.05, 0.1, 0.2)
CONFIG = CSIBConfig(max_epochs=30, patience=5, epsilons=EPSILONS)
CACHE = Path(tempfile.gettempdir()) / "sciml-bench-csib-runs.jsonl"
WIDTH_CACHE = Path(tempfile.gettempdir()) / "sciml-bench-csib-widths.jsonl"
#: target-window study (validation RMSE only): seeds per dataset, widths, beta
WIDTH_SEEDS = {
    "california_housing": (0, 1, 2),
    "appliances_energy": (0, 1),
    "beijing_pm25": (0, 1),
    "bike_sharing": (0, 1),
}
WIDTHS = (1.0, 2.0, 3.0)
WIDTH_BETA = 0.001


def _split(name: str):
    return split_from_dataset(inputs_to_dataset(load_dataset(name), split_seed=0))


def time_loss(n_steps: int = 200, batch: int = 256) -> dict:
    """ms per step of the CS-IB loss (forward + backward) at ``batch``: network + Gram terms."""
    torch.set_num_threads(1)
    g = torch.Generator().manual_seed(0)
    x = torch.randn(batch, 8, generator=g)
    y = torch.randn(batch, generator=g)
    net = build_net("csib", 8, CONFIG, seed=0)
    opts = {"sigma_x": 0.25, "sigma_y": 2.0, "sigma_t": "median", "sigma_x_mi": 3.7}
    times, cpu = [], []
    for i in range(n_steps + 20):
        t0, c0 = time.perf_counter(), time.process_time()
        loss, _ = csib_loss(net, x, y, 0.1, generator=g, **opts)
        net.zero_grad(set_to_none=True)
        loss.backward()
        if i >= 20:
            times.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
    mse_times = []
    for i in range(n_steps + 20):
        t0 = time.perf_counter()
        y_hat, _, _, _ = net(x, generator=g)
        loss = torch.mean((y_hat - y) ** 2)
        net.zero_grad(set_to_none=True)
        loss.backward()
        if i >= 20:
            mse_times.append(time.perf_counter() - t0)
    t = np.asarray(times) * 1e3
    c = np.asarray(cpu) * 1e3
    m = np.asarray(mse_times) * 1e3
    return {
        "ms": float(np.median(t)),
        "mean": float(t.mean()),
        "se": float(t.std(ddof=1) / np.sqrt(len(t))),
        "mse_ms": float(np.median(m)),
        "cpu_ms": float(c.mean()),
        "cpu_se": float(c.std(ddof=1) / np.sqrt(len(c))),
    }


def time_training() -> dict:
    """One full CS-IB training run: California Housing, all rows, beta 0.1, seed 0."""
    torch.set_num_threads(1)
    split = _split("california_housing")
    t0, c0 = time.perf_counter(), time.process_time()
    record, res = train_and_evaluate("california_housing", "csib", 0.1, 0, split, CONFIG)
    return {
        "seconds": time.perf_counter() - t0,
        "cpu_seconds": time.process_time() - c0,
        "train_seconds": res.seconds,
        "epochs": len(res.history["epoch"]),
        "best_epoch": res.best_epoch,
        "rmse": record["rmse"],
        "n_train": len(split.y_train),
    }


def _width_cells() -> list[tuple[str, str, int]]:
    cells = []
    for d, seeds in WIDTH_SEEDS.items():
        for s in seeds:
            cells.append((d, "mse", s))
            cells += [(d, f"sigma_y={w:g}", s) for w in WIDTHS]
    return cells


def _run_width(cell: tuple[str, str, int]) -> dict:
    """Validation RMSE (target units) of one width-study cell; the test split is not read."""
    torch.set_num_threads(1)
    d, variant, s = cell
    if variant == "mse":
        model, beta, config = "mse", 0.0, CONFIG
    else:
        model, beta = "csib", WIDTH_BETA
        config = CONFIG.model_copy(update={"sigma_y": float(variant.split("=")[1])})
    split = _split(d)
    c0 = time.process_time()
    res = fit(model, split, beta, s, config)
    return {
        "dataset": d,
        "variant": variant,
        "seed": s,
        "val_rmse": float(res.best_val_rmse * split.y_std),
        "best_epoch": int(res.best_epoch),
        "cpu_seconds": time.process_time() - c0,
    }


def run_width_study(cache: Path) -> None:
    done = {(r["dataset"], r["variant"], int(r["seed"])) for r in load_cache(cache)}
    todo = [c for c in _width_cells() if c not in done]
    print(f"width study: {len(todo)} runs to do ({len(done)} cached)", flush=True)
    with cache.open("a") as fh:
        for cell in todo:
            rec = _run_width(cell)
            fh.write(json.dumps(rec) + "\n")
            fh.flush()
            print(rec, flush=True)


def width_report(records: list[dict]) -> list[str]:
    """Markdown table of the target-window study: validation RMSE, mean ± s.e. over seeds."""
    if not records:
        return []
    variants = ["mse", *(f"sigma_y={w:g}" for w in WIDTHS)]
    lines = [
        "",
        "### Target kernel width of the prediction term (validation only)",
        "",
        f"CS-IB at beta={WIDTH_BETA:g} with the target window sigma_y in {list(WIDTHS)} "
        "(standardised targets; x window 0.25), next to the MSE net, same budget as the grid. "
        "Best-epoch **validation** RMSE in target units, mean ± s.e. over the seeds listed; the "
        "test split is not read. This study chose the default sigma_y = 2.",
        "",
        "| dataset (seeds) | " + " | ".join(v.replace("sigma_y", "CS-IB σ_y") for v in variants) + " |",
        "|---|" + "---|" * len(variants),
    ]
    for d, seeds in WIDTH_SEEDS.items():
        cells = []
        for v in variants:
            vals = np.array(
                [
                    r["val_rmse"]
                    for r in records
                    if r["dataset"] == d and r["variant"] == v and r["seed"] in seeds
                ]
            )
            if len(vals) == 0:
                cells.append("-")
                continue
            se = f" ± {vals.std(ddof=1) / np.sqrt(len(vals)):.2g}" if len(vals) > 1 else ""
            cells.append(f"{vals.mean():.4g}{se} (n={len(vals)})")
        lines.append(f"| {d} ({', '.join(map(str, seeds))}) | " + " | ".join(cells) + " |")
    return lines


def _cells(seeds: list[int]) -> list[tuple[str, str, float | None, int]]:
    cells = []
    for s in seeds:
        for d in DATASETS:
            for m in MODELS:
                for b in [None] if m == "mse" else BETAS:
                    cells.append((d, m, b, s))
    return cells


def _run(cell: tuple[str, str, float | None, int]) -> dict:
    torch.set_num_threads(1)
    d, m, b, s = cell
    record, _ = train_and_evaluate(d, m, b, s, _split(d), CONFIG)
    return record


def _key(r: dict) -> tuple:
    return (r["dataset"], r["model"], r["beta"], int(r["seed"]))


def load_cache(cache: Path) -> list[dict]:
    if not cache.is_file():
        return []
    return [json.loads(line) for line in cache.read_text().splitlines() if line.strip()]


def run_grid(seeds: list[int], workers: int, cache: Path) -> None:
    done = {_key(r) for r in load_cache(cache)}
    todo = [c for c in _cells(seeds) if c not in done]
    print(f"grid: {len(todo)} runs to do ({len(done)} cached)", flush=True)
    with ProcessPoolExecutor(max_workers=workers) as pool, cache.open("a") as fh:
        for rec in pool.map(_run, todo):
            fh.write(json.dumps(rec) + "\n")
            fh.flush()
            print(
                f"{rec['dataset']} {rec['model']} beta={rec['beta']} seed={rec['seed']}: "
                f"rmse={rec['rmse']:.4g} val={rec['val_rmse']:.4g} "
                f"({rec['train_seconds']:.0f}s)",
                flush=True,
            )


def _complete_seeds(records: list[dict]) -> list[int]:
    need = {(c[0], c[1], c[2]) for c in _cells([0])}
    by_seed: dict[int, set] = {}
    for r in records:
        by_seed.setdefault(int(r["seed"]), set()).add((r["dataset"], r["model"], r["beta"]))
    return sorted(s for s, got in by_seed.items() if need <= got)


def _paired(ds, a: str, b: str, dataset: str) -> tuple[float, float]:
    """Mean and s.e. over seeds of RMSE(a) - RMSE(b), both at their validation-selected beta."""
    from sciml.csib import select_beta

    sel = select_beta(ds)["rmse"].sel(dataset=dataset)
    diff = (sel.sel(model=a) - sel.sel(model=b)).values
    diff = diff[np.isfinite(diff)]
    se = diff.std(ddof=1) / np.sqrt(len(diff)) if len(diff) > 1 else float("nan")
    return float(diff.mean()), float(se)


def report(
    records: list[dict],
    timing: dict | None,
    training: dict | None,
    wall: float | None,
    widths: list[dict] | None = None,
) -> str:
    seeds = _complete_seeds(records)
    lines = [header("csib: CS-IB regression vs MSE, VIB, NIB, HSIC on four real datasets")]
    lines.append(
        "Torch CPU, 1 thread per process; the wall time also holds whatever else ran on the "
        "machine."
    )
    if timing:
        cpu = timing.get("cpu_ms", timing["ms"])
        ok = cpu < 5.0
        lines += [
            "",
            "### Cost",
            "",
            "The CPU time of the (single-threaded) process is what one free core would take, and "
            "is what the pass/fail uses.",
            "",
            "| measure | value | target | pass |",
            "|---|---|---|---|",
            f"| CS-IB loss step at batch 256 (network fwd+bwd, conditional CS + CS-QMI Grams) | "
            f"CPU {cpu:.2f} ± {timing.get('cpu_se', float('nan')):.2f} ms; wall median "
            f"{timing['ms']:.2f} ms (mean {timing['mean']:.2f} ± {timing['se']:.2f}) "
            f"| < 5 ms | {'yes' if ok else 'no'} |",
            f"| same step with the MSE loss (network only), median | {timing['mse_ms']:.2f} ms | - | - |",
        ]
        if training:
            ok = max(training["seconds"], training.get("cpu_seconds", 0.0)) < 60
            lines.append(
                f"| one full training run: California Housing, {training['n_train']} training "
                f"rows, CS-IB beta=0.1, seed 0, {training['epochs']} epochs (best "
                f"{training['best_epoch']}), incl. test metrics and attacks | "
                f"wall {training['seconds']:.1f} s (training {training['train_seconds']:.1f} s), "
                f"CPU {training.get('cpu_seconds', float('nan')):.1f} s | "
                f"< 60 s | {'yes' if ok else 'no'} |"
            )
    if not seeds:
        lines += ["", "_No complete seed of the model grid yet._"]
        return "\n".join(lines)
    recs = [r for r in records if int(r["seed"]) in seeds]
    units = {d: DATASETS[d].target_units for d in DATASETS}
    ds = to_dataset(
        recs, list(DATASETS), MODELS, BETAS, seeds, EPSILONS, CONFIG.max_epochs, target_units=units
    )
    table = summary_table(ds)
    lines += [
        "",
        f"### Test RMSE, beta chosen on validation ({len(seeds)} seeds: {seeds})",
        "",
        f"Full datasets, split 70/10/20 (split seed 0), the same encoder (MLP 128-128, "
        f"bottleneck {CONFIG.d_t}) and decoder (128) for every model, Adam lr "
        f"{CONFIG.lr}, batch {CONFIG.batch_size}, at most {CONFIG.max_epochs} epochs with "
        f"early stopping on validation RMSE (patience {CONFIG.patience}); beta grid "
        f"{list(BETAS)} for every model with a compression term. Mean ± s.e. over seeds; "
        "RMSE in target units.",
        "",
        "| dataset (units) | " + " | ".join(MODELS) + " |",
        "|---|" + "---|" * len(MODELS),
    ]
    for d in DATASETS:
        cells = []
        best = min(table.loc[(d, m), "mean"] for m in MODELS)
        for m in MODELS:
            row = table.loc[(d, m)]
            b = "" if not np.isfinite(row["beta"]) else f" (β={row['beta']:g})"
            se = f" ± {row['se']:.2g}" if np.isfinite(row["se"]) else ""
            txt = f"{row['mean']:.4g}{se}{b}"
            cells.append(f"**{txt}**" if row["mean"] == best else txt)
        lines.append(f"| {d} ({units[d]}) | " + " | ".join(cells) + " |")
    lines += [
        "",
        "### Targets per dataset (paired over seeds: mean difference ± s.e.)",
        "",
        "The verdict is on the mean difference, as the issue states the target; a difference "
        "smaller than two standard errors is marked, since the seeds cannot tell its sign.",
        "",
        "| dataset | CS-IB - MSE | < 0 ? | CS-IB - VIB | <= 0 ? | CS-IB - NIB | <= 0 ? |",
        "|---|---|---|---|---|---|---|",
    ]
    for d in DATASETS:
        row = [d]
        for other, strict in (("mse", True), ("vib", False), ("nib", False)):
            mean, se = _paired(ds, "csib", other, d)
            passed = mean < 0 if strict else mean <= 0
            se_txt = f" ± {se:.2g}" if np.isfinite(se) else ""
            verdict = "yes" if passed else "**no**"
            if np.isfinite(se) and abs(mean) < 2 * se:
                verdict += " (within 2 s.e.)"
            row += [f"{mean:+.4g}{se_txt}", verdict]
        lines.append("| " + " | ".join(row) + " |")
    sel_ds = ds
    rob = []
    from sciml.csib import select_beta

    sel = select_beta(sel_ds)
    for d in DATASETS:
        for m in MODELS:
            f = sel["rmse_fgsm"].sel(dataset=d, model=m).mean("seed").values
            p = sel["rmse_pgd"].sel(dataset=d, model=m).mean("seed").values
            rob.append(
                f"| {d} | {m} | " + " | ".join(f"{a:.4g} / {b:.4g}" for a, b in zip(f, p, strict=True)) + " |"
            )
    lines += [
        "",
        "### Robustness: test RMSE under FGSM / PGD (10 steps), seed mean",
        "",
        "| dataset | model | " + " | ".join(f"ε={e:g}" for e in EPSILONS) + " |",
        "|---|---|" + "---|" * len(EPSILONS),
        *rob,
    ]
    early = sorted({(r["dataset"], r["model"], int(r["seed"])) for r in recs if int(r["best_epoch"]) <= 1})
    if early:
        lines += [
            "",
            "### Runs whose best validation epoch was the first",
            "",
            "These runs stopped after `patience` epochs without beating their first epoch "
            "(at every beta of the cell when listed once): "
            + ", ".join(f"{d}/{m}/seed {s}" for d, m, s in early)
            + ". With the earlier unit target window (sigma_y = 1) CS-IB's California "
            "seed 2 was such a run (validation RMSE 0.40 -> 1.3 in epochs 2-3): the kernel "
            "term gives an error of 3 target s.d. a gradient weight of exp(-4.5) = 0.011, so "
            "the predictions of inputs with extreme standardised features (up to 255 s.d. in "
            "the validation split) were left to swing; see the width study above.",
        ]
    lines += width_report(widths or [])
    cal = table.loc["california_housing"]
    lines += [
        "",
        "### California Housing next to the literature",
        "",
        "Same preprocessing as the IB literature: scikit-learn's 8 features, the 992 rows with "
        "value >= $500k dropped (19,648 left), target log(value / $100k); RMSE in log units. "
        f"Here: CS-IB {cal.loc['csib', 'mean']:.4f} ± {cal.loc['csib', 'se']:.2g}, "
        f"MSE net {cal.loc['mse', 'mean']:.4f} ± {cal.loc['mse', 'se']:.2g}, "
        f"VIB {cal.loc['vib', 'mean']:.4f}, NIB {cal.loc['nib', 'mean']:.4f}, "
        f"HSIC {cal.loc['hsic', 'mean']:.4f}.",
        "",
        "- Kolchinsky, Tracey & Wolpert (Nonlinear IB, Entropy 21:1181, 2019, Sec. 4.2) use "
        "the same filtering and log target with an 80/20 split; they report the information "
        "plane (I(Y;M) vs I(X;M), means and s.e. over five runs), not a test RMSE table, so "
        "there is no single RMSE of theirs to set beside ours.",
        "- Yu et al. (CS-IB, ICLR 2024), Table 2 lists test RMSE per method at several "
        "compression ratios r, as single numbers without standard deviations; its numbers are "
        "not quoted here, so the comparison with the paper is one of direction, not of values.",
        "- The authors' California script (SJYuCNEL/Cauchy-Schwarz-Information-Bottleneck, "
        "`CS_IB_Housing.py`, with `loss_cs.py`) differs from this benchmark in ways that "
        "matter for comparison: 80/20 test split then 80/20 train/validation, one shuffle "
        "(seed 42); target not standardised; bottleneck 128 wide and no noise injection "
        "(the encoder runs with `training=False`); Gram width 1 for inputs and targets alike; "
        "compression term a normalised CS-QMI; Adam lr 1e-4 with step decay, batch 128, "
        "200 epochs; and the reported figure is the minimum over epochs of the *test* RMSE. "
        "A test-selected minimum is biased low, so a Table 2 figure would not be a like-for-"
        "like target for this validation-selected benchmark even if it were quoted.",
    ]
    if wall is not None:
        lines += ["", f"Grid wall time of the last grid invocation: {wall / 60:.1f} min."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--cache", type=Path, default=CACHE)
    parser.add_argument("--report-only", action="store_true")
    parser.add_argument(
        "--width-study", action="store_true", help="run the target-window study (validation only) first"
    )
    parser.add_argument("--width-cache", type=Path, default=WIDTH_CACHE)
    parser.add_argument(
        "--timing-only", action="store_true", help="re-measure the cost figures only, then rebuild the report"
    )
    parser.add_argument(
        "--timing-json", type=Path, default=None, help="reuse timings saved by an earlier run"
    )
    args = parser.parse_args(argv)
    timing_path = args.timing_json or args.cache.with_suffix(".timing.json")
    timing = training = None
    wall = None
    if args.width_study:
        run_width_study(args.width_cache)
    if args.timing_only:
        timing, training = time_loss(), time_training()
        timing_path.write_text(json.dumps({"timing": timing, "training": training}))
    elif not args.report_only:
        timing = time_loss()
        print("loss timing", timing, flush=True)
        training = time_training()
        print("training timing", training, flush=True)
        timing_path.write_text(json.dumps({"timing": timing, "training": training}))
        t0 = time.perf_counter()
        run_grid(list(range(args.seeds)), args.workers, args.cache)
        wall = time.perf_counter() - t0
        args.cache.with_suffix(".wall.json").write_text(json.dumps({"wall": wall, "workers": args.workers}))
    elif timing_path.is_file():
        saved = json.loads(timing_path.read_text())
        timing, training = saved["timing"], saved["training"]
    wall_path = args.cache.with_suffix(".wall.json")
    if wall is None and wall_path.is_file():
        wall = json.loads(wall_path.read_text())["wall"]
    write_fragment(
        "csib", report(load_cache(args.cache), timing, training, wall, load_cache(args.width_cache))
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
