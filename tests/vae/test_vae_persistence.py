"""VAEDetector saved as a model directory (JSON + safetensors) and pickled."""

from __future__ import annotations

import json
import pickle

import numpy as np
import pytest
import torch

from dagmm import DAGMM, VAEDetector
from dagmm.estimators.vae import SCORES
from dagmm.exceptions import ModelFileError
from dagmm.persistence import model_files


@pytest.fixture(scope="module", params=["gaussian", "bernoulli"])
def fitted(request):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 5)) if request.param == "gaussian" else rng.random((300, 5))
    model = VAEDetector(
        encoder_hiddens=(16, 8),
        latent_dim=3,
        epoch_size=2,
        activation=torch.nn.ELU,
        contamination=0.05,
        random_state=0,
    )
    return model.fit(X), X


def test_round_trip_gives_identical_scores(fitted, tmp_path):
    model, X = fitted
    loaded = VAEDetector.load(model.save(tmp_path / "model"))
    for score in SCORES:
        np.testing.assert_array_equal(loaded.energy(X, score=score), model.energy(X, score=score))
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    np.testing.assert_array_equal(loaded.transform(X), model.transform(X))
    assert loaded.get_params() == {**model.get_params(), "activation": "torch.nn.ELU"}
    for name in ("threshold_", "offset_", "likelihood_", "normalize_", "latent_dim_", "shrinkage_"):
        assert getattr(loaded, name) == getattr(model, name)
    for name in ("location_", "covariance_", "precision_cholesky_", "elbo_noise_"):
        np.testing.assert_array_equal(getattr(loaded, name), getattr(model, name))
    assert loaded.history_ == model.history_


def test_directory_layout_and_config(fitted, tmp_path):
    model, _ = fitted
    path = model.save(tmp_path / "model")
    assert sorted(model_files(path)) == ["fitted", "module"]
    assert sorted(p.name for p in path.iterdir())[:2] == [".lock", "config.json"]
    config = json.loads((path / "config.json").read_text())
    assert config["class"] == "VAEDetector" and config["params"]["contamination"] == 0.05
    assert config["fitted"]["likelihood_"] == model.likelihood_


def test_restore_and_pickle(fitted, tmp_path):
    model, X = fitted
    model.save(tmp_path / "model")
    restored = VAEDetector().restore(tmp_path / "model")
    np.testing.assert_array_equal(restored.mahalanobis(X), model.mahalanobis(X))
    clone = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(clone.energy(X, score="elbo"), model.energy(X, score="elbo"))


def test_a_vae_directory_is_not_a_dagmm_and_vice_versa(fitted, tmp_path):
    model, X = fitted
    path = model.save(tmp_path / "vae")
    with pytest.raises(ModelFileError, match="holds a 'VAEDetector' model"):
        DAGMM.load(path)
    dagmm = DAGMM(comp_hiddens=(4, 1), est_hiddens=(4, 2), epoch_size=1, random_state=0).fit(X)
    with pytest.raises(ModelFileError, match="holds a 'DAGMM' model"):
        VAEDetector.load(dagmm.save(tmp_path / "dagmm"))


def test_damaged_fitted_arrays_are_reported(fitted, tmp_path):
    model, _ = fitted
    path = model.save(tmp_path / "model")
    config = json.loads((path / "config.json").read_text())
    del config["fitted"]["likelihood_"]
    (path / "config.json").write_text(json.dumps(config))
    with pytest.raises(ModelFileError, match="does not describe a loadable VAEDetector"):
        VAEDetector.load(path)
