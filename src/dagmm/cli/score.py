"""``dagmm score``: score a file with a saved model, in chunks, writing atomically."""

from __future__ import annotations

from pathlib import Path

import typer

from dagmm.cli import _shared as opt
from dagmm.cli.app import Command, app
from dagmm.workflow.scoring import DEFAULT_CHUNK_ROWS

_DATA = typer.Argument(
    ...,
    metavar="DATA",
    help="Rows to score: .csv, .tsv, .parquet (.gz allowed), or a folder of such files.",
)
_MODEL = typer.Option(..., "--model", "-m", help="Model directory from `dagmm fit`.")
_OUT = typer.Option(..., "--out", "-o", help="Scores file to write (.csv, .parquet, ...).")
_EXPLAIN = typer.Option(
    False, "--explain", help="Add the top contributing columns and the mixture component."
)
_TOP_COLUMNS = typer.Option(3, "--top-columns", min=1, help="Columns named by --explain.")
_CONTAMINATION = typer.Option(
    None, "--contamination", help="Flag this fraction of the training rows' energies instead."
)
_THRESHOLD_FPR = typer.Option(
    None, "--threshold-fpr", help="Flag at this false-positive rate on the training rows instead."
)
_ESCAPE_FORMULAS = typer.Option(
    None,
    "--escape-formulas/--no-escape-formulas",
    help="Prefix ' to text that a spreadsheet would run as a formula (=, +, -, @ ...); "
    "default: on for CSV/TSV output, off for Parquet. Off writes ids byte for byte.",
    show_default=False,
)
_ENGINE = typer.Option(
    "local", "--engine", help="local (one process, the default) or spark (writes a Parquet folder)."
)
_MASTER = typer.Option(
    None, "--master", help="Spark master for --engine spark, e.g. local[2] or spark://host:7077."
)
_CHUNK_SIZE = typer.Option(DEFAULT_CHUNK_ROWS, "--chunk-size", min=1, help=opt.CHUNK_SIZE_HELP)


@app.command(cls=Command)
def score(
    data: Path = _DATA,
    model: Path = _MODEL,
    out: Path = _OUT,
    explain: bool = _EXPLAIN,
    top_columns: int = _TOP_COLUMNS,
    contamination: float | None = _CONTAMINATION,
    threshold_fpr: float | None = _THRESHOLD_FPR,
    chunk_size: int = _CHUNK_SIZE,
    escape_formulas: bool | None = _ESCAPE_FORMULAS,
    device: str | None = opt.DEVICE,
    engine: str = _ENGINE,
    master: str | None = _MASTER,
    threads: int | None = opt.THREADS,
    quiet: bool = opt.QUIET,
) -> None:
    """Write each row's ids, energy, score (training percentile) and anomaly flag."""
    from dagmm.workflow import ThresholdPolicy, score_file
    from dagmm.workflow.destinations import check_file_destination, check_output_directory

    if engine not in ("local", "spark"):
        raise ValueError(f"--engine {engine!r} is not an engine; expected 'local' or 'spark'")
    if engine == "spark":  # a folder of Parquet parts, Spark's way
        check_output_directory(out, "_SUCCESS", inputs=[data, model])
    else:
        check_file_destination(out, inputs=[data, model])
    if contamination is not None and threshold_fpr is not None:
        raise ValueError("--contamination and --threshold-fpr both set the threshold; give one")
    policy = None
    if contamination is not None:
        policy = ThresholdPolicy.contamination(contamination)
    elif threshold_fpr is not None:
        policy = ThresholdPolicy.fpr(threshold_fpr)
    if master is not None and engine != "spark":
        raise ValueError("--master applies to --engine spark; add --engine spark or drop --master")
    if engine == "spark":
        from dagmm.spark import score_file as spark_score_file

        with opt.warnings_as_lines():
            spark_report = spark_score_file(
                data, model, out, master=master, explain=explain, top_columns=top_columns,
                threshold=policy, device=device or "cpu",
            )
        typer.echo(spark_report.summary())
        return
    with opt.warnings_as_lines():
        report = score_file(
            data,
            opt.model_with_threads(model, device, threads),
            out,
            chunksize=chunk_size,
            explain=explain,
            top_columns=top_columns,
            threshold=policy,
            device=device,
            progress=not quiet,
            escape_formulas=escape_formulas,
        )
    typer.echo(report.summary())
