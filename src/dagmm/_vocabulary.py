"""Name options in messages the way the caller set them.

The same setting has three spellings: a :class:`~dagmm.tabular.TabularPreprocessor`
parameter (``handle_missing="impute"``), a :class:`~dagmm.workflow.FitOptions`
field and config-file key (``impute = true``), and a command-line flag
(``--impute``). A message that tells the user what to change must use the one
they can use, so message code asks :func:`option_name` or
:func:`option_setting` instead of writing a name into the text.

The vocabulary is set by the outermost caller and kept by the inner ones: the
CLI sets :data:`CLI` for the whole command, :class:`~dagmm.workflow.TabularDetector`
built from options sets :data:`OPTIONS` unless a vocabulary is already set, and
code called directly gets :data:`PYTHON`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar

__all__ = [
    "CLI",
    "OPTIONS",
    "PYTHON",
    "current",
    "field_name",
    "option_name",
    "option_setting",
    "vocabulary",
]

PYTHON, OPTIONS, CLI = "python", "options", "cli"
_VOCABULARIES = (PYTHON, OPTIONS, CLI)

_current: ContextVar[str] = ContextVar("dagmm_vocabulary", default=PYTHON)

#: TabularPreprocessor parameter -> FitOptions field, for those the workflow exposes.
PREPROCESSOR_TO_OPTIONS: dict[str, str] = {
    "drop_cols": "drop_cols",
    "id_cols": "id_cols",
    "categorical_cols": "categorical_cols",
    "datetime_cols": "datetime_cols",
    "max_categories": "max_categories",
    "handle_missing": "impute",
}


def current() -> str:
    """The vocabulary messages use now: ``"python"``, ``"options"`` or ``"cli"``."""
    return _current.get()


@contextlib.contextmanager
def vocabulary(kind: str) -> Iterator[None]:
    """Use ``kind`` for messages inside the block, unless an outer caller already chose one."""
    if kind not in _VOCABULARIES:
        raise ValueError(f"vocabulary must be one of {_VOCABULARIES}, got {kind!r}")
    token = _current.set(kind) if _current.get() == PYTHON else None
    try:
        yield
    finally:
        if token is not None:
            _current.reset(token)


def flag(field: str) -> str:
    """``"drop_cols"`` -> ``"--drop-cols"``: the command line spells options with dashes."""
    return "--" + field.replace("_", "-")


def option_name(parameter: str | None) -> str:
    """How the caller names the preprocessor ``parameter`` (a column list or setting)."""
    if parameter is None:
        return "a column list"
    field = PREPROCESSOR_TO_OPTIONS.get(parameter)
    kind = current()
    if field is None or kind == PYTHON:
        return parameter
    return flag(field) if kind == CLI else field


def field_name(field: str) -> str:
    """How the caller names a workflow setting (``label_col``): ``--label-col`` on the CLI."""
    return flag(field) if current() == CLI else field


def option_setting(parameter: str, value: object) -> str:
    """How the caller sets ``parameter`` to ``value``: ``max_categories=100``, ``--impute``."""
    kind = current()
    field = PREPROCESSOR_TO_OPTIONS.get(parameter)
    if field is None or kind == PYTHON:
        return f"{parameter}={value!r}"
    if parameter == "handle_missing":  # the workflow spells it as a switch
        on = value == "impute"
        if kind == CLI:
            return "--impute" if on else "--no-impute"
        return f"{field}={on}"
    return f"{flag(field)} {value}" if kind == CLI else f"{field}={value!r}"
