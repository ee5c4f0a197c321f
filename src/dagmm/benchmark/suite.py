"""The suite benchmark: every ADBench-format ``.npz`` file of a folder, many models, no tuning.

:func:`run_suite` is the entry point (``dagmm benchmark suite`` wraps it).

Data
----
Each ``.npz`` file of the folder holds ``X`` (rows x features, numbers) and
``y`` (1 = anomaly, 0 = normal), the format of ADBench (Han et al., NeurIPS
2022); it is read with ``allow_pickle=False``. The data set is named after the
file. A set with more than ``max_rows`` rows is subsampled once, stratified by
label, with :data:`SUBSAMPLE_SEED` (the same rows for every seed and model);
the summary lists the sets that were.

Protocol, per seed
------------------
Half of the normal rows, drawn with ``numpy.random.default_rng(seed)``, train;
the other half and every anomaly test (the DAGMM paper's protocol; the DTE
paper calls it semi-supervised). Features are standardised with statistics of
the training rows only (:func:`~dagmm.benchmark.protocol.fit_scaler`). Every
model sees the same rows. Precision, recall and F1 flag the top
anomaly-ratio fraction of the test energies; ROC-AUC and PR-AUC need no
threshold (:func:`dagmm.evaluation.evaluate_energies`).

Files in ``out_dir``
--------------------
``results.jsonl``
    One flat record per run, the paper benchmark's keys (``dataset``,
    ``model``, ``seed``, ``precision`` ... ``auprc``, ``threshold``,
    ``train_seconds``, ``score_seconds``, ``n_train``, ``n_test``,
    ``n_train_anomalies``, ``anomaly_ratio``, ``contamination``, ``quick``,
    ``error``, ``config``, ``version``) plus ``n_rows``, ``n_features``,
    ``subsampled_from`` (the file's row count, or null) and ``max_rows``.
    Resumable: runs already recorded are skipped.
``summary.md``
    ROC-AUC and PR-AUC per set and model, median and mean over sets, mean
    rank, DAGMM's wins/ties/losses against every other model with paired
    intervals, training seconds.
``ranks.png``
    Rank of every model on every set, and the mean rank (needs matplotlib).
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats
from tqdm.auto import tqdm

from dagmm._version import __version__
from dagmm.benchmark.protocol import apply_scaler, fit_scaler
from dagmm.benchmark.runner import (
    _RUN_FAILURES,
    METRICS,
    RESULTS_FILE,
    SUMMARY_FILE,
    _append_record,
    _check_same_settings,
    _open_results_for_append,
    _say,
    _seed_list,
    read_results,
)
from dagmm.benchmark.suite_models import SUITE_MODELS, check_suite_model, make_suite_model
from dagmm.evaluation import evaluate_energies
from dagmm.exceptions import DataError
from dagmm.persistence import atomic_write

__all__ = [
    "DEFAULT_MAX_ROWS",
    "DEFAULT_SUITE_MODELS",
    "SUBSAMPLE_SEED",
    "SUITE_FOLDER",
    "SuiteResult",
    "SuiteSet",
    "default_suite_dir",
    "list_suite",
    "load_suite_set",
    "run_suite",
    "suite_split",
    "summarize_suite",
    "write_suite_report",
]

#: Folder of the data home searched when no suite folder is given.
SUITE_FOLDER = "adbench"
#: Sets with more rows are subsampled (stratified) to this many.
DEFAULT_MAX_ROWS = 10_000
#: Seed of the one stratified subsample of a large set (shared by every seed and model).
SUBSAMPLE_SEED = 0
#: Models run when none are named.
DEFAULT_SUITE_MODELS = ("dagmm", "vae", "iforest", "knn", "gmm", "ocsvm", "pca")
#: Two mean ROC-AUCs closer than this are a tie in the ranks.
RANK_TIE = 1e-3
RANK_PLOT_FILE = "ranks.png"


@dataclass(frozen=True)
class SuiteSet:
    """One data set of a suite, after the row cap.

    Attributes
    ----------
    name : str
        File name without ``.npz``.
    X : ndarray of shape (n_rows, n_features), float64
    y : ndarray of shape (n_rows,), int8, 1 = anomaly
    original_rows : int
        Rows in the file (more than ``n_rows`` when subsampled).
    """

    name: str
    X: np.ndarray
    y: np.ndarray
    original_rows: int

    @property
    def subsampled(self) -> bool:
        return self.original_rows > self.X.shape[0]


@dataclass(frozen=True)
class SuiteResult:
    """What :func:`run_suite` did and where it wrote it."""

    out_dir: Path
    results_path: Path
    summary_path: Path
    plot_paths: tuple[Path, ...]
    records: list[dict[str, Any]]
    n_new_runs: int


# --------------------------------------------------------------------------- #
# data
# --------------------------------------------------------------------------- #


def default_suite_dir(data_home: str | os.PathLike[str] | None = None) -> Path:
    """``<data home>/adbench``: the data home is ``data_home``, else ``$DAGMM_DATA_HOME``,
    else the per-user cache (:func:`dagmm.datasets.get_data_home`)."""
    from dagmm.datasets import get_data_home

    return get_data_home(data_home) / SUITE_FOLDER


def list_suite(suite_dir: str | os.PathLike[str]) -> list[Path]:
    """The ``.npz`` files of ``suite_dir``, sorted by name; an error when there are none."""
    folder = Path(suite_dir)
    if not folder.is_dir():
        raise FileNotFoundError(
            f"suite folder '{folder}' does not exist: give --suite DIR, a folder of ADBench "
            "'.npz' files (arrays X and y)"
        )
    files = sorted(path for path in folder.glob("*.npz") if path.is_file())
    if not files:
        raise FileNotFoundError(
            f"suite folder '{folder}' holds no '.npz' file: the suite reads ADBench-format "
            "files with arrays X (rows x features) and y (1 = anomaly)"
        )
    return files


def _stratified_subsample(y: np.ndarray, max_rows: int) -> np.ndarray:
    """Sorted row indices: ``max_rows`` rows keeping the anomaly share, drawn with SUBSAMPLE_SEED."""
    rng = np.random.default_rng(SUBSAMPLE_SEED)
    anomalies, normals = np.flatnonzero(y == 1), np.flatnonzero(y == 0)
    n_anomalies = int(round(max_rows * anomalies.size / y.size))
    n_anomalies = min(max(n_anomalies, 1), anomalies.size)
    keep = np.concatenate(
        [
            rng.choice(anomalies, n_anomalies, replace=False),
            rng.choice(normals, max_rows - n_anomalies, replace=False),
        ]
    )
    return np.sort(keep)


def load_suite_set(
    path: str | os.PathLike[str], max_rows: int | None = DEFAULT_MAX_ROWS
) -> SuiteSet:
    """Read one ADBench ``.npz`` file, check it, and cap its rows.

    Raises
    ------
    DataError
        The file is not a readable ``.npz`` with numeric ``X`` (2-D, finite)
        and binary ``y`` of the same length holding both classes, with at
        least 4 normal rows.
    """
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as archive:
            missing = [key for key in ("X", "y") if key not in archive.files]
            if missing:
                raise DataError(
                    f"{path.name}: no array {missing[0]!r}; an ADBench file holds X "
                    f"(rows x features) and y (1 = anomaly); found {sorted(archive.files)}"
                )
            X, y = archive["X"], archive["y"]
    except (OSError, ValueError) as error:
        raise DataError(
            f"{path.name}: not a readable .npz file without pickles ({error})"
        ) from None
    if X.ndim != 2 or X.shape[0] == 0 or X.shape[1] == 0:
        raise DataError(f"{path.name}: X must be a non-empty 2-D array; got shape {X.shape}")
    if not np.issubdtype(X.dtype, np.number) or np.issubdtype(X.dtype, np.complexfloating):
        raise DataError(f"{path.name}: X must hold real numbers; got dtype {X.dtype}")
    X = X.astype(np.float64)
    if not np.isfinite(X).all():
        raise DataError(f"{path.name}: X holds NaN or infinite values")
    y = np.asarray(y).reshape(-1) if np.asarray(y).ndim == 2 and 1 in np.asarray(y).shape else y
    if y.ndim != 1 or y.shape[0] != X.shape[0]:
        raise DataError(
            f"{path.name}: y must have one label per row of X ({X.shape[0]}); got shape {y.shape}"
        )
    if not np.isin(y, (0, 1)).all():
        raise DataError(f"{path.name}: y must hold 0 (normal) and 1 (anomaly) only")
    y = y.astype(np.int8)
    if y.sum() == 0 or (y == 0).sum() < 4:
        raise DataError(
            f"{path.name}: y needs at least one anomaly and 4 normal rows; got "
            f"{int(y.sum())} anomalies and {int((y == 0).sum())} normal rows"
        )
    original = X.shape[0]
    if max_rows is not None and original > max_rows:
        keep = _stratified_subsample(y, max_rows)
        X, y = X[keep], y[keep]
    return SuiteSet(name=path.stem, X=X, y=y, original_rows=original)


def suite_split(y: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``(train, test)`` sorted row indices: half the normal rows train; the rest and every
    anomaly test. The same ``seed`` gives the same split."""
    normals = np.flatnonzero(y == 0)
    order = np.random.default_rng(seed).permutation(normals.size)
    n_train = normals.size // 2
    train = np.sort(normals[order[:n_train]])
    test = np.setdiff1d(np.arange(y.size), train)
    return train, test


