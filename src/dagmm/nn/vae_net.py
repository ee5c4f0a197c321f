"""The variational autoencoder network (Kingma and Welling, 2014): tensors in, tensors out.

Sampling is left to the caller (:func:`dagmm.math.vae.reparameterize`), so the
module itself is deterministic and scoring never draws random numbers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import Tensor, nn

from dagmm.nn.layers import MLP

#: Encoder log-variances are clamped to this range so exp() never overflows float32.
ENCODER_LOG_VAR_RANGE = (-30.0, 30.0)

#: Smallest decoder log-variance of the Gaussian likelihood: log(1e-3) in the
#: scaled space (standard deviation ~0.03 of a unit-variance column). Without a
#: floor a constant column drives its variance, and the likelihood, to infinity.
DECODER_LOG_VAR_FLOOR = -6.907755278982137


class VAENetwork(nn.Module):
    """Gaussian encoder with a diagonal covariance, Bernoulli or Gaussian decoder.

    Parameters
    ----------
    in_features : int
    encoder_hiddens : sequence of int
        Hidden widths of the encoder; its last linear layer outputs the
        posterior mean and log-variance (2 x ``latent_dim``).
    latent_dim : int
    decoder_hiddens : sequence of int
        Hidden widths of the decoder; its last linear layer outputs ``in_features``
        logits (Bernoulli) or means (Gaussian).
    activation : callable returning nn.Module
        Factory from :func:`dagmm.nn.layers.resolve_activation`.
    likelihood : {"bernoulli", "gaussian"}
        The Gaussian decoder also learns one log-variance per feature.
    """

    def __init__(
        self,
        in_features: int,
        encoder_hiddens: Sequence[int],
        latent_dim: int,
        decoder_hiddens: Sequence[int],
        activation: Callable[[], nn.Module],
        likelihood: str,
    ) -> None:
        super().__init__()
        self.latent_dim = int(latent_dim)
        self.likelihood = likelihood
        self.encoder = MLP(in_features, [*encoder_hiddens, 2 * latent_dim], activation)
        self.decoder = MLP(latent_dim, [*decoder_hiddens, in_features], activation)
        if likelihood == "gaussian":
            self.decoder_log_var = nn.Parameter(torch.zeros(in_features))
        else:
            self.register_parameter("decoder_log_var", None)

    def encode(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """Posterior mean and log-variance, each (N, latent_dim)."""
        mean, log_var = self.encoder(x).chunk(2, dim=1)  # N x L, N x L
        return mean, log_var.clamp(*ENCODER_LOG_VAR_RANGE)

    def decode(self, z: Tensor) -> Tensor:
        """Decoder output (N, D): Bernoulli logits or Gaussian means."""
        return self.decoder(z)

    def output_log_var(self) -> Tensor | None:
        """Per-feature decoder log-variances (D,) of the Gaussian likelihood, floored."""
        if self.decoder_log_var is None:
            return None
        return self.decoder_log_var.clamp(min=DECODER_LOG_VAR_FLOOR)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """Posterior mean and log-variance (the deterministic part of the model)."""
        return self.encode(x)
