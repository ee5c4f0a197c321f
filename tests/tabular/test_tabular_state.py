"""TabularPreprocessor.to_state / from_state: JSON plus arrays, validated on load."""

from __future__ import annotations

import copy
import json

import numpy as np
import pandas as pd
import pytest
from safetensors.numpy import load_file, save_file

from dagmm.exceptions import DataError, ModelFileError
from dagmm.tabular import TabularPreprocessor


@pytest.fixture
def fitted(mixed_frame, fit_quietly) -> TabularPreprocessor:
    pre = TabularPreprocessor(id_cols=["order_id"], handle_missing="impute", max_categories=20)
    return fit_quietly(pre, mixed_frame)


def test_round_trip_through_json_and_safetensors_gives_identical_transforms(
    fitted, mixed_frame, tmp_path
):
    config, arrays = fitted.to_state()
    text = json.dumps(config, allow_nan=False)  # strict JSON: no NaN, no numpy types
    save_file(arrays, str(tmp_path / "pre.safetensors"))
    loaded = TabularPreprocessor.from_state(
        json.loads(text), load_file(str(tmp_path / "pre.safetensors"))
    )

    np.testing.assert_array_equal(loaded.transform(mixed_frame), fitted.transform(mixed_frame))
    new = mixed_frame.head(6).copy()
    new.loc[0, "color"] = "never seen"
    new.loc[1, "amount"] = np.nan
    new.loc[2, "city"] = "new city"
    np.testing.assert_array_equal(loaded.transform(new), fitted.transform(new))

    assert loaded.get_params() == {
        key: list(value) if isinstance(value, tuple) else value
        for key, value in fitted.get_params().items()
    }
    for attribute in (
        "input_columns_",
        "feature_names_out_",
        "feature_source_",
        "column_kinds_",
        "id_columns_",
        "dropped_columns_",
    ):
        assert getattr(loaded, attribute) == getattr(fitted, attribute)
    np.testing.assert_array_equal(loaded.feature_names_in_, fitted.feature_names_in_)
    summed, _ = loaded.aggregate_by_column(np.ones((1, len(loaded.feature_names_out_))))
    np.testing.assert_array_equal(
        summed, fitted.aggregate_by_column(np.ones((1, len(fitted.feature_names_out_))))[0]
    )


def test_state_is_plain_json_and_float64_arrays(fitted):
    config, arrays = fitted.to_state()
    assert config["class"] == "TabularPreprocessor" and config["state_version"] == 1
    kinds = {column["name"]: column for column in config["columns"]}
    assert kinds["color"] == {
        "name": "color",
        "kind": "onehot",
        "categories": ["blue", "green", "red"],
    }
    assert kinds["city"] == {"name": "city", "kind": "hashed", "buckets": 16}
    assert sorted(arrays) == ["impute_values", "offset", "scale"]
    assert all(array.dtype == np.float64 for array in arrays.values())
    arrays["scale"][:] = 7.0  # the state is a copy, not a view of the fitted arrays
    assert not np.any(fitted.scale_ == 7.0)


def test_from_state_of_fitted_on_array_checks_width():
    X = np.arange(12.0).reshape(4, 3)
    loaded = TabularPreprocessor.from_state(*TabularPreprocessor().fit(X).to_state())
    with pytest.raises(DataError, match="got an array with 2 columns"):
        loaded.transform(X[:, :2])


def _damage(config, arrays, how):
    config, arrays = copy.deepcopy(config), {key: value.copy() for key, value in arrays.items()}
    how(config, arrays)
    return config, arrays


@pytest.mark.parametrize(
    ("how", "match"),
    [
        (lambda c, a: c.pop("columns"), r"config lacks 'columns'"),
        (
            lambda c, a: c.update({"class": "Other"}),
            r"class is 'Other', expected 'TabularPreprocessor'",
        ),
        (lambda c, a: c.update({"state_version": 99}), r"state_version is 99, .* upgrade dagmm"),
        (lambda c, a: c["params"].update({"colour": 1}), r"unknown parameter\(s\) 'colour'"),
        (lambda c, a: c["params"].update({"scale": "robust"}), r"scale must be one of"),
        (
            lambda c, a: c["columns"][0].update({"kind": "weird"}),
            r"column 'amount' has kind 'weird'",
        ),
        (
            lambda c, a: c["columns"][2].update({"categories": []}),
            r"column 'color' has categories \[\]",
        ),
        (
            lambda c, a: c["columns"][4].update({"parts": ["hour"]}),
            r"column 'placed_at' has parts \['hour'\]",
        ),
        (lambda c, a: c["columns"].append(dict(c["columns"][0])), r"lists a column twice"),
        (lambda c, a: c["feature_names_out"].reverse(), r"feature_names_out does not match"),
        (
            lambda c, a: c["feature_names_in"].remove("amount"),
            r"'amount' are not in feature_names_in",
        ),
        (lambda c, a: a.pop("scale"), r"array 'scale' is missing"),
        (
            lambda c, a: a.update({"offset": a["offset"][:-1]}),
            r"array 'offset' has shape \(\d+,\) .* expected floats of shape",
        ),
        (lambda c, a: a["scale"].__setitem__(0, 0.0), r"'scale' must be positive"),
        (lambda c, a: a["impute_values"].__setitem__(0, np.nan), r"'impute_values' must be finite"),
    ],
)
def test_from_state_rejects_damaged_state(fitted, how, match):
    config, arrays = _damage(*fitted.to_state(), how)
    with pytest.raises(ModelFileError, match=match):
        TabularPreprocessor.from_state(config, arrays)


def test_model_file_error_is_a_value_error(fitted):
    config, arrays = fitted.to_state()
    with pytest.raises(ValueError):
        TabularPreprocessor.from_state(config, {})
    with pytest.raises(ModelFileError, match="expected a dict"):
        TabularPreprocessor.from_state(pd.Series(dtype=float), arrays)  # type: ignore[arg-type]


def test_numpy_parameter_values_are_stored_as_plain_json():
    pre = TabularPreprocessor(
        hash_buckets=np.int64(8), drop_cols=("b",), max_unique_fraction=np.float64(0.5)
    )
    config, _ = pre.fit(pd.DataFrame({"a": [1.0, 2.0], "b": [3, 4]})).to_state()
    assert json.loads(json.dumps(config))["params"]["hash_buckets"] == 8
    assert config["params"]["drop_cols"] == ["b"]
