"""Figures of the thermoacoustic results: forecast bands, uncertainty around a sensor failure, and
the attribution map.

Sengupta et al. (arXiv 2107.06396), Sec. 4: the 90% predictive band of each Bayesian forecaster
500 ms ahead on a held-out run with its instability onsets; epistemic and aleatoric std before and
after the dynamic-pressure sensor fails; integrated gradients of the forecast over input channels
and lags. Pure functions: datasets in, matplotlib figures out (Agg backend); the flow writes them
through the catalog.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import xarray as xr  # noqa: E402

from sciml.thermoacoustic.metrics import detect_onsets  # noqa: E402

__all__ = ["attribution_figure", "figures", "forecast_bands_figure", "sensor_failure_figure"]


def forecast_bands_figure(forecasts: xr.Dataset, threshold: float, quiet_frames: int) -> plt.Figure:
    """Observed amplitude, each Bayesian model's mean and 90% band at the longest horizon, on the
    held-out run with the most onsets (red: onsets, grey: the instability threshold [bar])."""
    onset = detect_onsets(forecasts.amplitude.values, threshold, quiet_frames)
    r = int(np.argmax(onset.sum(axis=1)))
    h = float(forecasts.horizon[-1])
    t = forecasts.time.values
    fig, ax = plt.subplots(figsize=(10, 4))
    ax.plot(t, forecasts.amplitude.isel(run=r), "k", lw=1, label="observed amplitude")
    for m, c in (("anchored_ensemble", "C0"), ("bnn", "C1")):
        if m not in forecasts.model:
            continue
        sel = forecasts.sel(model=m, horizon=h).isel(run=r)
        tt = t + h / 1000.0
        ax.plot(tt, sel["mean"], c, lw=1, label=f"{m} mean (+{h:.0f} ms)")
        ax.fill_between(tt, sel["mean"] - 1.645 * sel.total_std, sel["mean"] + 1.645 * sel.total_std,
                        color=c, alpha=0.2, label=f"{m} 90% band")  # fmt: skip
    for k in np.flatnonzero(onset[r]):
        ax.axvline(t[k], color="r", ls="--", lw=1)
    ax.axhline(threshold, color="gray", ls=":", lw=1)
    title = f"held-out run {forecasts.run.values[r]}: forecasts {h:.0f} ms ahead (red: onsets)"
    ax.set(xlabel="time [s]", ylabel="1T amplitude [bar]", title=title)
    ax.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    return fig


def sensor_failure_figure(failure: xr.Dataset) -> plt.Figure:
    """The response to the dynamic-pressure sensor failing (zeroed), mean over test runs:
    epistemic std (left, nominal vs failed inputs) and aleatoric std (right: the network's raw
    aleatoric and the off-data-reverted one, with the nominal level for reference)."""
    t = failure.time.values
    fig, (ax_e, ax_a) = plt.subplots(1, 2, figsize=(13, 4), sharex=True)
    for m, c in zip(failure.model.values, ("C0", "C1"), strict=False):
        s = failure.sel(model=m, sensor="p_dyn", failure_mode="zeroed")
        ax_e.plot(t, s.epistemic_std_nominal_t.mean("run"), c, ls=":", label=f"{m} nominal")
        ax_e.plot(t, s.epistemic_std_t.mean("run"), c, label=f"{m} p_dyn zeroed")
        ax_a.plot(t, s.aleatoric_std_nominal_t.mean("run"), c, ls=":", label=f"{m} nominal")
        ax_a.plot(t, s.aleatoric_std_raw_t.mean("run"), c, label=f"{m} failed, raw")
        ax_a.plot(t, s.aleatoric_std_t.mean("run"), c, ls="--", label=f"{m} failed, reverted")
    for ax, what in ((ax_e, "epistemic"), (ax_a, "aleatoric")):
        ax.axvline(failure.attrs["fail_time_s"], color="r", lw=1)
        ax.set(yscale="log", xlabel="time [s]", ylabel=f"{what} std [bar] (mean over test runs)")
        ax.legend(fontsize=7)
    fig.suptitle("uncertainty before/after the dynamic-pressure sensor fails (red line)")
    fig.tight_layout()
    return fig


def attribution_figure(attributions: xr.Dataset) -> plt.Figure:
    """Mean |integrated gradients| of the longest-horizon forecast per input channel and lag."""
    fig, ax = plt.subplots(figsize=(8, 4))
    im = ax.pcolormesh(attributions.lag.values, np.arange(attributions.sizes["channel"]),
                       attributions.mean_abs_history.values, shading="nearest", cmap="viridis")  # fmt: skip
    ax.set_yticks(np.arange(attributions.sizes["channel"]), attributions.channel.values, fontsize=7)
    ax.set(xlabel="lag [ms]", title="mean |integrated gradients| of the 500 ms forecast")
    fig.colorbar(im, ax=ax)
    fig.tight_layout()
    return fig


def figures(
    forecasts: xr.Dataset, failure: xr.Dataset, attributions: xr.Dataset, threshold: float,
    quiet_frames: int,
) -> dict[str, plt.Figure]:  # fmt: skip
    """The flow's three figures by name."""
    return {
        "forecast_bands": forecast_bands_figure(forecasts, threshold, quiet_frames),
        "sensor_failure": sensor_failure_figure(failure),
        "attributions": attribution_figure(attributions),
    }
