"""Behaviour of VAEDetector only: training, its scores, the fitted latent Gaussian, thresholds.

What every detector shares (shapes, seeds, subset scoring, bad input, saving) is tested
once for all of them in test_detector_contract.py.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.spatial.distance import mahalanobis as scipy_mahalanobis
from scipy.stats import chi2
from sklearn.covariance import ledoit_wolf
from sklearn.metrics import roc_auc_score

from dagmm import VAEDetector
from dagmm.estimators.vae import SCORES, VAE_PRESETS, default_vae_architecture
from dagmm.math.vae import bernoulli_log_likelihood, kl_to_standard_normal

SMALL = dict(encoder_hiddens=(16, 8), latent_dim=2, minibatch_size=128, random_state=0)


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Training rows of a 3-cluster mixture in 6-D; a test set with 10% far outliers."""
    rng = np.random.default_rng(0)
    centers = rng.normal(scale=4.0, size=(3, 6))

    def normal_rows(n: int) -> np.ndarray:
        return centers[rng.integers(0, 3, n)] + rng.normal(size=(n, 6))

    X_test = np.vstack([normal_rows(270), rng.uniform(-12, 12, size=(30, 6))])
    return normal_rows(600), X_test, np.r_[np.zeros(270, dtype=int), np.ones(30, dtype=int)]


@pytest.fixture(scope="module")
def fitted(data) -> VAEDetector:
    return VAEDetector(**SMALL, epoch_size=4).fit(data[0])


def test_training_lowers_loss_and_records_terms(data):
    model = VAEDetector(**SMALL, epoch_size=6).fit(data[0][:256])
    losses = model.history_["loss"]
    assert len(losses) == 6 and losses[-1] < losses[0]
    assert set(model.history_) >= {"loss", "reconstruction", "kl", "seconds"}
    np.testing.assert_allclose(
        np.add(model.history_["reconstruction"], model.history_["kl"]), losses, rtol=1e-6
    )


def test_roc_auc_floor_with_default_score(data):
    X_train, X_test, y_test = data
    model = VAEDetector(epoch_size=30, random_state=0).fit(X_train)
    assert roc_auc_score(y_test, model.energy(X_test)) > 0.9


def test_same_seed_gives_identical_scores_of_every_kind(data):
    X_train, X_test, _ = data
    first = VAEDetector(**SMALL, epoch_size=2).fit(X_train)
    second = VAEDetector(**SMALL, epoch_size=2).fit(X_train)
    other = VAEDetector(**{**SMALL, "random_state": 1}, epoch_size=2).fit(X_train)
    for score in SCORES:
        np.testing.assert_array_equal(
            first.energy(X_test, score=score), second.energy(X_test, score=score)
        )
        assert not np.array_equal(
            first.energy(X_test, score=score), other.energy(X_test, score=score)
        )


@pytest.mark.parametrize("score", [score for score in SCORES if score != "mahalanobis"])
def test_subset_scoring_equals_rows_of_full_scoring_for_every_score(fitted, data, score):
    # Up to float32 rounding (BLAS may round a row differently by its position in
    # the batch); the "elbo" score reuses the same fixed draws for every row.
    X_test = data[1]
    full = fitted.energy(X_test, score=score)
    idx = np.array([5, 0, 299, 77])
    np.testing.assert_allclose(
        fitted.energy(X_test[idx], score=score), full[idx], rtol=1e-5, atol=1e-6
    )
    np.testing.assert_allclose(
        fitted.energy(X_test[3:4], score=score), full[3:4], rtol=1e-5, atol=1e-6
    )
    np.testing.assert_array_equal(fitted.energy(X_test, score=score), full)


