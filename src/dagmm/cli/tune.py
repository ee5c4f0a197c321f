"""``dagmm tune``: Bayesian hyper-parameter search (Optuna TPE with pruning) on labelled data."""

from __future__ import annotations

from pathlib import Path

import typer

from dagmm.cli import _shared as opt
from dagmm.cli._flags import option
from dagmm.cli.app import Command, app

_DATA = typer.Argument(..., metavar="DATA", help="Labelled table: .csv, .tsv, .parquet (.gz allowed).")
_OUT = typer.Option(..., "--out", "-o", help="Directory for the best model, trials and test rows.")
_TRIALS = typer.Option(50, "--trials", min=1, help="Number of trials.")
_METRIC = typer.Option(
    "auprc", "--metric", help="Validation metric to maximise: auprc, f1 or auroc."
)
_TRAIN_FRACTION = typer.Option(
    0.8,
    "--train-fraction",
    help="Share of normal rows to train on; the rest and the anomalies are halved into validation and test.",
)
_TIMEOUT = typer.Option(None, "--timeout", help="Stop starting trials after this many seconds.")
@app.command(cls=Command)
def tune(
    data: Path = _DATA,
    out: Path = _OUT,
    label_col: str | None = opt.LABEL_COL,
    trials: int = _TRIALS,
    metric: str = _METRIC,
    train_fraction: float = _TRAIN_FRACTION,
    timeout: float | None = _TIMEOUT,
    detector: str | None = option("detector"),
    normal_label: str | None = opt.NORMAL_LABEL,
    drop_cols: str | None = option("drop_cols"),
    id_cols: str | None = option("id_cols"),
    categorical_cols: str | None = option("categorical_cols"),
    datetime_cols: str | None = option("datetime_cols"),
    impute: bool | None = option("impute"),
    max_categories: int | None = option("max_categories"),
    config: Path | None = opt.CONFIG,
    epoch_size: int | None = option(
        "epoch_size", " Trials search a quarter of it to all of it."
    ),
    est_dropout_ratio: float | None = option("est_dropout_ratio"),
    n_restarts: int | None = option("n_restarts"),
    reconstruction_features: str | None = option("reconstruction_features"),
    contamination: float | None = option("contamination"),
    threshold_fpr: float | None = option("threshold_fpr"),
    threshold_f1: bool | None = option("threshold_f1"),
    device: str | None = opt.DEVICE,
    random_state: int | None = option("random_state"),
    n_jobs: int | None = opt.THREADS,
    quiet: bool = opt.QUIET,
) -> None:
    """Search learning rate, widths, latent size, epochs and batch size (DAGMM: also lambdas and components)."""
    from dagmm.workflow import tune_file
    from dagmm.workflow.destinations import check_output_directory
    from dagmm.workflow.tuning import SUMMARY_FILE

    values = dict(locals())
    check_output_directory(out, SUMMARY_FILE, inputs=[data])
    with opt.warnings_as_lines():  # a deprecated option name in a config file says so
        options = opt.fit_options(values)
    if not options.label_col:
        raise ValueError("tuning needs labels: give the label column with --label-col")
    opt.info(f"reading '{data}'", quiet)
    with opt.warnings_as_lines():
        report = tune_file(
            data,
            out,
            options,
            trials=trials,
            metric=metric,
            train_fraction=train_fraction,
            timeout=timeout,
            progress=not quiet,
        )
    typer.echo(report.summary())
