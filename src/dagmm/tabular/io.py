"""Read tables from CSV/TSV/Parquet files, whole or in chunks, and write them atomically.

Supported extensions (case-insensitive): ``.csv``, ``.csv.gz``, ``.tsv``,
``.tsv.gz``, ``.parquet``, ``.pq``. Parquet needs ``pyarrow`` (``pip install
dagmm[io]``).

Chunks carry the row numbers of the file as their index (0-based, not
counting the header), so an error in a chunk can name the row, and chunks
concatenate to the table :func:`read_table` returns. Each CSV chunk's dtypes
are inferred from that chunk alone (a code column may be ``int64`` in one and
text in the next); :class:`~dagmm.tabular.TabularPreprocessor` reads columns
by the kind it fitted, so this does not change its output. Columns named in
``text_columns`` (identifiers) are read as text exactly as written: ``007``
stays ``007`` and ``NA`` stays ``NA``.

Every CSV/TSV row must have as many fields as the header: a row with more or
fewer (a trailing delimiter, a stray comma) is refused with its line number,
because pandas would otherwise shift its columns silently.
"""

from __future__ import annotations

import csv
import gzip
import json
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType, TracebackType
from typing import IO, Any

import pandas as pd

from dagmm.exceptions import DataError
from dagmm.persistence import AtomicPath
from dagmm.tabular._columns import name_list, suggest

try:  # the strings read_csv reads as missing by default
    from pandas._libs.parsers import STR_NA_VALUES as _DEFAULT_NA
except ImportError:  # pragma: no cover - a pandas that moved it
    _DEFAULT_NA = {
        "", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND",
        "1.#QNAN", "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null",
    }

__all__ = [
    "AtomicTableWriter",
    "check_field_counts",
    "escape_formula",
    "iter_table_chunks",
    "read_table",
    "SUPPORTED_EXTENSIONS",
]


@dataclass(frozen=True)
class _Format:
    kind: str  # "csv" or "parquet"
    sep: str = ","
    gzipped: bool = False


_FORMATS = {
    ".csv": _Format("csv"),
    ".csv.gz": _Format("csv", gzipped=True),
    ".tsv": _Format("csv", sep="\t"),
    ".tsv.gz": _Format("csv", sep="\t", gzipped=True),
    ".parquet": _Format("parquet"),
    ".pq": _Format("parquet"),
}
SUPPORTED_EXTENSIONS = tuple(_FORMATS)


def _format_of(path: Path) -> _Format:
    name = path.name.lower()
    # Longest first, so ".csv.gz" wins over a plain ".gz" check.
    for extension in sorted(_FORMATS, key=len, reverse=True):
        if name.endswith(extension):
            return _FORMATS[extension]
    raise DataError(
        f"cannot tell the format of '{path}' from its extension; expected one of "
        f"{', '.join(SUPPORTED_EXTENSIONS)}: rename the file"
    )


def _pyarrow() -> tuple[ModuleType, ModuleType]:
    try:
        import pyarrow
        import pyarrow.parquet
    except ImportError:  # pragma: no cover - pyarrow is installed in the test environment
        raise ImportError(
            "reading or writing Parquet needs pyarrow: pip install 'dagmm[io]'"
        ) from None
    return pyarrow, pyarrow.parquet


def _existing_file(path: str | os.PathLike) -> tuple[Path, _Format]:
    """Check that ``path`` is a non-empty file of a known format."""
    source = Path(path)
    if not source.exists():
        raise FileNotFoundError(f"data file '{source}' does not exist; check the path")
    if source.is_dir():
        raise DataError(f"'{source}' is a directory; expected a data file")
    table_format = _format_of(source)
    if source.stat().st_size == 0:
        raise DataError(f"data file '{source}' is empty; expected a header line and rows")
    return source, table_format


def _check_columns(
    source: Path, available: Sequence[str], columns: Sequence[str] | None
) -> list[str] | None:
    if columns is None:
        return None
    if isinstance(columns, str):
        raise ValueError(
            f"columns must be a list of names, got {columns!r}; write columns=[{columns!r}]"
        )
    wanted = [str(name) for name in columns]
    absent = [name for name in wanted if name not in available]
    if absent:
        raise DataError(
            f"'{source}' has no column(s) {name_list(absent)}{suggest(absent[0], list(available))}; "
            f"its columns are {name_list(available)}"
        )
    return wanted


