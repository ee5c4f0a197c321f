"""The demo job: DAGMM on a synthetic Gaussian mixture with injected anomalies.

It follows the mixture-of-Gaussians example of the TensorFlow reference
implementation (``make_blobs`` with 5 centres in 5 dimensions), scaled up so
that precision and recall mean something: normal rows come from the blobs, and
anomalies are points of the same bounding box that lie far from every centre.
No download is needed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.datasets import make_blobs
from sklearn.ensemble import IsolationForest

from dagmm import DAGMM
from dagmm.evaluation import evaluate_energies


def make_demo_data(
    n_train: int = 5000, n_test_normal: int = 2000, n_anomalies: int = 100, random_state: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Normal training rows, and a test set with ``n_anomalies`` anomalies (label 1).

    Returns
    -------
    X_train : ndarray (n_train, 5)
    X_test : ndarray (n_test_normal + n_anomalies, 5)
    y_test : ndarray of int, 1 = anomaly
    """
    X, _, centers = make_blobs(
        n_samples=n_train + n_test_normal, n_features=5, centers=5, random_state=random_state,
        return_centers=True,
    )
    rng = np.random.default_rng(random_state)
    low, high = X.min(axis=0), X.max(axis=0)
    anomalies = []
    while len(anomalies) < n_anomalies:  # rejection sampling: far from every centre
        point = rng.uniform(low, high)
        if np.min(np.linalg.norm(centers - point, axis=1)) > 6.0:
            anomalies.append(point)
    X_test = np.vstack([X[n_train:], np.array(anomalies)])
    y_test = np.r_[np.zeros(n_test_normal, dtype=int), np.ones(n_anomalies, dtype=int)]
    order = rng.permutation(len(y_test))
    return X[:n_train], X_test[order], y_test[order]


#: Share of the training rows above each detector's threshold: DAGMM and
#: Isolation Forest are both thresholded from their own training scores with it.
DEMO_CONTAMINATION = 0.01


def _at_threshold(y_test: np.ndarray, flagged: np.ndarray) -> dict[str, float]:
    true_pos = int(np.sum(flagged & y_test))
    precision = true_pos / max(int(flagged.sum()), 1)
    recall = true_pos / int(y_test.sum())
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}


def run_demo(
    out: str | Path | None = "dagmm-demo-model",
    *,
    epochs: int = 100,
    random_state: int = 0,
    verbose: int = 0,
    n_jobs: int | None = None,
    say: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Fit DAGMM on the demo data, evaluate it beside Isolation Forest, save the model.

    Both detectors flag the test rows above the ``DEMO_CONTAMINATION``
    percentile of their own training scores (no test labels are used for a
    threshold), so their precision and recall compare like with like; ROC-AUC
    and PR-AUC need no threshold.

    Parameters
    ----------
    say : callable, optional
        Called with a line saying what runs, before it runs (the CLI prints it).

    Returns
    -------
    dict
        Metrics of DAGMM and Isolation Forest at their training thresholds and
        threshold-free, the training time and the saved model's path.
    """
    say = say or (lambda message: None)
    X_train, X_test, y_test = make_demo_data(random_state=random_state)
    say(
        f"data: {len(X_train):,} normal training rows from 5 Gaussian blobs in "
        f"{X_train.shape[1]} dimensions; {len(X_test):,} test rows with {int(y_test.sum())} "
        "injected anomalies (points far from every blob)"
    )
    model = DAGMM(
        comp_hiddens=(16, 8, 1),
        est_hiddens=(8, 5),
        est_dropout_ratio=0.25,
        minibatch_size=128,
        epoch_size=epochs,
        learning_rate=1e-3,
        lambda1=0.1,
        lambda2=1e-4,
        reconstruction_features=("relative", "cosine"),
        mixture="network",
        contamination=DEMO_CONTAMINATION,
        verbose=verbose,
        random_state=random_state,
        n_jobs=n_jobs,
    )
    say(
        f"training DAGMM for {epochs} epochs (compression network "
        f"{'-'.join(map(str, (X_train.shape[1], *model.comp_hiddens)))}, estimation network "
        f"{'-'.join(map(str, model.est_hiddens))}: {model.est_hiddens[-1]} mixture components); "
        "loss = reconstruction (squared error) + "
        f"{model.lambda1:g} x energy (mean sample energy) + {model.lambda2:g} x cov_penalty "
        "(sum of 1 / covariance diagonals): the terms in the progress bar"
    )
    started = time.perf_counter()
    model.fit(X_train)
    train_seconds = time.perf_counter() - started
    energy = model.energy(X_test)
    metrics = evaluate_energies(y_test, energy, float(y_test.mean()))
    dagmm = _at_threshold(y_test, (model.predict(X_test) == -1).astype(int))
    say(
        f"scoring the test rows; Isolation Forest trained on the same rows, both flagging "
        f"above the top {DEMO_CONTAMINATION:.0%} of their own training scores"
    )
    forest = IsolationForest(contamination=DEMO_CONTAMINATION, random_state=random_state)
    forest.fit(X_train)
    forest_scores = -forest.score_samples(X_test)
    forest_ranking = evaluate_energies(y_test, forest_scores, float(y_test.mean()))
    iforest = _at_threshold(y_test, (forest.predict(X_test) == -1).astype(int))
    saved = str(model.save(out)) if out is not None else None
    return {
        "n_train": len(X_train),
        "n_test": len(X_test),
        "n_anomalies": int(y_test.sum()),
        "contamination": DEMO_CONTAMINATION,
        "dagmm": {**dagmm, "auroc": metrics["auroc"], "auprc": metrics["auprc"],
                  "threshold": model.threshold_},
        "dagmm_top_ratio": metrics,
        "iforest": {**iforest, "auroc": forest_ranking["auroc"],
                    "auprc": forest_ranking["auprc"]},
        "iforest_top_ratio": forest_ranking,
        "train_seconds": train_seconds,
        "model_dir": saved,
    }
