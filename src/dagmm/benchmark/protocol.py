"""The evaluation protocol of Zong et al. (ICLR 2018), as library code.

Sec. 4.3 of the paper: each data set is split at random into halves; models
train on the *normal* rows of the first half only and are tested on the whole
second half; the top ``anomaly_ratio`` fraction of test energies are flagged
(see :func:`dagmm.evaluation.evaluate_energies`). Sec. 4.5 repeats the KDDCUP
experiment with a training set contaminated by 1% to 5% anomalies.

This module holds the pieces every model in a benchmark shares, so that all of
them see exactly the same rows and the same scaling:

* :data:`DATASETS`, the registry name -> :class:`DatasetSpec` (loader, anomaly
  ratio, scaler, preset). Tests and users may add entries.
* :func:`paper_split`, the per-seed train/test split.
* :func:`fit_scaler` / :func:`apply_scaler`, feature scaling fitted on the
  training rows only.

Scaling choices
---------------
* KDDCUP and KDDCUP-Rev: min-max scaling to [0, 1], as in the paper.
* Thyroid and Arrhythmia (ODDS): standardisation (zero mean, unit variance).
  Their columns range over very different magnitudes, and Arrhythmia has
  heavy-tailed columns where min-max would squash most rows into a tiny range
  because of a single extreme value.
* Arrhythmia, in addition: the standardised values are clipped to [-3, 3]
  (:attr:`DatasetSpec.clip`), for every model. About 190 training rows and 274
  columns, several of them constant or nearly so on the training rows: a
  test value far out in such a column (tens of standard deviations) would
  otherwise outweigh everything else in a squared reconstruction error or
  a distance (``benchmarks/results/study.md``, section 7).
* Columns that are constant on the training rows get scale 1 and an offset
  equal to that constant, for both kinds: they are exactly 0 on the training
  rows, and a test row keeps its raw deviation from the training constant
  (no division by zero, and a value never seen in training stays visible).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from numbers import Real
from os import PathLike
from typing import Literal, NamedTuple, get_args

import numpy as np
from numpy.typing import ArrayLike, NDArray

from dagmm.benchmark._util import unknown_name_message
from dagmm.exceptions import DataError
from dagmm.math import constant_columns

__all__ = [
    "DATASETS",
    "MAX_CONTAMINATION",
    "check_contamination",
    "DatasetLoader",
    "DatasetSpec",
    "FittedScaler",
    "ScalerKind",
    "Split",
    "apply_scaler",
    "fit_scaler",
    "get_dataset",
    "load_dataset",
    "paper_split",
]

ScalerKind = Literal["minmax", "standard", "none"]

#: Largest training contamination accepted by :func:`paper_split`: the paper's
#: contaminated-training experiment (Sec. 4.5, Table 4) goes from 1% to 5%.
MAX_CONTAMINATION = 0.05

#: KDDCUP-Rev keeps a random subset of the attack rows; one fixed draw is used
#: for every seed so that seeds vary the split, not the data set itself.
KDDCUP_REV_RANDOM_STATE = 0

DataHome = str | PathLike[str] | None
#: ``loader(data_home, download) -> (X, y)`` with y = 1 for anomalies.
DatasetLoader = Callable[[DataHome, bool], tuple[ArrayLike, ArrayLike]]


# --------------------------------------------------------------------------- #
# data set registry
# --------------------------------------------------------------------------- #


@dataclass(frozen=True)
class DatasetSpec:
    """How the benchmark loads, scales and evaluates one data set.

    Parameters
    ----------
    name : str
        Registry key, e.g. ``"kddcup"``.
    loader : callable
        ``loader(data_home, download) -> (X, y)``, y = 1 for anomalies. Raises
        :class:`dagmm.exceptions.DatasetNotFoundError` (a ``FileNotFoundError``)
        when the data are absent.
    anomaly_ratio : float
        Fraction of test rows flagged as anomalies (the paper's known ratio).
    scaler : {"minmax", "standard", "none"}
        Feature scaling, fitted on the training rows of each split.
    preset : str
        Key into :data:`dagmm.benchmark.presets.PRESETS` with the networks and
        schedule used for this data set.
    clip : float or None, default=None
        Bound the scaled values to [-clip, clip] (after scaling, for every
        model); None leaves them as they are.
    """

    name: str
    loader: DatasetLoader
    anomaly_ratio: float
    scaler: ScalerKind
    preset: str
    clip: float | None = None


def _load_kddcup(data_home: DataHome, download: bool, *, rev: bool) -> tuple[ArrayLike, ArrayLike]:
    from dagmm.datasets import load_kddcup99  # written alongside; imported when used

    return load_kddcup99(
        data_home=data_home,
        download=download,
        rev=rev,
        random_state=KDDCUP_REV_RANDOM_STATE if rev else None,
        return_X_y=True,
    )


def _load_odds(data_home: DataHome, download: bool, *, name: str) -> tuple[ArrayLike, ArrayLike]:
    from dagmm.datasets import load_odds

    return load_odds(name, data_home=data_home, download=download, return_X_y=True)


#: Registry of the paper's data sets. Mutable on purpose: add a
#: :class:`DatasetSpec` to benchmark another data set.
DATASETS: dict[str, DatasetSpec] = {
    "kddcup": DatasetSpec(
        "kddcup", functools.partial(_load_kddcup, rev=False), 0.2, "minmax", "kddcup"
    ),
    "thyroid": DatasetSpec(
        "thyroid", functools.partial(_load_odds, name="thyroid"), 0.025, "standard", "thyroid"
    ),
    "arrhythmia": DatasetSpec(
        "arrhythmia",
        functools.partial(_load_odds, name="arrhythmia"),
        0.15,
        "standard",
        "arrhythmia",
        clip=3.0,
    ),
    "kddcup-rev": DatasetSpec(
        "kddcup-rev", functools.partial(_load_kddcup, rev=True), 0.2, "minmax", "kddcup-rev"
    ),
}


def get_dataset(name: str) -> DatasetSpec:
    """Return the registered :class:`DatasetSpec` called ``name``."""
    try:
        return DATASETS[name]
    except KeyError:
        raise ValueError(unknown_name_message("dataset", name, list(DATASETS))) from None


def load_dataset(
    name: str, data_home: DataHome = None, download: bool = False
) -> tuple[NDArray[np.float64], NDArray[np.int8]]:
    """Load a registered data set as ``(X, y)``, checked and converted.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features), float64
    y : ndarray of shape (n_samples,), int8, 1 = anomaly

    Raises
    ------
    dagmm.exceptions.DatasetNotFoundError
        The files are absent (and ``download`` is False or failed).
    dagmm.exceptions.DataError
        The loader returned malformed data.
    """
    X_raw, y_raw = get_dataset(name).loader(data_home, download)
    X = np.asarray(X_raw, dtype=np.float64)
    y = np.asarray(y_raw)
    if X.ndim != 2 or y.ndim != 1 or X.shape[0] != y.shape[0]:
        raise DataError(
            f"Dataset {name!r}: expected X of shape (n, d) and y of shape (n,); "
            f"got X {X.shape} and y {y.shape}."
        )
    if not np.isin(y, (0, 1)).all():
        raise DataError(f"Dataset {name!r}: y must hold 0 (normal) and 1 (anomaly) only.")
    if not np.isfinite(X).all():
        raise DataError(f"Dataset {name!r}: X contains NaN or infinite values.")
    return X, y.astype(np.int8)


# --------------------------------------------------------------------------- #
# split
# --------------------------------------------------------------------------- #


class Split(NamedTuple):
    """Row indices of one train/test split, each sorted ascending."""

    train: NDArray[np.intp]
    test: NDArray[np.intp]


def check_contamination(contamination: object) -> float:
    """``contamination`` as a float in [0, :data:`MAX_CONTAMINATION`], or a ValueError."""
    if isinstance(contamination, bool) or not isinstance(contamination, Real):
        raise ValueError(f"contamination must be a number; got {contamination!r}.")
    if not 0.0 <= float(contamination) <= MAX_CONTAMINATION:
        raise ValueError(
            f"contamination must be in [0, {MAX_CONTAMINATION}] (the paper's contaminated "
            f"training experiment uses 0.01 to 0.05); got {contamination!r}."
        )
    return float(contamination)


def paper_split(
    X: ArrayLike,
    y: ArrayLike,
    seed: int,
    train_fraction: float = 0.5,
    contamination: float = 0.0,
) -> Split:
    """Split rows as in the paper: train on normal rows of a random half.

    A permutation drawn from ``numpy.random.default_rng(seed)`` cuts the rows
    into a training part (``round(train_fraction * n)`` rows) and a test part
    (all the other rows, anomalies included). The training rows returned are
    the normal rows of the training part, plus, when ``contamination > 0``,
    anomalies of the training part so that they make up ``contamination`` of
    the returned training rows (Sec. 4.5 of the paper). The contaminated
    training set of a seed contains the clean one of the same seed.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Features; only their row count is used.
    y : array-like of shape (n_samples,)
        Binary labels, 1 = anomaly.
    seed : int
        Non-negative seed of the split. The same seed gives the same split.
    train_fraction : float in (0, 1), default=0.5
        Fraction of rows in the training part.
    contamination : float in [0, 0.05], default=0.0
        Fraction of anomalies among the returned training rows.

    Returns
    -------
    Split
        ``(train, test)`` row indices, each sorted ascending.

    Raises
    ------
    ValueError
        Inconsistent lengths, non-binary labels, a parameter out of range, or
        too few anomalies in the training part for ``contamination``.

    Examples
    --------
    >>> import numpy as np
    >>> y = np.array([0] * 8 + [1] * 2)
    >>> train, test = paper_split(np.zeros((10, 3)), y, seed=0)
    >>> bool(y[train].any()), len(train) + len(test) <= 10
    (False, True)
    """
    labels = np.asarray(y)
    n_rows = np.shape(X)[0] if np.ndim(X) else 0
    if labels.ndim != 1 or n_rows != labels.shape[0]:
        raise ValueError(
            f"X and y must have the same number of rows; got X with {n_rows} rows and y "
            f"of shape {labels.shape}."
        )
    if not np.isin(labels, (0, 1)).all():
        raise ValueError("y must hold binary labels 0 (normal) and 1 (anomaly).")
    if not (isinstance(seed, int | np.integer) and not isinstance(seed, bool) and seed >= 0):
        raise ValueError(f"seed must be a non-negative integer; got {seed!r}.")
    if not 0.0 < train_fraction < 1.0:
        raise ValueError(f"train_fraction must be in (0, 1); got {train_fraction!r}.")
    check_contamination(contamination)
    n_train = int(round(train_fraction * n_rows))
    if n_train == 0 or n_train == n_rows:
        raise ValueError(
            f"train_fraction={train_fraction} leaves an empty training or test part "
            f"with {n_rows} rows; use more rows or a fraction nearer 0.5."
        )

    order = np.random.default_rng(seed).permutation(n_rows)  # (N,)
    train_part, test_part = order[:n_train], order[n_train:]
    normal_train = train_part[labels[train_part] == 0]
    anomalous_train = train_part[labels[train_part] == 1]  # already in random order
    if normal_train.size == 0:
        raise ValueError("The training part holds no normal row; check y (1 = anomaly).")

    # a / (normal + a) = c  <=>  a = c * normal / (1 - c)
    n_anomalies = int(round(contamination * normal_train.size / (1.0 - contamination)))
    if n_anomalies > anomalous_train.size:
        raise ValueError(
            f"contamination={contamination} needs {n_anomalies} anomalies in the training "
            f"part, which holds only {anomalous_train.size}; use a smaller contamination."
        )
    train = np.concatenate([normal_train, anomalous_train[:n_anomalies]])
    return Split(train=np.sort(train), test=np.sort(test_part))


# --------------------------------------------------------------------------- #
# scaling
# --------------------------------------------------------------------------- #


@dataclass(frozen=True, eq=False)
class FittedScaler:
    """Affine per-column scaling ``(X - offset) / scale`` fitted on training rows.

    Build it with :func:`fit_scaler`; apply it with :func:`apply_scaler` or
    :meth:`transform`.
    """

    kind: ScalerKind
    offset: NDArray[np.float64]  # (D,)
    scale: NDArray[np.float64]  # (D,), never 0
    clip: float | None = None  # scaled values bounded to [-clip, clip]

    @property
    def n_features(self) -> int:
        return int(self.offset.shape[0])

    def transform(self, X: ArrayLike) -> NDArray[np.float64]:
        """Scale ``X`` of shape (n_samples, n_features) with the training statistics."""
        return apply_scaler(self, X)


def _as_2d_finite(X: ArrayLike, name: str) -> NDArray[np.float64]:
    values = np.asarray(X, dtype=np.float64)
    if values.ndim != 2 or values.shape[0] == 0:
        raise ValueError(f"{name} must be a non-empty 2-D array; got shape {values.shape}.")
    if not np.isfinite(values).all():
        raise ValueError(f"{name} contains NaN or infinite values.")
    return values


def fit_scaler(kind: ScalerKind, X_train: ArrayLike, clip: float | None = None) -> FittedScaler:
    """Fit a per-column scaler on the training rows only.

    Parameters
    ----------
    kind : {"minmax", "standard", "none"}
        ``"minmax"`` maps each training column to [0, 1]; ``"standard"`` to
        zero mean and unit (population) variance; ``"none"`` is the identity.
        Columns constant on ``X_train`` get scale 1 and their constant as
        offset: they are 0 on the training rows.
    X_train : array-like of shape (n_samples, n_features)
        Training rows.
    clip : float > 0 or None, default=None
        :func:`apply_scaler` bounds the scaled values to [-clip, clip].

    Returns
    -------
    FittedScaler

    Examples
    --------
    >>> scaler = fit_scaler("minmax", [[0.0, 5.0], [2.0, 5.0]])
    >>> apply_scaler(scaler, [[1.0, 5.0], [4.0, 6.0]]).tolist()
    [[0.5, 0.0], [2.0, 1.0]]
    """
    if kind not in get_args(ScalerKind):
        raise ValueError(f"kind must be one of {get_args(ScalerKind)}; got {kind!r}.")
    if clip is not None and not (isinstance(clip, Real) and clip > 0):
        raise ValueError(f"clip must be a positive number or None; got {clip!r}.")
    X = _as_2d_finite(X_train, "X_train")  # (N, D)
    # The one constant-column rule of every dagmm scaler (dagmm.math.constant_columns).
    constant = constant_columns(np.ptp(X, axis=0), np.abs(X).max(axis=0))  # (D,)
    if kind == "minmax":
        offset, scale = X.min(axis=0), np.ptp(X, axis=0)  # (D,), (D,)
    elif kind == "standard":
        offset, scale = X.mean(axis=0), X.std(axis=0)  # (D,), (D,)
    else:
        offset, scale = np.zeros(X.shape[1]), np.ones(X.shape[1])
    # Constant columns are centred on their value (a mean may be 1 ulp off) and divided by 1.
    offset = np.where(constant, X.min(axis=0), offset)
    scale = np.where(constant, 1.0, scale)
    return FittedScaler(kind=kind, offset=offset, scale=scale, clip=clip)


def apply_scaler(scaler: FittedScaler, X: ArrayLike) -> NDArray[np.float64]:
    """Apply a scaler from :func:`fit_scaler` to ``X`` of shape (n_samples, n_features)."""
    values = _as_2d_finite(X, "X")  # (N, D)
    if values.shape[1] != scaler.n_features:
        raise ValueError(
            f"X has {values.shape[1]} columns but the scaler was fitted on "
            f"{scaler.n_features}; scale data with the columns it was fitted on."
        )
    scaled = (values - scaler.offset) / scaler.scale  # (N, D)
    return scaled if scaler.clip is None else np.clip(scaled, -scaler.clip, scaler.clip)