# --------------------------------------------------------------------------- #
# running
# --------------------------------------------------------------------------- #


def _run_one(
    model_name: str,
    seed: int,
    quick: bool,
    X_train: np.ndarray,
    X_test: np.ndarray,
    y_test: np.ndarray,
) -> dict[str, Any]:
    model = make_suite_model(model_name, seed, quick)
    fields: dict[str, Any] = dict.fromkeys((*METRICS, "threshold"))
    start = time.perf_counter()
    try:
        model.fit(X_train)
        trained = time.perf_counter()
        energy = np.asarray(model.energy(X_test), dtype=np.float64)
        scored = time.perf_counter()
    except _RUN_FAILURES as error:
        fields.update(
            train_seconds=time.perf_counter() - start,
            score_seconds=None,
            error=f"{type(error).__name__}: {error}",
        )
        return {**fields, "config": model.config}
    fields.update(train_seconds=trained - start, score_seconds=scored - trained, error=None)
    n_bad = int(np.count_nonzero(~np.isfinite(energy)))
    if n_bad:
        fields["error"] = f"{n_bad} of {energy.size} test energies are NaN or infinite"
    else:
        fields.update(evaluate_energies(y_test, energy, float(y_test.mean())))
    return {**fields, "config": model.config}


def run_suite(
    suite_dir: str | os.PathLike[str] | None = None,
    models: Sequence[str] = DEFAULT_SUITE_MODELS,
    seeds: int | Sequence[int] = 5,
    out_dir: str | os.PathLike[str] = "runs/suite",
    *,
    max_rows: int | None = DEFAULT_MAX_ROWS,
    quick: bool = False,
    datasets: Sequence[str] | None = None,
    data_home: str | os.PathLike[str] | None = None,
    progress: bool = True,
) -> SuiteResult:
    """Run every model on every ``.npz`` set of ``suite_dir`` for every seed.

    Parameters
    ----------
    suite_dir : path-like, optional
        Folder of ADBench ``.npz`` files; default :func:`default_suite_dir`.
    models : sequence of str
        Keys of :data:`~dagmm.benchmark.suite_models.SUITE_MODELS`.
    seeds : int or sequence of int
        ``n`` means seeds ``0 .. n-1``; each gives one split per set, shared by all models.
    out_dir : path-like
        Created if needed; runs already in its ``results.jsonl`` are skipped.
    max_rows : int or None, default=10,000
        Sets with more rows are subsampled (stratified, fixed seed); None keeps all.
    quick : bool
        A few epochs for the deep models (smoke runs; not comparable).
    datasets : sequence of str, optional
        Only these sets (file names without ``.npz``).
    data_home : path-like, optional
        Data home for the default ``suite_dir``.
    progress : bool
        Progress bar with runs done and time left.
    """
    model_names = list(dict.fromkeys(models))
    if not model_names:
        raise ValueError("models must name at least one model")
    for name in model_names:
        check_suite_model(name)
    seed_values = _seed_list(seeds)
    if max_rows is not None and (
        isinstance(max_rows, bool) or not isinstance(max_rows, int) or max_rows < 20
    ):
        raise ValueError(f"max_rows={max_rows!r} is invalid: expected an integer >= 20 or None")
    folder = default_suite_dir(data_home) if suite_dir is None else Path(suite_dir)
    files = list_suite(folder)
    if datasets is not None:
        wanted = list(dict.fromkeys(datasets))
        by_name = {path.stem: path for path in files}
        for name in wanted:
            if name not in by_name:
                from dagmm.benchmark._util import unknown_name_message

                raise ValueError(unknown_name_message("data set", name, by_name))
        files = [by_name[name] for name in wanted]

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    results_path = out / RESULTS_FILE
    records = _open_results_for_append(results_path)
    _check_same_settings(records, {"quick": quick, "max_rows": max_rows})
    done = {(r.get("dataset"), r.get("model"), r.get("seed")) for r in records}
    pending = {
        path: [(s, m) for s in seed_values for m in model_names if (path.stem, m, s) not in done]
        for path in files
    }
    n_new = 0
    with tqdm(
        total=sum(len(runs) for runs in pending.values()),
        disable=not progress,
        unit="run",
        desc="suite",
        dynamic_ncols=True,
    ) as bar:
        for path, runs in pending.items():
            if not runs:
                continue
            data = load_suite_set(path, max_rows)
            prepared = None
            for seed, model in runs:
                if seed != prepared:
                    train, test = suite_split(data.y, seed)
                    scaler = fit_scaler("standard", data.X[train])
                    X_train = apply_scaler(scaler, data.X[train])
                    X_test = apply_scaler(scaler, data.X[test])
                    y_test = data.y[test]
                    prepared = seed
                bar.set_postfix_str(f"{data.name} / {model} / seed {seed}")
                outcome = _run_one(model, seed, quick, X_train, X_test, y_test)
                record = {
                    "dataset": data.name,
                    "model": model,
                    "seed": seed,
                    **{key: outcome[key] for key in (*METRICS, "threshold")},
                    "train_seconds": outcome["train_seconds"],
                    "score_seconds": outcome["score_seconds"],
                    "n_train": int(train.size),
                    "n_test": int(test.size),
                    "n_train_anomalies": 0,
                    "anomaly_ratio": float(y_test.mean()),
                    "contamination": 0.0,
                    "quick": quick,
                    "error": outcome["error"],
                    "config": outcome["config"],
                    "version": __version__,
                    "n_rows": int(data.X.shape[0]),
                    "n_features": int(data.X.shape[1]),
                    "subsampled_from": data.original_rows if data.subsampled else None,
                    "max_rows": max_rows,
                }
                _append_record(results_path, record)
                records.append(record)
                n_new += 1
                if record["error"]:
                    _say(f"run failed: {data.name} / {model} / seed {seed}: {record['error']}")
                bar.update(1)
    summary_path, plots = write_suite_report(out, records)
    return SuiteResult(out, results_path, summary_path, plots, records, n_new)


