"""Tabular preprocessing fitted on shards equals the fit on the whole table; errors reach every rank."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from dagmm.tabular import TabularPreprocessor
from dagmm.workflow.detector import TabularDetector
from dagmm.workflow.options import FitOptions
from dagmm.workflow.synthetic import make_transactions


def _table() -> pd.DataFrame:
    frame = make_transactions(90, random_state=0).drop(columns=["label"])
    rng = np.random.default_rng(0)
    frame["code"] = [str(v) for v in rng.integers(0, 5, 90)]  # numbers as text...
    frame.loc[80, "code"] = "x"  # ...except on the last shard: text for all
    frame["mostly_empty"] = np.nan
    frame.loc[5:10, "mostly_empty"] = rng.normal(size=6)  # values on the first shard only
    frame.loc[[3, 40, 70], "amount"] = np.nan  # medians for imputation
    frame["note"] = [f"free text {i}" for i in range(90)]  # identifier-like: left out
    frame["city"] = [f"c{i % 30}" for i in range(90)]  # 30 labels > max_categories: hashed
    return frame


PARAMS = dict(id_cols=["txn_id"], handle_missing="impute", max_categories=20)


def test_sharded_preprocessor_equals_whole_table_fit(on_ranks):
    frame = _table()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        config, arrays = TabularPreprocessor(**PARAMS).fit(frame).to_state()
    assert config["columns"][0]["name"] == "amount"  # the table covers what it should:
    kinds = {column["name"]: column["kind"] for column in config["columns"]}
    assert kinds["code"] == "onehot" and kinds["city"] == "hashed" and "note" not in kinds
    missing_frame = make_transactions(60, random_state=1)
    missing_frame.loc[55, "amount"] = np.nan
    labelled = make_transactions(120, anomaly_fraction=0.05, random_state=2)
    options = dict(label_col="label", id_cols=("txn_id",), epoch_size=2, minibatch_size=32,
                   comp_hiddens=(6, 2), est_hiddens=(4, 2), device="cpu", random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        one = TabularDetector.from_options(FitOptions(**options)).fit(labelled)
    jobs = [
        ("preprocess", {"frame": frame, "params": PARAMS, "sizes": (30, 45, 15)}),
        ("error", {"frame": missing_frame, "sizes": (20, 20, 20)}),
        ("detector", {"frame": labelled, "options": options}),
    ]
    for rank, (fitted, failed, detector) in enumerate(on_ranks(3, "several", {"jobs": jobs})):
        assert fitted["config"] == config
        for name, array in arrays.items():
            np.testing.assert_allclose(fitted["arrays"][name], array, rtol=1e-12, equal_nan=True)
        np.testing.assert_array_equal(  # medians: exact
            fitted["arrays"]["impute_values"], arrays["impute_values"]
        )
        assert (fitted["warnings"] > 0) == (rank == 0)  # warnings once, from rank 0
        assert failed["raised"] is not None and "missing values" in failed["raised"]
        assert "amount" in failed["raised"]
        # TabularDetector.fit inside data_parallel(): the one-process detector.
        np.testing.assert_allclose(detector["energy"], one.energy(labelled), rtol=1e-5, atol=1e-4)
        np.testing.assert_allclose(detector["threshold"], one.threshold_, rtol=1e-5)
        assert detector["training"]["training_rows"] == one.training_["training_rows"]
