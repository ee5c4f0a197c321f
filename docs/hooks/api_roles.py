"""MkDocs hook: Sphinx roles in the API reference shown as plain code.

The docstrings use Sphinx roles (``:class:`~dagmm.DAGMM```, ``:func:`...```),
which mkdocstrings renders literally (``:class:`` before the code). On the API
pages the role prefix is dropped, and a leading ``~`` shortens the name to its
last part, as Sphinx would show it.
"""

from __future__ import annotations

import re
from typing import Any

_ROLE = re.compile(r":(?:py:)?(?:class|func|meth|data|mod|attr|exc|obj):(?=<code>)")
_SHORTENED = re.compile(r"<code>~(?:\w+\.)*(\w+)</code>")


def tidy_roles(html: str) -> str:
    """``:func:<code>~a.b.c</code>`` becomes ``<code>c</code>``."""
    return _SHORTENED.sub(r"<code>\1</code>", _ROLE.sub("", html))


def on_page_content(html: str, page: Any, config: Any, files: Any) -> str:
    if not page.file.src_uri.startswith("api/"):
        return html
    return tidy_roles(html)