def test_latent_gaussian_is_the_whole_training_set_ledoit_wolf_estimate(fitted, data):
    X_train, X_test, _ = data
    codes = fitted.transform(X_train)
    reference, shrinkage = ledoit_wolf(codes)
    np.testing.assert_allclose(fitted.location_, codes.mean(axis=0), rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(fitted.shrinkage_, shrinkage, rtol=1e-5)
    np.testing.assert_allclose(
        fitted.covariance_, reference + 1e-6 * np.eye(2), rtol=1e-5, atol=1e-9
    )
    inverse = np.linalg.inv(fitted.covariance_)
    expected = [scipy_mahalanobis(z, fitted.location_, inverse) for z in fitted.transform(X_test)]
    np.testing.assert_allclose(fitted.mahalanobis(X_test), expected, rtol=1e-6)
    np.testing.assert_array_equal(fitted.energy(X_test), fitted.mahalanobis(X_test))


def test_fixed_shrinkage_is_used_as_given(data):
    model = VAEDetector(**SMALL, epoch_size=1, shrinkage=0.0, reg_covar=0.0).fit(data[0])
    codes = model.transform(data[0])
    np.testing.assert_allclose(model.covariance_, np.cov(codes.T, bias=True), rtol=1e-5, atol=1e-9)
    assert model.shrinkage_ == 0.0


def test_prior_reconstruction_and_elbo_scores(fitted, data):
    X_test = data[1]
    codes = fitted.transform(X_test)
    np.testing.assert_allclose(
        fitted.energy(X_test, score="prior"), np.linalg.norm(codes, axis=1), rtol=1e-6
    )
    reconstruction = fitted.energy(X_test, score="reconstruction")
    elbo = fitted.energy(X_test, score="elbo")
    assert np.isfinite(reconstruction).all() and np.isfinite(elbo).all()
    assert fitted.elbo_noise_.shape == (10, 2)
    # One fixed draw equal to zero turns the ELBO into reconstruction + KL exactly.
    model = VAEDetector(**SMALL, epoch_size=1).fit(data[0])
    model.elbo_noise_ = np.zeros((1, 2), dtype=np.float32)
    model._scoring_state_changed()
    x = torch.as_tensor((X_test - model.scaler_center_) / model.scaler_scale_, dtype=torch.float32)
    with torch.no_grad():
        mean, log_var = model.module_.encode(x)
    kl = kl_to_standard_normal(mean, log_var).double().numpy()
    np.testing.assert_allclose(
        model.energy(X_test, score="elbo"),
        model.energy(X_test, score="reconstruction") + kl,
        rtol=1e-5,
    )


def test_bernoulli_reconstruction_score_is_cross_entropy():
    rng = np.random.default_rng(0)
    X = (rng.random((200, 10)) < 0.3).astype(float)
    model = VAEDetector(**SMALL, epoch_size=1).fit(X)
    assert model.likelihood_ == "bernoulli" and model.normalize_ is False
    x = torch.as_tensor(X, dtype=torch.float32)
    with torch.no_grad():
        logits = model.module_.decode(model.module_.encode(x)[0])
    expected = -bernoulli_log_likelihood(x, logits).double().numpy()
    np.testing.assert_allclose(model.energy(X, score="reconstruction"), expected, rtol=1e-5)


@pytest.mark.parametrize(
    "X, params, likelihood, normalize",
    [
        (np.linspace(0, 1, 40).reshape(20, 2), {}, "bernoulli", False),
        (np.linspace(0, 1, 40).reshape(20, 2), {"normalize": "minmax"}, "bernoulli", "minmax"),
        (np.linspace(0, 1, 40).reshape(20, 2), {"normalize": "standard"}, "gaussian", "standard"),
        (np.linspace(0, 1, 40).reshape(20, 2), {"likelihood": "gaussian"}, "gaussian", "standard"),
        (np.linspace(-1, 1, 40).reshape(20, 2), {}, "gaussian", "standard"),
        (np.linspace(-1, 1, 40).reshape(20, 2), {"normalize": False}, "gaussian", False),
        (
            np.linspace(-1, 5, 40).reshape(20, 2),
            {"likelihood": "bernoulli", "normalize": "minmax"},
            "bernoulli",
            "minmax",
        ),
    ],
)
def test_auto_likelihood_and_normalize(X, params, likelihood, normalize):
    model = VAEDetector(**{**SMALL, **params}, epoch_size=1).fit(X)
    assert (model.likelihood_, model.normalize_) == (likelihood, normalize)
    assert (model.module_.decoder_log_var is None) == (likelihood == "bernoulli")


def test_default_threshold_is_the_chi_square_quantile(fitted, data):
    assert fitted.contamination is None
    assert fitted.threshold_ == pytest.approx(np.sqrt(chi2.ppf(0.99, 2)))
    X_test = data[1]
    np.testing.assert_array_equal(
        fitted.predict(X_test), np.where(fitted.mahalanobis(X_test) > fitted.threshold_, -1, 1)
    )
    model = VAEDetector(**SMALL, epoch_size=1, threshold_quantile=0.5).fit(data[0])
    assert model.threshold_ == pytest.approx(np.sqrt(chi2.ppf(0.5, 2)))


def test_scores_without_reference_distribution_use_the_training_quantile(data):
    model = VAEDetector(
        **SMALL, epoch_size=1, anomaly_score="reconstruction", threshold_quantile=0.9
    )
    model.fit(data[0])
    assert (model.predict(data[0]) == -1).mean() == pytest.approx(0.1, abs=0.005)


def test_transform_and_feature_names(fitted, data):
    assert fitted.transform(data[1]).shape == (300, 2)
    assert list(fitted.get_feature_names_out()) == ["latent0", "latent1"]
    assert fitted.latent_dim_ == 2


def test_default_architecture_follows_the_input_width():
    assert default_vae_architecture(784) == ((512, 512), 157)
    assert default_vae_architecture(6) == ((64, 64), 32)
    assert default_vae_architecture(30) == ((120, 120), 60)
    X = np.random.default_rng(0).normal(size=(100, 3))
    model = VAEDetector(epoch_size=1, random_state=0).fit(X)
    assert model.module_.encoder[0].in_features == 3 and model.latent_dim_ == 32
    assert model.module_.decoder[-1].out_features == 3


def test_mnist_preset_and_overrides():
    model = VAEDetector.from_preset("mnist", epoch_size=3, random_state=0)
    assert model.latent_dim == 100 and model.likelihood == "bernoulli" and model.epoch_size == 3
    assert VAE_PRESETS["mnist"]["epoch_size"] == 100
    with pytest.raises(ValueError, match="unknown VAEDetector preset 'mnsit'"):
        VAEDetector.from_preset("mnsit")


def test_an_unknown_score_name_is_rejected(fitted, data):
    with pytest.raises(ValueError, match=r"score='mahalonobis' is unknown.*'mahalanobis'"):
        fitted.energy(data[1], score="mahalonobis")


@pytest.mark.parametrize(
    "params, match",
    [
        ({"encoder_hiddens": (8, 0)}, r"encoder_hiddens=\(8, 0\) is invalid"),
        ({"decoder_hiddens": ()}, r"decoder_hiddens=\(\) is invalid"),
        ({"latent_dim": 0}, "latent_dim"),
        ({"activation": "tahn"}, "did you mean 'tanh'"),
        ({"likelihood": "poisson"}, "likelihood"),
        ({"anomaly_score": "energy"}, "anomaly_score"),
        ({"shrinkage": 2.0}, "shrinkage"),
        ({"beta": -1.0}, "beta"),
        ({"elbo_samples": 0}, "elbo_samples"),
        ({"threshold_quantile": 1.0}, "threshold_quantile"),
        ({"likelihood": "bernoulli"}, r"needs training values in \[0, 1\].*normalize='minmax'"),
        ({"likelihood": "bernoulli", "normalize": "standard"}, "standardises them"),
    ],
)
def test_bad_parameters_name_the_parameter(params, match):
    X = np.random.default_rng(0).normal(size=(50, 3))
    with pytest.raises(ValueError, match=match):
        VAEDetector(**{**SMALL, **params}, epoch_size=1).fit(X)


def test_every_score_is_finite_on_hard_data():
    rng = np.random.default_rng(0)
    constant = np.hstack([rng.normal(size=(200, 3)), np.full((200, 2), 7.0)])
    duplicates = np.repeat(rng.normal(size=(2, 4)), 100, axis=0)
    for X in (constant, duplicates, np.zeros((50, 3))):
        model = VAEDetector(**SMALL, epoch_size=2).fit(X)
        for score in SCORES:
            assert np.isfinite(model.energy(X, score=score)).all()
