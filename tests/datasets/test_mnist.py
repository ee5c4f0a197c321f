"""load_mnist on tiny IDX gzip files written in tmp_path."""

from __future__ import annotations

import gzip

import numpy as np
import pytest

from dagmm.datasets import load_mnist, mnist
from dagmm.datasets._base import RemoteFile
from dagmm.exceptions import DataError, DatasetNotFoundError

IMAGES = np.arange(4 * 28 * 28, dtype=np.uint64).reshape(4, 28, 28).astype(np.uint8)
LABELS = np.array([7, 2, 1, 0], dtype=np.uint8)
FILES = {
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
}


def idx_bytes(array, magic=None):
    """An IDX file: magic (0x0000 08 ndim), sizes, then the uint8 payload; gzip-compressed."""
    magic = (0x08 << 8) | array.ndim if magic is None else magic
    header = magic.to_bytes(4, "big") + b"".join(n.to_bytes(4, "big") for n in array.shape)
    return gzip.compress(header + array.astype(np.uint8).tobytes())


def write_mnist(folder, subset="test", images=IMAGES, labels=LABELS):
    folder.mkdir(parents=True, exist_ok=True)
    images_name, labels_name = FILES[subset]
    (folder / images_name).write_bytes(idx_bytes(images))
    (folder / labels_name).write_bytes(idx_bytes(labels))
    return folder


def test_test_subset(tmp_path):
    bunch = load_mnist(write_mnist(tmp_path), download=False)
    assert bunch.data.shape == (4, 784) and bunch.data.dtype == np.float64
    assert bunch.data.min() >= 0.0 and bunch.data.max() <= 1.0
    np.testing.assert_allclose(bunch.data * 255.0, IMAGES.reshape(4, -1))
    np.testing.assert_array_equal(bunch.images, IMAGES)
    assert bunch.images.dtype == np.uint8
    np.testing.assert_array_equal(bunch.target, [7, 2, 1, 0])  # digits, not anomaly flags
    np.testing.assert_array_equal(bunch.target_names, np.arange(10))
    assert len(bunch.feature_names) == 784 and bunch.feature_names[29] == "pixel_1_1"
    assert "DIGIT" in bunch.DESCR and bunch.frame is None
    assert bunch.filename.endswith("t10k-images-idx3-ubyte.gz")


def test_train_subset_and_return_X_y(tmp_path):
    write_mnist(tmp_path, "train", IMAGES[:2], LABELS[:2])
    X, y = load_mnist(tmp_path, download=False, subset="train", return_X_y=True)
    assert X.shape == (2, 784) and y.tolist() == [7, 2]


def test_bad_subset_is_named(tmp_path):
    with pytest.raises(ValueError, match=r"subset must be one of \['test', 'train'\]; got 'valid'"):
        load_mnist(tmp_path, subset="valid")


def test_truncated_payload_names_the_file(tmp_path):
    write_mnist(tmp_path)
    path = tmp_path / "t10k-images-idx3-ubyte.gz"
    raw = gzip.decompress(path.read_bytes())
    path.write_bytes(gzip.compress(raw[:-100]))
    with pytest.raises(
        DataError, match=r"t10k-images-idx3-ubyte\.gz.* truncated.* 3036 bytes follow"
    ):
        load_mnist(tmp_path, download=False)


def test_truncated_gzip_names_the_file(tmp_path):
    write_mnist(tmp_path)
    path = tmp_path / "t10k-labels-idx1-ubyte.gz"
    path.write_bytes(path.read_bytes()[:15])
    with pytest.raises(DataError, match=r"t10k-labels-idx1-ubyte\.gz.* cannot decompress"):
        load_mnist(tmp_path, download=False)


def test_wrong_magic_number(tmp_path):
    write_mnist(tmp_path)
    # A labels file where the images file should be.
    (tmp_path / "t10k-images-idx3-ubyte.gz").write_bytes(idx_bytes(LABELS))
    with pytest.raises(DataError, match=r"magic number is 0x00000801; expected 0x00000803"):
        load_mnist(tmp_path, download=False)


def test_header_shorter_than_announced(tmp_path):
    write_mnist(tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(b"\x00\x00"))
    with pytest.raises(DataError, match=r"fewer than the 8-byte header"):
        load_mnist(tmp_path, download=False)


def test_images_and_labels_must_agree(tmp_path):
    write_mnist(tmp_path, labels=LABELS[:3])
    with pytest.raises(DataError, match=r"holds 4 images but .* holds 3 labels"):
        load_mnist(tmp_path, download=False)


def test_wrong_image_size(tmp_path):
    write_mnist(tmp_path, images=np.zeros((4, 27, 27), dtype=np.uint8))
    with pytest.raises(DataError, match=r"images are \(27, 27\); expected \(28, 28\)"):
        load_mnist(tmp_path, download=False)


def test_labels_must_be_digits(tmp_path):
    write_mnist(tmp_path, labels=np.array([7, 2, 11, 0], dtype=np.uint8))
    with pytest.raises(DataError, match=r"labels go up to 11"):
        load_mnist(tmp_path, download=False)


def test_missing_files_without_download(tmp_path):
    with pytest.raises(
        DatasetNotFoundError, match=r"t10k-images-idx3-ubyte\.gz.*download=False"
    ) as info:
        load_mnist(tmp_path, download=False)
    assert "ossci-datasets" in str(info.value)


def test_download_from_a_mirror(tmp_path, file_server, monkeypatch):
    remotes = []
    for array, name in zip((IMAGES, LABELS), FILES["test"], strict=True):
        url, sha = file_server.serve(name, idx_bytes(array))
        remotes.append(RemoteFile(name, (url,), sha, "http://example.org"))
    monkeypatch.setitem(mnist.MNIST_FILES, "test", tuple(remotes))
    bunch = load_mnist(tmp_path / "home")
    np.testing.assert_array_equal(bunch.images, IMAGES)
    assert sorted(p.name for p in (tmp_path / "home").iterdir()) == sorted(FILES["test"])
