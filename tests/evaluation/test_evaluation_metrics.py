"""Metrics checked against naive loops written independently of the implementation."""

from __future__ import annotations

import numpy as np
import pytest

from dagmm.evaluation import (
    auprc,
    auroc,
    best_f1_threshold,
    contamination_threshold,
    evaluate_energies,
    precision_recall_f1,
    threshold_for_fpr,
    top_fraction_threshold,
)

# --------------------------------------------------------------------------- #
# naive references
# --------------------------------------------------------------------------- #


def naive_counts(y_true, y_pred):
    tp = fp = fn = 0
    for truth, pred in zip(y_true, y_pred, strict=True):
        if pred and truth:
            tp += 1
        elif pred:
            fp += 1
        elif truth:
            fn += 1
    return tp, fp, fn


def naive_prf(y_true, y_pred):
    tp, fp, fn = naive_counts(y_true, y_pred)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def naive_auroc(y_true, energy):
    """Probability that an anomaly outranks a normal row, ties counting one half."""
    anomalies = [e for e, y in zip(energy, y_true, strict=True) if y == 1]
    normals = [e for e, y in zip(energy, y_true, strict=True) if y == 0]
    wins = 0.0
    for a in anomalies:
        for n in normals:
            wins += 1.0 if a > n else 0.5 if a == n else 0.0
    return wins / (len(anomalies) * len(normals))


def naive_average_precision(y_true, energy):
    """Sum over distinct cuts (high to low) of (recall step) x precision at the cut."""
    n_anomalies = sum(y_true)
    total, previous_recall = 0.0, 0.0
    for cut in sorted(set(energy), reverse=True):
        flagged = [y for e, y in zip(energy, y_true, strict=True) if e >= cut]
        precision = sum(flagged) / len(flagged)
        recall = sum(flagged) / n_anomalies
        total += (recall - previous_recall) * precision
        previous_recall = recall
    return total


def brute_force_best_f1(y_true, energy):
    return max(naive_prf(y_true, [e >= cut for e in energy])[2] for cut in set(energy))


def random_case(seed, n=60, n_levels=None):
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.3).astype(int)
    y[:2] = [0, 1]  # both classes
    energy = rng.normal(size=n) + 1.5 * y
    if n_levels:  # force ties
        energy = np.round(energy * n_levels) / n_levels
    return y, energy


# --------------------------------------------------------------------------- #
# precision / recall / F1
# --------------------------------------------------------------------------- #


def test_precision_recall_f1_hand_computed():
    # tp = 2, fp = 1, fn = 1 -> precision = recall = F1 = 2/3
    y_true = [1, 1, 1, 0, 0, 0, 0, 0]
    y_pred = [1, 1, 0, 1, 0, 0, 0, 0]
    assert precision_recall_f1(y_true, y_pred) == pytest.approx((2 / 3, 2 / 3, 2 / 3))
    # tp = 1, fp = 3, fn = 0 -> precision 1/4, recall 1, F1 = 2 * 0.25 / 1.25 = 0.4
    assert precision_recall_f1([1, 0, 0, 0], [1, 1, 1, 1]) == pytest.approx((0.25, 1.0, 0.4))


@pytest.mark.parametrize("seed", range(5))
def test_precision_recall_f1_matches_naive_loop(seed):
    rng = np.random.default_rng(seed)
    y_true = rng.integers(0, 2, 40)
    y_pred = rng.integers(0, 2, 40).astype(bool)
    assert precision_recall_f1(y_true, y_pred) == pytest.approx(naive_prf(y_true, y_pred))


def test_precision_recall_f1_zero_division_gives_zero():
    assert precision_recall_f1([1, 0, 1], [0, 0, 0]) == (0.0, 0.0, 0.0)
    assert precision_recall_f1([0, 0], [1, 0]) == (0.0, 0.0, 0.0)


def test_precision_recall_f1_rejects_bad_input():
    with pytest.raises(ValueError, match=r"y_true and y_pred have different lengths \(3 != 2\)"):
        precision_recall_f1([0, 1, 0], [0, 1])
    with pytest.raises(ValueError, match=r"y_pred must hold binary labels.*got values \{0, 2\}"):
        precision_recall_f1([0, 1], [0, 2])
    with pytest.raises(ValueError, match="y_true must be a 1-D array"):
        precision_recall_f1([[0, 1]], [[0, 1]])


