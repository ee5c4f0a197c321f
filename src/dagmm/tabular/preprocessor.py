"""Turn a table of mixed columns into the float32 matrix DAGMM trains on.

:class:`TabularPreprocessor` decides once, at ``fit``, what each input column
becomes (a scaled number, one-hot indicators, hashed indicators, date-time
numbers, or nothing) and then applies exactly that to any later table or chunk
of one. ``transform`` works row by row with statistics frozen at ``fit``, so
transforming a file chunk by chunk gives the rows of transforming it whole.

The arithmetic is scikit-learn's: a :class:`~sklearn.impute.SimpleImputer`
fills missing numbers with their medians, a
:class:`~sklearn.preprocessing.OneHotEncoder` (unknown categories ignored)
makes the indicators, and a :class:`~sklearn.preprocessing.StandardScaler`
applies ``(value - offset) / scale``. What scikit-learn has no transformer for
stays here:

* deciding each column's kind from its values (numbers, categories, dates in
  several text layouts, identifiers left out) and reading it the same way
  whatever dtype a chunk reader inferred (:mod:`dagmm.tabular._columns`);
* date-time features (seconds since 1970, day of week, hour of day);
* hashing with CRC-32 (:func:`~dagmm.tabular._columns.stable_bucket`):
  :class:`~sklearn.feature_extraction.FeatureHasher` uses MurmurHash3, so it
  would put saved models' values into other buckets;
* choosing between one-hot, hashing and leaving out by ``max_categories``
  (scikit-learn's ``max_categories`` groups rare labels instead);
* the one constant-column rule (:mod:`dagmm.math.scaling`) in place of
  scikit-learn's, and the messages that name the column and the value.

The fitted state is a JSON-able dict plus a few float64 arrays
(:meth:`TabularPreprocessor.to_state`), the form a model directory stores:
the scaler's ``mean_`` and ``scale_`` (``offset``, ``scale``), the imputer's
``statistics_`` (``impute_values``) and the encoder's categories (in the
JSON). Loading rebuilds the transformers from them; nothing is pickled.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.impute import SimpleImputer
from sklearn.preprocessing import MinMaxScaler, OneHotEncoder, StandardScaler
from sklearn.utils.validation import check_is_fitted

from dagmm._vocabulary import PYTHON, current, option_name, option_setting
from dagmm.exceptions import DataError, ModelFileError
from dagmm.math import constant_columns
from dagmm.tabular._columns import (
    DATE_FORMATS,
    MISSING_LABEL,
    as_frame,
    category_labels,
    coerce_epoch_seconds,
    coerce_float,
    date_format_of,
    describe_bad,
    looks_like_dates,
    name_list,
    stable_bucket,
    suggest,
)

__all__ = ["TabularPreprocessor", "TabularWarning"]

STATE_VERSION = 1
_CLASS_NAME = "TabularPreprocessor"

NUMERIC, DATETIME, ONEHOT, HASHED = "numeric", "datetime", "onehot", "hashed"
_KINDS = (NUMERIC, DATETIME, ONEHOT, HASHED)
# Kinds detected before fitting: category columns become ONEHOT or HASHED.
_TEXT, _UNSUPPORTED = "text", "unsupported"
# Date-time parts in output order; "epoch_s" is always first.
_DATETIME_PARTS = ("epoch_s", "dayofweek", "hour")
_SECONDS_PER_DAY = 86400.0
_SECONDS_PER_HOUR = 3600.0
# 1970-01-01 was a Thursday; with Monday = 0 that is day 3.
_EPOCH_WEEKDAY = 3

_HANDLE_MISSING = ("error", "impute")
_SCALES = ("standard", "minmax", None)
_DATETIME_FEATURES = ("calendar", "epoch", "drop")
# How a detected date column's layout is named in the warning.
_DATE_FORMAT_NOTES = {
    "iso": " (ISO 8601 text)",
    "month-first": " (read as MM/DD/YYYY)",
    "day-first": " (read as DD.MM.YYYY)",
    "epoch": " (seconds since 1970)",
}
# Fraction of text values that must parse as numbers before a column that also
# holds text is reported as a probably broken numeric column.
_MOSTLY_NUMERIC = 0.9


class TabularWarning(UserWarning):
    """A column was hashed, left out or read as dates; the message names it."""


@dataclass(frozen=True)
class _ColumnSpec:
    """What one input column becomes; everything needed to rebuild it is here."""

    name: str
    kind: str
    categories: tuple[str, ...] = ()  # ONEHOT: one output per label, in this order
    buckets: int = 0  # HASHED: number of outputs
    parts: tuple[str, ...] = ()  # DATETIME: subset of _DATETIME_PARTS, in order
    date_format: str = "iso"  # DATETIME: how text is read (a key of DATE_FORMATS)

    def feature_names(self) -> list[str]:
        if self.kind == NUMERIC:
            return [self.name]
        if self.kind == ONEHOT:
            return [f"{self.name}={label}" for label in self.categories]
        if self.kind == HASHED:
            return [f"{self.name}:hash{i}" for i in range(self.buckets)]
        return [f"{self.name}:{part}" for part in self.parts]

    @property
    def is_number(self) -> bool:
        return self.kind in (NUMERIC, DATETIME)

    def to_config(self) -> dict[str, Any]:
        config: dict[str, Any] = {"name": self.name, "kind": self.kind}
        if self.kind == ONEHOT:
            config["categories"] = list(self.categories)
        elif self.kind == HASHED:
            config["buckets"] = self.buckets
        elif self.kind == DATETIME:
            config["parts"] = list(self.parts)
            config["date_format"] = self.date_format
        return config

    @classmethod
    def from_config(cls, config: object, position: int) -> _ColumnSpec:
        where = f"columns[{position}]"
        if not isinstance(config, Mapping):
            raise ModelFileError(f"preprocessor state: {where} is {config!r}, expected an object")
        name, kind = config.get("name"), config.get("kind")
        if not isinstance(name, str):
            raise ModelFileError(
                f"preprocessor state: {where} has name {name!r}, expected a string"
            )
        if kind not in _KINDS:
            raise ModelFileError(
                f"preprocessor state: column {name!r} has kind {kind!r}, expected one of {_KINDS}"
            )
        if kind == ONEHOT:
            categories = config.get("categories")
            if (
                not isinstance(categories, list)
                or not categories
                or not all(isinstance(label, str) for label in categories)
                or len(set(categories)) != len(categories)
            ):
                raise ModelFileError(
                    f"preprocessor state: column {name!r} has categories {categories!r}, "
                    "expected a non-empty list of distinct strings"
                )
            return cls(name, kind, categories=tuple(categories))
        if kind == HASHED:
            buckets = config.get("buckets")
            if not isinstance(buckets, int) or isinstance(buckets, bool) or buckets < 1:
                raise ModelFileError(
                    f"preprocessor state: column {name!r} has buckets {buckets!r}, "
                    "expected a positive integer"
                )
            return cls(name, kind, buckets=buckets)
        if kind == DATETIME:
            parts = config.get("parts")
            if (
                not isinstance(parts, list)
                or not parts
                or parts[0] != "epoch_s"
                or parts != [part for part in _DATETIME_PARTS if part in parts]
            ):
                raise ModelFileError(
                    f"preprocessor state: column {name!r} has parts {parts!r}, expected "
                    f"'epoch_s' followed by some of {_DATETIME_PARTS[1:]} in that order"
                )
            date_format = config.get("date_format", "iso")  # models saved before it: ISO
            if date_format not in DATE_FORMATS:
                raise ModelFileError(
                    f"preprocessor state: column {name!r} has date_format {date_format!r}, "
                    f"expected one of {tuple(DATE_FORMATS)}"
                )
            return cls(name, kind, parts=tuple(parts), date_format=date_format)
        return cls(name, kind)


def _datetime_parts(seconds: np.ndarray, parts: Sequence[str]) -> np.ndarray:
    """Features of date-times given as seconds since 1970 UTC.

    Returns an ``(n, len(parts))`` array: the seconds themselves, the day of
    the week (Monday = 0) and the hour of the day as a fraction (13.5 is 13:30).
    Missing (NaN) seconds give NaN in every part.
    """
    columns = []
    for part in parts:
        if part == "epoch_s":
            columns.append(seconds)
        elif part == "dayofweek":
            days = np.floor_divide(seconds, _SECONDS_PER_DAY)
            columns.append(np.mod(days + _EPOCH_WEEKDAY, 7.0))
        else:  # "hour"
            columns.append(np.mod(seconds, _SECONDS_PER_DAY) / _SECONDS_PER_HOUR)
    return np.column_stack(columns)  # n x len(parts)


def _scaling(values: np.ndarray, scale: str | None) -> tuple[float, float]:
    """Offset and divisor for one numeric feature from its observed (non-NaN) values.

    :class:`~sklearn.preprocessing.StandardScaler` gives the mean and standard
    deviation, :class:`~sklearn.preprocessing.MinMaxScaler` the extremes. They
    are fitted on the observed values as one column: numpy then sums exactly
    those values in its pairwise order, so the mean is ``np.mean``'s to the
    bit (with NaNs left in place the sums run in another order). The standard
    deviation is a corrected two-pass sum; it can differ from ``np.std`` (what
    dagmm used before) in the last bits, by up to ~1e-10 relative where it is
    ~1e-11 of the mean and both are at their rounding limit. scikit-learn
    sets a constant column's scale by its own tolerance; the project's one
    rule (:func:`~dagmm.math.scaling.constant_columns`) decides instead, and
    centres such a column on its exact value (a mean may be off by rounding).
    """
    observed = values[~np.isnan(values)][:, None]  # m x 1
    if scale is None or observed.size == 0:
        return 0.0, 1.0
    extremes = MinMaxScaler().fit(observed)
    low, high = float(extremes.data_min_[0]), float(extremes.data_max_[0])
    if scale == "standard":
        moments = StandardScaler().fit(observed)
        offset, spread = float(moments.mean_[0]), float(np.sqrt(moments.var_[0]))
    else:  # "minmax"
        offset, spread = low, float(extremes.data_range_[0])
    if constant_columns(spread, max(abs(low), abs(high))).item():  # the one relative rule
        return low, 1.0
    return offset, spread


# The fitted transformers are rebuilt from the saved arrays. The imputer and
# the scaler are fitted on a placeholder row, which sets scikit-learn's own
# bookkeeping (n_features_in_, dtypes), and then given the saved arrays as
# their documented fitted attributes, exactly (refitting on the values
# themselves would round at the float64 extremes). Each returns numpy arrays
# whatever sklearn.set_config(transform_output=...) says.
def _imputer(medians: np.ndarray) -> SimpleImputer:
    """A median imputer whose ``statistics_`` are ``medians`` (one per number column)."""
    imputer = SimpleImputer(strategy="median").fit(np.zeros((1, len(medians))))
    imputer.statistics_ = np.array(medians, dtype=np.float64)
    return imputer.set_output(transform="default")


def _scaler(offset: np.ndarray, scale: np.ndarray) -> StandardScaler:
    """A scaler computing ``(features - offset) / scale`` over every output feature.

    Indicators have offset 0 and scale 1, so they pass unchanged; numbers have
    the statistics of :func:`_scaling`.
    """
    scaler = StandardScaler().fit(np.zeros((1, len(offset))))
    scaler.mean_ = np.array(offset, dtype=np.float64)
    scaler.scale_ = np.array(scale, dtype=np.float64)
    scaler.var_ = scaler.scale_**2
    return scaler.set_output(transform="default")


def _encoder(categories: Sequence[Sequence[str]]) -> OneHotEncoder:
    """An encoder of the given categories per column, in that order; unknown labels give zeros.

    ``handle_unknown="ignore"`` rather than ``"infrequent_if_exist"``: a column
    with more than ``max_categories`` labels is hashed, not grouped (see the
    class docstring), so every category kept has its own indicator.
    """
    columns = [np.array(labels, dtype=object) for labels in categories]
    encoder = OneHotEncoder(
        categories=columns, handle_unknown="ignore", sparse_output=False, dtype=np.float64
    )
    encoder.fit(np.array([[labels[0] for labels in columns]], dtype=object))
    return encoder.set_output(transform="default")


def _column_list(value: object, parameter: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise ValueError(
            f"{parameter} must be a list of column names, got {value!r}; "
            f"write {parameter}=[{value!r}] for a single column"
        )
    names = [str(name) for name in value]
    if len(set(names)) != len(names):
        raise ValueError(f"{parameter} names a column twice: {value!r}")
    return names


class TabularPreprocessor(BaseEstimator):
    """Encode a table of numbers, categories, booleans and date-times as floats.

    Each input column becomes:

    * a number (int or float dtype, or text that is all numbers): one feature,
      scaled with statistics from ``fit`` (``scale``);
    * a category (text, ``category`` or bool dtype, or named in
      ``categorical_cols``) with at most ``max_categories`` distinct values:
      one 0/1 feature per value seen at fit (``color=red``). A value not seen
      at fit gives all zeros, without error;
    * a category with more distinct values: ``hash_buckets`` 0/1 features
      (``city:hash3``) chosen by a CRC-32 of the value, stable across runs,
      with a warning. If nearly every value is distinct (more than
      ``max_unique_fraction`` of the rows: identifiers, free text) and the
      column is not named in ``categorical_cols``, it is left out, with a
      warning;
    * a date-time (datetime dtype, or text in ISO 8601 form such as
      ``2021-03-04 05:06``): seconds since 1970 UTC and, with
      ``datetime_features="calendar"``, day of week (Monday = 0) and hour of
      day, all scaled like numbers. A warning names date-time columns that
      were detected rather than listed in ``datetime_cols``.

    Category values are compared by meaning, so the codes ``1``, ``1.0`` and
    ``"1"`` (or ``"01"``) are one category, and ``True``/``"true"`` are one:
    a CSV chunk reader may parse the same column differently chunk to chunk.

    Parameters
    ----------
    categorical_cols : list of str, optional
        Columns to encode as categories whatever their dtype, e.g. integer
        codes. Columns not named in any list are detected from their dtype;
        integer columns are numbers unless named here.
    numeric_cols : list of str, optional
        Columns that must be numbers; text in them is an error at fit.
    datetime_cols : list of str, optional
        Columns that must be date-times (datetime dtype or ISO 8601 text).
    drop_cols : list of str, default=()
        Columns to ignore.
    id_cols : list of str, default=()
        Identifier columns: never features, kept aside for
        :meth:`select_ids` so scores can be written next to them.
    max_categories : int, default=50
        Most distinct values a category column may have to be one-hot encoded.
    max_unique_fraction : float, default=0.9
        A detected text column with more than ``max_categories`` distinct
        values is left out when distinct values exceed this fraction of its
        non-missing rows; otherwise it is hashed.
    hash_buckets : int, default=16
        Number of features of a hashed column.
    handle_missing : {"error", "impute"}, default="error"
        ``"error"`` raises :class:`~dagmm.exceptions.DataError` listing the
        columns with missing values (None, NaN, blank text). ``"impute"``
        fills numbers and date-times with the median seen at fit and gives
        categories the label ``"__missing__"`` (its own one-hot feature when
        values were missing at fit, all zeros otherwise).
    scale : {"standard", "minmax"} or None, default="standard"
        Scaling of numeric and date-time features: zero mean and unit variance,
        the range [0, 1] at fit, or none. A constant column is only centred.
    datetime_features : {"calendar", "epoch", "drop"}, default="calendar"
        What date-time columns become: seconds since 1970 plus day of week and
        hour of day (the hour is omitted when every value is at midnight),
        seconds only, or nothing (left out with a warning).

    Attributes
    ----------
    feature_names_in_ : ndarray of str
        Every column of the table passed to ``fit``.
    input_columns_ : list of str
        The columns that produce features, in order; ``transform`` needs them.
    id_columns_ : list of str
        ``id_cols`` as fitted.
    dropped_columns_ : dict of str to str
        Columns that produce no feature (and are not ids), with the reason.
    column_kinds_ : dict of str to str
        For each input column: ``"numeric"``, ``"datetime"``, ``"onehot"`` or
        ``"hashed"``.
    feature_names_out_ : list of str
        Names of the output features, e.g. ``["amount", "color=red", ...]``.
    feature_source_ : list of str
        For each output feature, the input column it comes from.
    imputer_ : sklearn.impute.SimpleImputer or None
        Median of each numeric and date-time column (seconds for date-times),
        in ``input_columns_`` order; None without such columns.
    encoder_ : sklearn.preprocessing.OneHotEncoder or None
        The categories of each one-hot column, unknown labels ignored; None
        without such columns.
    scaler_ : sklearn.preprocessing.StandardScaler
        ``output = (value - mean_) / scale_`` over every output feature:
        the mean and standard deviation (``scale="standard"``), the minimum
        and range (``"minmax"``) or 0 and 1 (None) of each number feature;
        0 and 1 for indicators. A constant column (the rule of
        :mod:`dagmm.math.scaling`, not scikit-learn's) gets its value and 1.
    offset_, scale_ : ndarray of float64, shape (n_features_out,)
        The scaler's ``mean_`` and ``scale_``.
    impute_values_ : ndarray of float64, shape (n_input_columns,)
        The imputer's medians per input column; NaN for category columns.

    Examples
    --------
    >>> import pandas as pd
    >>> from dagmm.tabular import TabularPreprocessor
    >>> frame = pd.DataFrame({
    ...     "amount": [10.0, 12.5, 9.0, 11.0],
    ...     "color": ["red", "blue", "red", "green"],
    ...     "order_id": ["a1", "a2", "a3", "a4"],
    ... })
    >>> pre = TabularPreprocessor(id_cols=["order_id"]).fit(frame)
    >>> pre.feature_names_out_
    ['amount', 'color=blue', 'color=green', 'color=red']
    >>> pre.transform(pd.DataFrame({"amount": [10.0], "color": ["purple"]}))[0, 1:]
    array([0., 0., 0.], dtype=float32)
    """

    def __init__(
        self,
        categorical_cols: Sequence[str] | None = None,
        numeric_cols: Sequence[str] | None = None,
        datetime_cols: Sequence[str] | None = None,
        drop_cols: Sequence[str] = (),
        id_cols: Sequence[str] = (),
        max_categories: int = 50,
        max_unique_fraction: float = 0.9,
        hash_buckets: int = 16,
        handle_missing: str = "error",
        scale: str | None = "standard",
        datetime_features: str = "calendar",
    ) -> None:
        self.categorical_cols = categorical_cols
        self.numeric_cols = numeric_cols
        self.datetime_cols = datetime_cols
        self.drop_cols = drop_cols
        self.id_cols = id_cols
        self.max_categories = max_categories
        self.max_unique_fraction = max_unique_fraction
        self.hash_buckets = hash_buckets
        self.handle_missing = handle_missing
        self.scale = scale
        self.datetime_features = datetime_features

    # ------------------------------------------------------------------ params
    def _check_params(self) -> dict[str, list[str]]:
        """Validate the constructor parameters; return the column lists by role."""
        for parameter, minimum in (("max_categories", 1), ("hash_buckets", 1)):
            value = getattr(self, parameter)
            if (
                not isinstance(value, (int, np.integer))
                or isinstance(value, bool)
                or value < minimum
            ):
                raise ValueError(f"{parameter} must be an integer >= {minimum}, got {value!r}")
        fraction = self.max_unique_fraction
        if (
            not isinstance(fraction, (int, float))
            or isinstance(fraction, bool)
            or not 0 < fraction <= 1
        ):
            raise ValueError(f"max_unique_fraction must be a number in (0, 1], got {fraction!r}")
        for parameter, allowed in (
            ("handle_missing", _HANDLE_MISSING),
            ("scale", _SCALES),
            ("datetime_features", _DATETIME_FEATURES),
        ):
            value = getattr(self, parameter)
            if value not in allowed:
                raise ValueError(f"{parameter} must be one of {allowed}, got {value!r}")
        roles = {
            parameter: _column_list(getattr(self, parameter), parameter)
            for parameter in (
                "categorical_cols",
                "numeric_cols",
                "datetime_cols",
                "drop_cols",
                "id_cols",
            )
        }
        seen: dict[str, str] = {}
        for parameter, names in roles.items():
            for name in names:
                if name in seen:
                    raise ValueError(
                        f"column {name!r} is named in both {option_name(seen[name])} and "
                        f"{option_name(parameter)}; give each column one role"
                    )
                seen[name] = parameter
        return roles

    # --------------------------------------------------------------------- fit
    def fit(self, X: pd.DataFrame | np.ndarray, y: object = None) -> TabularPreprocessor:
        """Decide what each column becomes and learn the scaling statistics.

        Parameters
        ----------
        X : DataFrame or ndarray of shape (n_samples, n_columns)
            The training table. An array's columns are named ``x0, x1, ...``.
        y : ignored

        Returns
        -------
        self

        Raises
        ------
        DataError
            If a named column is absent, a column named in ``numeric_cols`` or
            ``datetime_cols`` holds other values, values are missing with
            ``handle_missing="error"``, numbers are infinite, or no column is
            left to encode.
        ValueError
            If a parameter is invalid.
        """
        roles = self._check_params()
        frame = as_frame(X)
        if len(frame) == 0:
            raise DataError("cannot fit on a table with no rows; pass at least one row of data")
        columns = list(frame.columns)
        for parameter, names in roles.items():
            absent = [name for name in names if name not in columns]
            if absent:
                raise DataError(
                    f"{option_name(parameter)} names column(s) {name_list(absent)} that the data "
                    "does not have"
                    f"{suggest(absent[0], columns)}; the data has columns {name_list(columns)}"
                )
        role_of = {name: parameter for parameter, names in roles.items() for name in names}

        notes = _FitNotes()
        specs: list[_ColumnSpec] = []
        raw: list[np.ndarray | None] = []  # per spec: values (seconds for dates), NaN where missing
        missing_rows: dict[str, np.ndarray] = {}  # column -> missing mask
        dropped: dict[str, str] = {
            name: f"listed in {option_name('drop_cols')}" for name in roles["drop_cols"]
        }
        for name in columns:
            role = role_of.get(name)
            if role in ("drop_cols", "id_cols"):
                continue
            fitted = self._fit_column(name, frame[name], role, notes)
            if isinstance(fitted, str):
                dropped[name] = fitted
                continue
            spec, values, missing = fitted
            specs.append(spec)
            raw.append(values)
            if missing.any():
                missing_rows[name] = missing
        if self.handle_missing == "error" and missing_rows:
            raise _missing_error(missing_rows, frame.index, fitting=True)
        if not specs:
            raise _nothing_to_encode(dropped)
        notes.emit(self)

        numbers = [values for values in raw if values is not None]
        impute_values = np.full(len(specs), np.nan)
        if numbers:  # medians of the observed values (SimpleImputer skips NaN)
            medians = SimpleImputer(strategy="median").fit(np.column_stack(numbers)).statistics_
            impute_values[[spec.is_number for spec in specs]] = medians
        offsets, scales = [], []
        for spec, values in zip(specs, raw, strict=True):
            if values is None:  # indicators stay 0/1
                offsets += [0.0] * len(spec.feature_names())
                scales += [1.0] * len(spec.feature_names())
                continue
            block = values[:, None] if spec.kind == NUMERIC else _datetime_parts(values, spec.parts)
            for feature in block.T:  # numbers are scaled from their observed values
                offset, spread = _scaling(feature, self.scale)
                offsets.append(offset)
                scales.append(spread)
        self._set_fitted(columns, roles["id_cols"], dropped, specs, offsets, scales, impute_values)
        return self

    def _fit_column(
        self, name: str, series: pd.Series, role: str | None, notes: _FitNotes
    ) -> tuple[_ColumnSpec, np.ndarray | None, np.ndarray] | str:
        """Fit one column: its spec, its values as numbers and its missing mask.

        The values (seconds for date-times, NaN where missing) are None for
        category columns. Returns the reason instead when the column is left out.
        """
        if series.notna().sum() == 0:
            notes.empty.append(name)
            return "holds no values"
        kind = self._column_kind(name, series, role, notes)
        if kind == _UNSUPPORTED:
            return f"unsupported dtype {series.dtype}"
        if kind == DATETIME and self.datetime_features == "drop":
            notes.datetime_dropped.append(name)
            return "date-time column left out (datetime_features='drop')"

        if kind == DATETIME:
            date_format = date_format_of(series, numbers=role == "datetime_cols")
            if date_format is None:  # only reachable for named columns: detection checked
                raise _date_error(name, role, series)
            values, bad = coerce_epoch_seconds(series, date_format)
        if kind in (NUMERIC, DATETIME):
            if kind == NUMERIC:
                values, bad = coerce_float(series)
            if bad.any():  # only reachable for named columns: detection checked already
                expected = "numbers" if kind == NUMERIC else "date-times"
                raise DataError(
                    f"column {name!r} is listed in {option_name(role)} but holds values that "
                    f"are not {expected}: {describe_bad(series, bad)}; fix those values, or "
                    f"remove {name!r} from {option_name(role)}"
                )
            _check_finite(name, series, values)
            missing = np.isnan(values)
            if missing.all():  # e.g. only blank text
                notes.empty.append(name)
                return "holds no values"
            if kind == NUMERIC:
                return _ColumnSpec(name, NUMERIC), values, missing
            time_of_day = bool(np.any(np.mod(values[~missing], _SECONDS_PER_DAY) != 0))
            return self._datetime_spec(name, time_of_day, date_format), values, missing

        labels = category_labels(series)
        missing = pd.isna(labels)
        distinct = sorted(set(labels[~missing]))
        n_present = int((~missing).sum())
        spec = self._category_spec(name, role, distinct, len(distinct), n_present, missing.any(), notes)
        return spec if isinstance(spec, str) else (spec, None, missing)

    def _category_spec(
        self,
        name: str,
        role: str | None,
        labels: list[str] | None,
        n_distinct: int,
        n_present: int,
        any_missing: bool,
        notes: _FitNotes,
    ) -> _ColumnSpec | str:
        """One-hot, hashed or left out (the reason), by how many distinct labels a column has.

        ``labels`` are the sorted distinct labels, or None where only their
        number is known (a sharded fit counts more than ``max_categories``
        labels by their hashes).
        """
        if n_present == 0:
            notes.empty.append(name)
            return "holds no values"
        if labels is not None and n_distinct <= self.max_categories:
            impute_slot = self.handle_missing == "impute" and any_missing
            categories = tuple(labels) + ((MISSING_LABEL,) if impute_slot else ())
            return _ColumnSpec(name, ONEHOT, categories=categories)
        if role is None and n_distinct > self.max_unique_fraction * n_present:
            notes.identifiers.append(f"{name!r} ({n_distinct} distinct in {n_present} rows)")
            return "nearly every value is distinct (identifier or free text)"
        notes.hashed.append(f"{name!r} ({n_distinct} distinct values)")
        return _ColumnSpec(name, HASHED, buckets=int(self.hash_buckets))

    def _datetime_spec(self, name: str, time_of_day: bool, date_format: str) -> _ColumnSpec:
        """What a date-time column becomes; ``time_of_day``: some value is not at midnight."""
        parts = ["epoch_s"]
        if self.datetime_features == "calendar":
            parts += ["dayofweek", "hour"] if time_of_day else ["dayofweek"]
        return _ColumnSpec(name, DATETIME, parts=tuple(parts), date_format=date_format)

    def _column_kind(self, name: str, series: pd.Series, role: str | None, notes: _FitNotes) -> str:
        """Kind of a column from its role or, for unnamed columns, its dtype and values.

        Returns ``NUMERIC``, ``DATETIME``, ``_TEXT`` or ``_UNSUPPORTED``.
        """
        if role == "categorical_cols":
            return _TEXT
        if role == "numeric_cols":
            return NUMERIC
        if role == "datetime_cols":
            return DATETIME
        dtype = series.dtype
        if pd.api.types.is_bool_dtype(dtype) or isinstance(dtype, pd.CategoricalDtype):
            return _TEXT
        if pd.api.types.is_datetime64_any_dtype(dtype):
            notes.datetimes.append(repr(name))
            return DATETIME
        if pd.api.types.is_complex_dtype(dtype) or not (
            pd.api.types.is_numeric_dtype(dtype)
            or pd.api.types.is_string_dtype(dtype)
            or pd.api.types.is_object_dtype(dtype)
        ):
            notes.unsupported.append(f"{name!r} ({dtype})")
            return _UNSUPPORTED
        if pd.api.types.is_numeric_dtype(dtype):
            return NUMERIC

        # Text or Python objects: numbers, dates or labels?
        inferred = pd.api.types.infer_dtype(series, skipna=True)
        if inferred == "boolean":
            return _TEXT
        numbers, not_numbers = coerce_float(series)
        if not not_numbers.any():
            return NUMERIC
        if inferred in ("datetime", "datetime64", "date") or looks_like_dates(series):
            date_format = date_format_of(series)
            if date_format is not None:
                kind_of_text = "" if inferred.startswith("date") else _DATE_FORMAT_NOTES[date_format]
                notes.datetimes.append(f"{name!r}{kind_of_text}")
                return DATETIME
        n_numbers = int((~np.isnan(numbers)).sum())
        if n_numbers >= _MOSTLY_NUMERIC * (n_numbers + int(not_numbers.sum())):
            notes.mostly_numeric.append(
                f"column {name!r} holds numbers except for some text "
                f"({describe_bad(series, not_numbers)}), so it is treated as text; fix or blank "
                f"out those values to use it as numbers, or list it in "
                f"{option_name('categorical_cols')} to silence this warning"
            )
        return _TEXT

    def _set_fitted(
        self,
        columns: Sequence[str],
        id_columns: Sequence[str],
        dropped: Mapping[str, str],
        specs: Sequence[_ColumnSpec],
        offset: Sequence[float],
        scale: Sequence[float],
        impute_values: np.ndarray,
    ) -> None:
        """Set every fitted attribute from the column specs and the fitted arrays.

        The one place the fitted state is set: by :meth:`fit`, by
        :meth:`from_state` and by the sharded fit
        (:func:`dagmm.distributed.tabular.fit_preprocessor_sharded`), so a
        loaded or sharded preprocessor is built exactly like a fitted one.
        ``impute_values`` has one value per spec, NaN for category columns.
        """
        self.feature_names_in_ = np.asarray(columns, dtype=object)
        self.n_features_in_ = len(columns)
        self.id_columns_ = list(id_columns)
        self.dropped_columns_ = dict(dropped)
        self._specs = list(specs)
        self.input_columns_ = [spec.name for spec in specs]
        self.column_kinds_ = {spec.name: spec.kind for spec in specs}
        self.feature_names_out_ = [name for spec in specs for name in spec.feature_names()]
        self.feature_source_ = [spec.name for spec in specs for _ in spec.feature_names()]
        widths = [len(spec.feature_names()) for spec in specs]
        self._column_starts = np.concatenate([[0], np.cumsum(widths)[:-1]]).astype(np.intp)
        # Output features of the one-hot columns, in the encoder's order.
        self._onehot_slots = np.flatnonzero(
            [self.column_kinds_[source] == ONEHOT for source in self.feature_source_]
        )
        numbers = np.array([spec.is_number for spec in specs])
        onehot = [spec.categories for spec in specs if spec.kind == ONEHOT]
        self.imputer_ = _imputer(np.asarray(impute_values)[numbers]) if numbers.any() else None
        self.encoder_ = _encoder(onehot) if onehot else None
        self.scaler_ = _scaler(np.asarray(offset), np.asarray(scale))

    @property
    def offset_(self) -> np.ndarray:
        """``output = (value - offset_) / scale_``: the scaler's ``mean_`` (0 for indicators)."""
        return self.scaler_.mean_

    @property
    def scale_(self) -> np.ndarray:
        """The scaler's ``scale_`` (1 for indicators and constant columns)."""
        return self.scaler_.scale_

    @property
    def impute_values_(self) -> np.ndarray:
        """Per input column: the imputer's median (seconds for date-times), NaN for categories."""
        values = np.full(len(self._specs), np.nan)
        if self.imputer_ is not None:
            values[[spec.is_number for spec in self._specs]] = self.imputer_.statistics_
        return values

    # --------------------------------------------------------------- transform
    def transform(self, X: pd.DataFrame | np.ndarray) -> np.ndarray:
        """Encode a table with the encoding decided at ``fit``.

        Rows are encoded independently, so any chunk of a table gives the
        matching rows of the whole. Extra columns are ignored.

        Parameters
        ----------
        X : DataFrame or ndarray of shape (n_samples, n_columns)
            Must hold every column in ``input_columns_``.

        Returns
        -------
        ndarray of float32, shape (n_samples, n_features_out)

        Raises
        ------
        DataError
            If a needed column is absent, a numeric or date-time column holds
            other values now, numbers are infinite or values are missing with
            ``handle_missing="error"``.
        """
        self._check_fitted()
        frame = self._checked_frame(X)
        n_rows = len(frame)
        # Raw values per kind, each with its spec and first output feature.
        numbers: list[tuple[_ColumnSpec, int, np.ndarray]] = []  # NaN where missing
        onehot: list[np.ndarray] = []  # labels, in the encoder's column order
        hashed: list[tuple[_ColumnSpec, int, np.ndarray]] = []
        missing_rows: dict[str, np.ndarray] = {}
        for spec, start in zip(self._specs, self._column_starts, strict=True):
            series = frame[spec.name]
            if spec.is_number:
                values = self._transform_number(spec, series)
                missing = np.isnan(values)
                numbers.append((spec, start, values))
            else:
                labels = category_labels(series)
                missing = pd.isna(labels)
                labels[missing] = MISSING_LABEL
                if spec.kind == ONEHOT:
                    onehot.append(labels)
                else:
                    hashed.append((spec, start, labels))
            if missing.any():
                missing_rows[spec.name] = missing
        if self.handle_missing == "error" and missing_rows:
            raise _missing_error(missing_rows, frame.index, fitting=False)
        n_out = len(self.feature_names_out_)
        if n_rows == 0:  # scikit-learn's transformers refuse empty arrays
            return np.zeros((0, n_out), dtype=np.float32)

        features = np.zeros((n_rows, n_out))  # n x n_out, before scaling
        if numbers:
            filled = self.imputer_.transform(np.column_stack([item[2] for item in numbers]))
            for (spec, start, _), values in zip(numbers, filled.T, strict=True):
                width = len(spec.feature_names())
                features[:, start : start + width] = (
                    values[:, None] if spec.kind == NUMERIC else _datetime_parts(values, spec.parts)
                )
        if onehot:
            features[:, self._onehot_slots] = self.encoder_.transform(np.column_stack(onehot))
        for spec, start, labels in hashed:
            features[np.arange(n_rows), start + stable_bucket(labels, spec.buckets)] = 1.0
        scaled = self.scaler_.transform(features).astype(np.float32)  # n x n_out
        if not np.isfinite(scaled).all():
            row, col = np.argwhere(~np.isfinite(scaled))[0]
            raise DataError(
                f"column {self.feature_source_[col]!r} gives a value too large for float32 "
                f"after scaling in row {frame.index[row]}; check that value, or refit "
                + ("with scale='standard' " if current() == PYTHON else "")
                + "on data that covers its range"
            )
        return scaled

    def _transform_number(self, spec: _ColumnSpec, series: pd.Series) -> np.ndarray:
        if spec.kind == NUMERIC:
            values, bad = coerce_float(series)
            held, holds = "numbers", "text"
        else:
            values, bad = coerce_epoch_seconds(series, spec.date_format)
            held = "date-times"
            holds = f"values that are not date-times in its layout, {DATE_FORMATS[spec.date_format]}"
        if bad.any():
            raise DataError(
                f"column {spec.name!r} held {held} when the model was fitted but holds "
                f"{holds} now: {describe_bad(series, bad)}; fix those values, or refit the "
                "model on data of the new type"
            )
        _check_finite(spec.name, series, values)
        return values

    def fit_transform(self, X: pd.DataFrame | np.ndarray, y: object = None) -> np.ndarray:
        """Fit, then transform ``X``; see :meth:`fit` and :meth:`transform`."""
        return self.fit(X, y).transform(X)

    def _check_fitted(self) -> None:
        check_is_fitted(self, ["feature_names_out_", "scaler_"])

    def _checked_frame(self, X: pd.DataFrame | np.ndarray) -> pd.DataFrame:
        if isinstance(X, np.ndarray) and X.ndim == 2 and X.shape[1] != self.n_features_in_:
            raise DataError(
                f"got an array with {X.shape[1]} columns, but the preprocessor was fitted on "
                f"{self.n_features_in_} columns ({name_list(self.feature_names_in_)}); pass "
                "the same columns in the same order, or a DataFrame with those names"
            )
        frame = as_frame(X)
        absent = [name for name in self.input_columns_ if name not in frame.columns]
        if absent:
            raise DataError(
                f"the data lacks column(s) {name_list(absent)}{suggest(absent[0], list(frame.columns))}"
                f" that the model was fitted with; expected columns {name_list(self.input_columns_)}"
                f", got {name_list(frame.columns)}"
            )
        return frame

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        """Names of the output features, as an array of str (scikit-learn API)."""
        self._check_fitted()
        return np.asarray(self.feature_names_out_, dtype=object)

    def select_ids(self, X: pd.DataFrame) -> pd.DataFrame:
        """Return the ``id_cols`` of a table, to write beside its scores.

        Raises
        ------
        DataError
            If an id column is absent.
        """
        self._check_fitted()
        frame = as_frame(X)
        absent = [name for name in self.id_columns_ if name not in frame.columns]
        if absent:
            raise DataError(
                f"the data lacks id column(s) {name_list(absent)}; expected id columns "
                f"{name_list(self.id_columns_)}, got {name_list(frame.columns)}"
            )
        return frame.loc[:, self.id_columns_]

    def aggregate_by_column(self, per_feature_values: np.ndarray) -> tuple[np.ndarray, list[str]]:
        """Sum per-feature values (e.g. squared reconstruction errors) per input column.

        Parameters
        ----------
        per_feature_values : ndarray of shape (n, n_features_out) or (n_features_out,)

        Returns
        -------
        values : ndarray of float64, shape (n, n_input_columns) or (n_input_columns,)
            ``values[:, j]`` is the sum over the features of ``input_columns_[j]``.
        columns : list of str
            ``input_columns_``.
        """
        self._check_fitted()
        values = np.asarray(per_feature_values, dtype=np.float64)
        n_out = len(self.feature_names_out_)
        if values.ndim not in (1, 2) or values.shape[-1] != n_out:
            raise DataError(
                f"per_feature_values has shape {values.shape}, expected (n, {n_out}) or "
                f"({n_out},): one value per output feature"
            )
        # reduceat sums each column's contiguous run of features; a NaN stays in its column.
        summed = np.add.reduceat(values, self._column_starts, axis=-1)
        return summed, list(self.input_columns_)

    # ------------------------------------------------------------- persistence
    def to_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """Fitted state as a JSON-able dict and a dict of float64 arrays.

        ``TabularPreprocessor.from_state(*pre.to_state())`` rebuilds an
        equivalent preprocessor; the arrays fit in a safetensors file. They are
        the fitted transformers' arrays: ``offset`` and ``scale`` the scaler's
        ``mean_`` and ``scale_``, ``impute_values`` the imputer's
        ``statistics_`` (NaN for category columns); the encoder's categories
        are in the JSON, with each column's encoding.
        """
        self._check_fitted()
        params = {key: _json_safe(value) for key, value in self.get_params(deep=False).items()}
        config = {
            "class": _CLASS_NAME,
            "state_version": STATE_VERSION,
            "params": params,
            "feature_names_in": [str(name) for name in self.feature_names_in_],
            "id_columns": list(self.id_columns_),
            "dropped_columns": dict(self.dropped_columns_),
            "columns": [spec.to_config() for spec in self._specs],
            "feature_names_out": list(self.feature_names_out_),
        }
        arrays = {
            "offset": self.offset_.copy(),
            "scale": self.scale_.copy(),
            "impute_values": self.impute_values_.copy(),
        }
        return config, arrays

    @classmethod
    def from_state(
        cls, config: Mapping[str, Any], arrays: Mapping[str, np.ndarray]
    ) -> TabularPreprocessor:
        """Rebuild a fitted preprocessor from :meth:`to_state` output.

        Raises
        ------
        ModelFileError
            (a ``ValueError``) naming what is missing or inconsistent.
        """
        if not isinstance(config, Mapping):
            raise ModelFileError(
                f"preprocessor state: config is {type(config).__name__}, expected a dict"
            )
        if config.get("class") != _CLASS_NAME:
            raise ModelFileError(
                f"preprocessor state: class is {config.get('class')!r}, expected {_CLASS_NAME!r}"
            )
        version = config.get("state_version")
        if not isinstance(version, int) or not 1 <= version <= STATE_VERSION:
            raise ModelFileError(
                f"preprocessor state: state_version is {version!r}, this dagmm reads versions "
                f"1 to {STATE_VERSION}; upgrade dagmm to read newer models"
            )
        required = (
            "params",
            "feature_names_in",
            "id_columns",
            "dropped_columns",
            "columns",
            "feature_names_out",
        )
        absent = [key for key in required if key not in config]
        if absent:
            raise ModelFileError(f"preprocessor state: config lacks {name_list(absent)}")
        params = config["params"]
        if not isinstance(params, Mapping):
            raise ModelFileError(f"preprocessor state: params is {params!r}, expected an object")
        known = set(cls._get_param_names())
        unknown = sorted(set(params) - known)
        if unknown:
            raise ModelFileError(
                f"preprocessor state: unknown parameter(s) {name_list(unknown)}; expected some of "
                f"{name_list(sorted(known))} (was it saved by a newer dagmm?)"
            )
        pre = cls(**params)
        try:
            pre._check_params()
        except ValueError as exc:
            raise ModelFileError(f"preprocessor state: {exc}") from None

        columns = config["columns"]
        if not isinstance(columns, list) or not columns:
            raise ModelFileError(
                f"preprocessor state: columns is {columns!r}, expected a non-empty list"
            )
        specs = [_ColumnSpec.from_config(item, i) for i, item in enumerate(columns)]
        names = [spec.name for spec in specs]
        if len(set(names)) != len(names):
            raise ModelFileError(f"preprocessor state: columns lists a column twice: {names!r}")
        for key in ("feature_names_in", "id_columns"):
            value = config[key]
            if not isinstance(value, list) or not all(isinstance(name, str) for name in value):
                raise ModelFileError(
                    f"preprocessor state: {key} is {value!r}, expected a list of strings"
                )
        outside = [name for name in names if name not in config["feature_names_in"]]
        if outside:
            raise ModelFileError(
                f"preprocessor state: encoded column(s) {name_list(outside)} are not in feature_names_in"
            )
        if config["feature_names_out"] != [n for spec in specs for n in spec.feature_names()]:
            raise ModelFileError(
                "preprocessor state: feature_names_out does not match the columns' encodings; "
                "the config was edited or damaged"
            )
        n_out = len(config["feature_names_out"])
        expected = {"offset": n_out, "scale": n_out, "impute_values": len(specs)}
        checked = {}
        for key, length in expected.items():
            if key not in arrays:
                raise ModelFileError(
                    f"preprocessor state: array {key!r} is missing; expected {name_list(expected)}"
                )
            array = np.asarray(arrays[key])
            if array.shape != (length,) or not np.issubdtype(array.dtype, np.floating):
                raise ModelFileError(
                    f"preprocessor state: array {key!r} has shape {array.shape} and dtype "
                    f"{array.dtype}, expected floats of shape ({length},)"
                )
            checked[key] = array.astype(np.float64)
        if not (np.isfinite(checked["offset"]).all() and np.isfinite(checked["scale"]).all()):
            raise ModelFileError("preprocessor state: arrays 'offset' and 'scale' must be finite")
        if (checked["scale"] <= 0).any():
            raise ModelFileError("preprocessor state: array 'scale' must be positive")
        numbers = np.array([spec.is_number for spec in specs])
        if not np.isfinite(checked["impute_values"][numbers]).all():
            raise ModelFileError(
                "preprocessor state: array 'impute_values' must be finite for numeric and "
                "date-time columns"
            )
        dropped = config["dropped_columns"]
        if not isinstance(dropped, Mapping):
            raise ModelFileError(
                f"preprocessor state: dropped_columns is {dropped!r}, expected an object"
            )
        pre._set_fitted(
            config["feature_names_in"],
            config["id_columns"],
            dropped,
            specs,
            checked["offset"],
            checked["scale"],
            checked["impute_values"],
        )
        return pre


def _json_safe(value: object) -> object:
    """A parameter value as plain JSON types (numpy scalars and tuples become Python ones)."""
    if isinstance(value, (list, tuple)):
        return [_json_safe(item) for item in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def _check_finite(name: str, series: pd.Series, values: np.ndarray) -> None:
    infinite = np.isinf(values)
    if infinite.any():
        raise DataError(
            f"column {name!r} holds infinite values: {describe_bad(series, infinite)}; "
            "replace them with finite numbers or leave them empty"
        )


def _date_error(name: str, role: str | None, series: pd.Series) -> DataError:
    """A named date-time column whose values fit none of the layouts."""
    fits = {layout: coerce_epoch_seconds(series, layout)[1] for layout in DATE_FORMATS}
    closest = min(fits, key=lambda layout: int(fits[layout].sum()))  # fewest values that misfit
    return DataError(
        f"column {name!r} is listed in {option_name(role)} but holds values that are not "
        f"date-times: {describe_bad(series, fits[closest])}, read as "
        f"{DATE_FORMATS[closest]}; every value must be in one of the layouts: "
        f"{'; '.join(DATE_FORMATS.values())}. Fix those values, or remove {name!r} from "
        f"{option_name(role)}"
    )


def _nothing_to_encode(dropped: Mapping[str, str]) -> DataError:
    """Every column was left out: say why, column by column."""
    reasons = "; ".join(f"{name!r} {reason}" for name, reason in dropped.items())
    return DataError(
        f"no column is left to encode: {reasons or 'the table has only id columns'}; "
        "pass columns of numbers, categories or date-times"
    )


def _missing_error(
    missing_rows: Mapping[str, np.ndarray], index: pd.Index, *, fitting: bool
) -> DataError:
    described = []
    for name, missing in missing_rows.items():
        count = int(missing.sum())
        first = index[int(np.argmax(missing))]
        described.append(f"{name!r} ({count} row{'s' if count != 1 else ''}, e.g. row {first})")
    impute = option_setting("handle_missing", "impute")
    remedy = (
        f"fill them, or pass {impute} to fill numbers with the median and "
        "categories with '__missing__'"
        if fitting
        else f"fill them, or refit the model with {impute}"
    )
    return DataError(
        f"missing values (empty, NaN or None) in column(s) {', '.join(described)}; "
        f"every row needs a value: {remedy}"
    )


class _FitNotes:
    """Columns to warn about at the end of ``fit``, one warning per kind of decision."""

    def __init__(self) -> None:
        self.hashed: list[str] = []
        self.identifiers: list[str] = []
        self.datetimes: list[str] = []
        self.datetime_dropped: list[str] = []
        self.empty: list[str] = []
        self.unsupported: list[str] = []
        self.mostly_numeric: list[str] = []

    def emit(self, pre: TabularPreprocessor) -> None:
        messages = list(self.mostly_numeric)
        drop_cols = option_name("drop_cols")
        if self.hashed:
            buckets = f"hash_buckets={pre.hash_buckets}" if current() == PYTHON else pre.hash_buckets
            messages.append(
                f"column(s) with more than {option_setting('max_categories', pre.max_categories)} "
                f"distinct values are hashed into {buckets} features each: "
                f"{', '.join(self.hashed)}; raise {option_name('max_categories')} to one-hot "
                f"encode them, or list them in {drop_cols}"
            )
        if self.identifiers:
            messages.append(
                "column(s) left out because nearly every value is distinct (identifiers or "
                f"free text): {', '.join(self.identifiers)}; list them in "
                f"{option_name('id_cols')} to keep them beside the scores, in "
                f"{option_name('categorical_cols')} to hash them anyway, in "
                f"{option_name('datetime_cols')} if they are dates, or in {drop_cols} to "
                "silence this warning"
            )
        if self.datetimes and pre.datetime_features != "drop":
            what = "seconds since 1970 (UTC)"
            if pre.datetime_features == "calendar":
                what += ", day of week and hour of day"
            messages.append(
                f"column(s) of date-times are encoded as {what}: {', '.join(self.datetimes)}; "
                f"list them in {option_name('datetime_cols')} to silence this warning, or in "
                f"{drop_cols} to leave them out"
            )
        if self.datetime_dropped:
            messages.append(
                f"date-time column(s) left out (datetime_features='drop'): "
                f"{name_list(self.datetime_dropped)}"
            )
        if self.empty:
            messages.append(
                f"column(s) left out because they hold no values: {name_list(self.empty)}"
            )
        if self.unsupported:
            messages.append(
                f"column(s) left out because their dtype is not supported: "
                f"{', '.join(self.unsupported)}; convert them to numbers, text or date-times, "
                f"or list them in {drop_cols}"
            )
        for message in messages:
            # stacklevel 3: the caller of fit (or of fit_transform's fit).
            warnings.warn(message, TabularWarning, stacklevel=3)
