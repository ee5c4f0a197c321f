"""Seeded row splits of labelled tables: train on normal rows, check on the rest."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from dagmm.exceptions import DataError

__all__ = ["HoldoutSplit", "holdout_split", "validation_split"]


class HoldoutSplit(NamedTuple):
    """Row positions (sorted) of the three parts of a labelled table."""

    train: np.ndarray
    validation: np.ndarray
    test: np.ndarray


def validation_split(
    is_anomaly: np.ndarray, validation_fraction: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Hold out ``validation_fraction`` of the normal rows, plus every anomaly.

    Returns
    -------
    train, validation : ndarray of int
        Sorted row positions: normal rows only, and the held-out normal rows
        with all anomalies.

    Raises
    ------
    DataError
        If there is no anomaly (F1 needs some) or too few normal rows.
    """
    anomalies = np.flatnonzero(is_anomaly)
    normal = np.flatnonzero(~is_anomaly)
    if anomalies.size == 0:
        raise DataError(
            "choosing the threshold by F1 needs anomalies among the labelled rows, and the "
            "label column marks none; use the contamination or fpr threshold instead"
        )
    n_held = int(round(validation_fraction * normal.size))
    if n_held < 1 or normal.size - n_held < 2:
        raise DataError(
            f"only {normal.size} normal rows: too few to hold out validation_fraction="
            f"{validation_fraction} of them and train on the rest"
        )
    order = np.random.default_rng(seed).permutation(normal)
    return np.sort(order[n_held:]), np.sort(np.concatenate([order[:n_held], anomalies]))


def holdout_split(
    is_anomaly: np.ndarray, *, train_fraction: float = 0.8, seed: int = 0
) -> HoldoutSplit:
    """Train on ``train_fraction`` of the normal rows; split the rest in two halves.

    The rows not used for training (the other normal rows and every anomaly)
    are split in halves, each class separately, into a validation part (to
    choose hyper-parameters or a threshold) and a test part that is looked at
    only once, at the end.

    Parameters
    ----------
    is_anomaly : ndarray of bool, shape (n,)
    train_fraction : float, default=0.8
        Share of the normal rows trained on.
    seed : int, default=0

    Returns
    -------
    HoldoutSplit
        ``train``, ``validation`` and ``test`` row positions.

    Raises
    ------
    DataError
        If there are fewer than two anomalies (one for validation, one for
        test) or too few normal rows.

    Examples
    --------
    >>> import numpy as np
    >>> split = holdout_split(np.r_[np.zeros(10, bool), np.ones(2, bool)], seed=0)
    >>> len(split.train), len(split.validation), len(split.test)
    (8, 2, 2)
    """
    if not 0.0 < train_fraction < 1.0:
        raise ValueError(f"train_fraction={train_fraction!r} must be in (0, 1), e.g. 0.8")
    is_anomaly = np.asarray(is_anomaly, dtype=bool)
    anomalies = np.flatnonzero(is_anomaly)
    normal = np.flatnonzero(~is_anomaly)
    if anomalies.size < 2:
        raise DataError(
            f"the labelled data has {anomalies.size} anomal{'y' if anomalies.size == 1 else 'ies'}; "
            "at least 2 are needed, one for validation and one for the final test"
        )
    n_train = int(round(train_fraction * normal.size))
    if n_train < 2 or normal.size - n_train < 2:
        raise DataError(
            f"only {normal.size} normal rows: too few to train on {train_fraction:.0%} of them "
            "and keep the rest for validation and test"
        )
    rng = np.random.default_rng(seed)
    normal = rng.permutation(normal)
    anomalies = rng.permutation(anomalies)
    rest = normal[n_train:]
    half_normal, half_anomaly = (rest.size + 1) // 2, (anomalies.size + 1) // 2
    return HoldoutSplit(
        train=np.sort(normal[:n_train]),
        validation=np.sort(np.concatenate([rest[:half_normal], anomalies[:half_anomaly]])),
        test=np.sort(np.concatenate([rest[half_normal:], anomalies[half_anomaly:]])),
    )
