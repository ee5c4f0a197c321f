"""The test suite's layout: tests/ mirrors src/dagmm/ (see tests/README.md)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import dagmm

TESTS = Path(__file__).resolve().parent
PACKAGES = {
    entry.name
    for entry in Path(dagmm.__file__).resolve().parent.iterdir()
    if (entry / "__init__.py").is_file()
}
#: Folders of tests that span several packages at once (documented in tests/README.md).
CROSS_CUTTING = {"reliability", "docs"}


def _folders() -> list[Path]:
    # Folders with Python files only: a moved folder may leave its __pycache__ behind.
    return [
        entry
        for entry in TESTS.iterdir()
        if entry.is_dir()
        and not entry.name.startswith((".", "_"))
        and any(path.suffix == ".py" for path in entry.rglob("*.py"))
    ]


def test_every_test_folder_is_named_after_a_package_of_src():
    assert {"estimators", "persistence"} <= PACKAGES  # the discovery itself works
    strays = sorted(
        folder.name for folder in _folders() if folder.name not in PACKAGES | CROSS_CUTTING
    )
    assert strays == [], (
        f"tests/{strays[0]}/ names no package of src/dagmm; move its tests to "
        "tests/<package>/ of the code they test, or document a cross-cutting folder in "
        "tests/README.md and CROSS_CUTTING"
    )


def test_test_module_basenames_are_unique_without_init_files():
    modules = [path for path in TESTS.rglob("*.py") if "__pycache__" not in path.parts]
    assert not [path for path in modules if path.name == "__init__.py"], (
        "tests/ has no __init__.py files: pytest imports test modules by basename"
    )
    counts = Counter(path.name for path in modules if path.name != "conftest.py")
    assert [name for name, count in counts.items() if count > 1] == []
