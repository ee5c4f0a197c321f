"""A folder of CSV/TSV/Parquet files read as one table, whole, in chunks or by rank.

The files are the folder's data files (searched recursively; names starting
with ``_`` or ``.``, such as Spark's ``_SUCCESS`` and ``.crc`` files, are
skipped), sorted by their path relative to the folder, so the table's row
order is stable: the first file's rows, then the second's... All files must
be of one kind (all delimited text, or all Parquet) and hold the columns read.

For data-parallel training, :func:`read_folder_share` gives rank r of P the
rows ``[N r / P, N (r + 1) / P)`` of that table: for Parquet only the row
groups overlapping that range are read (the row counts come from the files'
footers), for CSV whole files (rank r gets files ``[F r / P, F (r + 1) / P)``,
as their row counts are unknown without reading them).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path

import pandas as pd

from dagmm.exceptions import DataError

__all__ = [
    "iter_folder_chunks", "read_folder", "read_folder_share", "share_of_files", "table_files",
]


def table_files(folder: str | os.PathLike) -> list[Path]:
    """The data files of ``folder`` in reading order (see the module docstring)."""
    from dagmm.tabular.io import SUPPORTED_EXTENSIONS, _format_of

    root = Path(folder)
    if not root.is_dir():
        raise FileNotFoundError(f"data folder '{root}' does not exist; check the path")
    files, partitions = [], []
    for path in sorted(root.rglob("*"), key=lambda p: p.relative_to(root).as_posix()):
        relative = path.relative_to(root).parts
        if any(part.startswith(("_", ".")) for part in relative):
            continue
        if path.is_dir():
            if "=" in path.name:
                partitions.append(path.name)
            continue
        if path.name.lower().endswith(SUPPORTED_EXTENSIONS):
            files.append(path)
    if partitions:
        raise DataError(
            f"'{root}' is partitioned into folders such as '{partitions[0]}', whose values are "
            "not columns of the files; read it with Spark and write it unpartitioned"
        )
    if not files:
        raise DataError(
            f"data folder '{root}' holds no data file; expected files ending in "
            f"{', '.join(SUPPORTED_EXTENSIONS)}"
        )
    kinds = {_format_of(path).kind for path in files}
    if len(kinds) > 1:
        raise DataError(
            f"data folder '{root}' mixes Parquet and delimited text files; keep one kind per folder"
        )
    return files


def _renumbered(frame: pd.DataFrame, start: int) -> pd.DataFrame:
    frame.index = pd.RangeIndex(start, start + len(frame))
    return frame


def _same_columns(path: Path, frame: pd.DataFrame, expected: list[str] | None) -> list[str]:
    columns = [str(name) for name in frame.columns]
    if expected is not None and columns != expected:
        raise DataError(
            f"'{path}' has columns {columns}, but the folder's first file has {expected}; "
            "every file of a folder must have the same columns"
        )
    return columns


def read_folder(folder: str | os.PathLike, columns: Sequence[str] | None = None) -> pd.DataFrame:
    """All files of ``folder`` as one DataFrame, indexed 0..N-1 in reading order."""
    from dagmm.tabular.io import read_table

    frames, expected = [], None
    for path in table_files(folder):
        frame = read_table(path, columns=columns)
        expected = _same_columns(path, frame, expected)
        frames.append(frame)
    return _renumbered(pd.concat(frames, ignore_index=True), 0)


def iter_folder_chunks(
    folder: str | os.PathLike, chunksize: int, columns: Sequence[str] | None = None
) -> Iterator[pd.DataFrame]:
    """Chunks of at most ``chunksize`` rows of every file in turn, indexed by folder row."""
    from dagmm.tabular.io import iter_table_chunks

    files = table_files(folder)  # checked now, not at the first next()

    def chunks() -> Iterator[pd.DataFrame]:
        start, expected = 0, None
        for path in files:
            for chunk in iter_table_chunks(path, chunksize, columns=columns):
                expected = _same_columns(path, chunk, expected)
                yield _renumbered(chunk, start)
                start += len(chunk)

    return chunks()


def read_folder_share(
    folder: str | os.PathLike, rank: int, world_size: int, columns: Sequence[str] | None = None
) -> pd.DataFrame:
    """Rank ``rank``'s contiguous share of :func:`read_folder`'s table (see the module docstring).

    The shares of ranks 0..P-1, concatenated in rank order, are the whole
    table in its order. Indexed by folder row number (Parquet) or by row
    number within the share (CSV).
    """
    return share_of_files(table_files(folder), rank, world_size, columns, where=folder)


def share_of_files(
    files: Sequence[Path], rank: int, world_size: int, columns: Sequence[str] | None = None,
    *, where: str | os.PathLike = "the data",
) -> pd.DataFrame:
    """:func:`read_folder_share` of the table made of ``files`` in this order."""
    from dagmm.tabular.io import _existing_file, _format_of, _parquet_file, read_table

    folder = where
    if _format_of(files[0]).kind != "parquet":
        if len(files) < world_size:
            raise DataError(
                f"data folder '{folder}' has {len(files)} CSV file(s) for {world_size} processes; "
                "give it at least one file per process (or use Parquet, shared by row groups)"
            )
        mine = files[len(files) * rank // world_size : len(files) * (rank + 1) // world_size]
        frames, expected = [], None
        for path in mine:
            frame = read_table(path, columns=columns)
            expected = _same_columns(path, frame, expected)
            frames.append(frame)
        return _renumbered(pd.concat(frames, ignore_index=True), 0)
    groups = []  # (path, row group, first folder row, rows)
    start = 0
    for path in files:
        _existing_file(path)
        parquet = _parquet_file(path)
        try:
            for index in range(parquet.num_row_groups):
                rows = parquet.metadata.row_group(index).num_rows
                groups.append((path, index, start, rows))
                start += rows
        finally:
            parquet.close()
    low, high = start * rank // world_size, start * (rank + 1) // world_size
    frames = []
    for path, index, first, rows in groups:
        if first + rows <= low or first >= high or rows == 0:
            continue
        parquet = _parquet_file(path)
        try:
            wanted = columns if columns is not None else _data_columns(parquet)
            missing = [name for name in wanted if name not in parquet.schema_arrow.names]
            if missing:
                raise DataError(f"'{path}' has no column(s) {missing}")
            table = parquet.read_row_group(index, columns=list(wanted))
        finally:
            parquet.close()
        frame = table.to_pandas()
        frames.append(frame.iloc[max(low - first, 0) : min(high - first, rows)])
    if not frames:
        raise DataError(
            f"data folder '{folder}' has {start} rows, too few to give each of "
            f"{world_size} processes at least one"
        )
    return _renumbered(pd.concat(frames, ignore_index=True), low)


def _data_columns(parquet: object) -> list[str]:
    from dagmm.tabular.io import _parquet_columns

    return _parquet_columns(parquet, None)
