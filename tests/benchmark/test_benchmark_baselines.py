"""The baselines train with the library's TrainingLoop, exactly as their own loop did."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dagmm.benchmark.baselines import AutoencoderDetector, AutoencoderGMMDetector
from dagmm.exceptions import TrainingDivergedError
from dagmm.nn import CompressionNetwork, resolve_activation


def reference_energy(X: np.ndarray, X_test: np.ndarray, **params) -> np.ndarray:
    """The PAE as the benchmark trained it before it used TrainingLoop (plain Adam loop)."""
    data = torch.as_tensor(X, dtype=torch.float32)
    shuffler = torch.Generator().manual_seed(params["random_state"])
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(params["random_state"])
        module = CompressionNetwork(
            data.shape[1], tuple(params["hiddens"]), resolve_activation(params["activation"])
        )
    optimizer = torch.optim.Adam(module.parameters(), lr=params["learning_rate"])
    module.train()
    for _ in range(params["epochs"]):
        order = torch.randperm(data.shape[0], generator=shuffler)
        for start in range(0, data.shape[0], params["batch_size"]):
            batch = data[order[start : start + params["batch_size"]]]
            _, reconstruction = module(batch)
            loss = (reconstruction - batch).square().sum(dim=1).mean()
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    module.eval()
    with torch.no_grad():
        test = torch.as_tensor(X_test, dtype=torch.float32)
        _, reconstruction = module(test)
        return (reconstruction - test).square().sum(dim=1).double().numpy()


PARAMS = {
    "hiddens": (6, 2),
    "activation": "tanh",
    "epochs": 4,
    "batch_size": 32,  # 100 rows: a ragged last batch every epoch
    "learning_rate": 1e-3,
    "random_state": 3,
}


def test_pae_energies_equal_the_hand_written_loop():
    rng = np.random.default_rng(0)
    X, X_test = rng.normal(size=(100, 8)), rng.normal(size=(40, 8))
    detector = AutoencoderDetector(**PARAMS, device="cpu").fit(X)
    np.testing.assert_array_equal(detector.energy(X_test), reference_energy(X, X_test, **PARAMS))
    assert len(detector.loss_history_) == PARAMS["epochs"]
    assert detector.loss_history_[-1] < detector.loss_history_[0]


def test_pae_gmm_uses_the_same_autoencoder():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(100, 8))
    pae = AutoencoderDetector(**PARAMS, device="cpu").fit(X)
    pae_gmm = AutoencoderGMMDetector(n_components=2, **PARAMS, device="cpu").fit(X)
    np.testing.assert_array_equal(pae_gmm.autoencoder.energy(X), pae.energy(X))


def test_divergence_names_the_baseline_and_the_remedy():
    X = np.full((64, 4), 1e38)  # the squared error overflows float32
    with pytest.raises(TrainingDivergedError, match="AutoencoderDetector: lower learning_rate"):
        AutoencoderDetector(**PARAMS, device="cpu").fit(X)


def test_device_is_resolved_like_the_estimators():
    with pytest.raises(ValueError, match="device='gpu' is not a valid torch device"):
        AutoencoderDetector(**PARAMS, device="gpu").fit(np.zeros((8, 8)))
