"""The paper's split and the train-only scalers."""

from __future__ import annotations

import numpy as np
import pytest

from dagmm.benchmark import protocol
from dagmm.benchmark.protocol import (
    DATASETS,
    apply_scaler,
    fit_scaler,
    get_dataset,
    load_dataset,
    paper_split,
)
from dagmm.exceptions import DataError


@pytest.fixture
def data(toy_factory):
    return toy_factory(n_normal=800, n_anomalies=200, n_features=3)


# --------------------------------------------------------------------------- #
# split
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("seed", [0, 1, 7])
def test_split_trains_on_normal_rows_and_tests_on_the_whole_other_half(data, seed):
    X, y = data
    train, test = paper_split(X, y, seed)
    assert not y[train].any()
    assert np.intersect1d(train, test).size == 0
    assert test.size == y.size - y.size // 2  # the whole second half, anomalies included
    # Every row is in the test half, in train, or an anomaly of the training half.
    dropped = np.setdiff1d(np.arange(y.size), np.union1d(train, test))
    assert y[dropped].all()
    assert train.size + dropped.size == y.size // 2
    # Sorted, unique indices.
    assert np.all(np.diff(train) > 0) and np.all(np.diff(test) > 0)


def test_split_is_deterministic_per_seed_and_differs_between_seeds(data):
    X, y = data
    first, again, other = paper_split(X, y, 3), paper_split(X, y, 3), paper_split(X, y, 4)
    np.testing.assert_array_equal(first.train, again.train)
    np.testing.assert_array_equal(first.test, again.test)
    assert not np.array_equal(first.test, other.test)


def test_split_leaves_global_random_state_alone(data):
    X, y = data
    state = np.random.get_state()[1].copy()
    paper_split(X, y, 0)
    np.testing.assert_array_equal(np.random.get_state()[1], state)


@pytest.mark.parametrize("contamination", [0.01, 0.02, 0.05])
def test_contamination_sets_the_share_of_anomalies_in_training(data, contamination):
    X, y = data
    clean = paper_split(X, y, 5)
    dirty = paper_split(X, y, 5, contamination=contamination)
    n_normal = int((y[dirty.train] == 0).sum())
    n_anomalies = int(y[dirty.train].sum())
    assert n_normal == clean.train.size  # every normal row of the training half is kept
    assert abs(n_anomalies - contamination * n_normal / (1 - contamination)) <= 0.5
    assert n_anomalies / dirty.train.size == pytest.approx(contamination, abs=1 / n_normal)
    assert set(clean.train) <= set(dirty.train)
    np.testing.assert_array_equal(dirty.test, clean.test)


def test_train_fraction(data):
    X, y = data
    train, test = paper_split(X, y, 0, train_fraction=0.8)
    assert test.size == 200 and not y[train].any()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"contamination": 0.1}, r"contamination must be in \[0, 0.05\]"),
        ({"contamination": -0.01}, "contamination must be in"),
        ({"train_fraction": 1.0}, r"train_fraction must be in \(0, 1\)"),
        ({"seed": -1}, "seed must be a non-negative integer"),
        ({"seed": 1.5}, "seed must be a non-negative integer"),
    ],
)
def test_split_rejects_bad_parameters(data, kwargs, message):
    X, y = data
    with pytest.raises(ValueError, match=message):
        paper_split(X, y, **{"seed": 0, **kwargs})


def test_split_rejects_inconsistent_data():
    with pytest.raises(ValueError, match="X and y must have the same number of rows"):
        paper_split(np.zeros((5, 2)), np.zeros(4), 0)
    with pytest.raises(ValueError, match="binary labels"):
        paper_split(np.zeros((4, 2)), [0, 1, 2, 0], 0)


def test_split_reports_too_few_anomalies_for_contamination(toy_factory):
    X, y = toy_factory(n_normal=400, n_anomalies=2)
    with pytest.raises(ValueError, match=r"needs \d+ anomalies in the training part"):
        paper_split(X, y, 0, contamination=0.05)


# --------------------------------------------------------------------------- #
# scalers
# --------------------------------------------------------------------------- #


