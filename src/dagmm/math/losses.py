"""DAGMM training objective (paper eq. 7)."""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor

from dagmm.math.gmm import batch_mixture_terms

#: How the per-sample reconstruction error reduces over features.
RECONSTRUCTION_REDUCTIONS = ("sum", "mean")


def reconstruction_error(x: Tensor, x_hat: Tensor, reduction: str = "sum") -> Tensor:
    """Per-sample squared error.

    Parameters
    ----------
    x, x_hat : Tensor, shape (N, D)
    reduction : {"sum", "mean"}
        ``"sum"`` is the paper's squared L2 norm; ``"mean"`` divides it by D.

    Returns
    -------
    Tensor, shape (N,)
    """
    squared = (x - x_hat).pow(2)  # N x D
    return squared.sum(dim=1) if reduction == "sum" else squared.mean(dim=1)


class DAGMMLoss(NamedTuple):
    """The objective and its parts for one batch.

    Attributes
    ----------
    total : Tensor, scalar
        reconstruction + lambda1 * energy + lambda2 * covariance_penalty.
    terms : Tensor, shape (3,)
        Detached [reconstruction, energy, covariance_penalty], for logging.
    cholesky_failures : Tensor, scalar int
        Number of components whose Cholesky factorisation failed.
    """

    total: Tensor
    terms: Tensor
    cholesky_failures: Tensor


def dagmm_objective(
    x: Tensor,
    x_hat: Tensor,
    z: Tensor,
    gamma: Tensor,
    *,
    lambda1: float,
    lambda2: float,
    reg_covar: float,
    reconstruction: str = "sum",
) -> DAGMMLoss:
    """The DAGMM loss of one minibatch, with the mixture estimated from that batch.

    Parameters
    ----------
    x, x_hat : Tensor, shape (N, D)
    z : Tensor, shape (N, d)
    gamma : Tensor, shape (N, K)
    lambda1 : float
        Weight of the mean sample energy.
    lambda2 : float
        Weight of the covariance-diagonal penalty.
    reg_covar : float
        Jitter added to the covariance diagonals.
    reconstruction : {"sum", "mean"}
        See :func:`reconstruction_error`.
    """
    rec = reconstruction_error(x, x_hat, reconstruction).mean()
    # The mixture part runs in float64: with float32, a dimension of tiny variance
    # next to one of large variance (the cosine feature is often ~1 +- 1e-4) makes
    # covariances indefinite by rounding alone. It is O(N K d^2), cheap next to the
    # networks, and gradients flow back to the float32 networks unchanged.
    z, gamma = z.double(), gamma.double()
    # Failures are counted without synchronising and checked once per epoch.
    energies, penalty, failures = batch_mixture_terms(z, gamma, reg_covar)
    energy = energies.mean()
    total = rec + (lambda1 * energy + lambda2 * penalty).to(rec.dtype)
    terms = torch.stack([rec.double(), energy, penalty]).detach()
    return DAGMMLoss(total, terms, failures)
