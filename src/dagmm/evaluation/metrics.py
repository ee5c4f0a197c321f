"""Anomaly-detection metrics on energies (higher energy = more anomalous).

Conventions shared by every function here:

* ``y_true`` holds binary labels with **1 = anomaly** (the positive class) and
  0 = normal; booleans are accepted.
* ``energy`` holds one finite score per row, **higher = more anomalous**
  (DAGMM's sample energy, or the negated ``score_samples`` of a scikit-learn
  outlier detector).
* A row is flagged as an anomaly when ``energy > threshold`` (strictly), the
  rule scikit-learn's outlier detectors use for ``predict``. Every threshold
  returned here is meant to be used with that rule.

All functions are pure numpy / scikit-learn; no state, no randomness.
"""

from __future__ import annotations

from typing import TypedDict

import numpy as np
from numpy.typing import ArrayLike, NDArray
from sklearn.metrics import average_precision_score, precision_recall_curve, roc_auc_score

__all__ = [
    "EnergyEvaluation",
    "auprc",
    "auroc",
    "best_f1_threshold",
    "contamination_threshold",
    "evaluate_energies",
    "precision_recall_f1",
    "threshold_for_fpr",
    "top_fraction_threshold",
]


class EnergyEvaluation(TypedDict):
    """Result of :func:`evaluate_energies`."""

    precision: float
    recall: float
    f1: float
    auroc: float
    auprc: float
    threshold: float


# --------------------------------------------------------------------------- #
# validation helpers
# --------------------------------------------------------------------------- #


def _as_energy(energy: ArrayLike, name: str = "energy") -> NDArray[np.float64]:
    """Return ``energy`` as a finite 1-D float64 array, or raise ValueError."""
    values = np.asarray(energy, dtype=np.float64)
    if values.ndim != 1:
        raise ValueError(
            f"{name} must be a 1-D array with one score per row; got shape {values.shape}."
        )
    if values.size == 0:
        raise ValueError(f"{name} is empty; at least one score is needed.")
    n_bad = int(np.count_nonzero(~np.isfinite(values)))
    if n_bad:
        raise ValueError(
            f"{name} contains {n_bad} NaN or infinite value(s) out of {values.size}; "
            "the model probably diverged or overflowed. Check its training loss."
        )
    return values


def _as_labels(y: ArrayLike, name: str) -> NDArray[np.int8]:
    """Return binary labels (1 = anomaly) as a 1-D int8 array, or raise ValueError."""
    values = np.asarray(y)
    if values.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array of 0/1 labels; got shape {values.shape}.")
    if values.size == 0:
        raise ValueError(f"{name} is empty; at least one label is needed.")
    if values.dtype != np.bool_:
        unique = np.unique(values)
        # Compare as numbers so float 0.0/1.0 labels are accepted too.
        if not (np.issubdtype(values.dtype, np.number) and np.isin(unique, (0, 1)).all()):
            shown = ", ".join(repr(v) for v in unique[:5].tolist())
            raise ValueError(
                f"{name} must hold binary labels 0 (normal) and 1 (anomaly); "
                f"got values {{{shown}{', ...' if unique.size > 5 else ''}}}."
            )
    return values.astype(np.int8)


def _check_same_length(a: np.ndarray, a_name: str, b: np.ndarray, b_name: str) -> None:
    if a.shape[0] != b.shape[0]:
        raise ValueError(
            f"{a_name} and {b_name} have different lengths ({a.shape[0]} != {b.shape[0]}); "
            "they must describe the same rows."
        )


def _check_fraction(value: float, name: str, *, allow_zero: bool = False) -> float:
    value = float(value)
    low_ok = value >= 0.0 if allow_zero else value > 0.0
    if not (low_ok and value < 1.0):
        interval = "[0, 1)" if allow_zero else "(0, 1)"
        raise ValueError(f"{name} must be in {interval}; got {value!r}.")
    return value


def _check_both_classes(y_true: NDArray[np.int8]) -> None:
    n_anomalies = int(y_true.sum())
    if n_anomalies == 0 or n_anomalies == y_true.size:
        only = "1 (anomaly)" if n_anomalies else "0 (normal)"
        raise ValueError(
            f"y_true holds only label {only} in its {y_true.size} rows; AUROC and AUPRC "
            "compare how anomalies rank against normal rows, so both classes must be "
            "present. Evaluate on a test set that contains anomalies and normal rows."
        )


# --------------------------------------------------------------------------- #
# thresholds
# --------------------------------------------------------------------------- #