# --------------------------------------------------------------------------- #
# report
# --------------------------------------------------------------------------- #


def _table(records: Sequence[dict[str, Any]], metric: str) -> dict[str, dict[str, float]]:
    """``{dataset: {model: mean of metric over the seeds that succeeded}}``."""
    values: dict[str, dict[str, list[float]]] = {}
    for r in records:
        if not r.get("error") and r.get(metric) is not None:
            values.setdefault(r["dataset"], {}).setdefault(r["model"], []).append(r[metric])
    return {d: {m: float(np.mean(v)) for m, v in by.items()} for d, by in values.items()}


def _model_order(records: Sequence[dict[str, Any]]) -> list[str]:
    seen = list(dict.fromkeys(r["model"] for r in records))
    rank = {name: i for i, name in enumerate(SUITE_MODELS)}
    return sorted(seen, key=lambda name: (rank.get(name, len(rank)), seen.index(name)))


def mean_ranks(table: dict[str, dict[str, float]], models: Sequence[str]) -> dict[str, float]:
    """Mean over the sets every model finished of each model's rank (1 = highest value;
    values within :data:`RANK_TIE` share the average rank)."""
    sets = [d for d, by in table.items() if all(m in by for m in models)]
    ranks = {m: [] for m in models}
    for d in sets:
        for m, r in _ranks_of(table[d], models).items():
            ranks[m].append(r)
    return {m: float(np.mean(v)) if v else float("nan") for m, v in ranks.items()}


