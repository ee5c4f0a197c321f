"""Multi-layer perceptrons and activation look-up."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import Tensor, nn

from dagmm._suggest import closest

ActivationSpec = str | Callable[[Tensor], Tensor] | type

#: Activation names accepted everywhere an activation is configured.
ACTIVATIONS: dict[str, type[nn.Module]] = {
    "tanh": nn.Tanh,
    "relu": nn.ReLU,
    "sigmoid": nn.Sigmoid,
    "elu": nn.ELU,
    "selu": nn.SELU,
    "gelu": nn.GELU,
    "silu": nn.SiLU,
    "leaky_relu": nn.LeakyReLU,
    "softplus": nn.Softplus,
    "identity": nn.Identity,
}


class _FunctionActivation(nn.Module):
    """Wraps a plain tensor function (``torch.tanh``, ``F.relu``) as a module."""

    def __init__(self, function: Callable[[Tensor], Tensor]) -> None:
        super().__init__()
        self.function = function

    def forward(self, x: Tensor) -> Tensor:
        return self.function(x)


def _unknown_activation(name: str, value: Any) -> ValueError:
    match = closest(str(value).lower(), ACTIVATIONS)
    hint = f"; did you mean {match!r}?" if match is not None else ""
    return ValueError(
        f"{name}={value!r} is not a known activation: expected one of {sorted(ACTIVATIONS)}, "
        f"a torch function such as torch.tanh, or an nn.Module class such as torch.nn.ReLU{hint}"
    )


def resolve_activation(spec: ActivationSpec, name: str = "activation") -> Callable[[], nn.Module]:
    """Turn an activation spec into a factory of fresh modules.

    Parameters
    ----------
    spec : str, callable or nn.Module subclass
        A name from :data:`ACTIVATIONS` (case-insensitive), a function of one
        tensor, or an ``nn.Module`` class constructible without arguments.
    name : str
        Parameter name used in error messages.

    Returns
    -------
    callable
        Calling it returns a new activation module.
    """
    if isinstance(spec, str):
        key = spec.strip().lower().replace("-", "_")
        if key in ACTIVATIONS:
            return ACTIVATIONS[key]
        stored = _from_qualified_name(spec)
        if stored is not None:
            return resolve_activation(stored, name)
        raise _unknown_activation(name, spec)
    if inspect.isclass(spec):
        if issubclass(spec, nn.Module):
            return spec
        raise _unknown_activation(name, spec)
    if callable(spec):
        return lambda: _FunctionActivation(spec)
    raise _unknown_activation(name, spec)


def _from_qualified_name(text: str) -> ActivationSpec | None:
    # Only names inside torch's own namespaces are looked up: loading a saved
    # model never imports or runs arbitrary code.
    for prefix, namespace in (
        ("torch.nn.functional.", torch.nn.functional),
        ("torch.nn.", torch.nn),
        ("torch.", torch),
    ):
        if text.startswith(prefix):
            attribute = text[len(prefix) :]
            if attribute.isidentifier():
                found = getattr(namespace, attribute, None)
                if inspect.isclass(found) and issubclass(found, nn.Module):
                    return found
                if callable(found) and not inspect.isclass(found):
                    return found
            return None
    return None


def activation_name(spec: ActivationSpec, name: str = "activation") -> str:
    """A JSON-storable name for an activation spec (inverse of :func:`resolve_activation`).

    Raises
    ------
    ValueError
        For a custom function or class that is not part of torch: such a model
        cannot be saved without pickling code.
    """
    if isinstance(spec, str):
        resolve_activation(spec, name)
        return spec
    for prefix, namespace in (
        ("torch.nn.", torch.nn),
        ("torch.nn.functional.", torch.nn.functional),
        ("torch.", torch),
    ):
        attribute = getattr(spec, "__name__", None)
        if attribute and getattr(namespace, attribute, None) is spec:
            return prefix + attribute
    raise ValueError(
        f"{name}={spec!r} is a custom activation that cannot be saved without pickling code; "
        f"use one of {sorted(ACTIVATIONS)} or a torch function or class to save this model"
    )


class MLP(nn.Sequential):
    """Linear layers with an activation between them; the last layer is linear.

    Parameters
    ----------
    in_features : int
    widths : sequence of int
        Output width of each layer; the last is the output size.
    activation : callable returning nn.Module
        Factory from :func:`resolve_activation`.
    dropout : float, default=0.0
        Dropout probability after each hidden activation (not after the output).
    """

    def __init__(
        self,
        in_features: int,
        widths: Sequence[int],
        activation: Callable[[], nn.Module],
        dropout: float = 0.0,
    ) -> None:
        layers: list[nn.Module] = []
        previous = in_features
        for index, width in enumerate(widths):
            layers.append(nn.Linear(previous, width))
            if index < len(widths) - 1:
                layers.append(activation())
                if dropout > 0:
                    layers.append(nn.Dropout(dropout))
            previous = width
        super().__init__(*layers)
