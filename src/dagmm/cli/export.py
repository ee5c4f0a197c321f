"""``dagmm export``: write a saved model's scoring path as an ONNX file."""

from __future__ import annotations

from pathlib import Path

import typer

from dagmm.cli.app import app

_MODEL_DIR = typer.Argument(
    ...,
    help="Model directory: from `dagmm fit`/`tune`, or DAGMM/VAEDetector.save.",
)
_OUT = typer.Option(..., "--out", "-o", help="The .onnx file to write (replaced if it exists).")
_CHECK = typer.Option(
    True,
    "--check/--no-check",
    help="Score synthetic rows with onnxruntime and the library before writing; refuse on a "
    "mismatch.",
)

_FAST_TANH = typer.Option(
    False,
    "--fast-tanh",
    help="Use onnxruntime's float32 tanh approximation (faster, slightly further from the "
    "library) instead of evaluating tanh in float64.",
)


@app.command()
def export(
    model_dir: Path = _MODEL_DIR,
    out: Path = _OUT,
    check: bool = _CHECK,
    fast_tanh: bool = _FAST_TANH,
) -> None:
    """Export the scoring path (preprocessing, networks, mixture, threshold) to ONNX.

    Graph inputs, outputs and opset are printed and stored in the file's metadata.
    """
    from dagmm.export import export_onnx
    from dagmm.export.onnx import load_exportable

    report = export_onnx(load_exportable(model_dir), out, check=check, precise_tanh=not fast_tanh)
    typer.echo(report.summary())
