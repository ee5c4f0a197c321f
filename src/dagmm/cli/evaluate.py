"""``dagmm evaluate``: metrics, plots and report.html of a saved model on labelled rows."""

from __future__ import annotations

from pathlib import Path

import typer

from dagmm.cli import _shared as opt
from dagmm.cli.app import Command, app
from dagmm.workflow.scoring import DEFAULT_CHUNK_ROWS

_DATA = typer.Argument(..., metavar="DATA", help="Labelled rows: .csv, .tsv, .parquet (.gz allowed).")
_MODEL = typer.Option(..., "--model", "-m", help="Model directory from `dagmm fit`.")
_OUT = typer.Option(..., "--out", "-o", help="Report directory to write.")
_LABEL_COL = typer.Option(
    None, "--label-col", help="Label column. [default: the one the model was fitted with]"
)
_CHUNK_SIZE = typer.Option(DEFAULT_CHUNK_ROWS, "--chunk-size", min=1, help=opt.CHUNK_SIZE_HELP)


@app.command(cls=Command)
def evaluate(
    data: Path = _DATA,
    model: Path = _MODEL,
    out: Path = _OUT,
    label_col: str | None = _LABEL_COL,
    normal_label: str | None = opt.NORMAL_LABEL,
    chunk_size: int = _CHUNK_SIZE,
    device: str | None = opt.DEVICE,
    threads: int | None = opt.THREADS,
    quiet: bool = opt.QUIET,
) -> None:
    """Precision, recall, F1 (model and best-F1 thresholds), AUROC, AUPRC, plots and report.html."""
    from dagmm.workflow import evaluate_file
    from dagmm.workflow.destinations import check_output_directory
    from dagmm.workflow.evaluation import METRICS_FILE

    check_output_directory(out, METRICS_FILE, inputs=[data, model])
    with opt.warnings_as_lines():
        report = evaluate_file(
            data,
            opt.model_with_threads(model, device, threads),
            out,
            label_col=label_col,
            normal_label=normal_label,
            chunksize=chunk_size,
            device=device,
            progress=not quiet,
        )
    typer.echo(report.summary())
