"""Shared fixtures. Points DAGMM_DATA_HOME at ../shared/data when it exists and is unset."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import torch

_SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
if "DAGMM_DATA_HOME" not in os.environ and _SHARED_DATA.is_dir():
    os.environ["DAGMM_DATA_HOME"] = str(_SHARED_DATA)


@pytest.fixture
def blobs_with_outliers() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Normal training rows from a 3-cluster mixture; a test set with 10% far outliers.

    Returns (X_train, X_test, y_test) with y_test = 1 for outliers.
    """
    rng = np.random.default_rng(0)
    centers = rng.normal(scale=4.0, size=(3, 6))

    def normal_rows(n: int) -> np.ndarray:
        return centers[rng.integers(0, 3, n)] + rng.normal(size=(n, 6))

    X_train = normal_rows(1500)
    outliers = rng.uniform(-12, 12, size=(60, 6))
    X_test = np.vstack([normal_rows(540), outliers])
    y_test = np.r_[np.zeros(540, dtype=int), np.ones(60, dtype=int)]
    return X_train, X_test, y_test


@pytest.fixture
def one_torch_thread():
    """Run the test on one torch thread (many small fits), restoring the count after."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
