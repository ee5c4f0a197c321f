"""The credit-card workflow (examples/creditcard.py) on a synthetic file with the real columns."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from dagmm.datasets.creditcard import CREDITCARD_FEATURES
from dagmm.workflow import make_creditcard_like

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "creditcard.py"

pytestmark = pytest.mark.filterwarnings("ignore::dagmm.tabular.TabularWarning")


def load_example():
    spec = importlib.util.spec_from_file_location("creditcard_example", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_synthetic_file_has_the_real_columns():
    frame = make_creditcard_like(2000, fraud_fraction=0.01, random_state=0)
    assert frame.columns.tolist() == [*CREDITCARD_FEATURES, "Class"]
    assert frame["Class"].sum() == 20 and set(frame["Class"]) == {0, 1}
    assert frame["Time"].is_monotonic_increasing and frame["Time"].between(0, 2 * 86400).all()
    assert (frame["Amount"] >= 0).all()
    spread = frame.loc[frame["Class"] == 0, [f"V{i}" for i in range(1, 29)]].std().to_numpy()
    assert spread[0] > spread[-1] and np.all(spread > 0.2)
    again = make_creditcard_like(2000, fraud_fraction=0.01, random_state=0)
    assert frame.equals(again)


def test_the_whole_workflow_on_synthetic_data(tmp_path, capsys):
    results = load_example().main(
        [
            "--synthetic",
            "--rows",
            "2500",
            "--fraud-fraction",
            "0.02",
            "--trials",
            "2",
            "--epochs",
            "2",
            "--out",
            str(tmp_path),
            "--quiet",
        ]
    )
    output = capsys.readouterr().out
    assert "$ dagmm fit" in output and "$ dagmm tune" in output and "$ dagmm evaluate" in output
    assert set(results) == {
        "dagmm fit (defaults)",
        "isolation forest",
        "dagmm tuned (final test half)",
        "dagmm fit (final test half)",
        "isolation forest (final test half)",
    }
    for metrics in results.values():
        assert 0.0 <= metrics["auprc"] <= 1.0 and 0.0 <= metrics["auroc"] <= 1.0
    assert "synthetic file; precision at recall 0.8" in output
    for report in ("fit-report", "tune-report"):
        assert (tmp_path / report / "report.html").is_file()
    assert (tmp_path / "tune" / "trials.csv").is_file() and (tmp_path / "results.json").is_file()


def test_missing_real_file_says_where_to_get_it(tmp_path, capsys):
    with pytest.raises(SystemExit) as stop:
        load_example().main(["--data-home", str(tmp_path), "--out", str(tmp_path / "out")])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert "creditcard.csv" in err and "kaggle.com" in err and "--synthetic" in err