def top_fraction_threshold(energy: ArrayLike, ratio: float) -> float:
    """Threshold that flags the top ``ratio`` fraction of energies.

    The one rule behind every "flag a fraction of the rows" threshold in dagmm:
    the paper's evaluation (Zong et al., 2018, Sec. 4.3, the anomaly ratio is
    known and the top ``ratio`` of the evaluated rows are flagged), an
    estimator's ``contamination`` (:func:`contamination_threshold`) and the
    workflow's contamination policy. The threshold is the ``1 - ratio``
    quantile of ``energy`` (linear interpolation, ``np.quantile``'s default),
    so ``energy > threshold`` flags about ``ratio * len(energy)`` rows (fewer
    when energies tie at the cut).

    Parameters
    ----------
    energy : array-like of shape (n_samples,)
        Energies of the rows to be labelled, higher = more anomalous. For the
        paper's protocol use the energies of the evaluated (test) rows only.
    ratio : float in (0, 1)
        Fraction of rows to flag as anomalies.

    Returns
    -------
    threshold : float
        Flag a row when ``energy > threshold``.

    Examples
    --------
    >>> top_fraction_threshold([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0], 0.2)
    8.2
    """
    values = _as_energy(energy)  # (N,)
    ratio = _check_fraction(ratio, "ratio")
    return float(np.quantile(values, 1.0 - ratio))


def contamination_threshold(train_energy: ArrayLike, contamination: float) -> float:
    """The energy above which a fraction ``contamination`` of the training rows lie.

    scikit-learn's outlier convention: ``offset_ = -threshold`` and
    ``predict`` flags ``energy > threshold``. The same rule as
    :func:`top_fraction_threshold`, named for its use on training energies;
    :class:`~dagmm.DAGMM`, :class:`~dagmm.VAEDetector` and the workflow's
    ``contamination`` policy all call it.

    Parameters
    ----------
    train_energy : array-like of shape (n_samples,)
        Energies of the training rows, higher = more anomalous.
    contamination : float in (0, 1)
        Fraction of the training rows to flag; raise it when more of the
        training data is expected to be anomalous.

    Returns
    -------
    threshold : float

    Examples
    --------
    >>> contamination_threshold([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0], 0.1)
    9.1
    """
    values = _as_energy(train_energy, "train_energy")  # (N,)
    contamination = _check_fraction(contamination, "contamination")
    return float(np.quantile(values, 1.0 - contamination))


def best_f1_threshold(y_true: ArrayLike, energy: ArrayLike) -> tuple[float, float]:
    """Threshold that maximises F1, searched exactly over every distinct energy.

    This is an *oracle* figure (it looks at the labels) to report next to the
    paper's known-ratio rule, never a way to choose a deployment threshold.
    The search is vectorised through :func:`sklearn.metrics.precision_recall_curve`,
    whose candidate cuts are exactly the distinct energies.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Binary labels, 1 = anomaly. At least one anomaly is required.
    energy : array-like of shape (n_samples,)
        Energies, higher = more anomalous.

    Returns
    -------
    threshold : float
        The largest float below the best cut energy, so that ``energy > threshold``
        flags exactly the rows with ``energy >= cut``.
    f1 : float
        The F1 score reached with that threshold. Among ties, the highest
        threshold (fewest flagged rows) is returned.

    Examples
    --------
    >>> threshold, f1 = best_f1_threshold([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9])
    >>> f1
    1.0
    """
    labels = _as_labels(y_true, "y_true")  # (N,)
    values = _as_energy(energy)  # (N,)
    _check_same_length(labels, "y_true", values, "energy")
    if not labels.any():
        raise ValueError(
            f"y_true holds no anomaly (label 1) in its {labels.size} rows, so F1 is 0 at "
            "every threshold; evaluate on rows that include anomalies."
        )
    # precision, recall: (T + 1,), cuts: (T,) sorted ascending; point i flags energy >= cuts[i]
    precision, recall, cuts = precision_recall_curve(labels, values)
    precision, recall = precision[:-1], recall[:-1]  # (T,) drop the (P=1, R=0) end point
    denom = precision + recall  # (T,)
    f1 = np.divide(2.0 * precision * recall, denom, out=np.zeros_like(denom), where=denom > 0)
    # argmax returns the first maximum; scan from the highest cut so ties keep the fewest flags.
    best = cuts.size - 1 - int(np.argmax(f1[::-1]))
    return float(np.nextafter(cuts[best], -np.inf)), float(f1[best])


def threshold_for_fpr(normal_energies: ArrayLike, fpr: float) -> float:
    """Lowest threshold whose false-positive rate on normal rows is at most ``fpr``.

    Use energies of rows known to be normal (e.g. a held-out slice of the clean
    training data) to set an operating point without looking at anomalies.

    Parameters
    ----------
    normal_energies : array-like of shape (n_normal,)
        Energies of normal rows, higher = more anomalous.
    fpr : float in [0, 1)
        Largest acceptable fraction of normal rows flagged.

    Returns
    -------
    threshold : float
        A value among ``normal_energies`` such that at most
        ``floor(fpr * n_normal)`` of them satisfy ``energy > threshold``.
        ``fpr=0`` returns the largest normal energy.

    Examples
    --------
    >>> threshold_for_fpr([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0], 0.2)
    8.0
    """
    values = np.sort(_as_energy(normal_energies, "normal_energies"))  # (M,) ascending
    fpr = _check_fraction(fpr, "fpr", allow_zero=True)
    # The k largest normal energies may lie above the threshold; the (k+1)-th largest is it.
    k = int(np.floor(fpr * values.size))
    return float(values[values.size - 1 - k])


