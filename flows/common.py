"""Shared orchestration pieces of every workflow: config base, catalog I/O tasks, artifacts.

Flows are thin: they read configs, call ``sciml`` functions in tasks, and read/write through the
catalog. Nothing scientific lives here.
"""

from __future__ import annotations

import base64
import ctypes
import ctypes.util
import gc
import io
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import xarray as xr
from prefect import Flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.exceptions import MissingContextError

from sciml.catalog import Catalog, provenance_attrs
from sciml.errors import ConfigError, ModelNotFoundError
from sciml.settings import Settings

__all__ = [
    "FlowConfig",
    "Workflow",
    "get_catalog",
    "write_dataset",
    "run_logger",
    "write_figure",
    "publish_metrics",
    "champion_challenger",
    "flow_run_id",
    "release_memory",
]


# every workflow's settings class subclasses sciml.settings.Settings (the flows take it as their
# one typed parameter); the old name stays for the workflows whose settings still live here
FlowConfig = Settings


@dataclass(frozen=True)
class Workflow:
    """A workflow as the registry, the pipeline and the deployments see it."""

    name: str
    flow: Flow
    config: type[FlowConfig]
    retrain: Flow | None = None


def get_catalog() -> Catalog:
    """The project catalog (``$SCIML_CATALOG``) over the data dir (``$SCIML_DATA_DIR``, ``./data``)."""
    return Catalog.load()


def flow_run_id() -> str | None:
    """Id of the current Prefect flow run, or ``None`` outside a run."""
    from prefect.runtime import flow_run

    rid = flow_run.get_id()
    return str(rid) if rid else None


def run_logger() -> logging.Logger | logging.LoggerAdapter:
    """Prefect's run logger inside a flow or task run, else the ``sciml.flows`` logger."""
    try:
        return get_run_logger()
    except MissingContextError:
        return logging.getLogger("sciml.flows")


def release_memory() -> None:
    """Return freed heap memory to the OS after a large task or flow.

    Tasks run in threads; glibc keeps what a thread's arena freed (windows, spectra, training
    batches) mapped, so the resident size grows with every task. ``malloc_trim(0)`` hands it back
    (glibc only; elsewhere this only collects garbage).
    """
    gc.collect()
    name = ctypes.util.find_library("c")
    if name is None:
        return
    try:
        libc = ctypes.CDLL(name)
    except OSError:
        return
    if hasattr(libc, "malloc_trim"):
        libc.malloc_trim(0)


@task(retries=2, retry_delay_seconds=1, tags=["io"])
def write_dataset(name: str, ds: xr.Dataset, config: FlowConfig | None = None) -> str:
    """Write ``ds`` as catalog dataset ``name`` with provenance; returns ``name``."""
    cfg = config.model_dump(mode="json") if config is not None else {}
    prov = provenance_attrs(cfg, flow_run_id=flow_run_id(), producer_config=type(config).__name__)
    path = get_catalog().write(name, ds, prov)
    run_logger().info(f"wrote {name} -> {path}")
    return name


def write_figure(name: str, fig: Any, dpi: int = 110) -> str:
    """Save the matplotlib figure ``fig`` as the catalog figure ``name`` and close it; returns its path."""
    import matplotlib.pyplot as plt

    try:
        return get_catalog().write_figure(name, fig, dpi=dpi)
    finally:
        plt.close(fig)


#: widest embedded plot (px): the UI shows the thumbnail, the catalog keeps the full PNG
THUMBNAIL_WIDTH = 600
#: at most this many plots are embedded in one artifact; the rest are listed by path only
MAX_EMBEDDED_FIGURES = 6


def _png_thumbnail(path: str | Path, width: int = THUMBNAIL_WIDTH) -> bytes:
    """The PNG at ``path`` (local or fsspec URL), at most ``width`` px wide, as compact PNG bytes."""
    import fsspec
    from PIL import Image

    with fsspec.open(str(path), "rb") as f:
        img = Image.open(io.BytesIO(f.read()))
        img.load()
    if img.width > width:
        img = img.resize((width, max(1, round(img.height * width / img.width))), Image.Resampling.LANCZOS)
    # a transparent background shows as white, as in the saved figure on a page
    img = Image.alpha_composite(Image.new("RGBA", img.size, "white"), img.convert("RGBA"))
    # plots are a few flat colours: a 256-colour palette keeps them crisp at a third of the size
    img = img.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT)
    out = io.BytesIO()
    img.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _figure_markdown(figures: Sequence[str | Path], embed: bool) -> list[str]:
    """Markdown for the plots: each an inline ``data:image/png`` thumbnail plus its stored path."""
    lines = ["", "## Plots", ""]
    for i, f in enumerate(figures):
        name = Path(str(f)).stem.replace("_", " ")
        if embed and i < MAX_EMBEDDED_FIGURES:
            try:
                b64 = base64.b64encode(_png_thumbnail(f)).decode("ascii")
            except (OSError, ValueError) as exc:  # unreadable or not an image: list it only
                run_logger().warning(f"figure {f} not embedded in the artifact: {exc}")
            else:
                lines += [f"![{name}](data:image/png;base64,{b64})", "", f"_{name}_: `{f}`", ""]
                continue
        lines += [f"- {name}: `{f}`", ""]
    return lines


