"""Label columns (which rows are normal), threshold policies and seeded splits."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dagmm.exceptions import DataError
from dagmm.workflow import (
    ThresholdPolicy,
    anomaly_mask,
    holdout_split,
    percentile_scores,
    reference_energies,
)
from dagmm.workflow.splits import validation_split


@pytest.mark.parametrize(
    "labels",
    [
        [0, 1, 0],
        [False, True, False],
        ["0", "1", "0"],
        ["normal", "attack", "Normal"],
        [0.0, 1.0, 0.0],
    ],
)
def test_default_normal_labels(labels):
    assert anomaly_mask(pd.Series(labels)).tolist() == [False, True, False]


def test_named_normal_label():
    labels = pd.Series(["legit", "fraud", "LEGIT", "chargeback"])
    assert anomaly_mask(labels, "legit").tolist() == [False, True, False, True]
    assert anomaly_mask(pd.Series([2, 1, 2]), 2).tolist() == [False, True, False]


def test_no_normal_value_lists_the_values_found():
    with pytest.raises(
        DataError, match=r"label column 'y' has no normal rows.*'fraud', 'legit'.*--normal-label"
    ):
        anomaly_mask(pd.Series(["legit", "fraud"], name="y"))


def test_missing_labels_are_an_error():
    with pytest.raises(
        DataError, match=r"label column 'y' has 1 missing value\(s\), e.g. in row 1"
    ):
        anomaly_mask(pd.Series([0, None, 1], name="y"))


def test_holdout_split_is_disjoint_seeded_and_stratified():
    is_anomaly = np.r_[np.zeros(100, bool), np.ones(10, bool)]
    split = holdout_split(is_anomaly, train_fraction=0.8, seed=3)
    parts = [set(split.train), set(split.validation), set(split.test)]
    assert sum(map(len, parts)) == 110 and len(set.union(*parts)) == 110
    assert not is_anomaly[split.train].any() and split.train.size == 80
    assert is_anomaly[split.validation].sum() == 5 and is_anomaly[split.test].sum() == 5
    assert split.validation.size == 15 and split.test.size == 15
    again = holdout_split(is_anomaly, train_fraction=0.8, seed=3)
    np.testing.assert_array_equal(again.test, split.test)


def test_holdout_split_needs_two_anomalies():
    with pytest.raises(DataError, match="has 1 anomaly; at least 2 are needed"):
        holdout_split(np.r_[np.zeros(20, bool), True])


def test_validation_split_holds_out_normals_and_every_anomaly():
    is_anomaly = np.r_[np.zeros(40, bool), np.ones(4, bool)]
    train, validation = validation_split(is_anomaly, 0.25, seed=0)
    assert train.size == 30 and validation.size == 14
    assert set(np.flatnonzero(is_anomaly)) <= set(validation)


def test_threshold_policy_values_are_checked():
    with pytest.raises(ValueError, match="unknown"):
        ThresholdPolicy("median")
    with pytest.raises(ValueError, match="takes no value"):
        ThresholdPolicy("f1", 0.5)
    assert ThresholdPolicy.from_config(
        ThresholdPolicy.fpr(0.01).to_config()
    ) == ThresholdPolicy.fpr(0.01)


def test_reference_energies_are_bounded_and_scores_are_percentiles():
    energies = np.random.default_rng(0).normal(size=5000)
    kept = reference_energies(energies, size=1001)
    assert kept.size == 1001 and kept[0] == energies.min() and kept[-1] == energies.max()
    assert np.all(np.diff(kept) >= 0)
    exact = reference_energies(energies[:100])
    np.testing.assert_array_equal(exact, np.sort(energies[:100]))
    scores = percentile_scores(exact, [exact[0], exact[50], exact[-1] + 1])
    np.testing.assert_allclose(scores, [0.0, 0.5, 1.0])
