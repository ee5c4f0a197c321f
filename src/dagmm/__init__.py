"""dagmm: deep unsupervised anomaly detection on PyTorch.

The Deep Autoencoding Gaussian Mixture Model (Zong et al., ICLR 2018) and
related detectors with a scikit-learn outlier API, persistence without pickle,
data set loaders, a benchmark harness and a command-line tool.
"""

from dagmm._version import __version__
from dagmm.estimators import DAGMM, VAEDetector

__all__ = ["DAGMM", "VAEDetector", "__version__"]
