"""TabularPreprocessor: column kinds, encodings, missing values and error messages."""

from __future__ import annotations

import warnings
import zlib

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from dagmm.exceptions import DataError
from dagmm.tabular import MISSING_LABEL, TabularPreprocessor, TabularWarning


def _block(pre: TabularPreprocessor, X: np.ndarray, column: str) -> np.ndarray:
    """The output columns produced by one input column."""
    mask = np.array(pre.feature_source_) == column
    return X[:, mask]


# --------------------------------------------------------------- column kinds
def test_mixed_frame_column_kinds_and_names(mixed_frame, fit_quietly):
    pre = fit_quietly(TabularPreprocessor(id_cols=["order_id"]), mixed_frame)

    assert pre.column_kinds_ == {
        "amount": "numeric",
        "quantity": "numeric",  # few distinct integers are not auto-categorical
        "color": "onehot",
        "express": "onehot",
        "placed_at": "datetime",
        "shipped_on": "datetime",
        "city": "hashed",
    }
    assert pre.input_columns_ == list(pre.column_kinds_)
    assert pre.id_columns_ == ["order_id"]
    assert list(pre.dropped_columns_) == ["note"]
    assert "identifier or free text" in pre.dropped_columns_["note"]
    names = pre.feature_names_out_
    assert names[:7] == [
        "amount",
        "quantity",
        "color=blue",
        "color=green",
        "color=red",
        "express=False",
        "express=True",
    ]
    assert names[7:12] == [
        "placed_at:epoch_s",
        "placed_at:dayofweek",
        "placed_at:hour",
        "shipped_on:epoch_s",  # dates only: no hour feature
        "shipped_on:dayofweek",
    ]
    assert names[12:] == [f"city:hash{i}" for i in range(16)]
    assert len(pre.feature_source_) == len(names)
    assert list(pre.get_feature_names_out()) == names


def test_fit_warns_naming_hashed_left_out_and_date_columns(mixed_frame):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        TabularPreprocessor(id_cols=["order_id"]).fit(mixed_frame)
    messages = [str(w.message) for w in caught if issubclass(w.category, TabularWarning)]
    assert len(messages) == 3
    hashed, left_out, dates = messages
    assert "'city' (60 distinct values)" in hashed and "hash_buckets=16" in hashed
    assert "'note' (120 distinct in 120 rows)" in left_out and "id_cols" in left_out
    assert "'placed_at'" in dates and "'shipped_on' (ISO 8601 text)" in dates
    assert all(w.filename == __file__ for w in caught)  # points at the caller


def test_named_columns_silence_detection_warnings(mixed_frame):
    pre = TabularPreprocessor(
        id_cols=["order_id", "note"],
        categorical_cols=["city"],
        datetime_cols=["placed_at", "shipped_on"],
        max_categories=100,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", TabularWarning)
        pre.fit(mixed_frame)
    assert pre.column_kinds_["city"] == "onehot"


def test_output_is_float32_standardised_and_finite(mixed_frame, fit_quietly):
    pre = fit_quietly(TabularPreprocessor(id_cols=["order_id"]), mixed_frame)
    X = pre.transform(mixed_frame)
    assert X.dtype == np.float32
    assert X.shape == (len(mixed_frame), len(pre.feature_names_out_))
    assert np.isfinite(X).all()
    numeric = [
        i
        for i, source in enumerate(pre.feature_source_)
        if pre.column_kinds_[source] in ("numeric", "datetime")
    ]
    np.testing.assert_allclose(X[:, numeric].mean(axis=0), 0.0, atol=1e-5)
    np.testing.assert_allclose(X[:, numeric].std(axis=0), 1.0, atol=1e-5)
    # Every row has exactly one hot indicator per one-hot or hashed column.
    for column in ("color", "express", "city"):
        np.testing.assert_array_equal(_block(pre, X, column).sum(axis=1), 1.0)


def test_fit_transform_equals_fit_then_transform(mixed_frame, fit_quietly):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TabularWarning)
        X = TabularPreprocessor(id_cols=["order_id"]).fit_transform(mixed_frame)
    pre = fit_quietly(TabularPreprocessor(id_cols=["order_id"]), mixed_frame)
    np.testing.assert_array_equal(X, pre.transform(mixed_frame))


