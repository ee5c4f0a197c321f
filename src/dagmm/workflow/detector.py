"""A detector on a raw table: preprocessing, model and threshold, saved as one directory.

:class:`TabularDetector` is what ``dagmm fit`` trains and ``dagmm score`` and
``dagmm evaluate`` load. It works over any detector of the shared contract
(:class:`~dagmm.DAGMM`, :class:`~dagmm.VAEDetector`), through their public
methods only. The model directory is an ordinary model directory of that
detector (``DAGMM.load`` or ``VAEDetector.load`` reads the bare model from it)
with one more config section, ``"pipeline"``, and two more array groups,
written and read by the estimator's ``save(extra_config=..., extra_arrays=...)``
and ``load_with_extras``::

    MODEL_DIR/
        config.json               the detector's config plus "pipeline": the
                                  preprocessor's state, the label column, the
                                  threshold policy and the energy it gave,
                                  and a summary of the training data
        fitted.safetensors        the detector's fitted arrays (mixture, ...)
        module.safetensors        its network weights
        preprocessor.safetensors  the preprocessor's scaling arrays
        reference.safetensors     sorted training energies (for thresholds
                                  and percentile scores)

The threshold is also set on the estimator (its public ``set_threshold``), so
``DAGMM.load(MODEL_DIR).predict`` flags the same rows as the pipeline.
"""

from __future__ import annotations

import math
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from dagmm._version import __version__
from dagmm._vocabulary import OPTIONS, PYTHON, field_name, vocabulary
from dagmm.estimators import BaseDeepDetector, data_parallel_group
from dagmm.exceptions import DataError, ModelFileError
from dagmm.tabular import TabularPreprocessor
from dagmm.tabular._columns import as_frame, name_list
from dagmm.workflow.labels import anomaly_mask, require_column, warn_label_like_inputs
from dagmm.workflow.options import FitOptions
from dagmm.workflow.splits import validation_split
from dagmm.workflow.thresholds import ThresholdPolicy, percentile_scores, reference_energies

__all__ = ["PIPELINE_KEY", "SCORE_COLUMNS", "TabularDetector"]

#: Key of the pipeline section in a model directory's config.json.
PIPELINE_KEY = "pipeline"
_PIPELINE_CLASS = "TabularDetector"
_PIPELINE_VERSION = 1
_PREPROCESSOR_GROUP, _REFERENCE_GROUP = "preprocessor", "reference"
#: Columns ``score_frame`` writes after the row number and id columns.
SCORE_COLUMNS = ("energy", "score", "is_anomaly")
EXPLAIN_COLUMNS = ("top_columns", "component", "component_probability")


def _check_pipeline_structure(pipeline: Any) -> None:
    """The pipeline section's JSON shape, checked before any value is used."""
    if not isinstance(pipeline, dict):
        raise ModelFileError(f"it must be a JSON object, got {type(pipeline).__name__}")
    for key, kind in (
        ("threshold", dict),
        ("preprocessor", dict),
        ("training", (dict, type(None))),
    ):
        if key not in pipeline:
            raise ModelFileError(f"{key!r} is missing")
        if not isinstance(pipeline[key], kind):
            raise ModelFileError(
                f"{key!r} must be a JSON object, got {type(pipeline[key]).__name__}"
            )
    for key in ("label_col", "normal_label"):
        value = pipeline.get(key)
        if value is not None and not isinstance(value, (str, int, float)):
            raise ModelFileError(
                f"{key!r} must be a column name or value, got {type(value).__name__}"
            )


