"""What every deep detector in dagmm shares.

Input validation, scaling, device and seed handling, the scikit-learn outlier
contract (``score_samples``, ``decision_function``, ``predict``, ``offset_``),
batched inference and persistence live here, once. A subclass supplies the
network (``_build_module``), the training (``_fit_module``), the per-batch
anomaly energy (``_energy_batch``) and the names of its fitted arrays.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Callable, Iterator
from numbers import Integral, Real
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
from sklearn.base import BaseEstimator, OutlierMixin
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data
from torch import Tensor, nn

from dagmm.exceptions import ModelFileError
from dagmm.nn.layers import activation_name
from dagmm.persistence import read_model_dir, write_model_dir
from dagmm.training.compile import maybe_compile

#: Rows per chunk when scoring; large enough to keep BLAS busy and the
#: per-chunk overhead small, small enough that a chunk's activations stay in
#: cache (and memory stays bounded whatever the number of rows scored).
#: Measured on the KDDCUP network (118-60-30-10-1), compiled, one thread:
#: 0.98M rows/s with 4096 rows, 0.83M with 16384 (0.56M eager).
SCORING_CHUNK_ROWS = 4096

#: Chunks shorter than this are zero-padded before scoring: BLAS libraries pick
#: different float32 kernels for tiny batches, and a row's score must not depend
#: on how many rows are scored with it.
MIN_SCORING_ROWS = 64

_NORMALIZE_OPTIONS = {"standard", "minmax"}


def resolve_device(device: str | torch.device) -> torch.device:
    """``"auto"`` picks CUDA when available, else CPU; anything else is passed to torch."""
    if isinstance(device, str) and device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(
            f"device={device!r} is not a valid torch device: expected 'auto', 'cpu', 'cuda' or "
            f"'cuda:N' ({exc})"
        ) from None
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={device!r} asks for CUDA, but torch sees no CUDA device here")
    return resolved


def device_for_loading(device: str | torch.device) -> torch.device:
    """Like :func:`resolve_device`, but a model asking for an absent CUDA device loads on CPU."""
    try:
        return resolve_device(device)
    except ValueError:
        warnings.warn(
            f"the model was configured with device={str(device)!r}, which is not available here; "
            "it is loaded on the CPU",
            stacklevel=3,
        )
        return torch.device("cpu")


@contextlib.contextmanager
def local_torch_seed(seed: int, device: torch.device) -> Iterator[None]:
    """Seed torch inside the block and restore the caller's RNG state afterwards."""
    devices = [device] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        yield


def scaling_statistics(X: np.ndarray, normalize: bool | str) -> tuple[np.ndarray, np.ndarray]:
    """Per-column centre and scale for ``normalize`` (constant columns get scale 1).

    Parameters
    ----------
    X : ndarray, shape (n, D)
    normalize : True, "standard", "minmax" or False

    Returns
    -------
    center, scale : ndarray, shape (D,), float64
    """
    X64 = X.astype(np.float64, copy=False)
    n_features = X.shape[1]
    if normalize is False or normalize is None:
        return np.zeros(n_features), np.ones(n_features)
    if normalize is True or normalize == "standard":
        center, scale = X64.mean(axis=0), X64.std(axis=0)
    else:  # "minmax"
        center = X64.min(axis=0)
        scale = X64.max(axis=0) - center
    # A constant column carries no information; leave it at zero instead of dividing by 0.
    scale = np.where(scale > np.finfo(np.float32).eps * np.maximum(1.0, np.abs(center)), scale, 1.0)
    return center, scale


