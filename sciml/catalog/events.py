"""Commit events: the catalog tells its listeners about every committed dataset or model version.

The catalog knows nothing of the orchestrator. A listener (``flows.events`` registers one that
emits a Prefect event, which starts the retraining deployments triggered by that dataset) is any
callable taking a :class:`CommitEvent`. A failing listener is logged and never undoes the commit:
the version is durable before any listener runs.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["CommitEvent", "publish", "subscribe", "unsubscribe"]

_LOG = logging.getLogger("sciml.catalog")
_LISTENERS: list[Callable[[CommitEvent], None]] = []
_LOCK = threading.Lock()


@dataclass(frozen=True)
class CommitEvent:
    """A new committed version: dataset (or model) ``name`` at ``version``, stored at ``path``."""

    name: str
    version: str
    path: str
    producer: str
    kind: str = "dataset"


def subscribe(listener: Callable[[CommitEvent], None]) -> None:
    """Call ``listener`` after every commit in this process (once, however often subscribed)."""
    with _LOCK:
        if listener not in _LISTENERS:
            _LISTENERS.append(listener)


def unsubscribe(listener: Callable[[CommitEvent], None]) -> None:
    """Stop calling ``listener``."""
    with _LOCK:
        if listener in _LISTENERS:
            _LISTENERS.remove(listener)


def publish(event: CommitEvent) -> None:
    """Tell every listener about ``event``; a listener's error is logged, never raised."""
    with _LOCK:
        listeners = list(_LISTENERS)
    for listener in listeners:
        try:
            listener(event)
        except Exception as exc:  # noqa: BLE001 - the commit stands; report and go on
            _LOG.warning(f"commit listener {listener!r} failed for {event.name}@{event.version}: {exc}")
