"""Neural-network building blocks (tensors in, tensors out; no fitting logic)."""

from dagmm.nn.dagmm_net import CompressionNetwork, DAGMMNetwork, EstimationNetwork
from dagmm.nn.layers import MLP, activation_name, resolve_activation

__all__ = [
    "MLP",
    "CompressionNetwork",
    "DAGMMNetwork",
    "EstimationNetwork",
    "activation_name",
    "resolve_activation",
]
