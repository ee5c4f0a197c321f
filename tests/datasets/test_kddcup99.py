"""load_kddcup99 on tiny gzip CSV files written in tmp_path."""

from __future__ import annotations

import gzip
import hashlib

import numpy as np
import pytest

from dagmm.datasets import kddcup99, load_kddcup99
from dagmm.datasets._base import RemoteFile
from dagmm.datasets.kddcup99 import KDDCUP99_COLUMNS
from dagmm.exceptions import DataError, DatasetNotFoundError

FILENAME = "kddcup.data_10_percent.gz"
N_NUMERIC = 38  # 41 columns minus protocol_type, service, flag


def kdd_row(protocol, service, flag, label, src_bytes=0):
    """One raw line: 41 features then the label, as in the UCI file."""
    fields = ["0", protocol, service, flag, str(src_bytes), "0"] + ["0"] * 35 + [label]
    assert len(fields) == 42
    return ",".join(fields)


def write_kdd(folder, lines, filename=FILENAME):
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / filename
    path.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))
    return path


def mixed_rows(n_normal, n_attack):
    """Normal rows on tcp/http, attacks alternating icmp/ecr_i/SF and udp/private/S0."""
    rows = [kdd_row("tcp", "http", "SF", "normal.", src_bytes=i) for i in range(n_normal)]
    for i in range(n_attack):
        spec = ("icmp", "ecr_i", "SF", "smurf.") if i % 2 else ("udp", "private", "S0", "neptune.")
        rows.append(kdd_row(*spec, src_bytes=1000 + i))
    return rows


@pytest.fixture
def home(tmp_path):
    rows = [
        kdd_row("tcp", "http", "SF", "normal.", 181),
        kdd_row("icmp", "ecr_i", "SF", "smurf.", 1032),
        kdd_row("udp", "private", "S0", "neptune.", 0),
        kdd_row("tcp", "IRC", "REJ", "normal.", 7),
        kdd_row("tcp", "http", "SF", "back.", 54540),
    ]
    write_kdd(tmp_path / "home", rows)
    return tmp_path / "home"


def test_encoding_labels_and_metadata(home):
    kdd = load_kddcup99(home, download=False)
    expected_onehot = [
        "protocol_type=icmp",
        "protocol_type=tcp",
        "protocol_type=udp",
        "service=IRC",  # sorted by code point, as pandas and numpy sort
        "service=ecr_i",
        "service=http",
        "service=private",
        "flag=REJ",
        "flag=S0",
        "flag=SF",
    ]
    numeric = [
        name for name, _ in KDDCUP99_COLUMNS if name not in ("protocol_type", "service", "flag")
    ]
    assert kdd.feature_names == expected_onehot + numeric
    assert len(numeric) == N_NUMERIC
    assert kdd.data.shape == (5, 10 + N_NUMERIC) and kdd.data.dtype == np.float64
    assert kdd.target.dtype == np.int64
    np.testing.assert_array_equal(kdd.target, [1, 0, 0, 1, 0])  # normal. is the anomaly
    np.testing.assert_array_equal(kdd.labels, ["normal.", "smurf.", "neptune.", "normal.", "back."])
    # Each one-hot block has exactly one 1 per row.
    for prefix in ("protocol_type=", "service=", "flag="):
        block = [j for j, n in enumerate(kdd.feature_names) if n.startswith(prefix)]
        np.testing.assert_array_equal(kdd.data[:, block].sum(axis=1), 1.0)
    assert kdd.data[3, kdd.feature_names.index("service=IRC")] == 1.0
    # Numbers are not scaled.
    src_bytes = kdd.data[:, kdd.feature_names.index("src_bytes")]
    np.testing.assert_array_equal(src_bytes, [181, 1032, 0, 7, 54540])
    assert kdd.frame is None and kdd.filename.endswith(FILENAME)
    assert "120" in kdd.DESCR and "anomaly" in kdd.DESCR


def test_return_X_y(home):
    X, y = load_kddcup99(home, download=False, return_X_y=True)
    assert X.shape == (5, 48) and y.tolist() == [1, 0, 0, 1, 0]


def test_names_file_in_data_home_provides_column_names(home):
    lines = ["back,normal.", "", ""] + [
        f"{'length' if name == 'duration' else name}: {kind}." for name, kind in KDDCUP99_COLUMNS
    ]
    (home / "kddcup.names").write_text("\n".join(lines) + "\n")
    kdd = load_kddcup99(home, download=False)
    assert "length" in kdd.feature_names and "duration" not in kdd.feature_names
    assert "kddcup.names file" in kdd.DESCR


def test_malformed_names_file_is_reported(home):
    (home / "kddcup.names").write_text("back,normal.\n\nduration: continuous.\n")
    with pytest.raises(DataError, match=r"kddcup\.names.* describes 1 columns; expected 41"):
        load_kddcup99(home, download=False)
    lines = ["back,normal.", "", ""] + [f"duration: {kind}." for _, kind in KDDCUP99_COLUMNS]
    (home / "kddcup.names").write_text("\n".join(lines))
    with pytest.raises(DataError, match=r"repeats the column name\(s\) \['duration'\]"):
        load_kddcup99(home, download=False)
    (home / "kddcup.names").write_text("back,normal.\n\nduration continuous\n")
    with pytest.raises(DataError, match=r"line 3: expected 'name: continuous\.'"):
        load_kddcup99(home, download=False)


