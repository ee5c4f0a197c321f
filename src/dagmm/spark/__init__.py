"""Score Spark DataFrames with a saved model, and train with Spark's TorchDistributor.

Scoring (:func:`score`) appends ``energy``, ``score`` and ``is_anomaly`` (and,
with ``explain``, ``top_columns``, ``component`` and
``component_probability``) to a DataFrame:

* the model directory's files are read once on the driver and broadcast as
  bytes (a few hundred kB: JSON and safetensors, never a pickled model);
* each Python worker writes them to a private folder and loads the model
  there once (:func:`_worker_detector`; Spark reuses its Python workers), then
  scores Arrow batches through ``mapInPandas`` with
  :meth:`~dagmm.workflow.TabularDetector.score_frame`: the code path of
  ``dagmm score``, so scores equal the one-process scores (to float32
  rounding, which depends on how rows are batched: within 1e-6 relative).

``dagmm score DATA --model M --out OUT --engine spark`` uses
:func:`score_file`; ``pip install 'dagmm[spark]'`` (pyspark 4, Java 17).

Training through Spark (:func:`fit_with_distributor`) runs the same
data-parallel fit as ``torchrun -m dagmm fit`` (:mod:`dagmm.distributed`)
in processes started by ``pyspark.ml.torch.distributor.TorchDistributor``.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["SparkScoreReport", "fit_with_distributor", "score", "score_file", "spark_session"]

_SCORE_COLUMNS = ("energy", "score", "is_anomaly")
_EXPLAIN_COLUMNS = ("top_columns", "component", "component_probability")


def _pyspark() -> Any:
    try:
        import pyspark
        import pyspark.sql
    except ImportError:
        raise ImportError(
            "scoring or training on Spark needs pyspark (and Java 17): pip install 'dagmm[spark]'"
        ) from None
    return pyspark


def _model_files(model_dir: str | os.PathLike) -> dict[str, bytes]:
    """Every file of the model directory, by name, as bytes (after checking it loads)."""
    from dagmm.workflow.detector import TabularDetector

    root = Path(model_dir)
    TabularDetector.load(root)  # a clear error now, on the driver, not in every task
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


_WORKER_MODELS: dict[str, Any] = {}


def _worker_detector(digest: str, files: Any, device: str | None) -> Any:
    """The model of ``files`` (a broadcast), loaded once per Python worker process."""
    if digest not in _WORKER_MODELS:
        from dagmm.workflow.detector import TabularDetector

        folder = Path(tempfile.mkdtemp(prefix="dagmm-model-"))
        try:
            for name, content in files.value.items():
                target = folder / name
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(content)
            _WORKER_MODELS[digest] = TabularDetector.load(folder, device=device)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    return _WORKER_MODELS[digest]


def score(
    df: Any,
    model_dir: str | os.PathLike,
    *,
    explain: bool = False,
    top_columns: int = 3,
    threshold: Any = None,
    device: str | None = "cpu",
) -> Any:
    """``df`` with the score columns of ``dagmm score`` appended (lazily, as Spark does).

    Parameters
    ----------
    df : pyspark.sql.DataFrame
        Rows with the columns the model was fitted on; all columns are kept.
    model_dir : path-like
        A model directory from ``dagmm fit``, readable by the driver.
    explain : bool, default=False
        Also append ``top_columns``, ``component`` and ``component_probability``.
    top_columns : int, default=3
    threshold : ThresholdPolicy, optional
        Flag by this contamination or fpr policy instead of the model's threshold.
    device : str, default="cpu"
        Where workers run the network.

    Returns
    -------
    pyspark.sql.DataFrame

    Examples
    --------
    >>> from dagmm.spark import score  # doctest: +SKIP
    >>> scored = score(spark.read.parquet("transactions/"), "model", explain=True)  # doctest: +SKIP
    >>> scored.where("is_anomaly = 1").write.parquet("flagged/")  # doctest: +SKIP
    """
    _pyspark()
    from pyspark.sql import types as T

    from dagmm.exceptions import DataError
    from dagmm.workflow.detector import TabularDetector

    files = _model_files(model_dir)
    driver_model = TabularDetector.load(model_dir, device="cpu")
    cut = driver_model.threshold_ if threshold is None else driver_model.threshold_for(threshold)
    new_columns = [*_SCORE_COLUMNS, *(_EXPLAIN_COLUMNS if explain else ())]
    clash = [name for name in new_columns if name in df.columns]
    if clash:
        raise DataError(f"the DataFrame already has column(s) {clash}; rename them before scoring")
    needed = [*driver_model.preprocessor_.input_columns_, *driver_model.preprocessor_.id_columns_]
    absent = [name for name in dict.fromkeys(needed) if name not in df.columns]
    if absent:
        raise DataError(
            f"the DataFrame lacks column(s) {absent} that the model was fitted with; "
            f"it has {df.columns}"
        )
    fields = [
        T.StructField("energy", T.DoubleType()),
        T.StructField("score", T.DoubleType()),
        T.StructField("is_anomaly", T.ByteType()),
    ]
    if explain:
        fields += [
            T.StructField("top_columns", T.StringType()),
            T.StructField("component", T.LongType()),
            T.StructField("component_probability", T.DoubleType()),
        ]
    schema = T.StructType([*df.schema.fields, *fields])
    digest = hashlib.sha256(b"".join(k.encode() + v for k, v in files.items())).hexdigest()
    shipped = df.sparkSession.sparkContext.broadcast(files)
    columns = list(df.columns)
    source = _with_file_positions(df)

    def score_batches(batches: Iterator[Any]) -> Iterator[Any]:
        detector = _worker_detector(digest, shipped, device)
        for batch in batches:
            if len(batch) == 0:
                continue
            batch = batch.reset_index(drop=True)
            positions = batch.pop(_POSITION) if _POSITION in batch.columns else None
            scores = _score_aligned(
                detector, batch, positions,
                dict(explain=explain, top_columns=top_columns, threshold=cut),
            )
            out = batch[columns]
            for name in new_columns:
                out[name] = scores[name].to_numpy()
            yield out

    return source.mapInPandas(score_batches, schema)


#: Temporary column holding each row's position in its Parquet file.
_POSITION = "__dagmm_file_row__"


def _with_file_positions(df: Any) -> Any:
    """``df`` plus each row's position in its source file, where Spark knows it (Parquet)."""
    from pyspark.sql import functions as F

    try:
        with_positions = df.select("*", F.col("_metadata.row_index").alias(_POSITION))
        _ = with_positions.schema  # resolves the plan: fails where there is no such metadata
    except Exception:  # noqa: BLE001 - any source without row positions (AnalysisException, ...)
        return df
    return with_positions


