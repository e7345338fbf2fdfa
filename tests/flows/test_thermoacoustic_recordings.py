"""The thermoacoustic flow on a user's recordings, imported into the catalog by name."""

from __future__ import annotations

import numpy as np

from flows.thermoacoustic import ThermoacousticConfig, thermoacoustic_flow
from sciml.cli import main
from sciml.thermoacoustic.experiment import ORACLE_ONLY, simulate_dataset


def test_flow_forecasts_imported_recordings(prefect_harness, catalog, tmp_path, capsys):
    cfg = ThermoacousticConfig.for_profile("tiny", source="recordings")
    sim = simulate_dataset(cfg)  # stand-in recordings: the simulator's sensors, without its state
    user = sim.drop_vars([*ORACLE_ONLY, "amplitude"])
    user = user.assign_coords({k: user[k].astype(object) for k in user.coords if user[k].dtype.kind == "U"})
    user.to_zarr(tmp_path / "rig.zarr", consolidated=False)
    assert main(["catalog", "import", "thermoacoustic/recordings", str(tmp_path / "rig.zarr")]) == 0
    assert "imported" in capsys.readouterr().out

    names = thermoacoustic_flow(config=cfg)
    assert names["runs"] == "thermoacoustic/recordings"
    assert not catalog.exists("thermoacoustic/runs")  # nothing was simulated
    met = catalog.open("thermoacoustic/metrics").load()
    # no simulator state, no re-simulation oracle: the ratio is missing, the scores are not
    assert np.all(np.isnan(met["crps_oracle_ratio"].values))
    assert np.all(np.isfinite(met["crps"].sel(model="anchored_ensemble").values))
    fc = catalog.open("thermoacoustic/forecasts")
    np.testing.assert_allclose(fc.amplitude.values, sim.amplitude.isel(
        run=np.flatnonzero(np.asarray(sim.split.values).astype(str) == "test")).values, rtol=1e-5, atol=1e-6)
