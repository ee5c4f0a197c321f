r"""Gaussian mixture statistics and the DAGMM sample energy.

Notation (Zong et al., 2018, section 3.3): ``z`` holds N samples of dimension d,
``gamma`` their soft memberships over K components. The mixture parameters are

.. math::

    \phi_k = \frac{1}{N}\sum_i \gamma_{ik},\qquad
    \mu_k = \frac{\sum_i \gamma_{ik} z_i}{\sum_i \gamma_{ik}},\qquad
    \Sigma_k = \frac{\sum_i \gamma_{ik}(z_i-\mu_k)(z_i-\mu_k)^\top}{\sum_i \gamma_{ik}}

and the sample energy is

.. math::

    E(z) = -\log \sum_k \phi_k\, \mathcal{N}(z;\mu_k,\Sigma_k).

Densities go through the Cholesky factor :math:`\Sigma_k = L_k L_k^\top` and its
triangular inverse :math:`P_k = L_k^{-1}` (the *precision Cholesky*):
:math:`\log\mathcal{N}(z;\mu_k,\Sigma_k) = -\tfrac12\lVert P_k(z-\mu_k)\rVert^2
+ \sum_j \log (P_k)_{jj} - \tfrac d2 \log 2\pi`, and the sum over components is a
log-sum-exp. No matrix inverse or determinant is ever formed.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import NamedTuple

import torch
from torch import Tensor

from dagmm.exceptions import CovarianceError

_LOG_2PI = math.log(2.0 * math.pi)


class GaussianMoments(NamedTuple):
    """Per-component weighted moments, centred (mergeable across batches).

    Attributes
    ----------
    total_weight : Tensor, shape (K,)
        :math:`\\sum_i \\gamma_{ik}`.
    mean : Tensor, shape (K, d)
        Weighted mean of each component.
    scatter : Tensor, shape (K, d, d)
        :math:`\\sum_i \\gamma_{ik}(z_i-\\mu_k)(z_i-\\mu_k)^\\top` (not yet divided).
    n_samples : int
        Number of samples the moments were accumulated over.
    """

    total_weight: Tensor
    mean: Tensor
    scatter: Tensor
    n_samples: int


def _safe_weight(total_weight: Tensor) -> Tensor:
    # A component that receives no membership would divide by zero; a few ulps
    # keep it finite (its weight phi_k is then ~0 and it does not matter).
    return total_weight + 10 * torch.finfo(total_weight.dtype).eps


def weighted_moments(z: Tensor, gamma: Tensor) -> GaussianMoments:
    """Centred weighted moments of one batch.

    Parameters
    ----------
    z : Tensor, shape (N, d)
    gamma : Tensor, shape (N, K)
        Soft memberships; rows sum to one.

    Returns
    -------
    GaussianMoments
    """
    total_weight = gamma.sum(dim=0)  # K
    mean = (gamma.T @ z) / _safe_weight(total_weight)[:, None]  # K x d
    centred = z.unsqueeze(0) - mean.unsqueeze(1)  # K x N x d
    weighted = gamma.T.unsqueeze(-1) * centred  # K x N x d
    scatter = weighted.transpose(1, 2) @ centred  # K x d x d
    return GaussianMoments(total_weight, mean, scatter, z.shape[0])


def combine_moments(a: GaussianMoments, b: GaussianMoments) -> GaussianMoments:
    """Merge the moments of two disjoint batches (Chan et al.'s pairwise update).

    Exact in exact arithmetic and numerically stable, so statistics gathered
    batch by batch over a whole data set equal the one-pass result while memory
    stays constant.
    """
    total = a.total_weight + b.total_weight  # K
    safe_total = _safe_weight(total)
    delta = b.mean - a.mean  # K x d
    mean = a.mean + delta * (b.total_weight / safe_total)[:, None]  # K x d
    cross = (a.total_weight * b.total_weight / safe_total)[:, None, None]  # K x 1 x 1
    scatter = a.scatter + b.scatter + cross * delta.unsqueeze(2) * delta.unsqueeze(1)  # K x d x d
    return GaussianMoments(total, mean, scatter, a.n_samples + b.n_samples)


def gmm_from_moments(
    moments: GaussianMoments, reg_covar: float
) -> tuple[Tensor, Tensor, Tensor]:
    """Mixture weights, means and covariances (jitter included) from moments.

    Returns
    -------
    weights : Tensor, shape (K,)
    means : Tensor, shape (K, d)
    covariances : Tensor, shape (K, d, d)
        :math:`\\Sigma_k + \\text{reg\\_covar}\\, I`: exactly the matrices the
        energy uses.
    """
    total_weight, mean, scatter, n_samples = moments
    weights = total_weight / n_samples  # K
    eye = torch.eye(mean.shape[1], dtype=mean.dtype, device=mean.device)  # d x d
    covariances = scatter / _safe_weight(total_weight)[:, None, None] + reg_covar * eye  # K x d x d
    return weights, mean, covariances


def gmm_parameters(z: Tensor, gamma: Tensor, reg_covar: float) -> tuple[Tensor, Tensor, Tensor]:
    """Mixture parameters of one batch (paper eq. 5), differentiable.

    Parameters
    ----------
    z : Tensor, shape (N, d)
    gamma : Tensor, shape (N, K)
    reg_covar : float
        Added to every covariance diagonal.

    Returns
    -------
    weights (K,), means (K, d), covariances (K, d, d)
    """
    return gmm_from_moments(weighted_moments(z, gamma), reg_covar)


def cholesky_checked(covariances: Tensor) -> Tensor:
    """Lower Cholesky factors, or a :class:`CovarianceError` saying what to do.

    Parameters
    ----------
    covariances : Tensor, shape (K, d, d)

    Returns
    -------
    Tensor, shape (K, d, d)
    """
    factors, info = torch.linalg.cholesky_ex(covariances)
    failed = torch.nonzero(info).flatten().tolist()
    if failed or not bool(torch.isfinite(factors).all()):
        raise CovarianceError(
            f"the covariance matrix of mixture component(s) {failed or 'unknown'} is not positive "
            "definite (Cholesky failed), so the sample energy is undefined. Remedies: raise "
            "`reg_covar` (diagonal jitter) or `lambda2` (covariance penalty), use fewer mixture "
            "components (last entry of `est_hiddens`), or scale the input (normalize='standard')."
        )
    return factors


def precision_cholesky(cholesky_factors: Tensor) -> Tensor:
    """Triangular inverses :math:`P_k = L_k^{-1}` by a triangular solve.

    Parameters
    ----------
    cholesky_factors : Tensor, shape (K, d, d), lower triangular

    Returns
    -------
    Tensor, shape (K, d, d), lower triangular
    """
    eye = torch.eye(
        cholesky_factors.shape[-1], dtype=cholesky_factors.dtype, device=cholesky_factors.device
    ).expand_as(cholesky_factors)  # K x d x d
    return torch.linalg.solve_triangular(cholesky_factors, eye, upper=False)


def log_component_densities(z: Tensor, means: Tensor, prec_chol: Tensor) -> Tensor:
    """:math:`\\log\\mathcal N(z_i;\\mu_k,\\Sigma_k)` for every sample and component.

    Parameters
    ----------
    z : Tensor, shape (N, d)
    means : Tensor, shape (K, d)
    prec_chol : Tensor, shape (K, d, d)
        :math:`L_k^{-1}` from :func:`precision_cholesky`.

    Returns
    -------
    Tensor, shape (N, K)
    """
    n_components, dim = means.shape
    transposed = prec_chol.transpose(1, 2)  # K x d x d, P_k^T
    # One matmul for all components: row i of z times [P_1^T | ... | P_K^T].
    stacked = transposed.permute(1, 0, 2).reshape(dim, n_components * dim)  # d x (K d)
    shift = (means.unsqueeze(1) @ transposed).reshape(1, n_components * dim)  # 1 x (K d)
    whitened = (z @ stacked - shift).reshape(-1, n_components, dim)  # N x K x d
    mahalanobis_sq = whitened.pow(2).sum(dim=-1)  # N x K
    half_log_det_precision = torch.diagonal(prec_chol, dim1=-2, dim2=-1).log().sum(-1)  # K
    return -0.5 * (dim * _LOG_2PI + mahalanobis_sq) + half_log_det_precision  # N x K


def sample_energy(z: Tensor, weights: Tensor, means: Tensor, prec_chol: Tensor) -> Tensor:
    """Sample energy :math:`E(z) = -\\log\\sum_k \\phi_k \\mathcal N(z;\\mu_k,\\Sigma_k)`.

    Parameters
    ----------
    z : Tensor, shape (N, d)
    weights : Tensor, shape (K,)
    means : Tensor, shape (K, d)
    prec_chol : Tensor, shape (K, d, d)

    Returns
    -------
    Tensor, shape (N,)
    """
    log_weighted = log_component_densities(z, means, prec_chol) + weights.log()  # N x K
    return -torch.logsumexp(log_weighted, dim=1)  # N


def covariance_diagonal_penalty(covariances: Tensor) -> Tensor:
    """:math:`P(\\hat\\Sigma) = \\sum_k\\sum_j 1/\\hat\\Sigma_{kjj}` (paper eq. 7).

    Parameters
    ----------
    covariances : Tensor, shape (K, d, d)

    Returns
    -------
    Tensor, scalar
    """
    return torch.diagonal(covariances, dim1=-2, dim2=-1).reciprocal().sum()


def batch_mixture_terms(
    z: Tensor, gamma: Tensor, reg_covar: float
) -> tuple[Tensor, Tensor, Tensor]:
    """Energies under a batch's own mixture, its covariance penalty and failures.

    The training objective's mixture part (paper eqs. 5-7): the mixture is
    estimated from the batch itself (:func:`gmm_parameters`) and every sample's
    :func:`sample_energy` taken under it. Differentiable.

    Parameters
    ----------
    z : Tensor, shape (N, d)
    gamma : Tensor, shape (N, K)
    reg_covar : float
        Added to every covariance diagonal.

    Returns
    -------
    energy : Tensor, shape (N,)
    penalty : Tensor, scalar
        :func:`covariance_diagonal_penalty` of the covariances.
    failures : Tensor, scalar int64
        Number of components whose Cholesky factorisation failed (their
        energies are then not meaningful); counted without synchronising.
    """
    weights, means, covariances = gmm_parameters(z, gamma, reg_covar)
    factors, info = torch.linalg.cholesky_ex(covariances)
    energy = sample_energy(z, weights, means, precision_cholesky(factors))
    return energy, covariance_diagonal_penalty(covariances), torch.count_nonzero(info)


def shared_mixture_terms(
    z: Tensor,
    gamma: Tensor,
    reg_covar: float,
    n_samples: int,
    sum_over_holders: Callable[[Tensor], Tensor],
) -> tuple[Tensor, Tensor, Tensor]:
    """:func:`batch_mixture_terms` of a batch whose rows are spread over several holders.

    Each holder (a process of a data-parallel fit) passes its own rows; the
    mixture is that of the whole batch: ``sum_over_holders`` adds a tensor
    over all holders (differentiably, e.g. an autograd-aware all-reduce), so
    the energies, the penalty and their gradients are those of the whole
    batch. Two rounds, as :func:`weighted_moments`: the memberships and
    weighted sums of z give the means, then the centred scatter is summed
    (centring first keeps the float64 covariance of a feature such as the
    cosine, ~1 +- 1e-4, free of cancellation).

    Parameters
    ----------
    z : Tensor, shape (n, d)
        This holder's rows (n may be 0).
    gamma : Tensor, shape (n, K)
    reg_covar : float
    n_samples : int
        Rows of the whole batch (over all holders).
    sum_over_holders : callable
        Tensor -> its sum over holders, same shape.

    Returns
    -------
    energy : Tensor, shape (n,)
        This holder's rows' energies under the whole batch's mixture.
    penalty : Tensor, scalar
        :func:`covariance_diagonal_penalty` (the same on every holder).
    failures : Tensor, scalar int64
        Components whose Cholesky factorisation failed.
    """
    n_components, dim = gamma.shape[1], z.shape[1]
    first = sum_over_holders(torch.cat([gamma.sum(dim=0), (gamma.T @ z).reshape(-1)]))
    total_weight = first[:n_components]  # K
    safe_weight = _safe_weight(total_weight)  # K
    means = first[n_components:].reshape(n_components, dim) / safe_weight[:, None]  # K x d
    centred = z.unsqueeze(0) - means.unsqueeze(1)  # K x n x d
    scatter = (gamma.T.unsqueeze(-1) * centred).transpose(1, 2) @ centred  # K x d x d
    scatter = sum_over_holders(scatter)
    eye = torch.eye(dim, dtype=z.dtype, device=z.device)  # d x d
    covariances = scatter / safe_weight[:, None, None] + reg_covar * eye  # K x d x d
    factors, info = torch.linalg.cholesky_ex(covariances)
    weights = total_weight / n_samples  # K
    energy = sample_energy(z, weights, means, precision_cholesky(factors))  # n
    return energy, covariance_diagonal_penalty(covariances), torch.count_nonzero(info)
