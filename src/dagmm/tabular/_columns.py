"""Coercion of one raw table column to numbers, date-times or category labels.

Fit and transform both go through these functions, so a column is read the same
way whatever pandas inferred for it. That matters for chunked reading: a CSV
chunk reader infers each chunk's dtypes on its own, so a code column may arrive
as ``int64`` in one chunk (``1, 2``) and as text in the next (``"1", "x"``). The
functions here map both to the same values.

Each coercion returns the converted values plus a boolean mask of the entries
that could not be converted (text in a numeric column, say), and leaves the
wording of the error to the caller, which knows whether it is fitting or
transforming.
"""

from __future__ import annotations

import math
import re
import zlib
from collections.abc import Iterable

import numpy as np
import pandas as pd

from dagmm._suggest import suggest  # noqa: F401  (the one "did you mean", re-exported for the tabular modules)
from dagmm.exceptions import DataError

#: Label given to a missing category when ``handle_missing="impute"``.
MISSING_LABEL = "__missing__"

_SECOND = pd.Timedelta(seconds=1)
_EPOCH_UTC = pd.Timestamp(0, tz="UTC")
ISO_DATE_PATTERN = re.compile(r"^\s*\d{4}-\d{2}-\d{2}")
# "01/15/2024", "15.01.2024 10:00", "1/5/2024 3:07:09 PM": day, month and year
# (in either order of the first two) with an optional time of day.
_NUMERIC_DATE_PATTERN = re.compile(
    r"^\s*(\d{1,2})([/.\-])(\d{1,2})\2(\d{4})"
    r"(?:[ T,]+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([AaPp][Mm])?)?\s*$"
)

#: Layouts of date-time values, in the order they are tried. A column is read
#: with one layout, chosen at fit (every value must fit it) and kept for scoring.
DATE_FORMATS: dict[str, str] = {
    "iso": "ISO 8601 (2024-01-15, 2024-01-15 10:00, 2024-01-15T10:00:00+01:00)",
    "month-first": "MM/DD/YYYY with an optional time (01/15/2024 10:00, 1/15/2024 3:07 PM)",
    "day-first": "DD.MM.YYYY or DD/MM/YYYY with an optional time (15.01.2024 10:00)",
    "epoch": "seconds since 1970-01-01 UTC (1705312800)",
}
# Beyond 2**53 not every integer is a float64; such values keep their float text.
_EXACT_INT_LIMIT = 2.0**53


def name_list(names: Iterable[str], limit: int = 20) -> str:
    """Quote and join column names for a message, eliding a long tail."""
    names = list(names)
    shown = ", ".join(repr(name) for name in names[:limit])
    if len(names) > limit:
        shown += f", ... ({len(names) - limit} more)"
    return shown


def as_frame(data: object) -> pd.DataFrame:
    """Return ``data`` as a DataFrame with unique string column names.

    A 2-D numpy array gets the columns ``x0, x1, ...``. Non-string column
    labels (as in ``pd.DataFrame(array)``) are turned into strings so that
    they can be stored in a JSON config.
    """
    if isinstance(data, pd.DataFrame):
        frame = data
    elif isinstance(data, np.ndarray):
        if data.ndim != 2:
            raise DataError(
                f"expected a 2-D array (rows x columns), got an array of shape {data.shape}; "
                "reshape it, e.g. array.reshape(-1, 1) for a single column"
            )
        frame = pd.DataFrame(data, columns=[f"x{i}" for i in range(data.shape[1])])
    else:
        raise DataError(
            f"expected a pandas DataFrame or a 2-D numpy array, got {type(data).__name__}; "
            "read files with dagmm.tabular.read_table"
        )
    labels = [str(label) for label in frame.columns]
    if len(set(labels)) != len(labels):
        duplicated = sorted({label for label in labels if labels.count(label) > 1})
        raise DataError(
            f"the data has duplicated column names {name_list(duplicated)}; "
            "every column needs a unique name: rename them"
        )
    if labels != list(frame.columns):
        frame = frame.set_axis(labels, axis=1)
    return frame


def describe_bad(series: pd.Series, bad: np.ndarray) -> str:
    """Describe the first flagged entry: ``"e.g. 'abc' in row 17 (3 values in all)"``.

    The row is the index label, so for chunks from
    :func:`dagmm.tabular.iter_table_chunks` it is the row number in the file.
    """
    positions = np.flatnonzero(bad)
    first = positions[0]
    value = series.iloc[first]
    if isinstance(value, np.generic):
        value = value.item()
    text = f"e.g. {value!r} in row {series.index[first]}"
    if len(positions) > 1:
        text += f" ({len(positions)} values in all)"
    return text


def _is_blank(value: object) -> bool:
    return isinstance(value, str) and not value.strip()


