"""TabularDetector: fit on raw mixed tables, thresholds, explanations, one model directory."""

from __future__ import annotations

import dataclasses
import json
import shutil

import numpy as np
import pandas as pd
import pytest

from dagmm import DAGMM
from dagmm.estimators.widths import default_comp_hiddens, default_minibatch_size
from dagmm.evaluation import best_f1_threshold
from dagmm.exceptions import DataError, ModelFileError
from dagmm.workflow import TabularDetector, ThresholdPolicy

pytestmark = pytest.mark.filterwarnings("ignore::dagmm.tabular.TabularWarning")


def test_fit_trains_on_normal_rows_and_leaves_the_label_out(fitted, train_frame):
    n_fraud = int((train_frame["label"] == "fraud").sum())
    assert fitted.training_["training_rows"] == len(train_frame) - n_fraud
    assert fitted.training_["anomalies_left_out"] == n_fraud
    assert "label" not in fitted.preprocessor_.input_columns_
    assert "txn_id" not in fitted.preprocessor_.input_columns_
    assert fitted.preprocessor_.id_columns_ == ["txn_id"]


def test_score_frame_columns_and_unseen_categories(fitted, new_frame):
    assert set(new_frame["merchant"]) - set(fitted.preprocessor_.column_kinds_) != set()
    scores = fitted.score_frame(new_frame, explain=True)
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
    assert len(scores) == len(new_frame)
    assert scores["txn_id"].tolist() == new_frame["txn_id"].tolist()
    assert np.isfinite(scores["energy"]).all()
    assert scores["score"].between(0, 1).all()
    np.testing.assert_array_equal(
        scores["is_anomaly"], (scores["energy"] > fitted.threshold_).astype(int)
    )
    # DAGMM refits the frozen mixture with K chosen by BIC (mixture="bic").
    k = fitted.model_.n_components_
    assert scores["component"].between(0, k - 1).all()
    assert scores["component_probability"].between(1 / k, 1).all()


def test_explanations_name_the_columns_with_the_largest_error_share(fitted, new_frame):
    shares = fitted.column_contributions(new_frame)
    assert shares.columns.tolist() == fitted.preprocessor_.input_columns_
    np.testing.assert_allclose(shares.sum(axis=1), 1.0)
    top = fitted.score_frame(new_frame, explain=True, top_columns=2)["top_columns"]
    for text, (_, row) in zip(top, shares.iterrows(), strict=True):
        expected = row.sort_values(ascending=False, kind="stable").index[:2]
        assert [part.split(" (")[0] for part in text.split(", ")] == list(expected)
        assert text.endswith("%)")


def test_save_load_round_trip_scores_identically(fitted, model_dir, new_frame):
    loaded = TabularDetector.load(model_dir)
    pd.testing.assert_frame_equal(
        loaded.score_frame(new_frame, explain=True), fitted.score_frame(new_frame, explain=True)
    )
    assert loaded.threshold_ == fitted.threshold_
    assert loaded.threshold_policy_ == fitted.threshold_policy_
    assert loaded.label_col == "label"
    np.testing.assert_array_equal(loaded.reference_energies_, fitted.reference_energies_)


def test_model_directory_is_a_dagmm_directory_with_the_same_threshold(fitted, model_dir, new_frame):
    from dagmm.persistence import model_files

    assert sorted(model_files(model_dir)) == ["fitted", "module", "preprocessor", "reference"]
    config = json.loads((model_dir / "config.json").read_text())
    assert config["class"] == "DAGMM"
    assert config["pipeline"]["threshold"] == {
        "policy": "contamination",
        "value": 0.01,
        "energy": fitted.threshold_,
    }
    bare = DAGMM.load(model_dir)
    assert bare.threshold_ == fitted.threshold_
    X = fitted.features(new_frame)
    np.testing.assert_array_equal(bare.predict(X), fitted.predict(new_frame))


def test_a_bare_dagmm_directory_is_not_a_pipeline(fitted, tmp_path):
    fitted.model_.save(tmp_path / "bare")
    with pytest.raises(ModelFileError, match=r"bare DAGMM model without the preprocessing"):
        TabularDetector.load(tmp_path / "bare")


def test_damaged_pipeline_section_is_reported(model_dir, tmp_path):
    copy = shutil.copytree(model_dir, tmp_path / "copy")
    config = json.loads((copy / "config.json").read_text())
    del config["pipeline"]["preprocessor"]
    (copy / "config.json").write_text(json.dumps(config))
    with pytest.raises(ModelFileError, match=r"damaged pipeline section: 'preprocessor' is missing"):
        TabularDetector.load(copy)


@pytest.mark.parametrize("fraction", [0.01, 0.1])
def test_contamination_threshold_flags_that_share_of_training_rows(fitted, fraction):
    threshold = fitted.threshold_for(ThresholdPolicy.contamination(fraction))
    share = float(np.mean(fitted.reference_energies_ > threshold))
    assert share == pytest.approx(fraction, abs=1.5 / fitted.reference_energies_.size)


def test_fpr_threshold_keeps_the_false_positive_rate(fitted):
    reference = fitted.reference_energies_
    threshold = fitted.threshold_for(ThresholdPolicy.fpr(0.05))
    assert np.mean(reference > threshold) <= 0.05
    assert threshold in reference


