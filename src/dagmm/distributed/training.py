"""Data-parallel DAGMM training: every rank trains on its shard, as one process on all rows.

The row order is global. Rank r holds rows ``[offset_r, offset_r + n_r)`` of
the concatenation of all shards in rank order. Every rank draws the same
permutations (hold-out split, each epoch's shuffling) over all N rows with
the same seeded generator that a one-process fit uses, so global batch t is
the same set of rows as batch t of a one-process fit; each rank trains on the
rows of that batch that it holds (0 to B of them).

Per step, with B rows in the global batch and P ranks:

* the networks run on the local rows only (DistributedDataParallel, which
  averages the gradients over ranks);
* the mixture is estimated from the whole batch: the sums of memberships, of
  gamma-weighted z and of gamma-weighted centred z z^T are summed over ranks
  by an autograd-aware all-reduce (:func:`~dagmm.math.gmm.shared_mixture_terms`);
* rank r minimises ``P/B * sum over its rows of (reconstruction + lambda1 *
  energy) + lambda2 * penalty``. The all-reduce's backward sums every rank's
  gradient with respect to the shared statistics, and DDP divides the
  parameter gradients by P, so each rank applies exactly the gradient of the
  global batch's loss ``mean(reconstruction + lambda1 * energy) + lambda2 *
  penalty``;
* dropout masks are drawn for the whole batch from the (identically seeded)
  torch generator on every rank, each rank using its rows' masks, as a
  one-process fit draws them (bit for bit on the CPU; CUDA draws its own).

So a P-process fit equals a one-process fit on the same rows in the same
order up to float rounding (``tests/distributed/test_training.py``).

Communication per step: one all-reduce of K (d + 1) and one of K d^2
float64 (the statistics; 52 numbers for K = 4, d = 3) in the forward pass,
the same two in the backward pass, and DDP's gradient all-reduce (4 bytes
per network parameter); see ``benchmarks/distributed_scaling.py``.
"""

from __future__ import annotations

import contextlib
import copy
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import Tensor, nn
from torch.nn.parallel import DistributedDataParallel
from tqdm.auto import tqdm

from dagmm.distributed.collectives import ProcessGroup
from dagmm.estimators.widths import default_minibatch_size
from dagmm.math.gmm import GaussianMoments, combine_moments, shared_mixture_terms
from dagmm.math.losses import reconstruction_error
from dagmm.training import should_compile

if TYPE_CHECKING:
    from dagmm.estimators.dagmm import DAGMM

__all__ = ["fit_module_sharded", "merge_moments"]


class ShardedRows:
    """A global, ordered set of rows of which this rank holds a contiguous block.

    ``rows`` (replicated on every rank) lists, for each position of the set,
    its global row number; this rank holds global rows ``[offset, offset + n)``
    as the rows of ``data``.
    """

    def __init__(self, data: Tensor, rows: Tensor, offset: int) -> None:
        self.data, self.rows, self.offset = data, rows, offset

    def __len__(self) -> int:
        return int(self.rows.shape[0])

    def take(self, positions: Tensor) -> tuple[Tensor, Tensor]:
        """(local rows of the set's ``positions``, their indices within ``positions``)."""
        global_rows = self.rows[positions]
        mine = (global_rows >= self.offset) & (global_rows < self.offset + self.data.shape[0])
        where = torch.nonzero(mine).flatten()
        local = global_rows[where] - self.offset
        return self.data.index_select(0, local.to(self.data.device)), where


@contextlib.contextmanager
def whole_batch_dropout(module: nn.Module, where: Tensor, batch_rows: int) -> Iterator[None]:
    """Dropout masks drawn for all ``batch_rows`` rows; this rank keeps rows ``where``.

    Draws as ``torch.nn.functional.dropout`` does on the CPU (``bernoulli_`` on
    a tensor of the whole batch's shape, then ``div_``), so the masks are a
    one-process fit's.
    """
    patched = [m for m in module.modules() if isinstance(m, nn.Dropout) and m.training and m.p > 0]

    def forward_of(dropout: nn.Dropout) -> Callable[[Tensor], Tensor]:
        def forward(x: Tensor) -> Tensor:
            keep = 1.0 - dropout.p
            noise = torch.empty((batch_rows, x.shape[1]), dtype=x.dtype, device=x.device)
            noise.bernoulli_(keep).div_(keep)  # batch_rows x width
            return x * noise.index_select(0, where.to(x.device))

        return forward

    for dropout in patched:
        dropout.forward = forward_of(dropout)  # type: ignore[method-assign]
    try:
        yield
    finally:
        for dropout in patched:
            del dropout.forward


