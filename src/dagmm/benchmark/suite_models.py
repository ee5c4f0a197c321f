"""Models of the suite benchmark (``dagmm benchmark suite``): name -> factory.

A factory is called as ``factory(seed, quick)`` and returns a
:class:`~dagmm.benchmark.models.BenchmarkModel` (``fit``, ``energy``,
``config``). Every model gets the same rows, already standardised on the
training rows by the suite, and no per-data-set setting: what a user gets
with no tuning.

* ``dagmm``: ``DAGMM()`` with its defaults (only ``random_state`` set).
* ``dagmm-paper``: DAGMM with the paper's generic settings (the defaults
  before the suite study: loss weights 0.1 / 0.005, a one-dimensional code,
  learning rate 1e-4, 200 epochs).
* ``vae``: ``VAEDetector()`` with its defaults.
* ``iforest``: 100 trees, 256 rows per tree (scikit-learn defaults).
* ``knn``: distance to the 5th nearest training row.
* ``gmm``: full-covariance Gaussian mixture; K = 1, 2, ... up to
  :data:`GMM_MAX_COMPONENTS`, kept while the training rows' BIC improves.
* ``ocsvm``: RBF kernel, ``gamma="scale"``, ``nu=0.1`` (as in the paper
  benchmark), at most 10,000 training rows.
* ``pca``: squared reconstruction error from the principal components that
  explain :data:`PCA_VARIANCE` of the training variance.

Register another model (a study variant, say) by adding a factory to
:data:`SUITE_MODELS`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from sklearn.decomposition import PCA
from sklearn.neighbors import NearestNeighbors

from dagmm.benchmark._util import unknown_name_message
from dagmm.benchmark.models import BenchmarkModel, EstimatorModel, _make_iforest, _make_ocsvm

__all__ = [
    "GMM_MAX_COMPONENTS",
    "KNN_NEIGHBORS",
    "PCA_VARIANCE",
    "QUICK_EPOCHS",
    "SUITE_MODELS",
    "BICGaussianMixture",
    "KNNDetector",
    "PCADetector",
    "check_suite_model",
    "make_suite_model",
]

SuiteModelFactory = Callable[[int, bool], BenchmarkModel]

#: Neighbour whose distance is the kNN energy.
KNN_NEIGHBORS = 5
#: Largest number of mixture components the BIC search tries.
GMM_MAX_COMPONENTS = 8
#: Share of the training variance the PCA baseline keeps.
PCA_VARIANCE = 0.95
#: Epochs of the deep models in a ``--quick`` run.
QUICK_EPOCHS = 2


class KNNDetector:
    """Energy = Euclidean distance to the ``n_neighbors``-th nearest training row."""

    def __init__(self, n_neighbors: int = KNN_NEIGHBORS) -> None:
        self.n_neighbors = n_neighbors

    def fit(self, X: ArrayLike) -> KNNDetector:
        rows = np.asarray(X, dtype=np.float64)  # (N, D)
        self.k_ = min(self.n_neighbors, rows.shape[0])
        self.index_ = NearestNeighbors(n_neighbors=self.k_).fit(rows)
        return self

    def energy(self, X: ArrayLike) -> NDArray[np.float64]:
        distances, _ = self.index_.kneighbors(np.asarray(X, dtype=np.float64))  # (N, k)
        return distances[:, -1]


class BICGaussianMixture:
    """Full-covariance Gaussian mixture with K chosen by BIC on the training rows.

    K = 1, 2, ... up to ``max_components`` while BIC improves
    (:func:`dagmm.estimators.fit_mixture_by_bic`, the search DAGMM's
    ``mixture="bic"`` runs on its codes). Energy = negative log-likelihood.
    """

    def __init__(
        self, max_components: int = GMM_MAX_COMPONENTS, reg_covar: float = 1e-6, seed: int = 0
    ) -> None:
        self.max_components = max_components
        self.reg_covar = reg_covar
        self.seed = seed

    def fit(self, X: ArrayLike) -> BICGaussianMixture:
        from dagmm.estimators import fit_mixture_by_bic

        rows = np.asarray(X, dtype=np.float64)  # (N, D)
        self.mixture_ = fit_mixture_by_bic(rows, self.max_components, self.reg_covar, self.seed)
        self.n_components_ = self.mixture_.n_components
        return self

    def energy(self, X: ArrayLike) -> NDArray[np.float64]:
        return -self.mixture_.score_samples(np.asarray(X, dtype=np.float64))


class PCADetector:
    """Squared reconstruction error from the components explaining ``variance``."""

    def __init__(self, variance: float = PCA_VARIANCE, seed: int = 0) -> None:
        self.variance = variance
        self.seed = seed

    def fit(self, X: ArrayLike) -> PCADetector:
        rows = np.asarray(X, dtype=np.float64)
        self.pca_ = PCA(n_components=self.variance, svd_solver="full").fit(rows)
        return self

    def energy(self, X: ArrayLike) -> NDArray[np.float64]:
        rows = np.asarray(X, dtype=np.float64)  # (N, D)
        rebuilt = self.pca_.inverse_transform(self.pca_.transform(rows))  # (N, D)
        return np.square(rows - rebuilt).sum(axis=1)


class _FittedParams(EstimatorModel):
    """:class:`EstimatorModel` whose config also records what the fit chose."""

    def __init__(self, *args: Any, chosen: Callable[[Any], dict[str, Any]], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._chosen = chosen

    @property
    def config(self) -> dict[str, Any]:
        config = super().config
        if self.n_train_rows is not None:
            config["fitted"] = self._chosen(self.estimator)
        return config


def _quick(params: dict[str, Any], quick: bool) -> dict[str, Any]:
    return {**params, "epoch_size": QUICK_EPOCHS} if quick else params


def _make_dagmm(seed: int, quick: bool) -> BenchmarkModel:
    from dagmm import DAGMM

    params = _quick({"random_state": seed, "verbose": 0}, quick)
    return EstimatorModel("dagmm", DAGMM(**params), params)


#: The paper's generic settings (the defaults of ``DAGMM()`` before the suite study).
PAPER_GENERIC_DAGMM: dict[str, Any] = {
    "comp_hiddens": None,
    "comp_activation": "tanh",
    "est_hiddens": (10, 4),
    "est_dropout_ratio": 0.5,
    "minibatch_size": 1024,
    "epoch_size": 200,
    "learning_rate": 1e-4,
    "lambda1": 0.1,
    "lambda2": 0.005,
    "reconstruction_features": ("relative", "cosine"),
    "mixture": "network",
    "normalize": True,
}


def paper_generic_comp_hiddens(n_features: int) -> tuple[int, ...]:
    """The compression widths ``DAGMM()`` used before the suite study (one-dimensional code).

    The first layer has half the input width, clipped to [8, 64]; the next
    halves it (at least 4), the next divides by three (at least 2); the code
    has one dimension: (59, 30, 10, 1) for the paper's 118 KDDCUP features.
    """
    first = int(min(max(math.ceil(n_features / 2), 8), 64))
    second = max(math.ceil(first / 2), 4)
    third = max(math.ceil(second / 3), 2)
    return (first, second, third, 1)


class _PaperWidths(EstimatorModel):
    """DAGMM whose compression widths follow the paper-era rule of the input width."""

    def fit(self, X: ArrayLike) -> EstimatorModel:
        widths = paper_generic_comp_hiddens(np.shape(X)[1])
        self.estimator.set_params(comp_hiddens=widths)
        self.params = {**self.params, "comp_hiddens": list(widths)}
        return super().fit(X)


def _make_dagmm_paper(seed: int, quick: bool) -> BenchmarkModel:
    from dagmm import DAGMM

    params = _quick({**PAPER_GENERIC_DAGMM, "random_state": seed, "verbose": 0}, quick)
    return _PaperWidths("dagmm-paper", DAGMM(**params), params)


def _make_vae(seed: int, quick: bool) -> BenchmarkModel:
    from dagmm import VAEDetector

    params = _quick({"random_state": seed, "verbose": 0}, quick)
    return EstimatorModel("vae", VAEDetector(**params), params)


def _make_knn(seed: int, quick: bool) -> BenchmarkModel:
    params = {"n_neighbors": KNN_NEIGHBORS}
    return EstimatorModel("knn", KNNDetector(**params), params)


def _make_gmm(seed: int, quick: bool) -> BenchmarkModel:
    params = {"max_components": GMM_MAX_COMPONENTS, "reg_covar": 1e-6, "seed": seed}
    return _FittedParams(
        "gmm",
        BICGaussianMixture(**params),
        {**params, "covariance_type": "full", "selection": "bic"},
        chosen=lambda gmm: {"n_components": gmm.n_components_},
    )


def _make_pca(seed: int, quick: bool) -> BenchmarkModel:
    params = {"variance": PCA_VARIANCE}
    return _FittedParams(
        "pca",
        PCADetector(**params),
        params,
        chosen=lambda pca: {"n_components": int(pca.pca_.n_components_)},
    )


#: Registry of suite models. Mutable on purpose: add a factory to compare another model.
SUITE_MODELS: dict[str, SuiteModelFactory] = {
    "dagmm": _make_dagmm,
    "dagmm-paper": _make_dagmm_paper,
    "vae": _make_vae,
    "iforest": lambda seed, quick: _make_iforest("", seed, quick),
    "knn": _make_knn,
    "gmm": _make_gmm,
    "ocsvm": lambda seed, quick: _make_ocsvm("", seed, quick),
    "pca": _make_pca,
}


def check_suite_model(name: str) -> None:
    """Raise ValueError, with a suggestion, when ``name`` is not in :data:`SUITE_MODELS`."""
    if name not in SUITE_MODELS:
        raise ValueError(unknown_name_message("model", name, SUITE_MODELS))


def make_suite_model(name: str, seed: int, quick: bool = False) -> BenchmarkModel:
    """Build suite model ``name`` for ``seed`` (``quick``: a few epochs, smoke runs)."""
    check_suite_model(name)
    return SUITE_MODELS[name](seed, quick)
