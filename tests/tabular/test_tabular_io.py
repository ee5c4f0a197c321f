"""read_table, iter_table_chunks and AtomicTableWriter."""

from __future__ import annotations

import gzip

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from dagmm.exceptions import DataError
from dagmm.tabular import AtomicTableWriter, iter_table_chunks, read_table

N = 50


@pytest.fixture
def frame() -> pd.DataFrame:
    rng = np.random.default_rng(1)
    return pd.DataFrame(
        {
            "amount": rng.normal(size=N),
            "count": rng.integers(0, 9, N),
            "color": rng.choice(["red", "blue"], N),
            "flag": rng.choice([True, False], N),
        }
    )


def _write(frame: pd.DataFrame, path) -> None:
    name = str(path)
    if name.endswith((".parquet", ".pq")):
        # Small row groups so that chunks cross row-group boundaries.
        pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path, row_group_size=16)
    else:
        frame.to_csv(path, index=False, sep="\t" if ".tsv" in name else ",")


EXTENSIONS = [".csv", ".csv.gz", ".tsv", ".parquet", ".pq", ".CSV"]


@pytest.mark.parametrize("extension", EXTENSIONS)
def test_read_table_round_trips(frame, tmp_path, extension):
    path = tmp_path / f"data{extension}"
    _write(frame, path)
    pd.testing.assert_frame_equal(read_table(path), frame, check_dtype=False)
    subset = read_table(path, columns=["color", "amount"])
    assert list(subset.columns) == ["color", "amount"]
    pd.testing.assert_frame_equal(subset, frame[["color", "amount"]], check_dtype=False)


@pytest.mark.parametrize("extension", [".csv", ".tsv.gz", ".parquet"])
@pytest.mark.parametrize("chunksize", [7, 16, 1000])
def test_chunks_concatenate_to_the_whole_table(frame, tmp_path, extension, chunksize):
    path = tmp_path / f"data{extension}"
    _write(frame, path)
    chunks = list(iter_table_chunks(path, chunksize))
    assert all(0 < len(chunk) <= chunksize for chunk in chunks)
    if extension != ".parquet":  # Parquet batches may also stop at row-group ends
        assert len(chunks) == -(-N // chunksize)
    # Row numbers carry on from chunk to chunk.
    assert [chunk.index[0] for chunk in chunks] == list(
        np.cumsum([0] + [len(c) for c in chunks[:-1]])
    )
    pd.testing.assert_frame_equal(pd.concat(chunks), read_table(path))
    selected = pd.concat(iter_table_chunks(path, chunksize, columns=["flag", "count"]))
    pd.testing.assert_frame_equal(selected, read_table(path)[["flag", "count"]])


def test_parquet_stored_pandas_index_is_not_a_column(frame, tmp_path):
    path = tmp_path / "indexed.parquet"
    frame.set_index(pd.Index(range(100, 100 + N), name="key")).to_parquet(path)
    assert list(read_table(path).columns) == list(frame.columns)
    assert list(pd.concat(iter_table_chunks(path, 9)).columns) == list(frame.columns)


def test_header_only_file(tmp_path):
    path = tmp_path / "empty_rows.csv"
    path.write_text("a,b\n")
    table = read_table(path)
    assert list(table.columns) == ["a", "b"] and len(table) == 0
    assert list(iter_table_chunks(path, 5)) == []


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"data file '.*nope\.csv' does not exist"):
        read_table(tmp_path / "nope.csv")
    with pytest.raises(FileNotFoundError):
        iter_table_chunks(tmp_path / "nope.parquet", 10)  # raised at the call, not at next()


def test_unknown_extension(tmp_path):
    path = tmp_path / "data.xlsx"
    path.write_text("a\n1\n")
    with pytest.raises(
        DataError,
        match=r"cannot tell the format of '.*data\.xlsx'.*expected one of \.csv, \.csv\.gz",
    ):
        read_table(path)
    with pytest.raises(DataError, match="cannot tell the format"):
        AtomicTableWriter(tmp_path / "out.json")


@pytest.mark.parametrize("extension", [".csv", ".parquet"])
def test_empty_file(tmp_path, extension):
    path = tmp_path / f"empty{extension}"
    path.write_bytes(b"")
    with pytest.raises(DataError, match=r"is empty; expected a header line and rows"):
        read_table(path)


