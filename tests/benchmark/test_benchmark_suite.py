"""``dagmm benchmark suite`` on tiny synthetic ADBench-format folders."""

from __future__ import annotations

import re

import numpy as np
import pytest

from dagmm.benchmark import read_results, suite_models
from dagmm.benchmark.suite import (
    load_suite_set,
    mean_ranks,
    suite_split,
    summarize_suite,
)
from dagmm.benchmark.suite_models import BICGaussianMixture, KNNDetector, PCADetector
from dagmm.cli import main
from dagmm.exceptions import DataError

RECORD_KEYS = {
    "dataset", "model", "seed", "precision", "recall", "f1", "auroc", "auprc", "threshold",
    "train_seconds", "score_seconds", "n_train", "n_test", "n_train_anomalies",
    "anomaly_ratio", "contamination", "quick", "error", "config", "version", "n_rows",
    "n_features", "subsampled_from", "max_rows",
}  # fmt: skip


def _write_set(folder, name, n_normal=120, n_anomalies=12, n_features=4, seed=0):
    rng = np.random.default_rng(seed)
    X = np.vstack(
        [
            rng.normal(size=(n_normal, n_features)),
            rng.normal(5.0, 1.0, size=(n_anomalies, n_features)),
        ]
    )
    y = np.r_[np.zeros(n_normal), np.ones(n_anomalies)]
    np.savez(folder / f"{name}.npz", X=X, y=y)
    return X, y


@pytest.fixture
def suite_dir(tmp_path):
    folder = tmp_path / "suite"
    folder.mkdir()
    _write_set(folder, "alpha", seed=1)
    _write_set(folder, "beta", n_features=3, seed=2)
    return folder


def suite(*args: str) -> int:
    return main(["benchmark", "suite", "--no-progress", *args])


def test_quick_run_writes_results_summary_and_plot_and_resumes(tmp_path, suite_dir, capsys):
    out = tmp_path / "out"
    args = (
        "--suite",
        str(suite_dir),
        "--models",
        "dagmm,iforest,knn,gmm,ocsvm,pca",
        "--quick",
        "--out",
        str(out),
    )
    assert suite(*args) == 0
    records = read_results(out)
    assert len(records) == 2 * 2 * 6  # sets x seeds (quick: 2) x models
    for record in records:
        assert RECORD_KEYS <= set(record)
        assert record["error"] is None, record
        assert record["n_train_anomalies"] == 0 and record["quick"] is True
    knn = [r["auroc"] for r in records if r["model"] == "knn"]
    assert min(knn) > 0.95  # anomalies 5 standard deviations away
    dagmm = next(r for r in records if r["model"] == "dagmm")
    assert dagmm["config"]["params"]["epoch_size"] == 2
    summary = (out / "summary.md").read_text()
    for text in (
        "ROC-AUC",
        "PR-AUC",
        "mean rank",
        "median",
        "dagmm against each model",
        "Training seconds",
        "Quick run",
    ):
        assert text in summary
    assert (out / "ranks.png").stat().st_size > 0
    assert "24 new run(s), 24 in all" in capsys.readouterr().out
    assert suite(*args) == 0
    assert "0 new run(s), 24 in all" in capsys.readouterr().out


def test_default_folder_is_the_data_homes_adbench(tmp_path, monkeypatch, capsys):
    (tmp_path / "adbench").mkdir()
    _write_set(tmp_path / "adbench", "gamma")
    monkeypatch.setenv("DAGMM_DATA_HOME", str(tmp_path))
    assert suite("--models", "knn", "--seeds", "1", "--out", str(tmp_path / "o")) == 0
    assert {r["dataset"] for r in read_results(tmp_path / "o")} == {"gamma"}


def test_missing_or_empty_folder_is_one_line_and_exit_2(tmp_path, capsys):
    assert suite("--suite", str(tmp_path / "nowhere"), "--out", str(tmp_path / "o")) == 2
    err = capsys.readouterr().err
    assert "nowhere" in err and "--suite" in err and err.count("\n") == 1
    assert suite("--suite", str(tmp_path), "--out", str(tmp_path / "o")) == 2
    assert "no '.npz' file" in capsys.readouterr().err


def test_unknown_model_suggests_the_right_name(suite_dir, tmp_path, capsys):
    assert suite("--suite", str(suite_dir), "--models", "knm", "--out", str(tmp_path / "o")) == 2
    assert "Did you mean 'knn'" in capsys.readouterr().err


def test_large_set_is_subsampled_stratified_and_the_summary_says_so(tmp_path, capsys):
    folder = tmp_path / "s"
    folder.mkdir()
    X, y = _write_set(folder, "big", n_normal=270, n_anomalies=30)
    data = load_suite_set(folder / "big.npz", max_rows=100)
    assert data.X.shape == (100, 4) and data.original_rows == 300 and data.subsampled
    assert int(data.y.sum()) == 10  # the anomaly share (10%) is kept
    again = load_suite_set(folder / "big.npz", max_rows=100)
    np.testing.assert_array_equal(data.X, again.X)  # one fixed subsample
    out = tmp_path / "o"
    assert (
        suite(
            "--suite",
            str(folder),
            "--models",
            "knn",
            "--seeds",
            "2",
            "--max-rows",
            "100",
            "--out",
            str(out),
        )
        == 0
    )
    records = read_results(out)
    assert {r["subsampled_from"] for r in records} == {300}
    assert "big 300 -> 100 rows" in (out / "summary.md").read_text()


