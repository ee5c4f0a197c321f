"""The console tool in a real process: `python -m dagmm ...` as a user runs it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd

from dagmm.workflow import TabularDetector

SRC = Path(__file__).resolve().parents[2] / "src"


def dagmm(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(SRC), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env["OMP_NUM_THREADS"] = "1"  # tiny models: threads only contend on a shared machine
    return subprocess.run(
        [sys.executable, "-m", "dagmm", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_fit_in_a_subprocess(data_dir, tiny_args, tmp_path):
    fitted = dagmm(
        "fit", str(data_dir / "train.csv"), "--out", "model", "--label-col", "label",
        "--id-cols", "txn_id", "--seed", "3", *tiny_args, cwd=tmp_path,
    )  # fmt: skip
    assert fitted.returncode == 0, fitted.stderr
    assert fitted.stdout.startswith("fitted on 380 rows") and fitted.stdout.count("\n") == 1
    assert "warning: column(s) of date-times are encoded" in fitted.stderr
    assert "Traceback" not in fitted.stderr
    detector = TabularDetector.load(tmp_path / "model")
    scores = detector.score_frame(pd.read_csv(data_dir / "new.csv"))
    assert len(scores) == 900 and scores["txn_id"].is_unique


def test_user_error_in_a_subprocess(tmp_path):
    result = dagmm("score", "missing.csv", "--model", "nowhere", "--out", "s.csv", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == "error: 'nowhere' is not a model directory: no such directory"
    assert result.stdout == ""
