"""The model registry: every model fits, scores and describes itself."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from sklearn.metrics import roc_auc_score

from dagmm.benchmark import models
from dagmm.benchmark.baselines import AutoencoderDetector, AutoencoderGMMDetector
from dagmm.benchmark.models import MODELS, BenchmarkModel, make_model

FAST_MODELS = ["iforest", "gmm", "ocsvm"]
TORCH_MODELS = ["pae", "pae-gmm", "dagmm", "dagmm-paper", "dagmm-p"]


@pytest.fixture
def split(toy_dataset, toy_data):
    X, y = toy_data
    X_train, X_test, y_test = X[:150][y[:150] == 0], X[150:], y[150:]
    return X_train, X_test, y_test


@pytest.mark.parametrize("name", FAST_MODELS + TORCH_MODELS)
def test_every_model_fits_scores_and_records_a_json_config(split, name):
    X_train, X_test, y_test = split
    model = make_model(name, "toy", seed=0, quick=True)
    assert isinstance(model, BenchmarkModel)
    model.fit(X_train)
    energy = model.energy(X_test)
    assert energy.shape == (X_test.shape[0],) and energy.dtype == np.float64
    assert np.isfinite(energy).all()
    config = model.config
    assert config["model"] == name
    assert config["n_train_rows"] == X_train.shape[0]
    json.dumps(config, allow_nan=False)


@pytest.mark.parametrize("name", FAST_MODELS)
def test_fast_baselines_rank_obvious_anomalies_higher(split, name):
    X_train, X_test, y_test = split
    model = make_model(name, "toy", seed=0)
    energy = model.fit(X_train).energy(X_test)
    assert roc_auc_score(y_test, energy) > 0.9  # anomalies sit 4 sigmas away


def test_gmm_uses_the_presets_component_count(toy_dataset):
    assert make_model("gmm", "toy", seed=3).config["params"]["n_components"] == 2  # thyroid K
    # Baselines keep the paper's K where the tuned DAGMM preset changes it (KDDCUP: 8).
    assert make_model("gmm", "kddcup", seed=0).config["params"]["n_components"] == 4
    assert make_model("gmm", "toy", seed=3).estimator.random_state == 3


def test_ocsvm_subsamples_training_rows_with_the_seed(monkeypatch, split):
    monkeypatch.setattr(models, "OCSVM_MAX_TRAIN_ROWS", 40)
    X_train = split[0]
    first = make_model("ocsvm", "toy", seed=1).fit(X_train)
    again = make_model("ocsvm", "toy", seed=1).fit(X_train)
    assert first.config["n_train_rows"] == 40 and first.config["max_train_rows"] == 40
    np.testing.assert_array_equal(first.energy(X_train), again.energy(X_train))


def test_dagmm_models_use_the_presets_scaling_and_the_protocol_ratio(toy_dataset):
    params = make_model("dagmm", "toy", seed=4).config["params"]
    assert params["normalize"] == "minmax"  # the thyroid preset's, on top of the protocol
    paper = make_model("dagmm-paper", "toy", seed=4).config["params"]
    assert paper["normalize"] is False  # the protocol's scaling only
    assert (paper["epoch_size"], paper["learning_rate"]) == (20_000, 1e-4)
    assert params["random_state"] == 4
    assert params["contamination"] == 0.1
    assert params["preset"] == "thyroid" and params["quick"] is False
    pretrained = make_model("dagmm-p", "toy", seed=4, quick=True).config["params"]
    assert pretrained["pretrain_epochs"] == pretrained["epoch_size"] == 2


def test_unknown_model_suggests_a_name():
    with pytest.raises(ValueError, match="Unknown model 'iforrest'. Did you mean 'iforest'"):
        make_model("iforrest", "thyroid", seed=0)


def test_registry_names():
    assert set(MODELS) >= {
        "dagmm", "dagmm-paper", "dagmm-p", "ocsvm", "iforest", "gmm", "pae", "pae-gmm",
    }  # fmt: skip


# --------------------------------------------------------------------------- #
# autoencoder baselines
# --------------------------------------------------------------------------- #


def test_autoencoder_is_seeded_locally(toy_data):
    X = toy_data[0][:100]
    global_state = torch.get_rng_state()
    first = AutoencoderDetector(hiddens=(4, 1), epochs=3, batch_size=32, device="cpu").fit(X)
    assert torch.equal(torch.get_rng_state(), global_state)  # no global seeding
    torch.manual_seed(123)  # a different global state must not change anything
    again = AutoencoderDetector(hiddens=(4, 1), epochs=3, batch_size=32, device="cpu").fit(X)
    other = AutoencoderDetector(
        hiddens=(4, 1), epochs=3, batch_size=32, device="cpu", random_state=1
    ).fit(X)
    np.testing.assert_array_equal(first.energy(X), again.energy(X))
    assert not np.array_equal(first.energy(X), other.energy(X))


def test_autoencoder_energy_is_squared_reconstruction_error(toy_data):
    X = toy_data[0][:64]
    detector = AutoencoderDetector(hiddens=(3, 1), epochs=2, batch_size=16, device="cpu").fit(X)
    with torch.no_grad():
        _, reconstruction = detector.module_(torch.as_tensor(X, dtype=torch.float32))
    expected = ((reconstruction.double().numpy() - X.astype(np.float32)) ** 2).sum(axis=1)
    np.testing.assert_allclose(detector.energy(X), expected, rtol=1e-5)
    assert len(detector.loss_history_) == 2


def test_autoencoder_training_reduces_the_loss(toy_data):
    X = toy_data[0]
    detector = AutoencoderDetector(
        hiddens=(4, 2), epochs=8, batch_size=64, learning_rate=1e-2, device="cpu"
    ).fit(X)
    assert detector.loss_history_[-1] < 0.8 * detector.loss_history_[0]


def test_autoencoder_gmm_features_are_code_plus_two(toy_data):
    X = toy_data[0][:80]
    detector = AutoencoderGMMDetector(
        n_components=2, hiddens=(4, 1), epochs=2, batch_size=32, device="cpu"
    ).fit(X)
    features = detector.autoencoder.features(X)
    assert features.shape == (80, 3)
    assert np.all(np.abs(features[:, 2]) <= 1.0 + 1e-6)  # cosine similarity
    np.testing.assert_allclose(detector.energy(X), -detector.mixture_.score_samples(features))
    assert detector.mixture_.n_components == 2
