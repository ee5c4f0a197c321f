"""A small, deterministic minibatch training loop shared by the detectors."""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import torch
from torch import Tensor, nn
from torch.func import functional_call, grad_and_value
from tqdm.auto import tqdm

from dagmm.exceptions import TrainingDivergedError
from dagmm.training.compile import maybe_compile

#: Internal switch of :class:`FlatAdamStep` (``benchmarks/speed.py`` turns it off
#: to time the plain compiled loss with torch.optim.Adam against it).
FLAT_ADAM = True


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


class _LossAsModule(nn.Module):
    """A loss function seen as a module that owns the trained network.

    ``torch.func.functional_call`` swaps a module's parameters for given tensors
    while it runs; wrapping the loss (which calls ``module`` itself) lets any
    loss function be evaluated, and differentiated, at a flat parameter vector.
    """

    def __init__(self, module: nn.Module, loss: LossFunction) -> None:
        super().__init__()
        self.module = module
        self.loss = loss

    def forward(self, batch: Tensor) -> StepOutput:
        return self.loss(batch)


class FlatAdamStep:
    """One whole training step (loss, gradient, Adam update) as a function of tensors.

    The parameters the optimizer updates live in one flat vector, with Adam's
    two moments in two more. :meth:`__call__` evaluates the loss at that vector
    through ``torch.func.functional_call``, takes its gradient with
    ``torch.func.grad_and_value`` and applies ``torch.optim.Adam``'s update in
    place, so that ``torch.compile`` sees the forward pass, the backward pass
    and the optimizer as one graph: Adam becomes a single fused loop over the
    parameters instead of ~10 small kernels per parameter tensor, and the
    per-step Python and autograd-engine overhead disappears (about 1.3 times
    the training steps per second of a compiled loss with ``torch.optim.Adam``
    on the paper's KDDCUP network: ``benchmarks/results/speed/``). Adam's
    moments live here, not in ``optimizer.state``.

    The module's own parameters are brought up to date by :meth:`sync`.

    Parameters
    ----------
    module : nn.Module
    loss : callable
        Batch -> :class:`StepOutput`, calling ``module``.
    optimizer : torch.optim.Adam
        Supplies the parameters and hyper-parameters; see :meth:`supports`.
    compile : bool
        Compile :meth:`update` (see :func:`~dagmm.training.maybe_compile`).
    what : str
        Names the step in the warning issued if compilation fails.
    """

    def __init__(
        self,
        module: nn.Module,
        loss: LossFunction,
        optimizer: torch.optim.Optimizer,
        *,
        compile: bool = True,
        what: str = "training",
    ) -> None:
        group = optimizer.param_groups[0]
        names = {id(parameter): name for name, parameter in module.named_parameters()}
        self.parameters: list[Tensor] = list(group["params"])
        self._names = ["module." + names[id(parameter)] for parameter in self.parameters]
        self._shapes = [parameter.shape for parameter in self.parameters]
        self._sizes = [parameter.numel() for parameter in self.parameters]
        self._wrapped = _LossAsModule(module, loss)
        self._lr, self._eps = float(group["lr"]), float(group["eps"])
        self._beta1, self._beta2 = (float(beta) for beta in group["betas"])
        with torch.no_grad():
            self.flat = torch.cat([parameter.detach().reshape(-1) for parameter in self.parameters])
        self.exp_avg = torch.zeros_like(self.flat)
        self.exp_avg_sq = torch.zeros_like(self.flat)
        # A tensor, not an int: a Python number would be baked into the
        # compiled graph and force a recompilation at every step. int64, as
        # Inductor (torch 2.13, CPU) silently drops in-place updates of 0-d
        # float64 inputs.
        self.step_count = torch.zeros((), dtype=torch.int64, device=self.flat.device)
        self._compiled_update = maybe_compile(self.update, compile, what=what)

    @staticmethod
    def supports(module: nn.Module, optimizer: torch.optim.Optimizer) -> bool:
        """Whether ``optimizer`` is a fresh, plain Adam over parameters of ``module``."""
        if type(optimizer) is not torch.optim.Adam or len(optimizer.param_groups) != 1:
            return False
        group = optimizer.param_groups[0]
        owned = {id(parameter) for parameter in module.parameters()}
        return (
            not optimizer.state
            and all(id(parameter) in owned for parameter in group["params"])
            and not isinstance(group["lr"], Tensor)
            and group["weight_decay"] == 0
            and not group["amsgrad"]
            and not group["maximize"]
            and not group["differentiable"]
            and not group.get("decoupled_weight_decay", False)
        )

    def __call__(self, batch: Tensor, *, compiled: bool = True) -> tuple[Tensor, Tensor]:
        """Train on ``batch`` through the compiled update (or the eager one)."""
        update = self._compiled_update if compiled else self.update
        return update(self.flat, self.exp_avg, self.exp_avg_sq, self.step_count, batch)

    def update(
        self, flat: Tensor, exp_avg: Tensor, exp_avg_sq: Tensor, step_count: Tensor, batch: Tensor
    ) -> tuple[Tensor, Tensor]:
        """Train on ``batch``; return ([loss, *terms] in float64, failures).

        Every tensor it changes is an argument, so the compiled graph has no
        hidden state (and only a handful of inputs to guard).
        """

        def objective(flat: Tensor) -> tuple[Tensor, StepOutput]:
            pieces = zip(self._names, flat.split(self._sizes), self._shapes, strict=True)
            views = {name: piece.view(shape) for name, piece, shape in pieces}
            output = functional_call(self._wrapped, views, (batch,))
            return output.total, output

        grad, (total, output) = grad_and_value(objective, has_aux=True)(flat)
        # torch.optim.Adam's update (single-tensor, non-capturable), in place.
        step_count.add_(1)
        step = step_count.double()  # bias corrections in double, as torch.optim.Adam
        bias_correction1 = 1 - self._beta1**step
        bias_correction2_sqrt = (1 - self._beta2**step).sqrt()
        exp_avg.lerp_(grad, 1 - self._beta1)
        exp_avg_sq.mul_(self._beta2).addcmul_(grad, grad, value=1 - self._beta2)
        denominator = (exp_avg_sq.sqrt() / bias_correction2_sqrt.to(flat.dtype)).add_(self._eps)
        step_size = (self._lr / bias_correction1).to(flat.dtype)
        flat.sub_(step_size * exp_avg / denominator)
        values = torch.cat([total.detach().reshape(1).double(), output.terms.double()])
        return values, output.failures

    def load(self) -> None:
        """Copy the module's parameters into the flat vector (Adam's moments are kept)."""
        with torch.no_grad():
            self.flat.copy_(torch.cat([p.detach().reshape(-1) for p in self.parameters]))

    def sync(self) -> None:
        """Copy the flat parameters back into the module's parameters."""
        with torch.no_grad():
            for parameter, piece in zip(self.parameters, self.flat.split(self._sizes), strict=True):
                parameter.copy_(piece.view_as(parameter))


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
    compile : bool
        Compile the whole training step (loss, gradient and Adam update, see
        :class:`FlatAdamStep`) for full-size batches; the ragged last batch
        runs the same step eagerly. With an optimizer that
        :meth:`FlatAdamStep.supports` rejects, only the loss is compiled (as
        ``compiled_loss``). Falls back to eager execution, with a warning,
        where ``torch.compile`` is unavailable.
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
    compile: bool = False
    _fused: FlatAdamStep | None = field(default=None, init=False, repr=False)

    def _stepper(self) -> tuple[Callable[[Tensor], tuple[Tensor, Tensor]], Callable[[], None]]:
        """(function training on one batch, function syncing the module's weights)."""
        fusable = self._fused is not None or (
            FLAT_ADAM and FlatAdamStep.supports(self.module, self.optimizer)
        )
        if self.compile and fusable:
            if self._fused is None:
                self._fused = FlatAdamStep(
                    self.module, self.loss, self.optimizer, what=self.description
                )
            fused = self._fused
            fused.load()  # weights may have changed since the last run

            def fused_step(batch: Tensor) -> tuple[Tensor, Tensor]:
                return fused(batch, compiled=batch.shape[0] == self.batch_size)

            return fused_step, fused.sync
        compiled_loss = self.compiled_loss
        if self.compile and compiled_loss is None:
            compiled_loss = self.compiled_loss = maybe_compile(self.loss, True, what=self.description)

        def step(batch: Tensor) -> tuple[Tensor, Tensor]:
            full = batch.shape[0] == self.batch_size
            loss_fn = compiled_loss if (full and compiled_loss is not None) else self.loss
            output = loss_fn(batch)
            self.optimizer.zero_grad(set_to_none=True)
            output.total.backward()
            self.optimizer.step()
            values = torch.cat([output.total.detach().reshape(1).double(), output.terms.double()])
            return values, output.failures

        return step, lambda: None

    def _check(self, epoch: int, means: Tensor, failures: int) -> None:
        names = ["loss", *self.term_names]
        bad = [name for name, value in zip(names, means.tolist(), strict=False) if not _finite(value)]
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
        train_step, sync_weights = self._stepper()
        for epoch in bar:
            started = time.perf_counter()
            order = torch.randperm(n_rows, generator=self.generator).to(data.device)
            sums = torch.zeros(len(names), dtype=torch.float64, device=data.device)
            failures = torch.zeros((), dtype=torch.int64, device=data.device)
            for start in range(0, n_rows, self.batch_size):
                # index_select, not data[idx]: the same rows, but a row-wise copy
                # (KDDCUP epoch: 0.18 ms per 1024-row batch instead of 0.58 ms).
                batch = data.index_select(0, order[start : start + self.batch_size])
                values, failed = train_step(batch)
                sums += values * batch.shape[0]
                failures += failed
            sync_weights()
            means = sums / n_rows
            self._check(epoch, means, int(failures))
            for name, value in zip(names, means.tolist(), strict=True):
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
