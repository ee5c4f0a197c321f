"""The flag table of the training commands, and `dagmm fit --detector vae` end to end."""

from __future__ import annotations

import inspect
import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from dagmm import DAGMM, VAEDetector
from dagmm.cli import app, main
from dagmm.cli._flags import FLAGS, flag_of, flags_markdown
from dagmm.cli.fit import fit as fit_command
from dagmm.cli.tune import tune as tune_command
from dagmm.workflow import TabularDetector
from dagmm.workflow.options import DETECTORS, WORKFLOW_FIELDS

runner = CliRunner()

#: A tiny VAE for the end-to-end tests.
TINY_VAE = ["--detector", "vae", "--epochs", "2", "--batch-size", "64", "--encoder-hiddens",
            "16,8", "--latent-dim", "3", "--device", "cpu"]  # fmt: skip


@pytest.mark.parametrize("row", FLAGS, ids=lambda row: row.flag)
def test_every_flag_sets_a_real_option(row):
    if not row.detectors:
        assert row.name in WORKFLOW_FIELDS
    for detector in row.detectors:
        assert row.name in inspect.signature(DETECTORS[detector]).parameters, (row, detector)
    # And the detectors not listed really lack it: the table says which flags apply.
    for detector, cls in DETECTORS.items():
        if row.detectors and detector not in row.detectors:
            assert row.name not in inspect.signature(cls).parameters, (row, detector)


def test_the_table_is_one_to_one():
    assert len({row.flag for row in FLAGS}) == len(FLAGS)
    assert len({row.name for row in FLAGS}) == len(FLAGS)
    assert flag_of("epoch_size") == "--epochs" and flag_of("random_state") == "--seed"


@pytest.mark.parametrize("command", [fit_command, tune_command])
def test_command_parameters_carry_the_option_names(command):
    names = set(inspect.signature(command).parameters)
    table = {row.name for row in FLAGS}
    others = {"data", "out", "config", "quiet", "trials", "metric", "train_fraction", "timeout"}
    assert names - others <= table
    if command is fit_command:
        assert table <= names  # fit has every flag


def test_help_and_docs_come_from_the_table():
    help_text = " ".join(runner.invoke(app, ["fit", "--help"], terminal_width=200).output.split())
    markdown = flags_markdown()
    for row in FLAGS:
        assert row.flag in help_text
        assert f"| `{row.name}` |" in markdown
    assert markdown.count("\n") == len(FLAGS) + 2
    # Defaults are read from the estimators (and the workflow's documented overrides).
    assert f"Training epochs. [default: {DAGMM().epoch_size}]" in help_text
    assert f"vae: {VAEDetector().minibatch_size}" in help_text
    assert "| `--seed` | `random_state` | workflow | 0 |" in markdown


def test_a_flag_of_another_detector_is_one_clear_line(tmp_path, capsys):
    code = main(["fit", "x.csv", "-o", str(tmp_path / "m"), "--detector", "vae",
                 "--comp-hiddens", "8,2"])  # fmt: skip
    err = capsys.readouterr().err.strip()
    assert code == 2 and "\n" not in err
    assert "--comp-hiddens sets dagmm's comp_hiddens, which --detector vae does not have" in err
    assert "--latent-dim" in err
    assert main(["fit", "x.csv", "-o", str(tmp_path / "m"), "--detector", "vea"]) == 2
    assert "did you mean 'vae'?" in capsys.readouterr().err


def test_invalid_value_names_the_flag(tmp_path, capsys):
    code = main(["fit", "x.csv", "-o", str(tmp_path / "m"), "--dropout", "1.5"])
    assert code == 2
    err = capsys.readouterr().err
    assert "--dropout must be a float in the range [0.0, 1.0)" in err and "est_dropout" not in err


def test_old_names_in_a_config_file_work_with_a_warning(tmp_path, capsys):
    rng = np.random.default_rng(0)
    pd.DataFrame(rng.normal(size=(120, 3)), columns=list("abc")).to_csv(
        tmp_path / "t.csv", index=False
    )
    config = tmp_path / "o.toml"
    config.write_text('epochs = 1\nbatch_size = 64\ncomp_hiddens = "4,2"\nest_hiddens = [3, 2]\n')
    code = main(["fit", str(tmp_path / "t.csv"), "-o", str(tmp_path / "m"), "--config",
                 str(config), "--device", "cpu", "-q"])  # fmt: skip
    assert code == 0
    err = capsys.readouterr().err
    assert "warning: the option 'epochs' in" in err and "use 'epoch_size'" in err
    params = json.loads((tmp_path / "m" / "config.json").read_text())["params"]
    assert params["epoch_size"] == 1 and params["minibatch_size"] == 64