def _csv_options(
    table_format: _Format,
    columns: list[str] | None,
    text_columns: Sequence[str] = (),
    header: Sequence[str] = (),
) -> dict[str, Any]:
    # low_memory=False: infer each column's dtype from all rows read at once
    # (the whole file, or the whole chunk), not from internal blocks of them.
    # index_col=False: never take the first field as the index.
    options: dict[str, Any] = {
        "sep": table_format.sep,
        "usecols": columns,
        "low_memory": False,
        "index_col": False,
        "compression": "gzip" if table_format.gzipped else None,
    }
    if text_columns:
        # Text columns keep every value as written ("NA", "007", ""); the
        # others keep read_csv's missing-value strings.
        text = set(text_columns)
        options["dtype"] = {name: str for name in text}
        options["keep_default_na"] = False
        options["na_values"] = {name: list(_DEFAULT_NA) for name in header if name not in text}
    return options


def _open_text(source: Path, table_format: _Format) -> IO[str]:
    opener = gzip.open if table_format.gzipped else open
    return opener(source, "rt", encoding="utf-8-sig", newline="")


def _field_count_checker(source: Path, table_format: _Format) -> Iterator[None]:
    """Walk the records after the header, raising on one with another field count.

    Each ``next()`` checks one non-blank record (blank lines are skipped, as
    read_csv does); the generator ends with the file.
    """
    csv.field_size_limit(2**31 - 1)
    try:
        with _open_text(source, table_format) as handle:
            reader = csv.reader(handle, delimiter=table_format.sep)
            header = next(reader, None)
            if header is None:
                return
            expected = len(header)
            line = reader.line_num
            for record in reader:
                start, line = line + 1, reader.line_num
                if not record or (len(record) == 1 and not record[0].strip()):
                    continue
                if len(record) != expected:
                    raise DataError(
                        f"'{source}' line {start} has {len(record)} fields but the header has "
                        f"{expected}; every row needs one field per column (a trailing "
                        f"'{table_format.sep}' adds an empty field): fix the file"
                    )
                yield
    except csv.Error as exc:
        raise DataError(f"cannot parse '{source}' as a delimited table: {exc}") from None
    except (UnicodeDecodeError, gzip.BadGzipFile, EOFError, OSError) as exc:
        raise _csv_error(source, exc) from None


def check_field_counts(path: str | os.PathLike) -> None:
    """Refuse a CSV/TSV file with a row whose field count differs from its header's.

    Raises
    ------
    DataError
        Naming the first such line. Parquet files always pass.
    """
    source, table_format = _existing_file(path)
    if table_format.kind == "csv":
        for _ in _field_count_checker(source, table_format):
            pass


def _csv_error(source: Path, exc: Exception) -> DataError:
    if isinstance(exc, UnicodeDecodeError):
        return DataError(f"'{source}' is not UTF-8 text ({exc}); re-save it as UTF-8")
    if isinstance(exc, pd.errors.EmptyDataError):
        return DataError(f"data file '{source}' holds no columns; expected a header line and rows")
    if isinstance(exc, (gzip.BadGzipFile, EOFError)):
        return DataError(f"'{source}' is not a complete gzip file ({exc}); re-compress it")
    return DataError(
        f"cannot parse '{source}' as a delimited table: {exc}; check the delimiter and quoting"
    )


_CSV_ERRORS = (
    pd.errors.ParserError,
    pd.errors.EmptyDataError,
    UnicodeDecodeError,
    gzip.BadGzipFile,
    EOFError,
)


def _csv_header(source: Path, table_format: _Format) -> list[str]:
    try:
        header = pd.read_csv(source, nrows=0, **_csv_options(table_format, None))
    except _CSV_ERRORS as exc:
        raise _csv_error(source, exc) from None
    return [str(name) for name in header.columns]


def _parquet_file(source: Path) -> Any:
    pa, pq = _pyarrow()
    try:
        return pq.ParquetFile(source)
    except (pa.ArrowInvalid, OSError) as exc:
        raise DataError(f"'{source}' is not a readable Parquet file ({exc})") from None


