"""Small helpers shared by the benchmark modules (registry errors, atomic writes)."""

from __future__ import annotations

import difflib
import os
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO


def unknown_name_message(kind: str, name: str, known: Iterable[str]) -> str:
    """Error text for a registry miss: the name, a close match if any, and the known names."""
    known = sorted(known)
    close = difflib.get_close_matches(str(name), known, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    return f"Unknown {kind} {name!r}.{hint} Known {kind}s: {', '.join(known)}."


def atomic_write(path: Path, write: Callable[[IO[bytes]], None]) -> None:
    """Write ``path`` through ``write(file)`` into a temporary file, then move it into place.

    Readers see either the old file or the complete new one, never a partial
    file; on error the temporary file is removed and ``path`` is untouched.
    """
    path = Path(path)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    """Write UTF-8 ``text`` to ``path`` atomically (see :func:`atomic_write`)."""
    atomic_write(path, lambda handle: handle.write(text.encode("utf-8")))
