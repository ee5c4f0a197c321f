"""The VAE terms and latent distances against closed forms and independent references."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.spatial.distance import mahalanobis as scipy_mahalanobis
from scipy.stats import bernoulli, chi2, norm
from sklearn.covariance import ledoit_wolf, ledoit_wolf_shrinkage

from dagmm.math.gmm import precision_cholesky
from dagmm.math.vae import (
    bernoulli_log_likelihood,
    chi2_distance_quantile,
    gaussian_log_likelihood,
    kl_to_standard_normal,
    log_likelihood,
    mahalanobis_distance,
    negative_elbo,
    shrunk_covariance,
)
from dagmm.math.vae import (
    ledoit_wolf_shrinkage as our_ledoit_wolf_shrinkage,
)


def _t(a: np.ndarray) -> torch.Tensor:
    return torch.as_tensor(a, dtype=torch.float64)


def test_kl_matches_torch_distributions_closed_form():
    rng = np.random.default_rng(0)
    mean, log_var = rng.normal(size=(7, 4)), rng.normal(size=(7, 4))
    ours = kl_to_standard_normal(_t(mean), _t(log_var)).numpy()
    q = torch.distributions.Normal(_t(mean), _t(np.exp(0.5 * log_var)))
    p = torch.distributions.Normal(
        torch.zeros(4, dtype=torch.float64), torch.ones(4, dtype=torch.float64)
    )
    reference = torch.distributions.kl_divergence(q, p).sum(dim=1).numpy()
    np.testing.assert_allclose(ours, reference, rtol=1e-12)
    assert kl_to_standard_normal(torch.zeros(2, 3), torch.zeros(2, 3)).eq(0).all()


def test_kl_matches_monte_carlo():
    # E_q[log q(z) - log p(z)] by sampling agrees with the closed form.
    rng = np.random.default_rng(1)
    mean, log_var = np.array([[0.5, -1.0, 2.0]]), np.array([[-0.5, 0.3, -1.2]])
    std = np.exp(0.5 * log_var)
    z = mean + std * rng.standard_normal(size=(400_000, 3))
    monte_carlo = (norm.logpdf(z, mean, std) - norm.logpdf(z)).sum(axis=1).mean()
    closed = float(kl_to_standard_normal(_t(mean), _t(log_var))[0])
    assert monte_carlo == pytest.approx(closed, rel=1e-2)


def test_bernoulli_log_likelihood_matches_scipy_and_is_stable():
    rng = np.random.default_rng(2)
    logits = rng.normal(scale=3.0, size=(5, 6))
    x = (rng.random(size=(5, 6)) < 0.5).astype(float)
    p = 1.0 / (1.0 + np.exp(-logits))
    reference = bernoulli.logpmf(x, p).sum(axis=1)
    np.testing.assert_allclose(
        bernoulli_log_likelihood(_t(x), _t(logits)).numpy(), reference, rtol=1e-12
    )
    torch_reference = torch.distributions.Bernoulli(logits=_t(logits)).log_prob(_t(x)).sum(1)
    np.testing.assert_allclose(
        bernoulli_log_likelihood(_t(x), _t(logits)).numpy(), torch_reference.numpy()
    )
    extreme = bernoulli_log_likelihood(torch.tensor([[1.0, 0.0]]), torch.tensor([[-200.0, 200.0]]))
    assert torch.isfinite(extreme).all() and float(extreme) == pytest.approx(-400.0)


def test_gaussian_log_likelihood_matches_scipy():
    rng = np.random.default_rng(3)
    x, mean = rng.normal(size=(5, 4)), rng.normal(size=(5, 4))
    log_var = rng.normal(size=4)
    reference = norm.logpdf(x, mean, np.exp(0.5 * log_var)).sum(axis=1)
    ours = gaussian_log_likelihood(_t(x), _t(mean), _t(log_var)).numpy()
    np.testing.assert_allclose(ours, reference, rtol=1e-12)
    dispatched = log_likelihood(_t(x), _t(mean), "gaussian", _t(log_var)).numpy()
    np.testing.assert_array_equal(dispatched, ours)
    with pytest.raises(ValueError, match="needs the decoder log-variances"):
        log_likelihood(_t(x), _t(mean), "gaussian")
    with pytest.raises(ValueError, match="likelihood='poisson' is unknown"):
        log_likelihood(_t(x), _t(mean), "poisson")


def test_negative_elbo_with_fixed_draws_is_kl_minus_mean_log_likelihood():
    rng = np.random.default_rng(4)
    mean, log_var = _t(rng.normal(size=(3, 2))), _t(rng.normal(size=(3, 2)))
    noise = _t(rng.normal(size=(5, 2)))
    target = _t(rng.normal(size=(3, 2)))

    def log_likelihood_of(z: torch.Tensor) -> torch.Tensor:  # a toy decoder: N(z, I)
        return gaussian_log_likelihood(target, z, torch.zeros(2, dtype=torch.float64))

    expected = [
        sum(
            float(log_likelihood_of(mean + torch.exp(0.5 * log_var) * noise[s])[i])
            for s in range(5)
        )
        / 5
        for i in range(3)
    ]
    reference = kl_to_standard_normal(mean, log_var).numpy() - np.array(expected)
    np.testing.assert_allclose(
        negative_elbo(mean, log_var, log_likelihood_of, noise).numpy(), reference
    )


def test_mahalanobis_matches_scipy():
    rng = np.random.default_rng(5)
    a = rng.normal(size=(4, 4))
    covariance = a @ a.T + 0.1 * np.eye(4)
    location, z = rng.normal(size=4), rng.normal(size=(6, 4)) * 3
    factor = torch.linalg.cholesky(_t(covariance))
    prec_chol = precision_cholesky(factor.unsqueeze(0))[0]
    ours = mahalanobis_distance(_t(z), _t(location), prec_chol).numpy()
    inverse = np.linalg.inv(covariance)  # the reference may invert; our code never does
    reference = [scipy_mahalanobis(row, location, inverse) for row in z]
    np.testing.assert_allclose(ours, reference, rtol=1e-10)


@pytest.mark.parametrize("n, p", [(50, 8), (500, 3), (20, 30)])
def test_ledoit_wolf_matches_scikit_learn(n, p):
    rng = np.random.default_rng(6)
    X = rng.normal(size=(n, p)) @ rng.normal(size=(p, p)) + 5.0
    centred = X - X.mean(axis=0)
    covariance = centred.T @ centred / n
    sum_fourth = (centred**2).sum(axis=1).__pow__(2).sum()
    ours = our_ledoit_wolf_shrinkage(_t(covariance), n, _t(np.asarray(sum_fourth)))
    assert float(ours) == pytest.approx(ledoit_wolf_shrinkage(X), rel=1e-9)
    reference_cov, _ = ledoit_wolf(X)
    np.testing.assert_allclose(
        shrunk_covariance(_t(covariance), ours).numpy(), reference_cov, rtol=1e-9
    )


def test_ledoit_wolf_degenerate_cases():
    one_dim = torch.tensor([[2.0]], dtype=torch.float64)
    assert (
        float(our_ledoit_wolf_shrinkage(one_dim, 10, torch.tensor(50.0, dtype=torch.float64)))
        == 0.0
    )
    zero = torch.zeros((3, 3), dtype=torch.float64)
    assert float(our_ledoit_wolf_shrinkage(zero, 10, torch.tensor(0.0, dtype=torch.float64))) == 0.0


def test_chi2_distance_quantile():
    for dim in (1, 2, 100):
        distance = chi2_distance_quantile(0.99, dim)
        assert chi2.cdf(distance**2, dim) == pytest.approx(0.99)
