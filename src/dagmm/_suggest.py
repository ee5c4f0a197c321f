"""The one "did you mean ...?" lookup behind every unknown-name message.

Estimator keywords, activations, column names, option names and benchmark
registry names all suggest the closest known name through :func:`closest`;
:func:`suggest` is the parenthesised hint the column and option messages append.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = ["closest", "suggest"]


def closest(name: object, candidates: Iterable[str]) -> str | None:
    """The candidate closest to ``name`` (``difflib``'s ratio of at least 0.6), or None.

    Examples
    --------
    >>> closest("tahn", ["tanh", "relu", "sigmoid"])
    'tanh'
    >>> closest("xyz", ["tanh", "relu"]) is None
    True
    """
    matches = difflib.get_close_matches(str(name), list(candidates), n=1)
    return matches[0] if matches else None


def suggest(name: object, candidates: Iterable[str]) -> str:
    """``" (did you mean 'x'?)"`` when a close match exists, else ``""``.

    Examples
    --------
    >>> "amount" + suggest("amuont", ["amount", "time"])
    "amount (did you mean 'amount'?)"
    """
    match = closest(name, candidates)
    return f" (did you mean {match!r}?)" if match is not None else ""
