"""Optional ``torch.compile`` with an eager fallback."""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from typing import TypeVar

import torch

F = TypeVar("F", bound=Callable)

#: ``compile="auto"`` compiles when rows x epochs reaches this many; below it
#: compilation (tens of seconds) costs more than it saves.
AUTO_COMPILE_MIN_ROW_EPOCHS = 20_000_000


def should_compile(setting: bool | str, n_rows: int, epochs: int) -> bool:
    """Resolve the ``compile`` parameter ("auto", True or False) for one fit."""
    if setting == "auto":
        return n_rows * epochs >= AUTO_COMPILE_MIN_ROW_EPOCHS
    return bool(setting)


def maybe_compile(function: F, enabled: bool, *, what: str) -> F:
    """Return a compiled version of ``function`` or ``function`` itself.

    Compilation happens lazily at the first call; when it fails (no C++
    compiler, an unsupported platform) the eager function is used from then on
    and one warning says so.
    """
    if not enabled:
        return function
    try:
        compiled = torch.compile(function, dynamic=False)
    except Exception as exc:  # torch.compile unavailable on this platform
        warnings.warn(f"torch.compile is unavailable ({exc}); {what} runs eagerly", stacklevel=2)
        return function
    state = {"fallback": False}

    @functools.wraps(function)
    def call(*args, **kwargs):
        if state["fallback"]:
            return function(*args, **kwargs)
        try:
            return compiled(*args, **kwargs)
        except Exception as exc:  # compiler missing or failing: degrade, do not crash
            if type(exc).__module__.startswith("dagmm"):
                raise
            state["fallback"] = True
            warnings.warn(
                f"torch.compile failed for {what} ({type(exc).__name__}: {str(exc)[:200]}); "
                "running eagerly instead",
                stacklevel=2,
            )
            return function(*args, **kwargs)

    return call  # type: ignore[return-value]
