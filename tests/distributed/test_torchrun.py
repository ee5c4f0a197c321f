"""`torchrun -m dagmm fit DATA_DIR/` on 2 processes equals `dagmm fit DATA_DIR/` in one."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from dagmm.cli import main
from dagmm.workflow.detector import TabularDetector
from dagmm.workflow.synthetic import make_transactions

pytest.importorskip("pyarrow")

TINY = ["--epochs", "2", "--batch-size", "64", "--comp-hiddens", "8,2", "--est-hiddens", "4,2",
        "--device", "cpu", "--seed", "0", "--label-col", "label", "--id-cols", "txn_id"]


def test_torchrun_fit_equals_one_process_fit(tmp_path):
    frame = make_transactions(400, anomaly_fraction=0.05, random_state=0)
    folder = tmp_path / "data"
    folder.mkdir()
    for index, rows in enumerate(np.array_split(np.arange(400), 3)):  # 3 files, row groups of 50
        frame.iloc[rows].to_parquet(folder / f"part-{index}.parquet", index=False, row_group_size=50)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    src = os.path.dirname(os.path.dirname(__import__("dagmm").__file__))
    env["PYTHONPATH"] = os.pathsep.join([src, env.get("PYTHONPATH", "")])
    launched = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
         "-m", "dagmm", "fit", f"{folder}/", "--out", str(tmp_path / "model2"), *TINY],
        capture_output=True, text=True, env=env, timeout=300,
    )
    assert launched.returncode == 0, launched.stderr[-3000:]
    summaries = [line for line in launched.stdout.splitlines() if line.startswith("fitted on")]
    assert len(summaries) == 1, launched.stdout  # rank 0 speaks
    assert "fitted on" in summaries[0] and "labelled anomalies not trained on" in summaries[0]
    assert main(["fit", str(folder), "--out", str(tmp_path / "model1"), "--quiet", *TINY]) == 0
    one, two = TabularDetector.load(tmp_path / "model1"), TabularDetector.load(tmp_path / "model2")
    rows = pd.read_parquet(folder)
    # float32 networks after 2 epochs: differences in the last bits, ~1e-5 of the energy scale
    np.testing.assert_allclose(two.energy(rows), one.energy(rows), rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(two.threshold_, one.threshold_, rtol=1e-5)
    assert two.training_["training_rows"] == one.training_["training_rows"]
    assert two.training_["processes"] == 2
    assert two.preprocessor_.feature_names_out_ == one.preprocessor_.feature_names_out_
