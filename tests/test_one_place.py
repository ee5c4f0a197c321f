"""One place for each idea: each shared piece exists once and the others call it.

The static checks read the source: the sklearn ranking metrics, ``difflib`` and
``os.replace`` appear only in the one module that owns them. The behavioural
checks pin what the shared pieces do for their callers.
"""

from __future__ import annotations

import ast
import os
from pathlib import Path

import numpy as np
import pytest

from dagmm._suggest import closest, suggest
from dagmm.distributed import sharded_scaling_statistics
from dagmm.estimators._base import scaling_statistics
from dagmm.persistence import replace_dir

SRC = Path(__file__).resolve().parents[1] / "src" / "dagmm"

#: name used in the source -> the one module (relative to src/dagmm) allowed to use it.
OWNERS = {
    "roc_auc_score": "evaluation/metrics.py",
    "average_precision_score": "evaluation/metrics.py",
    "difflib": "_suggest.py",
    "replace": "persistence/atomic.py",  # os.replace
    "mkstemp": None,  # temporary names come from persistence.atomic.temp_path_for
    "percentile": None,  # thresholds are np.quantile in dagmm.evaluation; nobody needs percentile
}


def _uses(tree: ast.AST, name: str) -> bool:
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr == name:
            if name != "replace" or (isinstance(node.value, ast.Name) and node.value.id == "os"):
                return True
        if isinstance(node, ast.Name) and node.id == name and name != "replace":
            return True
        if isinstance(node, (ast.Import, ast.ImportFrom)) and name != "replace":
            if any(alias.name.split(".")[0] == name for alias in node.names):
                return True
    return False


@pytest.mark.parametrize("name", sorted(OWNERS))
def test_each_shared_piece_has_one_home(name):
    users = [
        str(path.relative_to(SRC))
        for path in sorted(SRC.rglob("*.py"))
        if _uses(ast.parse(path.read_text(encoding="utf-8")), name)
    ]
    assert users == ([OWNERS[name]] if OWNERS[name] else []), users


def test_closest_and_suggest():
    assert closest("tahn", ["tanh", "relu"]) == "tanh"
    assert closest(7, ["seven"]) is None
    assert suggest("amuont", ("amount", "time")) == " (did you mean 'amount'?)"
    assert suggest("zzz", ["amount"]) == ""


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: __import__("dagmm").DAGMM(random_seed=1), "did you mean random_state"),
        (lambda: __import__("dagmm").DAGMM(comp_activation="tahn").fit(np.zeros((8, 2))),
         "did you mean 'tanh'"),
        (lambda: __import__("dagmm.benchmark", fromlist=["x"]).make_model("dagm", "toy", 0),
         "Did you mean 'dagmm'"),
    ],
)
def test_every_unknown_name_message_suggests_through_the_one_helper(make, match):
    with pytest.raises((TypeError, ValueError), match=match):
        make()


def test_deprecated_report_writers_warn_and_delegate(monkeypatch, tmp_path):
    from dagmm.benchmark import runner
    from dagmm.workflow import evaluation

    monkeypatch.setattr(runner, "write_benchmark_report", lambda out, records: ("bench", out))
    monkeypatch.setattr(evaluation, "write_evaluation_report", lambda r, out, title: ("eval", title))
    with pytest.warns(DeprecationWarning, match="write_benchmark_report"):
        assert runner.write_report(tmp_path) == ("bench", tmp_path)
    with pytest.warns(DeprecationWarning, match="write_evaluation_report"):
        assert evaluation.write_report(None, tmp_path, title="t") == ("eval", "t")


def test_reporting_write_atomic_is_a_deprecated_alias(tmp_path):
    from dagmm import reporting

    with pytest.warns(DeprecationWarning, match="dagmm.persistence.atomic_write"):
        reporting.write_atomic(tmp_path / "a.txt", "text")
    assert (tmp_path / "a.txt").read_text() == "text"


# ------------------------------------------------------------ replace_dir
def _folder(path: Path, content: str) -> Path:
    path.mkdir()
    (path / "part-0.parquet").write_text(content)
    return path


def test_replace_dir_moves_a_new_folder_into_place(tmp_path):
    target = replace_dir(_folder(tmp_path / "new", "1"), tmp_path / "out")
    assert (target / "part-0.parquet").read_text() == "1"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_replace_dir_swaps_out_an_old_folder_and_removes_it(tmp_path):
    _folder(tmp_path / "out", "old")
    replace_dir(_folder(tmp_path / "new", "new"), tmp_path / "out")
    assert (tmp_path / "out" / "part-0.parquet").read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_replace_dir_puts_the_old_folder_back_when_the_move_fails(tmp_path, monkeypatch):
    _folder(tmp_path / "out", "old")
    new = _folder(tmp_path / "new", "new")
    real, calls = os.replace, []

    def flaky(source, destination):
        calls.append(source)
        if len(calls) == 2:  # the move of the new folder
            raise OSError("disk full")
        return real(source, destination)

    monkeypatch.setattr(os, "replace", flaky)
    with pytest.raises(OSError, match="disk full"):
        replace_dir(new, tmp_path / "out")
    assert (tmp_path / "out" / "part-0.parquet").read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new", "out"]


# ------------------------------------------------------------ scaling
class _OneRank:
    """A process group of one rank: every reduction is the identity."""

    def total(self, values, dtype=None):
        return np.asarray(values, dtype=np.float64)

    def extreme(self, values, *, largest):
        return np.asarray(values, dtype=np.float64)


@pytest.mark.parametrize("normalize", [True, "standard", "minmax", False])
def test_sharded_scaling_follows_the_one_constant_column_rule(normalize):
    rng = np.random.default_rng(0)
    X = np.column_stack(
        [
            rng.normal(size=50),  # ordinary
            np.full(50, 3.0),  # constant
            1e6 + 1e-9 * rng.normal(size=50),  # constant up to 1e-15 relative: rounding
            1e-9 * rng.normal(size=50),  # tiny but not constant (a unit choice)
        ]
    )
    center, scale = sharded_scaling_statistics(X, normalize, _OneRank())
    expected_center, expected_scale = scaling_statistics(X, normalize)
    np.testing.assert_allclose(center, expected_center, rtol=1e-12)
    np.testing.assert_allclose(scale, expected_scale, rtol=1e-9)
    if normalize:
        assert scale[1] == scale[2] == 1.0 and center[1] == 3.0 and scale[3] < 1e-8
