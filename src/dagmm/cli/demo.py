"""``dagmm demo``: the main job on an embedded synthetic data set."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dagmm.cli import _shared as opt
from dagmm.cli.app import Command, app


@app.command(cls=Command)
def demo(
    out: Annotated[Path, typer.Option("--out", "-o", help="Where to save the model.")] = Path(
        "dagmm-demo-model"
    ),
    epochs: Annotated[int, typer.Option("--epochs", help="Training epochs.")] = 100,
    seed: Annotated[int, typer.Option("--seed", help="Random seed for data and model.")] = 0,
    threads: int | None = opt.THREADS,
    quiet: bool = opt.QUIET,
) -> None:
    """Fit DAGMM on a synthetic Gaussian mixture with injected anomalies and report metrics."""
    from dagmm.demo import run_demo
    from dagmm.workflow.destinations import check_model_destination

    # The same check and words as `dagmm fit --epochs`: the estimator's own.
    opt.fit_options({"epoch_size": epochs, "random_state": seed, "n_jobs": threads})
    check_model_destination(out)
    result = run_demo(
        out,
        epochs=epochs,
        random_state=seed,
        verbose=0 if quiet else 1,
        n_jobs=threads,
        say=lambda message: opt.info(message, quiet),
    )
    d, f = result["dagmm"], result["iforest"]
    if not quiet:
        typer.echo(f"DAGMM trained in {result['train_seconds']:.1f} s")
        typer.echo(
            f"{'model':<18}{'precision':>10}{'recall':>10}{'F1':>10}{'ROC-AUC':>10}{'PR-AUC':>10}"
        )
        for name, m in (("DAGMM", d), ("Isolation Forest", f)):
            typer.echo(
                f"{name:<18}{m['precision']:>10.4f}{m['recall']:>10.4f}{m['f1']:>10.4f}"
                f"{m['auroc']:>10.4f}{m['auprc']:>10.4f}"
            )
        typer.echo(
            f"Both flag test rows above the top {result['contamination']:.0%} of their own "
            "training scores; ROC-AUC and PR-AUC need no threshold."
        )
    typer.echo(
        f"precision={d['precision']:.4f} recall={d['recall']:.4f} f1={d['f1']:.4f} "
        f"auroc={d['auroc']:.4f}; model saved to {result['model_dir']}"
    )