@pytest.mark.parametrize(
    ("name", "content", "match"),
    [
        ("blank.csv", b"\n\n", r"holds no columns"),
        (
            "ragged.csv",
            b"a,b\n1,2\n3,4,5,6\n",
            r"line 3 has 4 fields but the header has 2",
        ),
        ("latin1.csv", "name\ncaf\u00e9\n".encode("latin-1"), r"is not UTF-8 text"),
        ("fake.csv.gz", b"a,b\n1,2\n", r"is not a complete gzip file"),
        ("fake.parquet", b"a,b\n1,2\n", r"is not a readable Parquet file"),
        (
            "cut.csv.gz",
            gzip.compress(b"a,b\n" + b"".join(b"%d,%d\n" % (i, i * i) for i in range(1000)))[:2000],
            r"is not a complete gzip file",
        ),
    ],
)
def test_unparseable_content(tmp_path, name, content, match):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(DataError, match=match):
        read_table(path)
    with pytest.raises(DataError, match=match):
        list(iter_table_chunks(path, 1))


def test_directory_and_bad_arguments(tmp_path, frame):
    folder = tmp_path / "folder.csv"
    folder.mkdir()  # a folder is read as a table of its files (dagmm.tabular.folders)
    with pytest.raises(DataError, match="holds no data file"):
        read_table(folder)
    path = tmp_path / "data.csv"
    _write(frame, path)
    with pytest.raises(
        DataError,
        match=r"has no column\(s\) 'colour' \(did you mean 'color'\?\); its columns are 'amount'",
    ):
        read_table(path, columns=["colour"])
    with pytest.raises(DataError, match=r"has no column\(s\) 'x'"):
        iter_table_chunks(path.with_suffix(".csv"), 5, columns=["x"])
    with pytest.raises(ValueError, match="chunksize must be a positive integer, got 0"):
        iter_table_chunks(path, 0)
    with pytest.raises(ValueError, match=r"columns=\['color'\]"):
        read_table(path, columns="color")


# ------------------------------------------------------------ AtomicTableWriter
def _leftovers(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


@pytest.mark.parametrize("extension", [".csv", ".csv.gz", ".tsv", ".parquet"])
def test_writer_writes_chunks(frame, tmp_path, extension):
    path = tmp_path / "out" / f"scores{extension}"  # parent is created
    with AtomicTableWriter(path) as out:
        for start in range(0, N, 20):
            out.write(frame.iloc[start : start + 20])
        assert not path.exists()  # nothing visible until the block ends
    assert out.rows_written == N
    pd.testing.assert_frame_equal(read_table(path), frame, check_dtype=False)
    assert _leftovers(path.parent) == [path.name]


@pytest.mark.parametrize("extension", [".csv", ".parquet"])
def test_writer_leaves_nothing_on_error(frame, tmp_path, extension):
    path = tmp_path / f"scores{extension}"
    with pytest.raises(KeyError), AtomicTableWriter(path) as out:
        out.write(frame.head(10))
        raise KeyError("scoring failed half way")
    assert _leftovers(tmp_path) == []


def test_writer_keeps_existing_file_on_error_and_replaces_it_on_success(frame, tmp_path):
    path = tmp_path / "scores.csv"
    path.write_text("old\n")
    with pytest.raises(RuntimeError), AtomicTableWriter(path) as out:
        out.write(frame)
        raise RuntimeError("boom")
    assert path.read_text() == "old\n"
    assert _leftovers(tmp_path) == ["scores.csv"]
    with AtomicTableWriter(path) as out:
        out.write(frame)
    assert len(read_table(path)) == N
    with (
        pytest.raises(DataError, match="already exists and overwrite=False"),
        AtomicTableWriter(path, overwrite=False),
    ):
        pass


def test_writer_rejects_chunks_that_change_shape(frame, tmp_path):
    path = tmp_path / "scores.parquet"
    with pytest.raises(
        DataError,
        match=r"chunk columns 'amount' differ from the first chunk's columns 'amount', 'count'",
    ):
        with AtomicTableWriter(path) as out:
            out.write(frame[["amount", "count"]])
            out.write(frame[["amount"]])
    with pytest.raises(DataError, match="column 'count' was written as int64 from the first chunk.*do not fit"):
        with AtomicTableWriter(path) as out:
            out.write(frame[["count"]])
            out.write(frame[["color"]].rename(columns={"color": "count"}))
    assert _leftovers(tmp_path) == []


def test_writer_with_no_chunks_and_misuse(tmp_path, frame):
    with AtomicTableWriter(tmp_path / "none.csv"):
        pass
    assert (tmp_path / "none.csv").read_bytes() == b""
    with AtomicTableWriter(tmp_path / "none.parquet"):
        pass
    assert pq.read_table(tmp_path / "none.parquet").num_rows == 0
    writer = AtomicTableWriter(tmp_path / "x.csv")
    with pytest.raises(RuntimeError, match="only allowed inside"):
        writer.write(frame)