def _ranks_of(values: dict[str, float], models: Sequence[str]) -> dict[str, float]:
    rounded = {m: np.round(values[m] / RANK_TIE) for m in models}
    return dict(zip(models, stats.rankdata([-rounded[m] for m in models]), strict=True))


def _paired(a: list[float], b: list[float]) -> tuple[float, float, float]:
    """Mean of ``a - b`` and its 95% t interval (equal bounds for one pair)."""
    diff = np.asarray(a) - np.asarray(b)
    mean = float(diff.mean())
    if diff.size < 2 or float(diff.std(ddof=1)) == 0.0:
        return mean, mean, mean
    half = float(stats.t.ppf(0.975, diff.size - 1) * diff.std(ddof=1) / np.sqrt(diff.size))
    return mean, mean - half, mean + half


def _by_seed(records: Sequence[dict[str, Any]], metric: str) -> dict[tuple[str, str], dict]:
    out: dict[tuple[str, str], dict[int, float]] = {}
    for r in records:
        if not r.get("error") and r.get(metric) is not None:
            out.setdefault((r["dataset"], r["model"]), {})[r["seed"]] = r[metric]
    return out


def _comparison(
    records: Sequence[dict[str, Any]], reference: str, others: Sequence[str]
) -> list[str]:
    """DAGMM's wins/ties/losses against each model, paired over seeds per set."""
    per_seed = _by_seed(records, "auroc")
    sets = list(dict.fromkeys(r["dataset"] for r in records))
    lines = [
        f"## {reference} against each model (ROC-AUC)",
        "",
        f"Per set, the difference {reference} minus the other model is paired over the seeds "
        "both finished; a win (loss) is a set whose 95% t interval of that difference lies "
        "above (below) zero, anything else a tie. The last column pairs the per-set mean "
        "ROC-AUCs over the sets (mean difference and its 95% t interval).",
        "",
        "| model | wins | ties | losses | mean difference over sets [95% interval] |",
        "| --- | --- | --- | --- | --- |",
    ]
    for other in others:
        wins = ties = losses = 0
        ref_means, other_means = [], []
        for d in sets:
            a, b = per_seed.get((d, reference), {}), per_seed.get((d, other), {})
            common = sorted(set(a) & set(b))
            if not common:
                continue
            mean, low, high = _paired([a[s] for s in common], [b[s] for s in common])
            if low > 0:
                wins += 1
            elif high < 0:
                losses += 1
            else:
                ties += 1
            ref_means.append(float(np.mean([a[s] for s in common])))
            other_means.append(float(np.mean([b[s] for s in common])))
        if not ref_means:
            continue
        mean, low, high = _paired(ref_means, other_means)
        lines.append(
            f"| {other} | {wins} | {ties} | {losses} | {mean:+.3f} [{low:+.3f}, {high:+.3f}] |"
        )
    return [*lines, ""]


