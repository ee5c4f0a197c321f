"""fit_file, score_file, evaluate_file and tune_file on files: streaming, atomic output, reports."""

from __future__ import annotations

import base64
import dataclasses
import json
import re

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import average_precision_score, roc_auc_score

from dagmm.exceptions import DataError
from dagmm.tabular import read_table
from dagmm.workflow import (
    TabularDetector,
    ThresholdPolicy,
    evaluate_file,
    fit_file,
    holdout_split,
    score_file,
    tune_file,
)
from dagmm.workflow.scoring import CHUNK_ALIGNMENT, aligned_chunk_rows
from dagmm.workflow.synthetic import make_transactions

pytestmark = pytest.mark.filterwarnings("ignore::dagmm.tabular.TabularWarning")


@pytest.fixture(scope="module")
def big_frame():
    """More rows than one (aligned) chunk, some with merchants unseen at fit."""
    return make_transactions(2000, unseen_categories=True, random_state=1)


@pytest.fixture(scope="module")
def new_csv(big_frame, tmp_path_factory):
    path = tmp_path_factory.mktemp("data") / "new.csv"
    big_frame.to_csv(path, index=False)
    return path


def test_chunk_sizes_are_aligned():
    assert aligned_chunk_rows(1) == CHUNK_ALIGNMENT == 768
    assert aligned_chunk_rows(768) == 768 and aligned_chunk_rows(769) == 1536
    with pytest.raises(ValueError, match="positive integer"):
        aligned_chunk_rows(0)


def test_fit_file_round_trip_with_mixed_types(train_frame, tiny, tmp_path):
    train_frame.to_parquet(tmp_path / "train.parquet")
    report = fit_file(tmp_path / "train.parquet", tmp_path / "model", tiny)
    assert report.model_dir == tmp_path / "model"
    assert re.match(
        r"fitted on 380 rows \(20 labelled anomalies not trained on\) x 15 features",
        report.summary(),
    )
    assert TabularDetector.load(tmp_path / "model").preprocessor_.column_kinds_ == {
        "amount": "numeric",
        "items": "numeric",
        "merchant": "onehot",
        "channel": "onehot",
        "foreign": "onehot",
        "placed_at": "datetime",
    }


def test_fit_file_names_a_missing_label_column(train_frame, tiny, tmp_path):
    train_frame.to_csv(tmp_path / "train.csv", index=False)
    options = dataclasses.replace(tiny, label_col="lable")
    with pytest.raises(
        DataError, match=r"label column 'lable' is not in '.*train.csv' \(did you mean 'label'\?\)"
    ):
        fit_file(tmp_path / "train.csv", tmp_path / "model", options)
    assert not (tmp_path / "model").exists()


def test_streamed_scores_equal_scoring_in_one_go(model_dir, new_csv, big_frame, tmp_path):
    report = score_file(new_csv, model_dir, tmp_path / "scores.csv", chunksize=40, explain=True)
    assert report.rows == len(big_frame) > 2 * CHUNK_ALIGNMENT  # three chunks
    streamed = pd.read_csv(tmp_path / "scores.csv")
    whole = TabularDetector.load(model_dir).score_frame(big_frame, explain=True)
    pd.testing.assert_frame_equal(streamed, whole, check_dtype=False)
    assert report.flagged == int(whole["is_anomaly"].sum())
    one_chunk = score_file(
        new_csv, model_dir, tmp_path / "one.parquet", chunksize=10_000, explain=True
    )
    assert one_chunk.rows == report.rows
    pd.testing.assert_frame_equal(
        pd.read_parquet(tmp_path / "one.parquet"), whole, check_dtype=False
    )


def test_score_threshold_override(model_dir, new_csv, tmp_path):
    detector = TabularDetector.load(model_dir)
    report = score_file(
        new_csv, model_dir, tmp_path / "s.csv", threshold=ThresholdPolicy.contamination(0.3)
    )
    assert report.threshold == detector.threshold_for(ThresholdPolicy.contamination(0.3))
    assert report.threshold < detector.threshold_
    scores = pd.read_csv(tmp_path / "s.csv")
    assert (
        scores["is_anomaly"].sum()
        == report.flagged
        == int((scores["energy"] > report.threshold).sum())
    )


def test_failed_scoring_leaves_no_partial_output(model_dir, big_frame, tmp_path):
    broken = big_frame.astype({"amount": object})
    broken.loc[1700, "amount"] = "n/a?"  # in the third chunk, after two were written
    broken.to_csv(tmp_path / "broken.csv", index=False)
    out = tmp_path / "scores.csv"
    out.write_text("previous results\n")
    with pytest.raises(
        DataError, match=r"column 'amount' held numbers .* e.g. 'n/a\?' in row 1700"
    ):
        score_file(tmp_path / "broken.csv", model_dir, out, chunksize=10)
    assert out.read_text() == "previous results\n"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["broken.csv", "scores.csv"]


