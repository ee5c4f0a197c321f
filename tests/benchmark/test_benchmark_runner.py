"""run_benchmark end to end on the synthetic "toy" data set (no files needed)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from dagmm.benchmark import models, protocol, runner
from dagmm.benchmark.models import EstimatorModel
from dagmm.benchmark.runner import read_results, run_benchmark, summarize
from dagmm.exceptions import DatasetNotFoundError, TrainingDivergedError

RECORD_KEYS = {
    "dataset", "model", "seed", "precision", "recall", "f1", "auroc", "auprc",
    "train_seconds", "score_seconds", "config", "version",
}  # fmt: skip


class SpyEstimator:
    """Energy = distance to the training mean; remembers what it was trained on."""

    seen: list[tuple[str, int, np.ndarray]] = []

    def __init__(self, name: str, seed: int, fail: bool = False) -> None:
        self.name, self.seed, self.fail = name, seed, fail

    def fit(self, X):
        if self.fail:
            raise TrainingDivergedError("loss became nan in epoch 1")
        SpyEstimator.seen.append((self.name, self.seed, np.array(X)))
        self.mean_ = X.mean(axis=0)
        return self

    def energy(self, X):
        return np.linalg.norm(X - self.mean_, axis=1)


@pytest.fixture
def spies(monkeypatch):
    """Register fast fake models ``spy-a``, ``spy-b``, ``spy-fail`` and a fake ``dagmm``."""
    SpyEstimator.seen = []

    def factory(name, fail=False):
        def make(dataset, seed, quick):
            protocol.get_dataset(dataset)
            return EstimatorModel(name, SpyEstimator(name, seed, fail), {"fake": True})

        return make

    for name in ("spy-a", "spy-b", "dagmm"):
        monkeypatch.setitem(models.MODELS, name, factory(name))
    monkeypatch.setitem(models.MODELS, "spy-fail", factory("spy-fail", fail=True))
    return SpyEstimator.seen


def run(out_dir, **kwargs):
    options = {"datasets": ["toy"], "models": ["iforest", "gmm"], "seeds": 2, "progress": False}
    options.update(kwargs)
    return run_benchmark(out_dir=out_dir, **options)


def test_end_to_end_with_fast_baselines(tmp_path, toy_dataset):
    result = run(tmp_path, seeds=3, data_home=tmp_path / "data")
    assert toy_dataset == [(tmp_path / "data", False)]  # loaded once, never downloading
    records = read_results(tmp_path / "results.jsonl")
    assert len(records) == result.n_new_runs == 6
    assert {(r["model"], r["seed"]) for r in records} == {
        (m, s) for m in ("iforest", "gmm") for s in range(3)
    }
    for record in records:
        assert RECORD_KEYS <= set(record)
        assert record["error"] is None
        assert 0.0 <= record["f1"] <= 1.0 and record["auroc"] > 0.9
        assert record["config"]["model"] == record["model"]
        assert record["n_test"] == 135 and record["n_train_anomalies"] == 0
    summary = result.summary_path.read_text()
    assert "## toy (anomaly ratio 0.1)" in summary
    assert "| iforest | 3 |" in summary and "| gmm | 3 |" in summary
    for plot in result.plot_paths:
        assert plot.read_bytes().startswith(b"\x89PNG")
    assert {p.name for p in result.plot_paths} == {"f1.png", "auroc.png"}
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_every_model_sees_the_same_split_per_seed(tmp_path, toy_dataset, spies):
    run(tmp_path, models=["spy-a", "spy-b"], seeds=3)
    by_seed: dict[int, list[np.ndarray]] = {}
    for _, seed, X_train in spies:
        by_seed.setdefault(seed, []).append(X_train)
    assert sorted(by_seed) == [0, 1, 2]
    for arrays in by_seed.values():
        np.testing.assert_array_equal(arrays[0], arrays[1])
        np.testing.assert_allclose(arrays[0].mean(axis=0), 0.0, atol=1e-12)  # scaled on train
    assert not np.array_equal(by_seed[0][0], by_seed[1][0])


def test_baselines_use_fewer_seeds_than_dagmm(tmp_path, toy_dataset, spies):
    run(tmp_path, models=["dagmm", "spy-a"], seeds=[3, 1, 4, 5], baseline_seeds=2)
    records = read_results(tmp_path)
    assert [r["seed"] for r in records if r["model"] == "dagmm"] == [3, 1, 4, 5]
    assert [r["seed"] for r in records if r["model"] == "spy-a"] == [3, 1]


def test_default_baseline_seeds_is_at_most_five(tmp_path, toy_dataset, spies):
    run(tmp_path, models=["dagmm", "spy-a"], seeds=7)
    records = read_results(tmp_path)
    assert sum(r["model"] == "dagmm" for r in records) == 7
    assert sum(r["model"] == "spy-a" for r in records) == 5


def test_resume_skips_recorded_runs_and_drops_a_truncated_line(
    tmp_path, toy_dataset, spies, capsys
):
    run(tmp_path, models=["spy-a"], seeds=3)
    results = tmp_path / "results.jsonl"
    lines = results.read_text().splitlines(keepends=True)
    assert len(lines) == 3
    # Interrupted while writing the third record: keep two, then half a line.
    results.write_text("".join(lines[:2]) + lines[2][: len(lines[2]) // 2])
    spies.clear()

    result = run(tmp_path, models=["spy-a"], seeds=3)
    assert [(name, seed) for name, seed, _ in spies] == [("spy-a", 2)]
    assert result.n_new_runs == 1
    assert "dropped a truncated last line" in capsys.readouterr().out
    reread = [json.loads(line) for line in results.read_text().splitlines()]
    assert [r["seed"] for r in reread] == [0, 1, 2]
    assert reread[2]["f1"] == json.loads(lines[2])["f1"]  # same split, same result

    spies.clear()
    assert run(tmp_path, models=["spy-a"], seeds=3).n_new_runs == 0
    assert spies == []


def test_resume_completes_a_last_record_missing_its_newline(tmp_path, toy_dataset, spies):
    run(tmp_path, models=["spy-a"], seeds=1)
    results = tmp_path / "results.jsonl"
    results.write_text(results.read_text().rstrip("\n"))
    run(tmp_path, models=["spy-a"], seeds=2)
    assert [r["seed"] for r in read_results(results)] == [0, 1]


def test_a_damaged_line_before_the_last_is_an_error(tmp_path, toy_dataset):
    (tmp_path / "results.jsonl").write_text('{"dataset": "toy"\n{"dataset": "toy"}\n')
    with pytest.raises(ValueError, match=r"line 1: not a valid result record"):
        run(tmp_path)


def test_resume_refuses_to_mix_settings(tmp_path, toy_dataset, spies):
    run(tmp_path, models=["spy-a"], seeds=1, quick=True)
    with pytest.raises(ValueError, match="already holds runs with quick=True.*another out_dir"):
        run(tmp_path, models=["spy-a"], seeds=1)


def test_contamination_levels_are_separate_experiments_in_one_file(tmp_path, toy_dataset, spies):
    result = run(tmp_path, models=["spy-a"], seeds=2, contamination=[0.05, 0.0, 0.02])
    records = result.records
    assert [(r["contamination"], r["seed"]) for r in records] == [
        (level, seed) for level in (0.05, 0.0, 0.02) for seed in (0, 1)
    ]
    for record in records:
        share = record["n_train_anomalies"] / record["n_train"]
        assert share == pytest.approx(record["contamination"], abs=0.01)
    # The same seed keeps its test half; the dirty training rows hold the clean ones.
    by_key = {(r["contamination"], r["seed"]): r for r in records}
    assert by_key[(0.0, 1)]["n_test"] == by_key[(0.05, 1)]["n_test"]
    clean, dirty = spies[2][2], spies[0][2]  # seed 0 at 0.0 and at 0.05
    assert len(dirty) > len(clean)
    # Sections: clean first, then the levels ascending, whatever the order asked for.
    titles = [
        line for line in result.summary_path.read_text().splitlines() if line.startswith("## ")
    ]
    assert titles[:3] == [
        "## toy (anomaly ratio 0.1)",
        "## toy, 2% anomalies in training (anomaly ratio 0.1)",
        "## toy, 5% anomalies in training (anomaly ratio 0.1)",
    ]
    assert "training contamination: 0.0, 0.02, 0.05." in result.summary_path.read_text()
    # Resuming with one of the levels runs nothing new; a new level runs.
    assert run(tmp_path, models=["spy-a"], seeds=2, contamination=0.02).n_new_runs == 0
    assert run(tmp_path, models=["spy-a"], seeds=2, contamination=[0.01]).n_new_runs == 2


def test_a_level_the_data_cannot_fill_is_skipped_with_one_line(
    tmp_path, toy_factory, monkeypatch, spies, capsys
):
    X, y = toy_factory(n_normal=400, n_anomalies=4)  # 2 anomalies in a training half
    monkeypatch.setitem(
        protocol.DATASETS,
        "few",
        protocol.DatasetSpec("few", lambda home, download: (X, y), 0.01, "standard", "thyroid"),
    )
    result = run(tmp_path, datasets=["few"], models=["spy-a"], seeds=2, contamination=[0.0, 0.05])
    lines = [line for line in capsys.readouterr().out.splitlines() if "skipping" in line]
    assert len(lines) == 1
    assert lines[0].startswith("skipping dataset 'few' at contamination 0.05: contamination=0.05")
    assert [(r["contamination"], r["seed"]) for r in result.records] == [(0.0, 0), (0.0, 1)]


@pytest.mark.parametrize(
    ("contamination", "message"),
    [
        (0.1, r"contamination must be in \[0, 0.05\].*got 0.1"),
        ([0.01, -0.01], r"contamination must be in \[0, 0.05\].*got -0.01"),
        ([0.01, 0.01], "contamination must name distinct levels"),
        ([], "contamination must name distinct levels"),
        (["0.01"], "contamination must hold numbers; got '0.01'"),
    ],
)
def test_bad_contamination_is_reported_before_any_run(
    tmp_path, toy_dataset, contamination, message
):
    with pytest.raises(ValueError, match=message):
        run(tmp_path, contamination=contamination)
    assert not (tmp_path / "results.jsonl").exists()


def test_missing_dataset_is_skipped_with_one_line(
    tmp_path, toy_dataset, spies, monkeypatch, capsys
):
    def absent(data_home, download):
        raise DatasetNotFoundError("Data file 'gone.mat' is missing.\nPut it in the data home.")

    monkeypatch.setitem(
        protocol.DATASETS, "gone", protocol.DatasetSpec("gone", absent, 0.1, "none", "thyroid")
    )
    result = run(tmp_path, datasets=["gone", "toy"], models=["spy-a"], seeds=1)
    out_lines = [line for line in capsys.readouterr().out.splitlines() if "gone" in line]
    assert out_lines == ["skipping dataset 'gone': Data file 'gone.mat' is missing."]
    assert result.skipped_datasets == ("gone",)
    assert [r["dataset"] for r in result.records] == ["toy"]


def test_unavailable_model_is_skipped_with_one_line(
    tmp_path, toy_dataset, spies, monkeypatch, capsys
):
    def unavailable(dataset, seed, quick):
        raise NotImplementedError("needs a feature")

    monkeypatch.setitem(models.MODELS, "later", unavailable)
    result = run(tmp_path, models=["later", "spy-a"], seeds=2)
    assert capsys.readouterr().out.count("skipping model 'later': needs a feature") == 1
    assert result.skipped_models == ("later",)
    assert {r["model"] for r in result.records} == {"spy-a"}


def test_a_failed_run_is_recorded_and_summarised(tmp_path, toy_dataset, spies, capsys):
    result = run(tmp_path, models=["spy-fail", "spy-a"], seeds=1)
    failed = next(r for r in result.records if r["model"] == "spy-fail")
    assert failed["error"] == "TrainingDivergedError: loss became nan in epoch 1"
    assert failed["f1"] is None and failed["auroc"] is None
    assert "run failed: toy / spy-fail / seed 0" in capsys.readouterr().out
    assert "| spy-fail | 0 (1 failed) |" in result.summary_path.read_text()


def test_bad_arguments_are_reported_before_any_run(tmp_path, toy_dataset):
    with pytest.raises(ValueError, match="Unknown dataset 'toyy'. Did you mean 'toy'"):
        run(tmp_path, datasets=["toyy"])
    with pytest.raises(ValueError, match="Unknown model 'gm'"):
        run(tmp_path, models=["gm"])
    with pytest.raises(ValueError, match="seeds must be distinct"):
        run(tmp_path, seeds=[1, 1])
    with pytest.raises(ValueError, match="baseline_seeds must be a positive integer"):
        run(tmp_path, baseline_seeds=0)
    assert not (tmp_path / "results.jsonl").exists()


def test_progress_bar_counts_runs(tmp_path, toy_dataset, spies, capsys):
    run(tmp_path, models=["spy-a"], seeds=2, progress=True)
    assert "2/2" in capsys.readouterr().err


# --------------------------------------------------------------------------- #
# summary
# --------------------------------------------------------------------------- #


def fake_record(dataset, model, seed, f1, **extra):
    record = {
        "dataset": dataset, "model": model, "seed": seed, "precision": f1, "recall": f1,
        "f1": f1, "auroc": 0.9, "auprc": 0.8, "train_seconds": 2.0, "score_seconds": 0.1,
        "anomaly_ratio": 0.2, "contamination": 0.0, "quick": False, "error": None,
        "config": {}, "version": "0.1.0",
    }  # fmt: skip
    record.update(extra)
    return record


def test_summary_reports_mean_std_and_the_papers_figures():
    records = [
        fake_record("kddcup", "dagmm", 0, 0.5),
        fake_record("kddcup", "dagmm", 1, 0.7),
        fake_record("kddcup", "iforest", 0, 0.4),
    ]
    summary = summarize(records)
    dagmm_row = next(line for line in summary.splitlines() if line.startswith("| dagmm |"))
    assert "| 2 |" in dagmm_row
    assert f"0.6000 ± {np.std([0.5, 0.7], ddof=1):.4f}" in dagmm_row
    assert dagmm_row.endswith("| 0.9297 | 0.9442 | 0.9369 |")
    iforest_row = next(line for line in summary.splitlines() if line.startswith("| iforest |"))
    assert "| 0.4000 |" in iforest_row and iforest_row.endswith("| — | — | — |")
    assert "Quick run" not in summary
    times = summary.split("## Compute time")[1]
    assert "| dagmm | 2 | 0.1 |" in times and "| iforest | 1 | 0.0 |" in times


def test_summary_lists_models_in_registry_order_whatever_the_record_order():
    # A resumed run may append DAGMM after the baselines; the tables still start with it.
    records = [fake_record("kddcup", name, 0, 0.5) for name in ("pae-gmm", "iforest", "dagmm")]
    rows = [
        line.split(" |")[0]
        for line in summarize(records).splitlines()
        if line[:3] in {"| d", "| i", "| p"}
    ]
    assert rows[:3] == rows[3:6] == ["| dagmm", "| iforest", "| pae-gmm"]  # tables, then times


def test_summary_gives_the_papers_table_2_figures_to_clean_training_only():
    records = [
        fake_record("kddcup", "dagmm", 0, 0.9),
        fake_record("kddcup", "dagmm", 0, 0.8, contamination=0.03),
    ]
    summary = summarize(records)
    clean, dirty = summary.split("## kddcup, 3% anomalies in training (anomaly ratio 0.2)")
    assert "| 0.9297 | 0.9442 | 0.9369 |" in clean
    assert next(line for line in dirty.splitlines() if line.startswith("| dagmm |")).endswith(
        "| 0.8000 | 0.8000 | 0.8000 | 0.9000 | 0.8000 | 2.0 | — | — | — |"
    )


def test_summary_flags_quick_runs_and_handles_no_records():
    assert "Quick run" in summarize([fake_record("thyroid", "gmm", 0, 0.3, quick=True)])
    assert "No results yet." in summarize([])


def test_paper_table_holds_dagmm_rows():
    assert runner.PAPER_RESULTS[("thyroid", "dagmm")] == (0.4766, 0.4834, 0.4782)
    assert runner.PAPER_RESULTS[("arrhythmia", "dagmm")] == (0.4909, 0.5078, 0.4983)
    assert runner.PAPER_RESULTS[("kddcup-rev", "dagmm")] == (0.9370, 0.9390, 0.9380)


def test_read_results_of_a_missing_file_is_empty(tmp_path):
    assert read_results(Path(tmp_path) / "nothing.jsonl") == []


def test_quick_runs_subsample_large_sets_and_say_so(tmp_path, toy_dataset, spies, monkeypatch, capsys):
    monkeypatch.setattr(runner, "QUICK_MAX_ROWS", 50)
    result = run(tmp_path, models=["spy-a"], seeds=2, quick=True)
    printed = capsys.readouterr().out
    assert printed.count("quick run: toy subsampled to 50 of") == 1  # once per data set
    assert "drop --quick for the full protocol" in printed
    for record in result.records:
        assert record["n_train"] == record["n_test"] == 50
    assert all(len(X) == 50 for _, _, X in spies)
    assert "subsampled to at most 50 rows" in result.summary_path.read_text()
    # Without --quick nothing is subsampled.
    full = run(tmp_path / "full", models=["spy-a"], seeds=1)
    assert full.records[0]["n_test"] == 135 and "subsampled" not in capsys.readouterr().out


def test_quick_subsample_is_seeded_sorted_and_keeps_small_parts():
    rows = np.arange(0, 1000, 3)
    assert runner.quick_subsample(rows, 500, seed=0) is rows
    a, b = runner.quick_subsample(rows, 40, 1), runner.quick_subsample(rows, 40, 1)
    np.testing.assert_array_equal(a, b)
    assert a.size == 40 and np.all(np.diff(a) > 0) and set(a) <= set(rows)