# --------------------------------------------------------------------------- #
# scores
# --------------------------------------------------------------------------- #


def precision_recall_f1(y_true: ArrayLike, y_pred: ArrayLike) -> tuple[float, float, float]:
    """Precision, recall and F1 of the anomaly class (label 1).

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True binary labels, 1 = anomaly.
    y_pred : array-like of shape (n_samples,)
        Predicted binary labels, 1 = flagged as anomaly.

    Returns
    -------
    precision, recall, f1 : float
        Each is 0.0 where its denominator is zero (nothing flagged, no anomaly).

    Examples
    --------
    >>> precision_recall_f1([1, 1, 0, 0], [1, 0, 1, 0])
    (0.5, 0.5, 0.5)
    """
    truth = _as_labels(y_true, "y_true").astype(bool)  # (N,)
    pred = _as_labels(y_pred, "y_pred").astype(bool)  # (N,)
    _check_same_length(truth, "y_true", pred, "y_pred")
    tp = int(np.count_nonzero(truth & pred))
    n_pred, n_true = int(pred.sum()), int(truth.sum())
    precision = tp / n_pred if n_pred else 0.0
    recall = tp / n_true if n_true else 0.0
    f1 = 2.0 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def auroc(y_true: ArrayLike, energy: ArrayLike) -> float:
    """Area under the ROC curve of ``energy`` as a score for label 1 (anomaly).

    The chance that a random anomaly has a higher energy than a random normal
    row (0.5 = no better than chance). Needs no threshold.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Binary labels, 1 = anomaly; both classes must be present.
    energy : array-like of shape (n_samples,)
        Energies, higher = more anomalous.

    Examples
    --------
    >>> auroc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    0.75
    """
    labels, values = _ranking_inputs(y_true, energy)
    return float(roc_auc_score(labels, values))


def auprc(y_true: ArrayLike, energy: ArrayLike) -> float:
    """Area under the precision-recall curve (average precision) of label 1 (anomaly).

    More telling than :func:`auroc` when anomalies are rare: a random ranking
    scores the anomaly ratio, not 0.5. Needs no threshold.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Binary labels, 1 = anomaly; both classes must be present.
    energy : array-like of shape (n_samples,)
        Energies, higher = more anomalous.

    Examples
    --------
    >>> round(auprc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]), 4)
    0.8333
    """
    labels, values = _ranking_inputs(y_true, energy)
    return float(average_precision_score(labels, values))


def _ranking_inputs(
    y_true: ArrayLike, energy: ArrayLike
) -> tuple[NDArray[np.int8], NDArray[np.float64]]:
    labels = _as_labels(y_true, "y_true")  # (N,)
    values = _as_energy(energy)  # (N,)
    _check_same_length(labels, "y_true", values, "energy")
    _check_both_classes(labels)
    return labels, values


def evaluate_energies(y_true: ArrayLike, energy: ArrayLike, ratio: float) -> EnergyEvaluation:
    """Score energies with the paper's protocol plus threshold-free metrics.

    Precision, recall and F1 use :func:`top_fraction_threshold` on ``energy``
    itself (the paper flags the top ``ratio`` of the evaluated rows). AUROC and
    AUPRC (average precision) need no threshold.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Binary labels, 1 = anomaly; both classes must be present.
    energy : array-like of shape (n_samples,)
        Energies, higher = more anomalous.
    ratio : float in (0, 1)
        Assumed anomaly ratio: fraction of rows flagged.

    Returns
    -------
    dict
        ``precision``, ``recall``, ``f1``, ``auroc``, ``auprc`` and the
        ``threshold`` used (flag when ``energy > threshold``), all floats.

    Examples
    --------
    >>> scores = evaluate_energies([0, 0, 0, 1], [0.1, 0.2, 0.3, 0.9], ratio=0.25)
    >>> scores["f1"], scores["auroc"]
    (1.0, 1.0)
    """
    labels = _as_labels(y_true, "y_true")  # (N,)
    values = _as_energy(energy)  # (N,)
    _check_same_length(labels, "y_true", values, "energy")
    _check_both_classes(labels)
    threshold = top_fraction_threshold(values, ratio)
    predicted = (values > threshold).astype(np.int8)  # (N,)
    precision, recall, f1 = precision_recall_f1(labels, predicted)
    return EnergyEvaluation(
        precision=precision,
        recall=recall,
        f1=f1,
        auroc=auroc(labels, values),
        auprc=auprc(labels, values),
        threshold=threshold,
    )