def _score_aligned(detector: Any, batch: Any, positions: Any, options: dict) -> Any:
    """``detector.score_frame`` of a batch, each row at its ``dagmm score`` position.

    ``dagmm score`` scores a file in chunks that start at multiples of
    :data:`~dagmm.workflow.scoring.CHUNK_ALIGNMENT` rows, which puts each row
    in the same lane of the float32 matrix kernels wherever it is scored (see
    :mod:`dagmm.workflow.scoring`). A Spark batch starts anywhere in a file;
    each run of consecutive file rows is therefore preceded by copies of its
    first row up to the previous multiple, and those copies' scores dropped,
    so Spark's scores equal ``dagmm score``'s bit for bit. Without positions
    (a source other than Parquet files) the batch is scored as it comes, and
    scores agree to float32 rounding.
    """
    import numpy as np
    import pandas as pd

    from dagmm.workflow.scoring import CHUNK_ALIGNMENT

    if positions is None:
        return detector.score_frame(batch, **options)
    where = positions.to_numpy()
    starts = np.flatnonzero(np.diff(where) != 1) + 1
    pieces = []
    for run in np.split(np.arange(len(batch)), starts):
        part = batch.iloc[run]
        pad = int(where[run[0]] % CHUNK_ALIGNMENT)
        padded = pd.concat([part.iloc[[0] * pad], part]) if pad else part
        pieces.append(detector.score_frame(padded, **options).iloc[pad:])
    return pd.concat(pieces, ignore_index=True)


@dataclass(frozen=True)
class SparkScoreReport:
    """What :func:`score_file` did (the fields of ``dagmm score``'s report)."""

    rows: int
    flagged: int
    threshold: float
    policy: str
    out: Path
    seconds: float

    def summary(self) -> str:
        share = self.flagged / self.rows if self.rows else 0.0
        return (
            f"scored {self.rows} rows on Spark in {self.seconds:.1f} s: {self.flagged} flagged "
            f"({share:.2%}) above energy {self.threshold:.6g} ({self.policy}); wrote the Parquet "
            f"folder '{self.out}'"
        )


def spark_session(master: str | None = None, app_name: str = "dagmm") -> Any:
    """A SparkSession (the active one when ``master`` is None and one exists)."""
    _pyspark()
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.appName(app_name)
    if master:
        builder = builder.master(master)
    elif not SparkSession.getActiveSession() and "SPARK_MASTER" not in os.environ:
        builder = builder.master("local[*]")
    return builder.getOrCreate()


def _read(spark: Any, data: Path) -> Any:
    from dagmm.tabular.folders import table_files
    from dagmm.tabular.io import _format_of

    if not data.exists():
        raise FileNotFoundError(f"data '{data}' does not exist; check the path")
    files = table_files(data) if data.is_dir() else [data]
    kind = _format_of(files[0])
    paths = [str(path) for path in files]
    if kind.kind == "parquet":
        return spark.read.parquet(*paths)
    return spark.read.csv(paths, header=True, sep=kind.sep, inferSchema=True)


