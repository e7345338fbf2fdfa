"""Catalog commits as Prefect events, and the event triggers of the retraining deployments.

Every committed dataset version is emitted as the Prefect event ``sciml.dataset.committed`` on
the resource ``sciml.dataset.<name>`` (with the version id, producer and path). A retraining
deployment is served with a trigger on the resources of its input datasets, so a new version of
any of them (a user's import, a data flow's run) starts a retrain on the data just committed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import Any

from sciml.catalog import Catalog, events
from sciml.errors import unknown_name

__all__ = ["EVENT", "RETRAIN_INPUTS", "emit_commit", "install", "is_retrain_input", "resource_id",
           "retrain_trigger"]

EVENT = "sciml.dataset.committed"

# the catalog datasets each retraining reads: a new version of any of them starts it
RETRAIN_INPUTS: dict[str, tuple[str, ...]] = {
    # the ANP draws its own training functions; a user's law is retrained on its inputs
    "probconserv": ("gpme/{problem}/val", "probconserv/user/inputs"),
    "thermoacoustic": ("thermoacoustic/runs", "thermoacoustic/recordings"),
    "csib": ("csib/{dataset}", "csib/table"),
    "lightsb": ("lightsb/pairs",),
}


def resource_id(name: str) -> str:
    """The Prefect resource id of catalog dataset ``name``."""
    return f"sciml.dataset.{name}"


def _has_prefect_api() -> bool:
    """Inside a flow or task run, or with a Prefect API configured (never start a temporary
    server just to emit an event)."""
    from prefect.context import FlowRunContext, TaskRunContext
    from prefect.settings import get_current_settings

    return bool(FlowRunContext.get() or TaskRunContext.get() or get_current_settings().api.url)


def emit_commit(event: events.CommitEvent) -> None:
    """Emit a catalog commit as a Prefect event; a no-op outside runs where no API is configured."""
    from prefect.events import emit_event

    if not _has_prefect_api():
        return
    emit_event(
        event=EVENT,
        resource={"prefect.resource.id": resource_id(event.name), "prefect.resource.name": event.name,
                  "sciml.version": event.version, "sciml.producer": event.producer},  # fmt: skip
        payload={"name": event.name, "version": event.version, "path": event.path, "kind": event.kind},
    )


def install() -> None:
    """Emit every catalog commit of this process as a Prefect event."""
    events.subscribe(emit_commit)


def flush() -> None:
    """Send the events still queued (a short-lived process, such as the CLI, calls this at exit)."""
    from prefect.events.worker import EventsWorker

    EventsWorker.drain_all(timeout=10)


def input_names(workflow: str, catalog: Catalog | None = None) -> list[str]:
    """The concrete dataset names (templates expanded) of ``workflow``'s retraining inputs."""
    cat = catalog or Catalog.load()
    out: list[str] = []
    if workflow not in RETRAIN_INPUTS:
        raise unknown_name("retraining workflow", workflow, list(RETRAIN_INPUTS))
    for pattern in RETRAIN_INPUTS[workflow]:
        entry = cat.entries.get(pattern)
        out.extend(entry.expand() if entry is not None else [pattern])
    for name in out:
        cat.entry(name)  # every declared input is a catalog dataset
    return out


def is_retrain_input(name: str) -> bool:
    """Whether catalog dataset ``name`` is an input of some retraining deployment."""
    cat = Catalog.load()
    return any(name in input_names(workflow, cat) for workflow in RETRAIN_INPUTS)


def retrain_trigger(
    workflow: str,
    parameters: Mapping[str, Any] | None = None,
    names: Iterable[str] | None = None,
    within: timedelta = timedelta(0),
    schedule_after: timedelta = timedelta(0),
) -> Any:
    """The event trigger of ``workflow``'s retraining deployment.

    It fires on the first commit to one of the input datasets (``names``, default
    :func:`input_names`), starts the run ``schedule_after`` later, and ignores further commits for
    the rest of the ``within`` window (one run per burst of commits).
    """
    from prefect.events import DeploymentEventTrigger

    if names is None:
        names = input_names(workflow)
    else:
        cat = Catalog.load()
        names = list(names)
        for name in names:
            cat.entry(name)  # an unknown dataset fails here, naming close matches
    ids = [resource_id(n) for n in names]
    return DeploymentEventTrigger(
        name=f"{workflow}: new input data",
        description=f"a new version of {', '.join(n.removeprefix('sciml.dataset.') for n in ids)}",
        expect={EVENT},
        match={"prefect.resource.id": ids},
        parameters=dict(parameters) if parameters else None,
        within=within,
        schedule_after=schedule_after,
    )
