"""Shared test settings: one torch thread, no downloads, a private cache."""

import os

import pytest
import torch

os.environ.setdefault("GANBENCH_OFFLINE", "1")
torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def _private_cache(tmp_path_factory, monkeypatch):
    """Each test session caches features and downloads in its own directory."""
    monkeypatch.setenv("GANBENCH_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))
