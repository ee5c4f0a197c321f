"""The mixture terms of a batch spread over holders, checked in one process."""

from __future__ import annotations

import torch

from dagmm.math.gmm import batch_mixture_terms, shared_mixture_terms


def _problem(seed: int, dim: int):
    generator = torch.Generator().manual_seed(seed)
    z = torch.randn(50, dim, generator=generator, dtype=torch.float64)
    z[:, -1] = 1 + 1e-4 * z[:, -1]  # a cosine-like feature: tiny variance next to its mean
    logits = torch.randn(50, 3, generator=generator, dtype=torch.float64)
    return z.requires_grad_(), logits.requires_grad_()


def test_one_holder_gives_the_batch_terms_and_gradients():
    for dim in (3, 6):  # the element-wise path (d <= 4) and the batched one
        z, logits = _problem(dim, dim)
        energy, penalty, failures = shared_mixture_terms(z, logits.softmax(1), 1e-6, 50, lambda t: t)
        want_energy, want_penalty, want_failures = batch_mixture_terms(z, logits.softmax(1), 1e-6)
        torch.testing.assert_close(energy, want_energy, rtol=1e-7, atol=1e-9)
        torch.testing.assert_close(penalty, want_penalty, rtol=1e-7, atol=0)
        assert int(failures) == int(want_failures) == 0
        got = torch.autograd.grad(energy.mean() + 0.005 * penalty, (z, logits))
        want = torch.autograd.grad(want_energy.mean() + 0.005 * want_penalty, (z, logits))
        for g, w in zip(got, want, strict=True):
            torch.testing.assert_close(g, w, rtol=1e-6, atol=1e-9)


def test_holders_summed_give_the_whole_batch():
    # Two holders simulated in one process: each sum over holders adds the
    # other holder's contribution, computed from the same formulas.
    z, logits = _problem(1, 3)
    gamma = logits.softmax(1)
    halves = [(z[:20], gamma[:20]), (z[20:], gamma[20:])]
    calls: list[list[torch.Tensor]] = [[], []]

    def run(which: int, other_sums):
        counter = iter(range(2))

        def add_other(tensor):
            calls[which].append(tensor)
            return tensor + other_sums[next(counter)] if other_sums else tensor

        zz, gg = halves[which]
        return shared_mixture_terms(zz, gg, 1e-6, 50, add_other)

    # First pass: record each holder's local sums (first round) ...
    run(0, None), run(1, None)
    first = [calls[0][0].detach(), calls[1][0].detach()]
    # ... the second round's local sums depend on the global means: recompute.
    calls[0].clear(), calls[1].clear()
    run(0, [first[1], torch.zeros(3, 3, 3, dtype=torch.float64)])
    run(1, [first[0], torch.zeros(3, 3, 3, dtype=torch.float64)])
    second = [calls[0][1].detach(), calls[1][1].detach()]
    energy0, penalty0, _ = run(0, [first[1], second[1]])
    energy1, penalty1, _ = run(1, [first[0], second[0]])
    want_energy, want_penalty, _ = batch_mixture_terms(z, gamma, 1e-6)
    torch.testing.assert_close(torch.cat([energy0, energy1]), want_energy, rtol=1e-9, atol=1e-9)
    torch.testing.assert_close(penalty0, want_penalty, rtol=1e-9, atol=0)
    torch.testing.assert_close(penalty1, want_penalty, rtol=1e-9, atol=0)
