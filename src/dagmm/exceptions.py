"""Exceptions raised by dagmm.

Every class derives from a built-in exception that callers already catch
(``ValueError``, ``RuntimeError``), so ``except ValueError`` keeps working, and
from :class:`DAGMMError`, so ``except DAGMMError`` catches everything this
library raises on purpose.
"""

from __future__ import annotations


class DAGMMError(Exception):
    """Base class of every error raised on purpose by dagmm."""


class ModelFileError(DAGMMError, ValueError):
    """A saved model directory is missing, damaged, truncated or foreign."""


class CovarianceError(DAGMMError, ValueError):
    """A mixture covariance matrix is not positive definite (Cholesky failed)."""


class TrainingDivergedError(DAGMMError, RuntimeError):
    """The training loss became NaN or infinite."""


class DataError(DAGMMError, ValueError):
    """Input data has the wrong shape, type, columns or values."""


class DatasetNotFoundError(DAGMMError, FileNotFoundError):
    """A data set file is neither in the data home nor downloadable."""


class ExportError(DAGMMError, ValueError):
    """A fitted model cannot be exported (to ONNX); the message says why and what to do."""
