"""MNIST hand-written digits from the original gzip-compressed IDX files.

IDX layout: a big-endian header (two zero bytes, a type code, the number of
dimensions, then one 4-byte size per dimension) followed by the array in
row-major order. MNIST uses type code 0x08 (unsigned byte): images are
``0x00000803`` (n x 28 x 28), labels ``0x00000801`` (n).
"""

from __future__ import annotations

import gzip
import os
import zlib
from pathlib import Path

import numpy as np
from sklearn.utils import Bunch

from dagmm.datasets._base import RemoteFile, check_bool, fetch_file, make_bunch
from dagmm.exceptions import DataError

__all__ = ["load_mnist"]

# The ossci-datasets bucket is the mirror torchvision downloads MNIST from; it
# serves the original files, whose SHA-256 digests are published alongside
# other MNIST loaders (the label digests also match the files examined for
# this project).
_MIRROR = "https://ossci-datasets.s3.amazonaws.com/mnist"
_HOMEPAGE = (
    "http://yann.lecun.com/exdb/mnist/ (mirror: https://ossci-datasets.s3.amazonaws.com/mnist/)"
)


def _mnist_file(filename: str, sha256: str) -> RemoteFile:
    return RemoteFile(filename, (f"{_MIRROR}/{filename}",), sha256, _HOMEPAGE)


#: (images, labels) files of each subset.
MNIST_FILES: dict[str, tuple[RemoteFile, RemoteFile]] = {
    "train": (
        _mnist_file(
            "train-images-idx3-ubyte.gz",
            "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
        ),
        _mnist_file(
            "train-labels-idx1-ubyte.gz",
            "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
        ),
    ),
    "test": (
        _mnist_file(
            "t10k-images-idx3-ubyte.gz",
            "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
        ),
        _mnist_file(
            "t10k-labels-idx1-ubyte.gz",
            "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
        ),
    ),
}

_IMAGE_SHAPE = (28, 28)
_UBYTE = 0x08
_N_CLASSES = 10


def load_mnist(
    data_home: str | os.PathLike[str] | None = None,
    *,
    download: bool = True,
    subset: str = "test",
    return_X_y: bool = False,
) -> Bunch | tuple[np.ndarray, np.ndarray]:
    """Load the MNIST digits (test set by default) from the IDX gzip files.

    The files are read from the data home, or downloaded there from the
    ossci-datasets mirror (SHA-256 checked) when missing.

    Unlike the other loaders, ``target`` holds the digit (0-9), not an anomaly
    flag: anomaly experiments choose their own normal and anomalous digits,
    e.g. ``X[np.isin(y, (0, 6))]`` and ``y == 6``.

    Parameters
    ----------
    data_home : str, os.PathLike or None, default=None
        Data folder; see :func:`~dagmm.datasets.get_data_home`.
    download : bool, default=True
        Whether to download the files when they are not in the data home.
    subset : {"test", "train"}, default="test"
        ``"test"``: the 10,000 images of ``t10k-*-ubyte.gz``; ``"train"``: the
        60,000 images of ``train-*-ubyte.gz``.
    return_X_y : bool, default=False
        Return ``(data, target)`` instead of a Bunch.

    Returns
    -------
    sklearn.utils.Bunch or tuple of ndarray
        Bunch with ``data`` (float64 in [0, 1], n x 784: pixel / 255, rows of
        the image in order), ``images`` (uint8, n x 28 x 28), ``target`` (int64
        digit labels), ``target_names`` (0-9), ``feature_names``
        (``"pixel_<row>_<col>"``), ``frame`` (None), ``DESCR`` and ``filename``
        (the images file); or ``(data, target)`` when ``return_X_y`` is true.

    Raises
    ------
    ValueError
        ``subset`` is neither ``"test"`` nor ``"train"``.
    DatasetNotFoundError
        A file is missing and cannot be downloaded.
    DataError
        A file is corrupt or truncated, or images and labels disagree.

    Examples
    --------
    >>> from dagmm.datasets import load_mnist
    >>> mnist = load_mnist()  # doctest: +SKIP
    >>> mnist.data.shape, mnist.images.shape  # doctest: +SKIP
    ((10000, 784), (10000, 28, 28))
    """
    if subset not in MNIST_FILES:
        raise ValueError(f"subset must be one of {sorted(MNIST_FILES)}; got {subset!r}")
    check_bool("return_X_y", return_X_y)
    images_file, labels_file = MNIST_FILES[subset]
    images_path = fetch_file(images_file, data_home, download)
    labels_path = fetch_file(labels_file, data_home, download)
    images = read_idx(images_path, ndim=3)
    labels = read_idx(labels_path, ndim=1)
    if images.shape[1:] != _IMAGE_SHAPE:
        raise _bad_file(images_path, f"images are {images.shape[1:]}; expected {_IMAGE_SHAPE}")
    if len(images) != len(labels):
        raise DataError(
            f"MNIST files disagree: {images_path.name} holds {len(images)} images but "
            f"{labels_path.name} holds {len(labels)} labels (in {str(images_path.parent)!r})"
        )
    if labels.size and labels.max() >= _N_CLASSES:
        raise _bad_file(labels_path, f"labels go up to {labels.max()}; expected digits 0-9")

    data = images.reshape(len(images), -1).astype(np.float64) / 255.0
    target = labels.astype(np.int64)
    counts = np.bincount(target, minlength=_N_CLASSES)
    feature_names = [
        f"pixel_{r}_{c}" for r in range(_IMAGE_SHAPE[0]) for c in range(_IMAGE_SHAPE[1])
    ]
    descr = f"""MNIST hand-written digits, {subset} set
{"=" * (31 + len(subset))}

Files: {images_path.name}, {labels_path.name} (LeCun, Cortes and Burges).

Images: {len(images)} of 28 x 28 pixels. 'data' holds pixel / 255 (float64 in
[0, 1]) flattened row by row, 'images' the raw uint8 pixels.
'target' is the DIGIT (0-9), not an anomaly flag: an anomaly experiment picks
its normal and anomalous digits itself. Digit counts 0-9: {counts.tolist()}.
"""
    return make_bunch(
        data,
        target,
        feature_names,
        descr,
        images_path,
        return_X_y,
        images=images,
        target_names=np.arange(_N_CLASSES),
    )