def merge_moments(moments: GaussianMoments, group: ProcessGroup) -> GaussianMoments:
    """Every rank's moments merged in rank order: the same result on every rank."""
    k, d = moments.mean.shape
    flat = torch.cat(
        [
            moments.total_weight.reshape(-1),
            moments.mean.reshape(-1),
            moments.scatter.reshape(-1),
            torch.tensor([moments.n_samples], dtype=moments.mean.dtype, device=moments.mean.device),
        ]
    ).double()
    merged = None
    for part in group.gather_tensors(flat):
        part = part.to(moments.mean.device)
        piece = GaussianMoments(
            part[:k], part[k : k + k * d].reshape(k, d),
            part[k + k * d : k + k * d + k * d * d].reshape(k, d, d), int(part[-1].item()),
        )
        merged = piece if merged is None else combine_moments(merged, piece)
    return merged  # type: ignore[return-value]


class _ShardedLoop:
    """Epochs of globally shuffled minibatches, each rank training on its rows of each batch.

    Mirrors :class:`~dagmm.training.TrainingLoop` (same history keys, early
    stopping, divergence checks); everything that decides control flow is
    all-reduced, so every rank takes the same branches.
    """

    def __init__(
        self,
        estimator: DAGMM,
        group: ProcessGroup,
        network: nn.Module,
        *,
        end_to_end: bool,
        batch_size: int,
        generator: torch.Generator,
        description: str,
    ) -> None:
        self.estimator, self.group, self.network = estimator, group, network
        self.end_to_end, self.batch_size, self.generator = end_to_end, batch_size, generator
        self.description = description
        device_ids = [group.device] if group.device.type == "cuda" else None
        self.ddp = DistributedDataParallel(network, device_ids=device_ids, process_group=group.group)
        self.optimizer = torch.optim.Adam(network.parameters(), lr=estimator.learning_rate)
        self.term_names = ("reconstruction", "energy", "cov_penalty") if end_to_end else ("reconstruction",)

    def _batch(self, x: Tensor, where: Tensor, batch_rows: int) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """(this rank's loss, [rec sum, energy sum] of its rows, penalty, failures)."""
        est = self.estimator
        scale = self.group.world_size / batch_rows
        with whole_batch_dropout(self.network, where, batch_rows):
            if self.end_to_end:
                x_hat, z, gamma = self.ddp(x)
            else:
                _, x_hat = self.ddp(x)
        rec = reconstruction_error(x, x_hat, est.reconstruction).double()  # n
        if not self.end_to_end:
            zero = torch.zeros((), dtype=torch.float64, device=x.device)
            sums = torch.stack([rec.sum(), zero]).detach()
            return rec.sum() * scale, sums, zero, torch.zeros((), dtype=torch.int64)
        energy, penalty, failures = shared_mixture_terms(
            z.double(), gamma.double(), float(est.reg_covar), batch_rows, self.group.sum
        )
        local = (rec.sum() + float(est.lambda1) * energy.sum()) * scale + float(est.lambda2) * penalty
        sums = torch.stack([rec.sum(), energy.sum()]).detach()
        return local, sums, penalty.detach(), failures

    def _means(self, sums: Tensor, penalty_sum: float, n_rows: int) -> list[float]:
        """[loss, *terms] over ``n_rows`` rows from the local sums (all-reduced here)."""
        rec_sum, energy_sum = (float(v) for v in self.group.total(sums.cpu().numpy()))
        rec, energy, penalty = rec_sum / n_rows, energy_sum / n_rows, penalty_sum / n_rows
        est = self.estimator
        if not self.end_to_end:
            return [rec, rec]
        loss = rec + float(est.lambda1) * energy + float(est.lambda2) * penalty
        return [loss, rec, energy, penalty]

    def evaluate(self, validation: ShardedRows) -> float:
        """Mean global-batch loss over the validation rows, in eval mode."""
        self.network.eval()
        total = 0.0
        with torch.no_grad():
            for start in range(0, len(validation), self.batch_size):
                positions = torch.arange(start, min(start + self.batch_size, len(validation)))
                x, where = validation.take(positions)
                _, sums, penalty, _ = self._batch(x, where, positions.numel())
                total += self._means(sums, float(penalty) * positions.numel(), positions.numel())[0] * positions.numel()
        self.network.train()
        return total / max(len(validation), 1)

    def run(self, train: ShardedRows, epochs: int, validation: ShardedRows | None) -> dict[str, list[float]]:
        est = self.estimator
        names = ["loss", *self.term_names]
        history: dict[str, list[float]] = {name: [] for name in names}
        history["seconds"] = []
        if validation is not None:
            history["val_loss"] = []
        best_loss, best_state, stale = float("inf"), None, 0
        show = bool(est.verbose) and self.group.is_main
        bar = tqdm(range(epochs), desc=self.description, disable=not show, leave=False)
        self.network.train()
        n_rows = len(train)
        for epoch in bar:
            started = time.perf_counter()
            order = torch.randperm(n_rows, generator=self.generator)
            sums = torch.zeros(2, dtype=torch.float64)
            penalty_sum, failures = 0.0, 0
            for start in range(0, n_rows, self.batch_size):
                positions = order[start : start + self.batch_size]
                x, where = train.take(positions)
                local, batch_sums, penalty, failed = self._batch(x, where, positions.numel())
                self.optimizer.zero_grad(set_to_none=True)
                local.backward()
                self.optimizer.step()
                sums += batch_sums.cpu()
                penalty_sum += float(penalty) * positions.numel()
                failures += int(failed)
            means = self._means(sums, penalty_sum, n_rows)
            _check(epoch, names, means, failures)
            for name, value in zip(names, means, strict=True):
                history[name].append(value)
            history["seconds"].append(time.perf_counter() - started)
            if validation is not None:
                val_loss = self.evaluate(validation)
                history["val_loss"].append(val_loss)
                if not np.isfinite(val_loss):
                    _check(epoch, ["val_loss"], [val_loss], 0)
                if val_loss < best_loss - float(est.tol):
                    best_loss, stale = val_loss, 0
                    best_state = copy.deepcopy(self.network.state_dict())
                else:
                    stale += 1
                if stale >= int(est.n_iter_no_change):
                    break
            if show:
                bar.set_postfix({name: f"{history[name][-1]:.4g}" for name in history if name != "seconds"}, refresh=False)
        bar.close()
        if best_state is not None:
            self.network.load_state_dict(best_state)
        return history


