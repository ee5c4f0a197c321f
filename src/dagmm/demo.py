"""The demo job: DAGMM on a synthetic Gaussian mixture with injected anomalies.

It follows the mixture-of-Gaussians example of the TensorFlow reference
implementation (``make_blobs`` with 5 centres in 5 dimensions), scaled up so
that precision and recall mean something: normal rows come from the blobs, and
anomalies are points of the same bounding box that lie far from every centre.
No download is needed.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.datasets import make_blobs
from sklearn.ensemble import IsolationForest

from dagmm.estimators.dagmm import DAGMM
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


def run_demo(
    out: str | Path | None = "dagmm-demo-model",
    *,
    epochs: int = 100,
    random_state: int = 0,
    verbose: int = 0,
) -> dict[str, Any]:
    """Fit DAGMM on the demo data, evaluate it beside Isolation Forest, save the model.

    Returns
    -------
    dict
        Metrics of DAGMM (at the model's own threshold and threshold-free) and
        of Isolation Forest, the training time and the saved model's path.
    """
    X_train, X_test, y_test = make_demo_data(random_state=random_state)
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
        contamination=0.01,
        verbose=verbose,
        random_state=random_state,
    )
    started = time.perf_counter()
    model.fit(X_train)
    train_seconds = time.perf_counter() - started
    energy = model.energy(X_test)
    predicted = (model.predict(X_test) == -1).astype(int)
    metrics = evaluate_energies(y_test, energy, float(y_test.mean()))
    true_pos = int(np.sum(predicted & y_test))
    at_model_threshold = {
        "precision": true_pos / max(int(predicted.sum()), 1),
        "recall": true_pos / int(y_test.sum()),
    }
    p, r = at_model_threshold["precision"], at_model_threshold["recall"]
    at_model_threshold["f1"] = 2 * p * r / (p + r) if p + r else 0.0
    forest = IsolationForest(random_state=random_state).fit(X_train)
    forest_metrics = evaluate_energies(y_test, -forest.score_samples(X_test), float(y_test.mean()))
    saved = str(model.save(out)) if out is not None else None
    return {
        "n_train": len(X_train),
        "n_test": len(X_test),
        "n_anomalies": int(y_test.sum()),
        "dagmm": {**at_model_threshold, "auroc": metrics["auroc"], "auprc": metrics["auprc"],
                  "threshold": model.threshold_},
        "dagmm_top_ratio": metrics,
        "iforest": forest_metrics,
        "train_seconds": train_seconds,
        "model_dir": saved,
    }
