"""The DAGMM and VAE networks: shapes, widths, memberships, eval-mode determinism."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from dagmm.nn import CompressionNetwork, DAGMMNetwork, EstimationNetwork
from dagmm.nn.vae_net import DECODER_LOG_VAR_FLOOR, ENCODER_LOG_VAR_RANGE, VAENetwork


def _widths(mlp: nn.Sequential) -> list[tuple[int, int]]:
    return [(layer.in_features, layer.out_features) for layer in mlp if isinstance(layer, nn.Linear)]


def _net(features=("relative", "cosine"), dropout=0.5) -> DAGMMNetwork:
    torch.manual_seed(0)
    return DAGMMNetwork(
        in_features=9,
        comp_hiddens=(6, 4, 2),
        comp_activation=nn.Tanh,
        est_hiddens=(5, 3),
        est_activation=nn.Tanh,
        est_dropout=dropout,
        features=features,
    )


def test_compression_decoder_mirrors_the_encoder():
    network = CompressionNetwork(9, (6, 4, 2), nn.Tanh)
    assert _widths(network.encoder) == [(9, 6), (6, 4), (4, 2)]
    assert _widths(network.decoder) == [(2, 4), (4, 6), (6, 9)]
    code, x_hat = network(torch.randn(7, 9))
    assert code.shape == (7, 2) and x_hat.shape == (7, 9)


def test_compression_output_layers_are_linear():
    network = CompressionNetwork(5, (3, 1), nn.Sigmoid)
    assert isinstance(network.encoder[-1], nn.Linear) and isinstance(network.decoder[-1], nn.Linear)
    assert not any(isinstance(layer, nn.Dropout) for layer in network.modules())


def test_estimation_memberships_are_a_softmax_over_components():
    network = EstimationNetwork(4, (6, 3), nn.Tanh, dropout=0.0)
    gamma = network(torch.randn(10, 4) * 5)
    assert gamma.shape == (10, 3)
    assert bool((gamma > 0).all())
    torch.testing.assert_close(gamma.sum(dim=1), torch.ones(10))


@pytest.mark.parametrize(
    ("features", "z_width"),
    [(("relative", "cosine"), 4), (("euclidean",), 3), (("relative", "cosine", "euclidean"), 5)],
)
def test_dagmm_network_shapes_follow_the_reconstruction_features(features, z_width):
    network = _net(features).eval()
    assert _widths(network.estimation.mlp) == [(z_width, 5), (5, 3)]
    x = torch.randn(8, 9)
    x_hat, z, gamma = network(x)
    assert x_hat.shape == (8, 9) and z.shape == (8, z_width) and gamma.shape == (8, 3)
    code, reconstruction = network.compression(x)
    torch.testing.assert_close(z[:, :2], code)  # z starts with the latent code
    torch.testing.assert_close(x_hat, reconstruction)


def test_scoring_embed_is_embed_in_float64():
    network = _net().eval()
    x = torch.rand(6, 9)
    x_hat, z = network.embed(x)
    x_hat64, z64 = network.scoring_embed(x)
    assert z64.dtype == torch.float64 and z.dtype == torch.float32
    torch.testing.assert_close(x_hat64, x_hat)
    torch.testing.assert_close(z64, z.double(), rtol=1e-5, atol=1e-6)


def test_estimation_dropout_only_in_train_mode():
    network = _net(dropout=0.5)
    x = torch.randn(32, 9)
    network.train()
    assert not torch.equal(network(x)[2], network(x)[2])
    network.eval()
    first, second = network(x), network(x)
    for a, b in zip(first, second, strict=True):
        assert torch.equal(a, b)


def test_eval_mode_scores_each_row_independently_of_the_others():
    network = _net().eval()
    x = torch.randn(20, 9)
    with torch.no_grad():
        whole = network(x)[2]
        part = network(x[5:9])[2]
    torch.testing.assert_close(part, whole[5:9])


# --------------------------------------------------------------------- VAE


@pytest.mark.parametrize("likelihood", ["bernoulli", "gaussian"])
def test_vae_widths_and_shapes(likelihood):
    network = VAENetwork(10, (8, 6), 3, (6, 8), nn.ReLU, likelihood)
    assert _widths(network.encoder) == [(10, 8), (8, 6), (6, 6)]  # last: mean and log-variance
    assert _widths(network.decoder) == [(3, 6), (6, 8), (8, 10)]
    x = torch.randn(5, 10)
    mean, log_var = network(x)
    assert mean.shape == log_var.shape == (5, 3)
    assert network.decode(mean).shape == (5, 10)


def test_vae_encoder_output_is_split_into_mean_and_log_variance():
    network = VAENetwork(4, (), 2, (), nn.Tanh, "bernoulli")
    x = torch.randn(3, 4)
    mean, log_var = network.encode(x)
    raw = network.encoder(x)
    torch.testing.assert_close(mean, raw[:, :2])
    torch.testing.assert_close(log_var, raw[:, 2:])


def test_vae_encoder_log_variance_is_clamped():
    network = VAENetwork(4, (), 2, (), nn.Tanh, "bernoulli")
    with torch.no_grad():
        network.encoder[0].weight.zero_()
        network.encoder[0].bias.copy_(torch.tensor([0.0, 0.0, 1e4, -1e4]))
    _, log_var = network.encode(torch.zeros(1, 4))
    assert log_var.tolist() == [[ENCODER_LOG_VAR_RANGE[1], ENCODER_LOG_VAR_RANGE[0]]]
    assert math.isfinite(log_var.exp().max().item())


def test_vae_decoder_log_variance_only_for_gaussian_and_floored():
    assert VAENetwork(4, (3,), 2, (3,), nn.Tanh, "bernoulli").output_log_var() is None
    network = VAENetwork(4, (3,), 2, (3,), nn.Tanh, "gaussian")
    assert network.decoder_log_var.shape == (4,)
    assert "decoder_log_var" in dict(network.named_parameters())
    with torch.no_grad():
        network.decoder_log_var.copy_(torch.tensor([-50.0, -1.0, 0.0, 2.0]))
    assert network.output_log_var().tolist() == pytest.approx([DECODER_LOG_VAR_FLOOR, -1, 0, 2])


def test_vae_network_is_deterministic():
    network = VAENetwork(6, (4,), 2, (4,), nn.Tanh, "gaussian")
    x = torch.randn(5, 6)
    assert all(torch.equal(a, b) for a, b in zip(network(x), network(x), strict=True))
