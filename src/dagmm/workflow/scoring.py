"""``dagmm score``: score a file of any size with a saved model, chunk by chunk.

Only one chunk of rows is in memory at a time, and the output appears only
when complete (:class:`~dagmm.tabular.AtomicTableWriter`): a failure half-way
leaves no partial file and an existing output untouched. Every row is scored
on its own (preprocessing statistics and the mixture are frozen, networks are
in eval mode), so scoring in chunks gives the rows of scoring in one go.

Bit for bit, that also needs every row to sit at the same position modulo
the height of the BLAS micro-kernel tiles (4, 6, 8, 16 rows... depending on
the CPU): float32 matrix products round a row differently in another lane.
Chunks therefore start at multiples of :data:`CHUNK_ALIGNMENT` rows.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

from tqdm.auto import tqdm

from dagmm.exceptions import DataError
from dagmm.tabular import AtomicTableWriter, iter_table_chunks
from dagmm.workflow.detector import TabularDetector
from dagmm.workflow.thresholds import ThresholdPolicy

__all__ = [
    "CHUNK_ALIGNMENT",
    "DEFAULT_CHUNK_ROWS",
    "ScoreReport",
    "aligned_chunk_rows",
    "load_detector",
    "score_file",
]

#: Rows read, scored and written at a time.
DEFAULT_CHUNK_ROWS = 50_000
#: Chunk sizes are rounded up to a multiple of this (divisible by every common
#: micro-kernel height: 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128, 256).
CHUNK_ALIGNMENT = 768


def aligned_chunk_rows(chunksize: int) -> int:
    """``chunksize`` rounded up to a multiple of :data:`CHUNK_ALIGNMENT`."""
    if not isinstance(chunksize, int) or isinstance(chunksize, bool) or chunksize < 1:
        raise ValueError(f"chunksize must be a positive integer, got {chunksize!r}")
    return -(-chunksize // CHUNK_ALIGNMENT) * CHUNK_ALIGNMENT


@dataclass(frozen=True)
class ScoreReport:
    """What :func:`score_file` did."""

    rows: int
    flagged: int
    threshold: float
    policy: str
    out: Path
    seconds: float

    def summary(self) -> str:
        """One line for the end of ``dagmm score``."""
        share = self.flagged / self.rows if self.rows else 0.0
        return (
            f"scored {self.rows} rows in {self.seconds:.1f} s: {self.flagged} flagged "
            f"({share:.2%}) above energy {self.threshold:.6g} ({self.policy}); "
            f"wrote '{self.out}'"
        )


def load_detector(
    model: TabularDetector | str | os.PathLike, device: str | None = None
) -> TabularDetector:
    """A detector as given, or loaded from its model directory."""
    if isinstance(model, TabularDetector):
        return model
    return TabularDetector.load(model, device=device)


def needed_columns(detector: TabularDetector, *extra: str) -> list[str]:
    """Columns to read from a file: the model's inputs and ids, then ``extra``."""
    pre = detector.preprocessor_
    return list(dict.fromkeys([*pre.input_columns_, *pre.id_columns_, *extra]))


def score_file(
    data: str | os.PathLike,
    model: TabularDetector | str | os.PathLike,
    out: str | os.PathLike,
    *,
    chunksize: int = DEFAULT_CHUNK_ROWS,
    explain: bool = False,
    top_columns: int = 3,
    threshold: ThresholdPolicy | None = None,
    device: str | None = None,
    progress: bool = False,
    escape_formulas: bool | None = None,
) -> ScoreReport:
    """Score every row of a CSV/TSV/Parquet file and write the scores atomically.

    Parameters
    ----------
    data : path-like
        Rows to score, with the columns the model was fitted on (others are
        not read).
    model : TabularDetector or path-like
        A fitted detector or its model directory.
    out : path-like
        Output file (.csv, .tsv, .parquet, ...): one row per input row with
        the columns of :meth:`TabularDetector.score_frame`.
    chunksize : int, default=50000
        Rows per chunk (rounded up to a multiple of 768); memory is bounded
        by it, not by the file.
    explain : bool, default=False
        Add the top contributing columns and the most likely component.
    top_columns : int, default=3
    threshold : ThresholdPolicy, optional
        A contamination or fpr policy to flag with instead of the model's
        threshold (applied to the stored training energies).
    device : str, optional
        Where to run the network (default: as saved, CUDA when available).
    progress : bool, default=False
        Show a progress bar over the rows.
    escape_formulas : bool, optional
        Prefix ``'`` to text cells a spreadsheet would run as formulas (see
        :class:`~dagmm.tabular.AtomicTableWriter`); default on for CSV/TSV.

    Notes
    -----
    Id columns are read and written as text, exactly as in the input
    (``007`` stays ``007``, ``NA`` stays ``NA``), apart from formula escaping.

    Returns
    -------
    ScoreReport
    """
    started = time.perf_counter()
    detector = load_detector(model, device)
    cut = detector.threshold_ if threshold is None else detector.threshold_for(threshold)
    policy = (threshold or detector.threshold_policy_).describe()
    source, target = Path(data), Path(out)
    if target.exists() and source.exists() and target.resolve() == source.resolve():
        raise DataError(f"the output '{target}' is the input file; write the scores elsewhere")
    chunks = iter_table_chunks(
        source,
        aligned_chunk_rows(chunksize),
        columns=needed_columns(detector),
        text_columns=detector.preprocessor_.id_columns_,
    )
    rows = flagged = 0
    with (
        AtomicTableWriter(target, escape_formulas=escape_formulas) as writer,
        tqdm(desc="scoring", unit=" rows", disable=not progress, leave=False) as bar,
    ):
        for chunk in chunks:
            scores = detector.score_frame(
                chunk, explain=explain, top_columns=top_columns, threshold=cut
            )
            writer.write(scores)
            rows += len(scores)
            flagged += int(scores["is_anomaly"].sum())
            bar.update(len(scores))
        if rows == 0:
            raise DataError(f"'{source}' has a header but no rows; there is nothing to score")
    return ScoreReport(rows, flagged, cut, policy, target, time.perf_counter() - started)
