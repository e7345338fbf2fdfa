"""Prefect artifacts of the flows: a metrics table with the run's plots embedded for the UI."""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence
from pathlib import Path

import pandas as pd
from prefect.artifacts import create_markdown_artifact

from flows.common import flow_run_id, run_logger

__all__ = ["MAX_EMBEDDED_FIGURES", "THUMBNAIL_WIDTH", "publish_metrics"]


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


