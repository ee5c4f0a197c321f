"""Input scaling of a data-parallel fit: the estimators' statistics over every rank's rows."""

from __future__ import annotations

import numpy as np

from dagmm.distributed.collectives import ProcessGroup
from dagmm.math.scaling import constant_columns

__all__ = ["sharded_scaling_statistics"]


def sharded_scaling_statistics(
    X: np.ndarray, normalize: bool | str, group: ProcessGroup
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`~dagmm.estimators._base.scaling_statistics` of all ranks' rows together.

    Standard scaling in two all-reduces (column sums and counts, then the
    squared deviations from the global mean, as ``np.std`` computes it);
    min-max from all-reduced extremes. Constant columns follow the one rule of
    :func:`dagmm.math.scaling.constant_columns`, as in a single-process fit:
    centred on their value and divided by 1.
    """
    X64 = X.astype(np.float64, copy=False)
    n_features = X.shape[1]
    if normalize is False or normalize is None:
        return np.zeros(n_features), np.ones(n_features)
    low = group.extreme(X64.min(axis=0), largest=False)  # (D,)
    high = group.extreme(X64.max(axis=0), largest=True)  # (D,)
    if normalize is True or normalize == "standard":
        totals = group.total(np.concatenate([X64.sum(axis=0), [X64.shape[0]]]))
        center = totals[:-1] / totals[-1]
        scale = np.sqrt(group.total(((X64 - center) ** 2).sum(axis=0)) / totals[-1])
    else:
        center, scale = low, high - low
    constant = constant_columns(scale, np.maximum(np.abs(low), np.abs(high)))
    return np.where(constant, low, center), np.where(constant, 1.0, scale)
