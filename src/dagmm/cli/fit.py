"""``dagmm fit``: train a detector on a CSV or Parquet file and save it."""

from __future__ import annotations

from pathlib import Path

import typer

from dagmm.cli import _shared as opt
from dagmm.cli.app import Command, app

_DATA = typer.Argument(
    ...,
    metavar="DATA",
    help="Training table: .csv, .tsv, .parquet (.gz allowed), or a folder of such files.",
)
_OUT = typer.Option(..., "--out", "-o", help="Model directory to write.")


@app.command(cls=Command)
def fit(
    data: Path = _DATA,
    out: Path = _OUT,
    label_col: str | None = opt.LABEL_COL,
    normal_label: str | None = opt.NORMAL_LABEL,
    drop_cols: str | None = opt.DROP_COLS,
    id_cols: str | None = opt.ID_COLS,
    categorical_cols: str | None = opt.CATEGORICAL_COLS,
    datetime_cols: str | None = opt.DATETIME_COLS,
    impute: bool | None = opt.IMPUTE,
    max_categories: int | None = opt.MAX_CATEGORIES,
    config: Path | None = opt.CONFIG,
    epochs: int | None = opt.EPOCHS,
    batch_size: int | None = opt.BATCH_SIZE,
    learning_rate: float | None = opt.LEARNING_RATE,
    lambda1: float | None = opt.LAMBDA1,
    lambda2: float | None = opt.LAMBDA2,
    reconstruction_features: str | None = opt.RECONSTRUCTION_FEATURES,
    dropout: float | None = opt.DROPOUT,
    restarts: int | None = opt.RESTARTS,
    comp_hiddens: str | None = opt.COMP_HIDDENS,
    est_hiddens: str | None = opt.EST_HIDDENS,
    contamination: float | None = opt.CONTAMINATION,
    threshold_fpr: float | None = opt.THRESHOLD_FPR,
    threshold_f1: bool | None = opt.THRESHOLD_F1,
    validation_fraction: float | None = opt.VALIDATION_FRACTION,
    device: str | None = opt.DEVICE,
    seed: int | None = opt.SEED,
    threads: int | None = opt.THREADS,
    quiet: bool = opt.QUIET,
) -> None:
    """Train DAGMM on the (normal) rows of a table; save preprocessing, model and threshold."""
    import os

    from dagmm.workflow import fit_file
    from dagmm.workflow.destinations import check_model_destination

    values = dict(locals())
    check_model_destination(out, inputs=[data])
    options = opt.fit_options(values)
    quiet = quiet or os.environ.get("RANK", "0") != "0"  # under torchrun, rank 0 speaks
    opt.info(f"reading '{data}'", quiet)
    opt.info(opt.LOSS_TERMS, quiet)
    with opt.warnings_as_lines():
        report = fit_file(data, out, options, progress=not quiet)
    if os.environ.get("RANK", "0") == "0":
        typer.echo(report.summary())
