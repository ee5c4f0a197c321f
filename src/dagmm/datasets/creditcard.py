"""Credit-card fraud detection data (Kaggle, ULB Machine Learning Group).

The file ``creditcard.csv`` (284,807 transactions, 492 frauds) needs a Kaggle
login to download, so it is never downloaded: the user puts it in the data home.
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
from sklearn.utils import Bunch

from dagmm.datasets._base import RemoteFile, check_bool, fetch_file, make_bunch
from dagmm.exceptions import DataError

__all__ = ["load_creditcard"]

CREDITCARD = RemoteFile(
    filename="creditcard.csv",
    urls=(),  # Kaggle requires a login: no public address.
    sha256=None,
    homepage="https://www.kaggle.com/datasets/mlg-ulb/creditcardfraud (unzip the archive)",
)

#: The feature columns of creditcard.csv, in file order; ``Class`` follows.
CREDITCARD_FEATURES: tuple[str, ...] = ("Time", *(f"V{i}" for i in range(1, 29)), "Amount")
_TARGET_COLUMN = "Class"


def load_creditcard(
    data_home: str | os.PathLike[str] | None = None,
    *,
    download: bool = False,
    return_X_y: bool = False,
) -> Bunch | tuple[np.ndarray, np.ndarray]:
    """Load the Kaggle credit-card fraud data set from ``creditcard.csv``.

    The file cannot be downloaded without a Kaggle login: get it from
    https://www.kaggle.com/datasets/mlg-ulb/creditcardfraud, unzip it and put
    ``creditcard.csv`` in the data home.

    Parameters
    ----------
    data_home : str, os.PathLike or None, default=None
        Data folder; see :func:`~dagmm.datasets.get_data_home`.
    download : bool, default=False
        Accepted for symmetry with the other loaders; there is no public
        address, so a missing file raises either way.
    return_X_y : bool, default=False
        Return ``(data, target)`` instead of a Bunch.

    Returns
    -------
    sklearn.utils.Bunch or tuple of ndarray
        Bunch with ``data`` (float64, n x 30: ``Time``, ``V1``..``V28``,
        ``Amount``, unscaled), ``target`` (int64 ``Class``, 1 = fraud = anomaly),
        ``feature_names``, ``frame`` (None), ``DESCR`` and ``filename``; or
        ``(data, target)`` when ``return_X_y`` is true.

    Raises
    ------
    DatasetNotFoundError
        ``creditcard.csv`` is not in the data home; the message says where to
        get it and where to put it.
    DataError
        The file is corrupt or lacks the expected columns.

    Examples
    --------
    >>> from dagmm.datasets import load_creditcard
    >>> X, y = load_creditcard(return_X_y=True)  # doctest: +SKIP
    >>> X.shape, int(y.sum())  # doctest: +SKIP
    ((284807, 30), 492)
    """
    check_bool("return_X_y", return_X_y)
    path = fetch_file(CREDITCARD, data_home, download)
    try:
        # Only empty fields are missing values: "NA" or "n/a" are reported as text.
        frame = pd.read_csv(path, low_memory=False, keep_default_na=False, na_values=[""])
    except (ValueError, OSError) as exc:
        # ParserError, EmptyDataError and UnicodeDecodeError are ValueErrors.
        raise _bad_file(path, f"{type(exc).__name__}: {exc}") from exc
    expected = [*CREDITCARD_FEATURES, _TARGET_COLUMN]
    if list(frame.columns) != expected:
        missing = [c for c in expected if c not in frame.columns]
        extra = [c for c in frame.columns if c not in expected]
        raise _bad_file(
            path,
            f"expected the columns Time, V1..V28, Amount, Class in that order; "
            f"missing {missing}, unexpected {extra}",
        )
    for column in expected:
        if not pd.api.types.is_numeric_dtype(frame[column]) or frame[column].isna().any():
            bad = pd.to_numeric(frame[column], errors="coerce").isna().to_numpy()
            row = int(np.argmax(bad))
            value = frame[column].iloc[row]
            shown = "an empty field" if pd.isna(value) else repr(value)
            raise _bad_file(path, f"column {column!r}, data row {row + 1}: {shown} is not a number")
    classes = frame[_TARGET_COLUMN].to_numpy()
    if not np.isin(classes, (0, 1)).all():
        raise _bad_file(
            path, f"column 'Class' holds {np.unique(classes)[:10].tolist()}; expected 0 and 1"
        )
    data = frame[list(CREDITCARD_FEATURES)].to_numpy(dtype=np.float64)
    target = classes.astype(np.int64)
    n_frauds = int(target.sum())
    descr = f"""Credit-card fraud detection (Kaggle creditcardfraud)
===================================================

File: {path.name}. Transactions by European card holders in September 2013
(Worldline and the ULB Machine Learning Group); V1..V28 are PCA components,
Time is seconds since the first transaction, Amount is unscaled.

Rows: {len(target)}; features: {data.shape[1]}; frauds (target 1, the anomalies):
{n_frauds} ({n_frauds / max(len(target), 1):.3%}).
"""
    return make_bunch(data, target, list(CREDITCARD_FEATURES), descr, path, return_X_y)


def _bad_file(path: os.PathLike[str], problem: str) -> DataError:
    return DataError(
        f"Credit-card file {str(path)!r} is corrupt or not in the expected format: "
        f"{problem}. Replace it with the creditcard.csv of the Kaggle archive."
    )