# --------------------------------------------------------------------------- #
# thresholds
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize(("n", "ratio"), [(100, 0.2), (1000, 0.025), (452, 0.15), (11, 0.2)])
def test_top_fraction_threshold_flags_the_top_ratio(n, ratio):
    energy = np.random.default_rng(n).permutation(n).astype(float)  # distinct values
    threshold = top_fraction_threshold(energy, ratio)
    n_flagged = int(np.sum(energy > threshold))
    assert abs(n_flagged - ratio * n) < 1.0
    # Every flagged row outranks every row left unflagged.
    assert energy[energy > threshold].min() > energy[energy <= threshold].max()
    # Same rule as the reference implementations: the (100 - 100 ratio)th percentile.
    assert threshold == pytest.approx(np.percentile(energy, 100 * (1 - ratio)))


@pytest.mark.parametrize("ratio", [0.0, 1.0, -0.1, 1.5])
def test_top_fraction_threshold_rejects_ratio_outside_open_unit_interval(ratio):
    with pytest.raises(ValueError, match=r"ratio must be in \(0, 1\)"):
        top_fraction_threshold([1.0, 2.0], ratio)


def test_energy_validation_messages():
    with pytest.raises(ValueError, match=r"energy contains 1 NaN or infinite value\(s\) out of 3"):
        top_fraction_threshold([1.0, np.nan, 2.0], 0.5)
    with pytest.raises(ValueError, match="energy is empty"):
        top_fraction_threshold([], 0.5)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("n_levels", [None, 2])
def test_best_f1_threshold_matches_brute_force(seed, n_levels):
    y, energy = random_case(seed, n_levels=n_levels)
    threshold, f1 = best_f1_threshold(y, energy)
    assert f1 == pytest.approx(brute_force_best_f1(y, energy))
    # The returned threshold reproduces that F1 with the strict `energy > threshold` rule.
    assert naive_prf(y, energy > threshold)[2] == pytest.approx(f1)


def test_best_f1_threshold_prefers_fewest_flags_among_ties():
    y = [1, 0, 0, 1, 0, 0]
    energy = [6.0, 5.0, 4.0, 3.0, 2.0, 1.0]
    # Flag >= 6: P = 1, R = 1/2, F1 = 2/3.  Flag >= 3: P = 1/2, R = 1, F1 = 2/3.
    # Every other cut is worse; the higher cut (fewer flags) wins the tie.
    threshold, f1 = best_f1_threshold(y, energy)
    assert f1 == pytest.approx(2 / 3)
    assert 5.0 <= threshold < 6.0


def test_best_f1_threshold_needs_an_anomaly():
    with pytest.raises(ValueError, match="y_true holds no anomaly"):
        best_f1_threshold([0, 0, 0], [1.0, 2.0, 3.0])


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("fpr", [0.0, 0.01, 0.05, 0.1, 0.5])
def test_threshold_for_fpr_is_the_lowest_admissible_threshold(seed, fpr):
    rng = np.random.default_rng(seed)
    normals = np.round(rng.normal(size=137), 1)  # ties included
    threshold = threshold_for_fpr(normals, fpr)
    assert np.mean(normals > threshold) <= fpr
    lower = normals[normals < threshold]
    if lower.size:  # the next lower candidate would exceed the allowed rate
        assert np.mean(normals > lower.max()) > fpr


def test_threshold_for_fpr_edges_and_errors():
    assert threshold_for_fpr([3.0, 1.0, 2.0], 0.0) == 3.0
    with pytest.raises(ValueError, match=r"fpr must be in \[0, 1\)"):
        threshold_for_fpr([1.0, 2.0], 1.0)
    with pytest.raises(ValueError, match="normal_energies contains"):
        threshold_for_fpr([1.0, np.inf], 0.1)


