"""From a table in a file to flagged rows: the Python API behind ``dagmm fit/score/evaluate/tune``.

* :class:`TabularDetector`: a :class:`~dagmm.tabular.TabularPreprocessor`, a
  detector (:class:`~dagmm.DAGMM`, :class:`~dagmm.VAEDetector`) and a
  :class:`ThresholdPolicy`, fitted on the normal rows of a raw table and saved
  together as one model directory.
* :func:`fit_file`, :func:`score_file`, :func:`evaluate_file`,
  :func:`tune_file`: the commands, as functions returning small reports with
  a ``summary()`` line.
* :class:`FitOptions` and :func:`resolve_options`: settings from defaults, a
  TOML or JSON file and the command line, under the estimators' own names.

Examples
--------
>>> from dagmm.workflow import FitOptions, fit_file, score_file, evaluate_file
>>> fit_file("train.csv", "model", FitOptions(label_col="Class"))  # doctest: +SKIP
>>> score_file("new.csv", "model", "scores.csv", explain=True)  # doctest: +SKIP
>>> evaluate_file("test.csv", "model", "report")  # doctest: +SKIP
"""

from dagmm.workflow.detector import TabularDetector
from dagmm.workflow.evaluation import (
    EvaluationReport,
    evaluate_detector,
    evaluate_file,
    write_evaluation_report,
    write_report,
)
from dagmm.workflow.fitting import FitReport, fit_file
from dagmm.workflow.labels import anomaly_mask
from dagmm.workflow.options import FitOptions, load_config_file, resolve_options
from dagmm.workflow.scoring import DEFAULT_CHUNK_ROWS, ScoreReport, score_file
from dagmm.workflow.splits import HoldoutSplit, holdout_split
from dagmm.workflow.synthetic import make_creditcard_like
from dagmm.workflow.thresholds import ThresholdPolicy, percentile_scores, reference_energies
from dagmm.workflow.tuning import METRICS, SearchSpace, TuneReport, tune_file

__all__ = [
    "DEFAULT_CHUNK_ROWS",
    "METRICS",
    "EvaluationReport",
    "FitOptions",
    "FitReport",
    "HoldoutSplit",
    "ScoreReport",
    "SearchSpace",
    "TabularDetector",
    "ThresholdPolicy",
    "TuneReport",
    "anomaly_mask",
    "evaluate_detector",
    "evaluate_file",
    "fit_file",
    "holdout_split",
    "load_config_file",
    "make_creditcard_like",
    "percentile_scores",
    "reference_energies",
    "resolve_options",
    "score_file",
    "tune_file",
    "write_evaluation_report",
    "write_report",
]
