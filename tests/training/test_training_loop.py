"""The flat Adam step against torch.optim.Adam, its fallback, and compiled training end to end."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import dagmm.training.loop as loop_module
from dagmm import DAGMM
from dagmm.training import StepOutput, TrainingLoop
from dagmm.training.loop import FlatAdamStep


def _problem():
    torch.manual_seed(0)
    module = torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.Tanh(), torch.nn.Linear(6, 4))
    batches = [torch.randn(32, 4) for _ in range(5)]

    def loss(batch):
        total = (module(batch) - batch).pow(2).sum(1).mean()
        return StepOutput(total, total.detach().reshape(1), torch.zeros((), dtype=torch.int64))

    return module, batches, loss


def test_flat_adam_step_equals_torch_adam_eagerly():
    module, batches, loss = _problem()
    reference = {k: v.clone() for k, v in module.state_dict().items()}
    optimizer = torch.optim.Adam(module.parameters(), lr=1e-2)
    assert FlatAdamStep.supports(module, optimizer)
    stepper = FlatAdamStep(module, loss, optimizer, compile=False)
    for batch in batches:
        stepper(batch, compiled=False)
    stepper.sync()
    fused = {k: v.clone() for k, v in module.state_dict().items()}

    module.load_state_dict(reference)
    optimizer = torch.optim.Adam(module.parameters(), lr=1e-2)
    for batch in batches:
        optimizer.zero_grad()
        loss(batch).total.backward()
        optimizer.step()
    for key, value in module.state_dict().items():
        torch.testing.assert_close(fused[key], value, rtol=1e-6, atol=1e-7)


def _plain_training(module, batches, loss, optimizer):
    for batch in batches:
        optimizer.zero_grad()
        loss(batch).total.backward()
        optimizer.step()
    return {k: v.clone() for k, v in module.state_dict().items()}


def _loop_training(module, batches, loss, optimizer):
    """One epoch of TrainingLoop.run over the rows of ``batches``, shuffled with seed 0.

    Returns the loop, the trained weights and the batches in the order it trained on them.
    """
    data = torch.cat(batches)
    size = batches[0].shape[0]
    loop = TrainingLoop(module=module, optimizer=optimizer, loss=loss, term_names=("rec",),
                        batch_size=size, generator=torch.Generator().manual_seed(0), compile=True)
    loop.run(data, 1)
    order = torch.randperm(data.shape[0], generator=torch.Generator().manual_seed(0))
    shuffled = list(data[order].split(size))
    return loop, {k: v.clone() for k, v in module.state_dict().items()}, shuffled


@pytest.mark.parametrize(
    ("make_optimizer", "flat_adam", "fused"),
    [
        (lambda p: torch.optim.Adam(p, lr=1e-2), True, True),
        (lambda p: torch.optim.Adam(p, lr=1e-2), False, False),  # switched off
        (lambda p: torch.optim.Adam(p, lr=1e-2, weight_decay=0.1), True, False),
        (lambda p: torch.optim.Adam(p, lr=1e-2, amsgrad=True), True, False),
        (lambda p: torch.optim.SGD(p, lr=1e-2, momentum=0.9), True, False),
    ],
    ids=["adam", "flat-adam-off", "weight-decay", "amsgrad", "sgd"],
)
def test_compiled_loop_uses_flat_adam_only_where_it_equals_the_optimizer(
    monkeypatch, make_optimizer, flat_adam, fused
):
    # torch.compile stubbed: this checks which step the loop picks, and that
    # either one trains exactly as the optimizer itself would.
    monkeypatch.setattr(torch, "compile", lambda function, **kwargs: function)
    monkeypatch.setattr(loop_module, "FLAT_ADAM", flat_adam)
    module, batches, loss = _problem()
    reference = {k: v.clone() for k, v in module.state_dict().items()}
    loop, trained, shuffled = _loop_training(
        module, batches, loss, make_optimizer(module.parameters())
    )
    assert (loop._fused is not None) is fused
    module.load_state_dict(reference)
    expected = _plain_training(module, shuffled, loss, make_optimizer(module.parameters()))
    for key, value in expected.items():
        torch.testing.assert_close(trained[key], value, rtol=1e-6, atol=1e-7)


def test_flat_adam_step_rejects_an_adam_that_already_stepped():
    module, batches, loss = _problem()
    optimizer = torch.optim.Adam(module.parameters(), lr=1e-2)
    _plain_training(module, batches[:1], loss, optimizer)
    assert not FlatAdamStep.supports(module, optimizer)  # its moments live in optimizer.state


@pytest.mark.slow
def test_compiled_flat_adam_step_equals_torch_adam():
    module, batches, loss = _problem()
    reference = {k: v.clone() for k, v in module.state_dict().items()}
    with warnings.catch_warnings():
        # A compiler failure would test the eager fallback instead.
        warnings.filterwarnings("error", message="torch.compile", category=UserWarning)
        loop, trained, shuffled = _loop_training(
            module, batches, loss, torch.optim.Adam(module.parameters(), lr=1e-2)
        )
    assert loop._fused is not None
    module.load_state_dict(reference)
    expected = _plain_training(module, shuffled, loss, torch.optim.Adam(module.parameters(), lr=1e-2))
    for key, value in expected.items():
        torch.testing.assert_close(trained[key], value, rtol=1e-5, atol=1e-6)


@pytest.mark.slow
def test_compiled_fit_is_deterministic_and_scores_like_eager():
    X = np.random.default_rng(0).normal(size=(3000, 8))
    params = dict(comp_hiddens=(8, 4, 1), est_hiddens=(6, 2), minibatch_size=256, epoch_size=2,
                  random_state=0)
    first = DAGMM(**params, compile=True).fit(X)
    second = DAGMM(**params, compile=True).fit(X)
    assert first.compiled_ and second.compiled_
    np.testing.assert_array_equal(first.energy(X), second.energy(X))
    eager = DAGMM(**params, compile=False).fit(X)
    np.testing.assert_allclose(first.energy(X), eager.energy(X), rtol=1e-3, atol=1e-3)