@pytest.mark.parametrize(
    ("scale", "expected"),
    [
        ("minmax", [[0.0], [0.25], [1.0]]),
        (None, [[2.0], [3.0], [6.0]]),
        ("standard", (np.array([[2.0], [3.0], [6.0]]) - 11 / 3) / np.std([2.0, 3.0, 6.0])),
    ],
)
def test_scale_options(scale, expected):
    frame = pd.DataFrame({"x": [2.0, 3.0, 6.0]})
    X = TabularPreprocessor(scale=scale).fit_transform(frame)
    np.testing.assert_allclose(X, expected, rtol=1e-6)


@pytest.mark.parametrize("scale", ["standard", "minmax"])
def test_constant_columns_are_centred_not_divided(scale):
    frame = pd.DataFrame({"const": [0.1] * 7, "zero": [0.0] * 7, "x": np.arange(7.0)})
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no divide-by-zero RuntimeWarning
        pre = TabularPreprocessor(scale=scale).fit(frame)
        X = pre.transform(frame)
    np.testing.assert_array_equal(X[:, :2], 0.0)
    np.testing.assert_array_equal(pre.scale_[:2], 1.0)
    shifted = pre.transform(frame.assign(const=1.1))
    np.testing.assert_allclose(shifted[:, 0], 1.0, rtol=1e-6)


def test_integer_codes_become_categories_only_when_named():
    frame = pd.DataFrame({"code": [1, 2, 3, 1, 2, 3], "x": np.arange(6.0)})
    assert TabularPreprocessor().fit(frame).column_kinds_["code"] == "numeric"
    pre = TabularPreprocessor(categorical_cols=["code"]).fit(frame)
    assert pre.feature_names_out_[:3] == ["code=1", "code=2", "code=3"]


def test_category_labels_compare_by_value_across_parsings():
    # A CSV chunk reader may give the same code column as int, float (with a
    # gap), or text; all must land in the same one-hot slot.
    pre = TabularPreprocessor(categorical_cols=["code", "flag"]).fit(
        pd.DataFrame({"code": [1, 2, 7], "flag": [True, False, True]})
    )
    expected = pre.transform(pd.DataFrame({"code": [1, 2, 7], "flag": [True, False, True]}))
    variants = [
        {"code": [1.0, 2.0, 7.0], "flag": ["True", "false", "TRUE"]},
        {"code": ["1", "2", "07"], "flag": np.array([True, False, True], dtype=object)},
        {"code": pd.Series(["1", "2", "7"], dtype="category"), "flag": ["true", "False", "true"]},
    ]
    for variant in variants:
        np.testing.assert_array_equal(pre.transform(pd.DataFrame(variant)), expected)


def test_text_column_of_numbers_is_numeric():
    frame = pd.DataFrame({"amount": ["1.5", " 2 ", "3e1"]}, dtype=object)
    pre = TabularPreprocessor(scale=None).fit(frame)
    assert pre.column_kinds_ == {"amount": "numeric"}
    np.testing.assert_array_equal(pre.transform(frame)[:, 0], [1.5, 2.0, 30.0])


def test_mostly_numeric_text_column_warns_with_the_bad_value():
    values = [str(v) for v in range(30)]
    values[17] = "n/a"
    with pytest.warns(
        TabularWarning,
        match=r"column 'amount' holds numbers except for some text \(e\.g\. 'n/a' in row 17\)",
    ):
        pre = TabularPreprocessor(max_categories=100).fit(pd.DataFrame({"amount": values}))
    assert pre.column_kinds_["amount"] == "onehot"


