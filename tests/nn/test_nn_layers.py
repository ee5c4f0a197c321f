"""MLP layout and the activation look-up (names, functions, classes, stored names)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from dagmm.nn.layers import ACTIVATIONS, MLP, activation_name, resolve_activation


def _layout(module: nn.Sequential) -> list[str]:
    return [
        f"Linear({layer.in_features},{layer.out_features})" if isinstance(layer, nn.Linear)
        else type(layer).__name__
        for layer in module
    ]


def test_mlp_widths_activation_between_layers_and_linear_output():
    mlp = MLP(7, [5, 3, 2], nn.Tanh)
    assert _layout(mlp) == ["Linear(7,5)", "Tanh", "Linear(5,3)", "Tanh", "Linear(3,2)"]
    assert mlp(torch.randn(4, 7)).shape == (4, 2)


def test_mlp_activations_are_fresh_modules():
    mlp = MLP(3, [3, 3, 3], nn.PReLU)  # a learnable activation must not be shared
    prelus = [layer for layer in mlp if isinstance(layer, nn.PReLU)]
    assert len(prelus) == 2 and prelus[0] is not prelus[1]


def test_mlp_dropout_after_hidden_activations_only():
    mlp = MLP(6, [4, 4, 2], nn.ReLU, dropout=0.3)
    assert _layout(mlp) == [
        "Linear(6,4)", "ReLU", "Dropout", "Linear(4,4)", "ReLU", "Dropout", "Linear(4,2)",
    ]
    assert all(layer.p == 0.3 for layer in mlp if isinstance(layer, nn.Dropout))
    assert not any(isinstance(layer, nn.Dropout) for layer in MLP(6, [4, 2], nn.ReLU, dropout=0.0))


def test_mlp_single_layer_is_one_linear():
    assert _layout(MLP(5, [1], nn.Tanh, dropout=0.5)) == ["Linear(5,1)"]


def test_mlp_dropout_is_random_in_train_and_off_in_eval():
    torch.manual_seed(0)
    mlp = MLP(8, [64, 3], nn.Identity, dropout=0.5)
    x = torch.randn(16, 8)
    mlp.train()
    assert not torch.equal(mlp(x), mlp(x))
    mlp.eval()
    without_dropout = nn.Sequential(*[layer for layer in mlp if not isinstance(layer, nn.Dropout)])
    torch.testing.assert_close(mlp(x), without_dropout(x), rtol=0, atol=0)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_every_named_activation_resolves_to_its_module(name):
    factory = resolve_activation(name)
    assert factory is ACTIVATIONS[name]
    assert isinstance(factory(), nn.Module)


@pytest.mark.parametrize("spelling", ["TANH", " Leaky-ReLU ", "leaky_relu"])
def test_activation_names_are_case_and_dash_insensitive(spelling):
    assert resolve_activation(spelling)().__class__ in (nn.Tanh, nn.LeakyReLU)


def test_tensor_function_is_wrapped_as_a_module():
    module = resolve_activation(torch.tanh)()
    assert isinstance(module, nn.Module)
    x = torch.linspace(-2, 2, 5)
    torch.testing.assert_close(module(x), torch.tanh(x))


def test_module_class_is_used_as_its_own_factory():
    assert resolve_activation(nn.Hardtanh) is nn.Hardtanh


@pytest.mark.parametrize(
    ("stored", "expected"),
    [("torch.nn.Tanh", nn.Tanh), ("torch.nn.functional.relu", torch.nn.functional.relu),
     ("torch.sigmoid", torch.sigmoid)],
)
def test_stored_qualified_names_round_trip(stored, expected):
    assert activation_name(expected) == stored
    reference = expected() if isinstance(expected, type) else expected
    x = torch.linspace(-2, 2, 5)
    torch.testing.assert_close(resolve_activation(stored)()(x), reference(x))


@pytest.mark.parametrize(
    "bad", ["tanhh", "os.system", "torch.nn.NotAThing", "torch.nn.functional.__class__", 3]
)
def test_unknown_activation_names_the_parameter_and_choices(bad):
    with pytest.raises(ValueError, match=r"^comp_activation=.* is not a known activation: expected"):
        resolve_activation(bad, "comp_activation")


def test_unknown_activation_suggests_the_closest_name():
    with pytest.raises(ValueError, match=r"did you mean 'tanh'\?"):
        resolve_activation("tahn")


def test_named_activation_is_stored_as_given():
    assert activation_name("ReLU") == "ReLU"
    with pytest.raises(ValueError, match="est_activation='relux'"):
        activation_name("relux", "est_activation")


def test_custom_activation_cannot_be_stored():
    def swish(x):
        return x * torch.sigmoid(x)

    assert isinstance(resolve_activation(swish)(), nn.Module)  # usable for fitting
    with pytest.raises(ValueError, match=r"^activation=.*swish.* cannot be saved without pickling"):
        activation_name(swish)
