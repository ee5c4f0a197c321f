"""ODDS outlier-detection data sets stored as MATLAB ``.mat`` files.

ODDS (Rayana, 2016, http://odds.cs.stonybrook.edu/) publishes each data set as
a ``.mat`` file with a feature matrix ``X`` (samples x features) and a label
vector ``y`` (1 = outlier). Most files are MATLAB v5 (read with
:func:`scipy.io.loadmat`); a few large ones (``http``, ``smtp``) are MATLAB
v7.3, i.e. HDF5 files that store every array transposed (MATLAB is
column-major), read with ``h5py``.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import scipy.io
from sklearn.utils import Bunch

from dagmm.datasets._base import RemoteFile, check_bool, fetch_file, make_bunch
from dagmm.exceptions import DataError

__all__ = ["ODDS_NAMES", "load_odds"]

_ODDS_HOMEPAGE = "http://odds.cs.stonybrook.edu/"
_NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")
_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
#: Offsets where an HDF5 superblock may start (0, then after a user block of
#: 512, 1024, ... bytes; MATLAB v7.3 files use a 512-byte user block).
_HDF5_OFFSETS = (0, 512, 1024, 2048, 4096)

# The ODDS site links its files through Dropbox share links that have changed
# over time. The PyOD repository kept copies of the ODDS files; links pinned to
# a commit never change. Only thyroid.mat has a digest we could verify (its
# bytes match a copy examined independently); the others are validated by
# parsing the download before it is moved into place.
_PYOD_RAW = "https://raw.githubusercontent.com/yzhao062/pyod"
_MIRRORS: dict[str, tuple[str, str | None]] = {
    "annthyroid": (
        f"{_PYOD_RAW}/ef6d5e8dc828615f498286c1d6a22cbd02fd4cd2/notebooks/data/annthyroid.mat",
        None,
    ),
    "arrhythmia": (
        f"{_PYOD_RAW}/1938f1c58ba7948359b098ab358b7ee920825282/data/arrhythmia.mat",
        None,
    ),
    "breastw": (
        f"{_PYOD_RAW}/ef6d5e8dc828615f498286c1d6a22cbd02fd4cd2/notebooks/data/breastw.mat",
        None,
    ),
    "cardio": (
        f"{_PYOD_RAW}/71246f49518da607e0b879ac0d7446fdac3d8d3c/examples/example_data/cardio.mat",
        None,
    ),
    "ecoli": (
        f"{_PYOD_RAW}/ef6d5e8dc828615f498286c1d6a22cbd02fd4cd2/notebooks/data/ecoli.mat",
        None,
    ),
    "ionosphere": (
        f"{_PYOD_RAW}/ea62c2d0f10700f1e937f89c32f1b6aa8e61c817/examples/data/ionosphere.mat",
        None,
    ),
    "lympho": (
        f"{_PYOD_RAW}/b247c08568cbc8147f3fe873a925c4deff89b8b9/notebooks/data/lympho.mat",
        None,
    ),
    "mammography": (
        f"{_PYOD_RAW}/d1a7e4754f983c1dda78c14495c4604afaa6af0a/pyod/data/mammography.mat",
        None,
    ),
    "mnist": (
        f"{_PYOD_RAW}/b247c08568cbc8147f3fe873a925c4deff89b8b9/notebooks/data/mnist.mat",
        None,
    ),
    "musk": (f"{_PYOD_RAW}/ef6d5e8dc828615f498286c1d6a22cbd02fd4cd2/notebooks/data/musk.mat", None),
    "optdigits": (
        f"{_PYOD_RAW}/b247c08568cbc8147f3fe873a925c4deff89b8b9/notebooks/data/optdigits.mat",
        None,
    ),
    "pendigits": (
        f"{_PYOD_RAW}/b247c08568cbc8147f3fe873a925c4deff89b8b9/notebooks/data/pendigits.mat",
        None,
    ),
    "pima": (f"{_PYOD_RAW}/1fa3fcc5e728bc2be7eaf06798f3b8e4d6b981e6/pyod/test/data/pima.mat", None),
    "satellite": (
        f"{_PYOD_RAW}/b247c08568cbc8147f3fe873a925c4deff89b8b9/notebooks/data/satellite.mat",
        None,
    ),
    "satimage-2": (
        f"{_PYOD_RAW}/ef6d5e8dc828615f498286c1d6a22cbd02fd4cd2/notebooks/data/satimage-2.mat",
        None,
    ),
    "shuttle": (
        f"{_PYOD_RAW}/b247c08568cbc8147f3fe873a925c4deff89b8b9/notebooks/data/shuttle.mat",
        None,
    ),
    "smtp": (f"{_PYOD_RAW}/ef6d5e8dc828615f498286c1d6a22cbd02fd4cd2/notebooks/data/smtp.mat", None),
    "thyroid": (
        f"{_PYOD_RAW}/ef6d5e8dc828615f498286c1d6a22cbd02fd4cd2/notebooks/data/thyroid.mat",
        "49155d7861b977e90808faf68343ff67a67f63090c2744d514dbb67ac68e7e33",
    ),
    "vertebral": (
        f"{_PYOD_RAW}/ef6d5e8dc828615f498286c1d6a22cbd02fd4cd2/notebooks/data/vertebral.mat",
        None,
    ),
}

#: ODDS data sets with a known download address. Any other ODDS ``.mat`` file
#: can be loaded by name once it is in the data home.
ODDS_NAMES: tuple[str, ...] = tuple(sorted(_MIRRORS))


def odds_remote_file(name: str) -> RemoteFile:
    """The :class:`RemoteFile` of the ODDS data set ``name`` (``"<name>.mat"``).

    Names without a known mirror get no download address: such files must be
    put in the data home by hand.
    """
    url, sha256 = _MIRRORS.get(name, (None, None))
    return RemoteFile(
        filename=f"{name}.mat",
        urls=(url,) if url else (),
        sha256=sha256,
        homepage=_ODDS_HOMEPAGE,
    )


def load_odds(
    name: str,
    data_home: str | os.PathLike[str] | None = None,
    *,
    download: bool = True,
    return_X_y: bool = False,
) -> Bunch | tuple[np.ndarray, np.ndarray]:
    """Load an ODDS outlier-detection data set from its ``.mat`` file.

    The file ``<name>.mat`` is read from the data home, or downloaded there
    when a mirror is known (see ``ODDS_NAMES``; ``thyroid`` is SHA-256 checked,
    the others are checked by parsing). Both MATLAB v5 and v7.3 (HDF5) files are
    read; v7.3 needs ``h5py``. The file must hold a numeric matrix ``X`` and a
    0/1 label vector ``y``; ``X`` is transposed when needed so that its rows are
    the samples (its row count must equal the length of ``y``).

    Parameters
    ----------
    name : str
        Data set name as on the ODDS site, e.g. ``"thyroid"``, ``"arrhythmia"``,
        ``"cardio"``, ``"satimage-2"`` (no ``.mat`` suffix, no folder).
    data_home : str, os.PathLike or None, default=None
        Data folder; see :func:`~dagmm.datasets.get_data_home`.
    download : bool, default=True
        Whether to download the file when it is not in the data home.
    return_X_y : bool, default=False
        Return ``(data, target)`` instead of a Bunch.

    Returns
    -------
    sklearn.utils.Bunch or tuple of ndarray
        Bunch with ``data`` (float64, n_samples x n_features, as stored: ODDS
        files are often already scaled), ``target`` (int64, 1 = anomaly),
        ``feature_names`` (``"x0"``, ``"x1"``, ...), ``name``, ``mat_version``
        (``"5"`` or ``"7.3"``), ``frame`` (None), ``DESCR`` and ``filename``;
        or ``(data, target)`` when ``return_X_y`` is true.

    Raises
    ------
    ValueError
        ``name`` is not a bare data set name.
    DatasetNotFoundError
        The file is missing and cannot be downloaded.
    DataError
        The file is corrupt, lacks ``X`` or ``y``, or their shapes disagree.

    Examples
    --------
    >>> from dagmm.datasets import load_odds
    >>> thyroid = load_odds("thyroid")  # doctest: +SKIP
    >>> thyroid.data.shape, int(thyroid.target.sum())  # doctest: +SKIP
    ((3772, 6), 93)
    """
    if not isinstance(name, str) or not _NAME_PATTERN.fullmatch(name):
        raise ValueError(
            f"name must be a bare ODDS data set name of letters, digits, '-' and '_' "
            f"(no folder, no '.mat' suffix), such as 'thyroid' or 'satimage-2'; got {name!r}. "
            f"Names with a download address: {', '.join(ODDS_NAMES)}."
        )
    check_bool("return_X_y", return_X_y)
    path = fetch_file(odds_remote_file(name), data_home, download, validate=read_mat_xy)
    X, y, version = read_mat_xy(path)
    n_anomalies = int(y.sum())
    descr = f"""ODDS data set {name!r}
{"=" * (len(name) + 17)}