# -------------------------------------------------------------- high cardinality
def test_hashing_is_stable_crc32_not_python_hash():
    labels = [f"shop-{i}" for i in range(30)]
    pre = TabularPreprocessor(
        max_categories=5, hash_buckets=7, categorical_cols=["shop"], scale=None
    )
    with pytest.warns(TabularWarning, match="'shop' \\(30 distinct values\\)"):
        X = pre.fit_transform(pd.DataFrame({"shop": labels}))
    expected = [zlib.crc32(label.encode("utf-8")) % 7 for label in labels]
    np.testing.assert_array_equal(X.argmax(axis=1), expected)
    # A label never seen at fit still hashes to a bucket.
    unseen = pre.transform(pd.DataFrame({"shop": ["brand-new shop"]}))
    assert unseen.sum() == 1.0


def test_named_categorical_with_unique_values_is_hashed_not_left_out():
    frame = pd.DataFrame({"ref": [f"r{i}" for i in range(80)], "x": np.arange(80.0)})
    with pytest.warns(TabularWarning, match="hashed"):
        pre = TabularPreprocessor(categorical_cols=["ref"]).fit(frame)
    assert pre.column_kinds_["ref"] == "hashed"


def test_max_unique_fraction_decides_between_hashing_and_leaving_out():
    frame = pd.DataFrame({"tag": [f"t{i % 70}" for i in range(100)], "x": np.arange(100.0)})
    with pytest.warns(TabularWarning):
        hashed = TabularPreprocessor().fit(frame)  # 70 distinct in 100 rows: hashed
    with pytest.warns(TabularWarning, match="'tag' \\(70 distinct in 100 rows\\)"):
        left_out = TabularPreprocessor(max_unique_fraction=0.5).fit(frame)
    assert hashed.column_kinds_["tag"] == "hashed"
    assert "tag" in left_out.dropped_columns_


# ------------------------------------------------------------ unseen categories
def test_unseen_categories_give_all_zero_one_hot_and_keep_rows_aligned(mixed_frame, fit_quietly):
    pre = fit_quietly(TabularPreprocessor(id_cols=["order_id"]), mixed_frame)
    new = mixed_frame.head(5).copy()
    new.loc[[1, 3], "color"] = ["purple", "teal"]
    X = pre.transform(new)
    color = _block(pre, X, "color")
    np.testing.assert_array_equal(color[[1, 3]], 0.0)
    np.testing.assert_array_equal(color[[0, 2, 4]].sum(axis=1), 1.0)
    # Other columns and rows are untouched by the unseen values.
    reference = pre.transform(mixed_frame.head(5))
    other = np.array(pre.feature_source_) != "color"
    np.testing.assert_array_equal(X[:, other], reference[:, other])
    np.testing.assert_array_equal(X[[0, 2, 4]], reference[[0, 2, 4]])


# ------------------------------------------------------------------ date-times
def test_datetime_features_values():
    # 1970-01-01 was a Thursday (3), 2024-03-04 a Monday (0).
    frame = pd.DataFrame({"t": pd.to_datetime(["1970-01-01 00:00", "2024-03-04 13:30"])})
    pre = TabularPreprocessor(datetime_cols=["t"], scale=None).fit(frame)
    assert pre.feature_names_out_ == ["t:epoch_s", "t:dayofweek", "t:hour"]
    expected_epoch = (pd.Timestamp("2024-03-04 13:30") - pd.Timestamp(0)).total_seconds()
    np.testing.assert_allclose(
        pre.transform(frame), [[0.0, 3.0, 0.0], [expected_epoch, 0.0, 13.5]], rtol=1e-7
    )