def _fmt(value: float | None) -> str:
    return "—" if value is None or not np.isfinite(value) else f"{value:.3f}"


def _metric_table(
    table: dict[str, dict[str, float]], models: Sequence[str], title: str
) -> list[str]:
    lines = [
        f"## {title} (mean over seeds)",
        "",
        "| set | " + " | ".join(models) + " |",
        "|" + " --- |" * (len(models) + 1),
    ]
    for d, by in table.items():
        best = max(by.values())
        cells = [
            (f"**{_fmt(by[m])}**" if abs(by[m] - best) < RANK_TIE else _fmt(by[m]))
            if m in by
            else "—"
            for m in models
        ]
        lines.append(f"| {d} | " + " | ".join(cells) + " |")
    complete = [d for d, by in table.items() if all(m in by for m in models)]
    for label, reduce in (("median", np.median), ("mean", np.mean)):
        cells = [
            _fmt(float(reduce([table[d][m] for d in complete]))) if complete else "—"
            for m in models
        ]
        lines.append(f"| **{label}** | " + " | ".join(cells) + " |")
    ranks = mean_ranks(table, models)
    lines.append("| **mean rank** | " + " | ".join(f"{ranks[m]:.2f}" for m in models) + " |")
    return [*lines, ""]


def summarize_suite(records: Sequence[dict[str, Any]]) -> str:
    """Markdown summary of suite records (the content of ``summary.md``)."""
    lines = [
        "# Suite benchmark",
        "",
        "Per seed, half of the normal rows train; the other half and every anomaly test. "
        "Features are standardised on the training rows. Every model runs with its defaults "
        "on every set (no per-set setting). Values are means over seeds; the best per set is "
        "in bold; the mean rank is over the sets every model finished (1 = best; ROC-AUCs "
        f"within {RANK_TIE:g} tie).",
        "",
    ]
    if not records:
        return "\n".join([*lines, "No results yet.", ""])
    models = _model_order(records)
    seeds = sorted({r["seed"] for r in records})
    versions = sorted({str(r.get("version")) for r in records})
    lines.append(
        f"dagmm version {', '.join(versions)}; seeds {', '.join(map(str, seeds))}; "
        f"{len({r['dataset'] for r in records})} sets."
    )
    if any(r.get("quick") for r in records):
        lines += ["", "**Quick run: a few epochs for the deep models; not comparable.**"]
    sub = {
        r["dataset"]: (r["subsampled_from"], r["n_rows"])
        for r in records
        if r.get("subsampled_from")
    }
    if sub:
        lines += [
            "",
            f"Subsampled (stratified, fixed seed {SUBSAMPLE_SEED}, the same rows for every "
            f"seed): " + "; ".join(f"{d} {a:,} -> {b:,} rows" for d, (a, b) in sub.items()) + ".",
        ]
    failed: dict[str, int] = {}
    for r in records:
        if r.get("error"):
            failed[r["model"]] = failed.get(r["model"], 0) + 1
    if failed:
        lines += [
            "",
            "Failed runs (no metrics): " + ", ".join(f"{m} {n}" for m, n in failed.items()) + ".",
        ]
    lines.append("")
    auroc = _table(records, "auroc")
    lines += _metric_table(auroc, models, "ROC-AUC")
    lines += _metric_table(_table(records, "auprc"), models, "PR-AUC (average precision)")
    reference = next((m for m in models if m == "dagmm"), None)
    if reference is not None and len(models) > 1:
        lines += _comparison(records, reference, [m for m in models if m != reference])
    seconds = _table(records, "train_seconds")
    lines += [
        "## Training seconds (mean over seeds)",
        "",
        "| set | rows | features | " + " | ".join(models) + " |",
        "|" + " --- |" * (len(models) + 3),
    ]
    shape = {r["dataset"]: (r.get("n_rows"), r.get("n_features")) for r in records}
    for d, by in seconds.items():
        rows, features = shape[d]
        cells = [f"{by[m]:.1f}" if m in by else "—" for m in models]
        lines.append(f"| {d} | {rows} | {features} | " + " | ".join(cells) + " |")
    totals = [
        sum(r.get("train_seconds") or 0.0 for r in records if r["model"] == m) / 60 for m in models
    ]
    lines.append("| **total minutes** | | | " + " | ".join(f"{t:.1f}" for t in totals) + " |")
    return "\n".join([*lines, ""])


