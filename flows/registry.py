"""Registry of every workflow: name -> flow, config class, retraining flow.

The pipeline, the CLI and the deployments all read this one list. Workflows run in this order
(``gpme-data`` first: ``probconserv`` reads its datasets).
"""

from __future__ import annotations

import importlib

from flows.common import Workflow
from sciml.errors import unknown_name

__all__ = ["WORKFLOW_MODULES", "workflows", "get_workflow"]

WORKFLOW_MODULES: tuple[str, ...] = (
    "flows.gpme",
    "flows.probconserv",
    "flows.thermoacoustic",
    "flows.chaos",
    "flows.lightsb",
    "flows.csib",
)


def workflows() -> dict[str, Workflow]:
    """Every registered workflow by name, in pipeline order."""
    out: dict[str, Workflow] = {}
    for module in WORKFLOW_MODULES:
        wf: Workflow = importlib.import_module(module).WORKFLOW
        out[wf.name] = wf
    return out


def get_workflow(name: str) -> Workflow:
    """The workflow named ``name``; unknown names list close matches."""
    wfs = workflows()
    if name not in wfs:
        raise unknown_name("workflow", name, list(wfs))
    return wfs[name]
