"""The settings of ``dagmm fit`` and ``dagmm tune``, from defaults, a TOML file and the command line.

:class:`FitOptions` holds every setting with its default. A TOML file uses the
same names (``epochs = 50``, ``drop_cols = ["Time"]``, ``comp_hiddens =
[60, 30, 10, 1]``); :func:`resolve_options` lays the command line over the
file over the defaults and checks every value, so a typo in a key is an error
that suggests the right name instead of a silently ignored setting.

Examples
--------
>>> options = resolve_options({"epochs": 5, "drop_cols": "Time,Id"})
>>> options.epochs, options.drop_cols
(5, ('Time', 'Id'))
"""

from __future__ import annotations

import dataclasses
import math
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dagmm.math import check_reconstruction_features
from dagmm.tabular._columns import suggest
from dagmm.workflow.thresholds import DEFAULT_CONTAMINATION, ThresholdPolicy

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

__all__ = [
    "FitOptions",
    "auto_batch_size",
    "auto_comp_hiddens",
    "load_config_file",
    "resolve_options",
]

#: Bounds of the batch size chosen from the number of training rows.
MIN_AUTO_BATCH, MAX_AUTO_BATCH = 64, 1024
#: Minibatches per epoch the automatic batch size aims for on small tables.
_AUTO_STEPS_PER_EPOCH = 32


