"""Metrics artifacts: the table, and each plot embedded as a small PNG a browser can show."""

from __future__ import annotations

import base64
import io
import re

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
from PIL import Image  # noqa: E402

from flows.artifacts import THUMBNAIL_WIDTH, _figure_markdown, publish_metrics  # noqa: E402


def _png(tmp_path, name="wide.png", width_in=12):
    fig, ax = plt.subplots(figsize=(width_in, 3))
    ax.plot([0, 1], [0, 1])
    path = tmp_path / name
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def test_plots_are_embedded_as_thumbnails_with_their_path(tmp_path):
    path = _png(tmp_path)  # 1200 px wide
    md = "\n".join(_figure_markdown([path, tmp_path / "missing.png"], embed=True))
    data = re.search(r"\(data:image/png;base64,([A-Za-z0-9+/=]+)\)", md)
    img = Image.open(io.BytesIO(base64.b64decode(data.group(1))))
    assert img.width == THUMBNAIL_WIDTH and img.height == 150  # aspect kept
    assert f"`{path}`" in md
    assert "- missing: `" in md and md.count("data:image/png") == 1  # unreadable: listed only


def test_outside_a_run_the_markdown_lists_paths_only(tmp_path):
    path = _png(tmp_path)
    md = publish_metrics("demo", pd.DataFrame({"rmse": [0.25]}), "Demo", figures=[path])
    table = md.splitlines()[2:5]  # the markdown table under the title
    assert "rmse" in table[0] and "0.25" in table[2]
    assert str(path) in md and "base64" not in md
