"""Small helpers shared by the benchmark modules (registry errors, atomic writes)."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from pathlib import Path

from dagmm.persistence.atomic import atomic_write

__all__ = ["atomic_write", "atomic_write_text", "unknown_name_message"]


def unknown_name_message(kind: str, name: str, known: Iterable[str]) -> str:
    """Error text for a registry miss: the name, a close match if any, and the known names."""
    known = sorted(known)
    close = difflib.get_close_matches(str(name), known, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    return f"Unknown {kind} {name!r}.{hint} Known {kind}s: {', '.join(known)}."


def atomic_write_text(path: Path, text: str) -> None:
    """Write UTF-8 ``text`` to ``path`` atomically (see :func:`atomic_write`)."""
    atomic_write(path, text)
