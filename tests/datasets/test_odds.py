"""load_odds on small MATLAB v5 and v7.3 (HDF5) files written in tmp_path."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.io

from dagmm.datasets import load_odds, odds
from dagmm.exceptions import DataError, DatasetNotFoundError

h5py = pytest.importorskip("h5py")

RNG = np.random.default_rng(0)
X = RNG.random((12, 3))
Y = np.array([0] * 9 + [1] * 3, dtype=float)


def write_v5(path, **variables):
    scipy.io.savemat(path, variables)
    return path


def write_v73(path, userblock=True, **variables):
    """A MATLAB v7.3 file: HDF5, arrays stored transposed, 512-byte MATLAB header."""
    with h5py.File(path, "w", userblock_size=512 if userblock else 0) as f:
        for key, value in variables.items():
            f.create_dataset(key, data=np.atleast_2d(value).T)
    if userblock:
        text = b"MATLAB 7.3 MAT-file, Platform: GLNXA64, Created on: test HDF5 schema 1.00 ."
        header = text.ljust(116, b" ") + b" " * 8 + b"\x00\x02" + b"IM"
        with open(path, "r+b") as f:
            f.write(header)
    return path


def test_v5_file(tmp_path):
    write_v5(tmp_path / "tiny.mat", X=X, y=Y[:, None])
    bunch = load_odds("tiny", tmp_path, download=False)
    np.testing.assert_array_equal(bunch.data, X)
    np.testing.assert_array_equal(bunch.target, Y.astype(int))
    assert bunch.data.dtype == np.float64 and bunch.target.dtype == np.int64
    assert bunch.feature_names == ["x0", "x1", "x2"]
    assert bunch.mat_version == "5" and bunch.name == "tiny" and bunch.frame is None
    assert "anomalies (y = 1): 3" in bunch.DESCR


@pytest.mark.parametrize("userblock", [True, False])
def test_v73_file_is_transposed_back(tmp_path, userblock):
    path = write_v73(tmp_path / "tiny.mat", userblock=userblock, X=X, y=Y)
    if userblock:
        assert scipy.io.matlab.matfile_version(path) == (2, 0)  # scipy sees a v7.3 header
    X_, y_ = load_odds("tiny", tmp_path, download=False, return_X_y=True)
    np.testing.assert_array_equal(X_, X)
    np.testing.assert_array_equal(y_, Y.astype(int))
    assert load_odds("tiny", tmp_path, download=False).mat_version == "7.3"


def test_features_by_samples_is_transposed(tmp_path):
    write_v5(tmp_path / "tiny.mat", X=X.T, y=Y)
    np.testing.assert_array_equal(load_odds("tiny", tmp_path, download=False).data, X)


def test_shapes_that_match_in_neither_orientation(tmp_path):
    write_v5(tmp_path / "tiny.mat", X=X, y=Y[:5])
    with pytest.raises(DataError, match=r"tiny\.mat.*shape \(12, 3\) but 'y' has 5 entries"):
        load_odds("tiny", tmp_path, download=False)


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({"X": X}, r"no variable 'y' .*found \['X'\]"),
        ({"X": X, "y": np.where(Y > 0, 2.0, 0.0)}, r"'y' holds \[0.0, 2.0\]; expected 0"),
        ({"X": np.where(X > 0.5, np.nan, X), "y": Y}, "NaN or infinite"),
        ({"X": np.ones((12, 3, 2)), "y": Y}, "expected a 2-D matrix"),
        ({"X": X, "y": np.ones((12, 2))}, "expected a vector"),
        ({"X": np.array(["a", "b"]), "y": Y}, "expected numbers"),
    ],
)
def test_bad_contents_are_reported(tmp_path, variables, message):
    write_v5(tmp_path / "tiny.mat", **variables)
    with pytest.raises(DataError, match=message):
        load_odds("tiny", tmp_path, download=False)


def test_missing_variable_in_v73_file(tmp_path):
    write_v73(tmp_path / "tiny.mat", X=X)
    with pytest.raises(DataError, match=r"no variable 'y'"):
        load_odds("tiny", tmp_path, download=False)


@pytest.mark.parametrize("kind", ["v5", "v7.3", "garbage"])
def test_corrupt_file_is_reported(tmp_path, kind):
    path = tmp_path / "tiny.mat"
    if kind == "garbage":
        path.write_bytes(b"this is not a MATLAB file" * 20)
    else:
        (write_v5 if kind == "v5" else write_v73)(path, X=X, y=Y)
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(DataError, match=r"tiny\.mat' is corrupt"):
        load_odds("tiny", tmp_path, download=False)


@pytest.mark.parametrize("name", ["../thyroid", "thyroid.mat", "", "a/b", 3])
def test_bad_name_is_named(tmp_path, name):
    with pytest.raises(ValueError, match=r"name must be a bare ODDS data set name.*got"):
        load_odds(name, tmp_path)


def test_unknown_name_without_file(tmp_path):
    with pytest.raises(
        DatasetNotFoundError, match=r"'wbc\.mat'.*no public download address"
    ) as info:
        load_odds("wbc", tmp_path)
    assert "odds.cs.stonybrook.edu" in str(info.value)


def test_known_names_have_pinned_mirrors():
    assert {"thyroid", "arrhythmia", "cardio"} <= set(odds.ODDS_NAMES)
    thyroid = odds.odds_remote_file("thyroid")
    assert thyroid.filename == "thyroid.mat" and thyroid.sha256 is not None
    assert all(
        "raw.githubusercontent.com" in odds.odds_remote_file(n).urls[0] for n in odds.ODDS_NAMES
    )


def test_download_without_digest_is_validated_by_parsing(tmp_path, file_server, monkeypatch):
    good = write_v5(tmp_path / "good.mat", X=X, y=Y).read_bytes()
    url, _ = file_server.serve("tiny.mat", good)
    monkeypatch.setitem(odds._MIRRORS, "tiny", (url, None))
    bunch = load_odds("tiny", tmp_path / "home")
    assert bunch.data.shape == (12, 3)
    assert (tmp_path / "home" / "tiny.mat").read_bytes() == good


def test_download_that_does_not_parse_is_discarded(tmp_path, file_server, monkeypatch):
    url, _ = file_server.serve("tiny.mat", b"<html>moved</html>")
    monkeypatch.setitem(odds._MIRRORS, "tiny", (url, None))
    with pytest.raises(DatasetNotFoundError, match=r"not a readable MATLAB file"):
        load_odds("tiny", tmp_path / "home")
    assert list((tmp_path / "home").iterdir()) == []
