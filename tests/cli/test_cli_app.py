"""The console entry point: demo, version, error handling."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import dagmm
from dagmm import DAGMM
from dagmm.cli import main

#: The folder holding the dagmm under test (src/ of a checkout), wherever this file lives.
SRC = str(Path(dagmm.__file__).resolve().parents[1])


def test_demo_prints_metrics_and_saves_model(tmp_path, capsys):
    out = tmp_path / "model"
    assert main(["demo", "--epochs", "2", "--out", str(out), "--quiet"]) == 0
    line = capsys.readouterr().out.strip().splitlines()[-1]
    assert line.startswith("precision=") and "recall=" in line and "f1=" in line
    assert "auroc=" in line and str(out) in line
    assert DAGMM.load(out).n_features_in_ == 5


def test_version(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.startswith("dagmm ")


def test_usage_error_exit_code(capsys):
    assert main(["demo", "--epochs", "-1"]) == 2
    assert "epochs" in capsys.readouterr().err


def test_user_error_is_one_line_without_traceback(tmp_path, capsys):
    target = tmp_path / "notes"
    target.mkdir()
    (target / "keep.txt").write_text("x")
    assert main(["demo", "--epochs", "1", "--out", str(target), "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: --out")
    # --debug shows the traceback, with the same exit code.
    assert main(["--debug", "demo", "--epochs", "1", "--out", str(target), "--quiet"]) == 2
    assert "Traceback" in capsys.readouterr().err


def test_python_dash_m_runs_in_a_subprocess():
    env = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}
    done = subprocess.run(
        [sys.executable, "-m", "dagmm", "--version"], capture_output=True, text=True, env=env,
        timeout=120,
    )
    assert done.returncode == 0 and done.stdout.startswith("dagmm ")


def test_demo_says_what_runs_before_it_runs_and_compares_like_with_like(
    tmp_path, capsys, monkeypatch
):
    from dagmm import demo as demo_module
    from dagmm.estimators.dagmm import DAGMM

    events = []
    original_fit = DAGMM.fit

    def spy_fit(self, X, y=None):
        events.append("fit")
        return original_fit(self, X, y)

    monkeypatch.setattr(DAGMM, "fit", spy_fit)
    result = demo_module.run_demo(
        tmp_path / "m", epochs=1, say=lambda line: events.append(line), n_jobs=1
    )
    first_fit = events.index("fit")
    before = " ".join(events[:first_fit])
    assert "5,000 normal training rows" in before and "100 injected anomalies" in before
    assert "loss = reconstruction (squared error) + 0.1 x energy" in before
    assert "cov_penalty (sum of 1 / covariance diagonals)" in before
    # Isolation Forest is thresholded from its training scores like DAGMM, not from test labels.
    assert result["contamination"] == 0.01
    assert {"precision", "recall", "f1", "auroc", "auprc"} <= set(result["iforest"])
    out = capsys.readouterr()
    assert out.out == ""  # run_demo itself prints nothing; the CLI decides


def test_demo_cli_prints_the_plan_and_the_comparison(tmp_path, capsys):
    assert main(["demo", "--epochs", "1", "--threads", "1", "--out", str(tmp_path / "m")]) == 0
    captured = capsys.readouterr()
    assert captured.err.index("data: 5,000") < captured.err.index("training DAGMM for 1 epochs")
    assert "Both flag test rows above the top 1% of their own training scores" in captured.out
