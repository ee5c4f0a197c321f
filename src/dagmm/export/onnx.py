r"""ONNX export of the scoring path of DAGMM, VAEDetector and a fitted file-workflow model.

The graph is written node by node from the fitted weights (no tracer), so it
holds exactly the library's scoring maths:

* **input scaling** ``(x - center) / scale`` in float32, as the estimators do;
* **the networks** (linear layers and the activation the model was trained
  with; dropout is the identity at scoring), in float32;
* **DAGMM**: the reconstruction features (relative and Euclidean distance,
  cosine similarity), then the frozen mixture *folded* at export time. ONNX
  has no Cholesky factorisation or triangular solve, so each component
  :math:`k` is stored as its precision Cholesky factor :math:`P_k = L_k^{-1}`
  (already computed in float64 at fit) and one constant

  .. math::

      c_k = \log\phi_k + \sum_j \log (P_k)_{jj} - \tfrac d2 \log 2\pi,

  and the graph computes :math:`\log p_k(z) = c_k - \tfrac12\lVert P_k(z-\mu_k)\rVert^2`
  with one matrix product for all components (the library's own layout,
  :func:`dagmm.math.gmm.log_component_densities`), then a max-shifted
  log-sum-exp. This part runs in **float64**, like the library: a nearly
  singular component has precision factors of 1e3 to 1e6, and float32 would
  lose 3 to 6 of its 7 digits there;
* **VAEDetector**: the encoder, then the chosen anomaly score
  (``mahalanobis`` and ``prior`` in float64; ``reconstruction`` and ``elbo``,
  with the fixed draws stored at fit, in float32 as the library);
* **a TabularDetector** (``dagmm fit`` model directory): the preprocessing
  of numeric and date-time columns (imputation constants, date-time parts,
  scaling, in float64 as the preprocessor) and the one-hot encoding of the
  categories seen at fit. Hashed columns cannot be expressed: exporting such
  a model raises :class:`~dagmm.exceptions.ExportError` naming them.

Contract of an exported graph (also stored in its metadata, ``inputs`` and
``outputs``): opset :data:`~dagmm.export._graph.OPSET`, dynamic batch size N.

Estimators: input ``input``, float32 (N, n_features_in_), raw (unscaled)
rows in the column order of training. Workflow models: ``numeric``, float64
(N, n_numeric) in the order of the ``numeric_columns`` metadata (date-times
as seconds since 1970 UTC; NaN is a missing value, imputed when the model was
fitted with ``handle_missing="impute"``, otherwise it gives a NaN energy), and,
when the model has category columns, ``categorical``, string (N, n_categorical)
in the order of ``categorical_columns``, each value the canonical label of the
library (:func:`onnx_inputs` makes both from a DataFrame; ``"__missing__"`` for
a missing value; an unknown label gives all-zero indicators, as the library).

Outputs: ``energy`` float64 (N,), higher = more anomalous (``model.energy``);
``is_anomaly`` bool (N,), ``energy > threshold`` with the threshold stored at
fit (``model.predict(X) == -1``); for DAGMM ``memberships`` float64 (N, K),
the posterior probability of each frozen mixture component
(``model.predict_proba_components``).
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from dagmm._version import __version__
from dagmm.exceptions import DataError, ExportError
from dagmm.export._graph import OPSET, GraphBuilder, mlp
from dagmm.persistence import atomic_write

__all__ = [
    "INPUT_NAME",
    "ExportReport",
    "export_onnx",
    "onnx_inputs",
    "to_onnx_model",
]

#: Input name of an exported estimator.
INPUT_NAME = "input"
#: Input names of an exported workflow model.
NUMERIC_INPUT, CATEGORICAL_INPUT = "numeric", "categorical"
#: Rows of synthetic data the export check scores with both onnxruntime and the library.
CHECK_ROWS = 512
#: Largest relative difference the export check accepts (see :func:`relative_difference`).
#: float32 rounding of the network alone reaches ~1e-4 on DAGMM()'s defaults; a wrong
#: graph differs by far more.
CHECK_TOLERANCE = 1e-3

_LOG_2PI = math.log(2.0 * math.pi)


def _tensor_types() -> tuple[int, int, int, int]:
    from onnx import TensorProto

    return TensorProto.FLOAT, TensorProto.DOUBLE, TensorProto.BOOL, TensorProto.STRING


def relative_difference(onnx_energy: np.ndarray, library_energy: np.ndarray) -> float:
    """Largest ``|a - b| / max(|b|, 1)`` over rows (NaN in the same places counts as equal).

    Relative to the energy for energies of magnitude 1 or more; absolute below,
    where a relative difference means nothing (an energy crosses zero).
    """
    a = np.asarray(onnx_energy, dtype=np.float64)
    b = np.asarray(library_energy, dtype=np.float64)
    both_nan = np.isnan(a) & np.isnan(b)
    diff = np.abs(a - b) / np.maximum(np.abs(b), 1.0)
    diff = np.where(both_nan, 0.0, diff)
    diff = np.where(np.isnan(diff), np.inf, diff)
    return float(diff.max()) if diff.size else 0.0


# ------------------------------------------------------------------ estimators
def _check_fitted(model: Any) -> None:
    if not hasattr(model, "module_"):
        raise ExportError(
            f"this {type(model).__name__} is not fitted yet; call fit() or load a saved model "
            "before exporting it"
        )


def _finite(name: str, array: np.ndarray, model: Any) -> np.ndarray:
    array = np.asarray(array, dtype=np.float64)
    if not np.isfinite(array).all():
        raise ExportError(
            f"the fitted {type(model).__name__} has non-finite values in {name}, so its scores "
            "are undefined; refit the model"
        )
    return array


def _scaled_input(g: GraphBuilder, model: Any, x: str) -> str:
    """``(x - center) / scale`` in float32, exactly as ``_to_scaled_tensor``."""
    center = _finite("scaler_center_", model.scaler_center_, model).astype(np.float32)
    scale = _finite("scaler_scale_", model.scaler_scale_, model).astype(np.float32)
    if not center.any() and (scale == 1).all():
        return x
    return g.op(
        "Div",
        g.op("Sub", x, g.const(center, np.float32, "center")),
        g.const(scale, np.float32, "scale"),
    )


def _dagmm_graph(g: GraphBuilder, model: Any, x: str) -> dict[str, str]:
    """Energy, memberships (float64) of the scaled rows ``x`` (float32)."""
    from dagmm.math import NORM_FLOOR

    f64 = np.float64
    double = _tensor_types()[1]
    compression = model.module_.compression
    code = mlp(g, compression.encoder, x, "comp_activation")
    x_hat = mlp(g, compression.decoder, code, "comp_activation")
    # From here on float64, as DAGMMNetwork.scoring_embed: the features' rounding
    # would otherwise be amplified by a narrow component's precision.
    parts = [g.op("Cast", code, to=double)]
    features = tuple(model.module_.features)
    if features:
        # Three row sums of exact float32 products (they fit in float64) give
        # everything: ||x - x_hat||^2 = ||x||^2 + ||x_hat||^2 - 2 x.x_hat loses
        # ~1e-16 ||x||^2 to cancellation, far below the float32 inputs' own
        # rounding, and saves two passes over (N, D) float64 arrays.
        x64, x_hat64 = g.op("Cast", x, to=double), g.op("Cast", x_hat, to=double)
        square_x = g.row_sum(g.op("Mul", x64, x64))  # N x 1
        square_x_hat = g.row_sum(g.op("Mul", x_hat64, x_hat64))  # N x 1
        dot = g.row_sum(g.op("Mul", x64, x_hat64))  # N x 1
        norm_x = g.op("Sqrt", square_x)
        distance_sq = g.op(
            "Sub", g.op("Add", square_x, square_x_hat), g.op("Mul", dot, g.const(2.0, f64))
        )
        distance = g.op("Sqrt", g.op("Max", distance_sq, g.const(0.0, f64)))  # N x 1
        floor = g.const(NORM_FLOOR, f64, "norm_floor")
        for name in features:
            if name == "relative":
                parts.append(g.op("Div", distance, g.op("Max", norm_x, floor)))
            elif name == "cosine":
                norms = g.op("Mul", norm_x, g.op("Sqrt", square_x_hat))
                parts.append(g.op("Div", dot, g.op("Max", norms, floor)))
            elif name == "euclidean":
                parts.append(distance)
            else:
                raise ExportError(f"reconstruction feature {name!r} has no ONNX translation")
    z = g.op("Concat", *parts, axis=1) if len(parts) > 1 else parts[0]  # N x d, float64
    return _mixture_graph(g, model, z)


def _mixture_graph(g: GraphBuilder, model: Any, z: str) -> dict[str, str]:
    """Energy and memberships under the frozen mixture of the float64 mixture inputs ``z``."""
    f64 = np.float64
    weights = _finite("weights_", model.weights_, model)  # K
    means = _finite("means_", model.means_, model)  # K x d
    prec_chol = _finite("precisions_cholesky_", model.precisions_cholesky_, model)  # K x d x d
    n_components, dim = means.shape
    diagonal = np.diagonal(prec_chol, axis1=1, axis2=2)  # K x d
    if (diagonal <= 0).any() or (weights <= 0).any():
        raise ExportError(
            "the fitted mixture has a component with a non-positive weight or precision "
            "diagonal, so its density is undefined; refit the model"
        )
    # Folding: P_k^T side by side, the shifts mu_k P_k^T, and one constant per component.
    transposed = prec_chol.transpose(0, 2, 1)  # K x d x d
    stacked = transposed.transpose(1, 0, 2).reshape(dim, n_components * dim)  # d x (K d)
    shift = (means[:, None, :] @ transposed).reshape(1, n_components * dim)  # 1 x (K d)
    constants = np.log(weights) + np.log(diagonal).sum(axis=1) - 0.5 * dim * _LOG_2PI  # K

    whitened = g.op(
        "Sub", g.op("MatMul", z, g.const(stacked, f64, "precision")), g.const(shift, f64, "shift")
    )  # N x (K d)
    squared = g.op(
        "Reshape",
        g.op("Mul", whitened, whitened),
        g.const([-1, n_components, dim], np.int64, "shape"),
    )  # N x K x d
    mahalanobis_sq = g.op("ReduceSum", squared, g.axes(2), keepdims=0)  # N x K
    joint = g.op(
        "Sub",
        g.const(constants, f64, "log_constants"),
        g.op("Mul", mahalanobis_sq, g.const(0.5, f64)),
    )  # N x K: log phi_k N(z; mu_k, Sigma_k)
    top = g.op("ReduceMax", joint, g.axes(1), keepdims=1)  # N x 1
    total = g.row_sum(g.op("Exp", g.op("Sub", joint, top)))  # N x 1
    log_density = g.op("Add", top, g.op("Log", total))  # N x 1
    energy = g.op("Neg", g.op("Squeeze", log_density, g.axes(1)))  # N
    memberships = g.op("Exp", g.op("Sub", joint, log_density))  # N x K
    return {"energy": energy, "memberships": memberships}


def _vae_log_likelihood(g: GraphBuilder, model: Any, x: str, output: str) -> str:
    """The decoder log-likelihood per row (N,), float32, as :func:`dagmm.math.vae.log_likelihood`."""
    f32 = np.float32
    if model.likelihood_ == "bernoulli":
        softplus = g.op(
            "Where", g.op("Greater", output, g.const(20.0, f32)), output, g.op("Softplus", output)
        )
        return g.row_sum(g.op("Sub", g.op("Mul", x, output), softplus), keepdims=0)
    with torch.no_grad():
        log_var = model.module_.output_log_var().detach().cpu().float()  # D
        offset = (_LOG_2PI + log_var).numpy()  # float32, as torch adds them
        inverse = torch.exp(-log_var).numpy()
    diff = g.op("Sub", x, output)
    squared = g.op("Mul", g.op("Mul", diff, diff), g.const(inverse, f32, "inverse_variance"))
    summed = g.row_sum(g.op("Add", g.const(offset, f32, "log_variance"), squared), keepdims=0)
    return g.op("Mul", summed, g.const(-0.5, f32))


def _vae_graph(g: GraphBuilder, model: Any, x: str) -> dict[str, str]:
    """The ``anomaly_score`` energy (float64) of the scaled rows ``x`` (float32)."""
    from dagmm.nn import ENCODER_LOG_VAR_RANGE

    f32, f64 = np.float32, np.float64
    double = _tensor_types()[1]
    latent = int(model.latent_dim_)
    module = model.module_
    encoded = mlp(g, module.encoder, x, "activation")  # N x 2L
    mean = g.columns(encoded, 0, latent)
    score = model.anomaly_score
    if score == "mahalanobis":
        location = _finite("location_", model.location_, model)
        prec_chol = _finite("precision_cholesky_", model.precision_cholesky_, model)
        centred = g.op("Sub", g.op("Cast", mean, to=double), g.const(location, f64, "location"))
        whitened = g.op("MatMul", centred, g.const(prec_chol.T, f64, "precision"))
        energy = g.op("Sqrt", g.row_sum(g.op("Mul", whitened, whitened), keepdims=0))
    elif score == "prior":
        mean64 = g.op("Cast", mean, to=double)
        energy = g.op("Sqrt", g.row_sum(g.op("Mul", mean64, mean64), keepdims=0))
    elif score == "reconstruction":
        output = mlp(g, module.decoder, mean, "activation")
        energy = g.op("Cast", g.op("Neg", _vae_log_likelihood(g, model, x, output)), to=double)
    elif score == "elbo":
        low, high = ENCODER_LOG_VAR_RANGE
        log_var = g.op(
            "Clip", g.columns(encoded, latent, 2 * latent), g.const(low, f32), g.const(high, f32)
        )
        noise = _finite("elbo_noise_", model.elbo_noise_, model).astype(f32)  # S x L
        std = g.op("Exp", g.op("Mul", log_var, g.const(0.5, f32)))
        expected = None
        for draw in noise:  # the library's order: one decoder pass per draw, summed in turn
            z = g.op("Add", mean, g.op("Mul", std, g.const(draw, f32, "elbo_draw")))
            value = _vae_log_likelihood(g, model, x, mlp(g, module.decoder, z, "activation"))
            expected = value if expected is None else g.op("Add", expected, value)
        kl_terms = g.op(
            "Sub",
            g.op(
                "Sub",
                g.op("Add", g.op("Exp", log_var), g.op("Mul", mean, mean)),
                g.const(1.0, f32),
            ),
            log_var,
        )
        kl = g.op("Mul", g.row_sum(kl_terms, keepdims=0), g.const(0.5, f32))
        average = g.op("Div", expected, g.const(float(noise.shape[0]), f32))
        energy = g.op("Cast", g.op("Sub", kl, average), to=double)
    else:
        raise ExportError(f"anomaly_score={score!r} has no ONNX translation")
    return {"energy": energy}


def _estimator_body(g: GraphBuilder, model: Any, x: str) -> dict[str, str]:
    """Graph outputs of an estimator for raw float32 rows ``x``."""
    from dagmm.estimators import DAGMM, VAEDetector

    _check_fitted(model)
    scaled = _scaled_input(g, model, x)
    if isinstance(model, DAGMM):
        return _dagmm_graph(g, model, scaled)
    if isinstance(model, VAEDetector):
        return _vae_graph(g, model, scaled)
    raise ExportError(
        f"{type(model).__name__} has no ONNX exporter; DAGMM, VAEDetector and models fitted "
        "by `dagmm fit` (TabularDetector) can be exported"
    )


def _finish(
    g: GraphBuilder, outputs: dict[str, str], threshold: float, n_components: int | None
) -> dict[str, str]:
    """Add the graph outputs; returns their descriptions."""
    _, f64, boolean, _ = _tensor_types()
    g.add_output(outputs["energy"], "energy", f64, ["N"])
    flagged = g.op("Greater", outputs["energy"], g.const(float(threshold), np.float64, "threshold"))
    g.add_output(flagged, "is_anomaly", boolean, ["N"])
    described = {
        "energy": "float64 (N,): anomaly energy, higher = more anomalous",
        "is_anomaly": f"bool (N,): energy > {float(threshold)!r} (the threshold stored at fit)",
    }
    if "memberships" in outputs:
        g.add_output(outputs["memberships"], "memberships", f64, ["N", n_components])
        described["memberships"] = (
            f"float64 (N, {n_components}): posterior probability of each frozen mixture component"
        )
    return described


# ---------------------------------------------------------------- workflow
def _workflow_body(g: GraphBuilder, detector: Any) -> tuple[dict[str, str], dict[str, Any]]:
    """Preprocessing + estimator graph of a fitted TabularDetector; returns outputs and contract."""
    from dagmm.tabular.preprocessor import DATETIME, HASHED, NUMERIC, ONEHOT

    pre = detector.preprocessor_
    specs = list(pre._specs)
    hashed = [spec.name for spec in specs if spec.kind == HASHED]
    if hashed:
        raise ExportError(
            f"column(s) {hashed} are hashed (CRC-32 of the text into buckets), which ONNX cannot "
            "express; refit with max_categories (--max-categories) above their number of "
            "distinct values so they are one-hot encoded, or leave them out (drop_cols)"
        )
    f64 = np.float64
    float_type, double, _, string = _tensor_types()
    numeric_cols = [spec.name for spec in specs if spec.kind in (NUMERIC, DATETIME)]
    categorical_cols = [spec.name for spec in specs if spec.kind == ONEHOT]
    numeric = g.add_input(NUMERIC_INPUT, double, ["N", len(numeric_cols)]) if numeric_cols else None
    categorical = (
        g.add_input(CATEGORICAL_INPUT, string, ["N", len(categorical_cols)])
        if categorical_cols
        else None
    )
    impute = pre.handle_missing == "impute"
    blocks: list[str] = []
    numeric_at = categorical_at = 0
    for spec, fill in zip(specs, pre.impute_values_, strict=True):
        if spec.kind in (NUMERIC, DATETIME):
            values = g.columns(numeric, numeric_at, numeric_at + 1)  # N x 1 (seconds for dates)
            numeric_at += 1
            if impute:
                values = g.op("Where", g.op("IsNaN", values), g.const(fill, f64, "impute"), values)
            if spec.kind == NUMERIC:
                blocks.append(values)
                continue
            for part in spec.parts:
                if part == "epoch_s":
                    blocks.append(values)
                elif part == "dayofweek":  # mod(floor(s / 86400) + 3, 7)
                    days = g.op("Floor", g.op("Div", values, g.const(86400.0, f64)))
                    blocks.append(_floor_mod(g, g.op("Add", days, g.const(3.0, f64)), 7.0))
                else:  # "hour": mod(s, 86400) / 3600
                    blocks.append(
                        g.op("Div", _floor_mod(g, values, 86400.0), g.const(3600.0, f64))
                    )
        else:  # ONEHOT: one indicator per category seen at fit; unknown labels give zeros
            labels = g.columns(categorical, categorical_at, categorical_at + 1)  # N x 1
            categorical_at += 1
            same = g.op("Equal", labels, g.const(np.array(spec.categories, dtype=object), object))
            blocks.append(g.op("Cast", same, to=double))
    features = g.op("Concat", *blocks, axis=1) if len(blocks) > 1 else blocks[0]
    scaled = g.op(
        "Div",
        g.op("Sub", features, g.const(pre.offset_, f64, "offset")),
        g.const(pre.scale_, f64, "column_scale"),
    )
    x = g.op("Cast", scaled, to=float_type)  # the preprocessor's float32 matrix
    contract = {
        "numeric_columns": numeric_cols,
        "datetime_columns": [spec.name for spec in specs if spec.kind == DATETIME],
        "categorical_columns": categorical_cols,
        "categories": {spec.name: list(spec.categories) for spec in specs if spec.kind == ONEHOT},
        "handle_missing": pre.handle_missing,
    }
    return _estimator_body(g, detector.model_, x), contract


def _floor_mod(g: GraphBuilder, values: str, divisor: float) -> str:
    """``numpy.mod`` (result has the divisor's sign): fmod, then shift negative remainders."""
    f64 = np.float64
    remainder = g.op("Mod", values, g.const(divisor, f64), fmod=1)
    negative = g.op("Less", remainder, g.const(0.0, f64))
    return g.op("Where", negative, g.op("Add", remainder, g.const(divisor, f64)), remainder)


def onnx_inputs(detector: Any, frame: pd.DataFrame) -> dict[str, np.ndarray]:
    """The feeds of an exported workflow model for a raw table (the caller's step, in Python).

    Numeric columns are parsed as numbers, date-time columns as seconds since
    1970 UTC (both float64, NaN where missing), category columns as the
    library's canonical labels (``"__missing__"`` where missing).

    Raises
    ------
    DataError
        If a column is absent or a numeric or date-time column holds other values.
    """
    from dagmm.tabular._columns import (
        MISSING_LABEL,
        category_labels,
        coerce_epoch_seconds,
        coerce_float,
        describe_bad,
    )
    from dagmm.tabular.preprocessor import DATETIME, NUMERIC, ONEHOT

    pre = detector.preprocessor_
    frame = pre._checked_frame(frame)
    numeric, categorical = [], []
    for spec in pre._specs:
        series = frame[spec.name]
        if spec.kind in (NUMERIC, DATETIME):
            if spec.kind == NUMERIC:
                values, bad = coerce_float(series)
            else:  # in the layout chosen at fit, as the preprocessor reads it
                values, bad = coerce_epoch_seconds(series, spec.date_format)
            if bad.any():
                raise DataError(
                    f"column {spec.name!r} holds values that are not "
                    f"{'numbers' if spec.kind == NUMERIC else 'date-times'}: "
                    f"{describe_bad(series, bad)}"
                )
            numeric.append(np.asarray(values, dtype=np.float64))
        elif spec.kind == ONEHOT:
            labels = category_labels(series)
            labels[pd.isna(labels)] = MISSING_LABEL
            categorical.append(labels.astype(object))
    feeds = {}
    if numeric:
        feeds[NUMERIC_INPUT] = np.column_stack(numeric).astype(np.float64)
    if categorical:
        feeds[CATEGORICAL_INPUT] = np.column_stack(categorical).astype(object)
    return feeds


# --------------------------------------------------------------------- entry
@dataclass
class ExportReport:
    """What :func:`export_onnx` wrote and how well onnxruntime matched the library."""

    path: Path | None
    detector: str
    inputs: dict[str, str]
    outputs: dict[str, str]
    opset: int = OPSET
    checked_rows: int = 0
    max_relative_difference: float | None = None
    flags_agree: bool | None = None
    metadata: dict[str, str] = field(default_factory=dict)

    def summary(self) -> str:
        inputs = ", ".join(
            f"{name} {kind.split(':')[0]}" for name, kind in self.inputs.items()
        )
        line = (
            f"exported {self.detector} to {self.path} (ONNX opset {self.opset}; inputs {inputs}; "
            f"outputs {', '.join(self.outputs)})"
        )
        if self.max_relative_difference is None:
            return line + "; not checked (onnxruntime is not installed)"
        return (
            line + f"; checked on {self.checked_rows} rows against the library: largest relative "
            f"energy difference {self.max_relative_difference:.1e}"
        )


def to_onnx_model(obj: Any, *, precise_tanh: bool = True) -> tuple[Any, ExportReport]:
    """Build the ONNX model of a fitted DAGMM, VAEDetector or TabularDetector (nothing written).

    ``precise_tanh``: see :meth:`dagmm.export._graph.GraphBuilder.tanh`.

    Returns
    -------
    model : onnx.ModelProto
    report : ExportReport
        With ``path`` None and no check done.
    """
    from dagmm.workflow.detector import TabularDetector

    g = GraphBuilder(precise_tanh=precise_tanh)
    float_type = _tensor_types()[0]
    if isinstance(obj, TabularDetector):
        if not hasattr(obj, "threshold_"):
            raise ExportError("this TabularDetector is not fitted yet; fit or load it first")
        outputs, contract = _workflow_body(g, obj)
        model, threshold = obj.model_, obj.threshold_
        inputs = {}
        if contract["numeric_columns"]:
            inputs[NUMERIC_INPUT] = (
                f"float64 (N, {len(contract['numeric_columns'])}): raw values of "
                f"{contract['numeric_columns']} (date-times as seconds since 1970 UTC; NaN = missing)"
            )
        if contract["categorical_columns"]:
            inputs[CATEGORICAL_INPUT] = (
                f"string (N, {len(contract['categorical_columns'])}): category labels of "
                f"{contract['categorical_columns']} ('__missing__' = missing)"
            )
        detector_name = f"TabularDetector({type(model).__name__})"
        extra = {key: json.dumps(value) for key, value in contract.items()}
    else:
        _check_fitted(obj)
        model, threshold = obj, obj.threshold_
        n_features = int(obj.n_features_in_)
        x = g.add_input(INPUT_NAME, float_type, ["N", n_features])
        outputs = _estimator_body(g, obj, x)
        names = getattr(obj, "feature_names_in_", None)
        inputs = {
            INPUT_NAME: f"float32 (N, {n_features}): raw rows, columns in training order"
            + (f" {list(map(str, names))}" if names is not None else "")
        }
        detector_name = type(obj).__name__
        extra = {"feature_names": json.dumps(None if names is None else list(map(str, names)))}
    n_components = len(model.weights_) if hasattr(model, "weights_") else None
    described = _finish(g, outputs, float(threshold), n_components)
    metadata = {
        "dagmm_version": __version__,
        "detector": detector_name,
        "inputs": json.dumps(inputs),
        "outputs": json.dumps(described),
        "threshold": repr(float(threshold)),
        **extra,
    }
    doc = (
        f"dagmm {__version__} {detector_name} scoring graph. Inputs: {json.dumps(inputs)}. "
        f"Outputs: {json.dumps(described)}."
    )
    onnx_model = g.model(f"dagmm_{type(model).__name__.lower()}", doc, metadata)
    return onnx_model, ExportReport(None, detector_name, inputs, described, metadata=metadata)


def _check_rows(obj: Any, rng: np.random.Generator) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Synthetic rows around the training data: (onnx feeds, library energies)."""
    from dagmm.tabular.preprocessor import DATETIME, NUMERIC, ONEHOT
    from dagmm.workflow.detector import TabularDetector

    if not isinstance(obj, TabularDetector):
        spread = rng.standard_normal((CHECK_ROWS, int(obj.n_features_in_)))
        X = (obj.scaler_center_ + obj.scaler_scale_ * 1.5 * spread).astype(np.float32)
        return {INPUT_NAME: X}, obj.energy(X)
    pre = obj.preprocessor_
    columns: dict[str, Any] = {}
    position = 0
    for spec in pre._specs:
        width = len(spec.feature_names())
        if spec.kind in (NUMERIC, DATETIME):
            values = pre.offset_[position] + pre.scale_[position] * rng.standard_normal(CHECK_ROWS)
            if spec.kind == DATETIME:
                values = pd.to_datetime(np.round(values), unit="s")
            columns[spec.name] = values
        elif spec.kind == ONEHOT:
            columns[spec.name] = rng.choice(np.array(spec.categories, dtype=object), CHECK_ROWS)
        position += width
    frame = pd.DataFrame(columns)
    return onnx_inputs(obj, frame), obj.energy(frame)


def load_exportable(path: str | os.PathLike) -> Any:
    """Load a model directory as the object :func:`export_onnx` takes.

    A ``dagmm fit``/``tune`` directory (with a pipeline section) loads as a
    TabularDetector, a bare estimator directory as its class.
    """
    from dagmm import estimators
    from dagmm.persistence import read_model_dir
    from dagmm.workflow.detector import PIPELINE_KEY, TabularDetector

    config, _ = read_model_dir(path)
    if PIPELINE_KEY in config:
        return TabularDetector.load(path, device="cpu")
    name = config.get("class")
    cls = getattr(estimators, str(name), None)
    if cls is None or not isinstance(cls, type):
        raise ExportError(
            f"'{path}' holds a {name!r} model, which has no ONNX exporter; DAGMM, VAEDetector "
            "and `dagmm fit` model directories can be exported"
        )
    return cls.load(path, device="cpu")


def export_onnx(
    obj: Any, path: str | os.PathLike, *, check: bool = True, precise_tanh: bool = True
) -> ExportReport:
    """Write the ONNX scoring graph of a fitted model; with ``check``, compare it to the library.

    Parameters
    ----------
    obj : DAGMM, VAEDetector or TabularDetector
        Fitted.
    path : path-like
        The ``.onnx`` file to write (replaced atomically if it exists).
    check : bool, default=True
        When onnxruntime is installed, score synthetic rows around the
        training data with the graph and with the library before writing,
        and refuse (ExportError) if the energies differ by more than
        :data:`CHECK_TOLERANCE` (:func:`relative_difference`) or a flag differs.
    precise_tanh : bool, default=True
        Evaluate tanh activations in float64 (closer to torch's, a little
        slower); False uses onnxruntime's faster float32 approximation
        (:meth:`dagmm.export._graph.GraphBuilder.tanh`).

    Returns
    -------
    ExportReport

    Raises
    ------
    ExportError
        If the model is not fitted, uses something ONNX cannot express (a
        custom activation, hashed columns), or fails the check.
    """
    out = Path(path)
    if out.is_dir():
        raise ExportError(f"--out '{out}' is a directory; give the path of the .onnx file to write")
    if not out.parent.is_dir():
        raise ExportError(f"--out '{out}': the folder '{out.parent}' does not exist")
    model, report = to_onnx_model(obj, precise_tanh=precise_tanh)
    data = model.SerializeToString()
    if check:
        try:
            import onnxruntime
        except ImportError:
            onnxruntime = None
        if onnxruntime is not None:
            session = onnxruntime.InferenceSession(data, providers=["CPUExecutionProvider"])
            feeds, expected = _check_rows(obj, np.random.default_rng(0))
            energy, flags = session.run(["energy", "is_anomaly"], feeds)
            report.checked_rows = len(expected)
            report.max_relative_difference = relative_difference(energy, expected)
            threshold = float(obj.threshold_)
            near = np.abs(expected - threshold) <= CHECK_TOLERANCE * max(abs(threshold), 1.0)
            report.flags_agree = bool(np.all((flags == (expected > threshold)) | near))
            if report.max_relative_difference > CHECK_TOLERANCE or not report.flags_agree:
                raise ExportError(
                    f"the exported graph does not reproduce the library's energies: largest "
                    f"relative difference {report.max_relative_difference:.2e} on "
                    f"{report.checked_rows} synthetic rows (tolerance {CHECK_TOLERANCE:g}); "
                    "nothing was written. Please report this with the model"
                )
    report.path = atomic_write(out, data)
    return report
