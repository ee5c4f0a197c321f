"""scikit-learn compatible detectors."""

from dagmm.estimators._base import data_parallel_group, resolve_device
from dagmm.estimators.dagmm import DAGMM, fit_mixture_by_bic
from dagmm.estimators.vae import VAE_PRESETS, VAEDetector

__all__ = [
    "DAGMM",
    "VAE_PRESETS",
    "VAEDetector",
    "data_parallel_group",
    "fit_mixture_by_bic",
    "resolve_device",
]
