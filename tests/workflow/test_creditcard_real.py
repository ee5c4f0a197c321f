"""The credit-card loader and example on the real ULB sample in DAGMM_DATA_HOME (skipped without it)."""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path

import numpy as np
import pytest

from dagmm.datasets import DATA_HOME_ENV, load_creditcard

pytestmark = [
    pytest.mark.integration,
    pytest.mark.filterwarnings("ignore::dagmm.tabular.TabularWarning"),
]

SAMPLE = "creditcard_sample.csv"
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "creditcard.py"


def load_example():
    spec = importlib.util.spec_from_file_location("creditcard_example", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def data_home() -> Path:
    home = os.environ.get(DATA_HOME_ENV, "")
    if not home:
        pytest.skip(f"{DATA_HOME_ENV} is not set; point it at the folder with the real data files")
    if not (Path(home) / SAMPLE).is_file():
        pytest.skip(f"{SAMPLE} is not in {DATA_HOME_ENV}={home}")
    return Path(home)


def test_loader_parses_the_sample(data_home):
    bunch = load_creditcard(data_home, file="sample")
    assert bunch.kind == "sample" and bunch.data.shape == (5492, 30)
    assert int(bunch.target.sum()) == 492  # every fraud of the full file
    assert bunch.fraud_share == pytest.approx(0.0896, abs=1e-4)
    assert "8.96%" in bunch.note and "not comparable" in bunch.note
    frauds = bunch.data[bunch.target == 1, -1]  # Amount: the published figures of the 492 frauds
    assert frauds.sum() == pytest.approx(60_127.97, abs=0.01) and frauds.max() == 2125.87
    assert bunch.feature_names[0] == "Time" and not np.isnan(bunch.data).any()


def test_example_runs_end_to_end_on_the_sample(data_home, tmp_path, capsys):
    out = tmp_path / "run"
    results = load_example().main(
        [
            "--data-home",
            str(data_home),
            "--file",
            "sample",
            "--trials",
            "1",
            "--epochs",
            "1",
            "--out",
            str(out),
            "--quiet",
        ]  # fmt: skip
    )
    printed = capsys.readouterr().out
    assert "real data, sample file: 5492 transactions, 492 frauds" in printed
    assert "not comparable" in printed and "rescaled to the natural share" in printed
    assert "$ dagmm tune" in printed and "$ dagmm evaluate" in printed
    assert set(results) == {
        "dagmm fit (defaults)",
        "isolation forest",
        "dagmm tuned (final test half)",
        "dagmm fit (final test half)",
        "isolation forest (final test half)",
    }
    for metrics in results.values():
        assert 0.5 < metrics["auroc"] <= 1.0 and 0.0 < metrics["auprc"] <= 1.0
        assert metrics["recall"] >= 0.8 and 0 <= metrics["precision_at_recall_natural"] <= 1
    saved = json.loads((out / "results.json").read_text())
    assert saved["file"] == "sample" and saved["results"] == json.loads(json.dumps(results))
    assert (out / "fit-report" / "report.html").is_file()
