"""The settings of ``dagmm fit`` and ``dagmm tune``, from defaults, a config file and the command line.

One vocabulary: a :class:`FitOptions`, a config file (TOML or JSON) and the
Python workflow name a detector's settings with the estimator's own parameter
names (``epoch_size``, ``minibatch_size``, ``comp_hiddens``, ``random_state``
...), and those values are checked by the estimator itself (its
``_parameter_constraints`` and :meth:`~dagmm.estimators._base.BaseDeepDetector.check_params`).
Around them are the workflow's own settings (:data:`WORKFLOW_FIELDS`: columns,
labels, the threshold policy). The command line may spell a parameter
shorter (``--epochs``); :mod:`dagmm.cli._flags` maps each flag to one name.

Defaults are the estimator's, except the few in :data:`WORKFLOW_DEFAULTS`
(each with its reason). The names options used before 0.5 (``epochs``,
``batch_size``, ``dropout``, ``restarts``, ``seed``) still work, with a
DeprecationWarning naming the new one.

Examples
--------
>>> options = resolve_options({"epoch_size": 5, "drop_cols": "Time,Id"})
>>> options.epoch_size, options.drop_cols
(5, ('Time', 'Id'))
>>> options.model_params()["normalize"]  # a workflow default: the preprocessor scales
False
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import sys
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dagmm.estimators import (
    DAGMM,
    RENAMED_PARAMETERS,
    BaseDeepDetector,
    VAEDetector,
    default_comp_hiddens,
    default_minibatch_size,
)
from dagmm.tabular._columns import suggest
from dagmm.workflow.thresholds import DEFAULT_CONTAMINATION, ThresholdPolicy

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

__all__ = [
    "DEPRECATED_NAMES",
    "DETECTORS",
    "FitOptions",
    "WORKFLOW_DEFAULTS",
    "WORKFLOW_FIELDS",
    "auto_batch_size",
    "auto_comp_hiddens",
    "detector_class",
    "load_config_file",
    "resolve_options",
]

#: Detectors the workflow trains, by the name ``--detector`` and ``detector =`` take.
DETECTORS: Mapping[str, type[BaseDeepDetector]] = {"dagmm": DAGMM, "vae": VAEDetector}

#: The only defaults of the workflow that differ from the estimator's, and why.
WORKFLOW_DEFAULTS: Mapping[str, tuple[Any, str]] = {
    "normalize": (
        False,
        "the tabular preprocessor has already scaled the numbers and leaves one-hot indicators "
        "at 0/1, which rescaling would blow up for rare categories",
    ),
    "random_state": (
        0,
        "the same file and options give the same model; it also seeds the validation split",
    ),
    "contamination": (
        DEFAULT_CONTAMINATION,
        "the default threshold policy flags 1% of the training rows (the estimator's own "
        "threshold is set to the policy's)",
    ),
}

#: Option names of the old vocabulary, kept for one release: old name -> estimator name.
DEPRECATED_NAMES: Mapping[str, str] = {
    name: RENAMED_PARAMETERS[name]
    for name in ("epochs", "batch_size", "dropout", "restarts", "seed")
}

#: Estimator parameters the workflow sets itself: ``verbose`` follows the
#: commands' progress display; ``validation_fraction`` names the workflow's
#: F1 hold-out share (below), so the estimators' early-stopping hold-out
#: keeps its default.
_WORKFLOW_OWNED = ("verbose",)


def detector_class(name: str) -> type[BaseDeepDetector]:
    """The estimator class of a detector name (``"dagmm"``, ``"vae"``)."""
    if name not in DETECTORS:
        raise ValueError(
            f"detector {name!r} is unknown{suggest(str(name), tuple(DETECTORS))}: expected one "
            f"of {', '.join(DETECTORS)}"
        )
    return DETECTORS[name]


def auto_batch_size(n_rows: int) -> int:
    """Deprecated: :func:`dagmm.estimators.widths.default_minibatch_size`."""
    warnings.warn(
        "auto_batch_size is deprecated: use dagmm.estimators.widths.default_minibatch_size "
        "(the rule DAGMM applies itself with minibatch_size=None)",
        DeprecationWarning,
        stacklevel=2,
    )
    return default_minibatch_size(n_rows)


def auto_comp_hiddens(n_features: int) -> tuple[int, int]:
    """Deprecated: :func:`dagmm.estimators.widths.default_comp_hiddens`."""
    warnings.warn(
        "auto_comp_hiddens is deprecated: use dagmm.estimators.widths.default_comp_hiddens "
        "(the rule DAGMM applies itself with comp_hiddens=None)",
        DeprecationWarning,
        stacklevel=2,
    )
    return default_comp_hiddens(n_features)


def _renamed(values: Mapping[str, Any], where: str) -> dict[str, Any]:
    """``values`` with old option names replaced by the estimator's, with a DeprecationWarning."""
    out = dict(values)
    for old, new in DEPRECATED_NAMES.items():
        if old not in out:
            continue
        if new in out:
            raise ValueError(f"{old} and {new} are the same setting in {where}; give only {new}")
        warnings.warn(
            f"the option {old!r} in {where} is deprecated: use {new!r}, the estimator's own name "
            "(the old name stops working in the next release)",
            DeprecationWarning,
            stacklevel=3,
        )
        out[new] = out.pop(old)
    return out


