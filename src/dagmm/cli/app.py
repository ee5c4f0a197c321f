"""The ``dagmm`` Typer application and its error handling.

Commands live in sibling modules and register themselves on :data:`app`. A user
error (bad file, column, parameter, damaged model directory, a missing optional
extra) prints one short line and exits with code 2 (1 for other failures);
``--debug`` shows the traceback as well, with the same exit code.
"""

from __future__ import annotations

import contextlib
import re
import signal
import sys
import traceback
from collections.abc import Iterator, Sequence

import typer

from dagmm._version import __version__

app = typer.Typer(
    name="dagmm",
    help="Unsupervised anomaly detection with DAGMM and friends.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain help: flags without type placeholders, no boxes
)

class Command(typer.core.TyperCommand):
    """A command whose usage line names required arguments plainly: ``dagmm fit [OPTIONS] DATA``."""

    def collect_usage_pieces(self, ctx: typer.Context) -> list[str]:
        return [re.sub(r"^\{(.*)\}$", r"\1", piece) for piece in super().collect_usage_pieces(ctx)]


#: Exit code for errors the user can fix (bad input, missing file, bad option).
USER_ERROR = 2


def _version_callback(value: bool) -> None:
    if value:
        import torch

        typer.echo(f"dagmm {__version__} (torch {torch.__version__})")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version_callback, is_eager=True, help="Show the version."
    ),
    debug: bool = typer.Option(False, "--debug", help="Show full tracebacks on errors."),
) -> None:
    """Unsupervised anomaly detection with DAGMM and friends."""


def _register_commands() -> None:
    # Imported for their side effect of adding commands to ``app``.
    from dagmm.cli import (  # noqa: F401
        benchmark,  # noqa: F401
        demo,
        evaluate,
        experiment,  # noqa: F401
        export,
        fit,
        score,
        tune,
    )


class Terminated(BaseException):
    """SIGTERM arrived: unwinds like Ctrl-C, so every write in progress is undone."""


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """Turn SIGTERM into :class:`Terminated` while a command runs (main thread only).

    Without this, ``kill`` (or a scheduler's stop) ends the process at once
    and leaves the hidden temporary file of a write in progress behind.
    """
    def terminate(signum: int, frame: object) -> None:
        raise Terminated

    try:
        previous = signal.signal(signal.SIGTERM, terminate)
    except (ValueError, OSError, AttributeError):  # not the main thread, or no SIGTERM
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def is_user_error(exc: BaseException) -> bool:
    """Whether the user can fix ``exc``: bad input, a missing file, a missing extra."""
    if isinstance(exc, ImportError):  # an optional extra that is not installed
        return "pip install" in str(exc)
    return isinstance(exc, (ValueError, FileNotFoundError, KeyError, PermissionError))


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    _register_commands()
    from dagmm._vocabulary import CLI, vocabulary

    try:
        with _sigterm_as_interrupt():
            with vocabulary(CLI):  # messages name --flags, not Python parameters
                result = app(args=args, prog_name="dagmm", standalone_mode=False)
        # Without standalone mode Typer returns the code of an Exit raised in a
        # command (130 for Ctrl-C) instead of raising it.
        if result == 130:
            typer.echo("Interrupted: no file was left half-written.", err=True)
            return 130
        if isinstance(result, int) and not isinstance(result, bool) and result:
            return result
    except KeyboardInterrupt:
        typer.echo("Interrupted: no file was left half-written.", err=True)
        return 130
    except Terminated:
        typer.echo("Terminated: no file was left half-written.", err=True)
        return 143
    except typer.Exit as stop:
        return stop.exit_code
    except typer.Abort as stop:
        if isinstance(stop.__cause__, KeyboardInterrupt):  # Click turns Ctrl-C into Abort
            typer.echo("Interrupted: no file was left half-written.", err=True)
            return 130
        typer.echo("Aborted.", err=True)
        return 1
    except Exception as exc:  # noqa: BLE001 - the one place errors become exit codes
        # Usage errors (unknown option, bad value) carry their own message and
        # exit code; Typer may bundle its own copy of Click, so match by shape.
        if hasattr(exc, "show") and isinstance(getattr(exc, "exit_code", None), int):
            if type(exc).__name__ == "NoArgsIsHelpError" or not hasattr(exc, "format_message"):
                exc.show()  # `dagmm fit` with no arguments: the help
                return exc.exit_code
            # One line, like every other error: "error: Invalid value for '--epochs': ...".
            ctx = getattr(exc, "ctx", None)
            hint = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
            typer.echo(f"error: {exc.format_message()}{hint}", err=True)
            return exc.exit_code
        user_error = is_user_error(exc)
        if debug:
            traceback.print_exc()
            return USER_ERROR if user_error else 1
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        typer.echo(f"error: {message}", err=True)
        if not user_error:
            typer.echo("(run with --debug for the full traceback)", err=True)
        return USER_ERROR if user_error else 1
    return 0
