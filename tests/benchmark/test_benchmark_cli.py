"""``dagmm benchmark paper`` through the console entry point, on small data."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.io

from dagmm.benchmark import protocol, read_results
from dagmm.cli import main
from dagmm.cli.benchmark import split_fractions, split_names
from dagmm.exceptions import DatasetNotFoundError

RECORD_KEYS = {
    "dataset", "model", "seed", "precision", "recall", "f1", "auroc", "auprc",
    "train_seconds", "score_seconds", "config", "version",
}  # fmt: skip


def paper(*args: str) -> int:
    return main(["benchmark", "paper", "--quiet", *args])


def test_quick_run_writes_the_report(tmp_path, toy_dataset, capsys):
    out = tmp_path / "out"
    code = paper("--datasets", "toy", "--models", "dagmm,iforest", "--quick", "--out", str(out))
    assert code == 0
    records = read_results(out)
    # --quick without --seeds: seeds 0 and 1, for every model.
    assert sorted((r["model"], r["seed"]) for r in records) == [
        ("dagmm", 0), ("dagmm", 1), ("iforest", 0), ("iforest", 1),
    ]  # fmt: skip
    for record in records:
        assert RECORD_KEYS <= set(record)
        assert record["dataset"] == "toy" and record["quick"] is True
        assert record["error"] is None and 0.0 <= record["f1"] <= 1.0
    dagmm = next(r for r in records if r["model"] == "dagmm")
    assert dagmm["config"]["params"]["epoch_size"] == 2
    assert {p.name for p in out.iterdir()} >= {"results.jsonl", "summary.md", "f1.png", "auroc.png"}
    assert "Quick run" in (out / "summary.md").read_text()
    assert "4 new run(s), 4 in all" in capsys.readouterr().out


def test_seeds_n_runs_seeds_zero_to_n_minus_one_and_resumes(tmp_path, toy_dataset, capsys):
    args = ("--datasets", "toy", "--models", "iforest,gmm", "--out", str(tmp_path))
    assert paper(*args, "--seeds", "3", "--baseline-seeds", "3") == 0
    assert sorted({r["seed"] for r in read_results(tmp_path)}) == [0, 1, 2]
    assert paper(*args, "--seeds", "3", "--baseline-seeds", "3") == 0
    assert "0 new run(s), 6 in all" in capsys.readouterr().out
    assert len(read_results(tmp_path)) == 6


def test_missing_dataset_is_skipped_with_a_clear_line(tmp_path, toy_dataset, monkeypatch, capsys):
    def absent(data_home, download):
        raise DatasetNotFoundError(f"Data file 'gone.mat' is not in {data_home}.\nDetails.")

    monkeypatch.setitem(
        protocol.DATASETS, "gone", protocol.DatasetSpec("gone", absent, 0.1, "none", "thyroid")
    )
    code = paper(
        "--datasets", "gone,toy", "--models", "iforest", "--seeds", "1",
        "--data-home", str(tmp_path / "data"), "--out", str(tmp_path / "out"),
    )  # fmt: skip
    assert code == 0
    out = capsys.readouterr().out
    assert f"skipping dataset 'gone': Data file 'gone.mat' is not in {tmp_path / 'data'}." in out
    assert {r["dataset"] for r in read_results(tmp_path / "out")} == {"toy"}


def test_nothing_found_is_a_user_error(tmp_path, capsys):
    code = paper(
        "--datasets", "thyroid", "--models", "iforest", "--data-home", str(tmp_path),
        "--out", str(tmp_path / "out"),
    )  # fmt: skip
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "error: None of the data sets thyroid was found, so nothing ran: put the files in the "
        "data home (--data-home or $DAGMM_DATA_HOME) or pass --download."
    ]


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--models", "dagm", "error: Unknown model 'dagm'. Did you mean 'dagmm'?"),
        ("--datasets", "kdcup", "error: Unknown dataset 'kdcup'. Did you mean 'kddcup'?"),
        ("--models", " , ", "error: --models needs at least one name; got ' , '."),
    ],
)
def test_bad_names_print_one_line(tmp_path, option, value, message, capsys):
    assert paper(option, value, "--out", str(tmp_path)) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(message)
    assert not (tmp_path / "results.jsonl").exists()


def test_contamination_levels_run_into_one_results_file(tmp_path, toy_dataset, capsys):
    code = paper(
        "--datasets", "toy", "--models", "iforest", "--seeds", "2",
        "--contamination", "0, 0.05", "--out", str(tmp_path),
    )  # fmt: skip
    assert code == 0, capsys.readouterr()
    records = read_results(tmp_path)
    assert sorted((r["contamination"], r["seed"]) for r in records) == [
        (0.0, 0), (0.0, 1), (0.05, 0), (0.05, 1),
    ]  # fmt: skip
    assert all(r["n_train_anomalies"] > 0 for r in records if r["contamination"])
    assert "## toy, 5% anomalies in training" in (tmp_path / "summary.md").read_text()


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("0.1", r"error: contamination must be in [0, 0.05]"),
        (" , ", "error: --contamination needs at least one fraction such as 0.01; got ' , '."),
        (
            "0.01,1%",
            "error: --contamination takes comma-separated fractions such as 0.01,0.05; "
            "got '1%' in '0.01,1%'.",
        ),
    ],
)
def test_bad_contamination_prints_one_line(tmp_path, toy_dataset, value, message, capsys):
    code = paper("--datasets", "toy", "--models", "iforest", "--contamination", value,
                 "--out", str(tmp_path))  # fmt: skip
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(message)
    assert not (tmp_path / "results.jsonl").exists()


def test_split_fractions_reads_a_list():
    assert split_fractions(" 0.01,0.05,", "--contamination") == [0.01, 0.05]


def test_split_names_strips_blanks():
    assert split_names(" dagmm, iforest,,", "--models") == ["dagmm", "iforest"]


def test_arrhythmia_file_runs_with_its_preset(tmp_path, capsys):
    """The Arrhythmia data (not shipped here) loads from an ODDS .mat file and trains."""
    rng = np.random.default_rng(0)
    n_rows, n_features, n_anomalies = 120, 274, 18  # the real file: 452 x 274, 66 anomalies
    X = rng.normal(size=(n_rows, n_features))
    X[:, 10] = 0.0  # the real file has constant columns
    y = np.zeros((n_rows, 1))
    y[rng.choice(n_rows, n_anomalies, replace=False)] = 1.0
    X[y[:, 0] == 1] += 3.0
    scipy.io.savemat(tmp_path / "arrhythmia.mat", {"X": X, "y": y})

    code = paper(
        "--datasets", "arrhythmia", "--models", "dagmm", "--seeds", "1", "--quick",
        "--data-home", str(tmp_path), "--out", str(tmp_path / "out"),
    )  # fmt: skip
    assert code == 0, capsys.readouterr()
    (record,) = read_results(tmp_path / "out")
    assert record["dataset"] == "arrhythmia" and record["error"] is None
    assert record["anomaly_ratio"] == 0.15 and record["n_test"] == 60
    assert record["config"]["params"]["preset"] == "arrhythmia"
    assert tuple(record["config"]["params"]["comp_hiddens"]) == (10, 1)
    assert record["auroc"] > 0.9
