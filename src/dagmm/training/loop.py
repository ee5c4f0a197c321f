"""A small, deterministic minibatch training loop shared by the detectors."""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import torch
from torch import Tensor, nn
from tqdm.auto import tqdm

from dagmm.exceptions import TrainingDivergedError


class StepOutput(NamedTuple):
    """What a loss function returns for one batch.

    Attributes
    ----------
    total : Tensor, scalar
        The loss to minimise.
    terms : Tensor, shape (T,)
        Detached parts of the loss, logged per epoch.
    failures : Tensor, scalar
        Count of numerical failures in the batch (e.g. failed Cholesky factors).
    """

    total: Tensor
    terms: Tensor
    failures: Tensor


LossFunction = Callable[[Tensor], StepOutput]


@dataclass
class TrainingLoop:
    """Runs epochs of shuffled minibatches with Adam-style optimisers.

    Parameters
    ----------
    module : nn.Module
        Put in train mode for steps and eval mode for validation.
    optimizer : torch.optim.Optimizer
    loss : callable
        Batch (B, D) -> :class:`StepOutput`; eager.
    term_names : sequence of str
        Names of ``StepOutput.terms``, used in the history and progress bar.
    batch_size : int
    generator : torch.Generator
        CPU generator that draws every epoch's permutation.
    compiled_loss : callable, optional
        A compiled version of ``loss`` used for full-size batches; the ragged
        last batch runs eagerly so the compiled graph never sees a new shape.
    divergence_hint : str
        Appended to the message raised when the loss stops being finite.
    progress : bool
        Show a progress bar with the running loss terms.
    description : str
        Progress bar label.
    """

    module: nn.Module
    optimizer: torch.optim.Optimizer
    loss: LossFunction
    term_names: Sequence[str]
    batch_size: int
    generator: torch.Generator
    compiled_loss: LossFunction | None = None
    divergence_hint: str = ""
    progress: bool = False
    description: str = "training"
    history: dict[str, list[float]] = field(default_factory=dict)

    def _step(self, batch: Tensor) -> tuple[Tensor, Tensor]:
        full = batch.shape[0] == self.batch_size
        loss_fn = self.compiled_loss if (full and self.compiled_loss is not None) else self.loss
        output = loss_fn(batch)
        self.optimizer.zero_grad(set_to_none=True)
        output.total.backward()
        self.optimizer.step()
        return torch.cat([output.total.detach().reshape(1), output.terms]), output.failures

    def _check(self, epoch: int, means: Tensor, failures: int) -> None:
        names = ["loss", *self.term_names]
        bad = [name for name, value in zip(names, means.tolist()) if not _finite(value)]
        if bad or failures:
            cause = (
                f"{failures} covariance factorisation(s) failed" if failures else
                f"the {', '.join(bad)} term became NaN or infinite"
            )
            raise TrainingDivergedError(
                f"training diverged in epoch {epoch + 1}: {cause}. {self.divergence_hint}".strip()
            )

    def evaluate(self, data: Tensor) -> float:
        """Mean total loss over ``data`` in eval mode, without gradients."""
        was_training = self.module.training
        self.module.eval()
        total, count = 0.0, 0
        with torch.no_grad():
            for start in range(0, data.shape[0], self.batch_size):
                batch = data[start : start + self.batch_size]
                total += float(self.loss(batch).total) * batch.shape[0]
                count += batch.shape[0]
        self.module.train(was_training)
        return total / max(count, 1)

    def run(
        self,
        data: Tensor,
        epochs: int,
        *,
        validation: Tensor | None = None,
        patience: int = 10,
        tol: float = 1e-4,
    ) -> dict[str, list[float]]:
        """Train for ``epochs`` epochs (fewer with early stopping on ``validation``).

        With ``validation`` given, the weights of the epoch with the lowest
        validation loss are restored at the end, and training stops after
        ``patience`` epochs without an improvement larger than ``tol``.

        Returns
        -------
        dict of str to list of float
            Per-epoch means of the loss and its terms, ``val_loss`` with
            validation, and the wall-clock ``seconds`` of each epoch (the
            first includes any compilation).
        """
        names = ["loss", *self.term_names]
        history: dict[str, list[float]] = {name: [] for name in names}
        history["seconds"] = []
        if validation is not None:
            history["val_loss"] = []
        n_rows = data.shape[0]
        best_loss, best_state, stale = float("inf"), None, 0
        bar = tqdm(range(epochs), desc=self.description, disable=not self.progress, leave=False)
        self.module.train()
        for epoch in bar:
            started = time.perf_counter()
            order = torch.randperm(n_rows, generator=self.generator).to(data.device)
            sums = torch.zeros(len(names), dtype=torch.float64, device=data.device)
            failures = torch.zeros((), dtype=torch.int64, device=data.device)
            for start in range(0, n_rows, self.batch_size):
                batch = data[order[start : start + self.batch_size]]
                values, failed = self._step(batch)
                sums += values.to(torch.float64) * batch.shape[0]
                failures += failed
            means = sums / n_rows
            self._check(epoch, means, int(failures))
            for name, value in zip(names, means.tolist()):
                history[name].append(value)
            history["seconds"].append(time.perf_counter() - started)
            postfix = {name: f"{history[name][-1]:.4g}" for name in names}
            if validation is not None:
                val_loss = self.evaluate(validation)
                history["val_loss"].append(val_loss)
                postfix["val_loss"] = f"{val_loss:.4g}"
                if not _finite(val_loss):
                    self._check(epoch, torch.tensor([val_loss]), 0)
                if val_loss < best_loss - tol:
                    best_loss, stale = val_loss, 0
                    best_state = copy.deepcopy(self.module.state_dict())
                else:
                    stale += 1
                if stale >= patience:
                    break
            if self.progress:
                bar.set_postfix(postfix, refresh=False)
        bar.close()
        if best_state is not None:
            self.module.load_state_dict(best_state)
        self.module.eval()
        return history


def _finite(value: float) -> bool:
    return value == value and value not in (float("inf"), float("-inf"))
