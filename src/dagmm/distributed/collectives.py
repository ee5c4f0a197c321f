"""The few collectives distributed training needs, in one place.

:class:`ProcessGroup` describes where this process sits (rank, world size,
its rows' offset in the global row order) and carries the collectives:

* :meth:`ProcessGroup.sum` -- an autograd-aware all-reduce: the backward pass
  of a sum over ranks is the sum over ranks of the incoming gradients, so a
  loss computed from all-reduced statistics differentiates as if every rank
  held the whole batch. (``torch.distributed.nn.functional.all_reduce`` does
  the same and is deprecated from torch 2.13 on; this is its ten lines.)
* :meth:`ProcessGroup.quantiles` -- exact ``np.quantile`` (linear method) of
  values spread over the ranks, by distributed selection: each rank keeps
  only its own values, and each wanted order statistic is found by bisection
  over the 64-bit ordering of float64, one all-reduce of counts per bit. The
  result equals ``np.quantile`` of the concatenated values bit for bit, at
  any size: no sketch, no approximation.
* :meth:`ProcessGroup.gather_objects` / :meth:`ProcessGroup.check` -- small
  Python objects from every rank, and the rule that an error on one rank is
  raised on every rank (a rank that raised alone would leave the others
  waiting in the next collective forever).

Mixture statistics travel in a group of their own (``stats_group``) so their
all-reduces, which run inside the autograd graph, never interleave with the
gradient buckets DistributedDataParallel reduces on the default group.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
from torch import Tensor

__all__ = ["ProcessGroup", "current_group", "sum_across"]


class _SumAcrossRanks(torch.autograd.Function):
    """All-reduce (sum) whose gradient is the all-reduce (sum) of the gradients."""

    @staticmethod
    def forward(ctx: Any, tensor: Tensor, group: Any) -> Tensor:
        ctx.group = group
        total = tensor.clone(memory_format=torch.contiguous_format)
        dist.all_reduce(total, op=dist.ReduceOp.SUM, group=group)
        return total

    @staticmethod
    def backward(ctx: Any, grad_output: Tensor) -> tuple[Tensor, None]:
        return _SumAcrossRanks.apply(grad_output, ctx.group), None


def sum_across(tensor: Tensor, group: Any = None) -> Tensor:
    """Differentiable sum of ``tensor`` over the ranks of ``group`` (all get the result)."""
    return _SumAcrossRanks.apply(tensor, group)


def _ordered_keys(values: np.ndarray) -> np.ndarray:
    """int64 keys that sort like the float64 ``values`` (NaN-free), -0.0 before +0.0."""
    bits = np.ascontiguousarray(values, dtype=np.float64).view(np.int64)
    return np.where(bits < 0, bits ^ np.int64(0x7FFFFFFFFFFFFFFF), bits)


def _values_of(keys: np.ndarray) -> np.ndarray:
    bits = np.where(keys < 0, keys ^ np.int64(0x7FFFFFFFFFFFFFFF), keys)
    return bits.astype(np.int64).view(np.float64)


def _lerp(a: np.ndarray, b: np.ndarray, t: np.ndarray) -> np.ndarray:
    # numpy's own interpolation (numpy/lib/_function_base_impl.py, _lerp), so
    # that the result equals np.quantile bit for bit.
    diff = b - a
    out = a + diff * t
    return np.where(t >= 0.5, b - diff * (1 - t), out)


@dataclass
class ProcessGroup:
    """This process's place in a distributed fit, and the collectives over it.

    Parameters
    ----------
    rank, world_size : int
    group : torch ProcessGroup or None
        The group collectives run on (None: the default group).
    stats_group : torch ProcessGroup or None
        A second group over the same ranks for the mixture statistics.
    backend : str
        ``"gloo"`` (CPU tensors) or ``"nccl"`` (CUDA tensors).
    """

    rank: int
    world_size: int
    group: Any = None
    stats_group: Any = None
    backend: str = "gloo"

    @classmethod
    def from_default(cls) -> ProcessGroup:
        """The initialised default process group, with a second group for statistics."""
        if not (dist.is_available() and dist.is_initialized()):
            raise RuntimeError(
                "no torch.distributed process group is initialised: call "
                "torch.distributed.init_process_group() first, or launch with torchrun"
            )
        backend = str(dist.get_backend())
        return cls(
            dist.get_rank(), dist.get_world_size(), None, dist.new_group(backend=backend), backend
        )

    @property
    def is_main(self) -> bool:
        """Rank 0: the one that shows progress and writes files."""
        return self.rank == 0

    @property
    def device(self) -> torch.device:
        """Where collective tensors live: the local CUDA device for nccl, else the CPU."""
        if self.backend == "nccl":
            return torch.device("cuda", int(os.environ.get("LOCAL_RANK", torch.cuda.current_device())))
        return torch.device("cpu")

    # ------------------------------------------------------------ tensors
    def sum(self, tensor: Tensor) -> Tensor:
        """Autograd-aware sum over ranks, on the statistics group."""
        return sum_across(tensor, self.stats_group)

    def total(self, values: Tensor | np.ndarray | list[float], dtype: Any = torch.float64) -> np.ndarray:
        """Sum over ranks of a small vector (no gradient), as float64/int64 numpy."""
        tensor = torch.as_tensor(np.asarray(values), dtype=dtype, device=self.device).clone()
        dist.all_reduce(tensor, group=self.group)
        return tensor.cpu().numpy()

    def extreme(self, values: np.ndarray, *, largest: bool) -> np.ndarray:
        """Element-wise max (or min) over ranks of a float64 vector."""
        tensor = torch.as_tensor(np.asarray(values, dtype=np.float64), device=self.device).clone()
        op = dist.ReduceOp.MAX if largest else dist.ReduceOp.MIN
        dist.all_reduce(tensor, op=op, group=self.group)
        return tensor.cpu().numpy()

    def broadcast_int(self, value: int) -> int:
        """Rank 0's ``value`` on every rank."""
        tensor = torch.tensor([value], dtype=torch.int64, device=self.device)
        dist.broadcast(tensor, src=0, group=self.group)
        return int(tensor.item())

    def gather_tensors(self, tensor: Tensor) -> list[Tensor]:
        """Every rank's ``tensor`` (same shape on all), in rank order."""
        tensor = tensor.to(self.device).contiguous()
        parts = [torch.empty_like(tensor) for _ in range(self.world_size)]
        dist.all_gather(parts, tensor, group=self.group)
        return parts

    # ------------------------------------------------------------ objects
    def gather_objects(self, value: Any) -> list[Any]:
        """Every rank's picklable ``value`` (small: names, label sets, messages), in rank order."""
        gathered: list[Any] = [None] * self.world_size
        dist.all_gather_object(gathered, value, group=self.group)
        return gathered

    def check(self, error: BaseException | None) -> None:
        """Raise on every rank if any rank hit an error (the lowest rank's, re-raised as is)."""
        messages = self.gather_objects(
            None if error is None else (type(error).__name__, str(error))
        )
        if error is not None:
            raise error
        for rank, message in enumerate(messages):
            if message is not None:
                from dagmm.exceptions import DataError

                kinds = {"ValueError": ValueError, "FileNotFoundError": FileNotFoundError}
                raise kinds.get(message[0], DataError)(f"rank {rank}: {message[1]}")

    def run_checked(self, function: Any) -> Any:
        """``function()``, with its error (if any, on any rank) raised on every rank."""
        try:
            result, error = function(), None
        except (ValueError, TypeError, FileNotFoundError) as exc:
            result, error = None, exc
        self.check(error)
        return result

    # ---------------------------------------------------------- selection
    def row_offset(self, n_local: int, width: int | None = None) -> tuple[int, int]:
        """(offset of this rank's rows in the global order, global row count).

        With ``width``, also checks that every rank's rows have that many columns.
        """
        shapes = self.gather_objects((int(n_local), width))
        widths = {shape[1] for shape in shapes}
        if len(widths) > 1:
            raise ValueError(
                f"the ranks' shards have different numbers of columns ({[s[1] for s in shapes]} "
                "by rank); every shard needs the same columns"
            )
        counts = [shape[0] for shape in shapes]
        return int(sum(counts[: self.rank])), int(sum(counts))

    def order_statistics(self, values: np.ndarray, ranks: np.ndarray) -> np.ndarray:
        """The ``ranks``-th smallest (0-based) of the values on all ranks, exactly.

        Bisection over the int64 keys that order float64: 64 rounds, each one
        all-reduce of a count per wanted rank. Local memory: the rank's own
        values plus O(len(ranks)).
        """
        keys = np.sort(_ordered_keys(np.asarray(values, dtype=np.float64).ravel()))
        ranks = np.asarray(ranks, dtype=np.int64)
        local_low = keys[0] if keys.size else np.iinfo(np.int64).max
        local_high = keys[-1] if keys.size else np.iinfo(np.int64).min
        bounds = self.gather_objects((int(local_low), int(local_high)))
        low = np.full(ranks.shape, min(b[0] for b in bounds), dtype=np.int64)
        high = np.full(ranks.shape, max(b[1] for b in bounds), dtype=np.int64)
        # Invariant: the answer lies in [low, high]. low and high derive from
        # gathered and all-reduced numbers only, so every rank loops alike.
        while np.any(low < high):
            open_ = low < high
            middle = (low >> 1) + (high >> 1) + (low & high & 1)  # floor mean, no overflow
            below = self.total(np.searchsorted(keys, middle, side="right"), dtype=torch.int64)
            enough = below > ranks
            high = np.where(open_ & enough, middle, high)
            low = np.where(open_ & ~enough, middle + 1, low)
        return _values_of(low)

    def quantiles(self, values: np.ndarray, q: np.ndarray | float) -> np.ndarray:
        """``np.quantile(all values, q)`` (linear), exact, with each rank holding its own values."""
        q = np.asarray(q, dtype=np.float64)
        n_total = int(self.total([np.asarray(values).size], dtype=torch.int64)[0])
        if n_total == 0:
            raise ValueError("cannot take quantiles of zero values")
        virtual = (n_total - 1) * q
        previous = np.clip(np.floor(virtual), 0, n_total - 1).astype(np.int64)
        following = np.clip(previous + 1, 0, n_total - 1)
        wanted = np.unique(np.concatenate([previous.ravel(), following.ravel()]))
        found = self.order_statistics(values, wanted)
        lookup = dict(zip(wanted.tolist(), found.tolist(), strict=True))
        a = np.vectorize(lookup.__getitem__, otypes=[np.float64])(previous)
        b = np.vectorize(lookup.__getitem__, otypes=[np.float64])(following)
        gamma = virtual - previous
        return _lerp(a, b, gamma)


_ACTIVE: list[ProcessGroup] = []


def current_group() -> ProcessGroup | None:
    """The process group of the distributed fit running in this process, if any."""
    return _ACTIVE[-1] if _ACTIVE else None
