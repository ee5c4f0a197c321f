"""load_creditcard on a small creditcard.csv written in tmp_path."""

from __future__ import annotations

import numpy as np
import pytest

from dagmm.datasets import load_creditcard
from dagmm.exceptions import DataError, DatasetNotFoundError

COLUMNS = ["Time", *(f"V{i}" for i in range(1, 29)), "Amount", "Class"]


def write_csv(folder, rows, columns=COLUMNS):
    """Quoted header and quoted Class values, as in the Kaggle file."""
    lines = [",".join(f'"{c}"' for c in columns)]
    for row in rows:
        *values, label = row
        lines.append(",".join([*map(str, values), f'"{label}"']))
    (folder / "creditcard.csv").write_text("\n".join(lines) + "\n")
    return folder


def row(time, amount, label):
    return [time, *np.linspace(-1, 1, 28).round(3), amount, label]


def test_loads_features_and_class(tmp_path):
    write_csv(tmp_path, [row(0, 149.62, 0), row(1, 2.69, 1), row(1, 378.66, 0)])
    bunch = load_creditcard(tmp_path)
    assert bunch.data.shape == (3, 30) and bunch.data.dtype == np.float64
    assert bunch.feature_names == COLUMNS[:-1]
    np.testing.assert_array_equal(bunch.target, [0, 1, 0])
    assert bunch.target.dtype == np.int64
    np.testing.assert_allclose(bunch.data[:, -1], [149.62, 2.69, 378.66])  # not scaled
    assert "frauds (target 1, the anomalies):\n1 " in bunch.DESCR
    X, y = load_creditcard(tmp_path, return_X_y=True)
    assert X.shape == (3, 30) and y.tolist() == [0, 1, 0]


@pytest.mark.parametrize("download", [False, True])
def test_absent_file_says_where_to_get_it_and_where_to_put_it(tmp_path, download):
    with pytest.raises(DatasetNotFoundError) as info:
        load_creditcard(tmp_path, download=download)
    message = str(info.value)
    assert "kaggle.com/datasets/mlg-ulb/creditcardfraud" in message
    assert str(tmp_path / "creditcard.csv") in message
    assert "no public download address" in message


def test_wrong_columns(tmp_path):
    write_csv(tmp_path, [row(0, 1.0, 0)[:-2] + [0]], columns=COLUMNS[:-2] + ["Class"])
    with pytest.raises(DataError, match=r"creditcard\.csv.*missing \['Amount'\], unexpected \[\]"):
        load_creditcard(tmp_path)


def test_non_numeric_value(tmp_path):
    write_csv(tmp_path, [row(0, 1.0, 0), row(1, "n/a", 0)])
    with pytest.raises(DataError, match=r"column 'Amount', data row 2: 'n/a' is not a number"):
        load_creditcard(tmp_path)


def test_class_must_be_binary(tmp_path):
    write_csv(tmp_path, [row(0, 1.0, 0), row(1, 2.0, 2)])
    with pytest.raises(DataError, match=r"'Class' holds \[0, 2\]; expected 0 and 1"):
        load_creditcard(tmp_path)


def test_empty_file(tmp_path):
    (tmp_path / "creditcard.csv").write_text("")
    with pytest.raises(DataError, match=r"creditcard\.csv' is corrupt"):
        load_creditcard(tmp_path)


def test_empty_field(tmp_path):
    write_csv(tmp_path, [row(0, 1.0, 0), row(1, "", 0)])
    with pytest.raises(DataError, match=r"column 'Amount', data row 2: an empty field is not"):
        load_creditcard(tmp_path)