def auto_batch_size(n_rows: int) -> int:
    """Batch size for ``n_rows`` training rows: about 32 steps an epoch, within [64, 1024].

    Large tables get DAGMM's usual 1024; small ones smaller batches, so that
    an epoch still makes several optimiser steps (with 1024 a table of 2,000
    rows would get two).
    """
    return int(min(MAX_AUTO_BATCH, max(MIN_AUTO_BATCH, n_rows // _AUTO_STEPS_PER_EPOCH)))


def auto_comp_hiddens(n_features: int) -> tuple[int, int]:
    """Compression widths for ``n_features`` inputs: ``(2L, L)``, latent size L = features / 3.

    L is ``ceil(n_features / 3)`` clipped to [2, 16], and the hidden width
    ``2L`` is clipped to [8, 64]. On tables of heterogeneous columns a
    latent code this wide reconstructs the normal rows far better than the
    paper's single latent dimension (tuned for KDDCUP), and DAGMM's energy
    depends on the reconstruction: on the synthetic credit-card table ROC-AUC
    rose from about 0.5 to 0.85, on ODDS Thyroid from about 0.7 to 0.8, and on
    KDDCUP it stayed at about 0.98.
    """
    latent = int(min(max(math.ceil(n_features / 3), 2), 16))
    return (int(min(max(2 * latent, 8), 64)), latent)


@dataclass(frozen=True)
class FitOptions:
    """Every setting of a fit, with the workflow's defaults.

    Attributes
    ----------
    label_col : str or None
        Column of labels; only its normal rows are used for training.
    normal_label : str or None
        The label value that means normal (default: 0, false or "normal").
    drop_cols, id_cols, categorical_cols : tuple of str
        Columns to ignore; identifier columns written beside the scores;
        columns to encode as categories whatever their type.
    datetime_cols : tuple of str
        Columns of date-times (ISO 8601, MM/DD/YYYY HH:MM, DD.MM.YYYY, or
        epoch seconds); a value that fits none of these is an error. Dates in
        those layouts are also found without it, with a warning.
    impute : bool
        Fill missing values (numbers with the median, categories with
        ``__missing__``) instead of rejecting them.
    max_categories : int
        Most distinct values for one-hot encoding; columns with more are hashed.
    epochs, learning_rate, lambda1, lambda2, dropout
        Training settings of :class:`~dagmm.DAGMM` (``dropout`` is its
        ``est_dropout_ratio``). The loss weights are lower than the paper's
        (0.1 and 0.005): on standardised tables the covariance penalty with
        the paper's weight dwarfs the reconstruction term. Measured with the
        workflow's preprocessing and width rules (ROC-AUC, 100 epochs):
        synthetic credit card 0.85 -> 0.93-0.95, ODDS Thyroid 0.74-0.96 ->
        0.98, 40,000 KDDCUP rows 0.977 -> 0.976.
    restarts : int
        Whole trainings from different initialisations; the one that
        reconstructs the training rows best is kept (DAGMM's ``n_restarts``),
        at that many times the training time. It rescues runs that fail,
        which happens more when the training rows hold unlabelled anomalies:
        on KDDCUP with 1% to 5% of them left in, 3 restarts raised the
        benchmark preset's F1 by 0.03 to 0.14 (``benchmarks/results/study.md``,
        section 6). With these defaults on the synthetic credit-card table
        with 2% unlabelled frauds in training, where single runs did not fail,
        ROC-AUC was 0.933 with 1 and 0.931 with 3 (6 draws).
    reconstruction_features : tuple of str
        Reconstruction features in the mixture input (see
        :class:`~dagmm.DAGMM`); the default adds the Euclidean distance to the
        paper's pair, which raised ROC-AUC on the tables above by 0.00-0.02.
    batch_size : int or None
        Rows per minibatch; None picks it from the number of training rows
        (:func:`auto_batch_size`).
    comp_hiddens : tuple of int or None
        Compression widths, the last being the latent size; None picks them
        from the number of features (:func:`auto_comp_hiddens`).
    est_hiddens : tuple of int
        Estimation widths, the last being the number of mixture components.
    contamination : float or None
        Threshold policy: fraction of training rows above the threshold
        (the default policy, with 0.01).
    threshold_fpr : float or None
        Threshold policy: target false-positive rate on the training rows.
    threshold_f1 : bool
        Threshold policy: best-F1 energy on labelled validation rows (needs
        ``label_col``). At most one of the three policies may be set.
    validation_fraction : float
        Share of the normal rows held out, with every anomaly, to choose the
        F1 threshold.
    device : str
        "auto", "cpu", "cuda", "cuda:1", ...
    n_jobs : int or None
        CPU threads while training (DAGMM's ``n_jobs``); None picks them from
        the minibatch size (one thread for small ones), -1 uses every core.
    seed : int
        Seeds the model and every split: the same seed gives the same model.
    """

    label_col: str | None = None
    normal_label: str | None = None
    drop_cols: tuple[str, ...] = ()
    id_cols: tuple[str, ...] = ()
    categorical_cols: tuple[str, ...] = ()
    datetime_cols: tuple[str, ...] = ()
    impute: bool = False
    max_categories: int = 50
    epochs: int = 100
    batch_size: int | None = None
    learning_rate: float = 1e-3
    lambda1: float = 0.01
    lambda2: float = 1e-5
    reconstruction_features: tuple[str, ...] = ("relative", "cosine", "euclidean")
    dropout: float = 0.5
    restarts: int = 1
    comp_hiddens: tuple[int, ...] | None = None
    est_hiddens: tuple[int, ...] = (10, 4)
    contamination: float | None = None
    threshold_fpr: float | None = None
    threshold_f1: bool = False
    validation_fraction: float = 0.2
    device: str = "auto"
    seed: int = 0
    n_jobs: int | None = None

    def threshold_policy(self) -> ThresholdPolicy:
        """The threshold policy these options ask for."""
        if self.threshold_f1:
            return ThresholdPolicy.f1()
        if self.threshold_fpr is not None:
            return ThresholdPolicy.fpr(self.threshold_fpr)
        return ThresholdPolicy.contamination(
            DEFAULT_CONTAMINATION if self.contamination is None else self.contamination
        )

    def auto_params(self) -> tuple[str, ...]:
        """The DAGMM settings left to be chosen from the training data at fit."""
        unset = (("batch_size", self.batch_size), ("comp_hiddens", self.comp_hiddens))
        return tuple(name for name, value in unset if value is None)

    def model_params(self) -> dict[str, Any]:
        """:class:`~dagmm.DAGMM` keyword arguments.

        ``normalize`` is off: the tabular preprocessor has already scaled the
        numbers and leaves one-hot indicators at 0/1, which rescaling would
        blow up for rare categories. Unset ``batch_size`` and
        ``comp_hiddens`` are placeholders here (1024, and DAGMM's own rule);
        :class:`TabularDetector` replaces them at fit (see :meth:`auto_params`).
        """
        return {
            "comp_hiddens": self.comp_hiddens,
            "est_hiddens": self.est_hiddens,
            "est_dropout_ratio": self.dropout,
            "n_restarts": self.restarts,
            "minibatch_size": self.batch_size if self.batch_size is not None else MAX_AUTO_BATCH,
            "epoch_size": self.epochs,
            "learning_rate": self.learning_rate,
            "lambda1": self.lambda1,
            "lambda2": self.lambda2,
            "reconstruction_features": self.reconstruction_features,
            "normalize": False,
            "device": self.device,
            "random_state": self.seed,
            "n_jobs": self.n_jobs,
        }

    def preprocessor_params(self) -> dict[str, Any]:
        """:class:`~dagmm.tabular.TabularPreprocessor` keyword arguments (label column dropped)."""
        label = [self.label_col] if self.label_col else []
        return {
            "drop_cols": [*self.drop_cols, *label],
            "id_cols": list(self.id_cols),
            "categorical_cols": list(self.categorical_cols) or None,
            "datetime_cols": list(self.datetime_cols) or None,
            "handle_missing": "impute" if self.impute else "error",
            "max_categories": self.max_categories,
        }


_FIELDS = {f.name: f for f in dataclasses.fields(FitOptions)}
#: Names a config file may use.
OPTION_NAMES: tuple[str, ...] = tuple(_FIELDS)

_STR = ("label_col", "normal_label", "device")
_NAMES = ("drop_cols", "id_cols", "categorical_cols", "datetime_cols", "reconstruction_features")
_WIDTHS = ("comp_hiddens", "est_hiddens")
_BOOL = ("impute", "threshold_f1")
_INT = {"max_categories": 1, "epochs": 1, "batch_size": 1, "restarts": 1}  # name -> minimum
_OPTIONAL = ("comp_hiddens", "contamination", "threshold_fpr", "batch_size", "n_jobs")
_FLOAT = (
    "learning_rate",
    "lambda1",
    "lambda2",
    "dropout",
    "contamination",
    "threshold_fpr",
    "validation_fraction",
)


def _option_error(name: str, value: Any, expected: str, source: str) -> ValueError:
    return ValueError(f"{name} = {value!r} in {source} is invalid: expected {expected}")


def _convert(name: str, value: Any, source: str) -> Any:
    """Check one value and convert it to the field's type."""
    if value is None:
        if name in _STR or name in _OPTIONAL:
            return None
        raise _option_error(name, value, "a value", source)
    if name in _STR:
        if not isinstance(value, str) or not value.strip():
            raise _option_error(name, value, "a non-empty string", source)
        return value
    if name in _NAMES or name in _WIDTHS:
        items = value.split(",") if isinstance(value, str) else value
        if not isinstance(items, (list, tuple)):
            raise _option_error(name, value, "a list, or names separated by commas", source)
        items = [item.strip() if isinstance(item, str) else item for item in items]
        items = [item for item in items if item != ""]
        if name in _NAMES:
            if not all(isinstance(item, str) for item in items):
                what = "feature names" if name == "reconstruction_features" else "column names"
                raise _option_error(name, value, f"a list of {what}", source)
            return tuple(items)
        widths = []
        for item in items:
            try:
                width = int(item) if not isinstance(item, (bool, float)) else None
            except ValueError:
                width = None
            if width is None or width < 1:
                raise _option_error(name, value, "positive integers such as 60,30,10,1", source)
            widths.append(width)
        if not widths:
            raise _option_error(name, value, "at least one width", source)
        return tuple(widths)
    if name in _BOOL:
        if not isinstance(value, bool):
            raise _option_error(name, value, "true or false", source)
        return value
    if name == "n_jobs":
        if isinstance(value, bool) or not isinstance(value, int) or not (value >= 1 or value == -1):
            raise _option_error(name, value, "an integer >= 1, or -1 for every core", source)
        return value
    if name in _INT or name == "seed":
        if isinstance(value, bool) or not isinstance(value, int):
            raise _option_error(name, value, "an integer", source)
        if name in _INT and value < _INT[name]:
            raise _option_error(name, value, f"an integer >= {_INT[name]}", source)
        return value
    if name in _FLOAT:
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or not math.isfinite(value)
        ):
            raise _option_error(name, value, "a number", source)
        return float(value)
    raise AssertionError(f"option {name!r} has no converter")  # pragma: no cover


def _check_ranges(options: FitOptions) -> None:
    check_reconstruction_features(options.reconstruction_features)
    if options.learning_rate <= 0:
        raise ValueError(f"learning_rate={options.learning_rate!r} must be positive, e.g. 1e-3")
    for name in ("lambda1", "lambda2"):
        if getattr(options, name) < 0:
            raise ValueError(f"{name}={getattr(options, name)!r} must be >= 0")
    if not 0 <= options.dropout < 1:
        raise ValueError(f"dropout={options.dropout!r} must be in [0, 1)")
    if not 0 < options.validation_fraction < 1:
        raise ValueError(
            f"validation_fraction={options.validation_fraction!r} must be in (0, 1), e.g. 0.2"
        )
    chosen = [
        name
        for name, given in (
            ("contamination", options.contamination is not None),
            ("threshold_fpr", options.threshold_fpr is not None),
            ("threshold_f1", options.threshold_f1),
        )
        if given
    ]
    if len(chosen) > 1:
        raise ValueError(
            f"{' and '.join(chosen)} both set a threshold policy; choose one of contamination, "
            "threshold_fpr and threshold_f1"
        )
    if options.threshold_f1 and not options.label_col:
        raise ValueError(
            "threshold_f1 chooses the threshold on labelled rows: give the label column "
            "(--label-col)"
        )
    if options.normal_label is not None and not options.label_col:
        raise ValueError("normal_label is set but no label column is given (--label-col)")
    options.threshold_policy()  # checks the policy's value range


def load_config_file(path: str | os.PathLike) -> dict[str, Any]:
    """Read a TOML file of options; unknown keys are an error that suggests the right one.

    Returns
    -------
    dict
        The options in the file, checked and converted (not merged with defaults).
    """
    source = Path(path)
    if not source.is_file():
        raise FileNotFoundError(f"config file '{source}' does not exist; check the path")
    try:
        with open(source, "rb") as handle:
            raw = tomllib.load(handle)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"config file '{source}' is not valid TOML: {exc}") from None
    return _checked(raw, f"'{source}'")


def _checked(values: dict[str, Any], source: str) -> dict[str, Any]:
    unknown = [name for name in values if name not in _FIELDS]
    if unknown:
        name = unknown[0]
        raise ValueError(
            f"unknown option {name!r} in {source}{suggest(name, OPTION_NAMES)}; "
            f"known options: {', '.join(OPTION_NAMES)}"
        )
    return {name: _convert(name, value, source) for name, value in values.items()}


def resolve_options(
    command_line: dict[str, Any] | None = None,
    config: str | os.PathLike | dict[str, Any] | None = None,
) -> FitOptions:
    """Options from the command line over a config file over the defaults.

    Parameters
    ----------
    command_line : dict, optional
        Values given on the command line; None values mean "not given".
        Lists may be comma-separated strings.
    config : path or dict, optional
        A TOML file (or its parsed content).

    Returns
    -------
    FitOptions
        Checked options.

    Raises
    ------
    ValueError
        Naming the unknown key (with a suggestion) or the invalid value.
    """
    merged: dict[str, Any] = {}
    if config is not None:
        from_file = (
            _checked(config, "the config") if isinstance(config, dict) else load_config_file(config)
        )
        merged.update(from_file)
    given = {name: value for name, value in (command_line or {}).items() if value is not None}
    merged.update(_checked(given, "the command line"))
    options = FitOptions(**merged)
    _check_ranges(options)
    return options
