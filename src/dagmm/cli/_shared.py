"""Options and helpers shared by ``dagmm fit``, ``score``, ``evaluate`` and ``tune``.

The options of a fit are declared once, in the flag table of
:mod:`dagmm.cli._flags`, and used as the defaults of the command functions'
parameters, which carry the option names. They default to None ("not
given"), so :func:`dagmm.workflow.resolve_options` can lay the command line
over the file over the defaults.
"""

from __future__ import annotations

import contextlib
import re
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import typer

from dagmm.cli._flags import FLAGS, flag_of, option
from dagmm.workflow.options import DETECTORS, FitOptions

# Options of a fit come from the one flag table (dagmm.cli._flags); these
# names are the ones other commands share.
LABEL_COL = option("label_col")
NORMAL_LABEL = option("normal_label")
DEVICE = option("device")
THREADS = option("n_jobs")
CONFIG = typer.Option(
    None,
    "--config",
    help="TOML or JSON file of options, under the estimator's own names (epoch_size = 50); "
    "the command line wins over it.",
)

QUIET = typer.Option(False, "--quiet", "-q", help="Print only the summary line (and warnings).")
CHUNK_SIZE_HELP = "Rows read and scored at a time (bounds memory)."

#: Names a command parameter may carry to reach the fit options.
_OPTION_NAMES = frozenset(row.name for row in FLAGS)


def fit_options(values: dict[str, Any]) -> FitOptions:
    """Resolve :class:`FitOptions` from a command's parameters (``config`` is the file path).

    The command functions' parameters carry the option names (the estimator's
    own, ``epoch_size``); a message about a value given on the command line
    names its flag (``--epochs``).
    """
    config = values.pop("config", None)
    given = {name: value for name, value in values.items() if name in _OPTION_NAMES}
    from dagmm.workflow import resolve_options

    detector = given.get("detector") or ("dagmm" if config is None else None)
    for row in FLAGS:
        if detector in DETECTORS and given.get(row.name) is not None and row.detectors:
            if detector not in row.detectors:
                others = [r.flag for r in FLAGS if detector in r.detectors]
                raise ValueError(
                    f"{row.flag} sets {', '.join(row.detectors)}'s {row.name}, which --detector "
                    f"{detector} does not have; its flags: {', '.join(others)}"
                )

    try:
        return resolve_options(given, config)
    except ValueError as exc:
        # A message about the config file keeps its keys; others name this command's flags.
        message = str(exc)
        if config is not None and str(config) in message:
            raise
        message = re.sub(
            r"The '(\w+)' parameter of \w+ must be",
            lambda match: f"{flag_of(match.group(1))} must be",
            message,
        )
        for name in sorted(given, key=len, reverse=True):
            message = re.sub(rf"(?<![\w'-]){name}(?![\w'])", flag_of(name), message)
            message = message.replace(f"'{name}'", flag_of(name))
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
