"""Reconstruction features appended to the latent code (paper section 3.1)."""

from __future__ import annotations

import torch
from torch import Tensor

#: Floor of the norms in the denominators, so that an all-zero row gives finite
#: features (relative distance ||x_hat|| / eps, cosine 0) instead of NaN.
NORM_FLOOR = 1e-6


def reconstruction_features(x: Tensor, x_hat: Tensor) -> Tensor:
    """Relative Euclidean distance and cosine similarity of each row.

    Parameters
    ----------
    x : Tensor, shape (N, D)
        Inputs.
    x_hat : Tensor, shape (N, D)
        Reconstructions.

    Returns
    -------
    Tensor, shape (N, 2)
        Column 0: :math:`\\lVert x-\\hat x\\rVert / \\lVert x\\rVert`;
        column 1: :math:`x\\cdot\\hat x / (\\lVert x\\rVert\\,\\lVert\\hat x\\rVert)`.
    """
    norm_x = torch.linalg.vector_norm(x, dim=1)  # N
    norm_x_hat = torch.linalg.vector_norm(x_hat, dim=1)  # N
    distance = torch.linalg.vector_norm(x - x_hat, dim=1)  # N
    relative_distance = distance / norm_x.clamp_min(NORM_FLOOR)  # N
    cosine = (x * x_hat).sum(dim=1) / (norm_x * norm_x_hat).clamp_min(NORM_FLOOR)  # N
    return torch.stack([relative_distance, cosine], dim=1)  # N x 2
