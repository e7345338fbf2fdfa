"""Shared fixtures: isolated Prefect home, seeded RNGs, a catalog on tmp_path, a Prefect harness."""

from __future__ import annotations

import os
import tempfile

# Prefect reads its settings at import: isolate it before anything imports prefect.
_PREFECT_HOME = tempfile.mkdtemp(prefix="sciml-prefect-home-")
os.environ["PREFECT_HOME"] = _PREFECT_HOME
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ["SCIML_PROGRESS_BAR"] = "0"

import numpy as np  # noqa: E402
import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _seed_and_reset():
    """Seed numpy/torch and clear Pyro's param store around every test (Pyro's own pattern)."""
    import torch

    torch.manual_seed(0)
    torch.set_num_threads(1)
    np.random.seed(0)  # noqa: NPY002 (libraries that still use the global RNG)
    try:
        import pyro

        pyro.clear_param_store()
    except ImportError:
        pass
    yield


@pytest.fixture
def catalog(tmp_path, monkeypatch):
    """The project catalog over a fresh data dir in ``tmp_path`` (``SCIML_DATA_DIR`` set)."""
    from sciml.catalog import Catalog

    data_dir = tmp_path / "data"
    data_dir.mkdir()
    monkeypatch.setenv("SCIML_DATA_DIR", str(data_dir))
    return Catalog.load(data_dir=data_dir)


@pytest.fixture(scope="session")
def prefect_harness():
    """A temporary Prefect backend for plain flow runs (``prefect_test_harness``)."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield
