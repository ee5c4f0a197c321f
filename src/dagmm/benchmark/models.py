"""Registry of the models a benchmark compares: name -> factory.

A factory is called as ``factory(dataset_name, seed, quick)`` and returns a
:class:`BenchmarkModel`: an object with ``fit(X_train)``, ``energy(X)``
(higher = more anomalous) and a JSON-ready ``config`` recorded with each
result. Inputs are already scaled by the protocol
(:func:`dagmm.benchmark.protocol.fit_scaler`), so no model rescales them.

Baseline settings (chosen here, not in the paper):

* ``ocsvm``: RBF kernel, ``gamma="scale"``, ``nu=0.1``. Kernel SVM training
  grows with the square of the rows, so at most :data:`OCSVM_MAX_TRAIN_ROWS`
  training rows are used, drawn without replacement with the run's seed; the
  config records how many.
* ``iforest``: 100 trees, 256 samples per tree (scikit-learn defaults).
* ``gmm``: full-covariance mixture on the scaled features, K from the
  paper's preset of the data set (4 on KDDCUP, 2 on Thyroid), ``reg_covar=1e-6``
  as in DAGMM.
* ``pae`` / ``pae-gmm``: see :mod:`dagmm.benchmark.baselines`; same widths,
  epochs, batch size and learning rate as the data set's DAGMM preset, and
  for ``pae-gmm`` the paper's K.
* ``dagmm`` / ``dagmm-p``: :class:`dagmm.DAGMM` with the data set's preset
  (:data:`~dagmm.benchmark.presets.PRESETS`, tuned by the study in
  ``benchmarks/results/study.md``). ``normalize`` comes from the preset:
  False unless the preset rescales on top of the protocol's scaling.
  ``dagmm-p`` first pretrains the compression network on reconstruction
  alone for as many epochs as the preset's end-to-end phase (the paper gives
  no schedule; this is the PAE baseline's budget), then fine-tunes
  everything end to end.
* ``dagmm-paper``: :class:`dagmm.DAGMM` with the paper's own settings
  (:data:`~dagmm.benchmark.presets.PAPER_PRESETS`: learning rate 1e-4,
  lambda2 0.005, 200 to 20,000 epochs), for comparison with ``dagmm``.

Register another model by adding a factory to :data:`MODELS`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

import numpy as np
from numpy.typing import ArrayLike, NDArray
from sklearn.ensemble import IsolationForest
from sklearn.mixture import GaussianMixture
from sklearn.svm import OneClassSVM

from dagmm.benchmark._util import unknown_name_message
from dagmm.benchmark.baselines import (
    AutoencoderDetector,
    AutoencoderGMMDetector,
    fit_gaussian_mixture,
)
from dagmm.benchmark.presets import get_preset, n_components
from dagmm.benchmark.protocol import get_dataset

__all__ = [
    "MODELS",
    "OCSVM_MAX_TRAIN_ROWS",
    "BenchmarkModel",
    "EstimatorModel",
    "ModelFactory",
    "check_model_name",
    "make_model",
]

#: Most training rows given to the one-class SVM (its cost is quadratic in rows).
OCSVM_MAX_TRAIN_ROWS = 10_000


@runtime_checkable
class BenchmarkModel(Protocol):
    """What the runner needs from a model."""

    @property
    def config(self) -> dict[str, Any]:
        """JSON-ready description, recorded with every result."""

    def fit(self, X: ArrayLike) -> Any:
        """Train on scaled training rows of shape (n_samples, n_features)."""

    def energy(self, X: ArrayLike) -> NDArray[np.float64]:
        """Energy of each row, shape (n_samples,), higher = more anomalous."""


ModelFactory = Callable[[str, int, bool], BenchmarkModel]


class EstimatorModel:
    """Adapts an estimator to :class:`BenchmarkModel`.

    Parameters
    ----------
    name : str
        Registry name, recorded in the config.
    estimator : object
        Has ``fit(X)`` and either ``energy(X)`` or ``score_samples(X)``.
    params : dict
        JSON-ready parameters recorded in the config.
    negate_score_samples : bool, default=False
        Energy is ``-estimator.score_samples(X)`` (scikit-learn outlier
        detectors and mixtures: higher score = more normal) instead of
        ``estimator.energy(X)``.
    max_train_rows : int, optional
        Train on at most this many rows, drawn without replacement.
    seed : int, default=0
        Seeds that draw.
    """

    def __init__(
        self,
        name: str,
        estimator: Any,
        params: dict[str, Any],
        *,
        negate_score_samples: bool = False,
        max_train_rows: int | None = None,
        seed: int = 0,
    ) -> None:
        self.name = name
        self.estimator = estimator
        self.params = params
        self.negate_score_samples = negate_score_samples
        self.max_train_rows = max_train_rows
        self.seed = seed
        self.n_train_rows: int | None = None

    @property
    def config(self) -> dict[str, Any]:
        estimator_type = type(self.estimator)
        config: dict[str, Any] = {
            "model": self.name,
            "estimator": f"{estimator_type.__module__}.{estimator_type.__qualname__}",
            "params": self.params,
            "n_train_rows": self.n_train_rows,
        }
        if self.max_train_rows is not None:
            config["max_train_rows"] = self.max_train_rows
        return config

    def fit(self, X: ArrayLike) -> EstimatorModel:
        """Fit the estimator, on a seeded subsample when ``max_train_rows`` is exceeded."""
        rows = np.asarray(X)
        if self.max_train_rows is not None and rows.shape[0] > self.max_train_rows:
            keep = np.random.default_rng(self.seed).choice(
                rows.shape[0], size=self.max_train_rows, replace=False
            )
            rows = rows[np.sort(keep)]
        self.n_train_rows = int(rows.shape[0])
        if isinstance(self.estimator, GaussianMixture):
            fit_gaussian_mixture(self.estimator, rows)
        else:
            self.estimator.fit(rows)
        return self

    def energy(self, X: ArrayLike) -> NDArray[np.float64]:
        """Energy of each row, higher = more anomalous."""
        if self.negate_score_samples:
            return -np.asarray(self.estimator.score_samples(X), dtype=np.float64)
        return np.asarray(self.estimator.energy(X), dtype=np.float64)


def _preset(dataset: str, quick: bool, paper: bool = False) -> tuple[str, dict[str, Any]]:
    name = get_dataset(dataset).preset
    return name, get_preset(name, quick=quick, paper=paper)


def _with_preset(params: dict[str, Any], preset_name: str, quick: bool) -> dict[str, Any]:
    return {**params, "preset": preset_name, "quick": quick}


def _dagmm_model(
    name: str, dataset: str, seed: int, quick: bool, paper: bool = False, **overrides: Any
) -> EstimatorModel:
    from dagmm import DAGMM  # the estimator is imported only when this model runs

    preset_name, params = _preset(dataset, quick, paper)
    params.update(
        # The protocol already scaled the features on the training rows; DAGMM adds
        # its own scaling only where the preset asks for it (see presets.py).
        normalize=params.get("normalize", False),
        contamination=get_dataset(dataset).anomaly_ratio,
        random_state=seed,
        verbose=0,
        **overrides,
    )
    return EstimatorModel(name, DAGMM(**params), _with_preset(params, preset_name, quick))


def _make_dagmm(dataset: str, seed: int, quick: bool) -> EstimatorModel:
    return _dagmm_model("dagmm", dataset, seed, quick)


def _make_dagmm_paper(dataset: str, seed: int, quick: bool) -> EstimatorModel:
    return _dagmm_model("dagmm-paper", dataset, seed, quick, paper=True)


def _make_dagmm_pretrained(dataset: str, seed: int, quick: bool) -> EstimatorModel:
    # The paper gives no pretraining schedule for DAGMM-p; pretraining as long as the
    # end-to-end phase gives the compression network the same budget as the PAE baseline.
    epochs = get_preset(get_dataset(dataset).preset, quick=quick)["epoch_size"]
    return _dagmm_model("dagmm-p", dataset, seed, quick, pretrain_epochs=epochs)


def _make_ocsvm(dataset: str, seed: int, quick: bool) -> EstimatorModel:
    params: dict[str, Any] = {"kernel": "rbf", "gamma": "scale", "nu": 0.1}
    return EstimatorModel(
        "ocsvm",
        OneClassSVM(**params),
        params,
        negate_score_samples=True,
        max_train_rows=OCSVM_MAX_TRAIN_ROWS,
        seed=seed,
    )


def _make_iforest(dataset: str, seed: int, quick: bool) -> EstimatorModel:
    params: dict[str, Any] = {"n_estimators": 100, "max_samples": "auto", "random_state": seed}
    return EstimatorModel(
        "iforest", IsolationForest(**params, n_jobs=1), params, negate_score_samples=True
    )


def _paper_n_components(dataset: str) -> int:
    """K of the paper's preset: the baselines keep it whatever the tuned DAGMM uses."""
    return n_components(get_preset(get_dataset(dataset).preset, paper=True))


def _make_gmm(dataset: str, seed: int, quick: bool) -> EstimatorModel:
    preset_name, _ = _preset(dataset, quick)
    params: dict[str, Any] = {
        "n_components": _paper_n_components(dataset),
        "covariance_type": "full",
        "reg_covar": 1e-6,
        "random_state": seed,
    }
    return EstimatorModel(
        "gmm",
        GaussianMixture(**params),
        _with_preset(params, preset_name, quick),
        negate_score_samples=True,
    )


def _autoencoder_params(preset: dict[str, Any], seed: int) -> dict[str, Any]:
    return {
        "hiddens": tuple(preset["comp_hiddens"]),
        "activation": preset["comp_activation"],
        "epochs": preset["epoch_size"],
        "batch_size": preset["minibatch_size"],
        "learning_rate": preset["learning_rate"],
        "random_state": seed,
    }


def _make_pae(dataset: str, seed: int, quick: bool) -> EstimatorModel:
    preset_name, preset = _preset(dataset, quick)
    detector = AutoencoderDetector(**_autoencoder_params(preset, seed))
    return EstimatorModel("pae", detector, _with_preset(detector.get_params(), preset_name, quick))


def _make_pae_gmm(dataset: str, seed: int, quick: bool) -> EstimatorModel:
    preset_name, preset = _preset(dataset, quick)
    detector = AutoencoderGMMDetector(
        n_components=_paper_n_components(dataset), **_autoencoder_params(preset, seed)
    )
    return EstimatorModel(
        "pae-gmm", detector, _with_preset(detector.get_params(), preset_name, quick)
    )


#: Registry of benchmark models. Mutable on purpose: add a factory to compare another model.
MODELS: dict[str, ModelFactory] = {
    "dagmm": _make_dagmm,
    "dagmm-paper": _make_dagmm_paper,
    "dagmm-p": _make_dagmm_pretrained,
    "ocsvm": _make_ocsvm,
    "iforest": _make_iforest,
    "gmm": _make_gmm,
    "pae": _make_pae,
    "pae-gmm": _make_pae_gmm,
}


def check_model_name(name: str) -> None:
    """Raise ValueError, with a suggestion, when ``name`` is not in :data:`MODELS`."""
    if name not in MODELS:
        raise ValueError(unknown_name_message("model", name, MODELS))


def make_model(name: str, dataset: str, seed: int, quick: bool = False) -> BenchmarkModel:
    """Build model ``name`` configured for ``dataset`` and ``seed``.

    Parameters
    ----------
    name : str
        A key of :data:`MODELS`.
    dataset : str
        A key of :data:`dagmm.benchmark.protocol.DATASETS`; selects the preset.
    seed : int
        The run's seed (weights, subsampling, initialisation).
    quick : bool, default=False
        Few epochs, for smoke runs.

    Raises
    ------
    ValueError
        ``name`` or ``dataset`` is not registered.

    Examples
    --------
    >>> model = make_model("iforest", "thyroid", seed=0)
    >>> model.config["params"]["random_state"]
    0
    """
    check_model_name(name)
    return MODELS[name](dataset, seed, quick)
