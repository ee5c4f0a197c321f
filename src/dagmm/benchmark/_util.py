"""Registry errors shared by the benchmark modules."""

from __future__ import annotations

from collections.abc import Iterable

from dagmm._suggest import closest

__all__ = ["unknown_name_message"]


def unknown_name_message(kind: str, name: str, known: Iterable[str]) -> str:
    """Error text for a registry miss: the name, a close match if any, and the known names."""
    known = sorted(known)
    match = closest(name, known)
    hint = f" Did you mean {match!r}?" if match is not None else ""
    return f"Unknown {kind} {name!r}.{hint} Known {kind}s: {', '.join(known)}."

