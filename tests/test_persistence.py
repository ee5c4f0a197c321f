"""Saving and loading: round trips, no pickle, damaged directories, atomicity."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch

from dagmm import DAGMM
from dagmm.exceptions import ModelFileError
from dagmm.persistence import model_dir

SMALL = dict(comp_hiddens=(8, 4, 1), est_hiddens=(8, 3), minibatch_size=128, random_state=0)


@pytest.fixture(scope="module")
def fitted():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 5))
    return DAGMM(**SMALL, epoch_size=2, comp_activation=torch.nn.ReLU).fit(X), X


def test_round_trip_gives_identical_energies(fitted, tmp_path):
    model, X = fitted
    path = model.save(tmp_path / "model")
    loaded = DAGMM.load(path)
    np.testing.assert_array_equal(loaded.energy(X), model.energy(X))
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    assert loaded.get_params() == {**model.get_params(), "comp_activation": "torch.nn.ReLU"}
    assert loaded.threshold_ == model.threshold_
    np.testing.assert_array_equal(loaded.covariances_, model.covariances_)
    assert loaded.history_ == model.history_


def test_restore_into_instance(fitted, tmp_path):
    model, X = fitted
    model.save(tmp_path / "model")
    restored = DAGMM().restore(tmp_path / "model")
    np.testing.assert_array_equal(restored.energy(X), model.energy(X))


def test_directory_contains_only_json_and_safetensors(fitted, tmp_path):
    model, _ = fitted
    path = model.save(tmp_path / "model")
    names = sorted(p.name for p in path.iterdir())
    assert names[:2] == [".lock", "config.json"] and len(names) == 3
    assert names[2].startswith("data-")
    assert {group: file.name for group, file in model_dir.model_files(path).items()} == {
        "fitted": "fitted.safetensors", "module": "module.safetensors",
    }
    assert sorted(p.name for p in (path / names[2]).iterdir()) == [
        "fitted.safetensors", "module.safetensors",
    ]
    config = json.loads((path / "config.json").read_text())
    assert config["format"] == "dagmm-model" and config["class"] == "DAGMM"
    assert config["torch_version"] == torch.__version__ and "dagmm_version" in config


def test_load_never_unpickles(fitted, tmp_path, monkeypatch):
    model, X = fitted
    path = model.save(tmp_path / "model")

    def refuse(*args, **kwargs):
        raise AssertionError("something was unpickled")

    monkeypatch.setattr(pickle, "load", refuse)
    monkeypatch.setattr(pickle, "loads", refuse)
    monkeypatch.setattr(pickle, "Unpickler", refuse)
    monkeypatch.setattr(torch, "load", refuse)
    DAGMM.load(path).energy(X)


def test_model_saved_on_cuda_loads_on_cpu(fitted, tmp_path):
    # The saved device parameter asks for CUDA; on a machine without it the model
    # loads on the CPU with a warning (on a CUDA machine it loads on CUDA).
    model, X = fitted
    path = model.save(tmp_path / "model")
    config = json.loads((path / "config.json").read_text())
    config["params"]["device"] = "cuda"
    (path / "config.json").write_text(json.dumps(config))
    if torch.cuda.is_available():
        loaded = DAGMM.load(path)
        assert loaded.device_.type == "cuda"
    else:
        with pytest.warns(UserWarning, match="loaded on the CPU"):
            loaded = DAGMM.load(path)
        assert loaded.device_.type == "cpu"
    np.testing.assert_allclose(loaded.energy(X), model.energy(X), rtol=1e-5)
    assert DAGMM.load(path, device="cpu").device_.type == "cpu"


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_fit_on_cuda_save_and_load_on_cpu(tmp_path):
    X = np.random.default_rng(0).normal(size=(300, 4))
    model = DAGMM(**SMALL, epoch_size=2, device="cuda").fit(X)
    loaded = DAGMM.load(model.save(tmp_path / "m"), device="cpu")
    np.testing.assert_allclose(loaded.energy(X), model.energy(X), rtol=1e-4)


def test_pickle_round_trip(fitted):
    model, X = fitted
    clone = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(clone.energy(X), model.energy(X))


@pytest.mark.parametrize(
    "damage, match",
    [
        (lambda p: (p / "config.json").unlink(), "'config.json' is missing"),
        (lambda p: (p / "config.json").write_text("{not json"), "not valid JSON"),
        (lambda p: (p / "config.json").write_text('{"format": "other"}'), "not a dagmm model config"),
        (lambda p: model_dir.model_files(p)["module"].unlink(), "module.safetensors' is missing"),
        (lambda p: _truncate(model_dir.model_files(p)["fitted"]), "fitted.safetensors' is damaged or truncated"),
        (lambda p: _edit(p, format_version=99), "format 99.*upgrade dagmm"),
        (lambda p: _edit(p, **{"class": "VAEDetector"}), "holds a 'VAEDetector' model"),
        (lambda p: _edit(p, params={"comp_hiddens": "x"}), "does not describe a loadable DAGMM"),
    ],
)
def test_damaged_directory_raises_value_error_naming_file(fitted, tmp_path, damage, match):
    model, _ = fitted
    path = model.save(tmp_path / "model")
    damage(path)
    with pytest.raises(ModelFileError, match=match) as info:
        DAGMM.load(path)
    assert isinstance(info.value, ValueError)


def test_foreign_safetensors_with_matching_checksum(fitted, tmp_path):
    # A consistent but foreign weights file (wrong shapes) is reported, not half-loaded.
    model, _ = fitted
    path = model.save(tmp_path / "model")
    from safetensors.numpy import save_file

    module_file = model_dir.model_files(path)["module"]
    save_file({"foo": np.zeros(3, dtype=np.float32)}, str(module_file))
    _edit(path, files={**_config(path)["files"],
                       "module.safetensors": model_dir._sha256(module_file)})
    with pytest.raises(ModelFileError, match="does not describe a loadable DAGMM.*do not match the stored weights"):
        DAGMM.load(path)


def test_missing_directory(tmp_path):
    with pytest.raises(ModelFileError, match="no such directory"):
        DAGMM.load(tmp_path / "nope")


def test_failed_save_leaves_nothing_behind(fitted, tmp_path, monkeypatch):
    model, _ = fitted

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(model_dir, "save_file", boom)
    with pytest.raises(ModelFileError, match="cannot save model to .*disk full"):
        model.save(tmp_path / "model")
    assert list(tmp_path.iterdir()) == []


def test_failed_overwrite_keeps_previous_model(fitted, tmp_path, monkeypatch):
    model, X = fitted
    path = model.save(tmp_path / "model")
    before = DAGMM.load(path).energy(X)
    monkeypatch.setattr(model_dir, "save_file", lambda *a, **k: (_ for _ in ()).throw(OSError("x")))
    with pytest.raises(ModelFileError):
        model.save(path)
    np.testing.assert_array_equal(DAGMM.load(path).energy(X), before)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]


def test_refuses_to_overwrite_foreign_directory(fitted, tmp_path):
    model, _ = fitted
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "notes.txt").write_text("keep me")
    with pytest.raises(ModelFileError, match="holds other files .*notes.txt.* and no dagmm model"):
        model.save(tmp_path / "docs")
    assert sorted(p.name for p in (tmp_path / "docs").iterdir()) == ["notes.txt"]
    assert (tmp_path / "docs" / "notes.txt").read_text() == "keep me"
    model.save(tmp_path / "m")
    with pytest.raises(ModelFileError, match="overwrite=False"):
        model.save(tmp_path / "m", overwrite=False)


def test_custom_activation_cannot_be_saved(tmp_path):
    X = np.random.default_rng(0).normal(size=(100, 3))
    model = DAGMM(**SMALL, epoch_size=1, comp_activation=lambda t: t.clamp(-1, 1)).fit(X)
    with pytest.raises(ValueError, match="custom activation"):
        model.save(tmp_path / "m")
    assert not (tmp_path / "m").exists()


def _config(path: Path) -> dict:
    return json.loads((path / "config.json").read_text())


def _edit(path: Path, **changes) -> None:
    config = _config(path)
    config.update(changes)
    (path / "config.json").write_text(json.dumps(config))


def _truncate(file: Path) -> None:
    data = file.read_bytes()
    file.write_bytes(data[: len(data) // 2])


def test_reconstruction_features_survive_save_and_load(tmp_path):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(300, 6))
    features = ("euclidean", "relative")
    model = DAGMM(**SMALL, epoch_size=2, reconstruction_features=features).fit(X)
    assert model.transform(X).shape == (300, 1 + 2)
    assert list(model.get_feature_names_out()) == ["latent0", "euclidean_distance", "relative_distance"]
    loaded = DAGMM.load(model.save(tmp_path / "model"))
    assert tuple(loaded.reconstruction_features) == features
    np.testing.assert_array_equal(loaded.energy(X), model.energy(X))
