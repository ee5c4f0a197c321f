"""Evaluation metrics for anomaly energies (higher = more anomalous, label 1 = anomaly)."""

from dagmm.evaluation.metrics import (
    EnergyEvaluation,
    auprc,
    auroc,
    best_f1_threshold,
    contamination_threshold,
    evaluate_energies,
    precision_recall_f1,
    threshold_for_fpr,
    top_fraction_threshold,
)

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
