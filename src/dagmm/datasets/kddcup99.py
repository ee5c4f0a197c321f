"""KDDCUP99 network intrusion data (10% subset), as used by DAGMM.

The raw file is a gzip-compressed CSV without header: 41 features and a label
per connection. Under the DAGMM protocol (Zong et al., ICLR 2018) the
``normal.`` connections are the minority (about 20%) and are the anomalies;
in KDDCUP-Rev the roles are reversed and attacks are sub-sampled.
"""

from __future__ import annotations

import os
import textwrap
import zlib
from pathlib import Path

import numpy as np
from sklearn.utils import Bunch, check_random_state

from dagmm.datasets._base import RemoteFile, check_bool, fetch_file, import_pandas, make_bunch
from dagmm.exceptions import DataError

__all__ = ["load_kddcup99"]

KDDCUP99_10_PERCENT = RemoteFile(
    filename="kddcup.data_10_percent.gz",
    urls=(
        # scikit-learn's copy on figshare (the same digest is pinned in
        # sklearn.datasets.fetch_kddcup99), then the original UCI KDD archive.
        # Both serve the same bytes as the original UCI file.
        "https://ndownloader.figshare.com/files/5976042",
        "http://kdd.ics.uci.edu/databases/kddcup99/kddcup.data_10_percent.gz",
    ),
    sha256="8045aca0d84e70e622d1148d7df782496f6333bf6eb979a1b0837c42a9fd9561",
    homepage="http://kdd.ics.uci.edu/databases/kddcup99/kddcup99.html",
)

#: Optional file with the column names and types; read when in the data home.
NAMES_FILENAME = "kddcup.names"

#: The 41 feature columns in file order with their types, as listed in the
#: ``kddcup.names`` file of the UCI archive (so that file is optional).
KDDCUP99_COLUMNS: tuple[tuple[str, str], ...] = (
    ("duration", "continuous"),
    ("protocol_type", "symbolic"),
    ("service", "symbolic"),
    ("flag", "symbolic"),
    ("src_bytes", "continuous"),
    ("dst_bytes", "continuous"),
    ("land", "symbolic"),
    ("wrong_fragment", "continuous"),
    ("urgent", "continuous"),
    ("hot", "continuous"),
    ("num_failed_logins", "continuous"),
    ("logged_in", "symbolic"),
    ("num_compromised", "continuous"),
    ("root_shell", "continuous"),
    ("su_attempted", "continuous"),
    ("num_root", "continuous"),
    ("num_file_creations", "continuous"),
    ("num_shells", "continuous"),
    ("num_access_files", "continuous"),
    ("num_outbound_cmds", "continuous"),
    ("is_host_login", "symbolic"),
    ("is_guest_login", "symbolic"),
    ("count", "continuous"),
    ("srv_count", "continuous"),
    ("serror_rate", "continuous"),
    ("srv_serror_rate", "continuous"),
    ("rerror_rate", "continuous"),
    ("srv_rerror_rate", "continuous"),
    ("same_srv_rate", "continuous"),
    ("diff_srv_rate", "continuous"),
    ("srv_diff_host_rate", "continuous"),
    ("dst_host_count", "continuous"),
    ("dst_host_srv_count", "continuous"),
    ("dst_host_same_srv_rate", "continuous"),
    ("dst_host_diff_srv_rate", "continuous"),
    ("dst_host_same_src_port_rate", "continuous"),
    ("dst_host_srv_diff_host_rate", "continuous"),
    ("dst_host_serror_rate", "continuous"),
    ("dst_host_srv_serror_rate", "continuous"),
    ("dst_host_rerror_rate", "continuous"),
    ("dst_host_srv_rerror_rate", "continuous"),
)

_N_FEATURES = len(KDDCUP99_COLUMNS)
_COLUMN_TYPES = ("continuous", "symbolic")
#: The label of normal traffic, without the trailing dot of the raw file.
_NORMAL_LABEL = "normal"
#: KDDCUP-Rev keeps this many normal rows per attack row.
_REV_NORMAL_PER_ATTACK = 4


