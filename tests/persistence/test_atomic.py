"""The one atomic file writer: complete or not at all, and no leftovers.

How the model directory uses it (the config switch, sweeping a killed save's
files) is tested beside this file, in test_model_dir_reliability.py.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dagmm.persistence.atomic import (
    LEGACY_LEFTOVER_AGE_S,
    AtomicPath,
    atomic_write,
    sweep_leftovers,
    temp_path_for,
)


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def _hidden(folder: Path) -> list[str]:
    return sorted(entry.name for entry in folder.iterdir() if entry.name.startswith("."))


def _age(path: Path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


@pytest.mark.parametrize(
    "content, expected",
    [
        ("héllo\n", "héllo\n".encode()),
        (b"\x00\x01binary", b"\x00\x01binary"),
        (lambda handle: handle.write(b"from a writer"), b"from a writer"),
    ],
    ids=["text", "bytes", "callable"],
)
def test_writes_text_bytes_or_through_a_callable(tmp_path, content, expected):
    target = tmp_path / "new" / "folder" / "out.txt"  # missing parents are created
    assert atomic_write(target, content) == target
    assert target.read_bytes() == expected
    assert _hidden(target.parent) == []


def test_overwrite_false_and_a_folder_are_refused(tmp_path):
    target = tmp_path / "out.txt"
    atomic_write(target, "first")
    with pytest.raises(FileExistsError, match="already exists and overwrite=False"):
        atomic_write(target, "second", overwrite=False)
    assert target.read_text() == "first"
    atomic_write(target, "second")
    assert target.read_text() == "second"
    with pytest.raises(IsADirectoryError, match="it is a folder; give a file path"):
        atomic_write(tmp_path, "x")


@pytest.mark.parametrize("error", [RuntimeError("writer failed"), KeyboardInterrupt()])
def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path, error):
    target = tmp_path / "out.txt"
    target.write_text("old")

    def half_then_fail(handle):
        handle.write(b"half")
        raise error

    with pytest.raises(type(error)):
        atomic_write(target, half_then_fail)
    assert target.read_text() == "old"
    assert os.listdir(tmp_path) == ["out.txt"]


def test_temporary_names_are_hidden_beside_the_target_and_carry_the_process_id(tmp_path):
    target = tmp_path / "scores.csv"
    first, second = temp_path_for(target), temp_path_for(target, "part")
    assert first.parent == tmp_path and first != temp_path_for(target)
    assert re.fullmatch(rf"\.scores\.csv\.{os.getpid()}-[0-9a-f]{{12}}\.tmp", first.name)
    assert re.fullmatch(rf"\.scores\.csv\.{os.getpid()}-[0-9a-f]{{12}}\.part", second.name)


def test_atomic_path_commit_and_abort(tmp_path):
    target = tmp_path / "figure.png"
    writer = AtomicPath(target)
    temp = writer.begin()
    assert not target.exists() and temp.parent == tmp_path
    temp.write_bytes(b"png")
    assert writer.commit() == target and target.read_bytes() == b"png"
    assert _hidden(tmp_path) == []
    aborted = AtomicPath(target)
    aborted.begin().write_bytes(b"never")
    aborted.abort()
    assert target.read_bytes() == b"png" and _hidden(tmp_path) == []


def test_sweeping_removes_only_dead_writers_files_of_that_target(tmp_path):
    target = tmp_path / "scores.csv"
    dead, alive = _dead_pid(), os.getpid()
    names = {
        "dead": f".scores.csv.{dead}-0123456789ab.tmp",
        "dead_part": f".scores.csv.{dead}-0123456789ab.part",  # another kind: not asked for
        "alive": f".scores.csv.{alive}-0123456789ab.tmp",
        "other_target": f".report.html.{dead}-0123456789ab.tmp",
        "user_file": ".scores.csv.notes",
    }
    for name in names.values():
        (tmp_path / name).write_text("x")
    assert sweep_leftovers(target) == [tmp_path / names["dead"]]
    assert _hidden(tmp_path) == sorted(value for key, value in names.items() if key != "dead")
    assert sweep_leftovers(target, kinds=("part",)) == [tmp_path / names["dead_part"]]


def test_sweeping_removes_old_unnamed_leftovers_of_older_versions_only(tmp_path):
    # dagmm before process ids were recorded: removed only once an hour old.
    target = tmp_path / "scores.csv"
    young = tmp_path / ".scores.csv.0123456789ab.tmp"
    old = tmp_path / ".scores.csv.ba9876543210.tmp"
    kept_model = tmp_path / ".scores.csv.replaced-1a2b3c4d"  # the loader restores it
    staging = tmp_path / ".scores.csv.saving-1a2b3c4d"
    for path in (young, old):
        path.write_text("x")
    for folder in (kept_model, staging):
        folder.mkdir()
        (folder / "inside").write_text("x")
    for path in (old, kept_model, staging):
        _age(path, LEGACY_LEFTOVER_AGE_S + 60)
    assert sorted(sweep_leftovers(target)) == sorted([old, staging])
    assert young.exists() and kept_model.exists()


def test_a_write_sweeps_its_targets_leftovers_first(tmp_path):
    target = tmp_path / "out.txt"
    leftover = tmp_path / f".out.txt.{_dead_pid()}-0123456789ab.tmp"
    leftover.write_text("half")
    atomic_write(target, "whole")
    assert not leftover.exists() and target.read_text() == "whole"
