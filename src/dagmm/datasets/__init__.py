"""Loaders of the anomaly-detection benchmark data sets used with DAGMM.

Every loader looks its files up in the data home (see :func:`get_data_home`),
downloads a missing one when a public address is known (SHA-256 checked where
the digest is known), parses and encodes it without scaling, and returns a
:class:`sklearn.utils.Bunch` (``data``, ``target``, ``feature_names``,
``DESCR``, ...) or ``(X, y)`` with ``return_X_y=True``. ``target`` is 1 for an
anomaly, except in :func:`load_mnist` where it is the digit.
"""

from dagmm.datasets._base import DATA_HOME_ENV, get_data_home
from dagmm.datasets.creditcard import load_creditcard
from dagmm.datasets.kddcup99 import load_kddcup99
from dagmm.datasets.mnist import load_mnist
from dagmm.datasets.odds import ODDS_NAMES, load_odds

__all__ = [
    "DATA_HOME_ENV",
    "ODDS_NAMES",
    "get_data_home",
    "load_creditcard",
    "load_kddcup99",
    "load_mnist",
    "load_odds",
]