def _frozen(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


@dataclass(frozen=True, init=False)
class FitOptions:
    """Every setting of a fit: the workflow's own and the detector's parameters.

    Parameters are given as keywords: the workflow's own settings below, and
    any parameter of the chosen detector under its own name (``epoch_size``,
    ``minibatch_size``, ``comp_hiddens``, ``latent_dim`` ...), checked by the
    estimator. Read any of them back as an attribute (``options.epoch_size``
    is the value the model gets, given or default).

    Attributes
    ----------
    detector : {"dagmm", "vae"}
        The detector to train (:data:`DETECTORS`).
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
    contamination : float or None
        Threshold policy: fraction of training rows above the threshold
        (the default policy, with 0.01); also the estimator's ``contamination``.
    threshold_fpr : float or None
        Threshold policy: target false-positive rate on the training rows.
    threshold_f1 : bool
        Threshold policy: best-F1 energy on labelled validation rows (needs
        ``label_col``). At most one of the three policies may be set.
    validation_fraction : float
        Share of the normal rows held out, with every anomaly, to choose the
        F1 threshold (the estimators' early-stopping share keeps its default).
    random_state : int
        Seeds the model and every split: the same seed gives the same model.
    params : mapping
        The detector's parameters given (not the defaults); prefer keywords.

    Examples
    --------
    >>> options = FitOptions(label_col="Class", epoch_size=20, comp_hiddens=(8, 2))
    >>> options.epoch_size, options.est_hiddens, options.model_params()["random_state"]
    (20, (10, 4), 0)
    >>> FitOptions(detector="vae", latent_dim=8).make_model().latent_dim
    8
    """

    detector: str = "dagmm"
    label_col: str | None = None
    normal_label: str | None = None
    drop_cols: tuple[str, ...] = ()
    id_cols: tuple[str, ...] = ()
    categorical_cols: tuple[str, ...] = ()
    datetime_cols: tuple[str, ...] = ()
    impute: bool = False
    max_categories: int = 50
    contamination: float | None = None
    threshold_fpr: float | None = None
    threshold_f1: bool = False
    validation_fraction: float = 0.2
    random_state: int = 0
    params: Mapping[str, Any] = field(default_factory=dict)

    def __init__(self, **options: Any) -> None:
        values = _renamed(options, "FitOptions()")
        params = dict(values.pop("params", None) or {})
        for name in WORKFLOW_FIELDS:
            value = values.pop(name, _FIELDS[name].default)
            object.__setattr__(self, name, _convert(name, value, "FitOptions()"))
        known = parameter_names(self.detector)
        for name, value in values.items():
            if name not in known:
                raise TypeError(_unknown_message(name, self.detector, "FitOptions()"))
            params[name] = value
        object.__setattr__(self, "params", {k: _frozen(v) for k, v in params.items()})
        self._check()

    def __hash__(self) -> int:
        fields = tuple(getattr(self, name) for name in WORKFLOW_FIELDS)
        return hash((fields, tuple(sorted(self.params.items()))))

    def __getattr__(self, name: str) -> Any:
        # Only called for names that are not fields: the detector's parameters.
        if name.startswith("_") or "params" not in self.__dict__:
            raise AttributeError(name)
        if name in DEPRECATED_NAMES:
            new = DEPRECATED_NAMES[name]
            warnings.warn(
                f"FitOptions.{name} is deprecated: use FitOptions.{new}",
                DeprecationWarning,
                stacklevel=2,
            )
            return getattr(self, new)
        if name in parameter_names(self.detector):
            return _frozen(self.make_model().get_params(deep=False)[name])
        raise AttributeError(
            f"'FitOptions' has no attribute {name!r}: not a workflow setting nor a parameter of "
            f"{DETECTORS[self.detector].__name__}"
        )

    # -------------------------------------------------------------- parts
    def model_params(self) -> dict[str, Any]:
        """Keyword arguments of the detector: the workflow defaults, then the parameters given.

        Parameters not given keep the estimator's defaults (which
        ``make_model().get_params()`` shows); widths and minibatch sizes left
        as None are chosen by the estimator from the training data.
        """
        known = detector_class(self.detector)().get_params(deep=False)
        defaults = {name: value for name, (value, _) in WORKFLOW_DEFAULTS.items() if name in known}
        defaults["random_state"] = self.random_state
        if self.contamination is not None:
            defaults["contamination"] = self.contamination
        return {**defaults, **self.params}

    def make_model(self) -> BaseDeepDetector:
        """The (unfitted) detector these options describe."""
        return DETECTORS[self.detector](**self.model_params())

    def threshold_policy(self) -> ThresholdPolicy:
        """The threshold policy these options ask for."""
        if self.threshold_f1:
            return ThresholdPolicy.f1()
        if self.threshold_fpr is not None:
            return ThresholdPolicy.fpr(self.threshold_fpr)
        return ThresholdPolicy.contamination(
            DEFAULT_CONTAMINATION if self.contamination is None else self.contamination
        )

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

    def as_dict(self) -> dict[str, Any]:
        """The workflow settings and the parameters given, flat (what a config file holds)."""
        out = {name: getattr(self, name) for name in WORKFLOW_FIELDS}
        return {**out, **self.params}

    # ---------------------------------------------------------- checking
    def _check(self) -> None:
        self.make_model().check_params()
        chosen = [
            name
            for name, given in (
                ("contamination", self.contamination is not None),
                ("threshold_fpr", self.threshold_fpr is not None),
                ("threshold_f1", self.threshold_f1),
            )
            if given
        ]
        if len(chosen) > 1:
            raise ValueError(
                f"{' and '.join(chosen)} both set a threshold policy; choose one of "
                "contamination, threshold_fpr and threshold_f1"
            )
        if not 0 < self.validation_fraction < 1:
            raise ValueError(
                f"validation_fraction={self.validation_fraction!r} must be in (0, 1), e.g. 0.2"
            )
        if self.threshold_f1 and not self.label_col:
            raise ValueError(
                "threshold_f1 chooses the threshold on labelled rows: give the label column "
                "(--label-col)"
            )
        if self.normal_label is not None and not self.label_col:
            raise ValueError("normal_label is set but no label column is given (--label-col)")
        self.threshold_policy()  # checks the policy's value range


_FIELDS = {f.name: f for f in dataclasses.fields(FitOptions)}
#: The workflow's own settings (the rest of an options file are the detector's parameters).
WORKFLOW_FIELDS: tuple[str, ...] = tuple(name for name in _FIELDS if name != "params")


def parameter_names(detector: str) -> tuple[str, ...]:
    """The detector's parameters that options may set (all but the workflow-owned ones)."""
    names = detector_class(detector)().get_params(deep=False)
    return tuple(n for n in names if n not in _WORKFLOW_OWNED and n not in WORKFLOW_FIELDS)


def option_names(detector: str = "dagmm") -> tuple[str, ...]:
    """Every name an options file may use for ``detector``."""
    return (*WORKFLOW_FIELDS, *parameter_names(detector))


#: Names a config file may use (with the default detector, DAGMM).
OPTION_NAMES: tuple[str, ...] = option_names()


def _unknown_message(name: str, detector: str, source: str) -> str:
    known = option_names(detector)
    hint = suggest(name, known)
    if not hint and RENAMED_PARAMETERS.get(name) in known:
        hint = f" (did you mean {RENAMED_PARAMETERS[name]!r}?)"
    return (
        f"unknown option {name!r} in {source}{hint}; the workflow's options: "
        f"{', '.join(WORKFLOW_FIELDS)}; and any parameter of "
        f"{DETECTORS[detector].__name__}: {', '.join(parameter_names(detector))}"
    )


_STR = ("label_col", "normal_label", "detector")
_NAMES = ("drop_cols", "id_cols", "categorical_cols", "datetime_cols")
_BOOL = ("impute", "threshold_f1")
_INT = {"max_categories": 1}  # name -> minimum
_OPTIONAL = ("contamination", "threshold_fpr", "label_col", "normal_label")
_FLOAT = ("contamination", "threshold_fpr", "validation_fraction")


def _option_error(name: str, value: Any, expected: str, source: str) -> ValueError:
    return ValueError(f"{name} = {value!r} in {source} is invalid: expected {expected}")


def _split(value: Any) -> Any:
    """A comma-separated string as a list of its stripped, non-empty items."""
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


def _convert(name: str, value: Any, source: str) -> Any:
    """Check one workflow setting and convert it to the field's type."""
    if value is None:
        if name in _OPTIONAL:
            return None
        raise _option_error(name, value, "a value", source)
    if name in _STR:
        if not isinstance(value, str) or not value.strip():
            raise _option_error(name, value, "a non-empty string", source)
        if name == "detector":
            detector_class(value)
        return value
    if name in _NAMES:
        items = _split(value)
        if not isinstance(items, (list, tuple)) or not all(isinstance(i, str) for i in items):
            raise _option_error(name, value, "a list of column names", source)
        return tuple(items)
    if name in _BOOL:
        if not isinstance(value, bool):
            raise _option_error(name, value, "true or false", source)
        return value
    if name in _INT or name == "random_state":
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


def _convert_parameter(cls: type, name: str, value: Any, source: str) -> Any:
    """A detector parameter from a file or the command line: lists from comma-separated text."""
    if not isinstance(value, (str, list, tuple)):
        return value
    constraints = getattr(cls, "_parameter_constraints", {}).get(name, [])
    if "array-like" not in constraints:
        return value
    items = _split(value)
    if not name.endswith("hiddens"):
        if not all(isinstance(item, str) for item in items):
            raise _option_error(name, value, "a list of names", source)
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
    return tuple(widths)


def load_config_file(path: str | os.PathLike, detector: str | None = None) -> dict[str, Any]:
    """Read a TOML (or ``.json``) file of options; unknown keys are an error that suggests one.

    Parameters
    ----------
    path : path-like
    detector : str, optional
        The detector chosen elsewhere (the command line); default: the file's
        ``detector`` key, else "dagmm".

    Returns
    -------
    dict
        The options in the file, checked and converted (not merged with
        defaults), under the estimator's names.
    """
    source = Path(path)
    if not source.is_file():
        raise FileNotFoundError(f"config file '{source}' does not exist; check the path")
    is_json = source.suffix.lower() == ".json"
    try:
        if is_json:
            raw = json.loads(source.read_text(encoding="utf-8"))
        else:
            with open(source, "rb") as handle:
                raw = tomllib.load(handle)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError, ValueError) as exc:
        kind = "JSON" if is_json else "TOML"
        raise ValueError(f"config file '{source}' is not valid {kind}: {exc}") from None
    if not isinstance(raw, dict):
        raise ValueError(f"config file '{source}' must hold an object of options")
    return _checked(raw, f"'{source}'", detector)