def test_header_only_file_has_nothing_to_score(model_dir, new_frame, tmp_path):
    new_frame.head(0).to_csv(tmp_path / "empty.csv", index=False)
    with pytest.raises(DataError, match="has a header but no rows"):
        score_file(tmp_path / "empty.csv", model_dir, tmp_path / "scores.csv")
    assert not (tmp_path / "scores.csv").exists()


def test_evaluate_file_metrics_and_report(model_dir, tmp_path):
    frame = make_transactions(1000, anomaly_fraction=0.05, unseen_categories=True, random_state=2)
    frame.to_csv(tmp_path / "test.csv", index=False)
    report = evaluate_file(tmp_path / "test.csv", model_dir, tmp_path / "report", chunksize=70)
    m = report.metrics
    y = (frame["label"] == "fraud").to_numpy()
    energy = TabularDetector.load(model_dir).energy(frame)
    np.testing.assert_array_equal(report.energy, energy)
    assert m["rows"] == 1000 and m["anomalies"] == int(y.sum())
    assert m["auroc"] == pytest.approx(roc_auc_score(y, energy))
    assert m["auprc"] == pytest.approx(average_precision_score(y, energy))
    assert m["at_best_f1_threshold"]["f1"] >= m["at_model_threshold"]["f1"]
    at = m["at_model_threshold"]
    assert at["flagged"] == int((energy > at["threshold"]).sum())
    assert at["true_positives"] + at["false_positives"] == at["flagged"]
    files = sorted(path.name for path in (tmp_path / "report").iterdir())
    assert files == [
        "energy_histogram.png",
        "f1_threshold.png",
        "latent_space.png",
        "metrics.json",
        "pr_curve.png",
        "report.html",
        "roc_curve.png",
    ]
    assert json.loads((tmp_path / "report" / "metrics.json").read_text()) == m
    html = (tmp_path / "report" / "report.html").read_text()
    images = re.findall(r'src="data:image/png;base64,([^"]+)"', html)
    assert len(images) == 5 and all(base64.b64decode(image)[:4] == b"\x89PNG" for image in images)
    assert 'src="http' not in html and "<script" not in html
    assert f"{m['auroc']:.4f}" in html


def test_evaluate_needs_both_classes(model_dir, tmp_path):
    frame = make_transactions(100, random_state=3)
    frame[frame["label"] == "normal"].to_csv(tmp_path / "normal.csv", index=False)
    with pytest.raises(DataError, match=r"label column 'label' marks no anomaly"):
        evaluate_file(tmp_path / "normal.csv", model_dir, tmp_path / "report")
    frame[frame["label"] == "fraud"].to_csv(tmp_path / "fraud.csv", index=False)
    with pytest.raises(DataError, match=r"label column 'label' has no normal rows"):
        evaluate_file(tmp_path / "fraud.csv", model_dir, tmp_path / "report")


def test_tune_file_writes_model_trials_and_test_rows(tiny, tmp_path):
    frame = make_transactions(500, anomaly_fraction=0.06, random_state=4)
    frame.to_csv(tmp_path / "labelled.csv", index=False)
    report = tune_file(tmp_path / "labelled.csv", tmp_path / "tuned", tiny, trials=3, metric="f1")
    out = tmp_path / "tuned"
    assert sorted(path.name for path in out.iterdir()) == [
        "model",
        "summary.json",
        "test.csv",
        "trials.csv",
        "trials.png",
    ]
    trials = pd.read_csv(out / "trials.csv")
    assert len(trials) == 3 and set(trials["state"]) <= {"COMPLETE", "PRUNED"}
    assert {
        "learning_rate",
        "lambda1",
        "lambda2",
        "width",
        "latent",
        "components",
        "epoch_size",
        "minibatch_size",
    } <= set(trials.columns)
    assert trials["epoch_size"].between(1, 2).all()
    assert report.best_value == pytest.approx(trials["value"].max())
    split = holdout_split((frame["label"] == "fraud").to_numpy(), train_fraction=0.8, seed=0)
    test_rows = read_table(out / "test.csv")
    assert test_rows["txn_id"].tolist() == frame["txn_id"].iloc[split.test].tolist()
    best = TabularDetector.load(out / "model")
    assert best.training_["tuning_trial"] == report.best_trial
    summary = json.loads((out / "summary.json").read_text())
    assert summary["test"]["auroc"] == pytest.approx(report.test_metrics["auroc"])
    assert summary["best_params"] == report.best_params
    evaluated = evaluate_file(out / "test.csv", out / "model", None)
    assert evaluated.metrics["auroc"] == pytest.approx(report.test_metrics["auroc"])


def test_tune_checks_its_arguments(tiny, tmp_path):
    with pytest.raises(ValueError, match="metric='accuracy' is unknown"):
        tune_file(tmp_path / "x.csv", tmp_path / "out", tiny, metric="accuracy")
    with pytest.raises(ValueError, match="tuning needs labels"):
        tune_file(tmp_path / "x.csv", tmp_path / "out", dataclasses.replace(tiny, label_col=None))
