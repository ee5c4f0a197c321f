"""Run the paper's benchmark: data sets x models x seeds, resumable, with a report.

:func:`run_benchmark` is the entry point (the CLI wraps it). For every data set
and seed it draws one split (:func:`~dagmm.benchmark.protocol.paper_split`) and
one scaler fitted on its training rows, then fits and scores every model on
exactly those rows. Each run appends one JSON line to ``results.jsonl`` and
flushes it, so an interrupted benchmark restarted with the same ``out_dir``
skips the runs already recorded. ``summary.md`` and the plots are rebuilt from
``results.jsonl`` at the end (:func:`write_benchmark_report`), each written atomically.

Files in ``out_dir``
--------------------
``results.jsonl``
    One flat record per run: ``dataset``, ``model``, ``seed``, ``precision``,
    ``recall``, ``f1``, ``auroc``, ``auprc``, ``threshold``,
    ``train_seconds``, ``score_seconds``, ``n_train``, ``n_test``,
    ``n_train_anomalies``, ``anomaly_ratio``, ``contamination``, ``quick``,
    ``error`` (null, or why the run failed; its metrics are then null),
    ``config`` (the model's settings) and ``version`` (of dagmm).
``summary.md``
    Mean ± standard deviation per data set (and training contamination) and
    model next to the paper's figures.
``f1.png``, ``auroc.png``
    Distributions over seeds per model and data set (needs matplotlib).
"""

from __future__ import annotations

import json
import os
import time
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from numbers import Real
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from dagmm._version import __version__
from dagmm.benchmark.models import MODELS, check_model_name, make_model
from dagmm.benchmark.protocol import (
    DataHome,
    apply_scaler,
    check_contamination,
    fit_scaler,
    get_dataset,
    load_dataset,
    paper_split,
)
from dagmm.evaluation import evaluate_energies
from dagmm.exceptions import CovarianceError, TrainingDivergedError
from dagmm.persistence import atomic_write

__all__ = [
    "DEFAULT_BASELINE_SEEDS",
    "FULL_SEED_MODELS",
    "PAPER_RESULTS",
    "BenchmarkResult",
    "read_results",
    "run_benchmark",
    "summarize",
    "write_benchmark_report",
    "write_report",
]

RESULTS_FILE = "results.jsonl"
SUMMARY_FILE = "summary.md"
METRICS = ("precision", "recall", "f1", "auroc", "auprc")
PLOTTED_METRICS = {"f1": "F1", "auroc": "AUROC"}
_PLOT_COLUMNS = 4  # panels per row of a plot

#: Most training and test rows of one split in a ``quick`` run: the large data sets
#: (KDDCUP's 247,000-row halves) are subsampled to this, so a smoke run takes about
#: a minute instead of a quarter of an hour. The output says when it happens.
QUICK_MAX_ROWS = 5_000

#: Models run on every seed; the others (baselines) on the first ``baseline_seeds``.
FULL_SEED_MODELS = frozenset({"dagmm"})
#: Default cap on baseline seeds.
DEFAULT_BASELINE_SEEDS = 5

#: Published (precision, recall, F1) from Zong et al., ICLR 2018, Table 2, keyed by
#: (data set, model). Only DAGMM's rows are filled in; add baseline rows here with
#: the registry's model names once checked against the paper.
PAPER_RESULTS: Mapping[tuple[str, str], tuple[float, float, float]] = MappingProxyType(
    {
        ("kddcup", "dagmm"): (0.9297, 0.9442, 0.9369),
        ("thyroid", "dagmm"): (0.4766, 0.4834, 0.4782),
        ("arrhythmia", "dagmm"): (0.4909, 0.5078, 0.4983),
        ("kddcup-rev", "dagmm"): (0.9370, 0.9390, 0.9380),
    }
)

#: Failures recorded as a failed run (with the error) instead of stopping the benchmark.
_RUN_FAILURES: tuple[type[BaseException], ...] = (
    TrainingDivergedError,
    CovarianceError,
    np.linalg.LinAlgError,
)


