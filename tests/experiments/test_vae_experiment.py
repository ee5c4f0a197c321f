"""The MNIST 0-versus-6 study: its split and ``dagmm experiment mnist-vae --quick``."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from dagmm.cli import main
from dagmm.experiments import load_zero_six_split


@pytest.fixture
def empty_data_home(tmp_path):
    # No MNIST files here: the study falls back on scikit-learn's bundled digits.
    folder = tmp_path / "data"
    folder.mkdir()
    return folder


def test_split_of_the_bundled_digits(empty_data_home):
    split = load_zero_six_split(empty_data_home, random_state=0)
    assert split.source == "sklearn-digits-8x8"
    assert split.X_train.shape == (89, 64) and split.X_test.shape == (89 + 181, 64)
    assert split.y_test.sum() == 181 and set(np.unique(split.X_train)) <= {0.0, 1.0}
    again = load_zero_six_split(empty_data_home, random_state=0)
    np.testing.assert_array_equal(again.X_train, split.X_train)
    # The training zeros and the test zeros are disjoint halves.
    train_rows = {row.tobytes() for row in split.X_train}
    assert len(train_rows & {row.tobytes() for row in split.X_test[split.y_test == 0]}) < 5


def test_quick_study_through_the_cli(empty_data_home, tmp_path, capsys):
    out = tmp_path / "study"
    code = main(
        [
            "experiment",
            "mnist-vae",
            "--quick",
            "--data-home",
            str(empty_data_home),
            "--out",
            str(out),
        ]
    )
    printed = capsys.readouterr().out
    assert code == 0, printed
    assert "VAE (Mahalanobis): auroc=" in printed and "DAGMM: auroc=" in printed
    expected = {
        "results.json",
        "report.md",
        "threshold_curve.csv",
        "learning_curve.png",
        "threshold_curve.png",
        "latent_codes.png",
    }
    assert expected <= {p.name for p in out.iterdir()}
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temporary files left
    for name in ("learning_curve.png", "threshold_curve.png", "latent_codes.png"):
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    result = json.loads((out / "results.json").read_text())
    assert result["quick"] and result["data_source"] == "sklearn-digits-8x8"
    assert result["vae"]["preset"] == "mnist-small"
    scores = result["vae"]["scores"]
    assert list(scores) == ["mahalanobis", "prior", "reconstruction", "elbo"]
    assert 0.0 <= scores["mahalanobis"]["auroc"] <= 1.0
    assert scores["mahalanobis"]["roc_auc"] == scores["mahalanobis"]["auroc"]  # old key kept
    assert len(result["vae"]["history"]["loss"]) == 5
    assert 0.0 <= result["dagmm"]["auprc"] <= 1.0
    with open(out / "threshold_curve.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert rows and set(rows[0]) == {"threshold", "precision", "recall", "f1", "flagged"}
    best = max(float(row["f1"]) for row in rows)
    assert best == pytest.approx(scores["mahalanobis"]["best_f1"], abs=1e-6)
    assert "best F" in (out / "report.md").read_text()


def test_unknown_experiment_is_a_usage_error(capsys):
    assert main(["experiment", "mnist-vea"]) != 0


def test_unknown_preset_names_the_choices(empty_data_home, tmp_path, capsys):
    code = main(
        ["experiment", "mnist-vae", "--quick", "--data-home", str(empty_data_home),
         "--out", str(tmp_path / "s"), "--preset", "mnsit"]
    )  # fmt: skip
    assert code == 2
    assert "preset='mnsit' is unknown" in capsys.readouterr().err
    assert not (tmp_path / "s").exists()  # nothing written for a bad command


def test_presets_differ_only_in_the_latent_size():
    from dagmm.estimators.vae import VAE_PRESETS

    study, small = dict(VAE_PRESETS["mnist"]), dict(VAE_PRESETS["mnist-small"])
    assert (study.pop("latent_dim"), small.pop("latent_dim")) == (100, 150)
    assert study == small


def test_missing_data_home_folder_is_an_error_not_a_fallback(tmp_path, capsys):
    code = main(
        ["experiment", "mnist-vae", "--quick", "--data-home", str(tmp_path / "nope"),
         "--out", str(tmp_path / "s")]
    )  # fmt: skip
    assert code == 2
    assert "is not a folder" in capsys.readouterr().err
    assert not (tmp_path / "s").exists()