def _rank_plot(records: Sequence[dict[str, Any]], path: Path) -> bool:
    from matplotlib.figure import Figure

    models = _model_order(records)
    table = _table(records, "auroc")
    sets = [d for d, by in table.items() if all(m in by for m in models)]
    if not sets or len(models) < 2:
        return False
    ranks = mean_ranks(table, models)
    order = sorted(models, key=lambda m: ranks[m])
    figure = Figure(figsize=(1.2 + 0.9 * len(models), 4.2), layout="constrained")
    ax = figure.subplots()
    ax.bar(range(len(order)), [ranks[m] for m in order], color="#cfd8e3", label="mean rank")
    jitter = np.random.default_rng(0)
    for d in sets:
        per = _ranks_of(table[d], models)
        ax.plot(
            np.arange(len(order)) + jitter.uniform(-0.2, 0.2, len(order)),
            [per[m] for m in order],
            "o",
            markersize=3,
            alpha=0.55,
            color="#34495e",
        )
    ax.set_xticks(range(len(order)), order, rotation=30, ha="right")
    ax.set_ylabel("rank by ROC-AUC (1 = best)")
    ax.set_ylim(len(models) + 0.5, 0.5)
    ax.set_title(f"Ranks on {len(sets)} sets (dots: one set; bars: mean rank)")
    ax.grid(axis="y", alpha=0.3)
    atomic_write(path, lambda handle: figure.savefig(handle, format="png", dpi=120))
    return True


def write_suite_report(
    out_dir: str | os.PathLike[str], records: Sequence[dict[str, Any]] | None = None
) -> tuple[Path, tuple[Path, ...]]:
    """Write ``summary.md`` and ``ranks.png`` of ``out_dir`` atomically."""
    out = Path(out_dir)
    if records is None:
        records = read_results(out / RESULTS_FILE)
    summary_path = out / SUMMARY_FILE
    atomic_write(summary_path, summarize_suite(records))
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        _say("matplotlib is not installed: no rank plot (pip install 'dagmm[plot]').")
        return summary_path, ()
    path = out / RANK_PLOT_FILE
    return summary_path, ((path,) if _rank_plot(records, path) else ())