@dataclass(frozen=True)
class BenchmarkResult:
    """What :func:`run_benchmark` did and where it wrote it.

    Attributes
    ----------
    out_dir : Path
    results_path, summary_path : Path
    plot_paths : tuple of Path
        Empty when matplotlib is missing or there is nothing to plot.
    records : list of dict
        Every record in ``results.jsonl`` after the run (earlier ones included).
    n_new_runs : int
        Runs done by this call.
    skipped_datasets, skipped_models : tuple of str
        Data sets absent from the data home; models not available.
    """

    out_dir: Path
    results_path: Path
    summary_path: Path
    plot_paths: tuple[Path, ...]
    records: list[dict[str, Any]]
    n_new_runs: int
    skipped_datasets: tuple[str, ...]
    skipped_models: tuple[str, ...]


# --------------------------------------------------------------------------- #
# results.jsonl
# --------------------------------------------------------------------------- #


def _say(message: str) -> None:
    # tqdm.write keeps an active progress bar intact; it prints to stdout.
    tqdm.write(message)


def _parse_results(path: Path) -> tuple[list[dict[str, Any]], int, bool]:
    """Records, byte length of the valid prefix, and whether a damaged last line was dropped."""
    lines = path.read_bytes().splitlines(keepends=True)
    last = max((i for i, line in enumerate(lines) if line.strip()), default=-1)
    records: list[dict[str, Any]] = []
    offset = 0
    for index, line in enumerate(lines):
        if line.strip():
            try:
                record = json.loads(line)
                if not isinstance(record, dict):
                    raise ValueError("not a JSON object")
            except ValueError as error:
                if index == last:  # cut short by an interruption
                    return records, offset, True
                raise ValueError(
                    f"{path}, line {index + 1}: not a valid result record ({error}); only "
                    "the last line may be damaged by an interruption. Remove or fix that line."
                ) from None
            records.append(record)
        offset += len(line)
    return records, offset, False


