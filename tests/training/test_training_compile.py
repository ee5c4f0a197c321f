"""Optional compilation and the oneDNN scoring path: each against plain torch, and each fallback."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from torch import nn

import dagmm.training.compile as compile_module
from dagmm import DAGMM
from dagmm.exceptions import CovarianceError
from dagmm.nn.layers import MLP
from dagmm.training.compile import (
    AUTO_COMPILE_MIN_ROW_EPOCHS,
    maybe_compile,
    onednn_mlp,
    quiet_compilation,
    should_compile,
)

ONEDNN = torch.backends.mkldnn.is_available()


def _no_compiler(*args, **kwargs):
    raise RuntimeError("Dynamo is not supported on this platform\n(details on the next line)")


def _compiler_failing_at_call(calls: list[int]):
    def fake_compile(function, **kwargs):
        def compiled(*args, **kwargs):
            calls.append(1)
            raise RuntimeError("InductorError: C++ compiler not found")

        return compiled

    return fake_compile


def _eager_compile(function, **kwargs):
    """Stands in for torch.compile where a test checks wiring, not Inductor (fast)."""
    return function


@pytest.mark.parametrize(
    ("setting", "rows", "epochs", "expected"),
    [
        ("auto", AUTO_COMPILE_MIN_ROW_EPOCHS // 10, 10, True),
        ("auto", AUTO_COMPILE_MIN_ROW_EPOCHS // 10 - 1, 10, False),
        (True, 10, 1, True),
        (False, 10**9, 100, False),
    ],
)
def test_should_compile_resolves_auto_by_rows_times_epochs(setting, rows, epochs, expected):
    assert should_compile(setting, rows, epochs) is expected


def test_disabled_returns_the_function_without_calling_torch_compile(monkeypatch):
    monkeypatch.setattr(torch, "compile", _no_compiler)

    def function(x):
        return x + 1

    assert maybe_compile(function, False, what="scoring") is function


def test_unavailable_compiler_falls_back_with_one_warning(monkeypatch):
    monkeypatch.setattr(torch, "compile", _no_compiler)

    def function(x):
        return x + 1

    with pytest.warns(
        UserWarning,
        match=r"^torch\.compile is unavailable \(Dynamo is not supported on this platform\); "
        r"scoring runs eagerly$",
    ):
        wrapped = maybe_compile(function, True, what="scoring")
    assert wrapped is function


def test_compiler_failing_at_first_call_runs_eagerly_from_then_on(monkeypatch):
    calls: list[int] = []
    monkeypatch.setattr(torch, "compile", _compiler_failing_at_call(calls))
    wrapped = maybe_compile(lambda x: 2 * x, True, what="training")
    with pytest.warns(
        UserWarning,
        match=r"^torch\.compile failed for training \(RuntimeError: InductorError: C\+\+ compiler "
        r"not found\); running eagerly instead$",
    ):
        first = wrapped(torch.ones(3))
    torch.testing.assert_close(first, torch.full((3,), 2.0))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no second warning
        torch.testing.assert_close(wrapped(torch.arange(3.0)), torch.tensor([0.0, 2.0, 4.0]))
    assert calls == [1]  # the compiled function is not tried again


def test_dagmm_errors_raised_inside_the_compiled_function_are_not_swallowed(monkeypatch):
    def fake_compile(function, **kwargs):
        def compiled(*args, **kwargs):
            raise CovarianceError("component 0 is not positive definite")

        return compiled

    monkeypatch.setattr(torch, "compile", fake_compile)
    wrapped = maybe_compile(lambda x: x, True, what="scoring")
    with pytest.raises(CovarianceError, match="component 0"):
        wrapped(torch.ones(1))


def test_quiet_compilation_hides_only_torch_future_and_deprecation_warnings():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with quiet_compilation():
            warnings.warn_explicit("torch's", FutureWarning, "lowering.py", 1, module="torch._inductor")
            warnings.warn_explicit("old", DeprecationWarning, "x.py", 1, module="torch")
            warnings.warn_explicit("ours", FutureWarning, "x.py", 1, module="dagmm.training")
            warnings.warn_explicit("torch user", UserWarning, "x.py", 1, module="torch")
    assert sorted(str(w.message) for w in caught) == ["ours", "torch user"]


def test_fit_and_score_without_a_compiler_match_an_eager_fit(monkeypatch):
    X = np.random.default_rng(0).normal(size=(600, 5))
    params = dict(comp_hiddens=(6, 1), est_hiddens=(4, 2), minibatch_size=128, epoch_size=2,
                  random_state=0)
    eager = DAGMM(**params, compile=False).fit(X)
    monkeypatch.setattr(torch, "compile", _no_compiler)
    with pytest.warns(UserWarning, match="torch.compile is unavailable") as caught:
        fallback = DAGMM(**params, compile=True).fit(X)
        energies = fallback.energy(X)
    assert fallback.compiled_
    messages = {str(w.message) for w in caught}
    assert any(message.endswith("; DAGMM runs eagerly") for message in messages)  # training
    assert any(message.endswith("; scoring runs eagerly") for message in messages)
    # The fallback trains with the flat Adam step run eagerly: torch.optim.Adam's
    # update to float32 rounding.
    np.testing.assert_allclose(energies, eager.energy(X), rtol=1e-4, atol=1e-4)


# ------------------------------------------------------------------ oneDNN


def _mlp(activation=nn.Tanh, dropout=0.5, in_features=12):
    torch.manual_seed(0)
    return MLP(in_features, [9, 5, 2], activation, dropout=dropout).eval()


@pytest.mark.skipif(not ONEDNN, reason="oneDNN is not available in this torch build")
@pytest.mark.parametrize("activation", [nn.Tanh, nn.ReLU, nn.Sigmoid, nn.SiLU, nn.Identity])
def test_onednn_mlp_equals_the_module(activation):
    mlp = _mlp(activation)
    forward = onednn_mlp(mlp, batch_rows=256)
    assert forward is not None
    x = torch.randn(300, 12, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        torch.testing.assert_close(forward(x), mlp(x), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    "mlp",
    [
        pytest.param(_mlp(nn.ELU), id="activation oneDNN does not fuse"),
        pytest.param(_mlp().double(), id="float64"),
        pytest.param(_mlp().train(), id="dropout active"),
    ],
)
def test_onednn_mlp_declines_what_it_cannot_run(mlp):
    assert onednn_mlp(mlp, batch_rows=256) is None


@pytest.mark.parametrize(
    ("target", "name", "value"),
    [
        (torch.backends.mkldnn, "is_available", lambda: False),
        (torch.ops, "mkldnn", object()),  # the private ops missing in another torch version
        (compile_module, "ONEDNN_SCORING", False),
    ],
    ids=["oneDNN unavailable", "ops missing", "switched off"],
)
def test_onednn_mlp_declines_when_unavailable(monkeypatch, target, name, value):
    monkeypatch.setattr(target, name, value)
    assert onednn_mlp(_mlp(), batch_rows=256) is None


def test_onednn_mlp_declines_when_its_result_differs_from_the_module(monkeypatch):
    monkeypatch.setattr(torch, "allclose", lambda *args, **kwargs: False)
    assert onednn_mlp(_mlp(), batch_rows=256) is None


def _fit_compiled_scores(monkeypatch, X):
    """Energies of a compiled fit, and which networks oneDNN took (torch.compile stubbed)."""
    import dagmm.estimators.dagmm as dagmm_module

    taken: list[bool] = []

    def spy(mlp, batch_rows):
        forward = onednn_mlp(mlp, batch_rows)
        taken.append(forward is not None)
        return forward

    monkeypatch.setattr(dagmm_module, "onednn_mlp", spy)
    monkeypatch.setattr(torch, "compile", _eager_compile)
    model = DAGMM(comp_hiddens=(6, 1), est_hiddens=(4, 2), minibatch_size=128, epoch_size=2,
                  random_state=0, compile=True).fit(X)
    return model.energy(X), taken


@pytest.mark.skipif(not ONEDNN, reason="oneDNN is not available in this torch build")
def test_compiled_scoring_through_onednn_matches_the_plain_compiled_path(monkeypatch):
    X = np.random.default_rng(0).normal(size=(600, 5))
    fused, taken = _fit_compiled_scores(monkeypatch, X)
    assert taken == [True, True]  # encoder and decoder
    monkeypatch.setattr(compile_module, "ONEDNN_SCORING", False)
    plain, taken = _fit_compiled_scores(monkeypatch, X)
    assert taken == [False, False]  # declined: the whole energy is compiled instead
    # float32 rounding of the network (oneDNN's tanh differs from ATen's in the last bit)
    np.testing.assert_allclose(fused, plain, rtol=1e-5, atol=1e-5)
