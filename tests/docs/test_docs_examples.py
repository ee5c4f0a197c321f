"""The Python examples of README.md and docs/ run, so the documentation cannot rot.

Convention (also in docs/contributing.md): every fenced block opened with exactly
```` ```python ```` is executed; a block meant to be read but not run (it needs a data
file, a GPU or a cluster, or is a fragment) uses ```` ```py ````, which renders the same.
The blocks of one page run in order in one namespace, in a fresh temporary directory.
"""

from __future__ import annotations

import linecache
import re
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]

_OPEN = re.compile(r"^(?P<indent>[ \t]*)```(?P<info>[^`]*)$")

#: Extras an example may need; without them the page is skipped, not failed.
_OPTIONAL = {"onnx", "onnxruntime", "optuna", "pyspark", "matplotlib", "pyarrow", "h5py"}


def python_blocks(text: str) -> list[tuple[int, str]]:
    """(first line number, code) of each ```` ```python ```` block of a Markdown text."""
    blocks, lines, i = [], text.splitlines(), 0
    while i < len(lines):
        opened = _OPEN.match(lines[i])
        if not opened:
            i += 1
            continue
        indent, info = opened["indent"], opened["info"].strip()
        start, i = i + 1, i + 1
        while i < len(lines) and lines[i].strip() != "```":
            i += 1
        if info == "python":
            body = "\n".join(line[len(indent) :] for line in lines[start:i])
            blocks.append((start + 1, textwrap.dedent(body)))
        i += 1
    return blocks


def _pages_with_examples() -> list[Path]:
    return [page for page in PAGES if python_blocks(page.read_text(encoding="utf-8"))]


def test_the_block_finder_keeps_python_and_skips_py_bash_and_text():
    text = (
        "# t\n\n```python\nx = 1\n```\n\n```py\nnot_run()\n```\n\n"
        "```bash\nls\n```\n\n- item\n\n  ```python\n  y = x + 1\n  ```\n"
    )
    assert python_blocks(text) == [(4, "x = 1"), (18, "y = x + 1")]


def test_the_readme_and_the_guides_have_examples_to_run():
    names = {page.relative_to(ROOT).as_posix() for page in _pages_with_examples()}
    assert {"README.md", "docs/getting-started.md", "docs/guide/estimator.md"} <= names


@pytest.mark.parametrize(
    "page", _pages_with_examples(), ids=lambda page: page.relative_to(ROOT).as_posix()
)
def test_examples_run(page, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "__docs_example__"}
    for line, code in python_blocks(page.read_text(encoding="utf-8")):
        where = f"{page.relative_to(ROOT).as_posix()}, block at line {line}"
        # Tracebacks then show the example's own lines.
        linecache.cache[where] = (len(code), None, code.splitlines(keepends=True), where)
        try:
            exec(compile(code, where, "exec"), namespace)
        except ModuleNotFoundError as error:
            if error.name and error.name.split(".")[0] in _OPTIONAL:
                pytest.skip(f"{where} needs the optional package {error.name!r}")
            raise
