"""Figures of the LightSB workflow: 2-D samples and simulated Schrödinger bridges.

Korotin, Gushchin, Burnaev, "Light Schrödinger Bridge", ICLR 2024, Section 5.1 and Fig. 3:
source, exact target and LightSB samples of each 2-D benchmark pair, and trajectories of the
learned SB process over the target cloud (the 2-D pairs and the Gaussian-to-Swiss-roll example).
Pure functions: arrays in, matplotlib figures out (Agg backend); the flow writes them through
the catalog.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from sciml.schrodinger.experiment import Examples

__all__ = ["figures", "plot_samples", "plot_trajectories"]


def plot_samples(x: np.ndarray, y_true: np.ndarray, y_fit: np.ndarray, title: str = ""):
    """Scatter of source, true target and LightSB samples (first two coordinates)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(1, 3, figsize=(12, 4), sharex=True, sharey=True)
    for a, pts, name, col in zip(
        ax, (x, y_true, y_fit), ("source P0", "target P1 (exact)", "LightSB"),
        ("tab:blue", "tab:green", "tab:orange"), strict=True,
    ):
        a.scatter(pts[:, 0], pts[:, 1], s=2, alpha=0.4, color=col)
        a.set_title(name)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_trajectories(path: np.ndarray, target: np.ndarray, n_show: int = 64, title: str = ""):
    """SB trajectories (T, n, 2) over the target cloud: start, paths, and end points."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 6))
    ax.scatter(target[:, 0], target[:, 1], s=2, alpha=0.2, color="tab:green", label="target")
    ax.scatter(path[-1, :, 0], path[-1, :, 1], s=2, alpha=0.3, color="tab:orange",
               label="X_1 (simulated)")
    k = min(n_show, path.shape[1])
    for i in range(k):
        ax.plot(path[:, i, 0], path[:, i, 1], lw=0.6, color="k", alpha=0.5)
    ax.scatter(path[0, :k, 0], path[0, :k, 1], s=8, color="tab:blue", label="X_0", zorder=3)
    ax.legend(loc="upper right", markerscale=3)
    ax.set_title(title)
    fig.tight_layout()
    return fig


def figures(examples: Examples) -> dict[str, Figure]:
    """Every figure of a run by name: ``samples_<example>`` of each 2-D pair, then
    ``trajectories_<example>`` of every simulated example.

    Korotin et al., ICLR 2024, Section 5.1 and Fig. 3.

    Parameters
    ----------
    examples : Examples
        From :func:`~sciml.schrodinger.experiment.simulate_examples`.

    Returns
    -------
    dict of matplotlib.figure.Figure
        Open figures; the caller saves and closes them.
    """
    out = {
        f"samples_{name}": plot_samples(x, y_true, y_fit,
                                        f"D=2, eps={examples.eps[name]:g}: samples")
        for name, (x, y_true, y_fit) in examples.samples.items()
    }  # fmt: skip
    for name, path in examples.paths.items():
        out[f"trajectories_{name}"] = plot_trajectories(path, examples.targets[name],
                                                        title=f"LightSB bridge: {name}")
    return out
