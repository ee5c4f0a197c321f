"""``dagmm tune``: Bayesian search of a detector's hyper-parameters on labelled data.

The labelled table is split once (:func:`~dagmm.workflow.holdout_split`):
``train_fraction`` of the normal rows to train on, and the other rows (the
remaining normal rows and every anomaly) halved into a validation part, which
chooses among trials, and a test part, looked at once at the end with the
best model. The preprocessor is fitted once on the training rows.

The search is Optuna's TPE sampler. Each trial first trains for a quarter of
its epochs and reports the validation metric as step 0; Optuna's median
pruner stops the trial there when that value is below the median of earlier
trials at the same step. Trials that survive train again from the start for
all their epochs (step 1). A trial whose training diverges is pruned, with the
reason in the trials table.

Writes into ``OUT_DIR``: ``model/`` (the best model, with its threshold),
``trials.csv`` and ``trials.png``, ``test.<ext>`` (the held-out test rows, for
``dagmm evaluate``) and ``summary.json``.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from dagmm._vocabulary import OPTIONS, vocabulary
from dagmm.estimators import BaseDeepDetector
from dagmm.evaluation import auprc, auroc, best_f1_threshold, precision_recall_f1
from dagmm.exceptions import CovarianceError, DataError, TrainingDivergedError
from dagmm.persistence import atomic_write
from dagmm.tabular import SUPPORTED_EXTENSIONS, AtomicTableWriter, read_table
from dagmm.workflow.detector import TabularDetector
from dagmm.workflow.labels import require_column
from dagmm.workflow.options import FitOptions
from dagmm.workflow.splits import holdout_split

__all__ = ["METRICS", "SearchSpace", "TuneReport", "tune_file"]

#: Validation metrics a search can maximise.
METRICS = ("auprc", "f1", "auroc")
MODEL_DIR, TRIALS_TABLE, TRIALS_PLOT, SUMMARY_FILE = (
    "model",
    "trials.csv",
    "trials.png",
    "summary.json",
)


@dataclass(frozen=True)
class SearchSpace:
    """Ranges searched by :func:`tune_file` (log scale for rates and weights).

    ``epochs`` None means from a quarter of the base options' ``epoch_size``
    to all of it; ``batch_sizes`` are the ``minibatch_size`` values tried.
    For DAGMM, compression widths are ``(width, width // 2, latent)`` (the
    middle layer omitted when it would not be wider than the latent code)
    and estimation widths ``(est_width, components)``; for the VAE, encoder
    widths are ``(vae_width, vae_width)`` and the latent size is searched in
    ``vae_latent``. Trials are named by the estimator's parameters.
    """

    learning_rate: tuple[float, float] = (1e-4, 1e-2)
    lambda1: tuple[float, float] = (1e-3, 1.0)
    lambda2: tuple[float, float] = (1e-6, 1e-2)
    width: tuple[int, int] = (8, 64)
    latent: tuple[int, int] = (1, 8)
    components: tuple[int, int] = (2, 8)
    est_width: tuple[int, int] = (4, 32)
    epochs: tuple[int, int] | None = None
    batch_sizes: tuple[int, ...] = (256, 512, 1024, 2048)
    vae_width: tuple[int, int] = (16, 256)
    vae_latent: tuple[int, int] = (2, 64)

    def sample(self, trial: Any, base: FitOptions) -> FitOptions:
        """The options of one trial: ``base`` with the searched settings replaced."""
        low, high = self.epochs or (max(1, base.epoch_size // 4), base.epoch_size)
        changes: dict[str, Any] = {
            "learning_rate": trial.suggest_float("learning_rate", *self.learning_rate, log=True)
        }
        if base.detector == "vae":
            width = trial.suggest_int("width", *self.vae_width, log=True)
            changes["encoder_hiddens"] = (width, width)
            changes["latent_dim"] = trial.suggest_int("latent_dim", *self.vae_latent, log=True)
        else:
            width = trial.suggest_int("width", *self.width, log=True)
            latent = trial.suggest_int("latent", *self.latent)
            middle = width // 2
            changes["lambda1"] = trial.suggest_float("lambda1", *self.lambda1, log=True)
            changes["lambda2"] = trial.suggest_float("lambda2", *self.lambda2, log=True)
            changes["comp_hiddens"] = (
                (width, middle, latent) if middle > latent else (width, latent)
            )
            changes["est_hiddens"] = (
                trial.suggest_int("est_width", *self.est_width, log=True),
                trial.suggest_int("components", *self.components),
            )
        changes["epoch_size"] = trial.suggest_int("epoch_size", low, high)
        changes["minibatch_size"] = trial.suggest_categorical(
            "minibatch_size", list(self.batch_sizes)
        )
        return dataclasses.replace(base, **changes)


@dataclass(frozen=True)
class TuneReport:
    """What :func:`tune_file` found."""

    metric: str
    best_value: float
    best_params: dict[str, Any]
    best_trial: int
    test_metrics: dict[str, Any]
    counts: dict[str, int]
    out_dir: Path
    seconds: float

    def summary(self) -> str:
        """One line for the end of ``dagmm tune``."""
        test = self.test_metrics
        states = ", ".join(
            f"{count} {state.lower()}" for state, count in self.counts.items() if count
        )
        return (
            f"{sum(self.counts.values())} trials ({states}) in {self.seconds:.0f} s; best trial "
            f"{self.best_trial}: validation {self.metric} {self.best_value:.4f}; on the test "
            f"rows AUROC {test['auroc']:.4f} AUPRC {test['auprc']:.4f} F1 {test['f1']:.4f}; "
            f"model saved to '{self.out_dir / MODEL_DIR}'"
        )


def _metric(name: str, is_anomaly: np.ndarray, energy: np.ndarray) -> float:
    if name == "auprc":
        return auprc(is_anomaly, energy)
    if name == "auroc":
        return auroc(is_anomaly, energy)
    return best_f1_threshold(is_anomaly.astype(np.int8), energy)[1]


def _table_suffix(path: Path) -> str:
    name = path.name.lower()
    return next(
        (ext for ext in sorted(SUPPORTED_EXTENSIONS, key=len, reverse=True) if name.endswith(ext)),
        ".csv",
    )


def _write_table(frame: pd.DataFrame, path: Path) -> None:
    with AtomicTableWriter(path) as writer:
        writer.write(frame)


def tune_file(
    data: str | os.PathLike,
    out_dir: str | os.PathLike,
    options: FitOptions,
    *,
    trials: int = 50,
    metric: str = "auprc",
    train_fraction: float = 0.8,
    space: SearchSpace | None = None,
    timeout: float | None = None,
    progress: bool = False,
) -> TuneReport:
    """Search hyper-parameters on a labelled file; save the best model, trials and test rows.

    Parameters
    ----------
    data : path-like
        Labelled CSV/TSV/Parquet file.
    out_dir : path-like
        Output directory (see the module docstring for its content).
    options : FitOptions
        Base settings: ``label_col`` is required; the searched settings are
        replaced per trial, the others (columns, threshold policy, seed,
        device) are kept.
    trials : int, default=50
    metric : {"auprc", "f1", "auroc"}, default="auprc"
        Validation metric to maximise; ``f1`` is the best F1 over thresholds.
    train_fraction : float, default=0.8
        Share of the normal rows trained on.
    space : SearchSpace, optional
    timeout : float, optional
        Stop starting new trials after this many seconds.
    progress : bool, default=False
        A progress bar over the trials.

    Returns
    -------
    TuneReport
    """
    try:
        import optuna
    except ImportError:  # pragma: no cover - optuna is installed in the test environment
        raise ImportError("tuning needs optuna: pip install 'dagmm[tune]'") from None
    if metric not in METRICS:
        raise ValueError(f"metric={metric!r} is unknown; expected one of {', '.join(METRICS)}")
    if not isinstance(trials, int) or trials < 1:
        raise ValueError(f"trials={trials!r} must be a positive integer")
    if not options.label_col:
        raise ValueError("tuning needs labels: give the label column (--label-col)")
    started = time.perf_counter()
    space = space or SearchSpace()
    root = Path(out_dir)
    if root.exists() and not root.is_dir():
        raise DataError(f"cannot write the tuning results to '{root}': it is a file")

    frame = read_table(data)
    require_column(frame, options.label_col, "label column", data)
    template = TabularDetector.from_options(options)
    is_anomaly = template.anomalies(frame, data)
    split = holdout_split(is_anomaly, train_fraction=train_fraction, seed=options.random_state)
    preprocessor = template.new_preprocessor()
    with vocabulary(OPTIONS):  # messages name FitOptions fields (impute=True)
        X_train = preprocessor.fit_transform(frame.iloc[split.train])
        X_val = preprocessor.transform(frame.iloc[split.validation])
        X_test = preprocessor.transform(frame.iloc[split.test])
    y_val, y_test = is_anomaly[split.validation], is_anomaly[split.test]
    policy = options.threshold_policy()
    root.mkdir(parents=True, exist_ok=True)
    best: dict[str, Any] = {"value": -math.inf}

    def fit_model(trial_options: FitOptions, epochs: int) -> BaseDeepDetector:
        return trial_options.make_model().set_params(epoch_size=epochs).fit(X_train)

    def objective(trial: Any) -> float:
        trial_options = space.sample(trial, options)
        try:
            preview = max(1, trial_options.epoch_size // 4)
            if preview < trial_options.epoch_size:
                model = fit_model(trial_options, preview)
                trial.report(_metric(metric, y_val, model.energy(X_val)), step=0)
                if trial.should_prune():
                    raise optuna.TrialPruned()
            model = fit_model(trial_options, trial_options.epoch_size)
        except (TrainingDivergedError, CovarianceError) as exc:
            trial.set_user_attr("error", str(exc).splitlines()[0])
            raise optuna.TrialPruned() from None
        val_energy = model.energy(X_val)
        value = _metric(metric, y_val, val_energy)
        trial.report(value, step=1)
        if value > best["value"]:
            detector = TabularDetector.from_fitted(
                preprocessor,
                model,
                model.energy(X_train),
                threshold=policy,
                validation=(val_energy, y_val),
                label_col=options.label_col,
                normal_label=options.normal_label,
                training={
                    "rows": int(len(frame)),
                    "training_rows": int(split.train.size),
                    "validation_rows": int(split.validation.size),
                    "anomalies_left_out": int(is_anomaly.sum()),
                    "features": int(X_train.shape[1]),
                    "tuning_trial": trial.number,
                    "columns": [str(name) for name in frame.columns],
                },
            )
            detector.save(root / MODEL_DIR)
            best.update(value=value, detector=detector, trial=trial.number)
        return value

    verbosity = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        study = optuna.create_study(
            direction="maximize",
            sampler=optuna.samplers.TPESampler(seed=options.random_state),
            pruner=optuna.pruners.MedianPruner(n_startup_trials=5),
        )
        with tqdm(
            total=trials, desc="tuning", unit=" trials", disable=not progress, leave=False
        ) as bar:

            def advance(study: Any, trial: Any) -> None:
                bar.update(1)
                if "detector" in best:
                    bar.set_postfix({f"best {metric}": f"{best['value']:.4f}"}, refresh=False)

            study.optimize(
                objective, n_trials=trials, timeout=timeout, callbacks=[advance], catch=()
            )
    finally:
        optuna.logging.set_verbosity(verbosity)
    if "detector" not in best:
        errors = [t.user_attrs["error"] for t in study.trials if "error" in t.user_attrs]
        raise TrainingDivergedError(
            "no tuning trial finished"
            + (f": {errors[0]}" if errors else "")
            + "; narrow the search (lower learning rates) or run more trials"
        )

    table = _trials_table(study)
    _write_table(table, root / TRIALS_TABLE)
    from dagmm import reporting

    if reporting.matplotlib_available():
        figure = reporting.trials_figure(table["number"], table["value"], table["state"], metric)
        atomic_write(root / TRIALS_PLOT, reporting.figure_png(figure))
    else:
        import warnings

        warnings.warn(
            f"{reporting.MISSING_MATPLOTLIB}: skipped {TRIALS_PLOT}", UserWarning, stacklevel=2
        )
    _write_table(frame.iloc[split.test], root / f"test{_table_suffix(Path(data))}")

    detector: TabularDetector = best["detector"]
    test_energy = detector.model_.energy(X_test)
    flagged = (test_energy > detector.threshold_).astype(np.int8)
    precision, recall, f1 = precision_recall_f1(y_test.astype(np.int8), flagged)
    test_metrics = {
        "rows": int(split.test.size),
        "anomalies": int(y_test.sum()),
        "auroc": auroc(y_test, test_energy),
        "auprc": auprc(y_test, test_energy),
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "threshold": detector.threshold_,
    }
    counts = {
        state: int((table["state"] == state).sum()) for state in ("COMPLETE", "PRUNED", "FAIL")
    }
    best_trial = study.trials[best["trial"]]
    report = TuneReport(
        metric=metric,
        best_value=float(best["value"]),
        best_params=dict(best_trial.params),
        best_trial=int(best["trial"]),
        test_metrics=test_metrics,
        counts=counts,
        out_dir=root,
        seconds=time.perf_counter() - started,
    )
    summary = {
        "metric": metric,
        "best_trial": report.best_trial,
        "best_validation_value": report.best_value,
        "best_params": report.best_params,
        "test": test_metrics,
        "split": {
            "train": int(split.train.size),
            "validation": int(split.validation.size),
            "test": int(split.test.size),
            "random_state": options.random_state,
        },
        "trials": counts,
    }

    atomic_write(root / SUMMARY_FILE, json.dumps(summary, indent=2) + "\n")
    return report


def _trials_table(study: Any) -> pd.DataFrame:
    rows = []
    for trial in study.trials:
        value = trial.value
        if value is None and trial.intermediate_values:
            value = trial.intermediate_values[max(trial.intermediate_values)]
        duration = trial.duration.total_seconds() if trial.duration is not None else math.nan
        rows.append(
            {
                "number": trial.number,
                "state": trial.state.name,
                "value": value,
                "seconds": round(duration, 3),
                **trial.params,
                "error": trial.user_attrs.get("error", ""),
            }
        )
    return pd.DataFrame(rows)
