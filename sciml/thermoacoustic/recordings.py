r"""A test engineer's recordings: a folder of runs (CSV, HDF5 or TDMS) and a channel map -> run layout.

A rig records each run as one file (HDF5, TDMS) or one folder of CSV files per channel group, each
group with its own time base and sample rate: the fast acoustic sensors at tens of kHz, the slow
plant sensors at tens of Hz. :func:`load_folder` reads a folder of such runs with the channel map
``channels.yaml`` beside them and returns the run layout of :mod:`sciml.thermoacoustic.data`:

1. each layout channel (``p_dyn``, ``oh_star``, ``p_c``, ...) is read from its group and column,
   converted to the layout's unit (``bar``, ``K``, ``kg/s``; OH\* in arbitrary units);
2. every group's timestamps are checked against its declared sample rate, and NaN stretches,
   missing channels and unknown units are refused, naming the run file and the channel;
3. the common window of all groups is cut, less the ignition and shutdown transients
   (``transients``); fast channels are put on the grid :math:`t_0 + i/f_s` (resampled by a
   polyphase filter when recorded at another rate), slow channels are interpolated at the frame
   end times :math:`t_0 + (k + 1)/f_\text{frame}`;
4. the target amplitude is the band amplitude of ``p_dyn`` per frame, in each run's own mode band
   (``runs: {<run>: {band: [lo, hi]}}``, else the map's ``band``); further dynamic-pressure probes
   (``p_dyn_2``, ``p_dyn_3``, ...) are carried as extra fast channels.

The channel map (YAML)::

    format: csv                 # csv | hdf5 | tdms
    fs: 2000                    # fast sample rate [Hz] of the layout
    frame_rate: 50              # frames per second
    f0: 200                     # nominal mode frequency [Hz]
    band: [150, 250]            # default mode band [Hz]
    transients: {ignition_s: 0.1, shutdown_s: 0.05}
    lengths: equal              # equal (runs of different lengths are an error) | truncate
    groups:                     # per group: its declared sample rate [Hz]
      fast: {rate: 2000}
      slow: {rate: 20}
    channels:                   # layout channel -> group, column in the file, unit
      p_dyn:   {group: fast, column: PD1, unit: Pa}
      oh_star: {group: fast, column: OH, unit: a.u.}
      p_c:     {group: slow, column: PC, unit: bar}
      ...
    runs:                       # optional, per run (file stem): split and mode band
      run_a: {split: train, band: [140, 260]}
    split: {fractions: [0.6, 0.2, 0.2], seed: 0}   # for runs without a declared split

Files per run: ``csv``: a folder ``<run>/`` with ``<group>.csv`` holding a ``time`` column [s] and
the channel columns; ``hdf5``: ``<run>.h5`` with datasets ``/<group>/time`` and
``/<group>/<column>``; ``tdms``: ``<run>.tdms`` with a group per channel group, holding a ``time``
channel and the channel columns.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr
import yaml

from sciml.errors import DataError
from sciml.thermoacoustic.data import REQUIRED_FAST, REQUIRED_FRAME, UNITS, split_runs, validate_runs
from sciml.thermoacoustic.simulator import CombustorParams, frame_amplitude

__all__ = ["CHANNEL_MAP", "FORMATS", "load_folder", "read_channel_map"]

CHANNEL_MAP = "channels.yaml"
FORMATS = ("csv", "hdf5", "tdms")

# unit -> (quantity, factor, offset): value_in_layout_unit = factor * value + offset
_UNIT_TABLE: dict[str, tuple[str, float, float]] = {
    "bar": ("pressure", 1.0, 0.0), "mbar": ("pressure", 1e-3, 0.0), "Pa": ("pressure", 1e-5, 0.0),
    "kPa": ("pressure", 1e-2, 0.0), "MPa": ("pressure", 10.0, 0.0),
    "psi": ("pressure", 0.0689475729, 0.0),
    "K": ("temperature", 1.0, 0.0), "degC": ("temperature", 1.0, 273.15),
    "kg/s": ("mass flow", 1.0, 0.0), "g/s": ("mass flow", 1e-3, 0.0),
    "a.u.": ("intensity", 1.0, 0.0), "V": ("intensity", 1.0, 0.0), "counts": ("intensity", 1.0, 0.0),
}  # fmt: skip
_QUANTITY = {"p_dyn": "pressure", "p_c": "pressure", "p_inj_ox": "pressure", "p_inj_f": "pressure",
             "T_inj_ox": "temperature", "T_inj_f": "temperature", "mdot_ox": "mass flow",
             "mdot_f": "mass flow", "oh_star": "intensity"}  # fmt: skip
_RATE_TOLERANCE = 0.01


@dataclass(frozen=True)
class _Channel:
    name: str
    group: str
    column: str
    unit: str


def _quantity(name: str) -> str:
    return "pressure" if name.startswith("p_dyn") else _QUANTITY.get(name, "")


def read_channel_map(folder: str | Path) -> dict[str, Any]:
    """The parsed and checked ``channels.yaml`` of ``folder``.

    Raises
    ------
    DataError
        A missing or malformed map, an unknown format or unit, a unit of the wrong quantity, a
        required layout channel it does not map, a channel in an undeclared group.
    """
    path = Path(folder) / CHANNEL_MAP
    if not path.is_file():
        raise DataError(f"{str(folder)!r} has no {CHANNEL_MAP}: the channel map is required")
    try:
        spec = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise DataError(f"{path}: not valid YAML ({exc})") from exc
    for key in ("format", "fs", "frame_rate", "f0", "band", "groups", "channels"):
        if key not in spec:
            raise DataError(f"{path}: missing key {key!r}")
    if spec["format"] not in FORMATS:
        raise DataError(f"{path}: format {spec['format']!r}; use one of {FORMATS}")
    if spec.get("lengths", "equal") not in ("equal", "truncate"):
        raise DataError(f"{path}: lengths {spec['lengths']!r}; use 'equal' or 'truncate'")
    groups = spec["groups"]
    channels = []
    for name, ch in spec["channels"].items():
        if not isinstance(ch, dict) or not {"group", "column", "unit"} <= set(ch):
            raise DataError(f"{path}: channel {name!r} needs group, column and unit")
        if ch["group"] not in groups or "rate" not in groups[ch["group"]]:
            raise DataError(f"{path}: channel {name!r} is in group {ch['group']!r}, which declares no rate")
        unit = str(ch["unit"])
        if unit not in _UNIT_TABLE:
            raise DataError(
                f"{path}: channel {name!r} has unknown unit {unit!r}; known: {sorted(_UNIT_TABLE)}"
            )
        want = _quantity(name)
        if not want:
            raise DataError(
                f"{path}: channel {name!r} is not a layout channel ({REQUIRED_FAST + REQUIRED_FRAME})"
            )
        if _UNIT_TABLE[unit][0] != want:
            raise DataError(
                f"{path}: channel {name!r} is a {want}; unit {unit!r} is a {_UNIT_TABLE[unit][0]}"
            )
        channels.append(_Channel(name, str(ch["group"]), str(ch["column"]), unit))
    missing = [c for c in REQUIRED_FAST + REQUIRED_FRAME if c not in {ch.name for ch in channels}]
    if missing:
        raise DataError(f"{path}: the channel map lacks required channels {missing}")
    return {**spec, "channels": channels, "path": str(path)}


def _run_sources(folder: Path, fmt: str) -> list[Path]:
    if fmt == "csv":
        found = sorted(p for p in folder.iterdir() if p.is_dir() and any(p.glob("*.csv")))
    elif fmt == "hdf5":
        found = sorted(p for p in folder.iterdir() if p.suffix in {".h5", ".hdf5"})
    else:
        found = sorted(folder.glob("*.tdms"))
    if not found:
        raise DataError(f"{str(folder)!r} holds no {fmt} runs")
    return found


def _group_file(source: Path, fmt: str, group: str) -> Path:
    """The file holding ``group`` of the run at ``source`` (its own CSV file, or the run file)."""
    return source / f"{group}.csv" if fmt == "csv" else source


def _read_group(source: Path, fmt: str, group: str, columns: list[str]) -> dict[str, np.ndarray]:
    """``time`` and ``columns`` of one channel group of one run, as float64 arrays."""
    wanted = ["time", *columns]
    if fmt == "csv":
        import pandas as pd

        file = source / f"{group}.csv"
        if not file.is_file():
            raise DataError(f"run {source.name}: no file {file.name} for channel group {group!r}")
        frame = pd.read_csv(file)
        out = {}
        for col in wanted:
            if col not in frame.columns:
                raise DataError(f"run file {file}: no column {col!r} (group {group!r})")
            out[col] = pd.to_numeric(frame[col], errors="coerce").to_numpy(np.float64)
        return out
    if fmt == "hdf5":
        import h5py

        with h5py.File(source, "r") as fh:
            if group not in fh:
                raise DataError(f"run file {source}: no group {group!r}")
            out = {}
            for col in wanted:
                if col not in fh[group]:
                    raise DataError(f"run file {source}: no channel {group}/{col}")
                out[col] = np.asarray(fh[group][col][...], dtype=np.float64)
            return out
    from nptdms import TdmsFile

    tdms = TdmsFile.read(source)
    names = [g.name for g in tdms.groups()]
    if group not in names:
        raise DataError(f"run file {source}: no TDMS group {group!r} (has {names})")
    g = tdms[group]
    have = [c.name for c in g.channels()]
    out = {}
    for col in wanted:
        if col not in have:
            raise DataError(f"run file {source}: no channel {group}/{col}")
        out[col] = np.asarray(g[col][:], dtype=np.float64)
    return out


def _check_group(source: Path, group: str, data: dict[str, np.ndarray], rate: float,
                 names: dict[str, str]) -> None:  # fmt: skip
    """Timestamps increasing and at the declared rate; every channel finite, as long as its time."""
    t = data["time"]
    if t.size < 2 or not np.all(np.isfinite(t)) or np.any(np.diff(t) <= 0):
        raise DataError(f"run file {source}: group {group!r} has a time column that is not increasing")
    measured = 1.0 / float(np.median(np.diff(t)))
    if abs(measured - rate) > _RATE_TOLERANCE * rate:
        raise DataError(
            f"run file {source}: group {group!r} is declared at {rate:g} Hz but its timestamps are "
            f"{measured:.6g} Hz apart"
        )
    for col, values in data.items():
        if col == "time" or values.size != t.size:
            if values.size != t.size:
                raise DataError(f"run file {source}: channel {names[col]!r} ({group}/{col}) has "
                                f"{values.size} samples, its time column {t.size}")  # fmt: skip
            continue
        bad = ~np.isfinite(values)
        if bad.any():
            idx = np.flatnonzero(bad)
            raise DataError(
                f"run file {source}: channel {names[col]!r} ({group}/{col}) holds {idx.size} NaN or "
                f"inf samples from t = {t[idx[0]]:.6g} s to {t[idx[-1]]:.6g} s"
            )


def _on_fast_grid(t: np.ndarray, x: np.ndarray, rate: float, fs: float, grid: np.ndarray) -> np.ndarray:
    """A fast channel on the layout's fast grid (polyphase resampling when ``rate != fs``)."""
    if abs(rate - fs) > _RATE_TOLERANCE * fs:
        from scipy.signal import resample_poly

        ratio = Fraction(fs / rate).limit_denominator(1000)
        x = resample_poly(x, ratio.numerator, ratio.denominator)
        t = t[0] + np.arange(x.size) / fs
    return np.interp(grid, t, x)


