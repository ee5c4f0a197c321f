"""Reconstruction features appended to the latent code (paper section 3.1).

The paper's mixture input is the latent code next to "features derived from
the reconstruction error", its examples being the relative Euclidean distance
and the cosine similarity. :data:`RECONSTRUCTION_FEATURES` names what can be
chosen here; ``("relative", "cosine")`` is the paper's choice.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

__all__ = [
    "DEFAULT_RECONSTRUCTION_FEATURES",
    "NORM_FLOOR",
    "RECONSTRUCTION_FEATURES",
    "check_reconstruction_features",
    "reconstruction_features",
]

#: Floor of the norms in the denominators, so that an all-zero row gives finite
#: features (relative distance ||x_hat|| / eps, cosine 0) instead of NaN.
NORM_FLOOR = 1e-6

#: What each feature name means (x: input row, x_hat: its reconstruction).
RECONSTRUCTION_FEATURES: dict[str, str] = {
    "relative": "relative Euclidean distance ||x - x_hat|| / ||x||",
    "cosine": "cosine similarity of x and x_hat",
    "euclidean": "Euclidean distance ||x - x_hat||",
}

#: The paper's choice.
DEFAULT_RECONSTRUCTION_FEATURES: tuple[str, ...] = ("relative", "cosine")


def check_reconstruction_features(value: object) -> tuple[str, ...]:
    """Validate a sequence of feature names; return it as a tuple.

    Raises
    ------
    ValueError
        Naming the parameter, the value and the allowed names.
    """
    names = (
        tuple(value)
        if isinstance(value, Sequence) and not isinstance(value, (str, bytes))
        else None
    )
    if (
        names is None
        or not all(isinstance(name, str) and name in RECONSTRUCTION_FEATURES for name in names)
        or len(set(names)) != len(names)
    ):
        raise ValueError(
            f"reconstruction_features={value!r} is invalid: expected a sequence of distinct "
            f"names from {sorted(RECONSTRUCTION_FEATURES)}, e.g. ('relative', 'cosine')"
        )
    return names


def reconstruction_features(
    x: Tensor, x_hat: Tensor, features: Sequence[str] = DEFAULT_RECONSTRUCTION_FEATURES
) -> Tensor:
    """Per-row features of the reconstruction, in the order of ``features``.

    Parameters
    ----------
    x : Tensor, shape (N, D)
        Inputs.
    x_hat : Tensor, shape (N, D)
        Reconstructions.
    features : sequence of str, default=("relative", "cosine")
        Names from :data:`RECONSTRUCTION_FEATURES`:
        ``"relative"`` :math:`\\lVert x-\\hat x\\rVert / \\lVert x\\rVert`,
        ``"cosine"`` :math:`x\\cdot\\hat x / (\\lVert x\\rVert\\,\\lVert\\hat x\\rVert)`,
        ``"euclidean"`` :math:`\\lVert x-\\hat x\\rVert`.

    Returns
    -------
    Tensor, shape (N, len(features))
    """
    norm_x = torch.linalg.vector_norm(x, dim=1)  # N
    distance = torch.linalg.vector_norm(x - x_hat, dim=1)  # N
    columns = []
    for name in features:
        if name == "relative":
            columns.append(distance / norm_x.clamp_min(NORM_FLOOR))  # N
        elif name == "cosine":
            norm_x_hat = torch.linalg.vector_norm(x_hat, dim=1)  # N
            dot = (x * x_hat).sum(dim=1)  # N
            columns.append(dot / (norm_x * norm_x_hat).clamp_min(NORM_FLOOR))
        elif name == "euclidean":
            columns.append(distance)
        else:
            raise ValueError(f"unknown reconstruction feature {name!r}")
    if not columns:
        return x.new_empty((x.shape[0], 0))
    return torch.stack(columns, dim=1)  # N x len(features)
