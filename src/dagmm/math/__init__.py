"""Pure tensor functions: mixture statistics, sample energy, losses.

Nothing here holds state or touches modules; every function is tested in
float64 against an independent naive reference.
"""

from dagmm.math.gmm import (
    GaussianMoments,
    cholesky_checked,
    combine_moments,
    covariance_diagonal_penalty,
    gmm_from_moments,
    gmm_parameters,
    log_component_densities,
    precision_cholesky,
    sample_energy,
    weighted_moments,
)
from dagmm.math.reconstruction import (
    NORM_FLOOR,
    check_reconstruction_features,
    reconstruction_features,
)
from dagmm.math.scaling import CONSTANT_RTOL, constant_columns

__all__ = [
    "CONSTANT_RTOL",
    "NORM_FLOOR",
    "GaussianMoments",
    "check_reconstruction_features",
    "cholesky_checked",
    "combine_moments",
    "constant_columns",
    "covariance_diagonal_penalty",
    "gmm_from_moments",
    "gmm_parameters",
    "log_component_densities",
    "precision_cholesky",
    "reconstruction_features",
    "sample_energy",
    "weighted_moments",
]