class BaseDeepDetector(OutlierMixin, BaseEstimator):
    """Base class of the torch-backed outlier detectors (not for direct use)."""

    _parameter_constraints: ClassVar[dict] = {
        "minibatch_size": [Interval(Integral, 1, None, closed="left")],
        "epoch_size": [Interval(Integral, 0, None, closed="left")],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "normalize": ["boolean", StrOptions(_NORMALIZE_OPTIONS)],
        "contamination": [Interval(Real, 0, 0.5, closed="right")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "compile": ["boolean", StrOptions({"auto"})],
        "device": [str, torch.device],
        "verbose": ["verbose"],
        "random_state": ["random_state"],
    }

    #: Fitted numpy arrays saved with the model (besides the network weights).
    _fitted_array_names: ClassVar[tuple[str, ...]] = ("scaler_center_", "scaler_scale_")
    #: Fitted JSON scalars saved with the model.
    _fitted_scalar_names: ClassVar[tuple[str, ...]] = (
        "n_features_in_", "offset_", "threshold_", "compiled_",
    )
    #: Parameters holding activations (stored by name in JSON).
    _activation_params: ClassVar[tuple[str, ...]] = ()

    # ----------------------------------------------------------------- hooks
    def _build_module(self, n_features: int) -> nn.Module:
        raise NotImplementedError

    def _fit_module(self, data: Tensor, seed: int) -> None:
        """Train ``self.module_`` on scaled data and set the fitted arrays."""
        raise NotImplementedError

    def _energy_batch(self, x: Tensor) -> Tensor:
        """Anomaly energy (higher = more anomalous) of one scaled batch, float64."""
        raise NotImplementedError

    def _scoring_state_changed(self) -> None:
        """Forget cached device tensors and compiled functions."""
        self._cache: dict[str, Any] = {}

    # ---------------------------------------------------------- validation
    def _validate_fit_data(self, X: Any) -> np.ndarray:
        X = validate_data(self, X, dtype=[np.float64, np.float32], ensure_min_samples=2)
        return np.asarray(X, dtype=np.float32)

    def _validate_score_data(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "module_")
        X = validate_data(self, X, dtype=[np.float64, np.float32], reset=False)
        return np.asarray(X, dtype=np.float32)

    def _seed(self) -> int:
        return int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))

    # ------------------------------------------------------------- fitting
    def fit(self, X: Any, y: Any = None) -> BaseDeepDetector:
        """Train the detector on rows of (mostly) normal data.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training rows; any width. A pandas DataFrame's column names are
            remembered and checked when scoring.
        y : ignored
            Present for API consistency.

        Returns
        -------
        self
        """
        self._validate_params()
        X = self._validate_fit_data(X)
        self._check_params(X.shape[1])
        device = resolve_device(self.device)
        seed = self._seed()
        self.device_ = device
        self.scaler_center_, self.scaler_scale_ = self._fit_scaling(X)
        self._scoring_state_changed()
        with local_torch_seed(seed, device):
            self.module_ = self._build_module(X.shape[1]).to(device)
            data = self._to_scaled_tensor(X)
            self._fit_module(data, seed)
        self.module_.eval()
        self._scoring_state_changed()
        return self

    def _check_params(self, n_features: int) -> None:
        """Validate parameters that the constraint table cannot express."""

    def _holdout_split(
        self, data: Tensor, generator: torch.Generator
    ) -> tuple[Tensor, Tensor | None]:
        """(training rows, validation rows or None) for ``early_stopping``."""
        if not self.early_stopping:
            return data, None
        n_val = int(round(self.validation_fraction * data.shape[0]))
        if n_val < 1 or data.shape[0] - n_val < 2:
            raise ValueError(
                f"early_stopping needs at least 1 validation row and 2 training rows; with "
                f"validation_fraction={self.validation_fraction} and {data.shape[0]} rows "
                "there are not enough: raise validation_fraction or disable early_stopping"
            )
        order = torch.randperm(data.shape[0], generator=generator).to(data.device)
        return data[order[n_val:]], data[order[:n_val]]

    def _fit_scaling(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Column centre and scale of this fit; a subclass may choose them from ``X``."""
        return scaling_statistics(X, self.normalize)

    def _to_scaled_tensor(self, X: np.ndarray) -> Tensor:
        center = torch.as_tensor(self.scaler_center_, dtype=torch.float32)
        scale = torch.as_tensor(self.scaler_scale_, dtype=torch.float32)
        return ((torch.from_numpy(np.ascontiguousarray(X)) - center) / scale).to(self.device_)

    def _set_threshold(self, train_energy: np.ndarray) -> None:
        """``offset_`` from the contamination percentile of the training scores."""
        self.offset_ = float(np.percentile(-train_energy, 100.0 * self.contamination))
        self.threshold_ = -self.offset_

    # ------------------------------------------------------------ scoring
    @staticmethod
    def _padded_chunks(data: Tensor) -> Iterator[tuple[Tensor, int]]:
        """Yield (chunk, n_real_rows), short chunks zero-padded to MIN_SCORING_ROWS rows."""
        for chunk in data.split(SCORING_CHUNK_ROWS):
            rows = chunk.shape[0]
            if rows < MIN_SCORING_ROWS:
                chunk = torch.nn.functional.pad(chunk, (0, 0, 0, MIN_SCORING_ROWS - rows))
            yield chunk, rows

    def _map_batches(self, X: np.ndarray, function: Callable[[Tensor], Tensor]) -> np.ndarray:
        """Apply ``function`` to scaled chunks of ``X``; concatenate as float64."""
        outputs = []
        with torch.inference_mode():
            for start in range(0, X.shape[0], SCORING_CHUNK_ROWS):
                scaled = self._to_scaled_tensor(X[start : start + SCORING_CHUNK_ROWS])
                for chunk, rows in self._padded_chunks(scaled):
                    outputs.append(function(chunk)[:rows].to("cpu", torch.float64).numpy())
        return np.concatenate(outputs, axis=0)

    def _compiled_energy_batch(self) -> Callable[[Tensor], Tensor]:
        """:meth:`_energy_batch` compiled, for chunks of ``SCORING_CHUNK_ROWS`` rows."""
        # One eager call first builds whatever the subclass caches for scoring
        # (device copies of fitted numpy arrays): made inside the compiled
        # frame, under inference_mode, they fail Dynamo's own guards (torch
        # 2.13) and scoring would fall back to eager with a warning.
        with torch.inference_mode():
            self._energy_batch(
                torch.zeros(MIN_SCORING_ROWS, int(self.n_features_in_), device=self.device_)
            )
        return maybe_compile(self._energy_batch, True, what="scoring")

    def _energy_function(self) -> Callable[[Tensor], Tensor]:
        """The per-chunk energy, compiled when the model was fitted compiled.

        A compiled model scores every chunk through the compiled graph (the last
        chunk is zero-padded to the chunk size), so the score of a row never
        depends on which other rows are scored with it.
        """
        cache = getattr(self, "_cache", None)
        if cache is None:
            self._scoring_state_changed()
            cache = self._cache
        if "energy" not in cache:
            if not getattr(self, "compiled_", False):
                cache["energy"] = self._energy_batch
            else:
                compiled = self._compiled_energy_batch()

                def padded(chunk: Tensor) -> Tensor:
                    rows = chunk.shape[0]
                    if rows < SCORING_CHUNK_ROWS:
                        chunk = torch.nn.functional.pad(chunk, (0, 0, 0, SCORING_CHUNK_ROWS - rows))
                    return compiled(chunk)[:rows]

                cache["energy"] = padded
        return cache["energy"]

    def energy(self, X: Any) -> np.ndarray:
        """Anomaly energy of each row: higher means more anomalous.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        X = self._validate_score_data(X)
        return self._map_batches(X, self._energy_function())

    def score_samples(self, X: Any) -> np.ndarray:
        """Opposite of :meth:`energy` (higher = more normal), as scikit-learn expects."""
        return -self.energy(X)

    def decision_function(self, X: Any) -> np.ndarray:
        """``score_samples(X) - offset_``: negative for predicted outliers."""
        return self.score_samples(X) - self.offset_

    def predict(self, X: Any) -> np.ndarray:
        """Outlier labels: -1 for anomalies (energy above ``threshold_``), +1 for normal rows."""
        return np.where(self.decision_function(X) < 0, -1, 1)

    # -------------------------------------------------------- persistence
    def _params_to_json(self) -> dict[str, Any]:
        params = self.get_params(deep=False)
        for name in self._activation_params:
            params[name] = activation_name(params[name], name)
        if isinstance(params.get("device"), torch.device):
            params["device"] = str(params["device"])
        if not (params.get("random_state") is None or isinstance(params["random_state"], int)):
            params["random_state"] = None  # a RandomState object is not reproducible from JSON
        return {key: list(value) if isinstance(value, tuple) else value for key, value in params.items()}

    @classmethod
    def _params_from_json(cls, params: dict[str, Any]) -> dict[str, Any]:
        return {key: tuple(value) if isinstance(value, list) else value for key, value in params.items()}

    def _persisted_config(self) -> dict[str, Any]:
        scalars = {}
        for name in self._fitted_scalar_names:
            value = getattr(self, name)
            scalars[name] = value.item() if isinstance(value, np.generic) else value
        if hasattr(self, "feature_names_in_"):
            scalars["feature_names_in_"] = [str(name) for name in self.feature_names_in_]
        return {
            "class": type(self).__name__,
            "params": self._params_to_json(),
            "fitted": scalars,
            "history": getattr(self, "history_", {}),
        }

    def save(self, path: str | Path, *, overwrite: bool = True) -> Path:
        """Save the fitted model as a directory (JSON config + safetensors, nothing pickled).

        Parameters
        ----------
        path : path-like
            Destination directory; written atomically.
        overwrite : bool, default=True
            Replace an existing dagmm model directory at ``path``.

        Returns
        -------
        Path
        """
        config, groups = self._model_dir_parts()
        return write_model_dir(path, config, groups, overwrite=overwrite)

    def _model_dir_parts(self) -> tuple[dict[str, Any], dict[str, dict[str, np.ndarray]]]:
        """The config and array groups :meth:`save` writes (a pipeline may add its own)."""
        check_is_fitted(self, "module_")
        arrays = {name: np.asarray(getattr(self, name)) for name in self._fitted_array_names}
        weights = {
            key: value.detach().to("cpu").contiguous().numpy()
            for key, value in self.module_.state_dict().items()
        }
        return self._persisted_config(), {"fitted": arrays, "module": weights}

    @classmethod
    def load(cls, path: str | Path, *, device: str | torch.device | None = None):
        """Load a model saved with :meth:`save`.

        Parameters
        ----------
        path : path-like
            The model directory.
        device : str or torch.device, optional
            Where to put the network; defaults to the saved ``device`` parameter
            ("auto" picks CUDA when present, so a model saved on CUDA loads on a
            CPU-only machine).

        Raises
        ------
        ModelFileError
            If the directory is missing, damaged or holds another kind of model.
        """
        config, groups = read_model_dir(path, expected_class=cls.__name__)
        try:
            params = cls._params_from_json(config["params"])
            fitted = config["fitted"]
            model = cls(**params)
            if device is not None:
                model.device = device
            model._restore_state(fitted, groups["fitted"], groups["module"], config.get("history", {}))
        except ModelFileError:
            raise
        except (KeyError, TypeError, ValueError, RuntimeError) as exc:
            raise ModelFileError(
                f"'{Path(path) / 'config.json'}' does not describe a loadable {cls.__name__} "
                f"model: {type(exc).__name__}: {exc}"
            ) from None
        return model

    def restore(self, path: str | Path) -> BaseDeepDetector:
        """Load a saved model into this instance (the TensorFlow reference's API).

        Returns
        -------
        self
        """
        loaded = type(self).load(path)
        self.__dict__.clear()
        self.__dict__.update(loaded.__dict__)
        return self

    def _restore_state(
        self,
        fitted: dict[str, Any],
        arrays: dict[str, np.ndarray],
        weights: dict[str, np.ndarray],
        history: dict[str, list[float]],
    ) -> None:
        for name in self._fitted_scalar_names:
            setattr(self, name, fitted[name])
        if "feature_names_in_" in fitted:
            self.feature_names_in_ = np.asarray(fitted["feature_names_in_"], dtype=object)
        missing = [name for name in self._fitted_array_names if name not in arrays]
        if missing:
            raise ModelFileError(f"the saved model lacks the fitted arrays {missing}")
        for name in self._fitted_array_names:
            setattr(self, name, arrays[name])
        self.history_ = history
        self.device_ = device_for_loading(self.device)
        self._check_params(int(self.n_features_in_))
        module = self._build_module(int(self.n_features_in_))
        state = {key: torch.from_numpy(np.array(value)) for key, value in weights.items()}
        module.load_state_dict(state, strict=True)
        self.module_ = module.to(self.device_).eval()
        self._scoring_state_changed()

    # ------------------------------------------------------------- pickling
    def __getstate__(self) -> dict[str, Any]:
        # Network weights travel as CPU tensors and compiled functions are
        # dropped, so a model pickled on CUDA unpickles on a CPU-only machine.
        state = self.__dict__.copy()
        state.pop("_cache", None)
        if "module_" in state:
            state["module_"] = {k: v.detach().cpu() for k, v in self.module_.state_dict().items()}
            state.pop("device_", None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        weights = state.pop("module_", None)
        self.__dict__.update(state)
        self._scoring_state_changed()
        if weights is not None:
            self.device_ = device_for_loading(self.device)
            self._check_params(int(self.n_features_in_))
            module = self._build_module(int(self.n_features_in_))
            module.load_state_dict(weights)
            self.module_ = module.to(self.device_).eval()

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = False
        return tags
