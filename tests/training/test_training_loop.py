"""The fused training step against torch.optim.Adam, and compiled training end to end."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dagmm import DAGMM
from dagmm.training import StepOutput
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
