"""Optional ``torch.compile`` with an eager fallback."""

from __future__ import annotations

import contextlib
import functools
import warnings
from collections.abc import Callable, Iterator
from typing import TypeVar

import torch
from torch import Tensor, nn

F = TypeVar("F", bound=Callable)

#: ``compile="auto"`` compiles when rows x epochs reaches this many; below it
#: compilation (tens of seconds) costs more than it saves.
AUTO_COMPILE_MIN_ROW_EPOCHS = 20_000_000

#: Inductor options of every compiled function. ``fallback_random``: random
#: ops (dropout) call ATen's generator instead of Inductor's own per-element
#: Philox code, which on CPU profiled at ~0.7 ms per training step for the
#: KDDCUP estimation network's 1024 x 10 dropout mask (ATen: ~0.13 ms); it
#: also makes compiled dropout draw the same random stream as eager dropout.
INDUCTOR_OPTIONS = {"fallback_random": True}


def should_compile(setting: bool | str, n_rows: int, epochs: int) -> bool:
    """Resolve the ``compile`` parameter ("auto", True or False) for one fit."""
    if setting == "auto":
        return n_rows * epochs >= AUTO_COMPILE_MIN_ROW_EPOCHS
    return bool(setting)


@contextlib.contextmanager
def quiet_compilation() -> Iterator[None]:
    """Hide torch's own Future/Deprecation warnings raised while it compiles.

    Inductor's lowerings call deprecated torch helpers (e.g.
    ``torch._prims_common.check``); the warnings say nothing actionable to a
    dagmm user. The filter is scoped to the block and to warnings attributed
    to torch's modules.
    """
    with warnings.catch_warnings():
        for category in (FutureWarning, DeprecationWarning):
            warnings.filterwarnings("ignore", category=category, module=r"torch(\.|$)")
        yield


def maybe_compile(function: F, enabled: bool, *, what: str) -> F:
    """Return a compiled version of ``function`` or ``function`` itself.

    Compilation happens lazily at the first call (and again for a call with
    new shapes); when it fails (no C++ compiler, an unsupported platform) the
    eager function is used from then on and one warning says so. Shapes are
    compiled statically (``dynamic=False``): callers keep them fixed (the
    training loop runs a ragged last batch eagerly, scoring pads its chunks).
    """
    if not enabled:
        return function
    try:
        compiled = torch.compile(function, dynamic=False, options=INDUCTOR_OPTIONS)
    except Exception as exc:  # torch.compile unavailable on this platform
        warnings.warn(
            f"torch.compile is unavailable ({_first_line(exc)}); {what} runs eagerly", stacklevel=2
        )
        return function
    state = {"fallback": False}

    @functools.wraps(function)
    def call(*args, **kwargs):
        if state["fallback"]:
            return function(*args, **kwargs)
        try:
            with quiet_compilation():  # a few microseconds per call
                return compiled(*args, **kwargs)
        except Exception as exc:  # compiler missing or failing: degrade, do not crash
            if type(exc).__module__.startswith("dagmm"):
                raise
            state["fallback"] = True
            warnings.warn(
                f"torch.compile failed for {what} ({type(exc).__name__}: {_first_line(exc)}); "
                "running eagerly instead",
                stacklevel=2,
            )
            return function(*args, **kwargs)

    return call  # type: ignore[return-value]


def _first_line(exc: BaseException) -> str:
    """The first non-empty line of an exception's message, at most 200 characters."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[0][:200] if lines else ""


#: Internal switch of :func:`onednn_mlp` (``benchmarks/speed.py`` turns it off
#: to time the plain compiled scoring path against it).
ONEDNN_SCORING = True

#: Activation modules that oneDNN applies inside its linear kernel, by the name
#: ``torch.ops.mkldnn._linear_pointwise`` knows them by.
_ONEDNN_ACTIVATIONS: dict[type[nn.Module], str] = {
    nn.Identity: "none",
    nn.Tanh: "tanh",
    nn.ReLU: "relu",
    nn.Sigmoid: "sigmoid",
    nn.SiLU: "swish",
}


def onednn_mlp(mlp: nn.Sequential, batch_rows: int) -> Callable[[Tensor], Tensor] | None:
    """An inference-only forward pass of ``mlp`` through oneDNN's fused linear kernels.

    Each Linear layer and the activation after it run as one oneDNN call on a
    weight packed once for that kernel: the activation is applied while the
    output tile is still in registers instead of in a second pass over
    memory. On the paper's KDDCUP network (CPU, one thread) scoring is
    about 1.1-1.3 times faster than with the Inductor-compiled network
    (``benchmarks/results/speed/``); the outputs agree to float32 rounding
    (oneDNN's tanh differs from ATen's by at most ~1 unit in the last place).

    Returns None, and the caller compiles as usual, unless ``mlp`` is a CPU
    float32 chain of Linear layers, each optionally followed by an activation
    from :data:`_ONEDNN_ACTIVATIONS` (or an inactive Dropout), oneDNN is
    available, and the result matches ``mlp`` on a test batch. The packed
    weights are snapshots: build again after the weights change.

    Parameters
    ----------
    mlp : nn.Sequential
        In eval mode.
    batch_rows : int
        Typical number of rows per call (oneDNN picks the weight layout for it).
    """
    if not (ONEDNN_SCORING and torch.backends.mkldnn.enabled and torch.backends.mkldnn.is_available()):
        return None
    layers = [layer for layer in mlp if not (isinstance(layer, nn.Dropout) and not layer.training)]
    plan: list[tuple[Tensor, Tensor | None, str]] = []
    try:
        with torch.no_grad():
            while layers:
                linear = layers.pop(0)
                if not (
                    type(linear) is nn.Linear
                    and linear.weight.device.type == "cpu"
                    and linear.weight.dtype == torch.float32
                ):
                    return None
                attr = "none"
                if layers and not isinstance(layers[0], nn.Linear):
                    attr = _ONEDNN_ACTIVATIONS.get(type(layers.pop(0)))
                    if attr is None:
                        return None
                packed = torch.ops.mkldnn._reorder_linear_weight(linear.weight.detach(), batch_rows)
                bias = None if linear.bias is None else linear.bias.detach().clone()
                plan.append((packed, bias, attr))

        def forward(x: Tensor) -> Tensor:
            for packed, bias, attr in plan:
                x = torch.ops.mkldnn._linear_pointwise(x, packed, bias, attr, [], "")
            return x

        with torch.no_grad():
            probe = torch.randn(64, mlp[0].in_features, generator=torch.Generator().manual_seed(0))
            expected = mlp(probe)
            if not torch.allclose(forward(probe), expected, rtol=1e-4, atol=1e-5):
                return None
    except (RuntimeError, AttributeError, TypeError, IndexError):  # op missing or unsupported here
        return None
    return forward
