"""Fixtures of the LightSB tests: a writer of small synthetic AnnData ``.h5ad`` files."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest


def load_h5ad_writer():
    """``write_h5ad`` of ``tests/schrodinger/h5ad.py`` (tests are not a package)."""
    spec = importlib.util.spec_from_file_location("lightsb_h5ad", Path(__file__).with_name("h5ad.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.write_h5ad


@pytest.fixture(scope="session")
def write_h5ad():
    """Write a minimal AnnData file: ``write_h5ad(path, obsm, obs, x=None, x_sparse=False)``."""
    return load_h5ad_writer()