def test_minmax_scaler_uses_training_rows_only():
    rng = np.random.default_rng(0)
    X_train, X_test = rng.normal(size=(50, 3)), rng.normal(5.0, 3.0, size=(20, 3))
    scaler = fit_scaler("minmax", X_train)
    scaled = apply_scaler(scaler, X_train)
    np.testing.assert_allclose(scaled.min(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(scaled.max(axis=0), 1.0)
    np.testing.assert_allclose(scaler.offset, X_train.min(axis=0))
    # Test rows may leave [0, 1]: they are scaled with training statistics, not their own.
    assert apply_scaler(scaler, X_test).max() > 1.0


def test_standard_scaler_uses_training_rows_only():
    rng = np.random.default_rng(1)
    X_train = rng.normal(3.0, 2.0, size=(200, 4))
    scaler = fit_scaler("standard", X_train)
    scaled = scaler.transform(X_train)
    np.testing.assert_allclose(scaled.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(scaled.std(axis=0), 1.0)
    np.testing.assert_allclose(scaler.offset, X_train.mean(axis=0))


@pytest.mark.parametrize("kind", ["minmax", "standard"])
def test_constant_training_columns_become_zero_without_nan(kind):
    X_train = np.column_stack([np.full(6, 0.3), np.arange(6.0), np.zeros(6)])
    scaler = fit_scaler(kind, X_train)
    scaled = apply_scaler(scaler, X_train)
    assert np.all(scaled[:, [0, 2]] == 0.0)
    # A test row keeps its raw deviation from the training constant.
    np.testing.assert_allclose(apply_scaler(scaler, [[1.3, 0.0, -2.0]])[0, [0, 2]], [1.0, -2.0])


def test_none_scaler_is_identity():
    X = np.arange(6.0).reshape(3, 2)
    np.testing.assert_array_equal(apply_scaler(fit_scaler("none", X), X), X)


def test_clipped_scaler_bounds_scaled_values_of_any_row():
    X_train = np.array([[0.0, 1.0], [2.0, 1.0], [4.0, 1.0]])  # column 1 constant
    scaler = fit_scaler("standard", X_train, clip=3.0)
    np.testing.assert_allclose(
        apply_scaler(scaler, X_train)[:, 0], [-1.2247, 0.0, 1.2247], atol=1e-4
    )
    # Far-out test values, in a varying and in a constant column, end at +-3.
    np.testing.assert_array_equal(apply_scaler(scaler, [[100.0, -50.0]]), [[3.0, -3.0]])
    assert protocol.get_dataset("arrhythmia").clip == 3.0
    assert protocol.get_dataset("thyroid").clip is None
    with pytest.raises(ValueError, match="clip must be a positive number or None; got 0"):
        fit_scaler("standard", X_train, clip=0)


def test_scaler_errors():
    with pytest.raises(ValueError, match="kind must be one of"):
        fit_scaler("robust", np.zeros((3, 2)))
    with pytest.raises(ValueError, match="X_train must be a non-empty 2-D array"):
        fit_scaler("minmax", np.zeros(3))
    with pytest.raises(ValueError, match="X has 3 columns but the scaler was fitted on 2"):
        apply_scaler(fit_scaler("minmax", np.ones((3, 2))), np.ones((1, 3)))


# --------------------------------------------------------------------------- #
# registry
# --------------------------------------------------------------------------- #


def test_paper_datasets_ratios_scalers_and_presets():
    expected = {"kddcup": 0.2, "thyroid": 0.025, "arrhythmia": 0.15, "kddcup-rev": 0.2}
    assert {name: DATASETS[name].anomaly_ratio for name in expected} == expected
    assert DATASETS["kddcup"].scaler == DATASETS["kddcup-rev"].scaler == "minmax"
    assert DATASETS["thyroid"].scaler == DATASETS["arrhythmia"].scaler == "standard"
    assert all(DATASETS[name].preset == name for name in expected)


def test_get_dataset_suggests_a_close_name():
    with pytest.raises(ValueError, match="Unknown dataset 'thyriod'. Did you mean 'thyroid'"):
        get_dataset("thyriod")


def test_load_dataset_converts_and_validates(monkeypatch, toy_dataset):
    X, y = load_dataset("toy", data_home="/nowhere", download=False)
    assert X.dtype == np.float64 and y.dtype == np.int8
    assert toy_dataset == [("/nowhere", False)]

    bad = protocol.DatasetSpec(
        "bad", lambda home, dl: (np.zeros((3, 2)), [0, 2, 1]), 0.1, "none", "thyroid"
    )
    monkeypatch.setitem(DATASETS, "bad", bad)
    with pytest.raises(DataError, match="Dataset 'bad': y must hold 0"):
        load_dataset("bad")