def read_results(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Read ``results.jsonl``; a truncated last line is ignored.

    Parameters
    ----------
    path : path-like
        A ``results.jsonl`` file, or the benchmark's ``out_dir``.

    Returns
    -------
    list of dict
        The records in file order; empty when the file does not exist.

    Raises
    ------
    ValueError
        A line other than the last is not a JSON object.
    """
    path = Path(path)
    if path.is_dir():
        path = path / RESULTS_FILE
    if not path.exists():
        return []
    return _parse_results(path)[0]


def _open_results_for_append(path: Path) -> list[dict[str, Any]]:
    """Read existing records and cut a damaged last line so appends start on a fresh line."""
    if not path.exists():
        return []
    records, valid_end, dropped = _parse_results(path)
    if dropped:
        _say(f"{path.name}: dropped a truncated last line left by an interrupted run.")
        os.truncate(path, valid_end)
    if valid_end and not path.read_bytes()[:valid_end].endswith(b"\n"):
        with path.open("ab") as handle:  # a complete last record without its newline
            handle.write(b"\n")
    return records


def _append_record(path: Path, record: dict[str, Any]) -> None:
    line = json.dumps(record, sort_keys=False, allow_nan=False) + "\n"
    with path.open("a", encoding="utf-8") as handle:
        handle.write(line)
        handle.flush()
        os.fsync(handle.fileno())


def _check_same_settings(records: Iterable[dict[str, Any]], settings: dict[str, Any]) -> None:
    for record in records:
        for key, value in settings.items():
            if key in record and record[key] != value:
                raise ValueError(
                    f"The results file already holds runs with {key}={record[key]!r}, and this "
                    f"run uses {key}={value!r}; mixing them would corrupt the summary. Use "
                    "another out_dir."
                )


# --------------------------------------------------------------------------- #
# one run
# --------------------------------------------------------------------------- #


def _run_one(
    model_name: str,
    dataset: str,
    seed: int,
    quick: bool,
    X_train: np.ndarray,
    X_test: np.ndarray,
    y_test: np.ndarray,
    anomaly_ratio: float,
) -> dict[str, Any]:
    """Fit, score and evaluate one model; returns the metric part of its record."""
    model = make_model(model_name, dataset, seed, quick)
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
        fields.update(evaluate_energies(y_test, energy, anomaly_ratio))
    return {**fields, "config": model.config}


def quick_subsample(rows: np.ndarray, limit: int, seed: int) -> np.ndarray:
    """At most ``limit`` of ``rows`` (sorted indices), drawn at random with ``seed``.

    The draw is uniform, so the test part keeps its anomaly share up to sampling
    noise and the training part its (zero or contaminated) anomaly share.
    """
    if rows.size <= limit:
        return rows
    rng = np.random.default_rng([seed, rows.size])
    return np.sort(rng.choice(rows, size=limit, replace=False))


def _seed_list(seeds: int | Sequence[int]) -> list[int]:
    values = list(range(seeds)) if isinstance(seeds, int) else [int(s) for s in seeds]
    if not values:
        raise ValueError(f"seeds must name at least one seed; got {seeds!r}.")
    if len(set(values)) != len(values) or min(values) < 0:
        raise ValueError(f"seeds must be distinct non-negative integers; got {values}.")
    return values


def _contamination_levels(contamination: float | Sequence[float]) -> list[float]:
    """The training contamination levels to run, checked before any run starts."""
    raw = [contamination] if isinstance(contamination, Real) else list(contamination)
    for value in raw:  # a list of levels may hold anything; say so in its own words
        if isinstance(value, bool) or not isinstance(value, Real):
            raise ValueError(f"contamination must hold numbers; got {value!r}.")
    levels = [check_contamination(value) for value in raw]
    if not levels or len(set(levels)) != len(levels):
        raise ValueError(f"contamination must name distinct levels; got {contamination!r}.")
    return levels


def _quick_split(split: Any, dataset: str, seed: int, noted: set[str]) -> Any:
    """The split of a quick run: both parts subsampled, said once per data set."""
    small = split._replace(
        train=quick_subsample(split.train, QUICK_MAX_ROWS, seed),
        test=quick_subsample(split.test, QUICK_MAX_ROWS, seed + 1),
    )
    if (small.train.size, small.test.size) != (split.train.size, split.test.size):
        if dataset not in noted:
            noted.add(dataset)
            _say(
                f"quick run: {dataset} subsampled to {small.train.size:,} of "
                f"{split.train.size:,} training rows and {small.test.size:,} of "
                f"{split.test.size:,} test rows (drop --quick for the full protocol)"
            )
    return small


def _available_models(models: list[str], dataset: str, seed: int, quick: bool) -> list[str]:
    """Models whose factory works; an unavailable one is reported once and left out."""
    available = []
    for name in models:
        try:
            make_model(name, dataset, seed, quick)
        except (NotImplementedError, ImportError) as error:
            _say(f"skipping model {name!r}: {error}")
            continue
        available.append(name)
    return available


def run_benchmark(
    datasets: Sequence[str],
    models: Sequence[str],
    seeds: int | Sequence[int],
    data_home: DataHome = None,
    out_dir: str | os.PathLike[str] = "runs/benchmark",
    quick: bool = False,
    progress: bool = True,
    *,
    baseline_seeds: int | None = None,
    contamination: float | Sequence[float] = 0.0,
    download: bool = False,
) -> BenchmarkResult:
    """Run every model on every data set and seed with the paper's protocol.

    Parameters
    ----------
    datasets : sequence of str
        Keys of :data:`dagmm.benchmark.protocol.DATASETS`, e.g. ``["kddcup", "thyroid"]``.
        A data set absent from ``data_home`` is skipped with one printed line.
    models : sequence of str
        Keys of :data:`dagmm.benchmark.models.MODELS`. A model whose factory
        raises ``NotImplementedError`` or ``ImportError`` is skipped with one
        printed line.
    seeds : int or sequence of int
        An int ``n`` means seeds ``0 .. n-1``. Each seed gives one split per data
        set, shared by all models, and seeds the models.
    data_home : path-like, optional
        Where the data sets are stored (the loaders' default when None).
    out_dir : path-like, default="runs/benchmark"
        Created if needed. Existing results there are kept and their runs skipped.
    quick : bool, default=False
        Smoke run, not comparable with the paper: few training epochs, one
        training run per model (no restarts), and the training and test parts
        of a larger data set subsampled to :data:`QUICK_MAX_ROWS` rows each
        (printed once per data set).
    progress : bool, default=True
        Show a progress bar of runs done and time left.
    baseline_seeds : int, optional
        Models other than :data:`FULL_SEED_MODELS` run on the first
        ``baseline_seeds`` seeds only; default ``min(len(seeds), 5)``.
    contamination : float in [0, 0.05] or sequence of them, default=0.0
        Fraction of anomalies left in the training rows (the paper's Sec. 4.5
        and Table 3). Each level is a separate experiment with its own
        splits (the same seed keeps the same test half); the summary has one
        table per data set and level, and one results file holds them all.
    download : bool, default=False
        Let the loaders download missing data sets.

    Returns
    -------
    BenchmarkResult

    Examples
    --------
    >>> result = run_benchmark(["thyroid"], ["iforest"], seeds=1, out_dir="runs/x")  # doctest: +SKIP
    >>> print(result.summary_path.read_text())  # doctest: +SKIP
    """
    dataset_names = list(dict.fromkeys(datasets))
    model_names = list(dict.fromkeys(models))
    if not dataset_names or not model_names:
        raise ValueError("datasets and models must each name at least one entry.")
    specs = {name: get_dataset(name) for name in dataset_names}
    for name in model_names:
        check_model_name(name)
    seed_values = _seed_list(seeds)
    levels = _contamination_levels(contamination)
    n_baseline = (
        min(len(seed_values), DEFAULT_BASELINE_SEEDS) if baseline_seeds is None else baseline_seeds
    )
    if not (isinstance(n_baseline, int) and n_baseline >= 1):
        raise ValueError(f"baseline_seeds must be a positive integer; got {baseline_seeds!r}.")

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    results_path = out / RESULTS_FILE
    records = _open_results_for_append(results_path)
    _check_same_settings(records, {"quick": quick})
    done = {
        (r.get("dataset"), r.get("contamination", 0.0), r.get("model"), r.get("seed"))
        for r in records
    }

    available = _available_models(model_names, dataset_names[0], seed_values[0], quick)
    skipped_models = tuple(name for name in model_names if name not in available)

    def seeds_of(model: str) -> list[int]:
        return seed_values if model in FULL_SEED_MODELS else seed_values[:n_baseline]

    pending = {
        dataset: [
            (level, seed, model)
            for level in levels
            for seed in seed_values
            for model in available
            if seed in seeds_of(model) and (dataset, level, model, seed) not in done
        ]
        for dataset in dataset_names
    }
    skipped_datasets: list[str] = []
    quick_noted: set[str] = set()  # data sets whose subsampling was announced
    n_new = 0
    with tqdm(
        total=sum(len(runs) for runs in pending.values()),
        disable=not progress,
        unit="run",
        desc="benchmark",
        dynamic_ncols=True,
    ) as bar:
        for dataset, runs in pending.items():
            if not runs:
                continue
            try:
                X, y = load_dataset(dataset, data_home=data_home, download=download)
            except FileNotFoundError as error:
                # Loaders explain where to put the file over several lines; keep the first.
                reason = (str(error).strip().splitlines() or [type(error).__name__])[0]
                _say(f"skipping dataset {dataset!r}: {reason}")
                skipped_datasets.append(dataset)
                bar.total -= len(runs)
                bar.refresh()
                continue
            spec = specs[dataset]
            prepared: tuple[float, int] | None = None
            impossible: set[float] = set()  # levels needing more anomalies than the data has
            for level, seed, model in runs:
                if level in impossible:
                    bar.total -= 1
                    continue
                if (level, seed) != prepared:  # runs are grouped: one split per level and seed
                    try:
                        split = paper_split(X, y, seed, contamination=level)
                    except ValueError as error:
                        _say(f"skipping dataset {dataset!r} at contamination {level:g}: {error}")
                        impossible.add(level)
                        bar.total -= 1
                        bar.refresh()
                        continue
                    if quick:
                        split = _quick_split(split, dataset, seed, quick_noted)
                    scaler = fit_scaler(spec.scaler, X[split.train], clip=spec.clip)
                    X_train = apply_scaler(scaler, X[split.train])
                    X_test = apply_scaler(scaler, X[split.test])
                    y_test = y[split.test]
                    prepared = (level, seed)
                where = f"{dataset} / {model} / seed {seed}" + (
                    f" / contamination {level:g}" if level else ""
                )
                bar.set_postfix_str(where)
                outcome = _run_one(
                    model, dataset, seed, quick, X_train, X_test, y_test, spec.anomaly_ratio
                )
                record = {
                    "dataset": dataset,
                    "model": model,
                    "seed": seed,
                    **{key: outcome[key] for key in (*METRICS, "threshold")},
                    "train_seconds": outcome["train_seconds"],
                    "score_seconds": outcome["score_seconds"],
                    "n_train": int(split.train.size),
                    "n_test": int(split.test.size),
                    "n_train_anomalies": int(y[split.train].sum()),
                    "anomaly_ratio": spec.anomaly_ratio,
                    "contamination": level,
                    "quick": quick,
                    "error": outcome["error"],
                    "config": outcome["config"],
                    "version": __version__,
                }
                _append_record(results_path, record)
                records.append(record)
                n_new += 1
                if record["error"]:
                    _say(f"run failed: {where}: {record['error']}")
                bar.update(1)

    summary_path, plot_paths = write_benchmark_report(out, records)
    return BenchmarkResult(
        out_dir=out,
        results_path=results_path,
        summary_path=summary_path,
        plot_paths=plot_paths,
        records=records,
        n_new_runs=n_new,
        skipped_datasets=tuple(skipped_datasets),
        skipped_models=skipped_models,
    )


# --------------------------------------------------------------------------- #
# report
# --------------------------------------------------------------------------- #


def _grouped(
    records: Iterable[dict[str, Any]],
) -> dict[tuple[str, float], dict[str, list[dict[str, Any]]]]:
    """``{(dataset, contamination): {model: [records]}}``.

    Data sets in order of first appearance, each with its contamination levels
    ascending (clean training first); models in the order of
    :data:`~dagmm.benchmark.models.MODELS` (DAGMM first, however a resumed run
    interleaved them), unknown names last.
    """
    groups: dict[tuple[str, float], dict[str, list[dict[str, Any]]]] = {}
    for record in records:
        key = (record["dataset"], float(record.get("contamination") or 0.0))
        groups.setdefault(key, {}).setdefault(record["model"], []).append(record)
    first_seen = {dataset: rank for rank, (dataset, _) in reversed(list(enumerate(groups)))}
    ordered = sorted(groups.items(), key=lambda item: (first_seen[item[0][0]], item[0][1]))
    return {key: _in_model_order(by_model) for key, by_model in ordered}


def _group_label(dataset: str, contamination: float) -> str:
    """``"kddcup"``, or ``"kddcup, 2% anomalies in training"``."""
    return (
        dataset
        if not contamination
        else f"{dataset}, {contamination * 100:g}% anomalies in training"
    )


def _in_model_order(by_model: dict[str, Any]) -> dict[str, Any]:
    """``by_model`` with its keys in the order of ``MODELS``, unknown names last."""
    order = {name: rank for rank, name in enumerate(MODELS)}
    return dict(sorted(by_model.items(), key=lambda item: order.get(item[0], len(order))))


def _mean_std(values: list[float]) -> str:
    if not values:
        return "—"
    if len(values) == 1:
        return f"{values[0]:.4f}"
    return f"{np.mean(values):.4f} ± {np.std(values, ddof=1):.4f}"


def summarize(records: Sequence[dict[str, Any]]) -> str:
    """Markdown summary of benchmark records (the content of ``summary.md``).

    One table per data set and training contamination level; one row per
    model with the number of seeds, mean ± sample standard deviation of each
    metric, mean training time, and the paper's precision/recall/F1 where
    :data:`PAPER_RESULTS` has them (clean training only: Table 2).
    """
    lines = [
        "# DAGMM benchmark",
        "",
        "Protocol of Zong et al. (ICLR 2018): per seed, a random half of the rows trains "
        "(normal rows only, unless contaminated) and the other half tests; the top "
        "anomaly-ratio fraction of test energies is flagged. Values are mean ± sample "
        "standard deviation over seeds; AUROC and AUPRC need no threshold. Paper columns: "
        "Table 2 of the paper.",
        "",
    ]
    if not records:
        return "\n".join([*lines, "No results yet.", ""])
    versions = sorted({str(r.get("version")) for r in records})
    contaminations = sorted({r.get("contamination", 0.0) for r in records})
    lines.append(
        f"dagmm version: {', '.join(versions)}; training contamination: "
        f"{', '.join(str(c) for c in contaminations)}."
    )
    if any(r.get("quick") for r in records):
        lines += [
            "",
            "**Quick run: a few epochs, one training run per model, training and test parts "
            f"subsampled to at most {QUICK_MAX_ROWS:,} rows each (see n_train, n_test in "
            "results.jsonl); not comparable with the paper.**",
        ]
    header = (
        "| model | seeds | precision | recall | F1 | AUROC | AUPRC | train s "
        "| paper precision | paper recall | paper F1 |"
    )
    for (dataset, level), by_model in _grouped(records).items():
        ratio = next(iter(by_model.values()))[0].get("anomaly_ratio")
        title = f"## {_group_label(dataset, level)} (anomaly ratio {ratio})"
        lines += ["", title, "", header, "|" + " --- |" * 11]
        for model, runs in by_model.items():
            ok = [r for r in runs if not r.get("error")]
            n_failed = len(runs) - len(ok)
            seeds = f"{len(ok)}" + (f" ({n_failed} failed)" if n_failed else "")
            cells = [_mean_std([r[m] for r in ok]) for m in METRICS]
            train = [r["train_seconds"] for r in ok if r.get("train_seconds") is not None]
            paper = None if level else PAPER_RESULTS.get((dataset, model))
            paper_cells = [f"{v:.4f}" for v in paper] if paper else ["—"] * 3
            train_cell = f"{np.mean(train):.1f}" if train else "—"
            lines.append(
                f"| {model} | {seeds} | " + " | ".join([*cells, train_cell, *paper_cells]) + " |"
            )
    return "\n".join([*lines, *_time_table(records), ""])


def _time_table(records: Sequence[dict[str, Any]]) -> list[str]:
    """Total training + scoring time per model over all data sets and seeds."""
    totals: dict[str, list[float]] = {}
    for record in records:
        seconds = sum(record.get(key) or 0.0 for key in ("train_seconds", "score_seconds"))
        totals.setdefault(record["model"], []).append(seconds)
    lines = [
        "",
        "## Compute time",
        "",
        "Training plus scoring, summed over every data set and seed (data loading, "
        "splitting and scaling excluded).",
        "",
        "| model | runs | minutes |",
        "| --- | --- | --- |",
    ]
    for model, values in _in_model_order(totals).items():
        lines.append(f"| {model} | {len(values)} | {sum(values) / 60:.1f} |")
    return lines


def _plot(records: Sequence[dict[str, Any]], metric: str, path: Path) -> bool:
    """Box plot of ``metric`` over seeds, one panel per data set and contamination level
    (four to a row); False if nothing to plot."""
    from matplotlib.figure import Figure  # object API: no pyplot, no global backend change

    groups = {
        _group_label(dataset, level): {
            model: [r[metric] for r in runs if not r.get("error") and r.get(metric) is not None]
            for model, runs in by_model.items()
        }
        for (dataset, level), by_model in _grouped(records).items()
    }
    groups = {d: {m: v for m, v in g.items() if v} for d, g in groups.items()}
    groups = {d: g for d, g in groups.items() if g}
    if not groups:
        return False
    n_cols = min(len(groups), _PLOT_COLUMNS)
    n_rows = -(-len(groups) // n_cols)
    figure = Figure(figsize=(4.0 * n_cols, 3.6 * n_rows), layout="constrained")
    all_axes = figure.subplots(n_rows, n_cols, squeeze=False).ravel()
    for unused in all_axes[len(groups) :]:
        unused.set_visible(False)
    axes = all_axes[: len(groups)]
    jitter = np.random.default_rng(0)  # fixed: the same records give the same picture
    for ax, (label, by_model) in zip(axes, groups.items(), strict=True):
        names = list(by_model)
        ax.boxplot([by_model[n] for n in names], showfliers=False)
        for position, name in enumerate(names, start=1):
            values = by_model[name]
            ax.plot(
                position + jitter.uniform(-0.12, 0.12, len(values)),
                values,
                "o",
                markersize=3,
                alpha=0.6,
            )
        ax.set_xticks(range(1, len(names) + 1), names, rotation=30, ha="right")
        ax.set_title(label.replace(", ", "\n", 1))
        ax.set_ylabel(PLOTTED_METRICS[metric])
        ax.grid(axis="y", alpha=0.3)
    atomic_write(path, lambda handle: figure.savefig(handle, format="png", dpi=120))
    return True


def write_benchmark_report(
    out_dir: str | os.PathLike[str], records: Sequence[dict[str, Any]] | None = None
) -> tuple[Path, tuple[Path, ...]]:
    """Write ``summary.md`` and the plots of ``out_dir`` atomically.

    Parameters
    ----------
    out_dir : path-like
        The benchmark directory.
    records : sequence of dict, optional
        Defaults to the records of ``out_dir/results.jsonl``.

    Returns
    -------
    summary_path : Path
    plot_paths : tuple of Path
        Empty when matplotlib is not installed (a line says so) or nothing succeeded.
    """
    out = Path(out_dir)
    if records is None:
        records = read_results(out / RESULTS_FILE)
    summary_path = out / SUMMARY_FILE
    atomic_write(summary_path, summarize(records))
    try:
        import matplotlib  # noqa: F401  (optional dependency: the "plot" extra)
    except ImportError:
        _say("matplotlib is not installed: no plots (pip install 'dagmm[plot]').")
        return summary_path, ()
    plots = []
    for metric in PLOTTED_METRICS:
        path = out / f"{metric}.png"
        if _plot(records, metric, path):
            plots.append(path)
    return summary_path, tuple(plots)


def write_report(
    out_dir: str | os.PathLike[str], records: Sequence[dict[str, Any]] | None = None
) -> tuple[Path, tuple[Path, ...]]:
    """Deprecated name of :func:`write_benchmark_report` (removed in a later release)."""
    warnings.warn(
        "dagmm.benchmark.write_report is deprecated; use write_benchmark_report (the file "
        "workflow's report writer is dagmm.workflow.write_evaluation_report)",
        DeprecationWarning,
        stacklevel=2,
    )
    return write_benchmark_report(out_dir, records)
