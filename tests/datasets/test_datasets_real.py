"""The loaders on the real data files in DAGMM_DATA_HOME (never downloaded here)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from dagmm.datasets import DATA_HOME_ENV, load_kddcup99, load_mnist, load_odds

pytestmark = pytest.mark.integration

N_KDD_ROWS, N_KDD_NORMAL = 494_021, 97_278


def real_file(name: str) -> Path:
    """Path of ``name`` in DAGMM_DATA_HOME, or skip the test saying why."""
    home = os.environ.get(DATA_HOME_ENV, "")
    if not home:
        pytest.skip(f"{DATA_HOME_ENV} is not set; point it at the folder with the real data files")
    path = Path(home) / name
    if not path.is_file():
        pytest.skip(f"{name} is not in {DATA_HOME_ENV}={home}")
    return path


@pytest.fixture(scope="module")
def kdd():
    return load_kddcup99(real_file("kddcup.data_10_percent.gz").parent, download=False)


def test_kddcup99(kdd):
    assert kdd.data.shape == (N_KDD_ROWS, 118)
    assert int(kdd.target.sum()) == N_KDD_NORMAL
    assert sum(name.startswith("service=") for name in kdd.feature_names) == 66
    assert not np.isnan(kdd.data).any()


def test_kddcup99_matches_the_reference_preprocessing(kdd):
    # kdd_cup.npz (from the danieltan07/dagmm implementation) holds the same rows
    # with the same one-hot columns first and the DAGMM label last; its numeric
    # columns are rescaled, so only the encoding and labels can be compared.
    reference = np.load(real_file("kdd_cup.npz"))["kdd"]
    n_onehot = sum("=" in name for name in kdd.feature_names)
    np.testing.assert_array_equal(reference[:, :n_onehot], kdd.data[:, :n_onehot])
    np.testing.assert_array_equal(reference[:, -1], kdd.target)


def test_kddcup99_rev():
    home = real_file("kddcup.data_10_percent.gz").parent
    X, y = load_kddcup99(home, download=False, rev=True, random_state=0, return_X_y=True)
    assert int((y == 0).sum()) == N_KDD_NORMAL  # every normal row
    assert int(y.sum()) == N_KDD_NORMAL // 4  # normal:attack = 4:1
    assert X.shape == (N_KDD_NORMAL + N_KDD_NORMAL // 4, 118)


def test_thyroid():
    thyroid = load_odds("thyroid", real_file("thyroid.mat").parent, download=False)
    assert thyroid.data.shape == (3772, 6)
    assert int(thyroid.target.sum()) == 93
    assert thyroid.mat_version == "5"


def test_mnist_test_set():
    real_file("t10k-labels-idx1-ubyte.gz")
    mnist = load_mnist(real_file("t10k-images-idx3-ubyte.gz").parent, download=False)
    assert mnist.data.shape == (10_000, 784) and mnist.images.shape == (10_000, 28, 28)
    assert 0.0 <= mnist.data.min() and mnist.data.max() == 1.0
    counts = np.bincount(mnist.target, minlength=10).tolist()
    assert counts == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
