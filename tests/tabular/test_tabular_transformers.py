"""The scikit-learn transformers inside TabularPreprocessor: what they hold, and what stays ours."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import sklearn
from sklearn.impute import SimpleImputer
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from dagmm.tabular import TabularPreprocessor


def _frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "amount": [10.0, np.nan, 14.0, 11.0, 9.5],
            "color": ["red", "blue", None, "red", "green"],
            "when": pd.to_datetime(
                ["2024-01-01 10:00", "2024-01-02 00:00", None, "2024-01-05 23:30", "2024-01-03 00:00"]
            ),
            "size": ["S", "M", "L", "M", "S"],
        }
    )


def test_fitted_state_is_the_transformers_arrays():
    pre = TabularPreprocessor(handle_missing="impute", datetime_cols=["when"]).fit(_frame())
    assert isinstance(pre.imputer_, SimpleImputer) and pre.imputer_.strategy == "median"
    assert isinstance(pre.encoder_, OneHotEncoder) and pre.encoder_.handle_unknown == "ignore"
    assert isinstance(pre.scaler_, StandardScaler)
    # The encoder's categories: sorted labels, then the missing slot (values were missing).
    assert [list(c) for c in pre.encoder_.categories_] == [
        ["blue", "green", "red", "__missing__"],
        ["L", "M", "S"],
    ]
    seconds = ((_frame()["when"].dropna() - pd.Timestamp(0)) / pd.Timedelta(seconds=1)).to_numpy()
    np.testing.assert_array_equal(pre.imputer_.statistics_, [10.5, np.median(seconds)])
    np.testing.assert_array_equal(pre.impute_values_, [10.5, np.nan, np.median(seconds), np.nan])
    config, arrays = pre.to_state()
    np.testing.assert_array_equal(arrays["offset"], pre.scaler_.mean_)
    np.testing.assert_array_equal(arrays["scale"], pre.scaler_.scale_)
    amount = np.array([10.0, 14.0, 11.0, 9.5])  # observed values only
    assert pre.offset_[0] == np.mean(amount) and pre.scale_[0] == np.std(amount)

    loaded = TabularPreprocessor.from_state(config, arrays)  # rebuilt, nothing unpickled
    np.testing.assert_array_equal(loaded.scaler_.mean_, pre.scaler_.mean_)
    np.testing.assert_array_equal(loaded.imputer_.statistics_, pre.imputer_.statistics_)
    assert [list(c) for c in loaded.encoder_.categories_] == [
        list(c) for c in pre.encoder_.categories_
    ]


def test_unknown_labels_give_zeros_without_a_warning():
    pre = TabularPreprocessor(handle_missing="impute", datetime_cols=["when"]).fit(_frame())
    new = _frame().assign(color=["purple", "red", None, "teal", "blue"], size="XL")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = pre.transform(new)
    color = [pre.feature_names_out_.index(f"color={label}") for label in ("blue", "red")]
    missing = pre.feature_names_out_.index("color=__missing__")
    np.testing.assert_array_equal(out[:, color], [[0, 0], [0, 1], [0, 0], [0, 0], [1, 0]])
    np.testing.assert_array_equal(out[:, missing], [0, 0, 1, 0, 0])
    sizes = [i for i, name in enumerate(pre.feature_names_out_) if name.startswith("size=")]
    assert not out[:, sizes].any()


def test_constant_columns_follow_the_projects_rule_not_sklearns():
    # std 5e-8 at magnitude 1e6: scikit-learn would divide by it; the one rule of
    # dagmm.math.scaling (relative 1e-12) calls it constant: centred on its value, scale 1.
    frame = pd.DataFrame({"nearly": [1e6, 1e6 + 1e-7] * 3, "x": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]})
    assert StandardScaler().fit(frame[["nearly"]]).scale_[0] < 1e-6
    pre = TabularPreprocessor().fit(frame)
    assert pre.offset_[0] == 1e6 and pre.scale_[0] == 1.0
    assert pre.scale_[1] == np.std(np.arange(1.0, 7.0))


def test_minmax_and_unscaled_go_through_the_same_scaler():
    frame = pd.DataFrame({"a": [2.0, 4.0, 10.0], "c": ["x", "y", "x"]})
    minmax = TabularPreprocessor(scale="minmax").fit(frame)
    np.testing.assert_array_equal(minmax.scaler_.mean_, [2.0, 0.0, 0.0])
    np.testing.assert_array_equal(minmax.scaler_.scale_, [8.0, 1.0, 1.0])
    np.testing.assert_array_equal(minmax.transform(frame)[:, 0], [0.0, 0.25, 1.0])
    unscaled = TabularPreprocessor(scale=None).fit(frame)
    np.testing.assert_array_equal(unscaled.transform(frame)[:, 0], frame["a"].to_numpy())


@pytest.mark.parametrize("handle_missing", ["error", "impute"])
def test_empty_chunk_gives_no_rows(handle_missing):
    frame = _frame().dropna() if handle_missing == "error" else _frame()
    pre = TabularPreprocessor(handle_missing=handle_missing, datetime_cols=["when"]).fit(frame)
    out = pre.transform(frame.iloc[:0])
    assert out.shape == (0, len(pre.feature_names_out_)) and out.dtype == np.float32


def test_only_categories_or_only_numbers_need_no_other_transformer():
    numbers = TabularPreprocessor().fit(pd.DataFrame({"a": [1.0, 2.0]}))
    assert numbers.encoder_ is None and numbers.imputer_ is not None
    labels = TabularPreprocessor().fit(pd.DataFrame({"c": ["x", "y"]}))
    assert labels.imputer_ is None and np.isnan(labels.impute_values_).all()
    np.testing.assert_array_equal(labels.transform(pd.DataFrame({"c": ["y"]})), [[0.0, 1.0]])


def test_sklearns_global_pandas_output_changes_nothing():
    pre = TabularPreprocessor(handle_missing="impute", datetime_cols=["when"]).fit(_frame())
    expected = pre.transform(_frame())
    with sklearn.config_context(transform_output="pandas"):
        out = TabularPreprocessor(handle_missing="impute", datetime_cols=["when"]).fit(_frame())
        np.testing.assert_array_equal(out.transform(_frame()), expected)
        loaded = TabularPreprocessor.from_state(*pre.to_state())
        np.testing.assert_array_equal(loaded.transform(_frame()), expected)
