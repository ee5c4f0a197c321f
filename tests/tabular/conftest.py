"""Shared tables for the tabular tests: small, seeded, covering every column kind."""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from dagmm.tabular import TabularPreprocessor, TabularWarning

N_ROWS = 120


def make_mixed_frame(n: int = N_ROWS, seed: int = 0) -> pd.DataFrame:
    """One column of each kind the preprocessor handles.

    ``city`` has 60 labels over 120 rows: more than 50 (hashed) but far from
    all distinct; ``note`` is distinct on every row (left out as free text).
    """
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "order_id": [f"o{i:04d}" for i in range(n)],
            "amount": rng.normal(100.0, 15.0, n).round(2),
            "quantity": rng.integers(1, 4, n),  # few distinct integers: still a number
            "color": rng.choice(["red", "green", "blue"], n),
            "express": rng.choice([True, False], n),
            "placed_at": pd.Timestamp("2024-01-01")
            + pd.to_timedelta(rng.integers(0, 10**7, n), unit="s"),
            "shipped_on": (
                pd.Timestamp("2024-02-01") + pd.to_timedelta(rng.integers(0, 60, n), unit="D")
            )
            .strftime("%Y-%m-%d")
            .astype(object),
            "note": [f"customer wrote message number {i}" for i in range(n)],
            "city": [f"city{i % 60:02d}" for i in rng.permutation(n)],
        }
    )


@pytest.fixture
def mixed_frame() -> pd.DataFrame:
    return make_mixed_frame()


@pytest.fixture
def make_frame() -> Callable[..., pd.DataFrame]:
    """The frame builder, for tests that need another size or seed."""
    return make_mixed_frame


def _fit_quietly(pre: TabularPreprocessor, frame: pd.DataFrame) -> TabularPreprocessor:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TabularWarning)
        return pre.fit(frame)


@pytest.fixture
def fit_quietly() -> Callable[[TabularPreprocessor, pd.DataFrame], TabularPreprocessor]:
    """Fit, ignoring the expected warnings about hashed, left-out and date columns."""
    return _fit_quietly


@pytest.fixture
def tiny_args_folder() -> list[str]:
    """`dagmm fit` options for a tiny, quick model."""
    return ["--epochs", "2", "--batch-size", "64", "--comp-hiddens", "8,2", "--est-hiddens", "4,2", "--device", "cpu"]
