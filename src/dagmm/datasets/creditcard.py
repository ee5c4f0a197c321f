"""Credit-card fraud detection data (Kaggle, ULB Machine Learning Group).

The file ``creditcard.csv`` (284,807 transactions, 492 frauds) needs a Kaggle
login to download, so it is never downloaded: the user puts it in the data home.
An undersampled copy with the same columns, ``creditcard_sample.csv`` (every
fraud and a random draw of the normal transactions), is read as well; the
loader tells the two apart by their contents (:data:`FULL_ROWS`) and says how
far the sample's fraud share is from the natural one, because precision and
F1 depend on that share while ROC-AUC does not.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from sklearn.utils import Bunch

from dagmm.datasets._base import (
    RemoteFile,
    check_bool,
    fetch_file,
    get_data_home,
    import_pandas,
    make_bunch,
)
from dagmm.exceptions import DataError, DatasetNotFoundError

__all__ = ["CREDITCARD_FILES", "FULL_ROWS", "NATURAL_FRAUD_SHARE", "load_creditcard"]

CREDITCARD = RemoteFile(
    filename="creditcard.csv",
    urls=(),  # Kaggle requires a login: no public address.
    sha256=None,
    homepage="https://www.kaggle.com/datasets/mlg-ulb/creditcardfraud (unzip the archive)",
)

CREDITCARD_SAMPLE = RemoteFile(
    filename="creditcard_sample.csv",
    urls=(),
    sha256=None,
    homepage=(
        "an undersampled copy of the Kaggle file with the same 31 columns, e.g. "
        "data/creditcard_sample.csv of github.com/jnguizo/ai-banking-risk-assistant "
        "(every fraud and 5,000 random normal transactions)"
    ),
)

#: ``file=`` of :func:`load_creditcard` -> the file looked up in the data home.
CREDITCARD_FILES: dict[str, RemoteFile] = {"full": CREDITCARD, "sample": CREDITCARD_SAMPLE}

#: Rows of the full Kaggle file; any other row count is read as a sample of it.
FULL_ROWS = 284_807
#: Frauds of the full file over its rows: 492 / 284,807 = 0.173%.
NATURAL_FRAUD_SHARE = 492 / FULL_ROWS

#: The feature columns of creditcard.csv, in file order; ``Class`` follows.
CREDITCARD_FEATURES: tuple[str, ...] = ("Time", *(f"V{i}" for i in range(1, 29)), "Amount")
_TARGET_COLUMN = "Class"


def load_creditcard(
    data_home: str | os.PathLike[str] | None = None,
    *,
    file: str = "auto",
    download: bool = False,
    return_X_y: bool = False,
) -> Bunch | tuple[np.ndarray, np.ndarray]:
    """Load the Kaggle credit-card fraud data: ``creditcard.csv`` or its sample.

    The full file cannot be downloaded without a Kaggle login: get it from
    https://www.kaggle.com/datasets/mlg-ulb/creditcardfraud, unzip it and put
    ``creditcard.csv`` in the data home. ``creditcard_sample.csv``, a copy
    with every fraud and only some of the normal transactions, is read the
    same way.

    Which of the two was read is decided by the contents, not the name: a
    file with :data:`FULL_ROWS` rows is the full data (``kind="full"``), any
    other is a sample of it (``kind="sample"``). On a sample whose fraud share
    is not the natural 0.173% (the ULB sample's is 8.96%), precision, F1 and
    PR-AUC are those of that share and cannot be compared with the full
    file's; ROC-AUC, and precision at a fixed recall once rescaled, can. The
    ``note`` of the result says so in one sentence.

    Parameters
    ----------
    data_home : str, os.PathLike or None, default=None
        Data folder; see :func:`~dagmm.datasets.get_data_home`.
    file : {"auto", "full", "sample"}, default="auto"
        ``"full"`` reads ``creditcard.csv``, ``"sample"`` reads
        ``creditcard_sample.csv``; ``"auto"`` reads the full file when the
        data home has it, else the sample.
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
        ``feature_names``, ``frame`` (None), ``DESCR``, ``filename``, ``kind``
        (``"full"`` or ``"sample"``), ``fraud_share`` (frauds over rows) and
        ``note`` (what the share means for the metrics); or
        ``(data, target)`` when ``return_X_y`` is true.

    Raises
    ------
    DatasetNotFoundError
        The file asked for (with ``"auto"``: neither file) is not in the data
        home; the message says where to get it and where to put it.
    DataError
        The file is corrupt or lacks the expected columns.
    ValueError
        ``file`` is not one of ``"auto"``, ``"full"``, ``"sample"``.

    Examples
    --------
    >>> from dagmm.datasets import load_creditcard
    >>> X, y = load_creditcard(return_X_y=True)  # doctest: +SKIP
    >>> X.shape, int(y.sum())  # doctest: +SKIP
    ((284807, 30), 492)
    >>> sample = load_creditcard(file="sample")  # doctest: +SKIP
    >>> sample.kind, round(sample.fraud_share, 4)  # doctest: +SKIP
    ('sample', 0.0896)
    """
    pd = import_pandas("load_creditcard")
    check_bool("return_X_y", return_X_y)
    path = _find_file(file, data_home, download)
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
    kind = "full" if len(target) == FULL_ROWS else "sample"
    share = n_frauds / max(len(target), 1)
    note = share_note(kind, len(target), n_frauds)
    descr = f"""Credit-card fraud detection (Kaggle creditcardfraud)
===================================================

File: {path.name}. Transactions by European card holders in September 2013
(Worldline and the ULB Machine Learning Group); V1..V28 are PCA components,
Time is seconds since the first transaction, Amount is unscaled.

Rows: {len(target)}; features: {data.shape[1]}; frauds (target 1, the anomalies):
{n_frauds} ({share:.3%}).

{note}
"""
    return make_bunch(
        data,
        target,
        list(CREDITCARD_FEATURES),
        descr,
        path,
        return_X_y,
        kind=kind,
        fraud_share=share,
        note=note,
    )


def share_note(kind: str, n_rows: int, n_frauds: int) -> str:
    """One sentence: which file this is, and what its fraud share means for the metrics."""
    share = n_frauds / max(n_rows, 1)
    if kind == "full":
        return (
            f"The full data set ({n_rows:,} transactions, {n_frauds} frauds, {share:.3%}): "
            "precision and F1 are those of the natural fraud share."
        )
    ratio = share / NATURAL_FRAUD_SHARE
    if 0.5 <= ratio <= 2.0:
        return (
            f"A sample of the full data set ({n_rows:,} of {FULL_ROWS:,} transactions, "
            f"{n_frauds} frauds, {share:.3%}, close to the natural {NATURAL_FRAUD_SHARE:.3%})."
        )
    return (
        f"A sample of the full data set ({n_rows:,} of {FULL_ROWS:,} transactions) whose "
        f"fraud share is {share:.2%}, not the natural {NATURAL_FRAUD_SHARE:.3%} "
        f"({ratio:.0f} times it): precision, F1 and PR-AUC are those of this share and not "
        "comparable with the full file's; compare ROC-AUC, and precision at a fixed recall "
        "rescaled to the natural share."
    )


def _find_file(file: str, data_home: str | os.PathLike[str] | None, download: bool) -> Path:
    """The path of the file ``file`` names; ``"auto"``: the full file, else the sample."""
    if file == "auto":
        check_bool("download", download)
        folder = get_data_home(data_home)
        for remote in CREDITCARD_FILES.values():
            if (folder / remote.filename).is_file():
                return folder / remote.filename
        try:
            return fetch_file(CREDITCARD, data_home, download)
        except DatasetNotFoundError as exc:
            raise DatasetNotFoundError(
                f"{exc}\nAn undersampled copy named {CREDITCARD_SAMPLE.filename!r} in the same "
                "folder is read too (file='sample')."
            ) from None
    if file not in CREDITCARD_FILES:
        raise ValueError(
            f"file must be 'auto', 'full' (creditcard.csv) or 'sample' "
            f"(creditcard_sample.csv); got {file!r}"
        )
    return fetch_file(CREDITCARD_FILES[file], data_home, download)


def _bad_file(path: os.PathLike[str], problem: str) -> DataError:
    return DataError(
        f"Credit-card file {str(path)!r} is corrupt or not in the expected format: "
        f"{problem}. Replace it with the creditcard.csv of the Kaggle archive (or an "
        "unchanged sample of it)."
    )
