"""``dagmm fit``: train a :class:`TabularDetector` on a file and save it."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from dagmm.tabular import read_table
from dagmm.workflow.detector import TabularDetector
from dagmm.workflow.labels import require_column
from dagmm.workflow.options import FitOptions

__all__ = ["FitReport", "fit_file"]


@dataclass(frozen=True)
class FitReport:
    """What :func:`fit_file` did."""

    detector: TabularDetector
    model_dir: Path

    def summary(self) -> str:
        """One line for the end of ``dagmm fit``."""
        info = self.detector.training_
        left_out = info.get("anomalies_left_out", 0)
        held = info.get("validation_rows", 0)
        extra = []
        if left_out:
            extra.append(f"{left_out} labelled anomalies not trained on")
        if held:
            extra.append(f"{held} rows held out to choose the threshold")
        rows = f"{info['training_rows']} rows" + (f" ({'; '.join(extra)})" if extra else "")
        return (
            f"fitted on {rows} x {info['features']} features in {info['seconds']:.1f} s; "
            f"threshold energy {self.detector.threshold_:.6g} "
            f"({self.detector.threshold_policy_.describe()}); model saved to '{self.model_dir}'"
        )


def fit_file(
    data: str | os.PathLike,
    out: str | os.PathLike,
    options: FitOptions | None = None,
    *,
    progress: bool = False,
) -> FitReport:
    """Read a CSV/TSV/Parquet file, fit a detector on it and save the model directory.

    Parameters
    ----------
    data : path-like
        The training table: a file, or a folder of files read as one table
        (:mod:`dagmm.tabular.folders`). Under ``torchrun`` (several
        processes), each process reads its share and they fit together
        (:func:`dagmm.distributed.tabular.fit_file_sharded`).
    out : path-like
        The model directory to write (an existing model directory there is replaced).
    options : FitOptions, optional
        Settings; the defaults of :class:`FitOptions` when omitted.
    progress : bool, default=False
        Show the training progress bar.

    Returns
    -------
    FitReport

    Raises
    ------
    FileNotFoundError, DataError, ValueError
        For a missing or unreadable file, an unknown column, bad labels or values.

    Examples
    --------
    >>> report = fit_file("transactions.csv", "model", FitOptions(id_cols=("id",)))  # doctest: +SKIP
    >>> print(report.summary())  # doctest: +SKIP
    """
    from dagmm.workflow.destinations import check_model_destination

    check_model_destination(out, option="out", inputs=[data])  # before any work

    from dagmm.distributed import launched_by_torchrun

    if launched_by_torchrun():  # one of several processes: each reads its share
        from dagmm.distributed.tabular import fit_file_sharded

        return fit_file_sharded(data, out, options, progress=progress)
    options = options or FitOptions()
    frame = read_table(data)
    if options.label_col:
        require_column(frame, options.label_col, "label column", data)
    detector = TabularDetector.from_options(options).fit(frame, progress=progress)
    return FitReport(detector, detector.save(out))
