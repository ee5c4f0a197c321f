"""Statistics of tables spread over ranks: input scaling and the tabular preprocessing."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import torch

from dagmm.distributed import ProcessGroup, sharded_scaling_statistics  # noqa: F401  (moved there)
from dagmm.exceptions import DataError

if TYPE_CHECKING:
    from dagmm.tabular import TabularPreprocessor
    from dagmm.workflow.detector import TabularDetector

__all__ = ["fit_preprocessor_sharded", "sharded_scaling_statistics"]


def fit_preprocessor_sharded(
    preprocessor: TabularPreprocessor, shard: pd.DataFrame, group: ProcessGroup
) -> TabularPreprocessor:
    """Fit ``preprocessor`` on the rows of every rank's ``shard`` together.

    Gives what ``preprocessor.fit`` gives on the shards concatenated, with
    each rank reading only its own rows:

    * column kinds: each rank detects them on its rows; where ranks disagree
      (numbers on one, text on another) the column is text, as one process
      would see it;
    * categories: the sets of labels are unioned (a rank with more than
      ``max_categories`` labels sends 64-bit hashes of them instead, enough
      to count the distinct labels for the one-hot / hashed / identifier rule);
    * scaling: all-reduced counts, sums, squared deviations from the global
      mean and extremes;
    * imputation medians: exact, by distributed selection.

    Warnings are issued on rank 0 only. An error on any rank (missing values,
    infinite numbers, text in a numeric column) is raised on every rank.
    """
    from dagmm.tabular import preprocessor as tp
    from dagmm.tabular._columns import as_frame, category_labels, coerce_epoch_seconds, coerce_float

    pre = preprocessor
    roles = pre._check_params()
    frame = as_frame(shard)
    columns = [str(name) for name in frame.columns]
    every = group.gather_objects(columns)
    if any(other != columns for other in every):
        raise DataError(
            f"the ranks' shards have different columns ({every[0]} on rank 0, "
            f"{next(o for o in every if o != columns)} elsewhere); every shard needs the same columns"
        )
    n_rows = int(group.total([len(frame)], dtype=torch.int64)[0])
    if n_rows == 0:
        raise DataError("cannot fit on a table with no rows; pass at least one row of data")
    for parameter, names in roles.items():
        absent = [name for name in names if name not in columns]
        if absent:
            raise DataError(
                f"{parameter} names column(s) {tp.name_list(absent)} that the data does not have"
                f"{tp.suggest(absent[0], columns)}; the data has columns {tp.name_list(columns)}"
            )
    role_of = {name: parameter for parameter, names in roles.items() for name in names}
    candidates = [name for name in columns if role_of.get(name) not in ("drop_cols", "id_cols")]

    # Phase 1: each column's kind, detected per rank, then agreed.
    scratch = tp._FitNotes()
    local_kinds, error = {}, None
    try:
        for name in candidates:
            series = frame[name]
            local_kinds[name] = (
                "empty" if series.notna().sum() == 0
                else pre._column_kind(name, series, role_of.get(name), scratch)
            )
    except (DataError, ValueError) as exc:
        error = exc
    group.check(error)
    gathered = group.gather_objects((local_kinds, scratch.mostly_numeric))
    notes = tp._FitNotes()
    for _, mostly in gathered:
        notes.mostly_numeric.extend(m for m in mostly if m not in notes.mostly_numeric)
    kinds: dict[str, str] = {}
    dropped: dict[str, str] = {name: "listed in drop_cols" for name in roles["drop_cols"]}
    for name in candidates:
        seen = {kinds_of[name] for kinds_of, _ in gathered} - {"empty"}
        if not seen:
            notes.empty.append(name)
            dropped[name] = "holds no values"
            continue
        kind = seen.pop() if len(seen) == 1 else (tp._UNSUPPORTED if tp._UNSUPPORTED in seen else tp._TEXT)
        if kind == tp._UNSUPPORTED:
            notes.unsupported.append(f"{name!r} ({frame[name].dtype})")
            dropped[name] = f"unsupported dtype {frame[name].dtype}"
            continue
        if kind == tp.DATETIME and role_of.get(name) is None:
            notes.datetimes.append(repr(name))
        if kind == tp.DATETIME and pre.datetime_features == "drop":
            notes.datetime_dropped.append(name)
            dropped[name] = "date-time column left out (datetime_features='drop')"
            continue
        kinds[name] = kind

    # Phase 2: local values of each column.
    local: dict[str, tuple] = {}
    missing_rows: dict[str, np.ndarray] = {}
    try:
        for name, kind in kinds.items():
            series, role = frame[name], role_of.get(name)
            if kind in (tp.NUMERIC, tp.DATETIME):
                coerce = coerce_float if kind == tp.NUMERIC else coerce_epoch_seconds
                values, bad = coerce(series)
                if bad.any():
                    expected = "numbers" if kind == tp.NUMERIC else "date-times in ISO 8601 form"
                    raise DataError(
                        f"column {name!r} is listed in {role} but holds values that are not "
                        f"{expected}: {tp.describe_bad(series, bad)}; fix those values, or remove "
                        f"{name!r} from {role}"
                    )
                tp._check_finite(name, series, values)
                missing = np.isnan(values)
                local[name] = (values, missing)
            else:
                labels = category_labels(series)
                missing = pd.isna(labels)
                local[name] = (labels, missing)
            if missing.any():
                missing_rows[name] = missing
        if pre.handle_missing == "error" and missing_rows:
            raise tp._missing_error(missing_rows, frame.index, fitting=True)
    except (DataError, ValueError) as exc:
        error = exc
    group.check(error)

    # Phase 3: merge, column by column, in the table's order.
    specs, offsets, scales, fills = [], [], [], []
    for name, kind in kinds.items():
        values, missing = local[name]
        if kind in (tp.NUMERIC, tp.DATETIME):
            observed = values[~missing]
            n_observed = int(group.total([observed.size], dtype=torch.int64)[0])
            if n_observed == 0:
                notes.empty.append(name)
                dropped[name] = "holds no values"
                continue
            fill = _median(observed, n_observed, group)
            if kind == tp.NUMERIC:
                spec, block = tp._ColumnSpec(name, tp.NUMERIC), values[:, None]
            else:
                off_midnight = int(np.any(np.mod(observed, tp._SECONDS_PER_DAY) != 0))
                time_of_day = bool(group.total([off_midnight], dtype=torch.int64)[0])
                spec = pre._datetime_spec(name, time_of_day, "iso")  # text read as ISO 8601 here
                block = tp._datetime_parts(values, spec.parts)
            for j in range(block.shape[1]):
                offset, spread = _sharded_scaling(block[:, j], pre.scale, group)
                offsets.append(offset)
                scales.append(spread)
            specs.append(spec)
            fills.append(fill)
            continue
        labels, missing = values, missing
        present = labels[~missing]
        distinct = set(present)
        sent = sorted(distinct) if len(distinct) <= pre.max_categories else _hashes(distinct)
        shared = group.gather_objects((sent, int(present.size), bool(missing.any())))
        n_present = sum(item[1] for item in shared)
        any_missing = any(item[2] for item in shared)
        if all(isinstance(item[0], list) for item in shared):
            union = sorted(set().union(*(item[0] for item in shared)))
            n_distinct = len(union)
        else:
            union = None
            hashed = [_hashes(item[0]) if isinstance(item[0], list) else item[0] for item in shared]
            n_distinct = int(np.unique(np.concatenate(hashed)).size)
        spec = pre._category_spec(
            name, role_of.get(name), union, n_distinct, n_present, any_missing, notes
        )
        if isinstance(spec, str):  # left out: the reason
            dropped[name] = spec
            continue
        specs.append(spec)
        fills.append(math.nan)
        offsets.extend([0.0] * len(spec.feature_names()))
        scales.extend([1.0] * len(spec.feature_names()))
    if not specs:
        raise tp._nothing_to_encode(dropped)
    if group.is_main:
        notes.emit(pre)
    pre._set_fitted(columns, roles["id_cols"], dropped, specs, offsets, scales, np.asarray(fills))
    return pre


def _hashes(labels: object) -> np.ndarray:
    """64-bit hashes of category labels (pandas' hash, the same in every process)."""
    return pd.util.hash_array(np.asarray(sorted(labels), dtype=object)).astype(np.uint64)


def _median(observed: np.ndarray, n_total: int, group: ProcessGroup) -> float:
    """``np.median`` of all ranks' values, exactly."""
    middle = np.array(sorted({(n_total - 1) // 2, n_total // 2}), dtype=np.int64)
    found = group.order_statistics(observed, middle)
    return float(np.mean(found[[0, -1]])) if found.size == 2 else float(found[0])


def _sharded_scaling(values: np.ndarray, scale: str | None, group: ProcessGroup) -> tuple[float, float]:
    """:func:`dagmm.tabular.preprocessor._scaling` of all ranks' values of one feature."""
    from dagmm.math import constant_columns

    observed = values[~np.isnan(values)]
    count, total = group.total([observed.size, observed.sum()])
    if scale is None or count == 0:
        return 0.0, 1.0
    big = np.inf
    low, high = (
        group.extreme(np.array([observed.min() if observed.size else big]), largest=False)[0],
        group.extreme(np.array([observed.max() if observed.size else -big]), largest=True)[0],
    )
    if scale == "standard":
        offset = float(total / count)
        spread = float(np.sqrt(group.total([((observed - offset) ** 2).sum()])[0] / count))
    else:
        offset, spread = float(low), float(high - low)
    magnitude = float(max(abs(low), abs(high)))
    if constant_columns(np.array([spread]), np.array([magnitude])).item():  # the one rule
        return float(low), 1.0
    return offset, spread


def sharded_reference_energies(energy: np.ndarray, group: ProcessGroup) -> np.ndarray:
    """:func:`~dagmm.workflow.thresholds.reference_energies` of all ranks' energies, exactly.

    Up to ``REFERENCE_SIZE`` rows in all, every energy is gathered; beyond,
    the quantiles at the evenly spaced levels come from distributed selection.
    """
    from dagmm.workflow.thresholds import REFERENCE_SIZE

    energy = np.asarray(energy, dtype=np.float64).ravel()
    n_total = int(group.total([energy.size], dtype=torch.int64)[0])
    if n_total <= REFERENCE_SIZE:
        return np.sort(np.concatenate(group.gather_objects(energy)))
    return group.quantiles(energy, np.linspace(0.0, 1.0, REFERENCE_SIZE))


def fit_detector_sharded(detector: TabularDetector, shard: pd.DataFrame, group: ProcessGroup,
                         *, progress: bool = False) -> TabularDetector:
    """``detector.fit(all ranks' rows)`` with this rank holding ``shard``: a new fitted detector.

    Every rank gets the same fit; ``detector`` itself is left as it is.

    Rows labelled anomalous (``label_col``) are left out of training as in a
    one-process fit. The ``f1`` threshold policy (which holds out labelled
    rows) is not available here: use contamination or fpr.
    """
    import time

    from dagmm.distributed import data_parallel
    from dagmm.tabular._columns import as_frame
    from dagmm.workflow.detector import TabularDetector

    started = time.perf_counter()
    frame = as_frame(shard)
    policy = detector.policy
    if policy.needs_labels:
        raise ValueError(
            "the f1 threshold policy holds out labelled rows, which a data-parallel fit does "
            "not do; use --contamination or --threshold-fpr"
        )
    error, is_anomaly = None, np.zeros(len(frame), dtype=bool)
    try:
        if detector.label_col:
            is_anomaly = detector.anomalies(frame)
    except (DataError, ValueError) as exc:
        error = exc
    group.check(error)
    train = frame.iloc[np.flatnonzero(~is_anomaly)]
    n_rows, n_train, n_left_out = (
        int(v) for v in group.total([len(frame), len(train), int(is_anomaly.sum())], dtype=torch.int64)
    )
    if n_train < 2:
        raise DataError(f"only {n_train} normal row(s) to train on; the model needs at least 2")
    preprocessor = fit_preprocessor_sharded(detector.new_preprocessor(), train, group)
    X = preprocessor.transform(train)
    model = detector.new_model(progress=progress and group.is_main)
    with data_parallel(group):
        model.fit(X)
    return TabularDetector.from_fitted(
        preprocessor,
        model,
        sharded_reference_energies(model.energy(X), group),
        threshold=policy,
        label_col=detector.label_col,
        normal_label=detector.normal_label,
        training={
            "rows": n_rows,
            "training_rows": n_train,
            "anomalies_left_out": n_left_out,
            "validation_rows": 0,
            "columns": [str(name) for name in frame.columns],
            "features": int(X.shape[1]),
            "seconds": round(time.perf_counter() - started, 3),
            "processes": group.world_size,
        },
    )


def fit_file_sharded(data, out, options=None, *, progress: bool = False):
    """``dagmm fit`` under torchrun: each rank reads its share of ``data``; rank 0 saves.

    ``data`` is a folder of Parquet files (shared by row groups) or CSV files
    (shared by files), or one Parquet file (shared by row groups). Returns the
    same :class:`~dagmm.workflow.fitting.FitReport` on every rank, after rank
    0 has written the model directory.
    """
    from pathlib import Path

    import torch.distributed as dist

    from dagmm.distributed import init_from_environment
    from dagmm.tabular.folders import read_folder_share, share_of_files
    from dagmm.workflow.detector import TabularDetector
    from dagmm.workflow.fitting import FitReport
    from dagmm.workflow.options import FitOptions

    group = init_from_environment()
    options = options or FitOptions()
    error, shard = None, None
    try:
        source = Path(data)
        if source.is_file() and source.name.lower().endswith((".parquet", ".pq")):
            shard = share_of_files([source], group.rank, group.world_size, where=source)
        elif source.is_dir():
            shard = read_folder_share(source, group.rank, group.world_size)
        elif source.exists():
            raise DataError(
                f"'{source}' is one delimited text file; a data-parallel fit reads a folder of "
                "files or a Parquet file, so each process can read its own share"
            )
        else:
            raise FileNotFoundError(f"data '{source}' does not exist; check the path")
        if options.label_col and options.label_col not in shard.columns:
            raise DataError(f"the label column {options.label_col!r} is not in '{source}'")
    except (DataError, ValueError, FileNotFoundError) as exc:
        error = exc
    group.check(error)
    detector = fit_detector_sharded(TabularDetector.from_options(options), shard, group, progress=progress)
    model_dir = Path(out)
    error = None
    if group.is_main:
        try:
            model_dir = detector.save(out)
        except Exception as exc:  # noqa: BLE001 - every rank must learn that saving failed
            error = exc
    group.check(error)
    dist.barrier()
    return FitReport(detector, model_dir)
