"""``dagmm tune``: Bayesian hyper-parameter search (Optuna TPE with pruning) on labelled data."""

from __future__ import annotations

from pathlib import Path

import typer

from dagmm.cli import _shared as opt
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
_EPOCHS = typer.Option(
    None,
    "--epochs",
    help="Most epochs of a trial (trials search a quarter of it to all of it). [default: 100]",
)
_THRESHOLD_F1 = typer.Option(
    None, "--threshold-f1/--no-threshold-f1", help="Threshold: best F1 on the validation rows."
)


@app.command(cls=Command)
def tune(
    data: Path = _DATA,
    out: Path = _OUT,
    label_col: str | None = opt.LABEL_COL,
    trials: int = _TRIALS,
    metric: str = _METRIC,
    train_fraction: float = _TRAIN_FRACTION,
    timeout: float | None = _TIMEOUT,
    normal_label: str | None = opt.NORMAL_LABEL,
    drop_cols: str | None = opt.DROP_COLS,
    id_cols: str | None = opt.ID_COLS,
    categorical_cols: str | None = opt.CATEGORICAL_COLS,
    datetime_cols: str | None = opt.DATETIME_COLS,
    impute: bool | None = opt.IMPUTE,
    max_categories: int | None = opt.MAX_CATEGORIES,
    config: Path | None = opt.CONFIG,
    epochs: int | None = _EPOCHS,
    dropout: float | None = opt.DROPOUT,
    restarts: int | None = opt.RESTARTS,
    reconstruction_features: str | None = opt.RECONSTRUCTION_FEATURES,
    contamination: float | None = opt.CONTAMINATION,
    threshold_fpr: float | None = opt.THRESHOLD_FPR,
    threshold_f1: bool | None = _THRESHOLD_F1,
    device: str | None = opt.DEVICE,
    seed: int | None = opt.SEED,
    threads: int | None = opt.THREADS,
    quiet: bool = opt.QUIET,
) -> None:
    """Search learning rate, lambdas, widths, latent size, components, epochs and batch size."""
    from dagmm.workflow import tune_file
    from dagmm.workflow.destinations import check_output_directory
    from dagmm.workflow.tuning import SUMMARY_FILE

    values = dict(locals())
    check_output_directory(out, SUMMARY_FILE, inputs=[data])
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
