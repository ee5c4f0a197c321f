"""scikit-learn compatible detectors."""

from dagmm.estimators.dagmm import DAGMM

__all__ = ["DAGMM"]