def _parquet_columns(parquet: Any, columns: list[str] | None) -> list[str]:
    """Data columns to read: the requested ones, or all but a stored pandas index."""
    if columns is not None:
        return columns
    metadata = parquet.schema_arrow.pandas_metadata or {}
    index_columns = {name for name in metadata.get("index_columns", []) if isinstance(name, str)}
    return [name for name in parquet.schema_arrow.names if name not in index_columns]


def _arrow_to_frame(table: Any, start: int, text_columns: Sequence[str] = ()) -> pd.DataFrame:
    if text_columns:
        pa, _ = _pyarrow()
        import pyarrow.compute as pc

        cast = set()
        for name in text_columns:
            if name in table.column_names:
                index = table.column_names.index(name)
                column = table.column(index)
                if not pa.types.is_string(column.type) and not pa.types.is_large_string(column.type):
                    table = table.set_column(index, name, pc.cast(column, pa.string()))
                    cast.add(name)
        metadata = table.schema.metadata or {}
        if cast and b"pandas" in metadata:
            # The stored pandas dtype (Int64...) would turn the text back into numbers.
            pandas_meta = json.loads(metadata[b"pandas"])
            for entry in pandas_meta.get("columns", []):
                if entry.get("name") in cast:
                    entry.update(pandas_type="unicode", numpy_type="object", metadata=None)
            table = table.replace_schema_metadata(
                {**metadata, b"pandas": json.dumps(pandas_meta).encode()}
            )
    frame = table.to_pandas()
    frame.index = pd.RangeIndex(start, start + len(frame))
    return frame


def read_table(
    path: str | os.PathLike,
    columns: Sequence[str] | None = None,
    *,
    text_columns: Sequence[str] = (),
) -> pd.DataFrame:
    """Read a whole CSV, TSV or Parquet file into a DataFrame.

    Parameters
    ----------
    path : path-like
        A ``.csv``, ``.csv.gz``, ``.tsv``, ``.tsv.gz``, ``.parquet`` or ``.pq`` file.
    columns : list of str, optional
        Read only these columns, in this order.
    text_columns : list of str, optional
        Columns read as text exactly as written (identifiers): no number
        parsing, no missing-value strings (a blank stays ``""``).

    Returns
    -------
    DataFrame
        Indexed by row number. A file with a header and no rows gives an
        empty frame with its columns.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    DataError
        If the extension is unknown, the file is empty or cannot be parsed, a
        row's field count differs from the header's, or a requested column is
        absent.

    Examples
    --------
    >>> from dagmm.tabular import read_table
    >>> frame = read_table("transactions.csv", columns=["amount", "merchant"])  # doctest: +SKIP
    """
    if Path(path).is_dir():  # a folder of files: one table (dagmm.tabular.folders)
        from dagmm.tabular.folders import read_folder

        return read_folder(path, columns)
    source, table_format = _existing_file(path)
    if table_format.kind == "parquet":
        parquet = _parquet_file(source)
        wanted = _parquet_columns(
            parquet, _check_columns(source, parquet.schema_arrow.names, columns)
        )
        pa, _ = _pyarrow()
        try:
            return _arrow_to_frame(parquet.read(columns=wanted), 0, text_columns)
        except (pa.ArrowInvalid, OSError) as exc:
            raise DataError(f"'{source}' is a damaged Parquet file ({exc})") from None
        finally:
            parquet.close()
    header = _csv_header(source, table_format)
    wanted = _check_columns(source, header, columns)
    check_field_counts(source)
    try:
        frame = pd.read_csv(source, **_csv_options(table_format, wanted, text_columns, header))
    except _CSV_ERRORS as exc:
        raise _csv_error(source, exc) from None
    return frame if wanted is None else frame[wanted]