def _load_run(source: Path, spec: dict[str, Any]) -> tuple[dict[str, np.ndarray], float, int]:
    """One run's channels in layout units: fast on the fast grid, slow at frame ends."""
    fs, frame_rate = float(spec["fs"]), float(spec["frame_rate"])
    trans = spec.get("transients") or {}
    groups: dict[str, list[_Channel]] = {}
    for ch in spec["channels"]:
        groups.setdefault(ch.group, []).append(ch)
    data = {}
    for group, chans in groups.items():
        rate = float(spec["groups"][group]["rate"])
        raw = _read_group(source, spec["format"], group, [c.column for c in chans])
        _check_group(_group_file(source, spec["format"], group), group, raw, rate,
                     {c.column: c.name for c in chans} | {"time": "time"})  # fmt: skip
        data[group] = (rate, raw, chans)
    t0 = max(raw["time"][0] for _, raw, _ in data.values()) + float(trans.get("ignition_s", 0.0))
    t1 = min(raw["time"][-1] for _, raw, _ in data.values()) - float(trans.get("shutdown_s", 0.0))
    n_frames = int(np.floor((t1 - t0) * frame_rate + 1e-9))
    if n_frames < 2:
        raise DataError(f"run {source.name}: fewer than 2 frames remain after the transients are cut")
    per_frame = int(round(fs / frame_rate))
    fast_grid = t0 + np.arange(n_frames * per_frame) / fs
    frame_ends = t0 + np.arange(1, n_frames + 1) / frame_rate
    out = {}
    for rate, raw, chans in data.values():
        for ch in chans:
            _, factor, offset = _UNIT_TABLE[ch.unit]
            values = factor * raw[ch.column] + offset
            if ch.name in REQUIRED_FAST or ch.name.startswith("p_dyn"):
                out[ch.name] = _on_fast_grid(raw["time"], values, rate, fs, fast_grid)
            else:
                out[ch.name] = np.interp(frame_ends, raw["time"], values)
    return out, t0, n_frames


