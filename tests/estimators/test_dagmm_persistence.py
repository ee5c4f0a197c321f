"""What DAGMM adds to saving: activation classes by name, reconstruction features.

The round trip, restore, layout, damaged directories and device moves every
detector shares are in test_detector_contract.py; the model directory's reader
and writer themselves in tests/persistence/test_model_dir.py.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dagmm import DAGMM

SMALL = dict(comp_hiddens=(8, 4, 1), est_hiddens=(8, 3), minibatch_size=128, random_state=0)


def test_activation_classes_are_saved_by_name(tmp_path):
    X = np.random.default_rng(0).normal(size=(200, 5))
    model = DAGMM(**SMALL, epoch_size=1, comp_activation=torch.nn.ReLU).fit(X)
    loaded = DAGMM.load(model.save(tmp_path / "model"))
    assert loaded.get_params() == {**model.get_params(), "comp_activation": "torch.nn.ReLU"}
    np.testing.assert_array_equal(loaded.energy(X), model.energy(X))


def test_custom_activation_cannot_be_saved(tmp_path):
    X = np.random.default_rng(0).normal(size=(100, 3))
    model = DAGMM(**SMALL, epoch_size=1, comp_activation=lambda t: t.clamp(-1, 1)).fit(X)
    with pytest.raises(ValueError, match="custom activation"):
        model.save(tmp_path / "m")
    assert not (tmp_path / "m").exists()


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