def load_kddcup99(
    data_home: str | os.PathLike[str] | None = None,
    *,
    download: bool = True,
    rev: bool = False,
    random_state: int | np.random.RandomState | None = None,
    return_X_y: bool = False,
) -> Bunch | tuple[np.ndarray, np.ndarray]:
    """Load the KDDCUP99 10% data set with the DAGMM labelling.

    The file ``kddcup.data_10_percent.gz`` (494,021 connections) is read from
    the data home, or downloaded there (SHA-256 checked) when missing. Column
    names and types come from ``kddcup.names`` when that file is in the data
    home, else from the copy built into this module.

    Encoding: the text-valued symbolic columns ``protocol_type``, ``service``
    and ``flag`` are one-hot encoded (categories in sorted order, feature names
    like ``"service=http"``) and placed first; the other 38 columns follow as
    numbers in file order (the 0/1 flags ``land``, ``logged_in``,
    ``is_host_login`` and ``is_guest_login`` stay numeric). Nothing is scaled.
    The 10% file has 66 distinct services, so there are 3 + 66 + 11 + 38 = 118
    features, not the 120 of the paper.

    Labels: by default (KDDCUP), ``target`` is 1 for ``normal.`` traffic, the
    minority (about 20%) that DAGMM treats as the anomaly, and 0 for attacks.
    With ``rev=True`` (KDDCUP-Rev), every ``normal.`` row is kept as the normal
    class (``target`` 0) and attack rows, drawn at random without replacement,
    are added so that normal:attack = 4:1; attacks are the anomalies
    (``target`` 1). Selected rows keep their file order.

    Parameters
    ----------
    data_home : str, os.PathLike or None, default=None
        Data folder; see :func:`~dagmm.datasets.get_data_home`.
    download : bool, default=True
        Whether to download the file when it is not in the data home.
    rev : bool, default=False
        Return KDDCUP-Rev instead of KDDCUP.
    random_state : int, numpy.random.RandomState or None, default=None
        Seed of the attack sub-sampling; used only when ``rev=True``.
    return_X_y : bool, default=False
        Return ``(data, target)`` instead of a Bunch.

    Returns
    -------
    sklearn.utils.Bunch or tuple of ndarray
        Bunch with ``data`` (float64, n x 118), ``target`` (int64, 1 = anomaly),
        ``feature_names`` (list of str), ``labels`` (raw label strings such as
        ``"smurf."``, object ndarray), ``frame`` (None), ``DESCR`` and
        ``filename``; or ``(data, target)`` when ``return_X_y`` is true.

    Raises
    ------
    DatasetNotFoundError
        The file is missing and cannot be downloaded.
    DataError
        The file (or ``kddcup.names``) is corrupt or not in the expected format.

    Examples
    --------
    >>> from dagmm.datasets import load_kddcup99
    >>> kdd = load_kddcup99()  # doctest: +SKIP
    >>> kdd.data.shape, int(kdd.target.sum())  # doctest: +SKIP
    ((494021, 118), 97278)
    >>> X, y = load_kddcup99(rev=True, random_state=0, return_X_y=True)  # doctest: +SKIP
    >>> X.shape, int(y.sum())  # doctest: +SKIP
    ((121597, 118), 24319)
    """
    pd = import_pandas("load_kddcup99")
    check_bool("rev", rev)
    check_bool("return_X_y", return_X_y)
    rng = _check_random_state(random_state)
    path = fetch_file(KDDCUP99_10_PERCENT, data_home, download)
    names_path = path.parent / NAMES_FILENAME
    columns = read_kddcup_names(names_path) if names_path.is_file() else KDDCUP99_COLUMNS

    data, feature_names, labels = _read_kddcup_data(path, columns)
    # Some copies drop the trailing dot of the labels; accept both spellings.
    is_normal = (pd.Series(labels).str.rstrip(".") == _NORMAL_LABEL).to_numpy()
    if rev:
        rows = _rev_rows(is_normal, rng, path)
        data, labels = data[rows], labels[rows]
        target = (~is_normal[rows]).astype(np.int64)
    else:
        target = is_normal.astype(np.int64)
    descr = _describe(path, feature_names, target, rev, names_path.is_file())
    return make_bunch(data, target, feature_names, descr, path, return_X_y, labels=labels)