def _blank_mask(series: pd.Series, candidates: np.ndarray) -> np.ndarray:
    """Mark blank strings among ``candidates``; they count as missing, as read_csv does."""
    blank = np.zeros(len(series), dtype=bool)
    positions = np.flatnonzero(candidates)
    if len(positions) == 0:
        return blank
    subset = series.iloc[positions]
    if pd.api.types.is_string_dtype(subset.dtype):  # str dtype: vectorised
        blank[positions] = (subset.str.strip() == "").to_numpy(dtype=bool, na_value=False)
    else:
        blank[positions] = [_is_blank(value) for value in subset.to_numpy(dtype=object)]
    return blank


def coerce_float(series: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Convert a column to float64.

    Returns
    -------
    values : ndarray of float64, shape (n,)
        NaN where the entry is missing (None, NaN, blank text) or unconvertible.
    bad : ndarray of bool, shape (n,)
        True where the entry is present but is not a number (text, a date).
    """
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_numeric_dtype(dtype):
        values = series.to_numpy(dtype=np.float64, na_value=np.nan, copy=True)
        return values, np.zeros(len(values), dtype=bool)
    present = series.notna().to_numpy()
    if pd.api.types.is_datetime64_any_dtype(dtype) or pd.api.types.is_timedelta64_dtype(dtype):
        return np.full(len(series), np.nan), present
    raw = series.astype(object) if isinstance(dtype, pd.CategoricalDtype) else series
    parsed = pd.to_numeric(raw, errors="coerce")
    values = np.array(parsed, dtype=np.float64)  # a writable copy
    failed = np.isnan(values) & present
    bad = failed & ~_blank_mask(series, failed)
    return values, bad


def coerce_epoch_seconds(series: pd.Series, date_format: str = "iso") -> tuple[np.ndarray, np.ndarray]:
    """Convert a column of date-times to seconds since 1970-01-01 UTC.

    Time-zone-naive values are taken as UTC. Text is read in ``date_format``,
    a key of :data:`DATE_FORMATS`: ``"iso"`` (``2021-03-04 05:06:07``,
    ``2021-03-04T05:06:07+01:00``), ``"month-first"`` (``03/04/2021 05:06``),
    ``"day-first"`` (``04.03.2021 05:06``) or ``"epoch"`` (numbers: seconds).

    Returns
    -------
    values : ndarray of float64, shape (n,)
        NaN where missing or unconvertible.
    bad : ndarray of bool, shape (n,)
        True where the entry is present but is not a date-time.
    """
    if date_format not in DATE_FORMATS:
        raise ValueError(f"date_format must be one of {tuple(DATE_FORMATS)}, got {date_format!r}")
    dtype = series.dtype
    present = series.notna().to_numpy()
    if pd.api.types.is_datetime64_any_dtype(dtype):
        naive = getattr(dtype, "tz", None) is None
        stamps = series.dt.tz_localize("UTC") if naive else series.dt.tz_convert("UTC")
        return _seconds_since_epoch(stamps), np.zeros(len(series), dtype=bool)
    if date_format == "epoch":
        values, bad = coerce_float(series)
        return values, bad
    if pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_numeric_dtype(dtype):
        # An all-empty chunk of a date column reads as float NaN; any number is wrong.
        return np.full(len(series), np.nan), present
    raw = series.astype(object) if isinstance(dtype, pd.CategoricalDtype) else series
    if date_format == "iso":
        stamps = pd.to_datetime(raw, errors="coerce", format="ISO8601", utc=True)
    else:
        stamps = _numeric_dates(raw, day_first=date_format == "day-first")
    values = _seconds_since_epoch(stamps)
    failed = np.isnan(values) & present
    bad = failed & ~_blank_mask(series, failed)
    return values, bad


def _numeric_dates(raw: pd.Series, day_first: bool) -> pd.Series:
    """Parse ``MM/DD/YYYY [HH:MM[:SS] [AM|PM]]`` (or day first) text; NaT where it does not fit."""
    text = raw.map(lambda value: value if isinstance(value, str) else None).astype(object)
    parts = text.str.extract(_NUMERIC_DATE_PATTERN)  # n x 8 strings, NaN where no match
    first, second = pd.to_numeric(parts[0]), pd.to_numeric(parts[2])
    hour = pd.to_numeric(parts[4]).fillna(0.0)
    noon = parts[7].str.lower()
    twelve_hour = noon.notna()
    bad_clock = twelve_hour & ((hour < 1) | (hour > 12))
    hour = hour.where(~twelve_hour, hour % 12 + np.where(noon == "pm", 12, 0))
    fields = pd.DataFrame(
        {
            "year": pd.to_numeric(parts[3]),
            "month": second if day_first else first,
            "day": first if day_first else second,
            "hour": hour.where(~bad_clock, np.nan),
            "minute": pd.to_numeric(parts[5]).fillna(0.0),
            "second": pd.to_numeric(parts[6]).fillna(0.0),
        }
    )
    valid = fields.notna().all(axis=1) & (fields["hour"] < 24) & (fields["minute"] < 60)
    valid &= fields["second"] < 60
    stamps = pd.Series(pd.NaT, index=raw.index, dtype="datetime64[ns, UTC]")
    if valid.any():
        parsed = pd.to_datetime(fields[valid].astype(np.int64), errors="coerce", utc=True)
        stamps[valid] = parsed
    return stamps


def date_format_of(series: pd.Series, *, numbers: bool = False) -> str | None:
    """The first layout of :data:`DATE_FORMATS` every present value of a column fits.

    Returns None when none fits. Slashes are tried month first, dots and dashes
    day first (the usual conventions), then the other order. ``numbers``
    allows ``"epoch"`` (seconds since 1970), which a column of numbers fits:
    only for columns named as date-times, since any number would fit.
    """
    dtype = series.dtype
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "iso"
    if pd.api.types.is_bool_dtype(dtype):
        return None
    if pd.api.types.is_numeric_dtype(dtype):
        return "epoch" if numbers and series.notna().any() else None
    distinct = pd.unique(series.dropna())[:1000]
    texts = [value.strip() for value in distinct if isinstance(value, str) and value.strip()]
    if not texts or len(texts) < sum(not _is_blank(value) for value in distinct):
        return None  # no text, or objects other than text
    if all(ISO_DATE_PATTERN.match(text) for text in texts):
        candidates = ["iso"]
    elif all(_NUMERIC_DATE_PATTERN.match(text) for text in texts):
        slashes = "/" in texts[0]
        candidates = ["month-first", "day-first"] if slashes else ["day-first", "month-first"]
    elif numbers:
        candidates = ["epoch"]
    else:
        return None
    for candidate in candidates:
        _, bad = coerce_epoch_seconds(series, candidate)
        if not bad.any():
            return candidate
    return None


def _seconds_since_epoch(stamps: pd.Series) -> np.ndarray:
    # Division by a Timedelta works at every resolution (ns, us, s) pandas may pick.
    seconds = (stamps - _EPOCH_UTC) / _SECOND
    return np.array(seconds, dtype=np.float64)  # a writable copy


def looks_like_dates(series: pd.Series, sample_size: int = 1000) -> bool:
    """Whether every distinct value in a sample of a text column looks like a date.

    ISO dates (``2024-01-15...``) and day-month-year numbers (``01/15/2024``,
    ``15.01.2024 10:00``); :func:`date_format_of` then checks every value.
    """
    distinct = pd.unique(series.dropna())[:sample_size]
    if len(distinct) == 0:
        return False
    return all(
        isinstance(value, str)
        and (ISO_DATE_PATTERN.match(value) or _NUMERIC_DATE_PATTERN.match(value))
        for value in distinct
    )


def _number_text(number: float) -> str | None:
    if not math.isfinite(number):
        return None
    if number.is_integer() and abs(number) < _EXACT_INT_LIMIT:
        return str(int(number))
    return repr(number)


def _label(value: object) -> str | None:
    """Canonical text of one category value, or None when it is missing.

    Values are compared by meaning, not by how pandas happened to parse them:
    ``1``, ``1.0``, ``"1"`` and ``"01"`` are all the label ``"1"``, and
    ``True``, ``"true"`` and ``"TRUE"`` are all ``"True"``.
    """
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, (bool, np.bool_)):
        return "True" if value else "False"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        if math.isnan(value):
            return None
        return _number_text(float(value)) or str(float(value))
    if isinstance(value, str):
        stripped = value.strip()
        if not stripped:
            return None
        lowered = stripped.lower()
        if lowered in ("true", "false"):
            return lowered.capitalize()
        # float() also reads "1_000" and "nan"; pandas reads neither as a number.
        if "_" not in stripped and lowered not in ("nan", "inf", "+inf", "-inf", "infinity"):
            try:
                number = _number_text(float(stripped))
            except ValueError:
                number = None
            if number is not None:
                return number
        return value
    return str(value)


def category_labels(series: pd.Series) -> np.ndarray:
    """Canonical category labels of a column.

    Returns
    -------
    ndarray of object, shape (n,)
        A ``str`` per entry, or None where the entry is missing.
    """
    if series.dtype == object:
        # factorize would merge True with 1 (they hash alike), so label each entry.
        return np.array([_label(value) for value in series], dtype=object)
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    unique_labels = np.array([_label(value) for value in uniques] + [None], dtype=object)
    return unique_labels[codes]  # code -1 (missing) picks the trailing None


def stable_bucket(labels: np.ndarray, buckets: int) -> np.ndarray:
    """Hash labels to buckets with CRC-32: the same on every run and machine.

    Python's ``hash`` of a string is salted per process, so it cannot be used
    for a model that is saved and scored later.
    """
    codes, uniques = pd.factorize(labels)
    unique_buckets = np.array(
        [zlib.crc32(label.encode("utf-8")) % buckets for label in uniques], dtype=np.int64
    )
    return unique_buckets[codes]
