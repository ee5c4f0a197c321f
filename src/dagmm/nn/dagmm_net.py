"""The DAGMM networks (Zong et al., 2018, section 3): compression and estimation."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import Tensor, nn

from dagmm.math.reconstruction import DEFAULT_RECONSTRUCTION_FEATURES, reconstruction_features
from dagmm.nn.layers import MLP


class CompressionNetwork(nn.Module):
    """Deep autoencoder; the decoder mirrors the encoder.

    Parameters
    ----------
    in_features : int
    hiddens : sequence of int
        Encoder widths; the last is the latent size. The decoder runs through
        the same widths in reverse back to ``in_features``.
    activation : callable returning nn.Module
    """

    def __init__(
        self, in_features: int, hiddens: Sequence[int], activation: Callable[[], nn.Module]
    ) -> None:
        super().__init__()
        self.encoder = MLP(in_features, hiddens, activation)
        self.decoder = MLP(hiddens[-1], [*reversed(hiddens[:-1]), in_features], activation)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """Return the latent code (N, latent) and the reconstruction (N, D)."""
        code = self.encoder(x)
        return code, self.decoder(code)


class EstimationNetwork(nn.Module):
    """MLP with dropout and a softmax over the mixture components.

    Parameters
    ----------
    in_features : int
        Latent size plus 2 reconstruction features.
    hiddens : sequence of int
        Layer widths; the last is the number of mixture components K.
    activation : callable returning nn.Module
    dropout : float
    """

    def __init__(
        self,
        in_features: int,
        hiddens: Sequence[int],
        activation: Callable[[], nn.Module],
        dropout: float,
    ) -> None:
        super().__init__()
        self.mlp = MLP(in_features, hiddens, activation, dropout=dropout)

    def forward(self, z: Tensor) -> Tensor:
        """Return the soft memberships gamma, shape (N, K)."""
        return self.mlp(z).softmax(dim=1)


class DAGMMNetwork(nn.Module):
    """Compression network plus estimation network.

    ``forward`` returns ``(x_hat, z, gamma)``: reconstruction (N, D), GMM input
    z = [latent code, reconstruction features] (N, latent + F; by default the
    paper's relative distance and cosine, F = 2) and memberships (N, K).
    """

    def __init__(
        self,
        in_features: int,
        comp_hiddens: Sequence[int],
        comp_activation: Callable[[], nn.Module],
        est_hiddens: Sequence[int],
        est_activation: Callable[[], nn.Module],
        est_dropout: float,
        features: Sequence[str] = DEFAULT_RECONSTRUCTION_FEATURES,
    ) -> None:
        super().__init__()
        self.features = tuple(features)
        self.compression = CompressionNetwork(in_features, comp_hiddens, comp_activation)
        self.estimation = EstimationNetwork(
            comp_hiddens[-1] + len(self.features), est_hiddens, est_activation, est_dropout
        )

    def embed(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """Return the reconstruction (N, D) and the GMM input z (N, latent + F)."""
        code, x_hat = self.compression(x)
        z = torch.cat([code, reconstruction_features(x, x_hat, self.features)], dim=1)  # N x (L + F)
        return x_hat, z

    def scoring_embed(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """As :meth:`embed`, with the reconstruction features computed in float64.

        Returns the reconstruction (N, D) and z (N, latent + F) in float64.
        Scoring and the frozen mixture use this: a mixture component is often
        very narrow along a reconstruction feature (the cosine similarity of
        good reconstructions varies by ~1e-3), and the float32 rounding of the
        norms was then amplified by its precision into energy differences of
        ~6e-4 relative (KDDCUP-sized network, measured against a float64
        evaluation of the same network); from float32 inputs and
        reconstructions in float64 it is ~7e-6.
        """
        code, x_hat = self.compression(x)
        features = reconstruction_features(x.double(), x_hat.double(), self.features)
        return x_hat, torch.cat([code.double(), features], dim=1)  # N x (L + F)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        x_hat, z = self.embed(x)
        return x_hat, z, self.estimation(z)