def read_kddcup_names(path: str | os.PathLike[str]) -> tuple[tuple[str, str], ...]:
    """Read the 41 ``(name, type)`` pairs from a ``kddcup.names`` file.

    The first line lists the class labels; each feature line reads
    ``name: continuous.`` or ``name: symbolic.``.

    Parameters
    ----------
    path : str or os.PathLike
        The names file.

    Returns
    -------
    tuple of (str, str)
        Column name and type (``"continuous"`` or ``"symbolic"``), in file order.

    Raises
    ------
    DataError
        The file does not describe 41 columns of known types.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"Cannot read KDDCUP99 names file {str(path)!r}: {exc}") from exc
    columns = []
    # The first line holds the class labels, not a column.
    for line_no, line in enumerate(text.splitlines()[1:], start=2):
        if not line.strip():
            continue
        name, sep, kind = line.partition(":")
        kind = kind.strip().rstrip(".").strip()
        if not sep or not name.strip() or kind not in _COLUMN_TYPES:
            raise DataError(
                f"KDDCUP99 names file {str(path)!r}, line {line_no}: expected "
                f"'name: continuous.' or 'name: symbolic.'; got {line!r}. Remove the file "
                "to use the built-in column names."
            )
        columns.append((name.strip(), kind))
    names = [name for name, _ in columns]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise DataError(
            f"KDDCUP99 names file {str(path)!r} repeats the column name(s) {duplicates}. "
            "Remove the file to use the built-in column names."
        )
    if len(columns) != _N_FEATURES:
        raise DataError(
            f"KDDCUP99 names file {str(path)!r} describes {len(columns)} columns; expected "
            f"{_N_FEATURES}. Remove the file to use the built-in column names."
        )
    return tuple(columns)


def _read_kddcup_data(
    path: Path, columns: tuple[tuple[str, str], ...]
) -> tuple[np.ndarray, list[str], np.ndarray]:
    """Parse the raw file into (data, feature_names, raw labels); see load_kddcup99."""
    pd = import_pandas("load_kddcup99")
    try:
        # Only empty fields are missing values, so no symbol is read as NaN.
        frame = pd.read_csv(
            path,
            header=None,
            compression="gzip",
            low_memory=False,
            keep_default_na=False,
            na_values=[""],
        )
    except (ValueError, OSError, EOFError, zlib.error) as exc:
        # ParserError and EmptyDataError are ValueErrors; a damaged or
        # truncated gzip stream raises OSError, EOFError or zlib.error.
        raise _corrupt(path, f"{type(exc).__name__}: {exc}") from exc
    n_fields = _N_FEATURES + 1
    if frame.shape[1] != n_fields:
        raise _corrupt(
            path,
            f"expected {n_fields} comma-separated fields per row (41 features and a "
            f"label); found {frame.shape[1]}",
        )
    missing = frame.isna().to_numpy().any(axis=1)
    if missing.any():
        raise _corrupt(path, f"row {int(np.argmax(missing)) + 1} has missing or empty fields")
    frame.columns = [name for name, _ in columns] + ["label"]

    encoded, onehot_names, numeric_names = [], [], []
    for name, kind in columns:
        column = frame[name]
        if pd.api.types.is_numeric_dtype(column):
            numeric_names.append(name)
        elif kind == "symbolic":
            codes, categories = pd.factorize(column, sort=True)
            encoded.append((codes, len(onehot_names)))
            onehot_names.extend(f"{name}={category}" for category in categories)
        else:
            bad = pd.to_numeric(column, errors="coerce").isna().to_numpy()
            row = int(np.argmax(bad))
            raise _corrupt(
                path, f"column {name!r} is continuous but row {row + 1} holds {column.iloc[row]!r}"
            )
    # One allocation for the whole matrix: the result is ~470 MB for the 10%
    # file, and building it from blocks would need twice that for a moment.
    n_rows, n_onehot = len(frame), len(onehot_names)
    data = np.zeros((n_rows, n_onehot + len(numeric_names)), dtype=np.float64)
    all_rows = np.arange(n_rows)
    for codes, first_column in encoded:
        data[all_rows, first_column + codes] = 1.0
    data[:, n_onehot:] = frame[numeric_names].to_numpy(dtype=np.float64)
    labels = frame["label"].astype(str).to_numpy(dtype=object)
    return data, onehot_names + numeric_names, labels


def _rev_rows(is_normal: np.ndarray, rng: np.random.RandomState, path: Path) -> np.ndarray:
    """Row indices of KDDCUP-Rev: all normal rows plus a random 1/4 as many attacks."""
    normal_rows = np.flatnonzero(is_normal)
    attack_rows = np.flatnonzero(~is_normal)
    n_attacks = len(normal_rows) // _REV_NORMAL_PER_ATTACK
    if n_attacks > len(attack_rows):
        raise DataError(
            f"KDDCUP-Rev needs {n_attacks} attack rows (1 per {_REV_NORMAL_PER_ATTACK} "
            f"normal rows) but {str(path)!r} has only {len(attack_rows)}"
        )
    chosen = rng.choice(attack_rows, size=n_attacks, replace=False)
    return np.sort(np.concatenate([normal_rows, chosen]))


def _check_random_state(random_state: object) -> np.random.RandomState:
    try:
        return check_random_state(random_state)
    except ValueError as exc:
        raise ValueError(
            "random_state must be None, an int or a numpy.random.RandomState; "
            f"got {random_state!r} ({type(random_state).__name__})"
        ) from exc


def _corrupt(path: Path, problem: str) -> DataError:
    return DataError(
        f"KDDCUP99 file {str(path)!r} is corrupt or not in the expected format: {problem}. "
        "Delete or replace the file (a missing file is downloaded again)."
    )


def _describe(
    path: Path, feature_names: list[str], target: np.ndarray, rev: bool, names_file: bool
) -> str:
    n_anomalies = int(target.sum())
    n_categorical = sum("=" in name for name in feature_names)
    n_services = sum(name.startswith("service=") for name in feature_names)
    if rev:
        labelling = (
            "KDDCUP-Rev: every 'normal.' row is the normal class (target 0); attack rows "
            "were drawn at random without replacement so that normal:attack = 4:1, and "
            "attacks are the anomalies (target 1). Rows keep their file order."
        )
    else:
        labelling = (
            "KDDCUP (DAGMM protocol): 'normal.' traffic is the minority class and is treated "
            "as the anomaly (target 1); attack traffic is the normal class (target 0)."
        )
    source = "the kddcup.names file" if names_file else "the built-in kddcup.names copy"
    paragraphs = [
        f"File: {path.name} (UCI KDD archive). Used by Zong et al., 'Deep Autoencoding "
        "Gaussian Mixture Model for Unsupervised Anomaly Detection', ICLR 2018.",
        labelling,
        f"Rows: {len(target)}; features: {len(feature_names)}; anomalies: {n_anomalies} "
        f"({n_anomalies / max(len(target), 1):.2%}). Column names from {source}.",
        "Features: the text columns protocol_type, service and flag are one-hot encoded "
        f"({n_categorical} columns, first, categories sorted, names like 'service=http'); "
        "the other columns follow as unscaled numbers in file order. This file holds "
        f"{n_services} distinct services, so there are {len(feature_names)} features "
        "rather than the 120 reported in the paper. The raw label of each row is in "
        "'labels'.",
    ]
    title = "KDDCUP99 network intrusion data, 10% subset"
    body = "\n\n".join(textwrap.fill(paragraph, width=79) for paragraph in paragraphs)
    return f"{title}\n{'=' * len(title)}\n\n{body}\n"