def test_datetime_text_with_offsets_and_aware_dtype_agree():
    text = pd.DataFrame({"t": ["2024-03-04T14:30:00+01:00", "2024-03-05 08:00:00"]})
    aware = pd.DataFrame(
        {"t": pd.to_datetime(["2024-03-04 13:30", "2024-03-05 08:00"]).tz_localize("UTC")}
    )
    pre = TabularPreprocessor(datetime_cols=["t"], scale=None).fit(text)
    np.testing.assert_array_equal(pre.transform(text), pre.transform(aware))


def test_datetime_features_epoch_and_drop():
    frame = pd.DataFrame(
        {"t": pd.date_range("2024-01-01", periods=4, freq="5h"), "x": [1.0, 2, 3, 4]}
    )
    epoch = TabularPreprocessor(datetime_features="epoch", datetime_cols=["t"]).fit(frame)
    assert epoch.feature_names_out_ == ["t:epoch_s", "x"]
    with pytest.warns(TabularWarning, match=r"date-time column\(s\) left out .*'t'"):
        dropped = TabularPreprocessor(datetime_features="drop").fit(frame)
    assert dropped.feature_names_out_ == ["x"]
    assert "datetime_features='drop'" in dropped.dropped_columns_["t"]


def test_slash_date_text_is_read_month_first_and_said_so():
    # Ambiguous day/month order: the US convention for slashes, named in the warning.
    frame = pd.DataFrame({"d": ["03/04/2024", "05/04/2024", "03/04/2024"]})
    with pytest.warns(TabularWarning, match=r"'d' \(read as MM/DD/YYYY\)"):
        pre = TabularPreprocessor().fit(frame)
    assert pre.column_kinds_["d"] == "datetime"


def test_text_that_only_resembles_dates_stays_text():
    frame = pd.DataFrame({"d": ["03/04/24", "code 5", "03/04/24"]})
    assert TabularPreprocessor().fit(frame).column_kinds_["d"] == "onehot"


# -------------------------------------------------------------- missing values
def test_missing_values_error_at_fit_lists_columns_and_counts():
    frame = pd.DataFrame(
        {
            "amount": [1.0, np.nan, np.nan, 4.0],
            "color": ["red", None, "blue", ""],
            "ok": [1, 2, 3, 4],
        }
    )
    with pytest.raises(
        DataError,
        match=r"missing values \(empty, NaN or None\) in column\(s\) 'amount' \(2 rows, e\.g\. row 1\), "
        r"'color' \(2 rows, e\.g\. row 1\); every row needs a value: .*handle_missing='impute'",
    ):
        TabularPreprocessor().fit(frame)


def test_missing_values_error_at_transform():
    pre = TabularPreprocessor().fit(pd.DataFrame({"amount": [1.0, 2.0], "color": ["a", "b"]}))
    with pytest.raises(DataError, match=r"in column\(s\) 'color' \(1 row, e\.g\. row 1\); .*refit"):
        pre.transform(pd.DataFrame({"amount": [1.0, 2.0], "color": ["a", None]}))


def test_impute_fills_median_and_missing_category(fit_quietly):
    frame = pd.DataFrame(
        {
            "amount": [1.0, np.nan, 3.0, 10.0],
            "color": ["red", None, "blue", "red"],
            "t": ["2024-01-01", None, "2024-01-03", "2024-01-05"],
        }
    )
    pre = fit_quietly(TabularPreprocessor(handle_missing="impute", scale=None), frame)
    assert "color=" + MISSING_LABEL in pre.feature_names_out_
    X = pre.transform(frame)
    assert X[1, 0] == 3.0  # median of 1, 3, 10
    np.testing.assert_array_equal(_block(pre, X, "color")[1], [0.0, 0.0, 1.0])  # blue, red, missing
    assert X[1, pre.feature_names_out_.index("t:epoch_s")] == pd.Timestamp("2024-01-03").timestamp()
    # A column without missing values at fit imputes at transform too.
    pre = TabularPreprocessor(handle_missing="impute", scale=None).fit(
        pd.DataFrame({"amount": [1.0, 2.0, 4.0], "color": ["a", "b", "a"]})
    )
    X = pre.transform(pd.DataFrame({"amount": [None], "color": [None]}))
    np.testing.assert_array_equal(X, [[2.0, 0.0, 0.0]])


