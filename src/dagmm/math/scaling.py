"""When a column counts as constant: the one rule every scaler in dagmm uses.

A column is constant when its spread (standard deviation or range) is at most
:data:`CONSTANT_RTOL` times its largest absolute value, or not finite. The
rule is relative, so it does not depend on the unit: the same measurements in
metres or nanometres are both scaled (an absolute cut-off left columns with a
standard deviation below ~1e-7 unscaled, and AUROC fell from 1.0 to 0.44 by
changing the unit). A constant column is centred on its value and divided by
1, never by ~0.

Used by :func:`dagmm.estimators._base.scaling_statistics` (``normalize=`` of
the estimators) and by :class:`dagmm.tabular.TabularPreprocessor`. Change the
tolerance here, and only here.
"""

from __future__ import annotations

import numpy as np

__all__ = ["CONSTANT_RTOL", "constant_columns"]

#: A spread at most this fraction of the column's magnitude is rounding on a
#: constant column, not signal (float64 sums of equal values are off by ~1e-16
#: relative; float32 inputs differ by at least ~6e-8 relative when not equal).
CONSTANT_RTOL = 1e-12


def constant_columns(spread: np.ndarray, magnitude: np.ndarray) -> np.ndarray:
    """Which columns are constant under the relative rule.

    Parameters
    ----------
    spread : array-like, shape (D,)
        Standard deviation or range of each column.
    magnitude : array-like, shape (D,)
        Largest absolute value of each column.

    Returns
    -------
    ndarray of bool, shape (D,)
    """
    spread = np.asarray(spread, dtype=np.float64)
    magnitude = np.asarray(magnitude, dtype=np.float64)
    return ~np.isfinite(spread) | (spread <= CONSTANT_RTOL * magnitude)
