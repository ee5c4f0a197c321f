"""Benchmark harness reproducing the experiments of Zong et al. (ICLR 2018).

* :mod:`~dagmm.benchmark.protocol`: data set registry, the paper's split, scaling.
* :mod:`~dagmm.benchmark.presets`: the paper's networks and schedules per data set.
* :mod:`~dagmm.benchmark.models`: registry of compared models (DAGMM and baselines).
* :mod:`~dagmm.benchmark.baselines`: autoencoder baselines (PAE, PAE-GMM).
* :mod:`~dagmm.benchmark.runner`: :func:`run_benchmark`, resumable, with a report.

Examples
--------
>>> from dagmm.benchmark import run_benchmark
>>> result = run_benchmark(["thyroid"], ["dagmm", "iforest"], seeds=5,
...                        out_dir="runs/paper")  # doctest: +SKIP
"""

from dagmm.benchmark.models import MODELS, BenchmarkModel, make_model
from dagmm.benchmark.presets import PRESETS, get_preset
from dagmm.benchmark.protocol import (
    DATASETS,
    DatasetSpec,
    FittedScaler,
    Split,
    apply_scaler,
    fit_scaler,
    get_dataset,
    load_dataset,
    paper_split,
)
from dagmm.benchmark.runner import (
    PAPER_RESULTS,
    BenchmarkResult,
    read_results,
    run_benchmark,
    summarize,
    write_benchmark_report,
    write_report,
)

__all__ = [
    "DATASETS",
    "MODELS",
    "PAPER_RESULTS",
    "PRESETS",
    "BenchmarkModel",
    "BenchmarkResult",
    "DatasetSpec",
    "FittedScaler",
    "Split",
    "apply_scaler",
    "fit_scaler",
    "get_dataset",
    "get_preset",
    "load_dataset",
    "make_model",
    "paper_split",
    "read_results",
    "run_benchmark",
    "summarize",
    "write_benchmark_report",
    "write_report",
]