def test_all_missing_column_is_left_out_with_warning():
    frame = pd.DataFrame({"empty": [np.nan] * 3, "blank": ["", " ", None], "x": [1.0, 2.0, 3.0]})
    with pytest.warns(TabularWarning, match=r"hold no values: 'empty', 'blank'"):
        pre = TabularPreprocessor(handle_missing="impute").fit(frame)
    assert pre.input_columns_ == ["x"]


# --------------------------------------------------------- wrong input columns
def test_missing_columns_at_transform_are_named_with_the_expected_list(mixed_frame, fit_quietly):
    pre = fit_quietly(TabularPreprocessor(id_cols=["order_id"]), mixed_frame)
    renamed = mixed_frame.rename(columns={"color": "colour"}).drop(columns=["city"])
    with pytest.raises(
        DataError,
        match=r"lacks column\(s\) 'color', 'city' \(did you mean 'colour'\?\) .*expected columns 'amount', 'quantity'",
    ):
        pre.transform(renamed)


def test_extra_and_reordered_columns_are_fine(mixed_frame, fit_quietly):
    pre = fit_quietly(TabularPreprocessor(id_cols=["order_id"]), mixed_frame)
    shuffled = (
        mixed_frame[mixed_frame.columns[::-1]].assign(extra=1).drop(columns=["order_id", "note"])
    )
    np.testing.assert_array_equal(pre.transform(shuffled), pre.transform(mixed_frame))


def test_text_in_a_numeric_column_names_column_value_and_row():
    pre = TabularPreprocessor().fit(pd.DataFrame({"amount": np.arange(30.0)}))
    values = [str(v) for v in range(30)]
    values[17] = "abc"
    with pytest.raises(
        DataError,
        match=r"column 'amount' held numbers when the model was fitted but holds text now: e\.g\. 'abc' in row 17",
    ):
        pre.transform(pd.DataFrame({"amount": values}))


def test_text_in_a_datetime_column_is_reported():
    pre = TabularPreprocessor(datetime_cols=["t"]).fit(
        pd.DataFrame({"t": ["2024-01-01", "2024-02-01"]})
    )
    with pytest.raises(DataError, match=r"column 't' held date-times .* e\.g\. 'soon' in row 1"):
        pre.transform(pd.DataFrame({"t": ["2024-01-05", "soon"]}))


def test_named_numeric_column_with_text_fails_at_fit():
    with pytest.raises(
        DataError,
        match=r"'amount' is listed in numeric_cols .* e\.g\. 'x' in row 2 \(2 values in all\)",
    ):
        TabularPreprocessor(numeric_cols=["amount"]).fit(
            pd.DataFrame({"amount": ["1", "2", "x", "y"]})
        )


def test_infinite_values_are_an_error():
    with pytest.raises(DataError, match=r"column 'a' holds infinite values: e\.g\. inf in row 1"):
        TabularPreprocessor().fit(pd.DataFrame({"a": [1.0, np.inf]}))


# ---------------------------------------------------------------- numpy input
def test_numpy_array_input_names_columns_x0_xn():
    X = np.random.default_rng(0).normal(size=(20, 3))
    pre = TabularPreprocessor().fit(X)
    assert pre.input_columns_ == ["x0", "x1", "x2"]
    np.testing.assert_array_equal(
        pre.transform(X), pre.transform(pd.DataFrame(X, columns=["x0", "x1", "x2"]))
    )
    with pytest.raises(
        DataError, match=r"got an array with 2 columns, .* fitted on 3 columns \('x0', 'x1', 'x2'\)"
    ):
        pre.transform(X[:, :2])
    with pytest.raises(DataError, match=r"expected a 2-D array .* shape \(20,\)"):
        pre.transform(X[:, 0])