# --------------------------------------------------------------------------- #
# evaluate_energies
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("n_levels", [None, 3])
def test_evaluate_energies_matches_naive_references(seed, n_levels):
    y, energy = random_case(seed, n=50, n_levels=n_levels)
    ratio = 0.3
    result = evaluate_energies(y, energy, ratio)
    threshold = np.percentile(energy, 100 * (1 - ratio))
    precision, recall, f1 = naive_prf(y, energy > threshold)
    assert result["threshold"] == pytest.approx(threshold)
    assert (result["precision"], result["recall"], result["f1"]) == pytest.approx(
        (precision, recall, f1)
    )
    assert result["auroc"] == pytest.approx(naive_auroc(y, energy))
    assert result["auprc"] == pytest.approx(naive_average_precision(y, energy))
    assert all(isinstance(value, float) for value in result.values())


def test_evaluate_energies_perfect_ranking():
    y = np.array([0] * 8 + [1] * 2)
    energy = np.arange(10.0)
    result = evaluate_energies(y, energy, 0.2)
    assert (result["precision"], result["recall"], result["f1"]) == (1.0, 1.0, 1.0)
    assert result["auroc"] == 1.0 and result["auprc"] == 1.0


def test_evaluate_energies_accepts_booleans_and_float_labels():
    energy = [0.1, 0.2, 0.9, 0.3]
    expected = evaluate_energies([0, 0, 1, 0], energy, 0.25)
    assert evaluate_energies([False, False, True, False], energy, 0.25) == expected
    assert evaluate_energies([0.0, 0.0, 1.0, 0.0], energy, 0.25) == expected


@pytest.mark.parametrize(("labels", "only"), [([0, 0, 0], "0 \\(normal\\)"), ([1, 1, 1], "1")])
def test_evaluate_energies_explains_single_class(labels, only):
    with pytest.raises(ValueError, match=f"y_true holds only label {only}.*both classes"):
        evaluate_energies(labels, [1.0, 2.0, 3.0], 0.2)


def test_evaluate_energies_rejects_mismatched_lengths():
    with pytest.raises(ValueError, match="y_true and energy have different lengths"):
        evaluate_energies([0, 1], [0.1, 0.2, 0.3], 0.5)


# --------------------------------------------------------------------------- #
# auroc, auprc, contamination_threshold
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("seed", range(4))
def test_auroc_and_auprc_match_naive_references(seed):
    y, energy = random_case(seed, n_levels=5)  # ties happen
    assert auroc(y, energy) == pytest.approx(naive_auroc(y.tolist(), energy.tolist()))
    assert auprc(y, energy) == pytest.approx(naive_average_precision(y.tolist(), energy.tolist()))
    scores = evaluate_energies(y, energy, 0.3)
    assert (scores["auroc"], scores["auprc"]) == (auroc(y, energy), auprc(y, energy))


@pytest.mark.parametrize("metric", [auroc, auprc])
def test_ranking_metrics_need_both_classes_and_matching_lengths(metric):
    with pytest.raises(ValueError, match="both classes"):
        metric([0, 0, 0], [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="different lengths"):
        metric([0, 1], [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="NaN or infinite"):
        metric([0, 1], [0.1, np.nan])


def test_contamination_threshold_is_the_top_fraction_rule():
    energy = np.random.default_rng(0).gamma(2.0, size=1001)
    for fraction in (0.01, 0.1, 0.5):
        threshold = contamination_threshold(energy, fraction)
        assert threshold == top_fraction_threshold(energy, fraction)
        assert threshold == np.quantile(energy, 1 - fraction)
        assert np.mean(energy > threshold) == pytest.approx(fraction, abs=1e-3)
    with pytest.raises(ValueError, match=r"contamination must be in \(0, 1\)"):
        contamination_threshold(energy, 0.0)


def test_estimators_and_workflow_use_the_contamination_rule():
    from dagmm import DAGMM
    from dagmm.workflow import ThresholdPolicy

    X = np.random.default_rng(1).normal(size=(200, 4))
    model = DAGMM(comp_hiddens=(4, 1), est_hiddens=(4, 2), epoch_size=2, contamination=0.05,
                  random_state=0).fit(X)
    train_energy = model.energy(X)
    # fit scores the training rows on its own pass: the same energies up to the last bits
    assert model.threshold_ == pytest.approx(contamination_threshold(train_energy, 0.05), rel=1e-12)
    assert model.offset_ == -model.threshold_
    policy = ThresholdPolicy.contamination(0.05)
    assert policy.threshold(np.sort(train_energy)) == contamination_threshold(train_energy, 0.05)
