"""What every deep detector in dagmm shares.

Input validation, scaling, device and seed handling, the scikit-learn outlier
contract (``score_samples``, ``decision_function``, ``predict``, ``offset_``),
batched inference and persistence live here, once. A subclass supplies the
network (``_build_module``), the training (``_fit_module``), the per-batch
anomaly energy (``_energy_batch``) and the names of its fitted arrays.
"""

from __future__ import annotations

import contextlib
import math
import os
import warnings
from collections.abc import Callable, Iterator, Mapping
from numbers import Integral, Real
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
from sklearn.base import BaseEstimator, OutlierMixin
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, Options, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data
from torch import Tensor, nn

from dagmm._suggest import closest
from dagmm.estimators.widths import default_minibatch_size
from dagmm.evaluation import contamination_threshold
from dagmm.exceptions import ModelFileError
from dagmm.math.scaling import constant_columns
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

#: Input values (rows x features) of one step that make a second CPU thread pay
#: off with ``n_jobs=None``; one more thread per further multiple. Below it one
#: thread is used: the layers of a small minibatch are too small to split, and
#: extra threads only spin, the more so on a busy machine (benchmarks/threads.py,
#: benchmarks/results/threads/).
WORK_PER_THREAD = 2**19


def auto_threads(rows: int, n_features: int) -> int:
    """CPU threads for steps of ``rows`` x ``n_features`` inputs: 1 for small minibatches.

    Never more than torch's own setting (which follows ``OMP_NUM_THREADS``).
    """
    return int(max(1, min(torch.get_num_threads(), (rows * n_features) // WORK_PER_THREAD)))


def resolve_threads(n_jobs: int | None, rows: int, n_features: int) -> int:
    """``n_jobs`` as a thread count: None picks from the work size, -1 means every core."""
    if n_jobs is None:
        return auto_threads(rows, n_features)
    if n_jobs == -1:
        return os.cpu_count() or 1
    return int(n_jobs)


@contextlib.contextmanager
def torch_threads(n: int) -> Iterator[None]:
    """Run the block with ``n`` torch intra-op threads; restore the caller's setting after."""
    before = torch.get_num_threads()
    if n == before:
        yield
        return
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


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

    A column is constant under the relative rule of
    :func:`dagmm.math.scaling.constant_columns`, whatever its unit.

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
    # A constant column (one relative rule, dagmm.math.scaling) carries no
    # information: centre it on its value and never divide by ~0.
    constant = constant_columns(scale, np.abs(X64).max(axis=0))
    center = np.where(constant, X64.min(axis=0), center)
    scale = np.where(constant, 1.0, scale)
    return center, scale


def _is_finite_number(value: Any) -> bool:
    return (
        isinstance(value, (int, float)) and not isinstance(value, bool) and bool(np.isfinite(value))
    )


def data_parallel_group(estimator: BaseDeepDetector) -> Any:
    """The :class:`dagmm.distributed.ProcessGroup` of a data-parallel fit in progress, or None.

    Inside :func:`dagmm.distributed.data_parallel` the group; raises ValueError
    when ``estimator`` (an instance or class) cannot be fitted data-parallel.
    """
    import sys

    if "dagmm.distributed.collectives" not in sys.modules:  # torch.distributed never used
        return None
    from dagmm.distributed.collectives import current_group

    group = current_group()
    if group is not None and not getattr(estimator, "_supports_data_parallel", False):
        raise ValueError(
            f"{type(estimator).__name__} cannot be fitted data-parallel (inside "
            "dagmm.distributed.data_parallel()); only DAGMM can: fit it outside that block"
        )
    return group


#: Parameter names of other implementations (the TensorFlow DAGMM, tnakae/DAGMM, and
#: common spellings) -> the name here. An unknown keyword says "did you mean ...?".
RENAMED_PARAMETERS: dict[str, str] = {
    "random_seed": "random_state",  # TensorFlow DAGMM
    "seed": "random_state",
    "epochs": "epoch_size",
    "n_epochs": "epoch_size",
    "batch_size": "minibatch_size",
    "lr": "learning_rate",
    "dropout": "est_dropout_ratio",
    "dropout_ratio": "est_dropout_ratio",
    "restarts": "n_restarts",
    "threads": "n_jobs",
}


def unknown_parameter_message(cls: type, name: str, known: list[str]) -> str:
    """``"DAGMM() got an unexpected keyword argument 'random_seed'; did you mean ..."``."""
    target = RENAMED_PARAMETERS.get(name)
    if target not in known:
        target = closest(name, known)
    message = f"{cls.__name__}() got an unexpected keyword argument {name!r}"
    if target is not None:
        message += f"; did you mean {target}?"
        if name == "random_seed":
            message += " (the TensorFlow version's random_seed is random_state, as in scikit-learn)"
    return message + f"; its parameters: {', '.join(known)}"


def _detector_classes() -> dict[str, type]:
    """Every detector class defined so far, by class name."""
    found, todo = {}, [BaseDeepDetector]
    while todo:
        for sub in todo.pop().__subclasses__():
            found.setdefault(sub.__name__, sub)
            todo.append(sub)
    return found


def _detector_class(name: Any, root: Path) -> type:
    classes = _detector_classes()
    if name not in classes:
        raise ModelFileError(
            f"'{root}' holds a {name!r} model, which is not a detector dagmm can load; "
            f"expected one of {', '.join(sorted(classes))}"
        )
    return classes[name]


class BaseDeepDetector(OutlierMixin, BaseEstimator):
    """Base class of the torch-backed outlier detectors (not for direct use)."""

    #: Named settings reached with :meth:`from_preset` (see :mod:`dagmm.estimators.presets`).
    _presets: ClassVar[Mapping[str, Mapping[str, Any]]] = {}

    @classmethod
    def preset_names(cls) -> tuple[str, ...]:
        """Names :meth:`from_preset` accepts."""
        return tuple(cls._presets)

    @classmethod
    def from_preset(cls, name: str, **overrides: Any) -> BaseDeepDetector:
        """A detector with the settings of a named preset, updated by ``overrides``.

        Parameters
        ----------
        name : str
            One of :meth:`preset_names` (:mod:`dagmm.estimators.presets`).
        **overrides
            Any constructor parameter, e.g. ``random_state=0``.
        """
        if name not in cls._presets:
            raise ValueError(
                f"unknown {cls.__name__} preset {name!r}: expected one of {sorted(cls._presets)}"
            )
        return cls(**{**cls._presets[name], **overrides})

    def check_params(self) -> BaseDeepDetector:
        """Check every parameter now, before any data: what ``fit`` would reject.

        Raises one ValueError naming the parameter, the value and what is
        expected (the constraint table, widths, activations and the other
        rules ``fit`` applies). Widths left as None are checked at ``fit``,
        when the input width is known.

        Returns
        -------
        self
        """
        self._validate_params()
        self._check_params(1)
        return self

    def __new__(cls, *args: Any, **kwargs: Any) -> BaseDeepDetector:
        # Checked here, not in __init__, so that __init__ stays the plain list of
        # parameters scikit-learn's get_params, set_params and clone rely on.
        if kwargs:
            known = cls._get_param_names()
            for name in kwargs:
                if name not in known:
                    raise TypeError(unknown_parameter_message(cls, name, known))
        return super().__new__(cls)

    _parameter_constraints: ClassVar[dict] = {
        "minibatch_size": [None, Interval(Integral, 1, None, closed="left")],
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
        "n_jobs": [None, Interval(Integral, 1, None, closed="left"), Options(Integral, {-1})],
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
        group = data_parallel_group(self)
        if group is None:
            X = self._validate_fit_data(X)
            self._check_params(X.shape[1])
        else:  # a bad shard must stop every rank, not leave the others waiting
            X = group.run_checked(lambda: self._validate_fit_data(X))
            group.run_checked(lambda: self._check_params(X.shape[1]))
        device = resolve_device(self.device) if group is None else group.device
        seed = self._seed() if group is None else group.broadcast_int(self._seed())
        self.device_ = device
        self.scaler_center_, self.scaler_scale_ = self._fit_scaling(X)
        self._scoring_state_changed()
        threads = resolve_threads(self.n_jobs, self._minibatch_rows(X.shape[0]), X.shape[1])
        with torch_threads(threads), local_torch_seed(seed, device):
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
        group = data_parallel_group(self)
        if group is not None:  # statistics of all ranks' rows
            from dagmm.distributed.scaling import sharded_scaling_statistics

            return sharded_scaling_statistics(X, self.normalize, group)
        return scaling_statistics(X, self.normalize)

    def _to_scaled_tensor(self, X: np.ndarray) -> Tensor:
        center = torch.as_tensor(self.scaler_center_, dtype=torch.float32)
        scale = torch.as_tensor(self.scaler_scale_, dtype=torch.float32)
        return ((torch.from_numpy(np.ascontiguousarray(X)) - center) / scale).to(self.device_)

    def _set_threshold(self, train_energy: np.ndarray) -> None:
        """``threshold_`` and ``offset_`` from the contamination of the training scores.

        The rule is :func:`dagmm.evaluation.contamination_threshold`. In a
        data-parallel fit it is applied to every rank's training scores: the
        same ``np.quantile``, exact (:meth:`dagmm.distributed.ProcessGroup.quantiles`).
        """
        group = data_parallel_group(self)
        if group is not None:
            self.set_threshold(float(group.quantiles(train_energy, 1.0 - self.contamination)))
        else:
            self.set_threshold(energies=train_energy)

    def set_threshold(
        self,
        threshold: float | None = None,
        *,
        energies: Any = None,
        contamination: float | None = None,
    ) -> BaseDeepDetector:
        """Set the energy above which :meth:`predict` flags a row (``threshold_``, ``offset_``).

        Give either the energy itself, or ``energies`` (usually of the
        training rows) with the fraction of them to flag: ``threshold_`` is
        then their ``1 - contamination`` quantile, the rule ``fit`` applies
        to the training rows. Use it to move the threshold of a fitted model
        without refitting; :meth:`save` keeps it.

        Parameters
        ----------
        threshold : float, optional
            The energy threshold.
        energies : array-like of shape (n,), optional
            Energies to take the quantile of.
        contamination : float in (0, 0.5], optional
            With ``energies``: the fraction above the threshold. Default:
            the ``contamination`` parameter.

        Returns
        -------
        self

        Examples
        --------
        >>> import numpy as np
        >>> from dagmm import DAGMM
        >>> X = np.random.default_rng(0).normal(size=(200, 4))
        >>> model = DAGMM(epoch_size=1, random_state=0).fit(X)
        >>> energy = model.energy(X)
        >>> float(np.mean(energy > model.set_threshold(energies=energy, contamination=0.05).threshold_))
        0.05
        >>> model.set_threshold(12.5).offset_
        -12.5
        """
        check_is_fitted(self, "module_")
        if (threshold is None) == (energies is None):
            raise ValueError(
                "set_threshold takes either a threshold energy or energies (with a "
                f"contamination), not {'both' if threshold is not None else 'neither'}"
            )
        if threshold is not None:
            if contamination is not None:
                raise ValueError(
                    f"contamination={contamination!r} applies to energies; a threshold "
                    f"({threshold!r}) is used as it is: give one of the two"
                )
            try:
                value = float(threshold)
            except (TypeError, ValueError):
                value = math.nan
            if isinstance(threshold, bool) or not math.isfinite(value):
                raise ValueError(f"threshold={threshold!r} is invalid: expected a finite number")
        else:
            fraction = self.contamination if contamination is None else contamination
            if fraction is None:
                raise ValueError(
                    f"{type(self).__name__}(contamination=None) sets no fraction to flag: "
                    "give set_threshold(energies=..., contamination=0.01) or a threshold"
                )
            if not (_is_finite_number(fraction) and 0 < fraction <= 0.5):
                raise ValueError(
                    f"contamination={fraction!r} is invalid: expected a fraction in (0, 0.5]"
                )
            values = np.asarray(energies, dtype=np.float64).ravel()
            if values.size == 0 or not np.all(np.isfinite(values)):
                raise ValueError(
                    "energies must be a non-empty array of finite numbers, e.g. the "
                    "training rows' model.energy(X)"
                )
            value = contamination_threshold(values, fraction)
        self.offset_ = -value
        self.threshold_ = value
        return self

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
        rows = min(SCORING_CHUNK_ROWS, X.shape[0])
        threads = resolve_threads(getattr(self, "n_jobs", None), rows, X.shape[1])
        with torch_threads(threads), torch.inference_mode():
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
    def json_params(self) -> dict[str, Any]:
        """``get_params(deep=False)`` in JSON types, as :meth:`save` writes them.

        Activations are given by name, tuples as lists, a device as text; a
        ``RandomState`` object becomes None. Use it to record a model's settings
        beside its results.
        """
        return self._params_to_json()

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

    def save(
        self,
        path: str | Path,
        *,
        overwrite: bool = True,
        extra_config: dict[str, Any] | None = None,
        extra_arrays: dict[str, dict[str, np.ndarray]] | None = None,
    ) -> Path:
        """Save the fitted model as a directory (JSON config + safetensors, nothing pickled).

        Parameters
        ----------
        path : path-like
            Destination directory. A model already there is replaced in one
            atomic step (a concurrent load sees the old or the new model);
            other files in the directory are kept.
        overwrite : bool, default=True
            Replace an existing dagmm model directory at ``path``.
        extra_config : dict, optional
            More top-level sections of ``config.json`` (JSON values), written
            in the same atomic step: how a pipeline around the model (such as
            :class:`~dagmm.workflow.TabularDetector`) saves its own state.
            Read back with :meth:`load_with_extras`.
        extra_arrays : dict of str to dict of str to ndarray, optional
            More array groups, each written to ``<group>.safetensors``.

        Returns
        -------
        Path
        """
        config, groups = self._model_dir_parts()
        for name, mine, extra in (
            ("extra_config", config, extra_config), ("extra_arrays", groups, extra_arrays)
        ):
            clash = sorted(set(mine) & set(extra or {}))
            if clash:
                raise ValueError(
                    f"{name} may not replace the model's own entries {clash}; choose other names"
                )
            mine.update(extra or {})
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
            If the directory is missing, damaged or holds another kind of
            model, or a parameter, fitted value or array is invalid (the
            message names it).

        Notes
        -----
        A model being replaced while it loads is read again, so the result is
        one whole model. The checksums in ``config.json`` prove integrity, not
        origin: load models only from places you trust (nothing is unpickled
        or executed, and every value is checked, but an edited model can still
        score wrongly).
        """
        return cls.load_with_extras(path, device=device)[0]

    @classmethod
    def load_with_extras(
        cls,
        path: str | Path,
        *,
        device: str | torch.device | None = None,
        config_keys: tuple[str, ...] = (),
        array_groups: tuple[str, ...] = (),
    ) -> tuple[BaseDeepDetector, dict[str, Any], dict[str, dict[str, np.ndarray]]]:
        """Load a model and the extra sections a pipeline saved with it, in one read.

        Called on :class:`BaseDeepDetector` itself it loads whichever
        detector the directory holds (DAGMM, VAEDetector, ...); on a subclass,
        only that class.

        Parameters
        ----------
        path : path-like
            The model directory.
        device : str or torch.device, optional
            As in :meth:`load`.
        config_keys : tuple of str
            Sections of ``config.json`` saved with ``save(extra_config=...)``.
        array_groups : tuple of str
            Array groups saved with ``save(extra_arrays=...)``.

        Returns
        -------
        model : BaseDeepDetector
        config : dict
            The requested sections present in the directory (absent ones are left out).
        arrays : dict
            The requested array groups present in the directory.

        Raises
        ------
        ModelFileError
            As :meth:`load`.
        """
        generic = cls is BaseDeepDetector
        root = Path(path)
        config, groups = read_model_dir(root, expected_class=None if generic else cls.__name__)
        target = _detector_class(config.get("class"), root) if generic else cls
        model = target._from_model_dir(config, groups, root, device=device)
        extras = {key: config[key] for key in config_keys if key in config}
        arrays = {name: groups[name] for name in array_groups if name in groups}
        return model, extras, arrays

    @classmethod
    def _from_model_dir(
        cls,
        config: dict[str, Any],
        groups: dict[str, dict[str, np.ndarray]],
        root: Path,
        *,
        device: str | torch.device | None = None,
    ):
        """A model from a model directory already read (so a pipeline reads it only once).

        Everything is checked before use: the parameters against the
        estimator's own ``_parameter_constraints``, the fitted scalars and
        arrays (finite, consistent shapes, positive definite covariances),
        and the network's declared widths against the stored weights' shapes
        before any network is built. A failure is a :class:`ModelFileError`
        naming the field.
        """
        where = f"'{root / 'config.json'}'"
        try:
            params = config.get("params")
            if not isinstance(params, dict):
                raise ModelFileError(f"'params' must be a JSON object, got {type(params).__name__}")
            known = cls().get_params(deep=False)
            unknown = sorted(set(params) - set(known))
            if unknown:
                raise ModelFileError(f"unknown parameter(s) {unknown} for {cls.__name__}")
            model = cls(**cls._params_from_json(params))
            try:
                model._validate_params()
            except ValueError as exc:
                raise ModelFileError(f"invalid parameter: {exc}") from None
            if device is not None:
                model.device = device
            fitted, history = config.get("fitted"), config.get("history", {})
            if not isinstance(fitted, dict):
                raise ModelFileError(f"'fitted' must be a JSON object, got {type(fitted).__name__}")
            for group in ("fitted", "module"):
                if group not in groups:
                    raise ModelFileError(f"the array file '{group}.safetensors' is not listed")
            model._restore_state(fitted, groups["fitted"], groups["module"], history)
        except ModelFileError as exc:
            raise ModelFileError(f"{where} does not describe a loadable {cls.__name__}: {exc}") from None
        except Exception as exc:  # noqa: BLE001 - any other failure is a damaged file too
            raise ModelFileError(
                f"{where} does not describe a loadable {cls.__name__} model: "
                f"{type(exc).__name__}: {exc}"
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
        missing = [name for name in self._fitted_scalar_names if name not in fitted]
        if missing:
            raise ModelFileError(f"the fitted values {missing} are missing")
        for name in self._fitted_scalar_names:
            setattr(self, name, fitted[name])
        n_features = self.n_features_in_
        if not isinstance(n_features, int) or isinstance(n_features, bool) or n_features < 1:
            raise ModelFileError(f"n_features_in_ must be a positive integer, got {n_features!r}")
        for name in ("offset_", "threshold_"):
            value = getattr(self, name)
            if not _is_finite_number(value):
                raise ModelFileError(f"{name} must be a finite number, got {value!r}")
        if "feature_names_in_" in fitted:
            names = fitted["feature_names_in_"]
            if not (isinstance(names, list) and len(names) == n_features
                    and all(isinstance(name, str) for name in names)):
                raise ModelFileError(
                    f"feature_names_in_ must be a list of {n_features} column names"
                )
            self.feature_names_in_ = np.asarray(names, dtype=object)
        if not isinstance(history, dict) or not all(
            isinstance(values, list) for values in history.values()
        ):
            raise ModelFileError("'history' must be a JSON object of lists")
        missing = [name for name in self._fitted_array_names if name not in arrays]
        if missing:
            raise ModelFileError(f"the saved model lacks the fitted arrays {missing}")
        for name in self._fitted_array_names:
            array = arrays[name]
            if array.dtype.kind in "fc" and not np.all(np.isfinite(array)):
                raise ModelFileError(f"the fitted array {name} holds NaN or infinite values")
            setattr(self, name, array)
        for name in ("scaler_center_", "scaler_scale_"):
            if getattr(self, name).shape != (n_features,):
                raise ModelFileError(
                    f"{name} has shape {getattr(self, name).shape}, expected ({n_features},)"
                )
        if np.any(self.scaler_scale_ <= 0):
            raise ModelFileError("scaler_scale_ holds a zero or negative scale")
        self.history_ = history
        try:
            self._check_params(n_features)
        except ValueError as exc:
            raise ModelFileError(f"invalid parameter: {exc}") from None
        self._check_fitted_arrays()
        # The declared widths against the stored weights, on the meta device
        # (no memory), before a real network of those widths is allocated.
        with torch.device("meta"):
            skeleton = self._build_module(n_features)
        expected = {key: tuple(value.shape) for key, value in skeleton.state_dict().items()}
        stored = {key: tuple(value.shape) for key, value in weights.items()}
        if expected != stored:
            differ = sorted(set(expected) ^ set(stored)) or sorted(
                key for key in expected if expected[key] != stored[key]
            )
            key = differ[0]
            raise ModelFileError(
                f"the network's parameters do not match the stored weights: {key!r} is "
                f"{expected.get(key, 'absent')} from the config, {stored.get(key, 'absent')} "
                "in module.safetensors"
            )
        for key, value in weights.items():
            if value.dtype.kind in "fc" and not np.all(np.isfinite(value)):
                raise ModelFileError(f"the network weight {key!r} holds NaN or infinite values")
        self.device_ = device_for_loading(self.device)
        state = {key: torch.from_numpy(np.array(value)) for key, value in weights.items()}
        tensors = {**dict(skeleton.named_parameters()), **dict(skeleton.named_buffers())}
        if set(tensors) == set(expected):
            # Every tensor is in the saved state: give the skeleton storage
            # instead of building (and randomly initialising) a second network.
            module = skeleton.to_empty(device="cpu")
        else:  # a buffer the state does not hold must be built for real
            module = self._build_module(n_features)
        module.load_state_dict(state, strict=True)
        self.module_ = module.to(self.device_).eval()
        self._scoring_state_changed()

    def to_onnx(self, path: str | Path, *, check: bool = True, precise_tanh: bool = True):
        """Write the scoring path as an ONNX file (needs ``dagmm[onnx]``).

        Inputs, outputs and opset are described in :mod:`dagmm.export.onnx`;
        with ``check`` the graph is compared to :meth:`energy` with
        onnxruntime before it is written; ``precise_tanh`` as in
        :func:`dagmm.export.export_onnx`.

        Returns
        -------
        dagmm.export.ExportReport
        """
        from dagmm.export import export_onnx

        return export_onnx(self, path, check=check, precise_tanh=precise_tanh)

    def _minibatch_rows(self, n_rows: int) -> int:
        """Rows per training step for ``n_rows`` training rows (None: the shared rule)."""
        if self.minibatch_size is None:
            return min(default_minibatch_size(n_rows), n_rows)
        return min(int(self.minibatch_size), n_rows)

    def _check_fitted_arrays(self) -> None:
        """Check the loaded fitted arrays' shapes and values (subclasses add theirs)."""

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