# -------------------------------------------------------- parameters and state
@pytest.mark.parametrize(
    ("params", "match"),
    [
        (
            {"handle_missing": "drop"},
            r"handle_missing must be one of \('error', 'impute'\), got 'drop'",
        ),
        ({"scale": "robust"}, r"scale must be one of"),
        ({"max_categories": 0}, r"max_categories must be an integer >= 1, got 0"),
        ({"max_unique_fraction": 1.5}, r"max_unique_fraction must be a number in \(0, 1\]"),
        (
            {"categorical_cols": "color"},
            r"categorical_cols must be a list .* categorical_cols=\['color'\]",
        ),
        (
            {"id_cols": ["a"], "drop_cols": ["a"]},
            r"column 'a' is named in both drop_cols and id_cols",
        ),
    ],
)
def test_invalid_parameters(params, match):
    with pytest.raises(ValueError, match=match):
        TabularPreprocessor(**params).fit(pd.DataFrame({"a": [1.0, 2.0], "color": ["r", "g"]}))


def test_named_column_absent_from_data_suggests_a_name():
    with pytest.raises(
        DataError, match=r"drop_cols names column\(s\) 'colr' .* \(did you mean 'color'\?\)"
    ):
        TabularPreprocessor(drop_cols=["colr"]).fit(pd.DataFrame({"color": ["r"], "a": [1.0]}))


def test_no_usable_column_is_an_error():
    with pytest.raises(DataError, match=r"no column is left to encode: 'a' listed in drop_cols"):
        TabularPreprocessor(drop_cols=["a"], id_cols=["b"]).fit(
            pd.DataFrame({"a": [1.0], "b": [2]})
        )
    with pytest.raises(DataError, match="no rows"):
        TabularPreprocessor().fit(pd.DataFrame({"a": []}))


def test_not_fitted_and_init_only_stores_params():
    pre = TabularPreprocessor(handle_missing="bogus")  # validated in fit, not here
    with pytest.raises(NotFittedError):
        pre.transform(pd.DataFrame({"a": [1.0]}))
    assert clone(pre).get_params() == pre.get_params()


def test_fit_does_not_modify_its_input(mixed_frame, fit_quietly):
    before = mixed_frame.copy()
    pre = fit_quietly(
        TabularPreprocessor(id_cols=["order_id"], handle_missing="impute"), mixed_frame
    )
    pre.transform(mixed_frame)
    pd.testing.assert_frame_equal(mixed_frame, before)


def test_select_ids(mixed_frame, fit_quietly):
    pre = fit_quietly(TabularPreprocessor(id_cols=["order_id"]), mixed_frame)
    pd.testing.assert_frame_equal(pre.select_ids(mixed_frame), mixed_frame[["order_id"]])
    with pytest.raises(DataError, match=r"lacks id column\(s\) 'order_id'"):
        pre.select_ids(mixed_frame.drop(columns=["order_id"]))


# ------------------------------------------------------------ explanations
def test_aggregate_by_column_sums_features_per_input_column(mixed_frame, fit_quietly):
    pre = fit_quietly(TabularPreprocessor(id_cols=["order_id"]), mixed_frame)
    n_out = len(pre.feature_names_out_)
    values = np.arange(2 * n_out, dtype=np.float64).reshape(2, n_out)
    summed, columns = pre.aggregate_by_column(values)
    assert columns == pre.input_columns_
    assert summed.shape == (2, len(columns))
    for j, column in enumerate(columns):
        np.testing.assert_allclose(summed[:, j], _block(pre, values, column).sum(axis=1))
    single, _ = pre.aggregate_by_column(values[0])
    np.testing.assert_allclose(single, summed[0])
    with pytest.raises(DataError, match=rf"shape \(2, 3\), expected \(n, {n_out}\)"):
        pre.aggregate_by_column(np.zeros((2, 3)))
