"""Serve every workflow as Prefect deployments: ``<flow>/default`` and ``<flow>/retrain``.

``python -m flows.deployments`` (or ``make serve`` / ``sciml serve``, which also start a local
server) serves them from this process: ``prefect deployment run 'gpme-data/default'`` then runs a
flow here. Retraining deployments run on a cron schedule (``SCIML_RETRAIN_CRON``, default nightly
at 02:00 UTC).
"""

from __future__ import annotations

import argparse
import os

from prefect import serve
from prefect.deployments.runner import RunnerDeployment

from flows.registry import workflows

DEFAULT_RETRAIN_CRON = "0 2 * * *"


def build_deployments(
    only: list[str] | None = None, retrain_cron: str | None = None
) -> list[RunnerDeployment]:
    """The deployments of every registered workflow (or ``only`` those named)."""
    cron = retrain_cron or os.environ.get("SCIML_RETRAIN_CRON", DEFAULT_RETRAIN_CRON)
    out: list[RunnerDeployment] = []
    for name, wf in workflows().items():
        if only and name not in only:
            continue
        out.append(
            wf.flow.to_deployment(
                name="default", description=f"{name}: run on the fast defaults", tags=[name]
            )
        )
        if wf.retrain is not None:
            out.append(
                wf.retrain.to_deployment(
                    name="retrain",
                    cron=cron,
                    description=f"{name}: scheduled retraining, champion/challenger",
                    tags=[name, "retrain"],
                )
            )
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", nargs="*", help="serve only these workflows")
    parser.add_argument("--retrain-cron", default=None, help="cron of retraining deployments")
    args = parser.parse_args(argv)
    serve(*build_deployments(args.only, args.retrain_cron))


if __name__ == "__main__":
    main()
