"""The package's layering, checked on the import statements of every module.

dagmm is a library with applications on top of it.

Library (below)
    ``dagmm`` itself (``from dagmm import DAGMM``), ``dagmm.estimators``,
    ``dagmm.nn``, ``dagmm.math``, ``dagmm.training``, ``dagmm.persistence``,
    ``dagmm.evaluation`` (metrics), ``dagmm.datasets``, and the core of
    ``dagmm.distributed`` (process groups, data-parallel training); plus the
    modules every layer shares: ``dagmm.exceptions``, ``dagmm._version`` and
    ``dagmm._suggest`` (the one "did you mean").
Applications (above)
    ``dagmm.tabular`` and ``dagmm.workflow`` (the file workflow),
    ``dagmm.cli``, ``dagmm.benchmark``, ``dagmm.experiments``,
    ``dagmm.reporting``, ``dagmm.demo``, ``dagmm.spark``,
    ``dagmm.distributed.tabular`` (sharded fitting of the file workflow),
    ``dagmm.export`` (ONNX graphs of estimators *and* of file-workflow
    models, so it needs the tabular preprocessing), ``dagmm._vocabulary``
    (how messages name options) and ``dagmm.__main__``.

Rules
    1. The library never imports an application, not even inside a function.
       One exception, listed in :data:`UPWARD_CALLS`: the estimators'
       ``to_onnx`` convenience method hands over to :mod:`dagmm.export`.
    2. An application uses the library only through its public API: it
       imports a library *package* (``dagmm.persistence``, not
       ``dagmm.persistence.atomic``) and only names in that package's
       ``__all__``. The shared modules may be imported directly.
    Applications may import each other freely.

A name an application needs goes into the library package's ``__init__``
and ``__all__``.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"

LIBRARY_PACKAGES = (
    "dagmm.estimators",
    "dagmm.nn",
    "dagmm.math",
    "dagmm.training",
    "dagmm.persistence",
    "dagmm.evaluation",
    "dagmm.datasets",
    "dagmm.distributed",
)
SHARED_MODULES = ("dagmm.exceptions", "dagmm._version", "dagmm._suggest")
APPLICATIONS = (
    "dagmm.tabular",
    "dagmm.workflow",
    "dagmm.cli",
    "dagmm.benchmark",
    "dagmm.experiments",
    "dagmm.reporting",
    "dagmm.demo",
    "dagmm.spark",
    "dagmm.export",
    "dagmm.distributed.tabular",
    "dagmm._vocabulary",
    "dagmm.__main__",
)
#: (library module, application module it may import lazily): each one a reason.
UPWARD_CALLS = {
    # BaseDeepDetector.to_onnx(path) is a shortcut for dagmm.export.export_onnx(model, path).
    ("dagmm.estimators._base", "dagmm.export"),
}


def _within(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(module == prefix or module.startswith(prefix + ".") for prefix in prefixes)


def layer(module: str) -> str:
    """``"application"``, ``"shared"`` or ``"library"``."""
    if _within(module, APPLICATIONS):  # checked first: dagmm.distributed.tabular
        return "application"
    if _within(module, SHARED_MODULES):
        return "shared"
    if module == "dagmm" or _within(module, LIBRARY_PACKAGES):
        return "library"
    raise AssertionError(f"{module} is in no layer: add it to a list in {__name__}")


def _module_name(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_module(name: str) -> bool:
    base = SRC.joinpath(*name.split("."))
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()


def imports(path: Path, text: str | None = None) -> list[tuple[int, str, str | None]]:
    """(line, imported module, imported name or None) of every dagmm import in ``path``.

    ``from dagmm.x import y`` where ``y`` is itself a module counts as importing
    the module ``dagmm.x.y``.
    """
    found = []
    if text is None:
        text = path.read_text(encoding="utf-8")
    tree = ast.parse(text, filename=str(path))
    package = _module_name(path) if path.name == "__init__.py" else _module_name(path).rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name, None) for a in node.names if a.name.split(".")[0] == "dagmm"]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            if base.split(".")[0] != "dagmm":
                continue
            for alias in node.names:
                if _is_module(f"{base}.{alias.name}"):
                    found.append((node.lineno, f"{base}.{alias.name}", None))
                else:
                    found.append((node.lineno, base, alias.name))
    return found


MODULES = sorted(SRC.joinpath("dagmm").rglob("*.py"))


def _violations(sources: dict[Path, str | None]) -> tuple[list[str], list[str]]:
    """(library -> application imports, application -> private library imports)."""
    upward, private = [], []
    for path, text in sources.items():
        source = _module_name(path)
        where = f"{path.relative_to(SRC)}"
        for line, target, name in imports(path, text):
            shown = f"{where}:{line} imports {target}" + (f".{name}" if name else "")
            if layer(source) in ("library", "shared") and layer(target) == "application":
                if not any(
                    _within(source, (lib,)) and _within(target, (app,)) for lib, app in UPWARD_CALLS
                ):
                    upward.append(shown)
            if layer(source) == "application" and layer(target) == "library":
                if target != "dagmm" and target not in LIBRARY_PACKAGES:
                    private.append(f"{shown}: import from the package, not its module")
                elif name is not None and name not in importlib.import_module(target).__all__:
                    private.append(f"{shown}: {name} is not in {target}.__all__")
    return upward, private


VIOLATIONS = _violations(dict.fromkeys(MODULES))


def test_every_module_has_a_layer():
    for path in MODULES:
        layer(_module_name(path))


def test_the_library_never_imports_an_application():
    upward, _ = VIOLATIONS
    assert not upward, "\n".join(upward)


def test_applications_use_only_the_librarys_public_api():
    _, private = VIOLATIONS
    assert not private, "\n".join(private)


@pytest.mark.parametrize(
    ("code", "problem"),
    [
        ("from dagmm.estimators._base import _data_parallel_group", "package"),
        ("from dagmm.math.scaling import constant_columns", "package"),
        ("import dagmm.persistence.atomic", "package"),
        ("from dagmm.estimators import check_widths", "__all__"),
        ("def f():\n    from ..nn import layers", "package"),
    ],
)
def test_the_check_catches_a_private_import(code, problem):
    # A made-up application module with one bad import is reported.
    probe = SRC / "dagmm" / "cli" / "_probe.py"
    upward, private = _violations({probe: code})
    assert not upward and len(private) == 1 and problem in private[0], private


def test_the_check_catches_an_upward_import():
    probe = SRC / "dagmm" / "math" / "_probe.py"
    upward, _ = _violations({probe: "def f():\n    from dagmm.workflow import FitOptions"})
    assert len(upward) == 1 and "dagmm.workflow" in upward[0]
