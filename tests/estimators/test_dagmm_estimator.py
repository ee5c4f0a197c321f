"""Behaviour of the DAGMM estimator only: training, the frozen mixture, restarts, its parameters.

What every detector shares (shapes, seeds, subset scoring, bad input, saving) is tested
once for all of them in test_detector_contract.py.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from sklearn.metrics import roc_auc_score
from sklearn.mixture import GaussianMixture

from dagmm import DAGMM
from dagmm.estimators.dagmm import (
    default_comp_hiddens,
    default_minibatch_size,
    fit_mixture_by_bic,
)
from dagmm.exceptions import TrainingDivergedError

SMALL = dict(comp_hiddens=(8, 4, 1), est_hiddens=(8, 3), minibatch_size=128, random_state=0)


def test_training_moves_weights_and_lowers_loss(blobs_with_outliers):
    # Guards against a loss detached from the graph (a bug of a public port).
    X_train, _, _ = blobs_with_outliers
    model = DAGMM(**SMALL, epoch_size=1).fit(X_train)
    before = {k: v.clone() for k, v in model.module_.state_dict().items()}
    model = DAGMM(**SMALL, epoch_size=30, learning_rate=1e-3).fit(X_train)
    after = model.module_.state_dict()
    assert all(not torch.equal(before[k], after[k]) for k in before)
    losses = model.history_["loss"]
    assert len(losses) == 30 and losses[-1] < losses[0]
    assert set(model.history_) >= {"loss", "reconstruction", "energy", "cov_penalty"}


def test_roc_auc_floor_on_synthetic_mixture(blobs_with_outliers):
    X_train, X_test, y_test = blobs_with_outliers
    model = DAGMM(**{**SMALL, "comp_hiddens": (12, 6, 2)}, epoch_size=60, learning_rate=1e-3)
    energy = model.fit(X_train).energy(X_test)
    assert roc_auc_score(y_test, energy) > 0.9


def test_scoring_uses_frozen_gmm_and_eval_mode(blobs_with_outliers):
    # Energies equal an independent GaussianMixture with the fitted parameters,
    # applied to transform(X): the frozen whole-training-set GMM, no dropout.
    X_train, X_test, _ = blobs_with_outliers
    model = DAGMM(**SMALL, epoch_size=3).fit(X_train)
    gm = GaussianMixture(n_components=3, covariance_type="full")
    gm.weights_, gm.means_, gm.covariances_ = model.weights_, model.means_, model.covariances_
    gm.precisions_cholesky_ = np.linalg.cholesky(np.linalg.inv(model.covariances_))
    z = model.transform(X_test)
    np.testing.assert_allclose(model.energy(X_test), -gm.score_samples(z), rtol=1e-6, atol=1e-9)
    np.testing.assert_array_equal(model.energy(X_test), model.energy(X_test))


def test_fitted_mixture_is_the_whole_training_set_estimate(blobs_with_outliers):
    X_train, _, _ = blobs_with_outliers
    # mixture="network": the estimation network's mixture, as the paper freezes it.
    model = DAGMM(**SMALL, epoch_size=2, mixture="network").fit(X_train)
    z = model.transform(X_train)
    gamma = (
        model.module_.estimation(torch.as_tensor(z, dtype=torch.float32)).detach().double().numpy()
    )
    nk = gamma.sum(0)
    np.testing.assert_allclose(model.weights_, nk / len(z), rtol=1e-5)
    np.testing.assert_allclose(model.means_, gamma.T @ z / nk[:, None], rtol=1e-4, atol=1e-6)
    assert model.covariances_.shape == (3, 4, 4)  # 1 latent + 3 reconstruction features
    assert np.all(np.linalg.eigvalsh(model.covariances_) > 0)


def test_transform_shape_and_feature_names(blobs_with_outliers):
    X_train, X_test, _ = blobs_with_outliers
    model = DAGMM(**{**SMALL, "comp_hiddens": (8, 2)}, epoch_size=1).fit(X_train)
    assert model.transform(X_test).shape == (600, 5)
    assert list(model.get_feature_names_out()) == [
        "latent0",
        "latent1",
        "relative_distance",
        "cosine_similarity",
        "euclidean_distance",
    ]
    probs = model.predict_proba_components(X_test)
    np.testing.assert_allclose(probs.sum(1), 1.0, rtol=1e-9)
    assert model.reconstruction_errors(X_test).shape == X_test.shape


def test_default_parameters_work_on_any_width():
    X = np.random.default_rng(0).normal(size=(300, 3))
    model = DAGMM(epoch_size=2, random_state=0).fit(X)
    assert model.module_.compression.encoder[0].in_features == 3
    assert model.energy(X).shape == (300,)
    assert default_comp_hiddens(118) == (32, 16)
    assert default_comp_hiddens(6) == (8, 2)
    assert default_minibatch_size(300) == 64 and default_minibatch_size(10_000) == 312
    assert 1 <= model.n_components_ <= 8  # the frozen mixture's K is chosen by BIC


def test_bic_mixture_is_refitted_on_the_same_codes_and_fits_them_better():
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(-3, 1, size=(300, 4)), rng.normal(3, 1, size=(300, 4))])
    network = DAGMM(**SMALL, epoch_size=3, mixture="network").fit(X)
    refitted = DAGMM(**SMALL, epoch_size=3, mixture="bic").fit(X)
    assert network.n_components_ == 3  # the estimation network's K (est_hiddens)
    # Same training (same seed); only the frozen mixture differs, and EM fits the codes better.
    np.testing.assert_allclose(network.transform(X), refitted.transform(X))
    assert refitted.energy(X).mean() < network.energy(X).mean()
    assert refitted.means_.shape == (refitted.n_components_, network.means_.shape[1])


def test_bic_search_stops_when_bic_stops_improving():
    rng = np.random.default_rng(0)
    two = np.vstack([rng.normal(-6, 1, size=(200, 2)), rng.normal(6, 1, size=(200, 2))])
    assert fit_mixture_by_bic(two, 8, 1e-6, 0).n_components == 2
    assert fit_mixture_by_bic(rng.normal(size=(300, 2)), 8, 1e-6, 0).n_components == 1


@pytest.mark.parametrize("activation", ["relu", torch.sigmoid, torch.nn.ELU])
def test_activation_forms(activation):
    X = np.random.default_rng(0).normal(size=(200, 4))
    DAGMM(**SMALL, epoch_size=1, comp_activation=activation, est_activation=activation).fit(X)


def test_pretraining_records_history(blobs_with_outliers):
    model = DAGMM(**SMALL, epoch_size=2, pretrain_epochs=3).fit(blobs_with_outliers[0])
    assert len(model.history_["pretrain_loss"]) == 3 and len(model.history_["loss"]) == 2
    assert len(model.history_["pretrain_init_errors"]) == 1


def test_n_init_keeps_the_best_reconstructing_compression_network(blobs_with_outliers, monkeypatch):
    X_train = blobs_with_outliers[0]
    model = DAGMM(**SMALL, epoch_size=1, pretrain_epochs=2, n_init=3).fit(X_train)
    errors = model.history_["pretrain_init_errors"]
    assert len(errors) == 3 and len(set(errors)) == 3  # three different initialisations
    again = DAGMM(**SMALL, epoch_size=1, pretrain_epochs=2, n_init=3).fit(X_train)
    assert again.history_["pretrain_init_errors"] == errors  # seeded restarts

    # Script the errors so that the second run wins, and compare the kept weights.
    snapshots, scripted = [], iter([3.0, 1.0, 2.0])

    def scripted_error(data):
        snapshots.append({k: v.clone() for k, v in model.module_.compression.state_dict().items()})
        return next(scripted)

    monkeypatch.setattr(model, "_reconstruction_error_of", scripted_error)
    data = model._to_scaled_tensor(X_train.astype(np.float32))
    out = model._pretrain(data, torch.Generator().manual_seed(0), 128, seed=0)
    assert out["pretrain_init_errors"] == [3.0, 1.0, 2.0]
    kept = model.module_.compression.state_dict()
    assert all(torch.equal(kept[k], snapshots[1][k]) for k in kept)
    assert not all(torch.equal(kept[k], snapshots[2][k]) for k in kept)


def test_n_init_without_pretraining_is_rejected(blobs_with_outliers):
    with pytest.raises(ValueError, match=r"n_init=2 needs pretrain_epochs > 0"):
        DAGMM(**SMALL, n_init=2).fit(blobs_with_outliers[0])


def test_n_restarts_keeps_the_whole_run_that_reconstructs_best(blobs_with_outliers, monkeypatch):
    X_train, X_test, _ = blobs_with_outliers
    params = dict(**SMALL, epoch_size=2, pretrain_epochs=1)
    model = DAGMM(**params, n_restarts=3).fit(X_train)
    errors = model.history_["restart_errors"]
    assert len(errors) == 3 and len(set(errors)) == 3  # three different initialisations
    assert (
        model.history_["restart_errors"]
        == DAGMM(**params, n_restarts=3).fit(X_train).history_["restart_errors"]
    )  # seeded restarts
    assert len(model.history_["loss"]) == 2 and len(model.history_["pretrain_loss"]) == 1

    # Script the final errors (pretraining asks too, one call before each final one) so
    # that the second run wins; its network must be the one kept and frozen.
    model = DAGMM(**params, n_restarts=3)
    snapshots, scripted = [], iter([9.0, 3.0, 9.0, 1.0, 9.0, 2.0])

    def scripted_error(data):
        snapshots.append(copy.deepcopy(model.module_.state_dict()))
        return next(scripted)

    monkeypatch.setattr(model, "_reconstruction_error_of", scripted_error)
    model.fit(X_train)
    assert model.history_["restart_errors"] == [3.0, 1.0, 2.0]
    kept = model.module_.state_dict()
    assert all(torch.equal(kept[k], snapshots[3][k]) for k in kept)
    assert not all(torch.equal(kept[k], snapshots[5][k]) for k in kept)
    # The mixture is frozen from the kept network: refreezing it changes nothing.
    energy = model.energy(X_test)
    model._freeze_mixture(model._to_scaled_tensor(X_train.astype(np.float32)))
    model._scoring_state_changed()
    np.testing.assert_allclose(model.energy(X_test), energy, rtol=1e-6)


def test_the_first_restart_is_the_plain_fit(blobs_with_outliers, monkeypatch):
    X_train, X_test, _ = blobs_with_outliers
    plain = DAGMM(**SMALL, epoch_size=2).fit(X_train)
    assert len(plain.history_["restart_errors"]) == 1
    restarted = DAGMM(**SMALL, epoch_size=2, n_restarts=2)
    scripted = iter([1.0, 2.0])  # the first run wins
    monkeypatch.setattr(restarted, "_reconstruction_error_of", lambda data: next(scripted))
    restarted.fit(X_train)
    np.testing.assert_allclose(restarted.energy(X_test), plain.energy(X_test), rtol=1e-5)


def test_divergence_raises_clear_error(blobs_with_outliers):
    with pytest.raises(TrainingDivergedError, match=r"epoch 1.*learning_rate"):
        DAGMM(**SMALL, epoch_size=2, learning_rate=1e30).fit(blobs_with_outliers[0] * 1e30)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"comp_hiddens": (8, 0)}, r"comp_hiddens=\(8, 0\) is invalid"),
        ({"est_hiddens": ()}, r"est_hiddens=\(\) is invalid"),
        ({"comp_activation": "tahn"}, "did you mean 'tanh'"),
        ({"lambda1": -1.0}, "lambda1"),
        ({"est_dropout_ratio": 1.0}, "est_dropout_ratio"),
        ({"n_restarts": 0}, "n_restarts"),
    ],
)
def test_bad_parameters_name_the_parameter(params, match):
    X = np.random.default_rng(0).normal(size=(50, 3))
    with pytest.raises(ValueError, match=match):
        DAGMM(**{**SMALL, **params}, epoch_size=1).fit(X)
