r"""Variational autoencoder terms and latent-space distances, as pure functions.

Notation: a row :math:`x` has D features; the encoder's posterior is
:math:`q(z\mid x)=\mathcal N(\mu, \operatorname{diag}\sigma^2)` over L latent
dimensions, given as ``mean`` :math:`\mu` and ``log_var`` :math:`\log\sigma^2`;
the prior is :math:`\mathcal N(0, I)`.

.. math::

    \mathrm{KL}(q\,\|\,p) = \tfrac12 \sum_j \left(\sigma_j^2 + \mu_j^2 - 1 - \log\sigma_j^2\right)

    \log p_{\mathrm{Bern}}(x\mid\ell) = \sum_i x_i \log s(\ell_i) + (1-x_i)\log s(-\ell_i)
        = \sum_i x_i \ell_i - \operatorname{softplus}(\ell_i)

    \log p_{\mathcal N}(x\mid m, v) = -\tfrac12 \sum_i \left(\log 2\pi + v_i + (x_i-m_i)^2 e^{-v_i}\right)

with decoder logits :math:`\ell` (Bernoulli) or mean :math:`m` and log-variance
:math:`v` (Gaussian). The negative evidence lower bound is
:math:`-\mathrm{ELBO}(x) = \mathrm{KL}(q\,\|\,p) - \mathbb E_q \log p(x\mid z)`,
estimated with S fixed standard-normal draws :math:`\varepsilon_s` as
:math:`z_s = \mu + \sigma\odot\varepsilon_s`.

The Mahalanobis distance of a code :math:`z` from a Gaussian
:math:`\mathcal N(m, \Sigma)` goes through the Cholesky factor
:math:`\Sigma = C C^\top` and its triangular inverse :math:`P = C^{-1}`
(:func:`dagmm.math.gmm.precision_cholesky`):
:math:`d(z) = \lVert P (z - m)\rVert`. No matrix inverse is ever formed.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from scipy.stats import chi2
from torch import Tensor
from torch.nn import functional as F

#: Decoder likelihoods a VAE can use.
LIKELIHOODS = ("bernoulli", "gaussian")

_LOG_2PI = math.log(2.0 * math.pi)


def kl_to_standard_normal(mean: Tensor, log_var: Tensor) -> Tensor:
    """KL divergence of each diagonal Gaussian posterior from N(0, I).

    Parameters
    ----------
    mean, log_var : Tensor, shape (N, L)

    Returns
    -------
    Tensor, shape (N,)
    """
    return 0.5 * (log_var.exp() + mean.pow(2) - 1.0 - log_var).sum(dim=1)  # N


def bernoulli_log_likelihood(x: Tensor, logits: Tensor) -> Tensor:
    """Log-likelihood of ``x`` under independent Bernoulli pixels with these logits.

    Written as :math:`x\\ell - \\operatorname{softplus}(\\ell)`, which is stable
    for any logit and, for grey values in [0, 1], the usual cross-entropy form.

    Parameters
    ----------
    x, logits : Tensor, shape (N, D)

    Returns
    -------
    Tensor, shape (N,)
    """
    return (x * logits - F.softplus(logits)).sum(dim=1)  # N


def gaussian_log_likelihood(x: Tensor, mean: Tensor, log_var: Tensor) -> Tensor:
    """Log-density of ``x`` under independent Gaussians.

    Parameters
    ----------
    x, mean : Tensor, shape (N, D)
    log_var : Tensor, shape (D,) or (N, D)
        Log-variances (broadcast over rows when 1-D).

    Returns
    -------
    Tensor, shape (N,)
    """
    squared = (x - mean).pow(2) * torch.exp(-log_var)  # N x D
    return -0.5 * (_LOG_2PI + log_var + squared).sum(dim=1)  # N


def log_likelihood(
    x: Tensor, output: Tensor, likelihood: str, log_var: Tensor | None = None
) -> Tensor:
    """Decoder log-likelihood per row: Bernoulli logits or Gaussian means.

    Parameters
    ----------
    x, output : Tensor, shape (N, D)
        Rows and the decoder's output (logits for ``"bernoulli"``, means for
        ``"gaussian"``).
    likelihood : {"bernoulli", "gaussian"}
    log_var : Tensor, shape (D,), optional
        Decoder log-variances; required for ``"gaussian"``.

    Returns
    -------
    Tensor, shape (N,)
    """
    if likelihood == "bernoulli":
        return bernoulli_log_likelihood(x, output)
    if likelihood == "gaussian":
        if log_var is None:
            raise ValueError("the Gaussian likelihood needs the decoder log-variances")
        return gaussian_log_likelihood(x, output, log_var)
    raise ValueError(f"likelihood={likelihood!r} is unknown: expected one of {LIKELIHOODS}")


def reparameterize(mean: Tensor, log_var: Tensor, noise: Tensor) -> Tensor:
    """:math:`z = \\mu + \\sigma \\odot \\varepsilon` (differentiable in mean and log_var).

    Parameters
    ----------
    mean, log_var : Tensor, shape (N, L)
    noise : Tensor, shape (N, L) or (L,)
        Standard-normal draws.

    Returns
    -------
    Tensor, shape (N, L)
    """
    return mean + torch.exp(0.5 * log_var) * noise


def negative_elbo(
    mean: Tensor,
    log_var: Tensor,
    log_likelihood_of: Callable[[Tensor], Tensor],
    noise: Tensor,
) -> Tensor:
    """Monte Carlo negative ELBO with a fixed set of standard-normal draws.

    Every row uses the same S draws, so a row's value never depends on the
    other rows it is computed with. The KL term is exact.

    Parameters
    ----------
    mean, log_var : Tensor, shape (N, L)
        Posterior parameters.
    log_likelihood_of : callable
        Maps codes (N, L) to :math:`\\log p(x\\mid z)` of the matching rows (N,).
    noise : Tensor, shape (S, L)
        Standard-normal draws, S >= 1.

    Returns
    -------
    Tensor, shape (N,)
    """
    expected = torch.zeros_like(mean[:, 0])  # N
    for draw in noise:  # one decoder pass per draw keeps memory at N x D
        expected = expected + log_likelihood_of(reparameterize(mean, log_var, draw))
    return kl_to_standard_normal(mean, log_var) - expected / noise.shape[0]  # N


def mahalanobis_distance(z: Tensor, location: Tensor, prec_chol: Tensor) -> Tensor:
    """:math:`\\lVert P (z - m)\\rVert`, the Mahalanobis distance from N(m, (P^T P)^{-1}).

    Parameters
    ----------
    z : Tensor, shape (N, L)
    location : Tensor, shape (L,)
    prec_chol : Tensor, shape (L, L), lower triangular
        Inverse Cholesky factor :math:`P = C^{-1}` of the covariance.

    Returns
    -------
    Tensor, shape (N,)
    """
    whitened = (z - location) @ prec_chol.T  # N x L, rows P (z_i - m)
    return whitened.pow(2).sum(dim=1).sqrt()  # N


def ledoit_wolf_shrinkage(covariance: Tensor, n_samples: int, sum_fourth: Tensor) -> Tensor:
    """Ledoit and Wolf's (2004) optimal shrinkage intensity toward :math:`\\bar v I`.

    With the maximum-likelihood covariance :math:`S` of n centred rows
    :math:`c_i` in p dimensions and :math:`\\bar v = \\operatorname{tr}S / p`,

    .. math::

        \\delta^2 = \\lVert S - \\bar v I\\rVert_F^2 / p,\\qquad
        \\beta^2 = \\frac{1}{n^2 p}\\sum_i \\lVert c_i c_i^\\top - S\\rVert_F^2
                 = \\frac{1}{n^2 p}\\Big(\\sum_i \\lVert c_i\\rVert^4 - n\\lVert S\\rVert_F^2\\Big),

    and the intensity is :math:`\\min(\\beta^2, \\delta^2) / \\delta^2` (0 when
    :math:`\\delta^2 = 0`). The second form of :math:`\\beta^2` needs only
    :math:`\\sum_i\\lVert c_i\\rVert^4`, which accumulates batch by batch.

    Parameters
    ----------
    covariance : Tensor, shape (p, p)
        :math:`S`, scatter divided by n.
    n_samples : int
    sum_fourth : Tensor, scalar
        :math:`\\sum_i \\lVert c_i\\rVert^4` of the centred rows.

    Returns
    -------
    Tensor, scalar in [0, 1]
    """
    dim = covariance.shape[0]
    mean_variance = torch.diagonal(covariance).sum() / dim
    frobenius_sq = covariance.pow(2).sum()
    eye = torch.eye(dim, dtype=covariance.dtype, device=covariance.device)  # p x p
    delta = (covariance - mean_variance * eye).pow(2).sum() / dim
    beta = (sum_fourth / n_samples - frobenius_sq) / (n_samples * dim)
    beta = torch.minimum(beta.clamp(min=0.0), delta)
    return torch.where(delta > 0, beta / torch.where(delta > 0, delta, 1.0), 0.0)


def shrunk_covariance(covariance: Tensor, shrinkage: float | Tensor) -> Tensor:
    """:math:`(1 - s) S + s \\bar v I` with :math:`\\bar v = \\operatorname{tr} S / p`.

    Parameters
    ----------
    covariance : Tensor, shape (p, p)
    shrinkage : float or scalar Tensor in [0, 1]

    Returns
    -------
    Tensor, shape (p, p)
    """
    dim = covariance.shape[0]
    mean_variance = torch.diagonal(covariance).sum() / dim
    eye = torch.eye(dim, dtype=covariance.dtype, device=covariance.device)  # p x p
    return (1.0 - shrinkage) * covariance + shrinkage * mean_variance * eye


def chi2_distance_quantile(quantile: float, dim: int) -> float:
    """Distance d with :math:`P(\\chi^2_{dim} \\le d^2) =` ``quantile``.

    A code drawn from the Gaussian it is measured against has a squared
    Mahalanobis distance distributed as chi-square with ``dim`` degrees of
    freedom; this is the matching quantile of the distance itself.
    """
    return float(math.sqrt(chi2.ppf(quantile, dim)))
