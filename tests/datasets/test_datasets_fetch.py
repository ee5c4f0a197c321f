"""Finding, downloading (SHA-256 checked, atomic) and failing to find data files."""

from __future__ import annotations

import hashlib

import pytest

from dagmm.datasets._base import RemoteFile, fetch_file
from dagmm.exceptions import DataError, DatasetNotFoundError

CONTENT = b"some data set bytes\n" * 100
SHA = hashlib.sha256(CONTENT).hexdigest()
HOMEPAGE = "https://example.org/get-it-here"


def remote(urls, sha256=SHA, filename="data.bin"):
    return RemoteFile(filename=filename, urls=tuple(urls), sha256=sha256, homepage=HOMEPAGE)


def leftovers(folder):
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_user_file_is_used_as_is_without_digest_check(tmp_path, offline_url):
    home = tmp_path / "home"
    home.mkdir()
    (home / "data.bin").write_bytes(b"a different mirror's bytes")
    path = fetch_file(remote([offline_url], sha256="0" * 64), home, download=True)
    assert path == home / "data.bin"
    assert path.read_bytes() == b"a different mirror's bytes"


def test_download_writes_the_file_once(tmp_path, file_server):
    url, sha = file_server.serve("data.bin", CONTENT)
    home = tmp_path / "home" / "nested"  # created on demand
    path = fetch_file(remote([url], sha), home)
    assert path == home / "data.bin"
    assert path.read_bytes() == CONTENT
    assert leftovers(home) == ["data.bin"]  # no temporary file left behind
    fetch_file(remote([url], sha), home)
    assert file_server.requests == ["/data.bin"]  # second call used the cached file


def test_sha256_mismatch_is_reported_and_discarded(tmp_path, file_server):
    url, sha = file_server.serve("data.bin", CONTENT)
    home = tmp_path / "home"
    wrong = "f" * 64
    with pytest.raises(DatasetNotFoundError, match="sha256 mismatch") as info:
        fetch_file(remote([url], wrong), home)
    assert wrong in str(info.value) and sha in str(info.value)
    assert leftovers(home) == []


def test_falls_back_to_the_next_mirror(tmp_path, file_server):
    url, sha = file_server.serve("data.bin", CONTENT)
    dead = f"{file_server.base_url}/gone/data.bin"
    path = fetch_file(remote([dead, url], sha), tmp_path / "home")
    assert path.read_bytes() == CONTENT
    assert file_server.requests == ["/gone/data.bin", "/data.bin"]


def test_interrupted_download_leaves_nothing(tmp_path, file_server):
    home = tmp_path / "home"
    with pytest.raises(DatasetNotFoundError, match="data.bin") as info:
        fetch_file(remote([f"{file_server.base_url}/truncated/data.bin"], None), home)
    assert "truncated/data.bin" in str(info.value)
    assert leftovers(home) == []


def test_offline_message_names_file_folder_url_and_remedy(tmp_path, offline_url):
    home = tmp_path / "home"
    with pytest.raises(DatasetNotFoundError) as info:
        fetch_file(remote([offline_url]), home)
    message = str(info.value)
    for expected in ("'data.bin'", str(home), offline_url, "cannot connect", HOMEPAGE, "put it"):
        assert expected in message
    assert isinstance(info.value, FileNotFoundError)
    assert leftovers(home) == []


def test_download_false_does_not_connect(tmp_path, file_server):
    url, sha = file_server.serve("data.bin", CONTENT)
    home = tmp_path / "home"
    with pytest.raises(DatasetNotFoundError, match="download=False") as info:
        fetch_file(remote([url], sha), home, download=False)
    assert url in str(info.value) and str(home / "data.bin") in str(info.value)
    assert file_server.requests == []


def test_no_public_address(tmp_path):
    with pytest.raises(DatasetNotFoundError, match="no public download address"):
        fetch_file(remote([]), tmp_path, download=True)


def test_unknown_digest_download_is_validated_by_parsing(tmp_path, file_server):
    url, _ = file_server.serve("data.bin", CONTENT)
    home = tmp_path / "home"

    def reject(path):
        raise DataError(f"{path.name} does not parse")

    with pytest.raises(DatasetNotFoundError, match="does not parse"):
        fetch_file(remote([url], None), home, validate=reject)
    assert leftovers(home) == []

    checked = []
    path = fetch_file(remote([url], None), home, validate=checked.append)
    assert path.read_bytes() == CONTENT and len(checked) == 1


def test_download_must_be_a_bool(tmp_path):
    with pytest.raises(TypeError, match=r"download must be True or False; got 'yes' \(str\)"):
        fetch_file(remote([]), tmp_path, download="yes")  # type: ignore[arg-type]
