"""``dagmm experiment ...``: reproducible studies, one command each."""

from __future__ import annotations

from pathlib import Path

import typer

from dagmm.cli import _shared as opt
from dagmm.cli.app import Command, app

experiment_app = typer.Typer(
    help="Reproduce a published study and write its tables and plots.", no_args_is_help=True
)
app.add_typer(experiment_app, name="experiment")


DATA_HOME = typer.Option(
    None, "--data-home", help="Folder with the MNIST t10k files [default: the data home]"
)
OUT = typer.Option(Path("mnist-vae-study"), "--out", help="Output folder.")
PRESET = typer.Option(
    None,
    "--preset",
    help="VAE settings: mnist (the published study, latent size 100) or mnist-small "
    "(latent size 150, better on the 490 training zeros of the MNIST test set). "
    "[default: mnist-small]",
)
QUICK = typer.Option(False, "--quick", help="A few epochs only (a smoke run for CI).")
SEED = typer.Option(0, "--seed", help="Seed of the split and the models.")


@experiment_app.command("mnist-vae", cls=Command)
def mnist_vae(
    data_home: Path | None = DATA_HOME,
    out: Path = OUT,
    quick: bool = QUICK,
    seed: int = SEED,
    preset: str | None = PRESET,
    quiet: bool = opt.QUIET,
) -> None:
    """VAE outlier detection, MNIST digit 0 normal versus 6 outliers, with DAGMM beside it."""
    from dagmm.experiments.mnist_vae import run_mnist_vae
    from dagmm.workflow.destinations import check_output_directory

    check_output_directory(out, "results.json")
    result = run_mnist_vae(
        data_home,
        out,
        **({"preset": preset} if preset else {}),
        quick=quick,
        random_state=seed,
        verbose=int(not quiet),
        say=(lambda message: None) if quiet else typer.echo,
    )
    m, default, d = (
        result["vae"]["scores"]["mahalanobis"],
        result["vae"]["default_threshold"],
        result["dagmm"],
    )
    typer.echo(
        f"VAE (Mahalanobis): auroc={m['auroc']:.4f} best_f1={m['best_f1']:.4f} "
        f"(precision={m['precision_at_best']:.4f} recall={m['recall_at_best']:.4f} "
        f"at threshold {m['best_threshold']:.3f})"
    )
    typer.echo(
        f"VAE at the chi-square threshold {default['threshold']:.3f}: "
        f"precision={default['precision']:.4f} recall={default['recall']:.4f} f1={default['f1']:.4f}"
    )
    typer.echo(f"DAGMM: auroc={d['auroc']:.4f} best_f1={d['best_f1']:.4f}")
    typer.echo(f"results written to {out} in {result['seconds']:.1f} s")
