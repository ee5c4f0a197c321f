"""A small builder of ONNX graphs from numpy constants and named ops.

The exporters write the scoring path node by node from the fitted weights
(:mod:`onnx.helper`), without a tracer: what goes into the graph is exactly
what is written here, for any torch version. Change this file to add an op
helper; the maths of each detector lives in :mod:`dagmm.export.onnx`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from torch import nn
from torch.nn import functional as F

from dagmm.exceptions import ExportError

#: ONNX opset of every exported graph. 19 is the first with string ``Equal``
#: (one-hot encoding of categories); onnxruntime reads it from version 1.15 on.
OPSET = 19
#: IR version written into the files (onnxruntime >= 1.15 reads it).
IR_VERSION = 9


def _onnx() -> Any:
    try:
        import onnx
    except ImportError:  # pragma: no cover - exercised without the extra only
        raise ExportError(
            "ONNX export needs the 'onnx' package: pip install 'dagmm[onnx]'"
        ) from None
    return onnx


class GraphBuilder:
    """Accumulates nodes and constants; :meth:`model` turns them into an ``onnx.ModelProto``."""

    def __init__(self, *, precise_tanh: bool = True) -> None:
        self.onnx = _onnx()
        self.precise_tanh = precise_tanh
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []
        self.inputs: list[Any] = []
        self.outputs: list[Any] = []
        self._count = 0

    def _name(self, hint: str) -> str:
        self._count += 1
        return f"{hint}_{self._count}"

    def const(self, value: Any, dtype: Any, hint: str = "const") -> str:
        """A constant tensor (an initializer) of ``dtype``; returns its name."""
        array = np.asarray(value, dtype=dtype)
        name = self._name(hint)
        if array.dtype == object:
            tensor = self.onnx.helper.make_tensor(
                name,
                self.onnx.TensorProto.STRING,
                array.shape,
                [str(item).encode("utf-8") for item in array.ravel()],
            )
        else:
            tensor = self.onnx.numpy_helper.from_array(array, name)
        self.initializers.append(tensor)
        return name

    def axes(self, *axes: int) -> str:
        return self.const(list(axes), np.int64, "axes")

    def op(self, op_type: str, *inputs: str, output: str | None = None, **attrs: Any) -> str:
        """Add one node with one output; returns the output's name."""
        out = output or self._name(op_type.lower())
        self.nodes.append(self.onnx.helper.make_node(op_type, list(inputs), [out], **attrs))
        return out

    def add_input(self, name: str, elem_type: int, shape: list[Any]) -> str:
        self.inputs.append(self.onnx.helper.make_tensor_value_info(name, elem_type, shape))
        return name

    def add_output(self, source: str, name: str, elem_type: int, shape: list[Any]) -> None:
        """Expose ``source`` as a graph output called ``name``."""
        self.op("Identity", source, output=name)
        self.outputs.append(self.onnx.helper.make_tensor_value_info(name, elem_type, shape))

    def model(self, graph_name: str, doc: str, metadata: dict[str, str]) -> Any:
        helper = self.onnx.helper
        graph = helper.make_graph(
            self.nodes, graph_name, self.inputs, self.outputs, self.initializers, doc_string=doc
        )
        model = helper.make_model(
            graph,
            opset_imports=[helper.make_opsetid("", OPSET)],
            producer_name="dagmm",
            doc_string=doc,
        )
        model.ir_version = IR_VERSION
        helper.set_model_props(model, metadata)
        self.onnx.checker.check_model(model)
        return model

    # ------------------------------------------------------------ helpers
    def tanh(self, x: str) -> str:
        """tanh of a float32 tensor; with ``precise_tanh`` evaluated in float64.

        onnxruntime's float32 Tanh is a fast approximation: on a grid of
        [-6, 6] 61% of its results differ from the correctly rounded value (by
        up to 3 ulp), where torch's differ in 0.2%. Those last bits, passed
        through a network and amplified by a narrow mixture component, cost
        parity with the library (largest relative energy difference 1.1e-5
        instead of 7.6e-6 on a min-max scaled test model); evaluating tanh in
        float64 and rounding once removes them, at some speed
        (``benchmarks/onnx_speed.py`` measures both).
        """
        if not self.precise_tanh:
            return self.op("Tanh", x)
        types = self.onnx.TensorProto
        return self.op("Cast", self.op("Tanh", self.op("Cast", x, to=types.DOUBLE)), to=types.FLOAT)

    def row_sum(self, x: str, keepdims: int = 1) -> str:
        """Sum over axis 1."""
        return self.op("ReduceSum", x, self.axes(1), keepdims=keepdims)

    def columns(self, x: str, start: int, stop: int) -> str:
        """``x[:, start:stop]``."""
        return self.op(
            "Slice",
            x,
            self.const([start], np.int64, "start"),
            self.const([stop], np.int64, "stop"),
            self.axes(1),
        )


# --------------------------------------------------------------- activations
_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946

#: Plain torch functions accepted as activations, and the module each equals.
_FUNCTIONS: dict[Any, nn.Module] = {}
for _function, _module in (
    ("tanh", nn.Tanh()),
    ("relu", nn.ReLU()),
    ("sigmoid", nn.Sigmoid()),
    ("selu", nn.SELU()),
    ("celu", nn.CELU()),
    ("elu", nn.ELU()),
    ("gelu", nn.GELU()),
    ("silu", nn.SiLU()),
    ("mish", nn.Mish()),
    ("leaky_relu", nn.LeakyReLU()),
    ("softplus", nn.Softplus()),
    ("softsign", nn.Softsign()),
    ("hardtanh", nn.Hardtanh()),
    ("relu6", nn.ReLU6()),
    ("logsigmoid", nn.LogSigmoid()),
    ("hardsigmoid", nn.Hardsigmoid()),
    ("hardswish", nn.Hardswish()),
):
    for _namespace in (F, __import__("torch")):
        if hasattr(_namespace, _function):
            _FUNCTIONS[getattr(_namespace, _function)] = _module

