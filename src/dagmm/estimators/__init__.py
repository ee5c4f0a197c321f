"""scikit-learn compatible detectors."""

from dagmm.estimators.dagmm import DAGMM
from dagmm.estimators.vae import VAEDetector

__all__ = ["DAGMM", "VAEDetector"]
