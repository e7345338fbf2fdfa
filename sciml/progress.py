"""Progress reporting for long loops (training, generation), without any Prefect dependency.

:class:`Progress` logs ``step/total``, the latest metrics and an ETA to a ``logging`` logger (a
flow passes Prefect's run logger, so the lines appear in the run's logs) at a steady cadence, and
draws a one-line bar on stderr when stderr is a terminal (the CLI).
"""

from __future__ import annotations

import logging
import os
import sys
import time
from typing import Any

__all__ = ["Progress"]

_DEFAULT = logging.getLogger("sciml")


def _fmt_seconds(s: float) -> str:
    s = max(0, int(round(s)))
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    return f"{h:d}:{m:02d}:{sec:02d}" if h else f"{m:02d}:{sec:02d}"


class Progress:
    """Report progress of a loop of ``total`` steps.

    Parameters
    ----------
    total : number of steps.
    desc : what is running (shown first on each line).
    logger : a ``logging.Logger`` or ``LoggerAdapter``; default the ``sciml`` logger.
    every : seconds between two log lines (the first and the last step are always logged).
    bar : draw a bar on stderr; default: when stderr is a TTY or ``SCIML_PROGRESS_BAR=1``.
    """

    def __init__(
        self,
        total: int,
        desc: str = "",
        logger: logging.Logger | logging.LoggerAdapter | None = None,
        every: float = 5.0,
        bar: bool | None = None,
    ) -> None:
        self.total = max(int(total), 1)
        self.desc = desc
        self.logger = logger if logger is not None else _DEFAULT
        self.every = every
        if bar is None:
            bar = os.environ.get("SCIML_PROGRESS_BAR") == "1" or (
                hasattr(sys.stderr, "isatty") and sys.stderr.isatty()
            )
        self.bar = bar
        self.start = time.perf_counter()
        self._last_log = -float("inf")
        self.step = 0
        self.metrics: dict[str, Any] = {}

    def eta(self) -> float:
        """Estimated seconds left, from the mean time per step so far."""
        elapsed = time.perf_counter() - self.start
        return elapsed / max(self.step, 1) * (self.total - self.step)

    def line(self) -> str:
        parts = [f"{self.desc} step {self.step}/{self.total}"]
        parts += [
            f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in self.metrics.items()
        ]
        parts.append(f"elapsed {_fmt_seconds(time.perf_counter() - self.start)}")
        parts.append(f"eta {_fmt_seconds(self.eta())}")
        return " ".join(p for p in parts if p)

    def update(self, step: int, **metrics: Any) -> None:
        """Record that ``step`` steps are done, with the latest ``metrics`` (e.g. ``loss``)."""
        self.step = int(step)
        self.metrics = metrics
        now = time.perf_counter()
        if self.bar:
            frac = self.step / self.total
            width = 30
            filled = int(width * frac)
            sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {self.line()}\x1b[K")
            sys.stderr.flush()
        if self.step in (1, self.total) or now - self._last_log >= self.every:
            self._last_log = now
            self.logger.info(self.line())

    def close(self) -> None:
        """Finish the bar line; log the final state if it was not logged yet."""
        if self.bar:
            sys.stderr.write("\n")
            sys.stderr.flush()

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
