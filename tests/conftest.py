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


@pytest.fixture(scope="session")
def s3_endpoint():
    """A local S3 endpoint: ``moto`` in server mode on 127.0.0.1, its own process, stopped after."""
    import socket
    import subprocess
    import sys
    import time
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while True:
        try:
            urllib.request.urlopen(url + "/moto-api/", timeout=1)
            break
        except OSError:
            if time.time() > deadline or proc.poll() is not None:
                proc.kill()
                raise RuntimeError("the moto S3 server did not start") from None
            time.sleep(0.2)
    yield url
    proc.terminate()
    proc.wait(timeout=20)


@pytest.fixture
def s3_data_dir(s3_endpoint, monkeypatch, request):
    """A fresh bucket on the local S3 endpoint; the AWS variables set; returns ``s3://<bucket>/data``."""
    import re
    import uuid

    import boto3

    for key, value in {"AWS_ENDPOINT_URL": s3_endpoint, "AWS_ACCESS_KEY_ID": "testing",
                       "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": "us-east-1"}.items():  # fmt: skip
        monkeypatch.setenv(key, value)
    bucket = re.sub(r"[^a-z0-9-]", "-", request.node.name.lower())[:40] + "-" + uuid.uuid4().hex[:8]
    boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1").create_bucket(Bucket=bucket)
    url = f"s3://{bucket}/data"
    monkeypatch.setenv("SCIML_DATA_DIR", url)
    return url
