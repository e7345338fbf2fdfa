"""Recorded runs in: the shipped example folders (CSV, HDF5, TDMS) against their closed forms,
and every kind of bad input refused with the run file and the channel named."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

import sciml.thermoacoustic as ta
from sciml.errors import DataError
from sciml.thermoacoustic.recordings import load_folder

EXAMPLES = Path(ta.__file__).parent / "examples"
F0 = 100.0
RAMPS = {"run_a": (0.05, 0.10), "run_b": (0.20, -0.10)}


@pytest.fixture(scope="module")
def loaded():
    return {fmt: load_folder(EXAMPLES / f"recordings_{fmt}") for fmt in ("csv", "hdf5", "tdms")}


def test_every_format_gives_the_same_runs(loaded):
    ref = loaded["csv"]
    for fmt in ("hdf5", "tdms"):
        for name in ref.data_vars:
            np.testing.assert_allclose(loaded[fmt][name].values, ref[name].values, rtol=1e-6,
                                       atol=1e-9, err_msg=f"{fmt} {name}")  # fmt: skip
        assert list(loaded[fmt].run.values) == ["run_a", "run_b"]


def test_runs_match_the_closed_forms_they_were_recorded_from(loaded):
    ds = loaded["csv"]
    t0 = 0.013 + 0.1  # the fast group's first sample, plus the ignition window cut away
    np.testing.assert_allclose(ds.t_start.values, [t0, t0])
    ends = t0 + ds.time.values  # the layout's frame end times, on the recording's clock
    np.testing.assert_allclose(ds.p_c.isel(run=0).values, 10.0 + 2.0 * ends, rtol=1e-9)
    np.testing.assert_allclose(ds.p_inj_ox.isel(run=0).values, (1200.0 + 100.0 * ends) * 1e-2, rtol=1e-9)
    np.testing.assert_allclose(ds.p_inj_f.isel(run=0).values, (160.0 + 10.0 * ends) * 0.0689475729,
                               rtol=1e-9)  # fmt: skip
    np.testing.assert_allclose(ds.T_inj_f.isel(run=0).values, -150.0 + 10.0 * ends + 273.15, rtol=1e-9)
    np.testing.assert_allclose(ds.mdot_f.isel(run=0).values, (80.0 + 5.0 * ends) * 1e-3, rtol=1e-9)
    t_fast = t0 + ds.time_fast.values
    for i, run in enumerate(ds.run.values):
        a0, a1 = RAMPS[str(run)]
        expected = (a0 + a1 * t_fast) * np.sin(2 * np.pi * F0 * t_fast)
        np.testing.assert_allclose(ds.p_dyn.isel(run=i).values, expected, atol=1e-6)  # Pa -> bar
        # the band amplitude of a linear ramp is its mean over the frame (4 periods per frame)
        mid = t0 + ds.time.values - 0.5 / 25.0
        np.testing.assert_allclose(ds.amplitude.isel(run=i).values, a0 + a1 * mid, rtol=2e-3)
        # the second probe, recorded at twice the rate, resampled onto the fast grid
        probe2 = 0.8 * (a0 + a1 * t_fast) * np.sin(2 * np.pi * F0 * t_fast - 0.3)
        inner = slice(50, -50)  # away from the polyphase filter's edges
        np.testing.assert_allclose(ds.p_dyn_2.isel(run=i).values[inner], probe2[inner], atol=2e-3)
    assert float(np.abs(ds.p_dyn).max()) < 0.2  # the 5 bar ignition spike is cut
    assert ds.split.values.tolist() == ["train", "test"]
    assert ds.mode_band_lo.values.tolist() == [75.0, 70.0]
    assert ds.mode_band_hi.values.tolist() == [125.0, 130.0]
    assert ds.attrs["fs"] == 1000.0 and ds.sizes["time_fast"] == 40 * ds.sizes["time"]


def test_a_folder_is_imported_as_a_catalog_version(catalog):
    version = catalog.import_file("thermoacoustic/recordings", EXAMPLES / "recordings_tdms")
    ds = catalog.open("thermoacoustic/recordings")
    assert ds.attrs["catalog_version"] == version and ds.sizes["run"] == 2
    assert ds.attrs["imported_from"].endswith("recordings_tdms")


def _copy(tmp_path: Path) -> Path:
    folder = tmp_path / "runs"
    shutil.copytree(EXAMPLES / "recordings_csv", folder)
    return folder


def _edit_map(folder: Path, change) -> None:
    spec = yaml.safe_load((folder / "channels.yaml").read_text())
    change(spec)
    (folder / "channels.yaml").write_text(yaml.safe_dump(spec))


def _edit_csv(folder: Path, run: str, group: str, change) -> None:
    path = folder / run / f"{group}.csv"
    frame = pd.read_csv(path)
    change(frame).to_csv(path, index=False)


@pytest.mark.parametrize("case, match", [
    ("missing column", r"run file .*run_b/slow.csv: no column 'PC'"),
    ("wrong unit", r"channel 'p_c' is a pressure; unit 'K' is a temperature"),
    ("unknown unit", r"channel 'p_c' has unknown unit 'atm'"),
    ("nan stretch", r"run_a/fast.csv.*channel 'oh_star' \(fast/OH\) holds 30 NaN .* from t = 0\.5"),
    ("different lengths", r"runs have different lengths .*'run_a': 20, 'run_b': 1[0-9]"),
    ("rate mismatch", r"run_b/slow.csv.*group 'slow' is declared at 20 Hz but its timestamps are 10 Hz"),
    ("no channel map", r"has no channels.yaml"),
    ("unmapped channel", r"lacks required channels \['mdot_f'\]"),
    ("unknown run", r"runs \['run_z'\] are configured but not in"),
])  # fmt: skip
def test_bad_recordings_are_refused_naming_the_file_and_channel(tmp_path, case, match):
    folder = _copy(tmp_path)
    if case == "missing column":
        _edit_csv(folder, "run_b", "slow", lambda f: f.drop(columns=["PC"]))
    elif case == "wrong unit":
        _edit_map(folder, lambda s: s["channels"]["p_c"].update(unit="K"))
    elif case == "unknown unit":
        _edit_map(folder, lambda s: s["channels"]["p_c"].update(unit="atm"))
    elif case == "nan stretch":
        def holes(f):
            f.loc[(f.time >= 0.5) & (f.time < 0.53), "OH"] = np.nan
            return f
        _edit_csv(folder, "run_a", "fast", holes)
    elif case == "different lengths":
        for group in ("fast", "fast2", "slow"):
            _edit_csv(folder, "run_b", group, lambda f: f[f.time < 0.7])
    elif case == "rate mismatch":
        _edit_csv(folder, "run_b", "slow", lambda f: f.assign(time=2 * f.time))
    elif case == "no channel map":
        (folder / "channels.yaml").unlink()
    elif case == "unmapped channel":
        _edit_map(folder, lambda s: s["channels"].pop("mdot_f"))
    elif case == "unknown run":
        _edit_map(folder, lambda s: s["runs"].update(run_z={"split": "val"}))
    with pytest.raises(DataError, match=match):
        load_folder(folder)


def test_runs_of_different_lengths_can_be_truncated(tmp_path):
    folder = _copy(tmp_path)
    for group in ("fast", "fast2", "slow"):
        _edit_csv(folder, "run_b", group, lambda f: f[f.time < 0.7])
    _edit_map(folder, lambda s: s.update(lengths="truncate"))
    ds = load_folder(folder)
    # run_b's slow group now ends at 0.65 s: (0.65 - 0.05 shutdown - 0.113 start) * 25 Hz = 12 frames
    assert ds.sizes["time"] == 12 and ds.sizes["time_fast"] == 12 * 40
