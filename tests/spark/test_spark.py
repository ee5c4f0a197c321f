"""Spark: scores equal `dagmm score`; `--engine spark`; TorchDistributor training.

One local[2] session for the module (starting Spark and its Python workers is
the slow part); tiny data.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("pyspark")
pytest.importorskip("pyarrow")
if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
    pytest.skip("Spark needs Java 17 (no java here)", allow_module_level=True)

from dagmm.cli import main  # noqa: E402
from dagmm.workflow.detector import TabularDetector  # noqa: E402
from dagmm.workflow.options import FitOptions  # noqa: E402
from dagmm.workflow.synthetic import make_transactions  # noqa: E402

TINY = ["--epochs", "2", "--batch-size", "64", "--comp-hiddens", "8,2", "--est-hiddens", "4,2",
        "--device", "cpu", "--seed", "0", "--label-col", "label", "--id-cols", "txn_id"]


@pytest.fixture(scope="module")
def spark():
    src = str(Path(__import__("dagmm").__file__).parents[1])
    os.environ["PYSPARK_PYTHON"] = sys.executable  # workers: this interpreter, this dagmm
    os.environ["PYTHONPATH"] = os.pathsep.join([src, os.environ.get("PYTHONPATH", "")])
    from dagmm.spark import spark_session

    session = spark_session("local[2]", app_name="dagmm-tests")
    session.conf.set("spark.sql.execution.arrow.maxRecordsPerBatch", "150")  # several batches
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("spark")
    make_transactions(400, random_state=0).to_parquet(root / "train.parquet", index=False)
    new = make_transactions(500, anomaly_fraction=0.05, unseen_categories=True, random_state=1)
    (root / "new").mkdir()
    for index, rows in enumerate(np.array_split(np.arange(len(new)), 2)):
        new.iloc[rows].to_parquet(root / "new" / f"part-{index}.parquet", index=False)
    assert main(["fit", str(root / "train.parquet"), "--out", str(root / "model"), "--quiet", *TINY]) == 0
    assert main(["score", str(root / "new"), "--model", str(root / "model"), "--explain",
                 "--out", str(root / "local.csv"), "--quiet"]) == 0
    return root


def _by_id(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.set_index("txn_id").sort_index()


def test_spark_scores_equal_dagmm_score(spark, files):
    from dagmm.spark import score

    df = spark.read.parquet(str(files / "new"))
    scored = score(df, files / "model", explain=True).toPandas()
    assert list(scored.columns) == [*df.columns, "energy", "score", "is_anomaly",
                                    "top_columns", "component", "component_probability"]
    got, want = _by_id(scored), _by_id(pd.read_csv(files / "local.csv"))
    assert len(got) == len(want) == 500
    # Batches of 150 rows start anywhere in the files; rows are re-aligned to
    # their `dagmm score` positions, so the scores agree (bit for bit, in fact).
    np.testing.assert_allclose(got["energy"], want["energy"], rtol=1e-6)
    np.testing.assert_array_equal(got["score"], want["score"])
    np.testing.assert_array_equal(got["is_anomaly"], want["is_anomaly"])
    assert got["is_anomaly"].sum() > 0
    np.testing.assert_array_equal(got["component"], want["component"])
    np.testing.assert_array_equal(got["top_columns"], want["top_columns"])


def test_dagmm_score_engine_spark_writes_parquet_parts(spark, files):
    out = files / "scores"
    for _ in range(2):  # the second run replaces the first output
        assert main(["score", str(files / "new"), "--model", str(files / "model"), "--out",
                     str(out), "--engine", "spark", "--master", "local[2]", "--quiet"]) == 0
    parts = sorted(out.glob("part-*.parquet"))
    assert parts and not list(files.glob("scores.*"))  # no leftovers beside it
    written = pd.concat([pd.read_parquet(part) for part in parts], ignore_index=True)
    assert list(written.columns) == ["txn_id", "energy", "score", "is_anomaly"]
    local = pd.read_csv(files / "local.csv")
    assert written["txn_id"].tolist() == local["txn_id"].tolist()  # parts keep the input order
    np.testing.assert_allclose(written["energy"], local["energy"], rtol=1e-6)


def test_engine_options_are_checked(files, capsys):
    common = ["score", str(files / "new"), "--model", str(files / "model"), "--out", str(files / "x.csv")]
    assert main([*common, "--engine", "dask"]) == 2
    assert "'dask' is not an engine" in capsys.readouterr().err
    assert main([*common, "--master", "local[2]"]) == 2
    assert "--master applies to --engine spark" in capsys.readouterr().err


def test_torch_distributor_fit_equals_one_process_fit(spark, files):
    from dagmm.spark import fit_with_distributor

    options = FitOptions(label_col="label", id_cols=("txn_id",), epoch_size=2, minibatch_size=64,
                         comp_hiddens=(8, 2), est_hiddens=(4, 2), device="cpu", random_state=0)
    summary = fit_with_distributor(files / "new", files / "model_td", options, num_processes=2)
    assert summary.startswith("fitted on")
    assert main(["fit", str(files / "new"), "--out", str(files / "model_one"), "--quiet", *TINY]) == 0
    rows = pd.read_parquet(files / "new")
    two, one = TabularDetector.load(files / "model_td"), TabularDetector.load(files / "model_one")
    np.testing.assert_allclose(two.energy(rows), one.energy(rows), rtol=1e-5, atol=1e-4)
    assert two.training_["processes"] == 2