def read_idx(path: str | os.PathLike[str], ndim: int) -> np.ndarray:
    """Read an unsigned-byte IDX array of ``ndim`` dimensions from a gzip file.

    Parameters
    ----------
    path : str or os.PathLike
        A gzip-compressed IDX file.
    ndim : int
        Expected number of dimensions (3 for images, 1 for labels).

    Returns
    -------
    ndarray of uint8
        The array, of the shape given in the header.

    Raises
    ------
    DataError
        The file is not gzip, the magic number is wrong, or the payload is
        shorter or longer than the header says.
    """
    path = Path(path)
    try:
        with gzip.open(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError, zlib.error) as exc:
        # BadGzipFile is an OSError; a truncated stream raises EOFError.
        raise _bad_file(path, f"cannot decompress it ({type(exc).__name__}: {exc})") from exc
    expected_magic = (_UBYTE << 8) | ndim
    header_size = 4 * (1 + ndim)
    magic = int.from_bytes(raw[:4], "big") if len(raw) >= 4 else None
    if magic is not None and magic != expected_magic:
        raise _bad_file(
            path,
            f"magic number is 0x{magic:08x}; expected 0x{expected_magic:08x} "
            f"(unsigned bytes, {ndim} dimension(s))",
        )
    if len(raw) < header_size:
        raise _bad_file(
            path, f"it holds {len(raw)} bytes, fewer than the {header_size}-byte header"
        )
    shape = tuple(int.from_bytes(raw[4 * i : 4 * i + 4], "big") for i in range(1, ndim + 1))
    expected = int(np.prod(shape))
    found = len(raw) - header_size
    if found != expected:
        kind = "truncated" if found < expected else "too long"
        raise _bad_file(
            path,
            f"it is {kind}: the header announces shape {shape} ({expected} bytes of "
            f"data) but {found} bytes follow",
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header_size).reshape(shape).copy()


def _bad_file(path: Path, problem: str) -> DataError:
    return DataError(
        f"MNIST file {str(path)!r} is corrupt or not in the expected format: {problem}. "
        "Delete or replace the file (a missing file is downloaded again)."
    )
