"""Fit on a whole file, transform it in chunks: the rows must match exactly.

The CSV below is built so that pandas infers different dtypes per chunk:
``code`` is all digits in the first rows (int64) and text later, ``amount``
has a gap only in later rows (float64 there, int64 before), and ``shipped``
is entirely empty in one chunk (float64 NaN instead of text).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dagmm.exceptions import DataError
from dagmm.tabular import (
    AtomicTableWriter,
    TabularPreprocessor,
    TabularWarning,
    iter_table_chunks,
    read_table,
)

N = 90
CHUNK = 20


def _awkward_frame() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    code = [str(v) for v in rng.integers(1, 5, N)]
    code[60:] = [rng.choice(["7", "A", "B"]) for _ in range(N - 60)]
    amount = rng.integers(0, 1000, N).astype(object)
    amount[[45, 77]] = None
    shipped = list(pd.date_range("2024-01-01", periods=N, freq="D").strftime("%Y-%m-%d"))
    shipped[20:40] = [None] * 20  # exactly the second chunk
    return pd.DataFrame(
        {
            "row_id": [f"r{i}" for i in range(N)],
            "code": code,
            "amount": amount,
            "flag": rng.choice(["True", "False"], N),
            "shipped": shipped,
            "zip": [f"{v:05d}" for v in rng.integers(0, 100, N)],
        }
    )


def _fit(frame: pd.DataFrame) -> TabularPreprocessor:
    pre = TabularPreprocessor(
        id_cols=["row_id"],
        categorical_cols=["code", "zip"],
        datetime_cols=["shipped"],
        handle_missing="impute",
    )
    with pytest.warns(TabularWarning, match="'zip'"):  # hashed: covers that encoding too
        return pre.fit(frame)


@pytest.fixture(params=[".csv", ".parquet"])
def table_path(request, tmp_path):
    path = tmp_path / f"orders{request.param}"
    frame = _awkward_frame()
    if request.param == ".csv":
        frame.to_csv(path, index=False)
    else:
        frame.to_parquet(path, index=False, row_group_size=32)
    return path


def test_chunk_dtypes_really_differ(tmp_path):
    path = tmp_path / "orders.csv"
    _awkward_frame().to_csv(path, index=False)
    dtypes = [chunk.dtypes for chunk in iter_table_chunks(path, CHUNK)]
    assert pd.api.types.is_integer_dtype(dtypes[0]["code"])
    assert pd.api.types.is_string_dtype(dtypes[-1]["code"])
    assert pd.api.types.is_integer_dtype(dtypes[0]["amount"])
    assert dtypes[2]["amount"] == np.float64
    assert dtypes[1]["shipped"] == np.float64


def test_streamed_transform_equals_whole_transform(table_path):
    whole = read_table(table_path)
    pre = _fit(whole)
    expected = pre.transform(whole)
    streamed = np.vstack([pre.transform(chunk) for chunk in iter_table_chunks(table_path, CHUNK)])
    np.testing.assert_array_equal(streamed, expected)
    assert pre.column_kinds_["code"] == "onehot" and "code=A" in pre.feature_names_out_


def test_score_file_pipeline_writes_ids_and_values(table_path, tmp_path):
    pre = _fit(read_table(table_path))
    out_path = tmp_path / "scores.csv"
    with AtomicTableWriter(out_path) as out:
        for chunk in iter_table_chunks(table_path, CHUNK):
            X = pre.transform(chunk)
            out.write(pre.select_ids(chunk).assign(score=np.square(X).sum(axis=1)))
    written = read_table(out_path)
    assert list(written.columns) == ["row_id", "score"]
    np.testing.assert_array_equal(written["row_id"], [f"r{i}" for i in range(N)])
    expected = np.square(pre.transform(read_table(table_path))).sum(axis=1)
    np.testing.assert_allclose(written["score"], expected, rtol=1e-6)


def test_bad_value_in_a_later_chunk_names_its_row_in_the_file(tmp_path):
    frame = pd.DataFrame({"amount": np.arange(60.0)})
    pre = TabularPreprocessor().fit(frame)
    path = tmp_path / "new.csv"
    values = frame["amount"].astype(object)
    values[47] = "12,5"  # a decimal comma
    frame.assign(amount=values).to_csv(path, index=False)
    with pytest.raises(DataError, match=r"'12,5' in row 47"):
        for chunk in iter_table_chunks(path, CHUNK):
            pre.transform(chunk)
