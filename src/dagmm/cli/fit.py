"""``dagmm fit``: train a detector on a CSV or Parquet file and save it."""

from __future__ import annotations

from pathlib import Path

import typer

from dagmm.cli import _shared as opt
from dagmm.cli._flags import option
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
    detector: str | None = option("detector"),
    label_col: str | None = opt.LABEL_COL,
    normal_label: str | None = opt.NORMAL_LABEL,
    drop_cols: str | None = option("drop_cols"),
    id_cols: str | None = option("id_cols"),
    categorical_cols: str | None = option("categorical_cols"),
    datetime_cols: str | None = option("datetime_cols"),
    impute: bool | None = option("impute"),
    max_categories: int | None = option("max_categories"),
    config: Path | None = opt.CONFIG,
    epoch_size: int | None = option("epoch_size"),
    minibatch_size: int | None = option("minibatch_size"),
    learning_rate: float | None = option("learning_rate"),
    lambda1: float | None = option("lambda1"),
    lambda2: float | None = option("lambda2"),
    reconstruction_features: str | None = option("reconstruction_features"),
    est_dropout_ratio: float | None = option("est_dropout_ratio"),
    n_restarts: int | None = option("n_restarts"),
    comp_hiddens: str | None = option("comp_hiddens"),
    est_hiddens: str | None = option("est_hiddens"),
    encoder_hiddens: str | None = option("encoder_hiddens"),
    latent_dim: int | None = option("latent_dim"),
    contamination: float | None = option("contamination"),
    threshold_fpr: float | None = option("threshold_fpr"),
    threshold_f1: bool | None = option("threshold_f1"),
    validation_fraction: float | None = option("validation_fraction"),
    device: str | None = opt.DEVICE,
    random_state: int | None = option("random_state"),
    n_jobs: int | None = opt.THREADS,
    quiet: bool = opt.QUIET,
) -> None:
    """Train a detector (DAGMM by default) on the (normal) rows of a table; save it with its preprocessing and threshold."""
    import os

    from dagmm.workflow import fit_file
    from dagmm.workflow.destinations import check_model_destination

    values = dict(locals())
    check_model_destination(out, inputs=[data])
    with opt.warnings_as_lines():  # a deprecated option name in a config file says so
        options = opt.fit_options(values)
    quiet = quiet or os.environ.get("RANK", "0") != "0"  # under torchrun, rank 0 speaks
    opt.info(f"reading '{data}'", quiet)
    if options.detector == "dagmm":
        opt.info(opt.LOSS_TERMS, quiet)
    with opt.warnings_as_lines():
        report = fit_file(data, out, options, progress=not quiet)
    if os.environ.get("RANK", "0") == "0":
        typer.echo(report.summary())
