"""Neural-network building blocks (tensors in, tensors out; no fitting logic)."""

from dagmm.nn.dagmm_net import CompressionNetwork, DAGMMNetwork, EstimationNetwork
from dagmm.nn.layers import MLP, activation_name, resolve_activation
from dagmm.nn.vae_net import ENCODER_LOG_VAR_RANGE

__all__ = [
    "ENCODER_LOG_VAR_RANGE",
    "MLP",
    "CompressionNetwork",
    "DAGMMNetwork",
    "EstimationNetwork",
    "activation_name",
    "resolve_activation",
]