def iter_table_chunks(
    path: str | os.PathLike,
    chunksize: int,
    columns: Sequence[str] | None = None,
    *,
    text_columns: Sequence[str] = (),
) -> Iterator[pd.DataFrame]:
    """Stream a CSV, TSV or Parquet file in chunks of at most ``chunksize`` rows.

    Memory stays bounded by the chunk size (for Parquet, also by one row
    group). Each chunk is indexed by its rows' numbers in the file, so the
    chunks concatenate to :func:`read_table`'s frame.

    Parameters
    ----------
    path : path-like
        See :func:`read_table`.
    chunksize : int
        Most rows per chunk.
    columns : list of str, optional
        Read only these columns, in this order.
    text_columns : list of str, optional
        Columns read as text exactly as written (see :func:`read_table`).

    Yields
    ------
    DataFrame
        Nothing for a file with a header and no rows.

    Raises
    ------
    FileNotFoundError, DataError
        As :func:`read_table`; raised by this call, before any chunk, for a
        missing file, unknown extension or absent column, and while iterating
        for content that cannot be parsed.

    Examples
    --------
    >>> for chunk in iter_table_chunks("big.csv", chunksize=50_000):  # doctest: +SKIP
    ...     scores = model.score_samples(pre.transform(chunk))
    """
    if not isinstance(chunksize, int) or isinstance(chunksize, bool) or chunksize < 1:
        raise ValueError(f"chunksize must be a positive integer, got {chunksize!r}")
    if Path(path).is_dir():  # a folder of files: one table (dagmm.tabular.folders)
        from dagmm.tabular.folders import iter_folder_chunks

        return iter_folder_chunks(path, chunksize, columns)
    # Checks run now, not at the first next(): a generator would defer them.
    source, table_format = _existing_file(path)
    if table_format.kind == "parquet":
        parquet = _parquet_file(source)
        wanted = _parquet_columns(
            parquet, _check_columns(source, parquet.schema_arrow.names, columns)
        )
        return _parquet_chunks(source, parquet, wanted, chunksize, text_columns)
    header = _csv_header(source, table_format)
    wanted = _check_columns(source, header, columns)
    return _csv_chunks(source, table_format, wanted, chunksize, text_columns, header)


def _csv_chunks(
    source: Path,
    table_format: _Format,
    wanted: list[str] | None,
    chunksize: int,
    text_columns: Sequence[str],
    header: list[str],
) -> Iterator[pd.DataFrame]:
    # The field counts are checked alongside, record for record, so a bad
    # row is refused before the chunk holding it is used (and at the latest
    # before the iteration ends).
    checker = _field_count_checker(source, table_format)
    options = _csv_options(table_format, wanted, text_columns, header)
    try:
        with pd.read_csv(source, chunksize=chunksize, **options) as reader:
            for chunk in reader:  # the reader numbers rows on across chunks
                for _ in range(len(chunk)):
                    next(checker, None)
                if len(chunk):  # a header-only file gives one empty chunk
                    yield chunk if wanted is None else chunk[wanted]
    except _CSV_ERRORS as exc:
        for _ in checker:  # a field-count error names the line in our words
            pass
        raise _csv_error(source, exc) from None
    for _ in checker:
        pass


def _parquet_chunks(
    source: Path, parquet: Any, wanted: list[str], chunksize: int, text_columns: Sequence[str]
) -> Iterator[pd.DataFrame]:
    pa, _ = _pyarrow()
    start = 0
    try:
        for batch in parquet.iter_batches(batch_size=chunksize, columns=wanted):
            if batch.num_rows == 0:
                continue
            yield _arrow_to_frame(pa.Table.from_batches([batch]), start, text_columns)
            start += batch.num_rows
    except (pa.ArrowInvalid, OSError) as exc:
        raise DataError(f"'{source}' is a damaged Parquet file ({exc})") from None
    finally:
        parquet.close()


