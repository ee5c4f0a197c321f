"""Where data set files live, and how a missing one is downloaded.

Every loader finds its files through :func:`fetch_file`: a file already in the
data home is used as it is (mirrors differ byte for byte, so a file the user put
there is validated by parsing, never by its digest); a missing one is
downloaded from the first public address that answers, checked against its
SHA-256 digest when that is known, and moved into place only when complete, so
an interrupted download never leaves a half-written file under the real name.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import sys
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.utils import Bunch

from dagmm._version import __version__
from dagmm.exceptions import DatasetNotFoundError
from dagmm.persistence.atomic import AtomicPath

__all__ = ["DATA_HOME_ENV", "RemoteFile", "fetch_file", "get_data_home", "import_pandas"]

#: Environment variable naming the data home when ``data_home`` is not given.
DATA_HOME_ENV = "DAGMM_DATA_HOME"

_CHUNK_BYTES = 1 << 20
_DOWNLOAD_TIMEOUT_S = 60.0
_PART_SUFFIX = ".part"


@dataclass(frozen=True)
class RemoteFile:
    """A data set file: its name in the data home and where to get it.

    Parameters
    ----------
    filename : str
        File name inside the data home (a bare name, no folder).
    urls : tuple of str
        Public download addresses, tried in order. Empty when the file cannot be
        downloaded without a login.
    sha256 : str or None
        Hex SHA-256 digest of the file served at every address in ``urls``.
        ``None`` when no trustworthy digest is known; the download is then
        validated by parsing only.
    homepage : str
        Where a person can get the file by hand; quoted in error messages.
    """

    filename: str
    urls: tuple[str, ...]
    sha256: str | None
    homepage: str


def import_pandas(what: str) -> Any:
    """The pandas module, or an ImportError naming the extra that installs it.

    pandas is not a core dependency: only the CSV loaders need it here
    (and the file workflow, which comes with the same extra).
    """
    try:
        import pandas
    except ModuleNotFoundError:
        raise ImportError(f"{what} needs pandas: pip install 'dagmm[tabular]'") from None
    return pandas


def get_data_home(data_home: str | os.PathLike[str] | None = None) -> Path:
    """Return the folder where data set files are looked up and downloaded to.

    The folder is, in order of precedence: ``data_home`` when given, else the
    ``DAGMM_DATA_HOME`` environment variable when set and non-empty, else a
    per-user cache folder (``$XDG_CACHE_HOME/dagmm`` or ``~/.cache/dagmm`` on
    Linux, ``~/Library/Caches/dagmm`` on macOS, ``%LOCALAPPDATA%\\dagmm\\Cache``
    on Windows). ``~`` is expanded. The folder is not created here; it is
    created only when a file is downloaded into it.

    Parameters
    ----------
    data_home : str, os.PathLike or None, default=None
        Explicit data folder.

    Returns
    -------
    pathlib.Path
        The data folder, as an absolute path.

    Examples
    --------
    >>> from dagmm.datasets import get_data_home
    >>> get_data_home("~/dagmm-data").name
    'dagmm-data'
    """
    if data_home is not None:
        if not isinstance(data_home, (str, os.PathLike)):
            raise TypeError(
                "data_home must be a path (str or os.PathLike) or None; "
                f"got {data_home!r} ({type(data_home).__name__})"
            )
        return Path(data_home).expanduser().absolute()
    from_env = os.environ.get(DATA_HOME_ENV, "")
    if from_env:
        return Path(from_env).expanduser().absolute()
    return _user_cache_dir()


def _user_cache_dir() -> Path:
    """The per-user cache folder for dagmm on this platform."""
    if sys.platform == "win32":
        local = os.environ.get("LOCALAPPDATA") or str(Path.home() / "AppData" / "Local")
        return Path(local) / "dagmm" / "Cache"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "dagmm"
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    # The XDG spec says a relative value is invalid and must be ignored.
    base = Path(xdg) if xdg and Path(xdg).is_absolute() else Path.home() / ".cache"
    return base / "dagmm"


def fetch_file(
    remote: RemoteFile,
    data_home: str | os.PathLike[str] | None = None,
    download: bool = True,
    validate: Callable[[Path], Any] | None = None,
) -> Path:
    """Return the path of ``remote`` in the data home, downloading it if missing.

    Parameters
    ----------
    remote : RemoteFile
        The file wanted.
    data_home : str, os.PathLike or None, default=None
        See :func:`get_data_home`.
    download : bool, default=True
        Whether a missing file may be downloaded.
    validate : callable or None, default=None
        Called with the path of a freshly downloaded file whose digest is not
        known (``remote.sha256 is None``) before it is moved into place; it
        raises (typically :class:`~dagmm.exceptions.DataError`) when the file
        does not parse.

    Returns
    -------
    pathlib.Path
        Path of the file in the data home.

    Raises
    ------
    DatasetNotFoundError
        The file is absent and ``download`` is false, no address is known, or
        every download failed. The message names the file, the folder searched,
        the addresses tried and where to put the file by hand.
    """
    check_bool("download", download)
    folder = get_data_home(data_home)
    path = folder / remote.filename
    if path.is_file():
        return path
    if not remote.urls:
        raise DatasetNotFoundError(
            _not_found_message(remote, folder, "it has no public download address.")
        )
    if not download:
        raise DatasetNotFoundError(_not_found_message(remote, folder, "download=False."))
    failures = []
    for url in remote.urls:
        try:
            _download(url, path, remote.sha256, validate)
        except (OSError, http.client.HTTPException, ValueError) as exc:
            # OSError covers URLError, HTTPError, timeouts and refused
            # connections; ValueError covers a bad address, a digest mismatch
            # and a file that fails ``validate``.
            failures.append(f"  {url}: {_describe(exc)}")
        else:
            return path
    raise DatasetNotFoundError(
        _not_found_message(remote, folder, "downloading it failed:\n" + "\n".join(failures))
    )


def _download(
    url: str,
    path: Path,
    sha256: str | None,
    validate: Callable[[Path], Any] | None,
) -> None:
    """Download ``url`` to ``path`` through a temporary file in the same folder."""
    request = urllib.request.Request(url, headers={"User-Agent": f"dagmm/{__version__}"})
    digest = hashlib.sha256()
    n_bytes = 0
    # Connect before creating anything, so an offline attempt leaves no trace.
    with urllib.request.urlopen(request, timeout=_DOWNLOAD_TIMEOUT_S) as response:
        expected_size = response.headers.get("Content-Length")
        path.parent.mkdir(parents=True, exist_ok=True)
        # The one atomic writer: renamed into place only when complete and
        # checked; partial downloads of killed runs are removed first.
        atomic = AtomicPath(path, kind=_PART_SUFFIX[1:])
        tmp = atomic.begin()
        try:
            with open(tmp, "xb") as out:
                while chunk := response.read(_CHUNK_BYTES):
                    out.write(chunk)
                    digest.update(chunk)
                    n_bytes += len(chunk)
            if expected_size is not None and expected_size.isdigit():
                if n_bytes != int(expected_size):
                    raise ValueError(
                        f"incomplete download: received {n_bytes} bytes, expected {expected_size}"
                    )
            if sha256 is not None:
                if digest.hexdigest() != sha256.lower():
                    raise ValueError(
                        f"sha256 mismatch: expected {sha256}, got {digest.hexdigest()} "
                        f"({n_bytes} bytes); the download was discarded"
                    )
            elif validate is not None:
                validate(tmp)
            atomic.commit()
        finally:
            atomic.abort()  # a no-op after the commit


def _describe(exc: BaseException) -> str:
    """One line for a failed download: the error type and its message."""
    if isinstance(exc, urllib.error.HTTPError):
        return f"HTTP error {exc.code} {exc.reason}"
    if isinstance(exc, urllib.error.URLError):
        return f"cannot connect ({exc.reason})"
    return f"{type(exc).__name__}: {exc}"


def _not_found_message(remote: RemoteFile, folder: Path, reason: str) -> str:
    addresses = ", ".join(remote.urls) if remote.urls else "none (manual download only)"
    return (
        f"Data file {remote.filename!r} is not in the data folder {str(folder)!r} and {reason}\n"
        f"Download address(es): {addresses}\n"
        f"To use it offline, get {remote.filename!r} from {remote.homepage} and put it, "
        f"unchanged, at {str(folder / remote.filename)!r}, or pass data_home= (or set "
        f"the {DATA_HOME_ENV} environment variable) to the folder that holds it."
    )


def check_bool(name: str, value: object) -> None:
    """Raise TypeError naming ``name`` unless ``value`` is a bool."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False; got {value!r} ({type(value).__name__})")


def make_bunch(
    data: np.ndarray,
    target: np.ndarray,
    feature_names: list[str],
    descr: str,
    filename: Path,
    return_X_y: bool,
    **extra: Any,
) -> Bunch | tuple[np.ndarray, np.ndarray]:
    """The common return value of every loader: a Bunch, or ``(X, y)``."""
    if return_X_y:
        return data, target
    return Bunch(
        data=data,
        target=target,
        feature_names=feature_names,
        frame=None,
        DESCR=descr,
        filename=str(filename),
        **extra,
    )
