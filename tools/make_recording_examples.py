"""Write the shipped example recordings (sciml/thermoacoustic/examples/recordings_<format>/).

Two runs of a rig recorded in three file formats (CSV folders, HDF5, TDMS), each with the same
closed-form signals, so that the loader's output is known exactly: the dynamic pressure is
``A(t) sin(2 pi f0 t)`` in Pa (A a linear ramp per run), a second probe sampled at twice the rate,
OH* a phase-shifted sinusoid, the slow channels linear ramps in units the loader converts (kPa,
psi, degC, g/s), and an ignition spike in the first 50 ms that the channel map's transient window
cuts away. ``python tools/make_recording_examples.py`` rewrites them identically.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import yaml

OUT = Path(__file__).resolve().parents[1] / "sciml" / "thermoacoustic" / "examples"
FS, FS2, SLOW, F0, FRAME_RATE = 1000.0, 2000.0, 20.0, 100.0, 25.0
DURATION, FAST_T0 = 1.0, 0.013
RUNS = {"run_a": (0.05, 0.10), "run_b": (0.20, -0.10)}  # amplitude ramp A = a0 + a1 t [bar]


def amplitude_bar(run: str, t: np.ndarray) -> np.ndarray:
    a0, a1 = RUNS[run]
    return a0 + a1 * t


def slow_channels(t: np.ndarray) -> dict[str, np.ndarray]:
    """Slow channels in the recorded units (the loader converts them to bar, K, kg/s)."""
    return {"PC": 10.0 + 2.0 * t, "PIOX": 1200.0 + 100.0 * t, "PIF": 160.0 + 10.0 * t,
            "TIOX": 110.0 + 0.0 * t, "TIF": -150.0 + 10.0 * t, "MOX": 0.5 + 0.1 * t,
            "MF": 80.0 + 5.0 * t}  # fmt: skip


def signals(run: str) -> dict[str, dict[str, np.ndarray]]:
    t_fast = FAST_T0 + np.arange(int(DURATION * FS)) / FS
    t_fast2 = FAST_T0 + np.arange(int(DURATION * FS2)) / FS2
    t_slow = np.arange(int(DURATION * SLOW) + 1) / SLOW
    spike = np.where(t_fast < 0.05, 5.0, 0.0)  # bar: the ignition transient
    pd1 = 1e5 * (amplitude_bar(run, t_fast) * np.sin(2 * np.pi * F0 * t_fast) + spike)
    pd2 = 1e5 * 0.8 * amplitude_bar(run, t_fast2) * np.sin(2 * np.pi * F0 * t_fast2 - 0.3)
    oh = 1.0 + 0.3 * np.sin(2 * np.pi * F0 * t_fast - 0.5)
    return {"fast": {"time": t_fast, "PD1": pd1, "OH": oh}, "fast2": {"time": t_fast2, "PD2": pd2},
            "slow": {"time": t_slow, **slow_channels(t_slow)}}  # fmt: skip


def channel_map(fmt: str) -> dict:
    return {
        "format": fmt, "fs": FS, "frame_rate": FRAME_RATE, "f0": F0, "band": [75.0, 125.0],
        "transients": {"ignition_s": 0.1, "shutdown_s": 0.05},
        "groups": {"fast": {"rate": FS}, "fast2": {"rate": FS2}, "slow": {"rate": SLOW}},
        "channels": {
            "p_dyn": {"group": "fast", "column": "PD1", "unit": "Pa"},
            "p_dyn_2": {"group": "fast2", "column": "PD2", "unit": "Pa"},
            "oh_star": {"group": "fast", "column": "OH", "unit": "a.u."},
            "p_c": {"group": "slow", "column": "PC", "unit": "bar"},
            "p_inj_ox": {"group": "slow", "column": "PIOX", "unit": "kPa"},
            "p_inj_f": {"group": "slow", "column": "PIF", "unit": "psi"},
            "T_inj_ox": {"group": "slow", "column": "TIOX", "unit": "K"},
            "T_inj_f": {"group": "slow", "column": "TIF", "unit": "degC"},
            "mdot_ox": {"group": "slow", "column": "MOX", "unit": "kg/s"},
            "mdot_f": {"group": "slow", "column": "MF", "unit": "g/s"},
        },
        "runs": {"run_a": {"split": "train"}, "run_b": {"split": "test", "band": [70.0, 130.0]}},
    }  # fmt: skip


def write(fmt: str, folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    (folder / "channels.yaml").write_text(yaml.safe_dump(channel_map(fmt), sort_keys=False))
    for run in RUNS:
        groups = signals(run)
        if fmt == "csv":
            import pandas as pd

            (folder / run).mkdir()
            for group, cols in groups.items():
                pd.DataFrame(cols).to_csv(folder / run / f"{group}.csv", index=False, float_format="%.9g")
        elif fmt == "hdf5":
            import h5py

            with h5py.File(folder / f"{run}.h5", "w") as fh:
                for group, cols in groups.items():
                    for col, values in cols.items():
                        fh.create_dataset(f"{group}/{col}", data=values, compression="gzip", shuffle=True)
        else:
            from nptdms import ChannelObject, TdmsWriter

            with TdmsWriter(folder / f"{run}.tdms") as writer:
                writer.write_segment([ChannelObject(group, col, values)
                                      for group, cols in groups.items() for col, values in cols.items()])


if __name__ == "__main__":
    for fmt in ("csv", "hdf5", "tdms"):
        write(fmt, OUT / f"recordings_{fmt}")
    print(f"wrote {OUT}")