@pytest.fixture(scope="module")
def vae_files(tmp_path_factory):
    """A small labelled table with a category, and a VAE model fitted on it by `dagmm fit`."""
    root = tmp_path_factory.mktemp("vae")
    rng = np.random.default_rng(0)
    n = 300
    frame = pd.DataFrame(
        {
            "id": [f"r{i}" for i in range(n)],
            "x": rng.normal(size=n),
            "y": rng.normal(size=n),
            "shop": rng.choice(["a", "b", "c"], size=n),
            "label": 0,
        }
    )
    frame.loc[:14, ["x", "y"]] += 6.0  # 15 anomalies far from the rest
    frame.loc[:14, "label"] = 1
    frame.to_csv(root / "rows.csv", index=False)
    code = main(["fit", str(root / "rows.csv"), "-o", str(root / "model"), "--label-col",
                 "label", "--id-cols", "id", "--seed", "1", "-q", *TINY_VAE])  # fmt: skip
    assert code == 0
    return root


def test_fit_with_the_vae_saves_a_vae_pipeline(vae_files):
    detector = TabularDetector.load(vae_files / "model")
    assert isinstance(detector.model_, VAEDetector)
    assert detector.model_.latent_dim == 3 and detector.model_.epoch_size == 2
    assert detector.model_.random_state == 1 and detector.model_.normalize is False
    # The bare estimator reads the same directory and flags the same rows.
    bare = VAEDetector.load(vae_files / "model")
    rows = detector.features(pd.read_csv(vae_files / "rows.csv"))
    assert bare.threshold_ == detector.threshold_
    np.testing.assert_array_equal(bare.predict(rows), detector.predict(pd.read_csv(vae_files / "rows.csv")))


def test_score_and_evaluate_a_vae_model(vae_files, tmp_path, capsys):
    assert main(["score", str(vae_files / "rows.csv"), "-m", str(vae_files / "model"),
                 "-o", str(tmp_path / "s.csv"), "-q"]) == 0  # fmt: skip
    scores = pd.read_csv(tmp_path / "s.csv")
    assert list(scores.columns) == ["row", "id", "energy", "score", "is_anomaly"]
    assert scores["is_anomaly"].iloc[:15].mean() > scores["is_anomaly"].iloc[15:].mean()
    assert main(["evaluate", str(vae_files / "rows.csv"), "-m", str(vae_files / "model"),
                 "-o", str(tmp_path / "ev"), "-q"]) == 0  # fmt: skip
    metrics = json.loads((tmp_path / "ev" / "metrics.json").read_text())
    assert metrics["auroc"] > 0.9


def test_explain_does_not_apply_to_the_vae(vae_files, tmp_path, capsys):
    code = main(["score", str(vae_files / "rows.csv"), "-m", str(vae_files / "model"),
                 "-o", str(tmp_path / "s.csv"), "--explain", "-q"])  # fmt: skip
    err = capsys.readouterr().err.strip()
    assert code == 2 and "\n" not in err
    assert "--explain" in err and "needs a DAGMM model; this model is a VAEDetector" in err
    assert not (tmp_path / "s.csv").exists()


def test_tune_a_vae(vae_files, tmp_path):
    code = main(["tune", str(vae_files / "rows.csv"), "-o", str(tmp_path / "t"), "--label-col",
                 "label", "--detector", "vae", "--trials", "2", "--epochs", "2", "--device",
                 "cpu", "-q"])  # fmt: skip
    assert code == 0
    trials = pd.read_csv(tmp_path / "t" / "trials.csv")
    assert {"latent_dim", "epoch_size", "minibatch_size"} <= set(trials.columns)
    assert "lambda1" not in trials.columns
    assert isinstance(TabularDetector.load(tmp_path / "t" / "model").model_, VAEDetector)
