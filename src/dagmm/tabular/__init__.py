"""Tables of mixed columns in and out of DAGMM.

:class:`TabularPreprocessor` turns a DataFrame of numbers, categories,
booleans and date-times into the float32 matrix the estimators train on, and
saves as JSON plus arrays. :func:`read_table`, :func:`iter_table_chunks` and
:class:`AtomicTableWriter` read CSV/TSV/Parquet files whole or in chunks and
write results without ever leaving a partial file.

Examples
--------
>>> from dagmm.tabular import TabularPreprocessor, read_table
>>> pre = TabularPreprocessor(id_cols=["order_id"])  # doctest: +SKIP
>>> X = pre.fit_transform(read_table("train.csv"))  # doctest: +SKIP
"""

from dagmm.tabular._columns import MISSING_LABEL
from dagmm.tabular.io import (
    SUPPORTED_EXTENSIONS,
    AtomicTableWriter,
    check_field_counts,
    escape_formula,
    iter_table_chunks,
    read_table,
)
from dagmm.tabular.preprocessor import TabularPreprocessor, TabularWarning

__all__ = [
    "MISSING_LABEL",
    "SUPPORTED_EXTENSIONS",
    "AtomicTableWriter",
    "TabularPreprocessor",
    "TabularWarning",
    "check_field_counts",
    "escape_formula",
    "iter_table_chunks",
    "read_table",
]
