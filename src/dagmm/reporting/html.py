"""A self-contained HTML report (figures embedded as PNG data URIs), written atomically."""

from __future__ import annotations

import base64
import html
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from dagmm.persistence import atomic_write

__all__ = ["Figure", "Table", "render_report", "write_atomic"]

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.15em; margin-top: 1.6em; }
table { border-collapse: collapse; margin: 0.5em 0 1em; }
th, td { border: 1px solid #ccc; padding: 0.3em 0.7em; text-align: right; }
th:first-child, td:first-child { text-align: left; }
th { background: #f3f3f3; }
.figures { display: flex; flex-wrap: wrap; gap: 1em; }
figure { margin: 0; } figcaption { font-size: 0.9em; color: #555; max-width: 640px; }
p.note { color: #555; font-size: 0.9em; }
"""


@dataclass(frozen=True)
class Table:
    """A titled table: a header row and rows of cells (already formatted text)."""

    title: str
    header: Sequence[str]
    rows: Sequence[Sequence[object]]
    note: str = ""


@dataclass(frozen=True)
class Figure:
    """A PNG image with a caption."""

    caption: str
    png: bytes


def _table_html(table: Table) -> str:
    head = "".join(f"<th>{html.escape(str(cell))}</th>" for cell in table.header)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(cell))}</td>" for cell in row) + "</tr>"
        for row in table.rows
    )
    note = f'<p class="note">{html.escape(table.note)}</p>' if table.note else ""
    return f"<h2>{html.escape(table.title)}</h2><table><tr>{head}</tr>{body}</table>{note}"


def _figure_html(figure: Figure) -> str:
    data = base64.b64encode(figure.png).decode("ascii")
    caption = html.escape(figure.caption)
    return (
        f'<figure><img src="data:image/png;base64,{data}" alt="{caption}">'
        f"<figcaption>{caption}</figcaption></figure>"
    )


def render_report(
    title: str, intro: str, tables: Sequence[Table], figures: Sequence[Figure]
) -> str:
    """The report as one HTML document; every value is escaped, nothing is fetched."""
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{html.escape(title)}</h1><p>{html.escape(intro)}</p>",
        *(_table_html(table) for table in tables),
    ]
    if figures:
        parts.append('<h2>Figures</h2><div class="figures">')
        parts.extend(_figure_html(figure) for figure in figures)
        parts.append("</div>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def write_atomic(path: str | os.PathLike, content: str | bytes) -> Path:
    """Deprecated: use :func:`dagmm.persistence.atomic_write` (removed in a later release)."""
    import warnings

    warnings.warn(
        "dagmm.reporting.write_atomic is deprecated; use dagmm.persistence.atomic_write",
        DeprecationWarning,
        stacklevel=2,
    )
    return atomic_write(path, content)
