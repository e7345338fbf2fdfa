"""Flow ``pipeline``: every workflow's default flow, in registry order, on its fast defaults."""

from __future__ import annotations

import time

import pandas as pd
from prefect import flow

from flows.artifacts import publish_metrics
from flows.common import release_memory, run_logger
from flows.registry import workflows


@flow(name="pipeline", log_prints=True)
def pipeline_flow(profile: str = "fast", only: list[str] | None = None) -> dict[str, float]:
    """Run each registered workflow (optionally ``only`` some) with ``profile``; returns seconds each."""
    timings: dict[str, float] = {}
    for name, wf in workflows().items():
        if only and name not in only:
            continue
        config = wf.config.for_profile(profile)
        start = time.perf_counter()
        run_logger().info(f"pipeline: starting {name} ({profile} profile)")
        wf.flow(config=config)
        timings[name] = time.perf_counter() - start
        release_memory()  # the next workflow starts from a trimmed heap
        run_logger().info(f"pipeline: {name} done in {timings[name]:.1f} s")
    publish_metrics(
        "pipeline-timings",
        pd.DataFrame({"workflow": list(timings), "seconds": list(timings.values())}),
        f"Pipeline ({profile} profile): wall time per workflow",
    )
    return timings
