"""`dagmm fit`, `score`, `evaluate` and `tune` through CliRunner and main()."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from dagmm.cli import app, main
from dagmm.cli.app import _register_commands
from dagmm.workflow import TabularDetector

_register_commands()
runner = CliRunner()


def test_help_lists_the_workflow_commands():
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("fit", "score", "evaluate", "tune", "demo"):
        assert command in result.output


def test_fit_score_evaluate_round_trip(data_dir, tiny_args, tmp_path):
    model = tmp_path / "model"
    result = runner.invoke(
        app,
        [
            "fit",
            str(data_dir / "train.csv"),
            "--out",
            str(model),
            "--label-col",
            "label",
            "--id-cols",
            "txn_id",
            "--quiet",
            *tiny_args,
        ],
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("fitted on 380 rows (20 labelled anomalies not trained on)")
    assert "date-times are encoded" in result.stderr  # the warning names placed_at
    assert "'placed_at'" in result.stderr

    result = runner.invoke(
        app,
        [
            "score",
            str(data_dir / "new.csv"),
            "--model",
            str(model),
            "--out",
            str(tmp_path / "scores.csv"),
            "--explain",
            "--chunk-size",
            "100",
            "--quiet",
        ],
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("scored 900 rows")
    assert result.stdout.count("\n") == 1
    scores = pd.read_csv(tmp_path / "scores.csv")
    assert scores.columns.tolist() == [
        "row",
        "txn_id",
        "energy",
        "score",
        "is_anomaly",
        "top_columns",
        "component",
        "component_probability",
    ]
    new = pd.read_csv(data_dir / "new.csv")
    assert scores["txn_id"].tolist() == new["txn_id"].tolist()
    expected = TabularDetector.load(model).score_frame(new, explain=True)
    pd.testing.assert_frame_equal(scores, expected, check_dtype=False)

    result = runner.invoke(
        app,
        [
            "evaluate",
            str(data_dir / "test.csv"),
            "--model",
            str(model),
            "--out",
            str(tmp_path / "report"),
            "--quiet",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "AUROC" in result.stdout and "report.html" in result.stdout
    metrics = json.loads((tmp_path / "report" / "metrics.json").read_text())
    assert metrics["rows"] == 300 and metrics["label_col"] == "label"
    assert (tmp_path / "report" / "report.html").stat().st_size > 10_000


def test_main_returns_exit_codes_and_score_threshold_override(
    model_dir, data_dir, tmp_path, capsys
):
    code = main(
        [
            "score",
            str(data_dir / "new.csv"),
            "-m",
            str(model_dir),
            "-o",
            str(tmp_path / "s.parquet"),
            "--contamination",
            "0.2",
            "-q",
        ]
    )
    assert code == 0
    out = capsys.readouterr().out
    assert "contamination 0.2" in out
    flagged = pd.read_parquet(tmp_path / "s.parquet")["is_anomaly"]
    detector = TabularDetector.load(model_dir)
    train_share = float(np.mean(detector.reference_energies_ > detector.threshold_))
    assert flagged.mean() > train_share


def test_config_file_and_command_line_precedence(data_dir, tiny_args, tmp_path):
    config = tmp_path / "fit.toml"
    config.write_text(
        'label_col = "label"\nid_cols = ["txn_id"]\nepoch_size = 50\nthreshold_fpr = 0.05\n'
        "comp_hiddens = [8, 2]\nest_hiddens = [4, 2]\n"
    )
    code = main(
        [
            "fit",
            str(data_dir / "train.csv"),
            "--out",
            str(tmp_path / "m"),
            "--config",
            str(config),
            "--epochs",
            "1",
            "--batch-size",
            "64",
            "--reconstruction-features",
            "relative,euclidean",
            "--restarts",
            "2",
            "-q",
        ]
    )
    assert code == 0
    detector = TabularDetector.load(tmp_path / "m")
    assert detector.model_.epoch_size == 1  # the command line wins over the file
    assert detector.model_.n_restarts == 2 and len(detector.model_.history_["restart_errors"]) == 2
    assert tuple(detector.model_.reconstruction_features) == ("relative", "euclidean")
    rows = detector.features(pd.read_csv(data_dir / "train.csv"))
    assert detector.model_.transform(rows).shape[1] == 2 + 2  # latent 2, two features
    assert detector.threshold_policy_.kind == "fpr" and detector.threshold_policy_.value == 0.05
    assert len(detector.model_.history_["loss"]) == 1


def test_threshold_f1_on_the_command_line(data_dir, tiny_args, tmp_path):
    code = main(
        [
            "fit",
            str(data_dir / "train.csv"),
            "--out",
            str(tmp_path / "m"),
            "--label-col",
            "label",
            "--threshold-f1",
            "-q",
            *tiny_args,
        ]
    )
    assert code == 0
    config = json.loads((tmp_path / "m" / "config.json").read_text())
    assert config["pipeline"]["threshold"]["policy"] == "f1"
    assert config["pipeline"]["training"]["validation_rows"] > 20


def test_tune_command(data_dir, tiny_args, tmp_path):
    result = runner.invoke(
        app,
        [
            "tune",
            str(data_dir / "test.csv"),
            "--label-col",
            "label",
            "--trials",
            "2",
            "--epochs",
            "2",
            "--metric",
            "auprc",
            "--out",
            str(tmp_path / "tuned"),
            "--id-cols",
            "txn_id",
            "-q",
        ],
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("2 trials (")
    assert (tmp_path / "tuned" / "trials.csv").is_file()
    assert (tmp_path / "tuned" / "trials.png").is_file()
    assert TabularDetector.load(tmp_path / "tuned" / "model").label_col == "label"


@pytest.mark.parametrize("command", ["fit", "score", "evaluate", "tune"])
def test_each_command_has_help(command):
    result = runner.invoke(app, [command, "--help"])
    assert result.exit_code == 0
    assert "--quiet" in result.output
