"""Threshold policies: how the energy above which a row is flagged is chosen.

Three policies, each stored in the model directory with the energy it gave:

``contamination``
    The ``1 - c`` quantile of the training energies: about a fraction ``c`` of
    the training rows lie above it (:func:`~dagmm.evaluation.contamination_threshold`,
    the rule :class:`~dagmm.DAGMM` applies by itself).
``fpr``
    The lowest energy that flags at most a fraction ``f`` of the training rows
    (:func:`~dagmm.evaluation.threshold_for_fpr`): a target false-positive
    rate, read off rows that are taken to be normal. The training energies
    are slightly optimistic for unseen normal rows, so the realised rate is
    usually a little higher.
``f1``
    With labels: the energy that maximises F1 on a labelled validation set
    (:func:`~dagmm.evaluation.best_f1_threshold`).

The training energies are kept with the model as a sorted reference sample
(:func:`reference_energies`), so ``contamination`` and ``fpr`` can be re-applied
at scoring time and each row gets a percentile ``score`` without the training
data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from dagmm.evaluation import best_f1_threshold, contamination_threshold, threshold_for_fpr
from dagmm.exceptions import ModelFileError

__all__ = [
    "DEFAULT_CONTAMINATION",
    "REFERENCE_SIZE",
    "ThresholdPolicy",
    "percentile_scores",
    "reference_energies",
]

#: Fraction of training rows above the threshold when no policy is given.
DEFAULT_CONTAMINATION = 0.01
#: Most training energies kept with a model (evenly spaced order statistics beyond that).
REFERENCE_SIZE = 100_001

POLICIES = ("contamination", "fpr", "f1")


@dataclass(frozen=True)
class ThresholdPolicy:
    """A rule that turns energies into a flagging threshold.

    Parameters
    ----------
    kind : {"contamination", "fpr", "f1"}
    value : float or None
        The contamination fraction in (0, 0.5], or the false-positive rate in
        [0, 1); None for ``"f1"``.

    Examples
    --------
    >>> policy = ThresholdPolicy.fpr(0.01)
    >>> policy.threshold([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0])
    10.0
    >>> policy.describe()
    'false-positive rate 1% on the training rows'
    """

    kind: str
    value: float | None = None

    def __post_init__(self) -> None:
        if self.kind not in POLICIES:
            raise ValueError(
                f"threshold policy {self.kind!r} is unknown; expected one of {POLICIES}"
            )
        if self.kind == "f1":
            if self.value is not None:
                raise ValueError("the f1 threshold policy takes no value")
            return
        if self.value is None or isinstance(self.value, bool):
            raise ValueError(f"the {self.kind} threshold policy needs a number, got {self.value!r}")
        value = float(self.value)
        if self.kind == "contamination" and not 0.0 < value <= 0.5:
            raise ValueError(
                f"contamination={value!r} is out of range: expected a fraction in (0, 0.5], "
                "e.g. 0.01 to flag about 1% of the training rows"
            )
        if self.kind == "fpr" and not 0.0 <= value < 1.0:
            raise ValueError(
                f"threshold_fpr={value!r} is out of range: expected a false-positive rate in "
                "[0, 1), e.g. 0.001"
            )
        object.__setattr__(self, "value", value)

    @classmethod
    def contamination(cls, fraction: float = DEFAULT_CONTAMINATION) -> ThresholdPolicy:
        """Flag about ``fraction`` of the training rows."""
        return cls("contamination", fraction)

    @classmethod
    def fpr(cls, rate: float) -> ThresholdPolicy:
        """Flag at most ``rate`` of the training rows (a target false-positive rate)."""
        return cls("fpr", rate)

    @classmethod
    def f1(cls) -> ThresholdPolicy:
        """The best-F1 energy on labelled validation rows."""
        return cls("f1")

    @property
    def needs_labels(self) -> bool:
        return self.kind == "f1"

    def describe(self) -> str:
        """A short phrase for messages and reports."""
        if self.kind == "contamination":
            return f"contamination {self.value:.4g} ({100 * self.value:.3g}% of the training rows)"
        if self.kind == "fpr":
            return f"false-positive rate {100 * self.value:.3g}% on the training rows"
        return "best F1 on labelled validation rows"

    def threshold(
        self,
        reference: ArrayLike,
        validation_energy: ArrayLike | None = None,
        validation_anomaly: ArrayLike | None = None,
    ) -> float:
        """The energy threshold (flag a row when ``energy > threshold``).

        Parameters
        ----------
        reference : array-like of shape (n,)
            Training energies (sorted or not).
        validation_energy, validation_anomaly : array-like of shape (m,), optional
            Energies and 0/1 (or boolean) anomaly labels of labelled
            validation rows; required by ``"f1"``.
        """
        if self.kind == "contamination":
            return contamination_threshold(reference, self.value)
        if self.kind == "fpr":
            return threshold_for_fpr(reference, self.value)
        if validation_energy is None or validation_anomaly is None:
            raise ValueError(
                "the f1 threshold policy needs labelled validation rows: give a label column "
                "with anomalies in it"
            )
        labels = np.asarray(validation_anomaly).astype(np.int8)
        return best_f1_threshold(labels, validation_energy)[0]

    def to_config(self) -> dict[str, Any]:
        return {"policy": self.kind, "value": self.value}

    @classmethod
    def from_config(cls, config: Any) -> ThresholdPolicy:
        if not isinstance(config, dict) or "policy" not in config:
            raise ModelFileError(f"threshold: expected an object with a 'policy', got {config!r}")
        try:
            return cls(config["policy"], config.get("value"))
        except ValueError as exc:
            raise ModelFileError(f"threshold: {exc}") from None


def reference_energies(energy: ArrayLike, size: int = REFERENCE_SIZE) -> np.ndarray:
    """Sorted training energies, thinned to at most ``size`` evenly spaced quantiles.

    Up to ``size`` rows every energy is kept, so thresholds and scores are
    exact; beyond that the sample holds the quantiles at ``size`` evenly
    spaced levels (including the minimum and the maximum), so memory stays
    bounded whatever the training size and quantiles are accurate to
    ``1 / (size - 1)``.
    """
    values = np.sort(np.asarray(energy, dtype=np.float64).ravel())
    if values.size <= size:
        return values
    return np.quantile(values, np.linspace(0.0, 1.0, size))


def percentile_scores(reference: np.ndarray, energy: ArrayLike) -> np.ndarray:
    """Fraction of the (sorted) reference energies strictly below each energy, in [0, 1].

    0.999 means the row is more unusual than 99.9% of the training rows.
    """
    counts = np.searchsorted(reference, np.asarray(energy, dtype=np.float64), side="left")
    return counts / float(reference.size)