class AtomicTableWriter:
    """Write a table chunk by chunk; the file appears only when all of it is written.

    Chunks go to a hidden temporary file beside ``path`` (same directory, so
    the final rename is atomic) that replaces ``path`` when the ``with`` block
    ends without error. On any error, including ``KeyboardInterrupt``, the
    temporary file is deleted and an existing ``path`` is left untouched.

    Parameters
    ----------
    path : path-like
        Destination: ``.csv``, ``.csv.gz``, ``.tsv``, ``.tsv.gz``, ``.parquet``
        or ``.pq``. Missing parent directories are created.
    overwrite : bool, default=True
        Whether an existing file at ``path`` may be replaced.
    escape_formulas : bool, optional
        Prefix ``'`` to text cells (and column names) that a spreadsheet would
        run as a formula: those starting with ``=``, ``+``, ``-``, ``@``, a tab
        or a carriage return, unless the whole cell is a number (``-5``).
        Default: on for CSV/TSV, off for Parquet (not opened by spreadsheets).
        Turn it off to write text byte for byte.

    Attributes
    ----------
    rows_written : int
        Rows written so far.

    Examples
    --------
    >>> import pandas as pd
    >>> from dagmm.tabular import AtomicTableWriter
    >>> with AtomicTableWriter("scores.csv") as out:  # doctest: +SKIP
    ...     for chunk in iter_table_chunks("new.csv", chunksize=10_000):
    ...         out.write(pd.DataFrame({"score": model.score_samples(pre.transform(chunk))}))

    Notes
    -----
    Every chunk must have the first chunk's columns. For Parquet the first
    chunk also fixes the column types (text columns as strings, whatever
    their values); later chunks are cast to them, and a value that does not
    fit is refused naming its column. Index
    labels are not written. With no chunk written, a CSV destination is an
    empty file and a Parquet one a table without columns.
    """

    def __init__(
        self,
        path: str | os.PathLike,
        *,
        overwrite: bool = True,
        escape_formulas: bool | None = None,
    ) -> None:
        self.path = Path(path)
        self.overwrite = overwrite
        self._format = _format_of(self.path)
        self.escape_formulas = (
            self._format.kind == "csv" if escape_formulas is None else bool(escape_formulas)
        )
        self.rows_written = 0
        self._chunks_written = 0
        self._atomic = AtomicPath(self.path)
        self._temp: Path | None = None
        self._handle: IO[str] | None = None
        self._parquet_writer: Any = None
        self._columns: list[str] | None = None
        self._state = "new"  # -> "open" -> "closed"

    def __enter__(self) -> AtomicTableWriter:
        if self._state != "new":
            raise RuntimeError("an AtomicTableWriter can be entered only once; create a new one")
        if self.path.is_dir():
            raise DataError(f"cannot write to '{self.path}': it is a directory; give a file path")
        if self.path.exists() and not self.overwrite:
            raise DataError(
                f"'{self.path}' already exists and overwrite=False; remove it or choose another path"
            )
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # A unique hidden name in the destination's directory (the one atomic
            # writer, dagmm.persistence.atomic); mode "x" never clobbers a
            # stranger's file. Temporary files of killed writers go first.
            self._temp = self._atomic.begin()
            if self._format.kind == "csv":
                opener = gzip.open if self._format.gzipped else open
                self._handle = opener(self._temp, "xt", encoding="utf-8", newline="")
            else:
                self._temp.touch(exist_ok=False)  # claim the name; the Parquet writer opens it
        except OSError as exc:
            self._discard()
            raise self._os_error(exc) from None
        self._state = "open"
        return self

    def _os_error(self, exc: OSError) -> DataError:
        return DataError(
            f"cannot write '{self.path}': {exc.strerror or exc}; check the folder's "
            "permissions and free space"
        )

    def write(self, frame: pd.DataFrame) -> None:
        """Append the rows of ``frame`` (its index is not written).

        Raises
        ------
        DataError
            If ``frame``'s columns differ from the first chunk's, or (Parquet)
            its values cannot be stored with the first chunk's column types.
        """
        if self._state != "open":
            raise RuntimeError(
                "write() is only allowed inside 'with AtomicTableWriter(path) as out:'"
            )
        if not isinstance(frame, pd.DataFrame):
            raise DataError(f"write() expects a pandas DataFrame, got {type(frame).__name__}")
        columns = [str(name) for name in frame.columns]
        if self._columns is None:
            self._columns = columns
        elif columns != self._columns:
            raise DataError(
                f"chunk columns {name_list(columns)} differ from the first chunk's columns "
                f"{name_list(self._columns)}; write every chunk with the same columns"
            )
        if self.escape_formulas:
            frame = _escape_frame(frame)
        if self._format.kind == "csv":
            header = self._chunks_written == 0  # even a 0-row first chunk writes the header
            # The csv module quotes a field holding "\n" but not one holding a
            # lone "\r", which readers take for a line break: quote all text then.
            quoting = csv.QUOTE_NONNUMERIC if _has_carriage_return(frame) else csv.QUOTE_MINIMAL
            try:
                frame.to_csv(
                    self._handle, sep=self._format.sep, index=False, header=header, quoting=quoting
                )
            except OSError as exc:
                raise self._os_error(exc) from None
        else:
            try:
                self._write_parquet(frame)
            except OSError as exc:
                raise self._os_error(exc) from None
        self.rows_written += len(frame)
        self._chunks_written += 1

    def _write_parquet(self, frame: pd.DataFrame) -> None:
        pa, pq = _pyarrow()
        if self._parquet_writer is None:
            table = pa.Table.from_pandas(frame, preserve_index=False)
            # Text columns (object/str dtype) are strings even when the first
            # chunk's values are all missing (an inferred "null" type) or all
            # numbers, so later chunks always fit.
            fields = [
                pa.field(field.name, pa.string())
                if not pd.api.types.is_numeric_dtype(frame[field.name])
                and not pd.api.types.is_bool_dtype(frame[field.name])
                and not pd.api.types.is_datetime64_any_dtype(frame[field.name])
                and (pa.types.is_null(field.type) or pa.types.is_string(field.type)
                     or pa.types.is_large_string(field.type))
                else field
                for field in table.schema
            ]
            schema = pa.schema(fields, metadata=table.schema.metadata)
            self._parquet_writer = pq.ParquetWriter(self._temp, schema)
        schema = self._parquet_writer.schema
        try:
            table = pa.Table.from_pandas(frame, schema=schema, preserve_index=False)
        except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
            raise DataError(_misfit_message(frame, schema, pa)) from exc
        self._parquet_writer.write_table(table)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._state != "open":
            return
        self._state = "closed"
        try:
            if exc_type is None:
                self._finish()
                return
        except OSError as error:
            self._discard()
            raise self._os_error(error) from None
        except BaseException:
            self._discard()
            raise
        self._discard()

    def _finish(self) -> None:
        assert self._temp is not None
        if self._handle is not None:
            self._handle.flush()
            self._handle.close()
        elif self._parquet_writer is not None:
            self._parquet_writer.close()
        else:  # Parquet with no chunk: still a valid (empty) file
            pa, pq = _pyarrow()
            pq.write_table(pa.table({}), self._temp)
        self._atomic.commit()

    def _discard(self) -> None:
        for closable in (self._handle, self._parquet_writer):
            if closable is not None:
                try:
                    closable.close()
                except Exception:  # the original error matters more than a close failure
                    pass
        self._atomic.abort()