def test_labels_without_trailing_dot_are_accepted(tmp_path):
    write_kdd(
        tmp_path, [kdd_row("tcp", "http", "SF", "normal"), kdd_row("tcp", "http", "SF", "smurf")]
    )
    assert load_kddcup99(tmp_path, download=False).target.tolist() == [1, 0]


def test_rev_keeps_all_normal_rows_and_draws_a_quarter_as_many_attacks(tmp_path):
    write_kdd(tmp_path, mixed_rows(n_normal=40, n_attack=30))
    full = load_kddcup99(tmp_path, download=False)
    rev = load_kddcup99(tmp_path, download=False, rev=True, random_state=0)
    assert rev.data.shape == (50, full.data.shape[1])
    assert rev.feature_names == full.feature_names  # encoded on the whole file
    is_attack = rev.labels != "normal."
    np.testing.assert_array_equal(rev.target, is_attack.astype(int))  # attacks are anomalies
    assert int(rev.target.sum()) == 10 and int((rev.target == 0).sum()) == 40
    # File order is kept: the normal rows come first here, in their order.
    src = rev.data[:, rev.feature_names.index("src_bytes")]
    np.testing.assert_array_equal(src[:40], np.arange(40))
    assert np.all(np.diff(src) > 0)


def test_rev_is_reproducible_per_random_state(tmp_path):
    write_kdd(tmp_path, mixed_rows(n_normal=40, n_attack=30))

    def chosen(seed):
        rev = load_kddcup99(tmp_path, download=False, rev=True, random_state=seed)
        return rev.data[:, rev.feature_names.index("src_bytes")]

    np.testing.assert_array_equal(chosen(0), chosen(0))
    np.testing.assert_array_equal(chosen(np.random.RandomState(1)), chosen(1))
    assert any(not np.array_equal(chosen(0), chosen(seed)) for seed in (1, 2, 3))


def test_rev_with_too_few_attacks(tmp_path):
    write_kdd(tmp_path, mixed_rows(n_normal=40, n_attack=3))
    with pytest.raises(DataError, match="needs 10 attack rows .* has only 3"):
        load_kddcup99(tmp_path, download=False, rev=True)


@pytest.mark.parametrize(
    ("argument", "error", "message"),
    [
        ({"rev": "yes"}, TypeError, r"rev must be True or False; got 'yes'"),
        ({"return_X_y": 1}, TypeError, r"return_X_y must be True or False; got 1"),
        ({"rev": True, "random_state": "seed"}, ValueError, r"random_state must be .* got 'seed'"),
    ],
)
def test_bad_arguments_are_named(home, argument, error, message):
    with pytest.raises(error, match=message):
        load_kddcup99(home, download=False, **argument)


def test_truncated_gzip_is_reported(home):
    path = home / FILENAME
    path.write_bytes(path.read_bytes()[:-20])
    with pytest.raises(DataError, match=rf"{FILENAME}.* corrupt"):
        load_kddcup99(home, download=False)


def test_file_that_is_not_gzip(tmp_path):
    (tmp_path / FILENAME).write_text(kdd_row("tcp", "http", "SF", "normal.") + "\n")
    with pytest.raises(DataError, match=rf"{FILENAME}.* corrupt"):
        load_kddcup99(tmp_path, download=False)


@pytest.mark.parametrize(
    ("bad_line", "message"),
    [
        (kdd_row("tcp", "http", "SF", "normal.") + ",extra", r"Expected 42 fields|expected 42"),
        (kdd_row("tcp", "http", "SF", "normal.").replace(",normal.", ","), "row 2 has missing"),
        (
            kdd_row("tcp", "http", "SF", "normal.", src_bytes="12x"),
            "'src_bytes' is continuous but row 2 holds '12x'",
        ),
    ],
)
def test_malformed_rows_are_reported(tmp_path, bad_line, message):
    write_kdd(tmp_path, [kdd_row("tcp", "http", "SF", "normal."), bad_line])
    with pytest.raises(DataError, match=message):
        load_kddcup99(tmp_path, download=False)


def test_wrong_number_of_fields(tmp_path):
    write_kdd(tmp_path, ["1,2,3", "4,5,6"])
    with pytest.raises(DataError, match="expected 42 comma-separated fields per row .* found 3"):
        load_kddcup99(tmp_path, download=False)


def test_missing_file_without_download(tmp_path):
    with pytest.raises(DatasetNotFoundError, match=rf"{FILENAME}.*download=False") as info:
        load_kddcup99(tmp_path / "empty", download=False)
    assert "figshare" in str(info.value)


def test_download_from_a_mirror(tmp_path, file_server, monkeypatch):
    raw = write_kdd(tmp_path / "source", mixed_rows(4, 4)).read_bytes()
    url, sha = file_server.serve(FILENAME, raw)
    monkeypatch.setattr(
        kddcup99, "KDDCUP99_10_PERCENT", RemoteFile(FILENAME, (url,), sha, "http://example.org")
    )
    kdd = load_kddcup99(tmp_path / "home")
    assert kdd.data.shape == (8, 3 + 3 + 2 + N_NUMERIC)
    assert hashlib.sha256((tmp_path / "home" / FILENAME).read_bytes()).hexdigest() == sha
