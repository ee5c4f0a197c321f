"""scikit-learn compatible detectors."""

from dagmm.estimators._base import (
    RENAMED_PARAMETERS,
    BaseDeepDetector,
    data_parallel_group,
    resolve_device,
)
from dagmm.estimators.dagmm import DAGMM, fit_mixture_by_bic
from dagmm.estimators.presets import PAPER_PRESETS, TUNED_PRESETS
from dagmm.estimators.vae import VAE_PRESETS, VAEDetector
from dagmm.estimators.widths import default_comp_hiddens, default_minibatch_size

__all__ = [
    "DAGMM",
    "PAPER_PRESETS",
    "RENAMED_PARAMETERS",
    "TUNED_PRESETS",
    "BaseDeepDetector",
    "default_comp_hiddens",
    "default_minibatch_size",
    "VAE_PRESETS",
    "VAEDetector",
    "data_parallel_group",
    "fit_mixture_by_bic",
    "resolve_device",
]
