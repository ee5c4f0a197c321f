"""Train data-parallel and score on Spark: the recipe of docs/guide/deploying.md, end to end.

Writes a small folder of Parquet files, trains DAGMM on it in 2 processes
started by Spark's ``TorchDistributor`` (each reads its share of the row
groups; the result equals a one-process fit on the same rows), then scores
the folder with ``dagmm.spark.score`` (``mapInPandas``; the model directory
is broadcast once and loaded once per Python worker) and shows the flagged
rows. Needs ``pip install 'dagmm[spark]'`` and Java 17::

    python examples/spark_at_scale.py [--workdir DIR] [--master local[2]]

On a cluster, put DATA and MODEL on storage every node reads, use
``local_mode=False`` (processes on the executors) and ``--master`` of the
cluster.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np

from dagmm.spark import fit_with_distributor, score, spark_session
from dagmm.workflow import make_creditcard_like
from dagmm.workflow.options import FitOptions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--processes", type=int, default=2)
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="dagmm-at-scale-"))
    data = workdir / "transactions"
    data.mkdir(parents=True, exist_ok=True)
    table = make_creditcard_like(20_000, random_state=0)
    table.insert(0, "txn_id", [f"t{i:06d}" for i in range(len(table))])
    for index, rows in enumerate(np.array_split(np.arange(len(table)), 4)):
        table.iloc[rows].to_parquet(data / f"part-{index:05d}.parquet", index=False, row_group_size=2_000)

    spark = spark_session(args.master, app_name="dagmm-at-scale")
    spark.sparkContext.setLogLevel("ERROR")
    options = FitOptions(
        label_col="Class", id_cols=("txn_id",), drop_cols=("Time",), epoch_size=5, random_state=0
    )
    print(fit_with_distributor(data, workdir / "model", options, num_processes=args.processes))

    scored = score(spark.read.parquet(str(data)), workdir / "model", explain=True)
    flagged = scored.where("is_anomaly = 1").select("txn_id", "Class", "energy", "top_columns")
    print(f"{flagged.count()} of {scored.count()} rows flagged; the most anomalous:")
    flagged.orderBy("energy", ascending=False).show(5, truncate=60)
    spark.stop()


if __name__ == "__main__":
    main()