def _check(epoch: int, names: list[str], values: list[float], failures: int) -> None:
    from dagmm.estimators.dagmm import _DIVERGENCE_HINT
    from dagmm.exceptions import TrainingDivergedError

    bad = [name for name, value in zip(names, values, strict=False) if not np.isfinite(value)]
    if bad or failures:
        cause = (
            f"{failures} covariance factorisation(s) failed" if failures
            else f"the {', '.join(bad)} term became NaN or infinite"
        )
        raise TrainingDivergedError(f"training diverged in epoch {epoch + 1}: {cause}. {_DIVERGENCE_HINT}")


def fit_module_sharded(estimator: DAGMM, data: Tensor, seed: int, group: ProcessGroup) -> None:
    """What :meth:`DAGMM._fit_module` does, with this rank holding ``data`` of the global rows.

    Hold-out split, restarts (``n_restarts``), pretraining (``pretrain_epochs``,
    ``n_init``), end-to-end training and early stopping follow the one-process
    code step for step; the frozen mixture and threshold are set by
    :meth:`DAGMM._freeze_mixture`, which merges the ranks' statistics.
    """
    from dagmm.estimators.dagmm import _keep_best

    offset, n_global = group.row_offset(data.shape[0], data.shape[1])
    generator = torch.Generator().manual_seed(seed)
    everything = torch.arange(n_global)
    if estimator.early_stopping:
        n_val = int(round(estimator.validation_fraction * n_global))
        if n_val < 1 or n_global - n_val < 2:
            raise ValueError(
                f"early_stopping needs at least 1 validation row and 2 training rows; with "
                f"validation_fraction={estimator.validation_fraction} and {n_global} rows "
                "there are not enough: raise validation_fraction or disable early_stopping"
            )
        holdout = torch.randperm(n_global, generator=generator)
        train = ShardedRows(data, holdout[n_val:], offset)
        validation: ShardedRows | None = ShardedRows(data, holdout[:n_val], offset)
    else:
        train, validation = ShardedRows(data, everything, offset), None
    rows = estimator.minibatch_size
    batch_size = min(default_minibatch_size(n_global) if rows is None else int(rows), len(train))
    estimator.compiled_ = False  # DDP trains eagerly (the fused compiled step bypasses its hooks)

    def reconstruction_error_of_train() -> float:
        local, _ = train.take(torch.arange(len(train)))
        total = estimator._reconstruction_error_of(local) * local.shape[0] if local.shape[0] else 0.0
        return float(group.total([total])[0]) / len(train)

    def pretrain(run_generator: torch.Generator, run_seed: int) -> dict[str, list[float]]:
        def one(run: int) -> list[float]:
            from dagmm.nn.dagmm_net import CompressionNetwork

            if run:
                torch.manual_seed(run_seed + run)
                estimator.module_.compression = CompressionNetwork(
                    data.shape[1], estimator._comp_widths, estimator._comp_act
                ).to(data.device)
            gen = run_generator if run == 0 else torch.Generator().manual_seed(run_seed + run)
            label = "DAGMM pretraining" + (f" {run + 1}/{estimator.n_init}" if estimator.n_init > 1 else "")
            loop = _ShardedLoop(
                estimator, group, estimator.module_.compression, end_to_end=False,
                batch_size=batch_size, generator=gen, description=label,
            )
            return loop.run(train, int(estimator.pretrain_epochs), None)["loss"]

        losses, best, errors = _keep_best(
            int(estimator.n_init), one, reconstruction_error_of_train,
            lambda: copy.deepcopy(estimator.module_.compression),
        )
        if best is not None:
            estimator.module_.compression = best
        estimator.module_.train()
        return {"pretrain_loss": losses, "pretrain_init_errors": errors}

    def train_run(restart: int) -> dict[str, list[float]]:
        run_seed, run_generator = seed, generator
        if restart:
            run_seed = int(np.random.default_rng([seed, restart]).integers(2**31 - 1))
            torch.manual_seed(run_seed)
            estimator.module_ = estimator._build_module(data.shape[1]).to(data.device)
            run_generator = torch.Generator().manual_seed(run_seed)
        label = f"DAGMM {restart + 1}/{estimator.n_restarts}" if estimator.n_restarts > 1 else "DAGMM"
        history: dict[str, list[float]] = {}
        if estimator.pretrain_epochs:
            history.update(pretrain(run_generator, run_seed))
        loop = _ShardedLoop(
            estimator, group, estimator.module_, end_to_end=True,
            batch_size=batch_size, generator=run_generator, description=label,
        )
        history.update(loop.run(train, int(estimator.epoch_size), validation))
        estimator.module_.eval()
        return history

    history, best_module, errors = _keep_best(
        int(estimator.n_restarts), train_run, reconstruction_error_of_train,
        lambda: copy.deepcopy(estimator.module_),
    )
    if best_module is not None:
        estimator.module_ = best_module
    estimator.history_ = {**history, "restart_errors": errors}
    # Score as a one-process fit of these rows would (compiled for large fits).
    epochs = int(estimator.epoch_size) + int(estimator.pretrain_epochs) * int(estimator.n_init)
    estimator.compiled_ = should_compile(estimator.compile, len(train), epochs * int(estimator.n_restarts))
    estimator._freeze_mixture(data)
