"""Files and tiny-model arguments for the command-line tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

from dagmm.workflow.synthetic import make_transactions

#: Options that make `dagmm fit` train a tiny model quickly.
TINY_ARGS = [
    "--epochs",
    "2",
    "--batch-size",
    "64",
    "--comp-hiddens",
    "8,2",
    "--est-hiddens",
    "4,2",
    "--device",
    "cpu",
]


@pytest.fixture(autouse=True)
def _one_torch_thread() -> Iterator[None]:
    # Tiny batches on a shared machine run far slower with several intra-op threads.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def tiny_args() -> list[str]:
    return list(TINY_ARGS)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """train.csv (mixed types, text labels), new.csv (unseen merchants), test.csv (labelled)."""
    root = tmp_path_factory.mktemp("data")
    make_transactions(400, random_state=0).to_csv(root / "train.csv", index=False)
    make_transactions(900, unseen_categories=True, random_state=1).to_csv(
        root / "new.csv", index=False
    )
    make_transactions(300, anomaly_fraction=0.1, unseen_categories=True, random_state=2).to_csv(
        root / "test.csv", index=False
    )
    return root


@pytest.fixture(scope="module")
def model_dir(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from dagmm.cli import main

    out = tmp_path_factory.mktemp("model") / "model"
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        code = main(
            [
                "fit",
                str(data_dir / "train.csv"),
                "--out",
                str(out),
                "--label-col",
                "label",
                "--id-cols",
                "txn_id",
                "--quiet",
                *TINY_ARGS,
            ]
        )
    finally:
        torch.set_num_threads(threads)
    assert code == 0
    return out
