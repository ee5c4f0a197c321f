"""The ``dagmm`` command-line tool: a thin typed layer over the public API.

The tool needs the ``cli`` extra (typer, and pandas for the file workflow).
Without it this package still imports (``app`` is None) and :func:`main`
prints one line saying what to install.
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


app: Any
try:
    from dagmm.cli.app import app
    from dagmm.cli.app import main as _run
except ModuleNotFoundError as exc:
    if _missing_requirement(exc) is None:
        raise
    app, _run, _import_error = None, None, exc


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the exit code."""
    try:
        if _run is None:
            raise _import_error
        return _run(argv)
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