#: Activation module classes the exporter translates.
SUPPORTED_ACTIVATIONS = (
    nn.Identity, nn.Tanh, nn.ReLU, nn.Sigmoid, nn.ELU, nn.SELU, nn.CELU, nn.GELU, nn.SiLU,
    nn.Mish, nn.LeakyReLU, nn.Softplus, nn.Softsign, nn.Hardtanh, nn.ReLU6, nn.LogSigmoid,
    nn.Hardsigmoid, nn.Hardswish, nn.PReLU,
)


def _softplus(g: GraphBuilder, x: str, beta: float, threshold: float) -> str:
    """torch's softplus: ``log(1 + exp(beta x)) / beta``, linear where ``beta x > threshold``."""
    scaled = x if beta == 1 else g.op("Mul", x, g.const(beta, np.float32))
    smooth = g.op("Softplus", scaled)
    if beta != 1:
        smooth = g.op("Div", smooth, g.const(beta, np.float32))
    linear = g.op("Greater", scaled, g.const(threshold, np.float32))
    return g.op("Where", linear, x, smooth)


def activation(g: GraphBuilder, module: nn.Module, x: str, where: str) -> str:
    """Translate one activation module applied to ``x``; ExportError if it has no translation."""
    function = getattr(module, "function", None)
    if function is not None and type(module).__name__ == "_FunctionActivation":
        if function not in _FUNCTIONS:
            raise ExportError(
                f"{where} uses the activation function {function!r}, which the ONNX exporter "
                f"cannot translate; supported functions are torch's "
                f"{sorted({f.__name__ for f in _FUNCTIONS})}"
            )
        module = _FUNCTIONS[function]
    f32 = np.float32
    if isinstance(module, nn.Identity):
        return x
    if isinstance(module, nn.Tanh):
        return g.tanh(x)
    if isinstance(module, nn.ReLU):
        return g.op("Relu", x)
    if isinstance(module, nn.Sigmoid):
        return g.op("Sigmoid", x)
    if isinstance(module, nn.ELU):
        return g.op("Elu", x, alpha=float(module.alpha))
    if isinstance(module, nn.SELU):
        return g.op("Selu", x, alpha=_SELU_ALPHA, gamma=_SELU_SCALE)
    if isinstance(module, nn.CELU):
        return g.op("Celu", x, alpha=float(module.alpha))
    if isinstance(module, nn.GELU):
        if module.approximate == "tanh":
            cube = g.op("Mul", g.op("Mul", x, x), x)
            inner = g.op("Add", x, g.op("Mul", cube, g.const(0.044715, f32)))
            tanh = g.tanh(g.op("Mul", inner, g.const(math.sqrt(2 / math.pi), f32)))
        else:
            tanh = g.op("Erf", g.op("Mul", x, g.const(1 / math.sqrt(2), f32)))
        half_x = g.op("Mul", x, g.const(0.5, f32))
        return g.op("Mul", half_x, g.op("Add", tanh, g.const(1.0, f32)))
    if isinstance(module, nn.SiLU):
        return g.op("Mul", x, g.op("Sigmoid", x))
    if isinstance(module, nn.Mish):
        return g.op("Mul", x, g.tanh(_softplus(g, x, 1.0, 20.0)))
    if isinstance(module, nn.LeakyReLU):
        return g.op("LeakyRelu", x, alpha=float(module.negative_slope))
    if isinstance(module, nn.Softplus):
        return _softplus(g, x, float(module.beta), float(module.threshold))
    if isinstance(module, nn.Softsign):
        return g.op("Softsign", x)
    if isinstance(module, nn.Hardtanh):  # ReLU6 is a Hardtanh
        return g.op(
            "Clip", x, g.const(module.min_val, f32), g.const(module.max_val, f32)
        )
    if isinstance(module, nn.LogSigmoid):
        return g.op("Neg", _softplus(g, g.op("Neg", x), 1.0, 20.0))
    if isinstance(module, nn.Hardsigmoid):
        return g.op("HardSigmoid", x, alpha=1 / 6, beta=0.5)
    if isinstance(module, nn.Hardswish):
        return g.op("HardSwish", x)
    if isinstance(module, nn.PReLU):
        slope = module.weight.detach().cpu().numpy().astype(f32)
        return g.op("PRelu", x, g.const(slope, f32, "prelu_slope"))
    raise ExportError(
        f"{where} uses the activation {type(module).__name__}, which the ONNX exporter cannot "
        f"translate; supported: {sorted(cls.__name__ for cls in SUPPORTED_ACTIVATIONS)} "
        "(or the matching torch functions)"
    )


def mlp(g: GraphBuilder, sequential: nn.Module, x: str, where: str) -> str:
    """Translate a :class:`~dagmm.nn.layers.MLP` (Linear, activations, Dropout) in float32."""
    for index, layer in enumerate(sequential):
        if isinstance(layer, nn.Linear):
            weight = layer.weight.detach().cpu().numpy().astype(np.float32)
            bias = (
                layer.bias.detach().cpu().numpy().astype(np.float32)
                if layer.bias is not None
                else np.zeros(weight.shape[0], np.float32)
            )
            x = g.op(
                "Gemm",
                x,
                g.const(weight, np.float32, "weight"),
                g.const(bias, np.float32, "bias"),
                transB=1,
            )
        elif isinstance(layer, nn.Dropout):
            continue  # scoring runs in eval mode: dropout is the identity
        else:
            x = activation(g, layer, x, f"{where} (layer {index})")
    return x
