"""Resolution of the data home folder."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from dagmm.datasets import DATA_HOME_ENV, get_data_home


def test_explicit_data_home_wins_over_environment(tmp_path, monkeypatch):
    monkeypatch.setenv(DATA_HOME_ENV, str(tmp_path / "from_env"))
    assert get_data_home(tmp_path / "explicit") == tmp_path / "explicit"
    assert get_data_home(str(tmp_path / "explicit")) == tmp_path / "explicit"


def test_environment_variable_is_used_and_user_expanded(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv(DATA_HOME_ENV, "~/data")
    assert get_data_home() == tmp_path / "data"


def test_folder_is_not_created(tmp_path):
    home = get_data_home(tmp_path / "not" / "yet")
    assert not home.exists()


@pytest.mark.skipif(sys.platform in ("win32", "darwin"), reason="XDG cache folders are Linux's")
@pytest.mark.usefixtures("no_env_data_home")
def test_default_is_the_xdg_cache_folder(monkeypatch, tmp_path):
    monkeypatch.setenv(DATA_HOME_ENV, "")  # empty counts as unset
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert get_data_home() == tmp_path / "cache" / "dagmm"
    # A relative XDG_CACHE_HOME is invalid per the spec: fall back to ~/.cache.
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/cache")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert get_data_home() == Path(tmp_path) / ".cache" / "dagmm"


def test_bad_data_home_type_names_the_parameter():
    with pytest.raises(TypeError, match=r"data_home must be a path .* got 3 \(int\)"):
        get_data_home(3)  # type: ignore[arg-type]
