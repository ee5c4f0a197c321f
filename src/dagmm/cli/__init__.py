"""The ``dagmm`` command-line tool: a thin typed layer over the public API.

The tool needs the ``cli`` extra (typer, and pandas for the file workflow);
without it :func:`main` prints one line saying what to install.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

__all__ = ["app", "main"]

#: Top-level modules of the ``cli`` extra; a command that misses one names the extra.
CLI_REQUIREMENTS = ("typer", "click", "pandas")


def _missing_requirement(exc: ModuleNotFoundError) -> str | None:
    name = (exc.name or "").split(".")[0]
    return name if name in CLI_REQUIREMENTS else None


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the exit code."""
    try:
        from dagmm.cli.app import app
        from dagmm.cli.app import main as run

        globals()["app"] = app  # the Typer application, not the submodule of that name
        return run(argv)
    except ModuleNotFoundError as exc:
        name = _missing_requirement(exc)
        if name is None:
            raise
        print(
            f"dagmm: the command-line tool needs {name}, which is not installed: "
            "pip install 'dagmm[cli]'",
            file=sys.stderr,
        )
        return 1


def __getattr__(name: str) -> Any:
    if name == "app":  # the Typer application, imported only when asked for
        from dagmm.cli.app import app

        globals()["app"] = app
        return app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
