"""Data-parallel training across processes and machines (``torch.distributed``).

Each process holds a shard of the training rows; together they fit the model
a single process would fit on all the rows, in the same order (the shards
concatenated in rank order), up to float rounding. The Python API::

    import torch.distributed as dist
    from dagmm import DAGMM
    from dagmm.distributed import data_parallel

    dist.init_process_group("gloo")          # torchrun sets the environment
    with data_parallel():
        model = DAGMM(random_state=0).fit(X_shard)   # every rank: the same model
    if dist.get_rank() == 0:
        model.save("model")

and on the command line, each rank reading its share of a folder's Parquet
row groups (:func:`dagmm.tabular.read_folder_share`)::

    torchrun --nproc-per-node 4 -m dagmm fit data/ --out model

What is shared and how (see :mod:`dagmm.distributed.training`):

* gradients: DistributedDataParallel (gloo on CPU, nccl on CUDA);
* the minibatch mixture: sums of memberships, of gamma z and of the centred
  gamma z z^T, all-reduced inside the autograd graph, so loss and gradient
  are those of the global batch;
* the frozen mixture: the ranks' sufficient statistics merged in rank order;
* the threshold and the stored training-energy quantiles: exact quantiles of
  all ranks' energies by distributed selection (each rank keeps its own
  energies; no sketch is needed at any size);
* the input scaling and the tabular preprocessing: all-reduced sums, extremes
  and exact medians; category sets unioned (:mod:`dagmm.distributed.tabular`).

A distributed fit runs eagerly (``compile`` is ignored: the fused compiled
step bypasses DDP's gradient hooks).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any

import torch.distributed as dist

from dagmm.distributed.collectives import _ACTIVE, ProcessGroup, current_group, sum_across
from dagmm.distributed.scaling import sharded_scaling_statistics

__all__ = [
    "ProcessGroup",
    "current_group",
    "data_parallel",
    "fit_shard",
    "init_from_environment",
    "launched_by_torchrun",
    "sharded_scaling_statistics",
    "sum_across",
]


@contextlib.contextmanager
def data_parallel(group: ProcessGroup | None = None) -> Iterator[ProcessGroup]:
    """Inside this block, ``DAGMM.fit`` (and ``TabularDetector`` fits) train data-parallel.

    Every rank must enter the block and call the same fits with its own shard;
    each returns the same fitted model.

    Parameters
    ----------
    group : ProcessGroup, optional
        Default: :meth:`ProcessGroup.from_default` (the initialised default group).
    """
    group = group or ProcessGroup.from_default()
    _ACTIVE.append(group)
    try:
        yield group
    finally:
        _ACTIVE.remove(group)


def fit_shard(estimator: Any, X_shard: Any, **fit_params: Any) -> Any:
    """``estimator.fit(X_shard)`` data-parallel over the default process group; returns it."""
    with data_parallel():
        return estimator.fit(X_shard, **fit_params)


def launched_by_torchrun() -> bool:
    """Whether this process is one of several started by torchrun (or TorchDistributor)."""
    return int(os.environ.get("WORLD_SIZE", "1")) > 1 and "RANK" in os.environ


def init_from_environment(backend: str | None = None) -> ProcessGroup:
    """Initialise the default process group from torchrun's environment variables.

    ``backend`` defaults to ``nccl`` when this process sees a CUDA device, else
    ``gloo``. A group already initialised is reused.
    """
    if not dist.is_initialized():
        import torch

        if backend is None:
            backend = "nccl" if torch.cuda.is_available() else "gloo"
        if backend == "nccl":
            torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
        dist.init_process_group(backend)
    return ProcessGroup.from_default()
