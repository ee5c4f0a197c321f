"""Check where a command will write before it does any work.

A fit of 100 epochs that ends in "refusing to save" wastes the user's time, and
``--out transactions.csv`` must never get near the input file. Each command
calls one of these functions first, with the same rules its writer applies at
the end, so a destination that would be refused is refused up front:

* :func:`check_model_destination`: a new path, an empty directory or a dagmm
  model directory (replaced); never a file or another directory.
* :func:`check_file_destination`: a file path with a table extension (.csv,
  .parquet, ...), not a directory, not one of the command's input files.
* :func:`check_output_directory`: a new path, an empty directory or a directory
  the same command wrote before (it holds ``marker``); never a file.

Every function also checks that the nearest existing folder above the
destination is a folder and is writable. They create nothing.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from dagmm.exceptions import DataError

__all__ = ["check_file_destination", "check_model_destination", "check_output_directory"]


def _check_parent(target: Path, option: str) -> None:
    """The nearest existing ancestor is a writable directory."""
    ancestor = target.parent
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise DataError(
            f"{option} '{target}' cannot be written: '{ancestor}' is a file, not a folder; "
            "choose another path"
        )
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise PermissionError(
            f"{option} '{target}' cannot be written: no permission to write in '{ancestor}'; "
            "choose another path"
        )


def _not_an_input(target: Path, inputs: Iterable[str | os.PathLike], option: str) -> None:
    for source in inputs:
        source_path = Path(source)
        if source_path.exists() and target.exists() and target.resolve() == source_path.resolve():
            raise DataError(
                f"{option} '{target}' is the input '{source_path}'; writing there would destroy "
                "it: choose another path"
            )


def check_model_destination(
    path: str | os.PathLike, *, option: str = "--out", inputs: Iterable[str | os.PathLike] = ()
) -> Path:
    """Raise unless a model directory may be saved at ``path`` (see the module docstring)."""
    from dagmm.persistence import is_model_dir  # the rule the writer applies

    target = Path(path)
    _not_an_input(target, inputs, option)
    if target.exists():
        if not target.is_dir():
            raise DataError(
                f"{option} '{target}' is a file; a model is saved as a directory: give a new "
                "path such as 'model'"
            )
        if any(target.iterdir()) and not is_model_dir(target):
            raise DataError(
                f"{option} '{target}' is a directory that is not a dagmm model directory, and "
                "saving would replace it; give a new path, or remove it"
            )
    _check_parent(target, option)
    return target


def check_file_destination(
    path: str | os.PathLike, *, option: str = "--out", inputs: Iterable[str | os.PathLike] = ()
) -> Path:
    """Raise unless a table file may be written at ``path``."""
    from dagmm.tabular.io import SUPPORTED_EXTENSIONS

    target = Path(path)
    _not_an_input(target, inputs, option)
    if target.is_dir():
        raise DataError(f"{option} '{target}' is a directory; give a file path such as scores.csv")
    if not target.name.lower().endswith(SUPPORTED_EXTENSIONS):
        raise DataError(
            f"{option} '{target}' has no table extension; expected one of "
            f"{', '.join(SUPPORTED_EXTENSIONS)}, e.g. scores.csv"
        )
    _check_parent(target, option)
    return target


def check_output_directory(
    path: str | os.PathLike,
    marker: str | None = None,
    *,
    option: str = "--out",
    inputs: Iterable[str | os.PathLike] = (),
) -> Path:
    """Raise unless the command may write its files into the directory ``path``.

    ``marker`` is a file the command always writes there (``metrics.json``);
    a non-empty directory without it holds someone else's files and is refused.
    With ``marker=None`` any existing directory is accepted.
    """
    target = Path(path)
    _not_an_input(target, inputs, option)
    if target.exists():
        if not target.is_dir():
            raise DataError(
                f"{option} '{target}' is a file; this command writes a folder of files: give a "
                "new path such as 'report'"
            )
        if marker is not None and any(target.iterdir()) and not (target / marker).exists():
            raise DataError(
                f"{option} '{target}' is a directory with other files (no {marker}); give a new "
                "or empty directory, so that nothing there is overwritten"
            )
    _check_parent(target, option)
    return target
