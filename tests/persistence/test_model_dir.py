"""The model directory's writer and reader on their own, without an estimator.

Saving over a model with other files in it, interrupted and concurrent saves,
leftovers of killed writers, format-1 directories and tampered values are in
test_model_dir_reliability.py beside this file; the estimators' side of loading
in tests/estimators/test_detector_contract.py.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
import torch

import dagmm
from dagmm.exceptions import ModelFileError
from dagmm.persistence import (
    CONFIG_FILE,
    FORMAT_NAME,
    FORMAT_VERSION,
    model_dir,
    model_files,
    read_model_dir,
    write_model_dir,
)
from dagmm.persistence.model_dir import is_model_dir


def _groups(scale: float = 1.0) -> dict[str, dict[str, np.ndarray]]:
    rng = np.random.default_rng(0)
    return {
        "fitted": {
            "means": scale * rng.normal(size=(3, 4)),  # float64
            "order": np.arange(5, dtype=np.int64),
            "mask": np.array([True, False, True]),
        },
        "module": {
            "layer.weight": (scale * rng.normal(size=(4, 6))).astype(np.float32).T,  # not contiguous
            "layer.bias": np.zeros(6, dtype=np.float32),
        },
    }


CONFIG = {"class": "Thing", "params": {"width": 4}, "fitted": {"threshold_": 1.5}}


def _config(path: Path) -> dict:
    return json.loads((path / CONFIG_FILE).read_text())


def _data_folders(path: Path) -> list[str]:
    return sorted(entry.name for entry in path.iterdir() if entry.name.startswith("data-"))


# ----------------------------------------------------------------- round trip
def test_written_arrays_and_config_read_back_exactly(tmp_path):
    groups = _groups()
    path = write_model_dir(tmp_path / "model", CONFIG, groups)
    assert path == tmp_path / "model"
    config, read = read_model_dir(path, expected_class="Thing")
    assert {key: config[key] for key in CONFIG} == CONFIG
    assert set(read) == set(groups)
    for group, arrays in groups.items():
        assert set(read[group]) == set(arrays)
        for name, array in arrays.items():
            assert read[group][name].dtype == array.dtype
            np.testing.assert_array_equal(read[group][name], array)


def test_the_header_records_format_versions_and_checksums(tmp_path):
    path = write_model_dir(tmp_path / "model", CONFIG, _groups())
    config = _config(path)
    assert config["format"] == FORMAT_NAME and config["format_version"] == FORMAT_VERSION
    assert config["dagmm_version"] == dagmm.__version__
    assert config["torch_version"] == torch.__version__
    assert config["numpy_version"] == np.__version__
    assert datetime.fromisoformat(config["saved_at"]).tzinfo is not None
    assert re.fullmatch(r"data-[0-9a-f]{16}", config["data"])
    files = model_files(path)
    assert files == {
        "fitted": path / config["data"] / "fitted.safetensors",
        "module": path / config["data"] / "module.safetensors",
    }
    for file in files.values():
        assert config["files"][file.name] == hashlib.sha256(file.read_bytes()).hexdigest()


def test_a_config_that_json_cannot_hold_leaves_nothing_behind(tmp_path):
    with pytest.raises(ValueError, match="Out of range float values are not JSON compliant"):
        write_model_dir(tmp_path / "model", {**CONFIG, "fitted": {"x": float("nan")}}, _groups())
    assert list(tmp_path.iterdir()) == []


def test_reading_any_class_or_the_expected_one(tmp_path):
    path = write_model_dir(tmp_path / "model", CONFIG, _groups())
    assert read_model_dir(path)[0]["class"] == "Thing"
    with pytest.raises(
        ModelFileError,
        match=r"holds a 'Thing' model, not a 'Other'; load it with dagmm\.Thing\.load",
    ):
        read_model_dir(path, expected_class="Other")


# ------------------------------------------------------------------ the writer
def test_each_save_keeps_only_the_current_and_the_previous_data_folder(tmp_path):
    path = tmp_path / "model"
    seen = []
    for scale in (1.0, 2.0, 3.0):
        write_model_dir(path, CONFIG, _groups(scale))
        seen.append(_config(path)["data"])
    assert len(set(seen)) == 3
    assert _data_folders(path) == sorted(seen[1:])  # the previous one, for readers still on it
    np.testing.assert_array_equal(
        read_model_dir(path)[1]["fitted"]["means"], _groups(3.0)["fitted"]["means"]
    )


def test_overwrite_false_refuses_an_existing_model_only(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    write_model_dir(empty, CONFIG, _groups(), overwrite=False)  # an empty folder is fine
    with pytest.raises(ModelFileError, match="a model is already there and overwrite=False"):
        write_model_dir(empty, CONFIG, _groups(2.0), overwrite=False)
    np.testing.assert_array_equal(
        read_model_dir(empty)[1]["fitted"]["means"], _groups()["fitted"]["means"]
    )


def test_a_file_in_the_way_is_refused(tmp_path):
    (tmp_path / "model").write_text("notes")
    with pytest.raises(ModelFileError, match="a file with that name exists"):
        write_model_dir(tmp_path / "model", CONFIG, _groups())
    assert (tmp_path / "model").read_text() == "notes"


def test_a_folder_of_other_files_is_refused_and_left_as_it_was(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    for name in ("a.txt", "b.txt", "c.txt", "d.txt"):
        (docs / name).write_text("keep me")
    with pytest.raises(
        ModelFileError,
        match=r"holds other files \(a\.txt, b\.txt, c\.txt, \.\.\.\) and no dagmm model; "
        "choose another path or empty it",
    ):
        write_model_dir(docs, CONFIG, _groups())
    assert sorted(p.name for p in docs.iterdir()) == ["a.txt", "b.txt", "c.txt", "d.txt"]


def test_a_folder_with_an_unreadable_config_is_not_replaced(tmp_path):
    path = tmp_path / "model"
    path.mkdir()
    (path / CONFIG_FILE).write_text('{"format": "something else"}')
    with pytest.raises(ModelFileError, match="its config.json is not a readable dagmm model config"):
        write_model_dir(path, CONFIG, _groups())
    assert (path / CONFIG_FILE).read_text() == '{"format": "something else"}'
    assert _data_folders(path) == []


def test_a_failed_first_save_leaves_nothing(tmp_path, monkeypatch):
    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(model_dir, "save_file", disk_full)
    with pytest.raises(
        ModelFileError,
        match=r"cannot save model to '.*model': No space left on device; check the path, "
        "the permissions and the free space",
    ):
        write_model_dir(tmp_path / "model", CONFIG, _groups())
    assert list(tmp_path.iterdir()) == []


def test_a_failed_overwrite_keeps_the_previous_model(tmp_path, monkeypatch):
    path = write_model_dir(tmp_path / "model", CONFIG, _groups())
    before = (path / CONFIG_FILE).read_bytes()
    monkeypatch.setattr(model_dir, "save_file", lambda *a, **k: (_ for _ in ()).throw(OSError("x")))
    with pytest.raises(ModelFileError, match="cannot save model to"):
        write_model_dir(path, CONFIG, _groups(2.0))
    assert (path / CONFIG_FILE).read_bytes() == before
    assert _data_folders(path) == [_config(path)["data"]]
    np.testing.assert_array_equal(
        read_model_dir(path)[1]["fitted"]["means"], _groups()["fitted"]["means"]
    )


def test_is_model_dir_tells_a_model_or_our_files_from_other_folders(tmp_path):
    path = write_model_dir(tmp_path / "model", CONFIG, _groups())
    (path / "NOTES.md").write_text("a model folder may hold notes")
    assert is_model_dir(path)
    empty = tmp_path / "empty"
    empty.mkdir()
    assert is_model_dir(empty)
    (empty / ".lock").touch()  # left by a save that failed before writing anything
    assert is_model_dir(empty)
    (empty / "data.csv").write_text("a\n1\n")
    assert not is_model_dir(empty)


# ------------------------------------------------------------------ the reader
def test_a_missing_path_or_a_file_is_named(tmp_path):
    with pytest.raises(ModelFileError, match=r"'.*nope' is not a model directory: no such directory"):
        read_model_dir(tmp_path / "nope")
    (tmp_path / "file").write_text("x")
    with pytest.raises(ModelFileError, match=r"'.*file' is a file, not a model directory"):
        read_model_dir(tmp_path / "file")
    (tmp_path / "folder").mkdir()
    with pytest.raises(ModelFileError, match=r"'.*folder' is not a dagmm model directory: "
                       r"'config.json' is missing"):
        read_model_dir(tmp_path / "folder")


def _edit(**changes):
    def edit(path: Path) -> None:
        (path / CONFIG_FILE).write_text(json.dumps({**_config(path), **changes}))

    return edit


def _files(**entries):
    def edit(path: Path) -> None:
        config = _config(path)
        config["files"] = {**config["files"], **entries}
        (path / CONFIG_FILE).write_text(json.dumps(config))

    return edit


def _write_bytes(data: bytes):
    return lambda path: (path / CONFIG_FILE).write_bytes(data)


GOOD_SUM = "0" * 64


@pytest.mark.parametrize(
    "damage, match",
    [
        (_write_bytes(b'{"format": "dagmm-model", \xff}'), "is damaged: not UTF-8 text"),
        (_write_bytes(b"[1, 2]"), 'is not a dagmm model config: expected "format": "dagmm-model"'),
        (_edit(format_version=0), "has an invalid format_version 0"),
        (_edit(format_version="2"), "has an invalid format_version '2'"),
        (_edit(format_version=True), "has an invalid format_version True"),
        (_edit(format_version=FORMAT_VERSION + 1, dagmm_version="9.9"),
         rf"was written in model format {FORMAT_VERSION + 1} by dagmm 9\.9; this dagmm .* "
         rf"reads format {FORMAT_VERSION} and older: upgrade dagmm"),
        (_edit(files={}), "is damaged: the 'files' table is missing"),
        (_files(**{"../escape.safetensors": GOOD_SUM}), "lists an unexpected file '../escape"),
        (_files(**{"weights.bin": GOOD_SUM}), "lists an unexpected file 'weights.bin'"),
        (_files(**{".hidden.safetensors": GOOD_SUM}), "lists an unexpected file '.hidden"),
        (_files(**{"extra.safetensors": "abc"}), "has an invalid checksum for 'extra.safetensors'"),
        (_edit(data="../elsewhere"), "has an invalid data folder '../elsewhere'"),
        (_edit(data=None), "has an invalid data folder None"),
        (_edit(**{"class": 3}), "is damaged: 'class' must be a JSON string, got int"),
        (_edit(history=[]), "is damaged: 'history' must be a JSON object, got list"),
    ],
    ids=["not-utf8", "not-an-object", "version-0", "version-str", "version-bool", "newer",
         "no-files", "escaping-name", "other-suffix", "hidden-name", "bad-checksum",
         "escaping-data", "no-data", "class-int", "history-list"],
)
def test_a_damaged_config_is_a_model_file_error_naming_it(tmp_path, damage, match):
    path = write_model_dir(tmp_path / "model", CONFIG, _groups())
    damage(path)
    with pytest.raises(ModelFileError, match=match) as info:
        read_model_dir(path)
    assert str(path / CONFIG_FILE) in str(info.value)


def test_an_oversized_config_is_refused_before_parsing(tmp_path, monkeypatch):
    path = write_model_dir(tmp_path / "model", CONFIG, _groups())
    monkeypatch.setattr(model_dir, "MAX_CONFIG_BYTES", 100)
    with pytest.raises(ModelFileError, match=r"config.json' is larger than 0 MB; not a dagmm config"):
        read_model_dir(path)


def test_an_array_file_that_is_not_safetensors_is_named(tmp_path):
    path = write_model_dir(tmp_path / "model", CONFIG, _groups())
    file = model_files(path)["fitted"]
    file.write_bytes(b"not safetensors at all")
    _files(**{file.name: hashlib.sha256(file.read_bytes()).hexdigest()})(path)
    with pytest.raises(ModelFileError, match=rf"'{re.escape(str(file))}' is not a readable "
                       "safetensors file"):
        read_model_dir(path)


def test_a_changed_array_file_is_named_as_damaged(tmp_path):
    path = write_model_dir(tmp_path / "model", CONFIG, _groups())
    file = model_files(path)["module"]
    data = bytearray(file.read_bytes())
    data[-1] ^= 1  # one flipped bit, same length
    file.write_bytes(bytes(data))
    with pytest.raises(ModelFileError, match=rf"'{re.escape(str(file))}' is damaged or truncated: "
                       "its sha256 does not match config.json"):
        read_model_dir(path)


def test_a_read_that_loses_its_files_to_two_saves_starts_again(tmp_path, monkeypatch):
    # Between reading config.json and the array files, two saves replace the model:
    # the files the first config named are gone, and the reader reads the newest model.
    path = write_model_dir(tmp_path / "model", CONFIG, _groups())
    original = model_dir._read_config_bytes
    saves = iter([2.0])

    def config_then_two_saves(config_path):
        data = original(config_path)
        scale = next(saves, None)
        if scale is not None:
            write_model_dir(path, CONFIG, _groups(scale))
            write_model_dir(path, CONFIG, _groups(scale + 1))
        return data

    monkeypatch.setattr(model_dir, "_read_config_bytes", config_then_two_saves)
    _, groups = read_model_dir(path)
    np.testing.assert_array_equal(groups["fitted"]["means"], _groups(3.0)["fitted"]["means"])


def test_a_model_replaced_on_every_attempt_gives_up_clearly(tmp_path, monkeypatch):
    path = write_model_dir(tmp_path / "model", CONFIG, _groups())

    def always_replaced(root, expected_class):
        raise model_dir._Replaced

    monkeypatch.setattr(model_dir, "_read_once", always_replaced)
    monkeypatch.setattr(model_dir.time, "sleep", lambda seconds: None)
    with pytest.raises(ModelFileError, match=rf"was replaced {model_dir.READ_ATTEMPTS} times "
                       "while being read; try again when nothing is saving to it"):
        read_model_dir(path)


def test_a_missing_array_file_is_named(tmp_path):
    path = write_model_dir(tmp_path / "model", CONFIG, _groups())
    file = model_files(path)["module"]
    file.unlink()
    with pytest.raises(ModelFileError, match=rf"'{re.escape(str(file))}' is missing from the "
                       "model directory"):
        read_model_dir(path)
