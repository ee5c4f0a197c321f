"""Core dependencies are what the library needs; the applications' are extras.

The library (see ``tests/test_layering.py``) imports and fits without pandas
and typer; the command-line tool, when one of its packages is missing, says in
one line which extra to install.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def _names(requirements: list[str]) -> set[str]:
    return {re.split(r"[<>=~!;\[ ]", requirement, maxsplit=1)[0] for requirement in requirements}


def test_core_dependencies_are_the_librarys():
    assert _names(PROJECT["dependencies"]) == {
        "torch", "numpy", "scipy", "scikit-learn", "safetensors", "tqdm",
    }  # fmt: skip


def test_extras_hold_the_applications_and_dev_installs_everything():
    extras = PROJECT["optional-dependencies"]
    assert "pandas" in _names(extras["tabular"])
    assert {"typer", "dagmm"} <= _names(extras["cli"]) and "dagmm[tabular]" in extras["cli"]
    assert _names(extras["docs"]) == {"mkdocs", "mkdocs-material", "mkdocstrings"}
    assert "mkdocstrings[python]" in extras["docs"]
    assert re.fullmatch(r"dagmm\[(.*)\]", extras["all"][0]).group(1).split(",") == [
        "cli", "plot", "tune", "io", "onnx",
    ]  # fmt: skip
    assert extras["dev"][0] == "dagmm[all,spark,docs]"
    bootstrap = (ROOT / "scripts" / "bootstrap.py").read_text(encoding="utf-8")
    assert '".[dev]"' in bootstrap  # the one command installs every extra


LIBRARY_WITHOUT_APPLICATION_PACKAGES = """
import sys
import numpy as np
import dagmm
from dagmm import DAGMM, VAEDetector
import dagmm.datasets, dagmm.distributed, dagmm.evaluation, dagmm.math, dagmm.nn
import dagmm.persistence, dagmm.training
X = np.random.default_rng(0).normal(size=(64, 4))
model = DAGMM(comp_hiddens=(4, 1), est_hiddens=(4, 2), epoch_size=1).fit(X)
print(dagmm.evaluation.auroc([0] * 60 + [1] * 4, model.energy(X)) >= 0)
try:
    dagmm.datasets.load_kddcup99(data_home="nowhere")
except ImportError as error:
    print(error)
assert "pandas" not in sys.modules and "typer" not in sys.modules
"""


def test_the_library_imports_and_fits_without_pandas_and_typer(tmp_path):
    # Stand-ins that fail to import as a missing package does, first on the path.
    for name in ("pandas", "typer"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "__init__.py").write_text(
            f"raise ModuleNotFoundError(\"No module named '{name}'\", name={name!r})\n"
        )
    path = os.pathsep.join([str(tmp_path), str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])
    result = subprocess.run(
        [sys.executable, "-c", LIBRARY_WITHOUT_APPLICATION_PACKAGES],
        capture_output=True, text=True, timeout=300, env={**os.environ, "PYTHONPATH": path},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "True",
        "load_kddcup99 needs pandas: pip install 'dagmm[tabular]'",
    ]


@pytest.mark.parametrize("missing", ["typer", "pandas"])
def test_the_cli_names_the_extra_when_a_package_is_missing(monkeypatch, capsys, missing):
    # Forget the CLI's and the workflow's modules so that they are imported again.
    for name in list(sys.modules):
        if name.startswith(("dagmm.cli", "dagmm.workflow", "dagmm.tabular")):
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, missing, None)
    import dagmm.cli
    from dagmm.cli import main

    assert main(["fit", "--help"]) == 1
    assert (dagmm.cli.app is None) == (missing == "typer")  # the package imports all the same
    err = capsys.readouterr().err.strip()
    assert err == (
        f"dagmm: the command-line tool needs {missing}, which is not installed: "
        "pip install 'dagmm[cli]'"
    )
