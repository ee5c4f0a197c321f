"""Tiny models and small mixed-type tables for the workflow tests."""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import torch

from dagmm.tabular import TabularWarning
from dagmm.workflow import FitOptions, TabularDetector
from dagmm.workflow.synthetic import make_transactions

#: A model small and short enough for tests, on the columns of make_transactions.
TINY = FitOptions(
    label_col="label",
    id_cols=("txn_id",),
    epoch_size=2,
    minibatch_size=64,
    comp_hiddens=(8, 2),
    est_hiddens=(4, 2),
    device="cpu",
)


@contextlib.contextmanager
def one_thread() -> Iterator[None]:
    # Tiny batches on a shared machine run far slower with several intra-op threads.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


@pytest.fixture(autouse=True)
def _one_torch_thread() -> Iterator[None]:
    with one_thread():
        yield


@pytest.fixture
def tiny() -> FitOptions:
    return TINY


@pytest.fixture(scope="module")
def train_frame() -> pd.DataFrame:
    return make_transactions(400, random_state=0)


@pytest.fixture(scope="module")
def new_frame() -> pd.DataFrame:
    """Rows to score, some with merchants never seen at fit."""
    return make_transactions(150, unseen_categories=True, random_state=1)


@pytest.fixture(scope="module")
def fitted(train_frame: pd.DataFrame) -> TabularDetector:
    with one_thread(), warnings.catch_warnings():
        warnings.simplefilter("ignore", TabularWarning)
        return TabularDetector.from_options(TINY).fit(train_frame)


@pytest.fixture(scope="module")
def model_dir(fitted: TabularDetector, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return fitted.save(tmp_path_factory.mktemp("model") / "model")
