"""Options and helpers shared by ``dagmm fit``, ``score``, ``evaluate`` and ``tune``.

Each option is declared once here and used as the default of the command
functions' parameters. Options that also live in a config file default to
None ("not given"), so :func:`dagmm.workflow.resolve_options` can lay the
command line over the file over the defaults.
"""

from __future__ import annotations

import contextlib
import re
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import typer

from dagmm._vocabulary import flag
from dagmm.workflow.options import FitOptions

_DEFAULTS = FitOptions()

# ------------------------------------------------------------------ data
LABEL_COL = typer.Option(
    None, "--label-col", help="Label column; only its normal rows are trained on."
)
NORMAL_LABEL = typer.Option(
    None, "--normal-label", help="Label value meaning normal [default: 0, false or 'normal']"
)
DROP_COLS = typer.Option(None, "--drop-cols", help="Columns to ignore, comma-separated: A,B.")
ID_COLS = typer.Option(
    None, "--id-cols", help="Identifier columns, written beside the scores (comma-separated)."
)
CATEGORICAL_COLS = typer.Option(
    None,
    "--categorical-cols",
    help="Columns to one-hot encode whatever their type (comma-separated).",
)
DATETIME_COLS = typer.Option(
    None,
    "--datetime-cols",
    help="Date-time columns, comma-separated: ISO 8601, MM/DD/YYYY HH:MM, DD.MM.YYYY or epoch "
    "seconds (other values are an error).",
)
IMPUTE = typer.Option(
    None,
    "--impute/--no-impute",
    help="Fill missing values (median / '__missing__') instead of rejecting them. [default: --no-impute]",
)
MAX_CATEGORIES = typer.Option(
    None,
    "--max-categories",
    help=f"Most distinct values to one-hot encode; more are hashed. [default: {_DEFAULTS.max_categories}]",
)
CONFIG = typer.Option(
    None, "--config", help="TOML file of these options (the command line wins over it)."
)

# ----------------------------------------------------------------- model
EPOCHS = typer.Option(None, "--epochs", help=f"Training epochs. [default: {_DEFAULTS.epochs}]")
BATCH_SIZE = typer.Option(
    None,
    "--batch-size",
    help="Rows per minibatch. [default: training rows / 32, within 64 to 1024]",
)
LEARNING_RATE = typer.Option(
    None, "--learning-rate", help=f"Adam learning rate. [default: {_DEFAULTS.learning_rate:g}]"
)
LAMBDA1 = typer.Option(
    None,
    "--lambda1",
    help=f"Weight of the sample energy in the loss. [default: {_DEFAULTS.lambda1:g}]",
)
LAMBDA2 = typer.Option(
    None, "--lambda2", help=f"Weight of the covariance penalty. [default: {_DEFAULTS.lambda2:g}]"
)
RECONSTRUCTION_FEATURES = typer.Option(
    None,
    "--reconstruction-features",
    help="Reconstruction features in the mixture input, from relative, cosine, euclidean. "
    f"[default: {','.join(_DEFAULTS.reconstruction_features)}]",
)
RESTARTS = typer.Option(
    None,
    "--restarts",
    help="Whole trainings from different initialisations; the best reconstructing one is "
    "kept. Rescues runs that fail, more frequent when the training rows hold unlabelled "
    f"anomalies. [default: {_DEFAULTS.restarts}]",
)
DROPOUT = typer.Option(
    None, "--dropout", help=f"Dropout of the estimation network. [default: {_DEFAULTS.dropout:g}]"
)
COMP_HIDDENS = typer.Option(
    None,
    "--comp-hiddens",
    help="Compression widths, the last one the latent size: 60,30,10,1. "
    "[default: 2L,L with latent size L = features / 3, within 2 to 16]",
)
EST_HIDDENS = typer.Option(
    None,
    "--est-hiddens",
    help="Estimation widths, the last one the number of mixture components. "
    f"[default: {','.join(map(str, _DEFAULTS.est_hiddens))}]",
)

# ------------------------------------------------------------- threshold
CONTAMINATION = typer.Option(
    None,
    "--contamination",
    help="Threshold: fraction of training rows flagged. [default: 0.01 when no other policy]",
)
THRESHOLD_FPR = typer.Option(
    None, "--threshold-fpr", help="Threshold: target false-positive rate on the training rows."
)
THRESHOLD_F1 = typer.Option(
    None,
    "--threshold-f1/--no-threshold-f1",
    help="Threshold: best F1 on held-out labelled rows (needs --label-col).",
)
VALIDATION_FRACTION = typer.Option(
    None,
    "--validation-fraction",
    help="With --threshold-f1: share of normal rows held out with the anomalies. "
    f"[default: {_DEFAULTS.validation_fraction:g}]",
)

# ------------------------------------------------------------------- run
DEVICE = typer.Option(None, "--device", help="auto, cpu, cuda or cuda:N. [default: auto]")
SEED = typer.Option(None, "--seed", help=f"Random seed. [default: {_DEFAULTS.seed}]")
THREADS = typer.Option(
    None,
    "--threads",
    min=1,
    help="CPU threads for torch. [default: 1 for small minibatches, more for large ones; "
    "torch's own default of every core is several times slower on a small or busy machine]",
)
QUIET = typer.Option(False, "--quiet", "-q", help="Print only the summary line (and warnings).")
CHUNK_SIZE_HELP = "Rows read and scored at a time (bounds memory)."


def fit_options(values: dict[str, Any]) -> FitOptions:
    """Resolve :class:`FitOptions` from a command's parameters (``config`` is the TOML path)."""
    config = values.pop("config", None)
    if "threads" in values:  # --threads is the estimators' n_jobs
        values["n_jobs"] = values.pop("threads")
    given = {
        name: value for name, value in values.items() if name in FitOptions.__dataclass_fields__
    }
    from dagmm.workflow import resolve_options

    try:
        return resolve_options(given, config)
    except ValueError as exc:
        # A message about the config file keeps its keys; others name this command's flags.
        message = str(exc)
        if config is not None and str(config) in message:
            raise
        for name in sorted(given, key=len, reverse=True):
            message = re.sub(rf"(?<![\w'-]){name}(?![\w'])", flag(name), message)
        if message == str(exc):
            raise
        raise type(exc)(message) from None


def model_with_threads(model: Path, device: str | None, threads: int | None) -> Any:
    """The model directory, or with ``--threads`` the loaded detector set to use that many."""
    if threads is None:
        return model
    from dagmm.workflow import TabularDetector

    detector = TabularDetector.load(model, device=device)
    detector.model_.set_params(n_jobs=threads)
    return detector


#: What the training progress bar's terms are (said before training starts).
LOSS_TERMS = (
    "training: the progress bar shows loss = reconstruction (squared error) + lambda1 x energy "
    "(mean sample energy) + lambda2 x cov_penalty (sum of 1 / covariance diagonals)"
)


def info(message: str, quiet: bool) -> None:
    """A progress message on stderr, unless ``--quiet``."""
    if not quiet:
        typer.echo(message, err=True)


@contextlib.contextmanager
def warnings_as_lines() -> Iterator[None]:
    """Show warnings as one ``warning: ...`` line on stderr, without source lines."""

    def show(
        message: Any, category: type, filename: str, lineno: int, file: Any = None, line: Any = None
    ) -> None:
        typer.echo(f"warning: {message}", err=True)

    with warnings.catch_warnings():
        warnings.simplefilter("default")
        warnings.showwarning = show
        yield