File: {path.name} (MATLAB v{version}). Outlier Detection DataSets (ODDS),
Shebuti Rayana (2016), {_ODDS_HOMEPAGE}

Samples: {X.shape[0]}; features: {X.shape[1]}; anomalies (y = 1): {n_anomalies}
({n_anomalies / max(X.shape[0], 1):.2%}). Values as stored in the file (not rescaled).
"""
    feature_names = [f"x{j}" for j in range(X.shape[1])]
    return make_bunch(X, y, feature_names, descr, path, return_X_y, name=name, mat_version=version)


def read_mat_xy(path: str | os.PathLike[str]) -> tuple[np.ndarray, np.ndarray, str]:
    """Read ``X`` (samples x features, float64) and ``y`` (int64 0/1) from a .mat file.

    Parameters
    ----------
    path : str or os.PathLike
        A MATLAB v5 or v7.3 file with variables ``X`` and ``y``.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
    y : ndarray of shape (n_samples,)
    version : str
        ``"5"`` or ``"7.3"``.

    Raises
    ------
    DataError
        The file cannot be read, lacks ``X`` or ``y``, or holds values of the
        wrong kind or shape.
    """
    path = Path(path)
    if _is_hdf5(path):
        X, y, version = *_read_hdf5(path), "7.3"
    else:
        X, y, version = *_read_v5(path), "5"
    return (*_check_xy(path, X, y), version)


def _is_hdf5(path: Path) -> bool:
    try:
        with path.open("rb") as f:
            for offset in _HDF5_OFFSETS:
                f.seek(offset)
                if f.read(len(_HDF5_SIGNATURE)) == _HDF5_SIGNATURE:
                    return True
    except OSError as exc:
        raise _bad_file(path, f"cannot read it ({exc})") from exc
    return False


def _read_v5(path: Path) -> tuple[np.ndarray, np.ndarray]:
    try:
        contents = scipy.io.loadmat(path, variable_names=["X", "y"])
    except MemoryError:
        raise
    except Exception as exc:  # noqa: BLE001
        # scipy reports damaged files with many unrelated types (ValueError,
        # TypeError, OSError, zlib.error, MatReadError...); any of them means
        # this file cannot be read.
        raise _bad_file(path, f"not a readable MATLAB file ({type(exc).__name__}: {exc})") from exc
    return _variable(path, contents, "X"), _variable(path, contents, "y")


def _read_hdf5(path: Path) -> tuple[np.ndarray, np.ndarray]:
    try:
        import h5py
    except ImportError as exc:
        raise ImportError(
            f"{str(path)!r} is a MATLAB v7.3 (HDF5) file; reading it needs h5py: "
            "pip install h5py (or dagmm[io])"
        ) from exc
    try:
        with h5py.File(path, "r") as f:
            contents = {
                key: f[key][()]
                for key in ("X", "y")
                if key in f and isinstance(f[key], h5py.Dataset)
            }
    except MemoryError:
        raise
    except Exception as exc:  # noqa: BLE001
        # h5py raises OSError, KeyError or TypeError for damaged files.
        raise _bad_file(path, f"not a readable HDF5 file ({type(exc).__name__}: {exc})") from exc
    # MATLAB is column-major, so v7.3 files hold the transpose of each array.
    return _variable(path, contents, "X").T, _variable(path, contents, "y").T


def _variable(path: Path, contents: dict[str, object], key: str) -> np.ndarray:
    if key not in contents:
        found = sorted(k for k in contents if not k.startswith("__"))
        raise _bad_file(
            path, f"it has no variable {key!r} (ODDS files hold 'X' and 'y'; found {found})"
        )
    value = np.asarray(contents[key])
    if value.dtype.kind not in "biuf":
        raise _bad_file(path, f"variable {key!r} has dtype {value.dtype}; expected numbers")
    return value


def _check_xy(path: Path, X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Make X samples x features and y a 0/1 vector of matching length."""
    if X.ndim != 2:
        raise _bad_file(path, f"'X' has shape {X.shape}; expected a 2-D matrix")
    if y.ndim > 2 or (y.ndim == 2 and 1 not in y.shape):
        raise _bad_file(path, f"'y' has shape {y.shape}; expected a vector")
    y = y.ravel()
    if X.shape[0] != len(y):
        if X.shape[1] != len(y):
            raise _bad_file(
                path,
                f"'X' has shape {X.shape} but 'y' has {len(y)} entries; neither the "
                "rows nor the columns of 'X' match the labels",
            )
        X = X.T
    if not np.isfinite(X).all():
        raise _bad_file(path, f"'X' holds {int((~np.isfinite(X)).sum())} NaN or infinite values")
    values = np.unique(y)
    if not np.isin(values, (0, 1)).all():
        raise _bad_file(
            path, f"'y' holds {values[:10].tolist()}; expected 0 (inlier) and 1 (outlier)"
        )
    return np.ascontiguousarray(X, dtype=np.float64), y.astype(np.int64)


def _bad_file(path: Path, problem: str) -> DataError:
    return DataError(
        f"ODDS file {str(path)!r} is corrupt or not in the expected format: {problem}. "
        "Delete or replace the file."
    )