def test_contamination_policy_matches_the_estimators_own_rule(train_frame, tiny):
    options = dataclasses.replace(tiny, contamination=0.1)
    detector = TabularDetector.from_options(options).fit(train_frame)
    # DAGMM sets threshold_ itself from the same percentile of its training energies.
    native = DAGMM(**{**options.model_params(), "contamination": 0.1}).fit(
        detector.features(train_frame[train_frame["label"] == "normal"])
    )
    assert detector.threshold_ == pytest.approx(native.threshold_, rel=1e-5, abs=1e-5)


def test_f1_policy_uses_held_out_labelled_rows(train_frame, tiny):
    options = dataclasses.replace(tiny, threshold_f1=True, validation_fraction=0.25)
    detector = TabularDetector.from_options(options).fit(train_frame)
    n_fraud = int((train_frame["label"] == "fraud").sum())
    n_normal = len(train_frame) - n_fraud
    assert detector.training_["validation_rows"] == round(0.25 * n_normal) + n_fraud
    assert detector.training_["training_rows"] == n_normal - round(0.25 * n_normal)
    assert detector.threshold_policy_ == ThresholdPolicy.f1()
    with pytest.raises(ValueError, match="f1 threshold needs labelled rows"):
        detector.threshold_for(ThresholdPolicy.f1())


def test_f1_policy_with_an_explicit_validation_table(train_frame, tiny):
    options = dataclasses.replace(tiny, threshold_f1=True)
    normal = train_frame[train_frame["label"] == "normal"]
    validation = train_frame.iloc[::3]
    detector = TabularDetector.from_options(options).fit(normal, validation=validation)
    energy = detector.energy(validation)
    expected, _ = best_f1_threshold((validation["label"] == "fraud").to_numpy(), energy)
    assert detector.threshold_ == expected


def test_f1_policy_needs_anomalies(train_frame, tiny):
    options = dataclasses.replace(tiny, threshold_f1=True)
    normal_only = train_frame[train_frame["label"] == "normal"]
    with pytest.raises(DataError, match="needs anomalies among the labelled rows"):
        TabularDetector.from_options(options).fit(normal_only)


def test_set_threshold_updates_the_estimator_too(model_dir):
    detector = TabularDetector.load(model_dir)
    detector.set_threshold(ThresholdPolicy.fpr(0.2))
    assert detector.model_.threshold_ == detector.threshold_
    assert detector.model_.offset_ == -detector.threshold_


def test_same_seed_gives_the_same_energies(train_frame, new_frame, tiny, fitted):
    again = TabularDetector.from_options(tiny).fit(train_frame)
    np.testing.assert_array_equal(again.energy(new_frame), fitted.energy(new_frame))


def test_scoring_needs_the_fitted_columns(fitted, new_frame):
    with pytest.raises(DataError, match=r"lacks column\(s\) 'amount'"):
        fitted.score_frame(new_frame.drop(columns="amount"))
    with pytest.raises(DataError, match=r"lacks id column\(s\) 'txn_id'"):
        fitted.score_frame(new_frame.drop(columns="txn_id"))


def test_text_in_a_numeric_column_is_a_data_error(fitted, new_frame):
    broken = new_frame.astype({"amount": object})
    broken.loc[3, "amount"] = "twelve"
    with pytest.raises(
        DataError, match=r"column 'amount' held numbers .* holds text now: e.g. 'twelve' in row 3"
    ):
        fitted.score_frame(broken)


def test_unfitted_detector_says_so(new_frame):
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError, match="not fitted yet"):
        TabularDetector().score_frame(new_frame)


def test_default_detector_fits_a_frame_without_labels(train_frame):
    detector = TabularDetector(
        DAGMM(
            comp_hiddens=(8, 2),
            est_hiddens=(4, 2),
            epoch_size=1,
            normalize=False,
            random_state=0,
            device="cpu",
        ),
    ).fit(train_frame.drop(columns=["label", "txn_id"]))
    assert detector.threshold_policy_ == ThresholdPolicy.contamination(0.01)
    assert detector.training_["anomalies_left_out"] == 0


def test_unset_batch_size_and_widths_are_chosen_from_the_data(train_frame, tiny):
    # The workflow passes None and the estimator applies its own rule: one width rule.
    options = dataclasses.replace(tiny, minibatch_size=None, comp_hiddens=None, epoch_size=1)
    detector = TabularDetector.from_options(options).fit(train_frame)
    n_features = len(detector.preprocessor_.feature_names_out_)
    assert detector.model_.minibatch_size is None and detector.model_.comp_hiddens is None
    # DAGMM() on the same features builds the same network and gives the same energies.
    normal = detector.features(train_frame[train_frame["label"] == "normal"])
    plain = DAGMM(**options.model_params()).fit(normal)
    shapes = {key: tuple(value.shape) for key, value in plain.module_.state_dict().items()}
    assert shapes == {k: tuple(v.shape) for k, v in detector.model_.module_.state_dict().items()}
    assert shapes["compression.encoder.0.weight"][0] == 10  # default_comp_hiddens: (10, 5)
    assert default_minibatch_size(380) == 64 and default_comp_hiddens(n_features) == (10, 5)
    np.testing.assert_array_equal(
        detector.energy(train_frame), plain.energy(detector.features(train_frame))
    )
    with pytest.raises(ValueError, match="auto_params=.*'epochs'"):
        TabularDetector(auto_params=("epochs",)).fit(train_frame)
    with pytest.warns(DeprecationWarning, match="minibatch_size=None"):
        TabularDetector(DAGMM(minibatch_size=64), auto_params=("batch_size",)).new_model()
