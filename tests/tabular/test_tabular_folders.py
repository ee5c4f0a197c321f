"""A folder of files read as one table: whole, in chunks, by rank share, and by the CLI."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dagmm.cli import main
from dagmm.exceptions import DataError
from dagmm.tabular import iter_table_chunks, read_table
from dagmm.tabular.folders import read_folder_share, table_files
from dagmm.workflow.synthetic import make_transactions


def _write_parts(folder, frame, sizes, kind="parquet", row_group_size=7):
    folder.mkdir()
    start = 0
    for index, size in enumerate(sizes):
        part = frame.iloc[start : start + size]
        start += size
        if kind == "parquet":
            part.to_parquet(folder / f"part-{index:05d}.parquet", index=False, row_group_size=row_group_size)
        else:
            part.to_csv(folder / f"part-{index:05d}.csv", index=False)
    (folder / "_SUCCESS").write_text("")
    (folder / ".part-00000.crc").write_text("x")
    return folder


@pytest.fixture
def frame():
    return make_transactions(60, random_state=0)


@pytest.mark.parametrize("kind", ["parquet", "csv"])
def test_folder_reads_as_the_files_concatenated_in_name_order(tmp_path, frame, kind):
    # Written out of order: part-00010 sorts after part-00002.
    folder = _write_parts(tmp_path / "data", frame, [25, 20, 15], kind)
    suffix = ".parquet" if kind == "parquet" else ".csv"
    (folder / f"part-00001{suffix}").rename(folder / f"part-00010{suffix}")
    expected = pd.concat([frame.iloc[:25], frame.iloc[45:], frame.iloc[25:45]], ignore_index=True)
    whole = read_table(folder)
    assert whole["txn_id"].tolist() == expected["txn_id"].tolist()
    assert list(whole.index) == list(range(60))
    chunks = list(iter_table_chunks(folder, 8, columns=["txn_id", "amount"]))
    assert max(len(chunk) for chunk in chunks) <= 8
    joined = pd.concat(chunks)
    assert list(joined.index) == list(range(60))
    assert joined["txn_id"].tolist() == expected["txn_id"].tolist()


@pytest.mark.parametrize("world_size", [1, 2, 3, 4])
def test_rank_shares_concatenate_to_the_table(tmp_path, frame, world_size):
    folder = _write_parts(tmp_path / "data", frame, [25, 20, 15])
    shares = [read_folder_share(folder, rank, world_size) for rank in range(world_size)]
    assert pd.concat(shares)["txn_id"].tolist() == frame["txn_id"].tolist()
    sizes = [len(share) for share in shares]
    assert max(sizes) - min(sizes) <= 1  # by rows, across files and row groups
    assert list(shares[-1].index)[-1] == 59  # indexed by folder row


def test_csv_shares_go_by_file(tmp_path, frame):
    folder = _write_parts(tmp_path / "data", frame, [25, 20, 15], "csv")
    shares = [read_folder_share(folder, rank, 2) for rank in range(2)]
    assert [len(share) for share in shares] == [25, 35]
    with pytest.raises(DataError, match="3 CSV file.*4 processes"):
        read_folder_share(folder, 0, 4)


def test_folder_errors_name_the_problem(tmp_path, frame):
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "_SUCCESS").write_text("")
    with pytest.raises(DataError, match="holds no data file"):
        table_files(empty)
    mixed = _write_parts(tmp_path / "mixed", frame, [30, 30])
    frame.to_csv(mixed / "extra.csv", index=False)
    with pytest.raises(DataError, match="mixes Parquet and delimited"):
        read_table(mixed)
    partitioned = tmp_path / "partitioned"
    (partitioned / "day=1").mkdir(parents=True)
    frame.to_parquet(partitioned / "day=1" / "part.parquet")
    with pytest.raises(DataError, match="partitioned into folders such as 'day=1'"):
        read_table(partitioned)
    different = _write_parts(tmp_path / "different", frame, [30, 30])
    frame.drop(columns=["label"]).to_parquet(different / "part-00009.parquet", index=False)
    with pytest.raises(DataError, match="same columns"):
        read_table(different)
    with pytest.raises(FileNotFoundError):
        read_folder_share(tmp_path / "absent", 0, 1)


def test_cli_fits_and_scores_a_folder_like_the_file(tmp_path, tiny_args_folder):
    frame = make_transactions(300, random_state=0)
    folder = _write_parts(tmp_path / "train", frame, [100, 120, 80], row_group_size=50)
    frame.to_parquet(tmp_path / "train.parquet", index=False)
    common = ["--label-col", "label", "--id-cols", "txn_id", "--seed", "0", "--quiet", *tiny_args_folder]
    assert main(["fit", str(folder), "--out", str(tmp_path / "m_folder"), *common]) == 0
    assert main(["fit", str(tmp_path / "train.parquet"), "--out", str(tmp_path / "m_file"), *common]) == 0
    assert main(["score", str(folder), "--model", str(tmp_path / "m_folder"), "--out", str(tmp_path / "a.csv"), "--quiet"]) == 0
    assert main(["score", str(tmp_path / "train.parquet"), "--model", str(tmp_path / "m_file"), "--out", str(tmp_path / "b.csv"), "--quiet"]) == 0
    a, b = pd.read_csv(tmp_path / "a.csv"), pd.read_csv(tmp_path / "b.csv")
    assert a["txn_id"].tolist() == frame["txn_id"].tolist()
    assert a["row"].tolist() == list(range(300))
    np.testing.assert_allclose(a["energy"], b["energy"], rtol=1e-6)