def _misfit_message(frame: pd.DataFrame, schema: Any, pa: ModuleType) -> str:
    """Name the first column of ``frame`` whose values do not fit ``schema``."""
    for field in schema:
        try:
            pa.Array.from_pandas(frame[field.name], type=field.type)
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as exc:
            return (
                f"column {field.name!r} was written as {field.type} from the first chunk, but a "
                f"later chunk holds {frame[field.name].dtype} values that do not fit ({exc}); "
                "give the column one type in every chunk (text for identifiers)"
            )
    return "a chunk's values do not fit the column types of the first chunk"


def _has_carriage_return(frame: pd.DataFrame) -> bool:
    if any("\r" in str(name) for name in frame.columns):
        return True
    for name in frame.columns:
        column = frame[name]
        if not pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
            if column.map(lambda v: isinstance(v, str) and "\r" in v).any():
                return True
    return False


#: Cells a spreadsheet runs as formulas start with one of these.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def escape_formula(value: Any) -> Any:
    """``'`` + ``value`` when a spreadsheet would run the text as a formula, else ``value``.

    Text starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return
    is escaped unless it is a plain number (``-5``, ``+1.5e3``): a number is
    not a formula, and escaping it would change it. Non-text values are
    returned unchanged.
    """
    if isinstance(value, str) and value.startswith(_FORMULA_START) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def _escape_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with formula-like text cells and column names escaped (a copy if changed)."""
    names = [escape_formula(str(name)) for name in frame.columns]
    text = [
        name for name in frame.columns
        if not pd.api.types.is_numeric_dtype(frame[name])
        and not pd.api.types.is_bool_dtype(frame[name])
        and not pd.api.types.is_datetime64_any_dtype(frame[name])
    ]
    if not text and names == [str(name) for name in frame.columns]:
        return frame
    out = frame.copy()
    for name in text:
        out[name] = out[name].map(escape_formula, na_action="ignore")
    out.columns = names
    return out