def load_folder(folder: str | Path) -> xr.Dataset:
    """Read a folder of recorded runs and its ``channels.yaml`` into the run layout.

    Returns
    -------
    xarray.Dataset
        The layout of :mod:`sciml.thermoacoustic.data` (checked by
        :func:`~sciml.thermoacoustic.data.validate_runs`), with the per-run mode band
        (``mode_band_lo``/``mode_band_hi``), each run's start time after the transients
        (``t_start``) and the source files in ``attrs``.

    Raises
    ------
    DataError
        Naming the run file and the channel: a missing file, group or channel, a unit that does not
        fit, a NaN stretch, timestamps that disagree with the declared rate, runs of different
        lengths (unless ``lengths: truncate``).
    """
    folder = Path(folder)
    spec = read_channel_map(folder)
    sources = _run_sources(folder, spec["format"])
    per_run = spec.get("runs") or {}
    unknown = sorted(set(per_run) - {s.stem for s in sources})
    if unknown:
        raise DataError(f"{spec['path']}: runs {unknown} are configured but not in {str(folder)!r}")
    loaded = [_load_run(s, spec) for s in sources]
    lengths = {s.stem: n for s, (_, _, n) in zip(sources, loaded, strict=True)}
    if len(set(lengths.values())) > 1 and spec.get("lengths", "equal") == "equal":
        raise DataError(
            f"runs have different lengths after the transients are cut (frames: {lengths}); set "
            f"'lengths: truncate' in {CHANNEL_MAP} to cut every run to the shortest"
        )
    n_frames = min(lengths.values())
    fs, frame_rate = float(spec["fs"]), float(spec["frame_rate"])
    per_frame = int(round(fs / frame_rate))
    names = [s.stem for s in sources]
    fast = sorted({k for run, _, _ in loaded for k in run if k in REQUIRED_FAST or k.startswith("p_dyn")})
    slow = [c for c in REQUIRED_FRAME]
    dv: dict[str, Any] = {}
    for k in fast:
        missing = [n for n, (run, _, _) in zip(names, loaded, strict=True) if k not in run]
        if missing:
            raise DataError(f"channel {k!r} is missing from runs {missing}")
        stacked = np.stack([run[k][: n_frames * per_frame] for run, _, _ in loaded])
        dv[k] = (("run", "time_fast"), stacked.astype(np.float32))
    for k in slow:
        dv[k] = (("run", "time"), np.stack([run[k][:n_frames] for run, _, _ in loaded]))
    band = [tuple(map(float, per_run.get(n, {}).get("band", spec["band"]))) for n in names]
    amp = np.empty((len(names), n_frames))
    for i, b in enumerate(band):
        params = CombustorParams(fs=fs, frame_rate=frame_rate, f0=float(spec["f0"]), band=b).validate()
        amp[i] = frame_amplitude(dv["p_dyn"][1][i].astype(np.float64), params)
    dv["amplitude"] = (("run", "time"), amp)
    dv["mode_band_lo"] = (("run",), np.array([b[0] for b in band]))
    dv["mode_band_hi"] = (("run",), np.array([b[1] for b in band]))
    dv["t_start"] = (("run",), np.array([t0 for _, t0, _ in loaded]))
    declared = [per_run.get(n, {}).get("split") for n in names]
    split_cfg = spec.get("split") or {}
    if any(d is None for d in declared):  # a seeded random split for the runs that declare none
        drawn = split_runs(len(names), tuple(split_cfg.get("fractions", (0.6, 0.2, 0.2))),
                           int(split_cfg.get("seed", 0)))  # fmt: skip
        declared = [d if d is not None else str(s) for d, s in zip(declared, drawn, strict=True)]
    split = np.asarray(declared, dtype=str)
    ds = xr.Dataset(dv, coords={
        "run": np.asarray(names, dtype=str), "split": ("run", split),
        "time": np.arange(1, n_frames + 1) / frame_rate,
        "time_fast": np.arange(n_frames * per_frame) / fs,
    })  # fmt: skip
    for k, (unit, long_name) in UNITS.items():
        if k in ds:
            ds[k].attrs.update(units=unit, long_name=long_name)
    for k in fast:
        if k not in UNITS:
            ds[k].attrs.update(units="bar", long_name=f"dynamic pressure, probe {k.removeprefix('p_dyn_')}")
    ds["amplitude"].attrs["long_name"] = "band amplitude of p_dyn in the run's mode band"
    ds["t_start"].attrs.update(units="s", long_name="recording time of the first sample kept")
    ds.attrs.update(
        description=f"Recorded runs read from {folder.name} ({spec['format']})",
        fs=fs, frame_rate=frame_rate, f0=float(spec["f0"]),
        band_lo=float(spec["band"][0]), band_hi=float(spec["band"][1]),
        source_files=json.dumps([s.name for s in sources]),
    )  # fmt: skip
    return validate_runs(ds)
