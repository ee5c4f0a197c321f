"""Which rows of a labelled table are normal and which are anomalies.

A label column may hold 0/1, booleans or text. By default ``0``, ``false`` and
``normal`` (any case) mean normal and every other value means anomaly; a table
whose normal value is something else (``"legit"``, ``"normal."``) names it with
``normal_label``. Values are compared by meaning, as the preprocessor compares
categories: ``0``, ``0.0`` and ``"0"`` are the same label.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dagmm.exceptions import DataError
from dagmm.tabular._columns import category_labels, name_list, suggest

__all__ = [
    "DEFAULT_NORMAL_LABELS",
    "LABEL_LIKE_NAMES",
    "anomaly_mask",
    "label_like_columns",
    "no_normal_error",
    "require_column",
]

#: Label values (after canonicalisation, compared case-insensitively) that mean normal.
DEFAULT_NORMAL_LABELS: tuple[str, ...] = ("0", "false", "normal")


#: Column names (lower case, without ``_``, ``-`` and spaces) that usually hold labels.
LABEL_LIKE_NAMES = frozenset(
    {
        "label", "labels", "class", "target", "y", "outcome", "anomaly", "anomalous",
        "isanomaly", "isanomalous", "outlier", "isoutlier", "fraud", "isfraud", "fraudulent",
        "attack", "isattack", "malicious", "ismalicious", "groundtruth", "truth", "gt",
    }
)  # fmt: skip


def label_like_columns(columns: object) -> list[str]:
    """The columns whose names say they probably hold labels (``label``, ``Class``, ``is_fraud``)."""
    found = []
    for column in columns:
        key = "".join(ch for ch in str(column).lower() if ch not in "_- ")
        if key in LABEL_LIKE_NAMES:
            found.append(str(column))
    return found


def warn_label_like_inputs(inputs: object) -> None:
    """Warn about input columns named like labels (the model would learn the answer)."""
    import warnings

    from dagmm._vocabulary import CLI, current, field_name, option_name
    from dagmm.tabular import TabularWarning

    for name in label_like_columns(inputs):
        label_col = f"--label-col {name}" if current() == CLI else f"label_col={name!r}"
        warnings.warn(
            f"column {name!r} looks like a label but is used as an input feature, so the "
            f"model learns the answer and scoring will need that column; give {label_col} "
            f"to train on its normal rows only, or list it in {option_name('drop_cols')} "
            f"(without {field_name('label_col')}, every column is an input)",
            TabularWarning,
            stacklevel=4,
        )


def require_column(frame: pd.DataFrame, column: str, what: str, source: object = None) -> None:
    """Raise :class:`DataError` naming ``column`` when ``frame`` lacks it.

    ``what`` says what the column is for ("label column"); ``source`` names the
    file, when there is one.
    """
    if column in frame.columns:
        return
    where = f"'{source}'" if source is not None else "the data"
    columns = [str(name) for name in frame.columns]
    raise DataError(
        f"{what} {column!r} is not in {where}{suggest(column, columns)}; "
        f"its columns are {name_list(columns)}"
    )


def _canonical(value: object) -> str | None:
    label = category_labels(pd.Series([value], dtype=object))[0]
    return None if label is None else str(label).casefold()


def anomaly_mask(
    labels: pd.Series,
    normal_label: object = None,
    *,
    column: str | None = None,
    require_normal: bool = True,
) -> np.ndarray:
    """Boolean mask of the anomalous rows of a label column.

    Parameters
    ----------
    labels : Series
        The label column.
    normal_label : str, int, bool or None, default=None
        The value that means normal. None: any of ``0``, ``false``, ``normal``.
    column : str, optional
        The column's name, for messages (defaults to ``labels.name``).
    require_normal : bool, default=True
        Raise when no row is normal. Off for one chunk of a larger table,
        where the caller checks the whole.

    Returns
    -------
    ndarray of bool, shape (n,)
        True where the row is an anomaly.

    Raises
    ------
    DataError
        If a label is missing, or no row is normal (the normal value is
        probably another one: the message lists the values found).

    Examples
    --------
    >>> import pandas as pd
    >>> anomaly_mask(pd.Series([0, 1, 0])).tolist()
    [False, True, False]
    >>> anomaly_mask(pd.Series(["legit", "fraud"]), "legit").tolist()
    [False, True]
    """
    name = column if column is not None else labels.name
    canonical = category_labels(labels)
    missing = pd.isna(canonical)
    if missing.any():
        rows = labels.index[missing]
        raise DataError(
            f"label column {name!r} has {int(missing.sum())} missing value(s), e.g. in row "
            f"{rows[0]}; every row needs a label: fill them or drop those rows"
        )
    folded = np.array([label.casefold() for label in canonical], dtype=object)
    if normal_label is None:
        normal = np.isin(folded, DEFAULT_NORMAL_LABELS)
    else:
        target = _canonical(normal_label)
        if target is None:
            raise ValueError(f"normal_label={normal_label!r} is empty; name the normal value")
        normal = folded == target
    if require_normal and not normal.any():
        raise no_normal_error(name, normal_label, pd.unique(canonical))
    return ~normal


def no_normal_error(column: object, normal_label: object, found: object) -> DataError:
    """The error for a label column in which no value means normal."""
    wanted = "0, false or normal" if normal_label is None else repr(normal_label)
    values = sorted(str(value) for value in found)
    return DataError(
        f"label column {column!r} has no normal rows: no value is {wanted}; it holds "
        f"{name_list(values, limit=10)}: name the value that means normal with "
        "--normal-label (normal_label=...)"
    )
