"""Tables in and out: field counts, ids as text, Parquet types, formulas (issue 12, 1, 2, 8, 11, 12)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dagmm.cli import main
from dagmm.exceptions import DataError
from dagmm.tabular import AtomicTableWriter, escape_formula, iter_table_chunks, read_table
from dagmm.workflow import FitOptions, TabularDetector, score_file

IDS = ["000123", "007", "4111111111111111111", "9007199254740993", "1e5", "NA", "-0", "12.50"]


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _table(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "a": rng.normal(size=n),
            "b": rng.normal(size=n),
            "c": rng.normal(size=n),
            "d": rng.normal(size=n),
            "label": np.where(np.arange(n) % 50 == 0, "fraud", "normal"),
        }
    )


@pytest.fixture(scope="module")
def model(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("model")
    frame = _table(300)
    frame.insert(0, "txn_id", [f"t{i}" for i in range(len(frame))])
    options = FitOptions(label_col="label", id_cols=("txn_id",), epoch_size=1, minibatch_size=64,
                         comp_hiddens=(6, 1), est_hiddens=(4, 2), device="cpu")
    return TabularDetector.from_options(options).fit(frame).save(root / "model")


# ----------------------------------------------------- 1: field counts
def test_trailing_delimiter_is_refused_naming_the_line(tmp_path):
    path = tmp_path / "trailing.csv"
    frame = _table(20)
    text = frame.to_csv(index=False)
    lines = text.splitlines()
    path.write_text("\n".join([lines[0]] + [line + "," for line in lines[1:]]) + "\n")
    with pytest.raises(DataError, match=r"line 2 has 6 fields but the header has 5"):
        read_table(path, columns=["a", "b"])
    with pytest.raises(DataError, match=r"line 2 has 6 fields"):
        list(iter_table_chunks(path, 7, columns=["a", "b"]))


@pytest.mark.parametrize("bad_line, fields", [("1,2,3\n", 3), ("1,2,3,4,5,6\n", 6)])
def test_a_short_or_long_row_in_a_later_chunk_is_refused(tmp_path, bad_line, fields):
    path = tmp_path / "ragged.tsv"
    frame = _table(30)
    body = frame.to_csv(index=False, sep="\t")
    lines = body.splitlines(keepends=True)
    lines.insert(25, bad_line.replace(",", "\t"))  # line 26 of the file
    path.write_text("".join(lines))
    with pytest.raises(DataError, match=rf"line 26 has {fields} fields but the header has 5"):
        list(iter_table_chunks(path, 10))
    with pytest.raises(DataError, match=r"line 26"):
        read_table(path)


def test_quoted_delimiters_and_newlines_and_blank_lines_are_fine(tmp_path):
    path = tmp_path / "quoted.csv"
    path.write_text('a,b\n"x,y",1\n\n"two\nlines",2\n   \n')
    frame = read_table(path)
    assert frame["a"].tolist() == ["x,y", "two\nlines"]
    assert frame["b"].tolist() == [1, 2]


def test_score_refuses_a_shifted_file_with_exit_2(model, tmp_path, capsys):
    path = tmp_path / "new.csv"
    frame = _table(40, seed=1)
    frame.insert(0, "txn_id", range(len(frame)))
    lines = frame.to_csv(index=False).splitlines()
    path.write_text("\n".join([lines[0]] + [line + "," for line in lines[1:]]) + "\n")
    code = main(["score", str(path), "--model", str(model), "--out", str(tmp_path / "s.csv")])
    err = capsys.readouterr().err
    assert code == 2 and "line 2 has 7 fields but the header has 6" in err
    assert not (tmp_path / "s.csv").exists()


# ----------------------------------------------------- 2: ids as text
@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_ids_are_written_byte_for_byte(model, tmp_path, suffix):
    frame = _table(len(IDS) * 200, seed=2)
    ids = (IDS * 200)
    ids[5] = ""  # a blank id in one chunk only
    frame.insert(0, "txn_id", ids)
    source = tmp_path / "new.csv"
    frame.to_csv(source, index=False)
    out = tmp_path / f"scores{suffix}"
    score_file(source, model, out, chunksize=768)
    if suffix == ".csv":
        written = out.read_text().splitlines()[1:]
        assert [line.split(",")[1] for line in written] == ids
    else:
        assert pd.read_parquet(out)["txn_id"].tolist() == ids


def test_parquet_ids_of_changing_inferred_type_are_written(model, tmp_path):
    # Chunk 1 holds integers only, chunk 2 a text id, chunk 3 a blank: one column type.
    frame = _table(768 * 3, seed=3)
    ids = [str(i) for i in range(len(frame))]
    ids[768 + 5] = "X-17"
    ids[2 * 768 + 1] = ""
    frame.insert(0, "txn_id", ids)
    for source in (tmp_path / "new.csv", tmp_path / "new.parquet"):
        if source.suffix == ".csv":
            frame.to_csv(source, index=False)
        else:
            frame.assign(txn_id=[None if v == "" else v for v in ids]).to_parquet(source)
        out = tmp_path / "scores.parquet"
        score_file(source, model, out, chunksize=768)
        written = pd.read_parquet(out)["txn_id"].tolist()
        assert written[:5] == ["0", "1", "2", "3", "4"] and written[768 + 5] == "X-17"
        assert written[2 * 768 + 1] == "" if source.suffix == ".csv" else pd.isna(
            written[2 * 768 + 1]
        )


def test_parquet_integer_ids_with_nulls_stay_integers_as_text(model, tmp_path):
    frame = _table(1600, seed=4)
    frame.insert(0, "txn_id", pd.array([1535, None] + list(range(2, 1600)), dtype="Int64"))
    source = tmp_path / "new.parquet"
    frame.to_parquet(source, index=False)
    out = tmp_path / "scores.csv"
    score_file(source, model, out, chunksize=768)
    written = pd.read_csv(out, dtype=str, keep_default_na=False)["txn_id"].tolist()
    assert written[:3] == ["1535", "", "2"]


# ------------------------------------------------- 12: formula injection
def test_formula_like_text_is_escaped_in_csv_by_default(model, tmp_path):
    frame = _table(10, seed=5)
    frame.insert(0, "txn_id", ["=HYPERLINK(\"http://x\")", "+1+cmd|' /C calc'!A0", "@SUM(A1)",
                               "-5", "+1.5e3", "\tx", "plain", "-x", "=1", "7"])
    source = tmp_path / "new.csv"
    frame.to_csv(source, index=False)
    score_file(source, model, tmp_path / "s.csv")
    written = pd.read_csv(tmp_path / "s.csv", dtype=str, keep_default_na=False)["txn_id"]
    assert written.tolist() == ["'=HYPERLINK(\"http://x\")", "'+1+cmd|' /C calc'!A0", "'@SUM(A1)",
                                "-5", "+1.5e3", "'\tx", "plain", "'-x", "'=1", "7"]
    score_file(source, model, tmp_path / "raw.csv", escape_formulas=False)
    raw = pd.read_csv(tmp_path / "raw.csv", dtype=str, keep_default_na=False)["txn_id"]
    assert raw.tolist() == frame["txn_id"].tolist()
    score_file(source, model, tmp_path / "s.parquet")
    assert pd.read_parquet(tmp_path / "s.parquet")["txn_id"].tolist() == frame["txn_id"].tolist()


def test_column_names_in_top_columns_and_headers_are_escaped(tmp_path):
    path = tmp_path / "out.csv"
    with AtomicTableWriter(path) as out:
        out.write(pd.DataFrame({"=cmd": [1], "top_columns": ["=HYPERLINK(1) (80%), a (20%)"]}))
    text = path.read_text().splitlines()
    assert text[0] == "'=cmd,top_columns"
    assert text[1] == "1,'=HYPERLINK(1) (80%), a (20%)" or text[1] == "1,\"'=HYPERLINK(1) (80%), a (20%)\""
    assert escape_formula(3) == 3 and escape_formula("-1.5") == "-1.5"


def test_cli_escape_formulas_flag(model, tmp_path, capsys):
    frame = _table(5, seed=6)
    frame.insert(0, "txn_id", ["=1+1", "a", "b", "c", "d"])
    source = tmp_path / "new.csv"
    frame.to_csv(source, index=False)
    assert main(["score", str(source), "-m", str(model), "-o", str(tmp_path / "e.csv")]) == 0
    assert main(["score", str(source), "-m", str(model), "-o", str(tmp_path / "r.csv"),
                 "--no-escape-formulas"]) == 0
    assert pd.read_csv(tmp_path / "e.csv")["txn_id"][0] == "'=1+1"
    assert pd.read_csv(tmp_path / "r.csv")["txn_id"][0] == "=1+1"


# ------------------------------------------------- 8: table leftovers
def test_leftover_of_a_killed_table_writer_is_swept(tmp_path):
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    leftover = tmp_path / f".out.csv.{process.pid}-0123456789ab.tmp"
    leftover.write_text("half")
    live = tmp_path / f".out.csv.{os.getpid()}-0123456789ac.tmp"
    live.write_text("someone writing now")
    with AtomicTableWriter(tmp_path / "out.csv") as out:
        out.write(pd.DataFrame({"a": [1]}))
    assert not leftover.exists() and live.exists()


# ------------------------------------------------- 8: SIGTERM during a write
@pytest.mark.skipif(not hasattr(__import__("signal"), "SIGTERM") or os.name != "posix",
                    reason="POSIX signals")
def test_sigterm_during_score_leaves_no_temporary_file(model, tmp_path):
    import signal
    import time

    frame = _table(60_000, seed=7)
    frame.insert(0, "txn_id", np.arange(len(frame)))
    source = tmp_path / "big.csv"
    frame.to_csv(source, index=False)
    out = tmp_path / "s.csv"
    process = subprocess.Popen(
        [sys.executable, "-m", "dagmm", "score", str(source), "-m", str(model), "-o", str(out),
         "--chunk-size", "768", "--quiet"],
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    deadline = time.time() + 120
    while time.time() < deadline and not list(tmp_path.glob(".s.csv.*.tmp")):
        time.sleep(0.05)
        assert process.poll() is None, process.stderr.read()
    process.send_signal(signal.SIGTERM)
    code = process.wait(timeout=60)
    assert code == 143, process.stderr.read()
    assert not out.exists() and not list(tmp_path.glob(".s.csv.*"))


def test_a_lone_carriage_return_in_text_survives_the_round_trip(tmp_path):
    # Found by the property tests: the csv module leaves "\r" unquoted.
    path = tmp_path / "out.csv"
    frame = pd.DataFrame({"id": ["a\rb", "c", "d\r"], "x": [1.5, 2.0, 3.0]})
    with AtomicTableWriter(path, escape_formulas=False) as out:
        out.write(frame)
    back = read_table(path, text_columns=["id"])
    assert back["id"].tolist() == ["a\rb", "c", "d\r"] and back["x"].tolist() == [1.5, 2.0, 3.0]


def test_a_full_disk_is_one_clear_line_and_leaves_nothing(tmp_path, monkeypatch):
    path = tmp_path / "out.csv"

    def full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    with pytest.raises(DataError, match=r"cannot write '.*out.csv': No space left on device"):
        with AtomicTableWriter(path) as out:
            monkeypatch.setattr(pd.DataFrame, "to_csv", full)
            out.write(pd.DataFrame({"a": [1]}))
    assert list(tmp_path.iterdir()) == []


def test_ctrl_c_during_score_leaves_no_file_and_exits_130(model, tmp_path, monkeypatch, capsys):
    from dagmm.workflow import detector as detector_module

    frame = _table(2000, seed=8)
    frame.insert(0, "txn_id", np.arange(len(frame)))
    source = tmp_path / "new.csv"
    frame.to_csv(source, index=False)
    calls = []
    original = detector_module.TabularDetector.score_frame

    def interrupt_second_chunk(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return original(self, *args, **kwargs)

    monkeypatch.setattr(detector_module.TabularDetector, "score_frame", interrupt_second_chunk)
    code = main(["score", str(source), "-m", str(model), "-o", str(tmp_path / "s.csv"),
                 "--chunk-size", "768", "--quiet"])
    assert code == 130 and "Interrupted" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new.csv"]
