"""``dagmm benchmark paper``: the paper's experiments in one command.

A thin layer over :func:`dagmm.benchmark.run_benchmark`: it parses the
comma-separated lists, runs the benchmark (resuming whatever ``--out`` already
holds) and says where the report is.
"""

from __future__ import annotations

from pathlib import Path

import typer

from dagmm.cli.app import app

benchmark_app = typer.Typer(
    name="benchmark",
    help="Reproduce published experiments.",
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


@benchmark_app.command("paper")
def paper(
    datasets: str = typer.Option(
        ",".join(PAPER_DATASETS), "--datasets", help="Comma-separated data sets."
    ),
    models: str = typer.Option(
        ",".join(DEFAULT_MODELS), "--models", help="Comma-separated models."
    ),
    seeds: int = typer.Option(
        None,
        "--seeds",
        min=1,
        show_default=False,
        help=f"Run seeds 0 to N-1 (default {DEFAULT_SEEDS}; {QUICK_SEEDS} with --quick).",
    ),
    baseline_seeds: int = typer.Option(
        None,
        "--baseline-seeds",
        min=1,
        show_default=False,
        help="Run the models other than dagmm on the first N seeds only (default: 5 at most).",
    ),
    data_home: Path = typer.Option(
        None,
        "--data-home",
        show_default=False,
        help="Folder holding the data files (default: $DAGMM_DATA_HOME, else ~/.cache/dagmm).",
    ),
    out: Path = typer.Option(
        Path("runs/paper"), "--out", help="Results folder (resumed if present)."
    ),
    quick: bool = typer.Option(
        False, "--quick", help="Smoke run: 2 epochs per model and 2 seeds; not comparable."
    ),
    download: bool = typer.Option(False, "--download", help="Download missing data sets."),
    no_progress: bool = typer.Option(False, "--no-progress", help="Hide the progress bar."),
) -> None:
    """Run the experiments of Zong et al. (ICLR 2018) and write results.jsonl, summary.md, plots."""
    from dagmm.benchmark import run_benchmark

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
        progress=not no_progress,
        baseline_seeds=baseline_seeds,
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
