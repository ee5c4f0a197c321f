"""``dagmm evaluate``: how well a saved model separates labelled anomalies, with a report.

The labelled file is streamed in chunks. Energies and labels of every row are
kept (AUROC and AUPRC need them all: 9 bytes a row); the mixture inputs drawn
in the latent-space figure are a seeded sample of at most a few thousand rows
per class, so memory does not grow with them.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from dagmm.evaluation import auprc, auroc, best_f1_threshold, precision_recall_f1
from dagmm.exceptions import DataError
from dagmm.persistence import atomic_write
from dagmm.tabular import iter_table_chunks
from dagmm.tabular._columns import as_frame
from dagmm.workflow.detector import TabularDetector
from dagmm.workflow.labels import anomaly_mask, no_normal_error, require_column
from dagmm.workflow.scoring import (
    DEFAULT_CHUNK_ROWS,
    aligned_chunk_rows,
    load_detector,
    needed_columns,
)

__all__ = [
    "EvaluationReport",
    "evaluate_detector",
    "evaluate_file",
    "write_evaluation_report",
    "write_report",
]

#: Most rows per class drawn in the latent-space figure.
LATENT_POINTS_PER_CLASS = 3000
REPORT_FILE, METRICS_FILE = "report.html", "metrics.json"


@dataclass
class EvaluationReport:
    """Metrics of a detector on labelled rows, and what the figures need.

    Attributes
    ----------
    metrics : dict
        ``rows``, ``anomalies``, ``auroc``, ``auprc``, and for the model's
        threshold (``at_model_threshold``) and the best-F1 threshold
        (``at_best_f1_threshold``): ``threshold``, ``precision``, ``recall``,
        ``f1``, ``flagged``, ``true_positives``, ``false_positives``.
    energy, is_anomaly : ndarray of shape (n,)
    latent, latent_is_anomaly : ndarray
        A sample of the mixture inputs and their labels.
    latent_names : list of str
    out_dir : Path or None
        Where :func:`write_evaluation_report` wrote the report.
    skipped_plots : list of str
        Figures :func:`write_evaluation_report` could not draw (matplotlib is missing).
    """

    metrics: dict[str, Any]
    energy: np.ndarray
    is_anomaly: np.ndarray
    latent: np.ndarray
    latent_is_anomaly: np.ndarray
    latent_names: list[str]
    out_dir: Path | None = field(default=None)
    skipped_plots: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """One line for the end of ``dagmm evaluate``."""
        m = self.metrics
        model, best = m["at_model_threshold"], m["at_best_f1_threshold"]
        where = f"; report in '{self.out_dir / REPORT_FILE}'" if self.out_dir else ""
        if self.skipped_plots:
            where += " (without plots: matplotlib is not installed)"
        return (
            f"{m['rows']} rows, {m['anomalies']} anomalies: AUROC {m['auroc']:.4f}, "
            f"AUPRC {m['auprc']:.4f}; at the model's threshold precision {model['precision']:.4f} "
            f"recall {model['recall']:.4f} F1 {model['f1']:.4f}; best F1 {best['f1']:.4f}{where}"
        )


def _at_threshold(is_anomaly: np.ndarray, energy: np.ndarray, threshold: float) -> dict[str, Any]:
    flagged = energy > threshold
    precision, recall, f1 = precision_recall_f1(is_anomaly.astype(np.int8), flagged.astype(np.int8))
    return {
        "threshold": float(threshold),
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "flagged": int(flagged.sum()),
        "true_positives": int((flagged & is_anomaly).sum()),
        "false_positives": int((flagged & ~is_anomaly).sum()),
    }


class _LatentSample:
    """Keeps a seeded uniform sample of rows per class, chunk by chunk.

    Every row gets a random key; the rows with the smallest keys are kept.
    The keys come from one generator in row order, so the sample does not
    depend on the chunk size.
    """

    def __init__(self, per_class: int, seed: int) -> None:
        self.per_class = per_class
        self.rng = np.random.default_rng(seed)
        self.kept: dict[bool, tuple[np.ndarray, np.ndarray]] = {}

    def add(self, z: np.ndarray, is_anomaly: np.ndarray) -> None:
        keys = self.rng.random(len(z))
        for label in (False, True):
            mask = is_anomaly == label
            old_keys, old_z = self.kept.get(label, (np.empty(0), np.empty((0, z.shape[1]))))
            all_keys = np.concatenate([old_keys, keys[mask]])
            all_z = np.concatenate([old_z, z[mask]])
            order = np.argsort(all_keys, kind="stable")[: self.per_class]
            self.kept[label] = (all_keys[order], all_z[order])

    def arrays(self, width: int) -> tuple[np.ndarray, np.ndarray]:
        parts = [
            self.kept.get(label, (np.empty(0), np.empty((0, width))))[1] for label in (False, True)
        ]
        labels = np.r_[np.zeros(len(parts[0]), dtype=bool), np.ones(len(parts[1]), dtype=bool)]
        return np.concatenate(parts), labels


def evaluate_detector(
    detector: TabularDetector,
    data: pd.DataFrame | str | os.PathLike,
    *,
    label_col: str | None = None,
    normal_label: str | None = None,
    chunksize: int = DEFAULT_CHUNK_ROWS,
    progress: bool = False,
    seed: int = 0,
) -> EvaluationReport:
    """Score labelled rows and compute precision, recall, F1, AUROC and AUPRC.

    Parameters
    ----------
    detector : TabularDetector
    data : DataFrame or path-like
        Labelled rows; a file is streamed in chunks.
    label_col, normal_label : str, optional
        Default to those the model was fitted with.
    chunksize : int, default=50000
        Rows per chunk, rounded up as in :func:`~dagmm.workflow.score_file`.
    progress : bool, default=False
    seed : int, default=0
        Seeds the sample of rows drawn in the latent-space figure.

    Raises
    ------
    DataError
        If the label column is absent, or the rows are not of both classes.
    """
    label_col = label_col or detector.label_col
    if not label_col:
        raise ValueError(
            "no label column: the model was fitted without one, so name it with --label-col"
        )
    if label_col in detector.preprocessor_.input_columns_:
        from dagmm._vocabulary import CLI, current, field_name

        refit = f"--label-col {label_col}" if current() == CLI else f"label_col={label_col!r}"
        raise DataError(
            f"label column {label_col!r} is an input of the model (it was fitted without "
            f"{field_name('label_col')}), so its scores already contain the answer and the "
            f"metrics would mean nothing; refit with {refit} to keep it out of the inputs"
        )
    normal_label = normal_label if normal_label is not None else detector.normal_label
    chunksize = aligned_chunk_rows(chunksize)
    if isinstance(data, pd.DataFrame):
        frame = as_frame(data)
        require_column(frame, label_col, "label column")
        chunks = (
            frame.iloc[start : start + chunksize] for start in range(0, len(frame), chunksize)
        )
        source = "the data"
    else:
        source = f"'{data}'"
        chunks = iter_table_chunks(
            data,
            chunksize,
            columns=needed_columns(detector, label_col),
            text_columns=detector.preprocessor_.id_columns_,
        )
    energies, labels, found = [], [], set()
    sample = _LatentSample(LATENT_POINTS_PER_CLASS, seed)
    with tqdm(desc="evaluating", unit=" rows", disable=not progress, leave=False) as bar:
        for chunk in chunks:
            is_anomaly = anomaly_mask(
                chunk[label_col], normal_label, column=label_col, require_normal=False
            )
            if not (~is_anomaly).any() and len(found) < 10:
                found.update(str(value) for value in pd.unique(chunk[label_col]))
            X = detector.features(chunk)
            energies.append(detector.model_.energy(X))
            labels.append(is_anomaly)
            sample.add(detector.model_.transform(X), is_anomaly)
            bar.update(len(chunk))
    if not energies:
        raise DataError(f"{source} has no rows to evaluate")
    energy, is_anomaly = np.concatenate(energies), np.concatenate(labels)
    if is_anomaly.all():
        raise no_normal_error(label_col, normal_label, sorted(found))
    if not is_anomaly.any():
        raise DataError(
            f"label column {label_col!r} marks no anomaly in {source}: precision, recall and "
            "AUROC need both classes; evaluate on rows that include anomalies"
        )
    best_threshold, _ = best_f1_threshold(is_anomaly.astype(np.int8), energy)
    metrics = {
        "rows": int(energy.size),
        "anomalies": int(is_anomaly.sum()),
        "label_col": label_col,
        "auroc": auroc(is_anomaly, energy),
        "auprc": auprc(is_anomaly, energy),
        "at_model_threshold": {
            **_at_threshold(is_anomaly, energy, detector.threshold_),
            "policy": detector.threshold_policy_.describe(),
        },
        "at_best_f1_threshold": _at_threshold(is_anomaly, energy, best_threshold),
    }
    names = [str(name) for name in detector.model_.get_feature_names_out()]
    latent, latent_is_anomaly = sample.arrays(len(names))
    return EvaluationReport(metrics, energy, is_anomaly, latent, latent_is_anomaly, names)


def _format(value: float) -> str:
    return f"{value:.4f}"


def write_evaluation_report(
    report: EvaluationReport, out_dir: str | os.PathLike, *, title: str = ""
) -> Path:
    """Write ``metrics.json``, the figures (PNG) and ``report.html`` into ``out_dir``.

    Each file is written atomically. Without matplotlib the figures are
    skipped with a warning naming them (``report.skipped_plots``); the metrics
    and the report's tables are written all the same. Returns the path of
    ``report.html``.
    """
    import warnings

    from dagmm import reporting

    root = Path(out_dir)
    if root.exists() and not root.is_dir():
        raise DataError(f"cannot write the report to '{root}': it is a file; give a directory")
    root.mkdir(parents=True, exist_ok=True)
    m = report.metrics
    thresholds = {
        "model threshold": m["at_model_threshold"]["threshold"],
        "best-F1 threshold": m["at_best_f1_threshold"]["threshold"],
    }
    drawn = reporting.matplotlib_available()
    figures = {
        "energy_histogram.png": (
            "Energy of normal and anomalous rows (each class scaled to its own total), with "
            "the model's and the best-F1 thresholds.",
            lambda: reporting.energy_histogram_figure(report.energy, report.is_anomaly, thresholds),
        ),
        "roc_curve.png": (
            "ROC curve.",
            lambda: reporting.roc_figure(report.is_anomaly, report.energy, m["auroc"]),
        ),
        "pr_curve.png": (
            "Precision-recall curve.",
            lambda: reporting.pr_figure(report.is_anomaly, report.energy, m["auprc"]),
        ),
        "f1_threshold.png": (
            "Precision, recall and F1 when flagging rows with energy at or above each threshold.",
            lambda: reporting.f1_threshold_figure(report.is_anomaly, report.energy, thresholds),
        ),
        "latent_space.png": (
            "The first two inputs of the mixture (latent code, reconstruction features) of a "
            "sample of rows, colored by label.",
            lambda: reporting.latent_figure(
                report.latent, report.latent_is_anomaly, report.latent_names
            ),
        ),
    }
    embedded = []
    for name, (caption, draw) in figures.items():
        if not drawn:
            continue
        png = reporting.figure_png(draw())
        atomic_write(root / name, png)
        embedded.append(reporting.Figure(caption, png))
    report.skipped_plots = [] if drawn else list(figures)
    if not drawn:
        warnings.warn(
            f"{reporting.MISSING_MATPLOTLIB}: skipped the plots {', '.join(figures)}; "
            f"{METRICS_FILE} and {REPORT_FILE} are written without them",
            UserWarning,
            stacklevel=2,
        )
    rows = []
    for label, key in (
        ("model threshold", "at_model_threshold"),
        ("best-F1 threshold", "at_best_f1_threshold"),
    ):
        at = m[key]
        rows.append(
            [
                label,
                f"{at['threshold']:.6g}",
                _format(at["precision"]),
                _format(at["recall"]),
                _format(at["f1"]),
                at["flagged"],
                at["true_positives"],
                at["false_positives"],
            ]
        )
    tables = [
        reporting.Table(
            "Ranking",
            ["rows", "anomalies", "AUROC", "AUPRC"],
            [[m["rows"], m["anomalies"], _format(m["auroc"]), _format(m["auprc"])]],
        ),
        reporting.Table(
            "At a threshold (flag when energy > threshold)",
            [
                "threshold",
                "energy",
                "precision",
                "recall",
                "F1",
                "flagged",
                "true pos.",
                "false pos.",
            ],
            rows,
            note=(
                f"The model's threshold: {m['at_model_threshold']['policy']}. The best-F1 "
                "threshold is chosen on these labels, so its scores are optimistic."
            ),
        ),
    ]
    intro = f"Label column {m['label_col']!r}; generated {time.strftime('%Y-%m-%d %H:%M:%S')}."
    if not drawn:
        intro += f" No figures: {reporting.MISSING_MATPLOTLIB}."
    atomic_write(root / METRICS_FILE, json.dumps(m, indent=2) + "\n")
    html_path = atomic_write(
        root / REPORT_FILE,
        reporting.render_report(title or "dagmm evaluation", intro, tables, embedded),
    )
    report.out_dir = root
    return html_path


def evaluate_file(
    data: str | os.PathLike,
    model: TabularDetector | str | os.PathLike,
    out_dir: str | os.PathLike | None,
    *,
    label_col: str | None = None,
    normal_label: str | None = None,
    chunksize: int = DEFAULT_CHUNK_ROWS,
    device: str | None = None,
    progress: bool = False,
) -> EvaluationReport:
    """Evaluate a saved model on a labelled file and write the report (when ``out_dir`` is given).

    Examples
    --------
    >>> report = evaluate_file("test.csv", "model", "report", label_col="Class")  # doctest: +SKIP
    >>> report.metrics["auroc"]  # doctest: +SKIP
    """
    detector = load_detector(model, device)
    report = evaluate_detector(
        detector,
        data,
        label_col=label_col,
        normal_label=normal_label,
        chunksize=chunksize,
        progress=progress,
    )
    if out_dir is not None:
        write_evaluation_report(report, out_dir, title=f"dagmm evaluation of {Path(data).name}")
    return report


def write_report(report: EvaluationReport, out_dir: str | os.PathLike, *, title: str = "") -> Path:
    """Deprecated name of :func:`write_evaluation_report` (removed in a later release)."""
    import warnings

    warnings.warn(
        "dagmm.workflow.write_report is deprecated; use write_evaluation_report (the "
        "benchmark's report writer is dagmm.benchmark.write_benchmark_report)",
        DeprecationWarning,
        stacklevel=2,
    )
    return write_evaluation_report(report, out_dir, title=title)
