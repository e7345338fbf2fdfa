"""Serve every workflow as Prefect deployments: ``<flow>/default`` and ``<flow>/retrain``.

``python -m flows.deployments`` (or ``make serve`` / ``sciml serve``, which also start a local
server) serves them from this process: ``prefect deployment run 'gpme-data/default'`` then runs a
flow here. Retraining deployments run on a cron schedule (``SCIML_RETRAIN_CRON``, default nightly
at 02:00 UTC) and on an event trigger: a new version of one of their input datasets
(:data:`flows.events.RETRAIN_INPUTS`) starts a run. A burst of commits (a data flow writing several
inputs) starts one run, ``SCIML_RETRAIN_DELAY`` seconds (default 30) after its first commit, so
that the retrain reads the whole burst; later commits within ``SCIML_RETRAIN_WINDOW`` seconds
(default 120) of the first do not start another.
"""

from __future__ import annotations

import argparse
import json
import os
from datetime import timedelta
from typing import Any

from prefect import serve
from prefect.deployments.runner import RunnerDeployment

from flows.events import RETRAIN_INPUTS, install, retrain_trigger
from flows.registry import workflows

DEFAULT_RETRAIN_CRON = "0 2 * * *"


def build_deployments(
    only: list[str] | None = None,
    retrain_cron: str | None = None,
    retrain_parameters: dict[str, Any] | None = None,
) -> list[RunnerDeployment]:
    """The deployments of every registered workflow (or ``only`` those named).

    ``retrain_parameters`` (e.g. ``{"config": {"profile": "tiny"}}``) are the parameters of the
    retraining runs that the schedule and the event trigger start.
    """
    cron = retrain_cron or os.environ.get("SCIML_RETRAIN_CRON", DEFAULT_RETRAIN_CRON)
    delay = timedelta(seconds=float(os.environ.get("SCIML_RETRAIN_DELAY", "30")))
    window = timedelta(seconds=float(os.environ.get("SCIML_RETRAIN_WINDOW", "120")))
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
                    parameters=retrain_parameters,
                    triggers=[retrain_trigger(name, retrain_parameters, within=window,
                                              schedule_after=delay)] if name in RETRAIN_INPUTS else None,
                    description=f"{name}: retraining (nightly, and on new input data), "
                    "champion/challenger on validation data",
                    tags=[name, "retrain"],
                )
            )
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", nargs="*", help="serve only these workflows")
    parser.add_argument("--retrain-cron", default=None, help="cron of retraining deployments")
    parser.add_argument("--retrain-params", default=None, type=json.loads,
                        help='parameters of retraining runs, JSON: \'{"config": {"profile": "tiny"}}\'')
    args = parser.parse_args(argv)
    install()  # commits made by the served flows start the retraining deployments they feed
    serve(*build_deployments(args.only, args.retrain_cron, args.retrain_params))


if __name__ == "__main__":
    main()
