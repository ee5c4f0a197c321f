"""The mixture math against independent float64 references (scipy, scikit-learn)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.special import logsumexp
from scipy.stats import multivariate_normal
from sklearn.mixture import GaussianMixture

from dagmm.exceptions import CovarianceError
from dagmm.math import (
    cholesky_checked,
    combine_moments,
    covariance_diagonal_penalty,
    gmm_from_moments,
    gmm_parameters,
    log_component_densities,
    precision_cholesky,
    reconstruction_features,
    sample_energy,
    weighted_moments,
)
from dagmm.math.losses import dagmm_objective
from dagmm.math.reconstruction import check_reconstruction_features


def _random_problem(n: int = 200, d: int = 3, k: int = 4, seed: int = 0):
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n, d)) @ rng.normal(size=(d, d)) + rng.normal(size=d)
    logits = rng.normal(size=(n, k)) * 2
    gamma = np.exp(logits - logsumexp(logits, axis=1, keepdims=True))
    return z, gamma


def _naive_parameters(z: np.ndarray, gamma: np.ndarray, reg: float):
    # Loop over components with the textbook formulas (paper eq. 5).
    n, d = z.shape
    weights, means, covs = [], [], []
    for k in range(gamma.shape[1]):
        g = gamma[:, k]
        mu = (g[:, None] * z).sum(0) / g.sum()
        cov = sum(g[i] * np.outer(z[i] - mu, z[i] - mu) for i in range(n)) / g.sum()
        weights.append(g.mean())
        means.append(mu)
        covs.append(cov + reg * np.eye(d))
    return np.array(weights), np.array(means), np.array(covs)


def _t(a: np.ndarray) -> torch.Tensor:
    return torch.as_tensor(a, dtype=torch.float64)


def test_parameters_match_naive_loop():
    z, gamma = _random_problem()
    weights, means, covs = gmm_parameters(_t(z), _t(gamma), reg_covar=1e-6)
    ref_w, ref_m, ref_c = _naive_parameters(z, gamma, 1e-6)
    np.testing.assert_allclose(weights.numpy(), ref_w, rtol=1e-12)
    np.testing.assert_allclose(means.numpy(), ref_m, rtol=1e-10)
    np.testing.assert_allclose(covs.numpy(), ref_c, rtol=1e-10, atol=1e-12)


def test_energy_matches_scipy_mixture_density():
    z, gamma = _random_problem(seed=1)
    weights, means, covs = _naive_parameters(z, gamma, 1e-6)
    prec = precision_cholesky(cholesky_checked(_t(covs)))
    energy = sample_energy(_t(z), _t(weights), _t(means), prec).numpy()
    density = sum(
        weights[k] * multivariate_normal(means[k], covs[k]).pdf(z) for k in range(len(weights))
    )
    np.testing.assert_allclose(energy, -np.log(density), rtol=1e-6)


def test_energy_matches_sklearn_gaussian_mixture():
    z, gamma = _random_problem(seed=2, d=5, k=3)
    weights, means, covs = _naive_parameters(z, gamma, 1e-6)
    gm = GaussianMixture(n_components=3, covariance_type="full")
    gm.weights_, gm.means_, gm.covariances_ = weights, means, covs
    gm.precisions_cholesky_ = np.linalg.cholesky(np.linalg.inv(covs))
    prec = precision_cholesky(cholesky_checked(_t(covs)))
    energy = sample_energy(_t(z), _t(weights), _t(means), prec).numpy()
    np.testing.assert_allclose(energy, -gm.score_samples(z), rtol=1e-6)


def test_log_densities_match_scipy_per_component():
    z, gamma = _random_problem(seed=3)
    weights, means, covs = _naive_parameters(z, gamma, 1e-6)
    prec = precision_cholesky(cholesky_checked(_t(covs)))
    log_dens = log_component_densities(_t(z), _t(means), prec).numpy()
    for k in range(len(weights)):
        np.testing.assert_allclose(
            log_dens[:, k], multivariate_normal(means[k], covs[k]).logpdf(z), rtol=1e-9
        )


def test_energy_is_stable_far_from_every_component():
    # A naive sum of densities underflows to log(0) = inf here; log-sum-exp does not.
    z, gamma = _random_problem(seed=4)
    weights, means, covs = gmm_parameters(_t(z), _t(gamma), 1e-6)
    far = torch.full((2, 3), 1e4, dtype=torch.float64)
    energy = sample_energy(far, weights, means, precision_cholesky(cholesky_checked(covs)))
    assert torch.isfinite(energy).all() and (energy > 1e5).all()


@pytest.mark.parametrize("n_batches", [1, 2, 7])
def test_batched_moments_equal_one_pass(n_batches):
    z, gamma = _random_problem(n=501, seed=5)
    whole = gmm_from_moments(weighted_moments(_t(z), _t(gamma)), 1e-6)
    moments = None
    for zb, gb in zip(np.array_split(z, n_batches), np.array_split(gamma, n_batches), strict=True):
        m = weighted_moments(_t(zb), _t(gb))
        moments = m if moments is None else combine_moments(moments, m)
    assert moments.n_samples == 501
    for batched, single in zip(gmm_from_moments(moments, 1e-6), whole, strict=True):
        np.testing.assert_allclose(batched.numpy(), single.numpy(), rtol=1e-10, atol=1e-13)


def test_batched_moments_stable_with_large_offset():
    # sum(z z^T) - n mu mu^T would lose every digit here; the pairwise merge does not.
    z, gamma = _random_problem(n=400, seed=6)
    z = z + 1e6
    moments = None
    for zb, gb in zip(np.array_split(z, 4), np.array_split(gamma, 4), strict=True):
        m = weighted_moments(_t(zb), _t(gb))
        moments = m if moments is None else combine_moments(moments, m)
    _, _, covs = gmm_from_moments(moments, 0.0)
    _, _, ref = _naive_parameters(z, gamma, 0.0)
    np.testing.assert_allclose(covs.numpy(), ref, rtol=1e-6)


def test_covariance_penalty_is_sum_of_reciprocal_diagonals():
    covs = _t(np.array([np.diag([1.0, 2.0]), np.diag([4.0, 0.5])]))
    assert covariance_diagonal_penalty(covs).item() == pytest.approx(1 + 0.5 + 0.25 + 2)


def test_cholesky_failure_names_remedy():
    bad = _t(np.array([[[1.0, 2.0], [2.0, 1.0]]]))  # indefinite
    with pytest.raises(CovarianceError, match=r"component\(s\) \[0\].*reg_covar.*lambda2"):
        cholesky_checked(bad)


def test_reconstruction_features_match_definitions_and_zero_rows():
    rng = np.random.default_rng(7)
    x, x_hat = rng.normal(size=(5, 4)), rng.normal(size=(5, 4))
    x[0] = 0.0  # an all-zero row must not give NaN
    feats = reconstruction_features(_t(x), _t(x_hat)).numpy()
    assert np.isfinite(feats).all()
    for i in range(1, 5):
        assert feats[i, 0] == pytest.approx(np.linalg.norm(x[i] - x_hat[i]) / np.linalg.norm(x[i]))
        cos = x[i] @ x_hat[i] / (np.linalg.norm(x[i]) * np.linalg.norm(x_hat[i]))
        assert feats[i, 1] == pytest.approx(cos)
    assert feats[0, 1] == 0.0


def test_reconstruction_features_selection_and_order():
    rng = np.random.default_rng(8)
    x, x_hat = rng.normal(size=(6, 3)), rng.normal(size=(6, 3))
    pair = reconstruction_features(_t(x), _t(x_hat)).numpy()
    chosen = reconstruction_features(_t(x), _t(x_hat), ("euclidean", "relative", "cosine")).numpy()
    np.testing.assert_allclose(chosen[:, 0], np.linalg.norm(x - x_hat, axis=1), rtol=1e-12)
    np.testing.assert_array_equal(chosen[:, 1:], pair)
    assert reconstruction_features(_t(x), _t(x_hat), ()).shape == (6, 0)


@pytest.mark.parametrize("bad", ["relative", ("relative", "relative"), ("l1",), (1,), None])
def test_reconstruction_features_validation_names_parameter(bad):
    with pytest.raises(ValueError, match=r"reconstruction_features=.*expected a sequence"):
        check_reconstruction_features(bad)


def test_energy_gradcheck():
    z, gamma = _random_problem(n=12, d=2, k=2, seed=8)
    z_t = _t(z).requires_grad_(True)
    gamma_t = _t(gamma).requires_grad_(True)

    def energy_of(z_in, gamma_in):
        weights, means, covs = gmm_parameters(z_in, gamma_in, 1e-3)
        prec = precision_cholesky(torch.linalg.cholesky(covs))
        return sample_energy(z_in, weights, means, prec)

    assert torch.autograd.gradcheck(energy_of, (z_t, gamma_t), eps=1e-6, atol=1e-5)


def test_objective_combines_terms_with_lambdas():
    rng = np.random.default_rng(9)
    x, x_hat = _t(rng.normal(size=(30, 5))), _t(rng.normal(size=(30, 5)))
    z, gamma = (_t(a) for a in _random_problem(n=30, d=3, k=2, seed=9))
    out = dagmm_objective(x, x_hat, z, gamma, lambda1=0.1, lambda2=0.005, reg_covar=1e-6)
    rec, energy, penalty = out.terms.tolist()
    assert rec == pytest.approx(((x - x_hat) ** 2).sum(1).mean().item())
    assert out.total.item() == pytest.approx(rec + 0.1 * energy + 0.005 * penalty)
    assert out.cholesky_failures.item() == 0
    mean_rec = dagmm_objective(
        x, x_hat, z, gamma, lambda1=0.1, lambda2=0.005, reg_covar=1e-6, reconstruction="mean"
    ).terms[0]
    assert mean_rec.item() == pytest.approx(rec / 5)

