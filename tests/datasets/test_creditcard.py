"""load_creditcard on a small creditcard.csv written in tmp_path."""

from __future__ import annotations

import numpy as np
import pytest

from dagmm.datasets import creditcard, load_creditcard
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


def write_sample(folder, rows):
    """creditcard_sample.csv: the same columns, unquoted, as in the ULB sample."""
    lines = [",".join(COLUMNS)] + [",".join(map(str, r)) for r in rows]
    (folder / "creditcard_sample.csv").write_text("\n".join(lines) + "\n")
    return folder


def test_sample_file_is_read_and_said_to_be_a_sample(tmp_path):
    write_sample(tmp_path, [row(0, 1.0, 0), row(1, 2.0, 0), row(2, 3.0, 0), row(3, 4.0, 1)])
    bunch = load_creditcard(tmp_path)  # file="auto": no creditcard.csv, so the sample
    assert bunch.filename.endswith("creditcard_sample.csv")
    assert bunch.kind == "sample" and bunch.fraud_share == 0.25
    assert bunch.data.shape == (4, 30) and bunch.target.tolist() == [0, 0, 0, 1]
    assert "fraud share is 25.00%, not the natural 0.173%" in bunch.note
    assert "not comparable" in bunch.note and bunch.note in bunch.DESCR
    assert load_creditcard(tmp_path, file="sample").kind == "sample"


def test_auto_prefers_the_full_file_and_the_kind_comes_from_the_contents(tmp_path, monkeypatch):
    write_sample(tmp_path, [row(0, 1.0, 0), row(3, 4.0, 1)])
    write_csv(tmp_path, [row(0, 149.62, 0), row(1, 2.69, 1), row(1, 378.66, 0)])
    assert load_creditcard(tmp_path).filename.endswith("creditcard.csv")
    # A creditcard.csv that is not the full data set is still called a sample ...
    assert load_creditcard(tmp_path).kind == "sample"
    # ... and one with the full file's row count is the full data set.
    monkeypatch.setattr(creditcard, "FULL_ROWS", 3)
    bunch = load_creditcard(tmp_path, file="full")
    assert bunch.kind == "full" and "The full data set" in bunch.note
    assert load_creditcard(tmp_path, file="sample").filename.endswith("creditcard_sample.csv")


def test_sample_at_the_natural_share_is_not_flagged_as_incomparable():
    note = creditcard.share_note("sample", 100_000, 170)
    assert "close to the natural" in note and "not comparable" not in note


def test_no_file_names_both_and_bad_file_argument(tmp_path):
    with pytest.raises(DatasetNotFoundError) as info:
        load_creditcard(tmp_path)
    assert "creditcard.csv" in str(info.value) and "creditcard_sample.csv" in str(info.value)
    with pytest.raises(DatasetNotFoundError, match="creditcard_sample.csv"):
        load_creditcard(tmp_path, file="sample")
    with pytest.raises(ValueError, match=r"file must be 'auto', 'full'.*got 'both'"):
        load_creditcard(tmp_path, file="both")
