"""``dagmm benchmark paper``: the paper's experiments in one command.

A thin layer over :func:`dagmm.benchmark.run_benchmark`: it parses the
comma-separated lists, runs the benchmark (resuming whatever ``--out`` already
holds) and says where the report is.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dagmm.cli import _shared as opt
from dagmm.cli.app import Command, app

benchmark_app = typer.Typer(
    name="benchmark",
    help="Reproduce published experiments (paper) and compare detectors on a folder of public sets (suite).",
    no_args_is_help=True,
)
app.add_typer(benchmark_app)

#: The paper's data sets (Table 2).
PAPER_DATASETS = ("kddcup", "kddcup-rev", "thyroid", "arrhythmia")
#: DAGMM and the baselines that run by default.
DEFAULT_MODELS = ("dagmm", "ocsvm", "iforest", "gmm", "pae-gmm")
DEFAULT_SEEDS = 20
#: Seeds of a ``--quick`` run when ``--seeds`` is not given.
QUICK_SEEDS = 2


def split_names(value: str, option: str) -> list[str]:
    """``"a, b,,c"`` -> ``["a", "b", "c"]``; an empty list is a user error."""
    names = [name.strip() for name in value.split(",") if name.strip()]
    if not names:
        raise ValueError(f"{option} needs at least one name; got {value!r}.")
    return names


def split_fractions(value: str, option: str) -> list[float]:
    """``"0, 0.01,0.05"`` -> ``[0.0, 0.01, 0.05]``; anything else is a user error."""
    texts = [text.strip() for text in value.split(",") if text.strip()]
    if not texts:
        raise ValueError(f"{option} needs at least one fraction such as 0.01; got {value!r}.")
    fractions = []
    for text in texts:
        try:
            fractions.append(float(text))
        except ValueError:
            raise ValueError(
                f"{option} takes comma-separated fractions such as 0.01,0.05; got {text!r} "
                f"in {value!r}."
            ) from None
    return fractions


@benchmark_app.command("paper", cls=Command)
def paper(
    datasets: Annotated[
        str, typer.Option("--datasets", help="Comma-separated data sets.")
    ] = ",".join(PAPER_DATASETS),
    models: Annotated[str, typer.Option("--models", help="Comma-separated models.")] = ",".join(
        DEFAULT_MODELS
    ),
    seeds: Annotated[
        int | None,
        typer.Option(
            "--seeds",
            min=1,
            show_default=False,
            help=f"Run seeds 0 to N-1 [default: {DEFAULT_SEEDS}; {QUICK_SEEDS} with --quick]",
        ),
    ] = None,
    baseline_seeds: Annotated[
        int | None,
        typer.Option(
            "--baseline-seeds",
            min=1,
            show_default=False,
            help="Run the models other than dagmm on the first N seeds only [default: 5 at most]",
        ),
    ] = None,
    data_home: Annotated[
        Path | None,
        typer.Option(
            "--data-home",
            show_default=False,
            help="Folder holding the data files [default: $DAGMM_DATA_HOME, else ~/.cache/dagmm]",
        ),
    ] = None,
    out: Annotated[Path, typer.Option("--out", help="Results folder (resumed if present).")] = Path(
        "runs/paper"
    ),
    contamination: Annotated[
        str,
        typer.Option(
            "--contamination",
            help="Fractions of anomalies left in the training rows, comma-separated, each in "
            "[0, 0.05]: the paper's Table 3 runs 0.01,0.02,0.03,0.04,0.05 on kddcup. One "
            "table per level.",
        ),
    ] = "0",
    quick: Annotated[
        bool,
        typer.Option(
            "--quick",
            help="Smoke run of about a minute: 2 epochs and one training run per model, 2 "
            "seeds, large data sets subsampled to 5,000 training and 5,000 test rows; not "
            "comparable with the paper.",
        ),
    ] = False,
    download: Annotated[
        bool, typer.Option("--download", help="Download missing data sets.")
    ] = False,
    quiet: bool = opt.QUIET,
) -> None:
    """Run the experiments of Zong et al. (ICLR 2018) and write results.jsonl, summary.md, plots."""
    from dagmm.benchmark import run_benchmark
    from dagmm.benchmark.runner import RESULTS_FILE
    from dagmm.workflow.destinations import check_output_directory

    check_output_directory(out, RESULTS_FILE)  # a results folder is resumed
    dataset_names = split_names(datasets, "--datasets")
    model_names = split_names(models, "--models")
    n_seeds = seeds if seeds is not None else (QUICK_SEEDS if quick else DEFAULT_SEEDS)
    result = run_benchmark(
        dataset_names,
        model_names,
        n_seeds,
        data_home=data_home,
        out_dir=out,
        quick=quick,
        progress=not quiet,
        baseline_seeds=baseline_seeds,
        contamination=split_fractions(contamination, "--contamination"),
        download=download,
    )
    if not result.records:
        raise FileNotFoundError(
            f"None of the data sets {', '.join(dataset_names)} was found, so nothing ran: put "
            "the files in the data home (--data-home or $DAGMM_DATA_HOME) or pass --download."
        )
    files = [result.results_path, result.summary_path, *result.plot_paths]
    typer.echo(
        f"{result.n_new_runs} new run(s), {len(result.records)} in all; wrote "
        + ", ".join(str(path) for path in files)
    )


#: Models of ``dagmm benchmark suite`` when --models is not given.
SUITE_DEFAULT_MODELS = ("dagmm", "vae", "iforest", "knn", "gmm", "ocsvm", "pca")
SUITE_DEFAULT_SEEDS = 5


@benchmark_app.command("suite")
def suite(
    suite_dir: Annotated[
        Path | None,
        typer.Option(
            "--suite",
            show_default=False,
            help="Folder of ADBench .npz files (arrays X and y, 1 = anomaly); default: the "
            "data home's 'adbench' folder ($DAGMM_DATA_HOME/adbench, or --data-home).",
        ),
    ] = None,
    models: Annotated[str, typer.Option("--models", help="Comma-separated models.")] = ",".join(
        SUITE_DEFAULT_MODELS
    ),
    seeds: Annotated[
        int | None,
        typer.Option(
            "--seeds",
            min=1,
            show_default=False,
            help=f"Run seeds 0 to N-1 (default {SUITE_DEFAULT_SEEDS}; {QUICK_SEEDS} with --quick).",
        ),
    ] = None,
    datasets: Annotated[
        str | None,
        typer.Option(
            "--datasets", show_default=False, help="Only these sets (file names without .npz)."
        ),
    ] = None,
    max_rows: Annotated[
        int,
        typer.Option(
            "--max-rows",
            min=20,
            help="Subsample larger sets to this many rows (stratified, fixed seed).",
        ),
    ] = 10_000,
    data_home: Annotated[
        Path | None,
        typer.Option(
            "--data-home",
            show_default=False,
            help="Data home holding the 'adbench' folder (default: $DAGMM_DATA_HOME, else "
            "~/.cache/dagmm).",
        ),
    ] = None,
    out: Annotated[Path, typer.Option("--out", help="Results folder (resumed if present).")] = Path(
        "runs/suite"
    ),
    quick: Annotated[
        bool,
        typer.Option("--quick", help="Smoke run: 2 epochs per deep model and 2 seeds."),
    ] = False,
    no_progress: Annotated[
        bool, typer.Option("--no-progress", help="Hide the progress bar.")
    ] = False,
) -> None:
    """Run every model on every .npz set of a folder (ADBench format); write results.jsonl,
    summary.md (ROC-AUC, PR-AUC, ranks, wins) and ranks.png."""
    from dagmm.benchmark.suite import run_suite

    n_seeds = seeds if seeds is not None else (QUICK_SEEDS if quick else SUITE_DEFAULT_SEEDS)
    result = run_suite(
        suite_dir,
        split_names(models, "--models"),
        n_seeds,
        out,
        max_rows=max_rows,
        quick=quick,
        datasets=split_names(datasets, "--datasets") if datasets is not None else None,
        data_home=data_home,
        progress=not no_progress,
    )
    files = [result.results_path, result.summary_path, *result.plot_paths]
    typer.echo(
        f"{result.n_new_runs} new run(s), {len(result.records)} in all; wrote "
        + ", ".join(str(path) for path in files)
    )
