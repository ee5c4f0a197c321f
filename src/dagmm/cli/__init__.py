"""The ``dagmm`` command-line tool: a thin typed layer over the public API."""

from dagmm.cli.app import app, main

__all__ = ["app", "main"]
