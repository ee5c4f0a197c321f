"""Fixtures: a tiny synthetic data set registered in the benchmark's registry."""

from __future__ import annotations

import numpy as np
import pytest

from dagmm.benchmark import protocol


def make_toy(n_normal: int = 240, n_anomalies: int = 30, n_features: int = 5, seed: int = 0):
    """Gaussian normals around 0, anomalies shifted by 4 in every column, shuffled."""
    rng = np.random.default_rng(seed)
    X = np.vstack(
        [
            rng.normal(size=(n_normal, n_features)),
            rng.normal(4.0, 1.0, size=(n_anomalies, n_features)),
        ]
    )
    y = np.r_[np.zeros(n_normal, dtype=int), np.ones(n_anomalies, dtype=int)]
    order = rng.permutation(y.size)
    return X[order], y[order]


@pytest.fixture
def toy_factory():
    """The :func:`make_toy` function, for tests that need other sizes."""
    return make_toy


@pytest.fixture
def toy_data():
    return make_toy()


@pytest.fixture
def toy_dataset(monkeypatch, toy_data):
    """Register data set ``"toy"`` (no files needed); returns a list of loader calls."""
    calls: list[tuple] = []

    def loader(data_home, download):
        calls.append((data_home, download))
        return toy_data

    spec = protocol.DatasetSpec(
        name="toy", loader=loader, anomaly_ratio=0.1, scaler="standard", preset="thyroid"
    )
    monkeypatch.setitem(protocol.DATASETS, "toy", spec)
    return calls