def _checked(values: Mapping[str, Any], source: str, detector: str | None) -> dict[str, Any]:
    values = _renamed(values, source)
    chosen = detector or values.get("detector") or "dagmm"
    if "detector" in values:
        _convert("detector", values["detector"], source)
    cls = detector_class(chosen)
    known = option_names(chosen)
    unknown = [name for name in values if name not in known]
    if unknown:
        raise ValueError(_unknown_message(unknown[0], chosen, source))
    out: dict[str, Any] = {}
    params: dict[str, Any] = {}
    for name, value in values.items():
        if name in WORKFLOW_FIELDS:
            out[name] = _convert(name, value, source)
        else:
            params[name] = _convert_parameter(cls, name, value, source)
    try:  # the estimator checks its own parameters (those given here)
        cls(**params).check_params()
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{exc} (in {source})") from None
    return {**out, **params}


def resolve_options(
    command_line: dict[str, Any] | None = None,
    config: str | os.PathLike | dict[str, Any] | None = None,
) -> FitOptions:
    """Options from the command line over a config file over the defaults.

    Parameters
    ----------
    command_line : dict, optional
        Values given on the command line, under the estimator's names; None
        values mean "not given". Lists may be comma-separated strings.
    config : path or dict, optional
        A TOML or JSON file (or its parsed content).

    Returns
    -------
    FitOptions
        Checked options.

    Raises
    ------
    ValueError
        Naming the unknown key (with a suggestion) or the invalid value.
    """
    given = {name: value for name, value in (command_line or {}).items() if value is not None}
    detector = given.get("detector")
    merged: dict[str, Any] = {}
    if config is not None:
        if isinstance(config, dict):
            from_file = _checked(config, "the config", detector)
        else:
            from_file = load_config_file(config, detector)
        merged.update(from_file)
    merged.update(_checked(given, "the command line", detector or merged.get("detector")))
    return FitOptions(**merged)