def test_split_trains_on_half_the_normal_rows_and_tests_the_rest():
    y = np.r_[np.zeros(50, dtype=np.int8), np.ones(7, dtype=np.int8)]
    train, test = suite_split(y, seed=3)
    assert train.size == 25 and not y[train].any()
    assert np.intersect1d(train, test).size == 0 and train.size + test.size == y.size
    assert int(y[test].sum()) == 7
    np.testing.assert_array_equal(train, suite_split(y, seed=3)[0])
    assert not np.array_equal(train, suite_split(y, seed=4)[0])


def test_scaling_is_fitted_on_training_rows_only(suite_dir, tmp_path, monkeypatch):
    seen = {}

    class Recorder:
        config = {"model": "recorder"}

        def fit(self, X):
            seen["train"] = np.asarray(X)
            return self

        def energy(self, X):
            seen["test"] = np.asarray(X)
            return np.asarray(X).sum(axis=1)

    monkeypatch.setitem(suite_models.SUITE_MODELS, "recorder", lambda seed, quick: Recorder())
    assert (
        suite(
            "--suite",
            str(suite_dir),
            "--datasets",
            "beta",
            "--models",
            "recorder",
            "--seeds",
            "1",
            "--out",
            str(tmp_path / "o"),
        )
        == 0
    )
    np.testing.assert_allclose(seen["train"].mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(seen["train"].std(axis=0), 1.0, atol=1e-12)
    assert np.abs(seen["test"].mean(axis=0)).max() > 0.1  # the anomalies shift the test rows


@pytest.mark.parametrize(
    ("arrays", "message"),
    [
        ({"X": np.zeros((5, 2))}, "no array 'y'"),
        ({"X": np.zeros((5, 2)), "y": np.array([0, 1, 2, 0, 0])}, "0 (normal) and 1"),
        ({"X": np.zeros((5, 2)), "y": np.zeros(4)}, "one label per row"),
        ({"X": np.array([["a", "b"]] * 5), "y": np.r_[np.zeros(4), 1]}, "real numbers"),
        ({"X": np.full((6, 2), np.nan), "y": np.r_[np.zeros(5), 1]}, "NaN"),
        ({"X": np.zeros((5, 2)), "y": np.zeros(5)}, "at least one anomaly"),
    ],
)
def test_bad_files_are_named_with_what_is_expected(tmp_path, arrays, message):
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(DataError, match=re.escape(message)):
        load_suite_set(tmp_path / "bad.npz")


def test_pickled_arrays_are_refused(tmp_path):
    np.savez(tmp_path / "obj.npz", X=np.array([[1, None]] * 5, dtype=object), y=np.zeros(5))
    with pytest.raises(DataError, match="without pickles"):
        load_suite_set(tmp_path / "obj.npz")


def test_knn_energy_is_the_distance_to_the_fifth_nearest_training_row():
    train = np.arange(10, dtype=float).reshape(-1, 1)  # 0, 1, ..., 9
    energy = KNNDetector().fit(train).energy(np.array([[0.0], [20.0]]))
    np.testing.assert_allclose(energy, [4.0, 15.0])  # 0 -> 4 ; 20 -> 15 (5th nearest: 5)


def test_gmm_chooses_the_number_of_components_by_bic():
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(-6, 1, (200, 2)), rng.normal(6, 1, (200, 2))])
    gmm = BICGaussianMixture().fit(X)
    assert gmm.n_components_ == 2
    assert gmm.energy(np.array([[0.0, 0.0]]))[0] > gmm.energy(np.array([[6.0, 6.0]]))[0]


def test_pca_energy_is_the_error_off_the_principal_subspace():
    rng = np.random.default_rng(0)
    t = rng.normal(size=(200, 1))
    X = np.hstack([t, 2 * t, -t]) + 1e-3 * rng.normal(size=(200, 3))
    pca = PCADetector().fit(X)
    on, off = pca.energy(np.array([[1.0, 2.0, -1.0], [1.0, -2.0, 1.0]]))
    assert on < 1e-3 < off


def _record(dataset, model, seed, auroc):
    return {
        "dataset": dataset,
        "model": model,
        "seed": seed,
        "auroc": auroc,
        "auprc": auroc,
        "train_seconds": 1.0,
        "error": None,
        "n_rows": 10,
        "n_features": 2,
    }


def test_summary_counts_paired_wins_ties_and_losses_and_ranks():
    records = []
    for seed, noise in enumerate([0.0, 0.01, -0.01]):
        records += [
            _record("a", "dagmm", seed, 0.9 + noise), _record("a", "knn", seed, 0.7),  # win
            _record("b", "dagmm", seed, 0.6 + noise), _record("b", "knn", seed, 0.8),  # loss
            _record("c", "dagmm", seed, 0.8 + noise), _record("c", "knn", seed, 0.8 - noise),
        ]  # fmt: skip
    summary = summarize_suite(records)
    assert "| knn | 1 | 1 | 1 |" in summary
    table = {
        "a": {"dagmm": 0.9, "knn": 0.7},
        "b": {"dagmm": 0.6, "knn": 0.8},
        "c": {"dagmm": 0.8, "knn": 0.8},
    }
    assert mean_ranks(table, ["dagmm", "knn"]) == {"dagmm": 1.5, "knn": 1.5}
