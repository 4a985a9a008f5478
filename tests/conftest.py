"""Shared fixtures: temporary model stores and seeded generators."""

import numpy as np
import pytest


@pytest.fixture
def models_dir(tmp_path, monkeypatch):
    """An empty model store for one test."""
    folder = tmp_path / "models"
    folder.mkdir()
    monkeypatch.setenv("MNISTLIB_MODELS_DIR", str(folder))
    return folder


@pytest.fixture
def rng():
    """A seeded random generator."""
    return np.random.default_rng(0)
