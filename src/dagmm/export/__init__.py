"""Portable scoring graphs: ONNX export of fitted detectors (needs ``dagmm[onnx]``).

:func:`export_onnx` writes the scoring path of a fitted :class:`~dagmm.DAGMM`,
:class:`~dagmm.VAEDetector` or file-workflow model
(:class:`~dagmm.workflow.TabularDetector`) as one ONNX file, and checks it
against the library with onnxruntime; ``model.to_onnx(path)`` and
``dagmm export MODEL_DIR --out model.onnx`` call it. The input contract is
described in :mod:`dagmm.export.onnx`.
"""

from dagmm.export._graph import OPSET
from dagmm.export.onnx import (
    CATEGORICAL_INPUT,
    INPUT_NAME,
    NUMERIC_INPUT,
    ExportReport,
    export_onnx,
    onnx_inputs,
    relative_difference,
    to_onnx_model,
)

__all__ = [
    "CATEGORICAL_INPUT",
    "INPUT_NAME",
    "NUMERIC_INPUT",
    "OPSET",
    "ExportReport",
    "export_onnx",
    "onnx_inputs",
    "relative_difference",
    "to_onnx_model",
]