def score_file(
    data: str | os.PathLike,
    model: str | os.PathLike,
    out: str | os.PathLike,
    *,
    master: str | None = None,
    explain: bool = False,
    top_columns: int = 3,
    threshold: Any = None,
    device: str | None = "cpu",
) -> SparkScoreReport:
    """``dagmm score --engine spark``: score a file or folder on Spark into a Parquet folder.

    ``out`` becomes a folder of Parquet parts (Spark's layout) holding the
    model's id columns, ``energy``, ``score``, ``is_anomaly`` (and the
    explanation columns), the parts in the order of the input rows. It is
    written beside, under a hidden name, and renamed into place when
    complete: a failure leaves no partial folder and an existing ``out``
    untouched.
    """
    from dagmm.exceptions import DataError
    from dagmm.persistence import replace_dir
    from dagmm.workflow.detector import TabularDetector

    started = time.perf_counter()
    source, target = Path(data), Path(out)
    detector = TabularDetector.load(model, device="cpu")
    if target.exists() and not target.is_dir():
        raise DataError(f"--out '{target}' is a file; Spark writes a folder of Parquet parts")
    if target.exists() and not any(target.glob("*.parquet")) and any(target.iterdir()):
        raise DataError(f"--out '{target}' is a folder that is not a Spark Parquet output; choose another")
    cut = detector.threshold_ if threshold is None else detector.threshold_for(threshold)
    policy = (threshold or detector.threshold_policy_).describe()
    spark = spark_session(master)
    frame = _read(spark, source)
    pre = detector.preprocessor_
    needed = list(dict.fromkeys([*pre.input_columns_, *pre.id_columns_]))
    absent = [name for name in needed if name not in frame.columns]
    if absent:
        raise DataError(f"'{source}' has no column(s) {absent}; its columns are {frame.columns}")
    scored = score(frame.select(*needed), model, explain=explain, top_columns=top_columns,
                   threshold=threshold, device=device)
    keep = [*pre.id_columns_, *_SCORE_COLUMNS, *(_EXPLAIN_COLUMNS if explain else ())]
    # Beside the target, not hidden: Spark's readers skip names starting with "." or "_".
    temporary = target.parent / f"{target.name}.{uuid.uuid4().hex[:12]}.incomplete"
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        scored.select(*keep).write.parquet(str(temporary))
        rows, flagged = _count_flagged(temporary)
        if rows == 0:
            raise DataError(f"'{source}' has no rows; there is nothing to score")
        replace_dir(temporary, target)  # an earlier Spark output is swapped out and removed
    finally:
        shutil.rmtree(temporary, ignore_errors=True)
    return SparkScoreReport(rows, flagged, cut, policy, target, time.perf_counter() - started)


def _count_flagged(folder: Path) -> tuple[int, int]:
    """(rows, flagged rows) of a written Parquet folder, from its is_anomaly column."""
    import pyarrow.parquet as pq

    rows = flagged = 0
    for part in sorted(folder.glob("*.parquet")):
        column = pq.read_table(part, columns=["is_anomaly"]).column(0)
        rows += len(column)
        flagged += int(column.to_numpy(zero_copy_only=False).astype("int64").sum())
    return rows, flagged


def fit_with_distributor(
    data: str | os.PathLike,
    out: str | os.PathLike,
    options: Any = None,
    *,
    num_processes: int = 2,
    local_mode: bool = True,
    use_gpu: bool = False,
) -> str:
    """Fit data-parallel in processes started by Spark's ``TorchDistributor``; rank 0 saves.

    Each process reads its share of ``data`` (a folder of Parquet files, or
    one Parquet file) as under ``torchrun -m dagmm fit``. Returns the summary
    line of the fit (from rank 0).

    Parameters
    ----------
    data, out : path-like
        Must be readable (``data``) and writable (``out``) where the processes run.
    options : FitOptions, optional
    num_processes : int, default=2
    local_mode : bool, default=True
        Processes on the driver (True) or on the executors (False).
    use_gpu : bool, default=False
    """
    _pyspark()
    from pyspark.ml.torch.distributor import TorchDistributor

    distributor = TorchDistributor(
        num_processes=num_processes, local_mode=local_mode, use_gpu=use_gpu
    )
    return distributor.run(_distributed_fit, str(data), str(out), options)


def _distributed_fit(data: str, out: str, options: Any) -> str:
    """Body of each TorchDistributor process (module level: pickled by reference)."""
    import torch.distributed as dist

    from dagmm.distributed.tabular import fit_file_sharded

    report = fit_file_sharded(data, out, options)
    summary = report.summary()
    dist.destroy_process_group()
    return summary