class TabularDetector:
    """A detector for tables of mixed columns: preprocessing, model and threshold together.

    Parameters
    ----------
    model : DAGMM, VAEDetector or another detector of the shared contract, optional
        The (unfitted) estimator to train; cloned at ``fit``. Default:
        ``FitOptions().make_model()`` (DAGMM with the workflow's defaults).
    preprocessor : TabularPreprocessor, optional
        The (unfitted) preprocessor; cloned at ``fit``, with the label column
        added to its ``drop_cols``. Default: ``TabularPreprocessor()``.
    label_col : str, optional
        Label column of the training table; only its normal rows are trained
        on. Stored with the model so ``evaluate`` finds it.
    normal_label : str, optional
        The label value meaning normal (default: 0, false or "normal").
    threshold : ThresholdPolicy, optional
        Default: ``ThresholdPolicy.contamination(0.01)``.
    validation_fraction : float, default=0.2
        For ``ThresholdPolicy.f1()`` without a ``validation`` table: the share
        of normal rows held out, with every anomaly, to choose the threshold.
    random_state : int, default=0
        Seeds the validation split.
    auto_params : tuple of str, default=()
        Deprecated: leave ``minibatch_size`` or ``comp_hiddens`` as None on
        the model instead, and the estimator chooses them from the training
        data (:mod:`dagmm.estimators.widths`).

    Attributes
    ----------
    preprocessor_ : TabularPreprocessor
    model_ : DAGMM, VAEDetector, ...
    threshold_ : float
        Energy above which a row is flagged.
    reference_energies_ : ndarray
        Sorted training energies (see :func:`~dagmm.workflow.reference_energies`).
    training_ : dict
        Row counts, features and time of the fit, saved with the model.

    Examples
    --------
    >>> from dagmm.workflow import FitOptions, TabularDetector, make_creditcard_like
    >>> frame = make_creditcard_like(600, random_state=0)
    >>> options = FitOptions(label_col="Class", drop_cols=("Time",), epoch_size=2,
    ...                      comp_hiddens=(8, 1), est_hiddens=(4, 2))
    >>> detector = TabularDetector.from_options(options).fit(frame)
    >>> detector.score_frame(frame.head(2)).columns.tolist()
    ['row', 'energy', 'score', 'is_anomaly']
    """

    def __init__(
        self,
        model: BaseDeepDetector | None = None,
        preprocessor: TabularPreprocessor | None = None,
        *,
        label_col: str | None = None,
        normal_label: str | None = None,
        threshold: ThresholdPolicy | None = None,
        validation_fraction: float = 0.2,
        random_state: int = 0,
        auto_params: tuple[str, ...] = (),
    ) -> None:
        self.model = model
        self.preprocessor = preprocessor
        self.label_col = label_col
        self.normal_label = normal_label
        self.threshold = threshold
        self.validation_fraction = validation_fraction
        self.random_state = random_state
        self.auto_params = auto_params

    @classmethod
    def from_options(cls, options: FitOptions) -> TabularDetector:
        """A detector configured by :class:`FitOptions` (what ``dagmm fit`` does).

        Its messages name FitOptions fields (``impute=True``), not the
        preprocessor's parameters.
        """
        detector = cls(
            options.make_model(),
            TabularPreprocessor(**options.preprocessor_params()),
            label_col=options.label_col,
            normal_label=options.normal_label,
            threshold=options.threshold_policy(),
            validation_fraction=options.validation_fraction,
            random_state=options.random_state,
        )
        detector._vocabulary = OPTIONS
        return detector

    # ------------------------------------------------------------------ fit
    @property
    def policy(self) -> ThresholdPolicy:
        return self.threshold if self.threshold is not None else ThresholdPolicy.contamination()

    def anomalies(self, frame: pd.DataFrame, source: object = None) -> np.ndarray:
        """Anomaly mask of a table from its label column (``label_col`` is required)."""
        if not self.label_col:
            raise ValueError("no label column: give label_col (--label-col)")
        require_column(frame, self.label_col, "label column", source)
        return anomaly_mask(frame[self.label_col], self.normal_label, column=self.label_col)

    def new_preprocessor(self) -> TabularPreprocessor:
        """A fresh (unfitted) copy of the preprocessor, with the label column dropped."""
        pre = clone(self.preprocessor) if self.preprocessor is not None else TabularPreprocessor()
        if self.label_col:
            dropped = list(pre.drop_cols or ())
            if self.label_col not in dropped:
                pre.set_params(drop_cols=[*dropped, self.label_col])
        return pre

    def new_model(self, *, progress: bool = False) -> BaseDeepDetector:
        """A fresh (unfitted) copy of the model to train, showing its progress bar or not."""
        model = clone(self.model) if self.model is not None else FitOptions().make_model()
        params: dict[str, Any] = {"verbose": 1 if progress else 0}
        if self.auto_params:  # deprecated: the estimator chooses None settings itself
            renamed = {"batch_size": "minibatch_size", "comp_hiddens": "comp_hiddens"}
            unknown = sorted(set(self.auto_params) - set(renamed))
            if unknown:
                raise ValueError(
                    f"auto_params={self.auto_params!r} names {unknown}; expected 'batch_size' "
                    "and/or 'comp_hiddens'"
                )
            warnings.warn(
                "TabularDetector(auto_params=...) is deprecated: set minibatch_size=None or "
                "comp_hiddens=None on the model, which then chooses them from the training data",
                DeprecationWarning,
                stacklevel=3,
            )
            params.update({renamed[name]: None for name in self.auto_params})
        return model.set_params(**params)

    def fit(
        self,
        data: pd.DataFrame,
        *,
        validation: pd.DataFrame | None = None,
        progress: bool = False,
    ) -> TabularDetector:
        """Fit the preprocessor and the model on the normal rows of ``data``, then the threshold.

        Parameters
        ----------
        data : DataFrame
            The training table (with the label column when ``label_col`` is set).
        validation : DataFrame, optional
            Labelled rows for the ``f1`` threshold; by default they are held out
            of ``data`` (``validation_fraction`` of the normal rows and every anomaly).
        progress : bool, default=False
            Show the model's training progress bar.

        Returns
        -------
        self

        Raises
        ------
        DataError
            If a column is absent, labels are missing or have no normal value,
            too few rows are left to train on, or the preprocessor rejects the data.
        """
        with vocabulary(getattr(self, "_vocabulary", PYTHON)):
            return self._fit(data, validation, progress)

    def _fit(
        self, data: pd.DataFrame, validation: pd.DataFrame | None, progress: bool
    ) -> TabularDetector:
        started = time.perf_counter()
        model = self.new_model(progress=progress)
        group = data_parallel_group(model)
        if group is not None:  # inside dagmm.distributed.data_parallel(): data is this rank's shard
            if validation is not None:
                raise ValueError("a data-parallel fit takes no validation table; leave it out")
            from dagmm.distributed.tabular import fit_detector_sharded

            fitted = fit_detector_sharded(self, data, group, progress=progress)
            self._set_fitted(
                fitted.preprocessor_, fitted.model_, fitted.reference_energies_, fitted.policy
            )
            self.training_ = fitted.training_
            return self
        frame = as_frame(data)
        if len(frame) == 0:
            raise DataError("the training table has no rows; pass at least two rows of data")
        policy = self.policy
        if policy.needs_labels and not self.label_col and validation is None:
            raise ValueError("the f1 threshold policy needs labels: give label_col (--label-col)")
        is_anomaly = self.anomalies(frame) if self.label_col else np.zeros(len(frame), dtype=bool)
        train_rows = np.flatnonzero(~is_anomaly)
        val_frame, val_anomaly = None, None
        if policy.needs_labels:
            if validation is None:
                train_rows, val_rows = validation_split(
                    is_anomaly, self.validation_fraction, self.random_state
                )
                val_frame, val_anomaly = frame.iloc[val_rows], is_anomaly[val_rows]
            else:
                val_frame = as_frame(validation)
                val_anomaly = self.anomalies(val_frame)
        if train_rows.size < 2:
            raise DataError(
                f"only {train_rows.size} normal row(s) to train on; the model needs at least 2"
            )
        train = frame.iloc[train_rows]
        preprocessor = self.new_preprocessor()
        X = preprocessor.fit_transform(train)
        if not self.label_col:
            warn_label_like_inputs(preprocessor.input_columns_)
        model.fit(X)
        val_energy = None
        if val_frame is not None:
            val_energy = model.energy(preprocessor.transform(val_frame))
        self._set_fitted(preprocessor, model, model.energy(X), policy, val_energy, val_anomaly)
        self.training_ = {
            "rows": int(len(frame)),
            "training_rows": int(train_rows.size),
            "anomalies_left_out": int(is_anomaly.sum()),
            "validation_rows": 0 if val_frame is None else int(len(val_frame)),
            "columns": [str(name) for name in frame.columns],
            "features": int(X.shape[1]),
            "seconds": round(time.perf_counter() - started, 3),
        }
        return self

    def _set_fitted(
        self,
        preprocessor: TabularPreprocessor,
        model: BaseDeepDetector,
        train_energy: np.ndarray,
        policy: ThresholdPolicy,
        val_energy: np.ndarray | None = None,
        val_anomaly: np.ndarray | None = None,
    ) -> None:
        self.preprocessor_ = preprocessor
        self.model_ = model
        self.reference_energies_ = reference_energies(train_energy)
        self.threshold_policy_ = policy
        self._apply_threshold(policy.threshold(self.reference_energies_, val_energy, val_anomaly))

    @classmethod
    def from_fitted(
        cls,
        preprocessor: TabularPreprocessor,
        model: BaseDeepDetector,
        train_energy: np.ndarray,
        *,
        threshold: ThresholdPolicy | None = None,
        validation: tuple[np.ndarray, np.ndarray] | None = None,
        label_col: str | None = None,
        normal_label: str | None = None,
        training: dict[str, Any] | None = None,
    ) -> TabularDetector:
        """Assemble a detector from a fitted preprocessor and model (used by tuning).

        ``train_energy`` are the model's energies of its training rows;
        ``validation`` is ``(energy, is_anomaly)`` of labelled rows, needed
        by the f1 policy.
        """
        detector = cls(
            model, preprocessor, label_col=label_col, normal_label=normal_label, threshold=threshold
        )
        val_energy, val_anomaly = validation if validation is not None else (None, None)
        detector._set_fitted(
            preprocessor, model, train_energy, detector.policy, val_energy, val_anomaly
        )
        detector.training_ = dict(training or {})
        return detector

    def _apply_threshold(self, threshold: float) -> None:
        self.threshold_ = float(threshold)
        # Keep the estimator consistent: DAGMM.load(model_dir).predict flags the same rows.
        self.model_.set_threshold(self.threshold_)

    def threshold_for(self, policy: ThresholdPolicy) -> float:
        """The threshold ``policy`` gives on the stored training energies (not f1)."""
        self._check_fitted()
        if policy.needs_labels:
            raise ValueError(
                "the f1 threshold needs labelled rows; it is chosen at fit time "
                "(--threshold-f1) or reported by `dagmm evaluate`"
            )
        return policy.threshold(self.reference_energies_)

    def set_threshold(self, policy: ThresholdPolicy) -> TabularDetector:
        """Re-apply a contamination or fpr policy from the stored training energies."""
        self._apply_threshold(self.threshold_for(policy))
        self.threshold_policy_ = policy
        return self

    # -------------------------------------------------------------- scoring
    def _check_fitted(self) -> None:
        if not hasattr(self, "threshold_"):
            raise NotFittedError(
                "this TabularDetector is not fitted yet; call fit() or TabularDetector.load()"
            )

    def features(self, data: pd.DataFrame) -> np.ndarray:
        """The model's input matrix for a table (float32, n x features)."""
        self._check_fitted()
        return self.preprocessor_.transform(data)

    def energy(self, data: pd.DataFrame) -> np.ndarray:
        """Anomaly energy of each row (higher = more anomalous)."""
        return self.model_.energy(self.features(data))

    def predict(self, data: pd.DataFrame) -> np.ndarray:
        """-1 for rows above the threshold, +1 for the others (scikit-learn convention)."""
        return np.where(self.energy(data) > self.threshold_, -1, 1)

    def score_frame(
        self,
        data: pd.DataFrame,
        *,
        explain: bool = False,
        top_columns: int = 3,
        threshold: float | None = None,
    ) -> pd.DataFrame:
        """Scores of each row, ready to write next to the data.

        Parameters
        ----------
        data : DataFrame
            Raw rows with the columns the model was fitted on (extra columns
            are ignored; categories unseen at fit are encoded as all zeros).
        explain : bool, default=False
            Add the columns contributing most to each row's reconstruction
            error and its most likely mixture component.
        top_columns : int, default=3
            How many columns ``top_columns`` names.
        threshold : float, optional
            Energy threshold to flag with instead of ``threshold_``.

        Returns
        -------
        DataFrame
            ``row`` (the row's index label: its number in the file for
            chunks of :func:`~dagmm.tabular.iter_table_chunks`), the id
            columns, ``energy``, ``score`` (fraction of training rows with a
            lower energy, 0 to 1), ``is_anomaly`` (1 when ``energy`` is above
            the threshold) and, with ``explain``, ``top_columns`` (e.g.
            ``"amount (62%), merchant (21%)"``: shares of the row's squared
            reconstruction error), ``component`` and ``component_probability``.
        """
        self._check_fitted()
        frame = as_frame(data)
        ids = self.preprocessor_.select_ids(frame)
        clash = [name for name in ids.columns if name in ("row", *SCORE_COLUMNS, *EXPLAIN_COLUMNS)]
        if clash:
            raise DataError(
                f"id column(s) {name_list(clash)} have the names of score columns; rename them"
            )
        X = self.preprocessor_.transform(frame)
        energy = self.model_.energy(X)
        cut = self.threshold_ if threshold is None else float(threshold)
        out = pd.DataFrame({"row": frame.index.to_numpy()}, index=frame.index)
        for name in ids.columns:
            out[name] = ids[name].to_numpy()
        out["energy"] = energy
        out["score"] = percentile_scores(self.reference_energies_, energy)
        out["is_anomaly"] = (energy > cut).astype(np.int8)
        if explain:
            self._check_explainable()
            out["top_columns"] = self._top_columns(X, top_columns)
            posterior = self.model_.predict_proba_components(X)
            out["component"] = posterior.argmax(axis=1)
            out["component_probability"] = posterior.max(axis=1)
        return out.reset_index(drop=True)

    def column_contributions(self, data: pd.DataFrame | np.ndarray) -> pd.DataFrame:
        """Share of each row's squared reconstruction error per input column (rows sum to 1).

        Needs a model with per-feature reconstruction errors (DAGMM).
        """
        self._check_explainable()
        X = self.features(data) if isinstance(data, pd.DataFrame) else np.asarray(data)
        per_column, names = self.preprocessor_.aggregate_by_column(
            self.model_.reconstruction_errors(X)
        )
        total = per_column.sum(axis=1, keepdims=True)
        shares = np.divide(per_column, total, out=np.zeros_like(per_column), where=total > 0)
        return pd.DataFrame(shares, columns=names)

    def _check_explainable(self) -> None:
        missing = [
            name
            for name in ("reconstruction_errors", "predict_proba_components")
            if not callable(getattr(self.model_, name, None))
        ]
        if missing:
            raise ValueError(
                f"{field_name('explain')} names the columns and mixture component behind each "
                f"score, which needs a DAGMM model; this model is a {type(self.model_).__name__} "
                f"(it has no {' or '.join(missing)}): score without {field_name('explain')}"
            )

    def _top_columns(self, X: np.ndarray, top: int) -> list[str]:
        shares = self.column_contributions(X)
        values, names = shares.to_numpy(), np.asarray(shares.columns, dtype=object)
        top = max(1, min(int(top), values.shape[1]))
        order = np.argsort(-values, axis=1, kind="stable")[:, :top]  # n x top
        return [
            ", ".join(f"{names[j]} ({100 * row[j]:.0f}%)" for j in picks if row[j] > 0)
            for row, picks in zip(values, order, strict=True)
        ]

    # ---------------------------------------------------------- persistence
    def save(self, path: str | Path, *, overwrite: bool = True) -> Path:
        """Save preprocessing, model and threshold as one model directory (written atomically).

        Returns
        -------
        Path
        """
        self._check_fitted()
        # The estimator writes its own format (it stays the one place that
        # knows it), with the pipeline section and arrays beside it.
        pre_config, pre_arrays = self.preprocessor_.to_state()
        pipeline = {
            "class": _PIPELINE_CLASS,
            "version": _PIPELINE_VERSION,
            "dagmm_version": __version__,
            "label_col": self.label_col,
            "normal_label": self.normal_label,
            "threshold": {**self.threshold_policy_.to_config(), "energy": self.threshold_},
            "training": getattr(self, "training_", {}),
            "preprocessor": pre_config,
        }
        return self.model_.save(
            path,
            overwrite=overwrite,
            extra_config={PIPELINE_KEY: pipeline},
            extra_arrays={
                _PREPROCESSOR_GROUP: pre_arrays,
                _REFERENCE_GROUP: {"energies": self.reference_energies_},
            },
        )

    @classmethod
    def load(cls, path: str | Path, *, device: str | None = None) -> TabularDetector:
        """Load a model directory written by :meth:`save` (``dagmm fit``, ``dagmm tune``).

        Raises
        ------
        ModelFileError
            If ``path`` is not a model directory, is damaged, or holds a bare
            detector without preprocessing.
        """
        root = Path(path)
        # One read of the directory: a model replaced meanwhile cannot give
        # this network with another model's threshold.
        model, extras, groups = BaseDeepDetector.load_with_extras(
            root,
            device=device,
            config_keys=(PIPELINE_KEY,),
            array_groups=(_PREPROCESSOR_GROUP, _REFERENCE_GROUP),
        )
        pipeline = extras.get(PIPELINE_KEY)
        if pipeline is None:
            name = type(model).__name__
            raise ModelFileError(
                f"'{root}' holds a bare {name} model without the preprocessing the "
                "commands need; train one with `dagmm fit` (or TabularDetector.fit), or load it "
                f"with dagmm.{name}.load"
            )
        try:
            _check_pipeline_structure(pipeline)
            if (
                pipeline.get("class") != _PIPELINE_CLASS
                or pipeline.get("version") != _PIPELINE_VERSION
            ):
                raise ModelFileError(
                    f"its pipeline is {pipeline.get('class')!r} version {pipeline.get('version')!r}, "
                    f"expected {_PIPELINE_CLASS!r} version {_PIPELINE_VERSION}: upgrade dagmm"
                )
            preprocessor = TabularPreprocessor.from_state(
                pipeline["preprocessor"], groups[_PREPROCESSOR_GROUP]
            )
            reference = np.sort(np.asarray(groups[_REFERENCE_GROUP]["energies"], dtype=np.float64))
            if reference.ndim != 1 or not np.all(np.isfinite(reference)):
                raise ModelFileError("the reference energies must be a 1-D array of finite numbers")
            policy = ThresholdPolicy.from_config(pipeline["threshold"])
            threshold = pipeline["threshold"]["energy"]
            if not isinstance(threshold, (int, float)) or not math.isfinite(threshold):
                raise ModelFileError(f"threshold energy must be a finite number, got {threshold!r}")
            threshold = float(threshold)
        except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
            detail = str(exc) if isinstance(exc, ModelFileError) else f"{type(exc).__name__}: {exc}"
            raise ModelFileError(
                f"'{root / 'config.json'}' has a damaged pipeline section: {detail}"
            ) from None
        if model.n_features_in_ != len(preprocessor.feature_names_out_) or reference.size == 0:
            raise ModelFileError(
                f"'{root}' is inconsistent: the preprocessor makes "
                f"{len(preprocessor.feature_names_out_)} features but the model takes "
                f"{model.n_features_in_}"
            )
        detector = cls(
            label_col=pipeline.get("label_col"),
            normal_label=pipeline.get("normal_label"),
            threshold=policy,
        )
        detector.preprocessor_ = preprocessor
        detector.model_ = model
        detector.reference_energies_ = reference
        detector.threshold_policy_ = policy
        detector.training_ = dict(pipeline.get("training") or {})
        detector._apply_threshold(threshold)
        return detector

    def to_onnx(self, path: str | Path, *, check: bool = True, precise_tanh: bool = True):
        """Write preprocessing, model and threshold as one ONNX file (``dagmm export``).

        Numeric and date-time preprocessing and the one-hot encoding go into
        the graph; hashed columns cannot (ExportError). See
        :mod:`dagmm.export.onnx` for the inputs and outputs, and
        :func:`dagmm.export.export_onnx` for ``check`` and ``precise_tanh``.

        Returns
        -------
        dagmm.export.ExportReport
        """
        from dagmm.export import export_onnx

        return export_onnx(self, path, check=check, precise_tanh=precise_tanh)

    def __repr__(self) -> str:
        fitted = hasattr(self, "threshold_")
        state = f"threshold={self.threshold_:.6g}" if fitted else "unfitted"
        return f"TabularDetector(label_col={self.label_col!r}, {self.policy.describe()}, {state})"
