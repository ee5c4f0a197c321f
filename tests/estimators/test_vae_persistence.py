"""What VAEDetector adds to saving: its scores, latent Gaussian and likelihoods survive."""

from __future__ import annotations

import json
import pickle

import numpy as np
import pytest
import torch

from dagmm import VAEDetector
from dagmm.estimators.vae import SCORES
from dagmm.exceptions import ModelFileError


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


def test_round_trip_keeps_every_score_and_the_latent_gaussian(fitted, tmp_path):
    # Both likelihoods (the Bernoulli decoder has no variance head) and every score,
    # saved and pickled; the shared round trip is in test_detector_contract.py.
    model, X = fitted
    path = model.save(tmp_path / "model")
    loaded = VAEDetector.load(path)
    unpickled = pickle.loads(pickle.dumps(model))
    for copy in (loaded, unpickled):
        for score in SCORES:
            np.testing.assert_array_equal(copy.energy(X, score=score), model.energy(X, score=score))
        for name in ("likelihood_", "normalize_", "latent_dim_", "shrinkage_"):
            assert getattr(copy, name) == getattr(model, name)
        for name in ("location_", "covariance_", "precision_cholesky_", "elbo_noise_"):
            np.testing.assert_array_equal(getattr(copy, name), getattr(model, name))
    assert loaded.get_params() == {**model.get_params(), "activation": "torch.nn.ELU"}
    config = json.loads((path / "config.json").read_text())
    assert config["params"]["contamination"] == 0.05
    assert config["fitted"]["likelihood_"] == model.likelihood_


def test_damaged_fitted_arrays_are_reported(fitted, tmp_path):
    model, _ = fitted
    path = model.save(tmp_path / "model")
    config = json.loads((path / "config.json").read_text())
    del config["fitted"]["likelihood_"]
    (path / "config.json").write_text(json.dumps(config))
    with pytest.raises(ModelFileError, match="does not describe a loadable VAEDetector"):
        VAEDetector.load(path)