def publish_metrics(
    key: str, table: pd.DataFrame, title: str, figures: Sequence[str | Path] = (), notes: str = ""
) -> str:
    """Publish a keyed markdown artifact with the metrics ``table`` and the ``figures``.

    The Prefect UI renders the artifact: the table, the notes, then each figure as an inline PNG
    thumbnail (a ``data:image/png`` URI, at most :data:`THUMBNAIL_WIDTH` px wide, the first
    :data:`MAX_EMBEDDED_FIGURES` of them) above its full-size path in the catalog. Outside a flow
    run nothing is published or embedded: the markdown (figures by path) is only returned and
    logged. The log never carries the images.
    """
    md = [f"# {title}", "", table.to_markdown(floatfmt=".4g") if not table.empty else "_no rows_"]
    if notes:
        md += ["", notes]
    key = key.lower().replace("_", "-").replace("/", "-")
    text = "\n".join(md + (_figure_markdown(figures, embed=False) if figures else []))
    run_logger().info(f"metrics {key}:\n{text}")
    if flow_run_id() is None:
        return text
    published = "\n".join(md + (_figure_markdown(figures, embed=True) if figures else []))
    create_markdown_artifact(markdown=published, key=key, description=title)
    return published


def champion_challenger(
    workflow: str,
    state_dict: dict[str, Any],
    metrics: dict[str, float],
    config: FlowConfig,
    score: str = "test_mse",
    lower_is_better: bool = True,
) -> dict[str, Any]:
    """Save a challenger model version and promote it iff it beats the champion on ``score``.

    Returns a dict with ``version``, ``promoted``, ``champion`` (after the decision), and the
    ``challenger_score``/``champion_score``.
    """
    if score not in metrics:
        raise ConfigError(f"score {score!r} not among the challenger's metrics {sorted(metrics)}")
    cat = get_catalog()
    version = cat.save_model(workflow, state_dict, metrics, config.model_dump(mode="json"))
    try:
        champ = cat.model_info(workflow, "champion")
        champ_score = champ["metrics"].get(score)
    except ModelNotFoundError:
        champ, champ_score = None, None
    challenger_score = float(metrics[score])
    better = champ_score is None or (
        challenger_score < champ_score if lower_is_better else challenger_score > champ_score
    )
    if better:
        cat.promote(workflow, version)
    result = {
        "workflow": workflow,
        "version": version,
        "promoted": bool(better),
        "champion": version if better else champ["version"],
        "challenger_score": challenger_score,
        "champion_score": champ_score,
    }
    run_logger().info(f"champion/challenger {workflow}: {result}")
    return result


def default_task_runner():
    """Task runner chosen by the environment: ``SCIML_TASK_RUNNER=dask`` (with optional
    ``SCIML_DASK_ADDRESS`` of an existing scheduler, else a local cluster of
    ``SCIML_DASK_WORKERS`` workers) or the default thread pool."""
    kind = os.environ.get("SCIML_TASK_RUNNER", "thread")
    return make_task_runner(kind, os.environ.get("SCIML_DASK_ADDRESS"))


def make_task_runner(
    kind: str = "thread", address: str | None = None, n_workers: int | None = None
):
    """A Prefect task runner: ``thread`` (ThreadPoolTaskRunner) or ``dask`` (prefect-dask)."""
    if kind == "thread":
        from prefect.task_runners import ThreadPoolTaskRunner

        return ThreadPoolTaskRunner()
    if kind == "dask":
        from prefect_dask import DaskTaskRunner

        if address:
            return DaskTaskRunner(address=address)
        workers = n_workers or int(os.environ.get("SCIML_DASK_WORKERS", "2"))
        return DaskTaskRunner(
            cluster_kwargs={"n_workers": workers, "threads_per_worker": 1, "processes": True}
        )
    raise ConfigError(f"unknown task runner {kind!r}; use 'thread' or 'dask'")


def with_runner(flow: Flow, kind: str | None = None, address: str | None = None) -> Flow:
    """``flow`` with the chosen task runner (default: from the environment)."""
    runner = make_task_runner(kind, address) if kind else default_task_runner()
    return flow.with_options(task_runner=runner)
