"""Process bodies for the distributed tests (imported by spawned children)."""

from __future__ import annotations

import pickle
import traceback
from pathlib import Path

import torch.distributed as dist


def run(rank: int, world_size: int, workdir: str, job: str, payload: bytes) -> None:
    """Join a gloo group through a file store, run ``job`` on this rank, pickle the result."""
    import os

    os.environ.setdefault("OMP_NUM_THREADS", "1")
    import torch

    torch.set_num_threads(1)
    out = Path(workdir) / f"result{rank}.pkl"
    try:
        store = dist.FileStore(str(Path(workdir) / "store"), world_size)
        dist.init_process_group("gloo", store=store, rank=rank, world_size=world_size)
        result = JOBS[job](rank, world_size, pickle.loads(payload))
        dist.destroy_process_group()
    except BaseException as exc:  # reported to the test, which fails with the traceback
        result = {"error": f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}"}
    out.write_bytes(pickle.dumps(result))


def shard(array, rank: int, world_size: int, sizes=None):
    """Rank's contiguous block of rows (``sizes`` rows per rank, or an even split)."""
    import numpy as np

    n = len(array)
    bounds = np.cumsum([0, *sizes]) if sizes else np.linspace(0, n, world_size + 1).astype(int)
    return array[bounds[rank] : bounds[rank + 1]]


def train_job(rank: int, world_size: int, payload: dict) -> dict:
    from dagmm import DAGMM
    from dagmm.distributed import data_parallel

    X = payload["X"]
    model = DAGMM(**payload["params"])
    with data_parallel():
        model.fit(shard(X, rank, world_size, payload.get("sizes")))
    return fitted_summary(model, X)


def fitted_summary(model, X) -> dict:
    return {
        "energy": model.energy(X),
        "history": model.history_,
        "offset": model.offset_,
        "weights": model.weights_,
        "means": model.means_,
        "covariances": model.covariances_,
        "center": model.scaler_center_,
        "scale": model.scaler_scale_,
    }


def quantile_job(rank: int, world_size: int, payload: dict) -> dict:
    from dagmm.distributed import ProcessGroup

    group = ProcessGroup.from_default()
    values = shard(payload["values"], rank, world_size, payload.get("sizes"))
    return {"quantiles": group.quantiles(values, payload["q"])}


def preprocess_job(rank: int, world_size: int, payload: dict) -> dict:
    import warnings

    from dagmm.distributed import ProcessGroup
    from dagmm.distributed.tabular import fit_preprocessor_sharded
    from dagmm.tabular import TabularPreprocessor

    frame = shard(payload["frame"], rank, world_size, payload.get("sizes"))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pre = fit_preprocessor_sharded(
            TabularPreprocessor(**payload["params"]), frame, ProcessGroup.from_default()
        )
    config, arrays = pre.to_state()
    return {"config": config, "arrays": arrays, "warnings": len(caught)}


def detector_job(rank: int, world_size: int, payload: dict) -> dict:
    """TabularDetector.fit of this rank's rows inside data_parallel()."""
    from dagmm.distributed import data_parallel
    from dagmm.workflow.detector import TabularDetector
    from dagmm.workflow.options import FitOptions

    frame = shard(payload["frame"], rank, world_size, payload.get("sizes"))
    with data_parallel():
        detector = TabularDetector.from_options(FitOptions(**payload["options"])).fit(frame)
    return {"energy": detector.energy(payload["frame"]), "threshold": detector.threshold_,
            "training": detector.training_}


def error_job(rank: int, world_size: int, payload: dict) -> dict:
    """A missing value on the last rank only: every rank must raise, none may hang."""
    from dagmm.distributed import ProcessGroup
    from dagmm.distributed.tabular import fit_preprocessor_sharded
    from dagmm.tabular import TabularPreprocessor

    frame = shard(payload["frame"], rank, world_size, payload.get("sizes"))
    try:
        fit_preprocessor_sharded(TabularPreprocessor(), frame, ProcessGroup.from_default())
    except Exception as exc:  # noqa: BLE001 - reported to the test
        return {"raised": f"{type(exc).__name__}: {exc}"}
    return {"raised": None}


def several_job(rank: int, world_size: int, payload: dict) -> list:
    """Several jobs in one start of the processes (starting them is the slow part)."""
    return [JOBS[name](rank, world_size, sub) for name, sub in payload["jobs"]]


JOBS = {
    "train": train_job,
    "quantiles": quantile_job,
    "preprocess": preprocess_job,
    "error": error_job,
    "detector": detector_job,
    "several": several_job,
}
