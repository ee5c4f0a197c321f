"""Two-step baselines of the paper: PAE and PAE-GMM.

* :class:`AutoencoderDetector` (``pae``): DAGMM's compression network trained
  alone to reconstruct its input; the energy of a row is its squared
  reconstruction error.
* :class:`AutoencoderGMMDetector` (``pae-gmm``): the same autoencoder, then a
  separately fitted :class:`sklearn.mixture.GaussianMixture` (EM) on the
  latent code plus the two reconstruction features of DAGMM (relative
  Euclidean distance, cosine similarity); the energy is the negative
  log-likelihood under that mixture. This is the decoupled training that DAGMM
  replaces with joint training (the paper's PAE-GMM-EM baseline).

Both are plain benchmark baselines: no input validation beyond what numpy and
torch do, no persistence. They train with the library's
:class:`~dagmm.training.TrainingLoop` (eager, no early stopping) and resolve
``device`` as the estimators do. Randomness is local: weights are initialised
inside :func:`torch.random.fork_rng` and batches are shuffled by a generator
derived from ``random_state``, so global RNG state is neither read nor changed.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from numpy.typing import ArrayLike, NDArray
from sklearn.mixture import GaussianMixture
from torch import Tensor

from dagmm.estimators import resolve_device
from dagmm.exceptions import CovarianceError
from dagmm.math import reconstruction_features
from dagmm.nn import CompressionNetwork, resolve_activation
from dagmm.training import StepOutput, TrainingLoop

__all__ = ["AutoencoderDetector", "AutoencoderGMMDetector", "fit_gaussian_mixture"]

#: Rows per forward pass when scoring (memory bound only; results do not depend on it).
_SCORING_BATCH = 16_384


def fit_gaussian_mixture(mixture: GaussianMixture, Z: NDArray[np.float64]) -> GaussianMixture:
    """Fit ``mixture`` on ``Z``; a singular covariance raises :class:`CovarianceError`.

    scikit-learn reports a failed Cholesky factor as a bare ``ValueError``; the
    benchmark records that as a failed run rather than a crash.
    """
    try:
        return mixture.fit(Z)
    except ValueError as error:
        if "covariance" not in str(error):
            raise
        raise CovarianceError(
            f"GaussianMixture(n_components={mixture.n_components}) failed on "
            f"{Z.shape[0]} rows x {Z.shape[1]} features: {error}"
        ) from error


class AutoencoderDetector:
    """Deep autoencoder scored by reconstruction error (the paper's PAE).

    Parameters
    ----------
    hiddens : tuple of int
        Encoder widths; the last is the code size. The decoder mirrors them.
    activation : str, default="tanh"
        Activation between layers (the code and output layers are linear).
    epochs : int, default=100
    batch_size : int, default=1024
    learning_rate : float, default=1e-4
        Adam learning rate.
    device : str, default="auto"
        ``"auto"`` picks CUDA when available.
    random_state : int, default=0
        Seeds weight initialisation and shuffling.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.random.default_rng(0).normal(size=(64, 5))
    >>> detector = AutoencoderDetector(hiddens=(3, 1), epochs=2, batch_size=32).fit(X)
    >>> detector.energy(X).shape
    (64,)
    """

    def __init__(
        self,
        hiddens: tuple[int, ...],
        activation: str = "tanh",
        epochs: int = 100,
        batch_size: int = 1024,
        learning_rate: float = 1e-4,
        device: str = "auto",
        random_state: int = 0,
    ) -> None:
        self.hiddens = hiddens
        self.activation = activation
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.device = device
        self.random_state = random_state

    def get_params(self) -> dict[str, Any]:
        """Constructor parameters, JSON-ready."""
        return {
            "hiddens": list(self.hiddens),
            "activation": self.activation,
            "epochs": self.epochs,
            "batch_size": self.batch_size,
            "learning_rate": self.learning_rate,
            "device": self.device,
            "random_state": self.random_state,
        }

    def fit(self, X: ArrayLike) -> AutoencoderDetector:
        """Train the autoencoder on ``X`` of shape (n_samples, n_features)."""
        device = resolve_device(self.device)
        data = torch.as_tensor(np.asarray(X, dtype=np.float32), device=device)  # (N, D)
        # One generator for shuffling, another (through fork_rng) for initial weights.
        shuffler = torch.Generator().manual_seed(self.random_state)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.random_state)
            module = CompressionNetwork(
                data.shape[1], tuple(self.hiddens), resolve_activation(self.activation)
            ).to(device)
        no_terms = torch.zeros(0, device=device)
        no_failures = torch.zeros((), dtype=torch.int64, device=device)

        def loss(batch: Tensor) -> StepOutput:
            _, reconstruction = module(batch)  # (B, D)
            error = (reconstruction - batch).square().sum(dim=1).mean()  # squared error per row
            return StepOutput(error, no_terms, no_failures)

        loop = TrainingLoop(
            module=module,
            optimizer=torch.optim.Adam(module.parameters(), lr=self.learning_rate),
            loss=loss,
            term_names=(),
            batch_size=self.batch_size,
            generator=shuffler,
            divergence_hint=(
                f"{type(self).__name__}: lower learning_rate or check the input scaling."
            ),
            description=type(self).__name__,
        )
        self.loss_history_: list[float] = loop.run(data, self.epochs)["loss"]
        self.module_ = module
        self.device_ = device
        return self

    @torch.no_grad()
    def _map(self, X: ArrayLike, function: Any) -> NDArray[np.float64]:
        values = np.asarray(X, dtype=np.float32)  # (N, D)
        chunks = []
        for start in range(0, values.shape[0], _SCORING_BATCH):
            batch = torch.as_tensor(values[start : start + _SCORING_BATCH], device=self.device_)
            chunks.append(function(batch).double().cpu().numpy())
        return np.concatenate(chunks, axis=0)

    def _energy_batch(self, x: Tensor) -> Tensor:
        _, reconstruction = self.module_(x)  # (B, D)
        return (reconstruction - x).square().sum(dim=1)  # (B,)

    def _features_batch(self, x: Tensor) -> Tensor:
        code, reconstruction = self.module_(x)  # (B, L), (B, D)
        return torch.cat([code, reconstruction_features(x, reconstruction)], dim=1)  # (B, L + 2)

    def energy(self, X: ArrayLike) -> NDArray[np.float64]:
        """Squared reconstruction error ``||x - x'||^2`` of each row, shape (n_samples,)."""
        return self._map(X, self._energy_batch)

    def features(self, X: ArrayLike) -> NDArray[np.float64]:
        """Latent code plus relative distance and cosine similarity, shape (n_samples, L + 2)."""
        return self._map(X, self._features_batch)


class AutoencoderGMMDetector:
    """Autoencoder, then a Gaussian mixture fitted by EM on its features (PAE-GMM).

    Parameters
    ----------
    n_components : int
        Mixture components K.
    reg_covar : float, default=1e-6
        Added to the covariance diagonals (as in DAGMM).
    **autoencoder_params
        Passed to :class:`AutoencoderDetector` (``hiddens``, ``epochs``, ...,
        ``random_state``, which also seeds the mixture's initialisation).
    """

    def __init__(self, n_components: int, reg_covar: float = 1e-6, **autoencoder_params: Any):
        self.n_components = n_components
        self.reg_covar = reg_covar
        self.autoencoder = AutoencoderDetector(**autoencoder_params)

    def get_params(self) -> dict[str, Any]:
        """Constructor parameters, JSON-ready."""
        return {
            "n_components": self.n_components,
            "reg_covar": self.reg_covar,
            "covariance_type": "full",
            **self.autoencoder.get_params(),
        }

    def fit(self, X: ArrayLike) -> AutoencoderGMMDetector:
        """Train the autoencoder, then fit the mixture on its training features."""
        self.autoencoder.fit(X)
        self.mixture_ = fit_gaussian_mixture(
            GaussianMixture(
                n_components=self.n_components,
                covariance_type="full",
                reg_covar=self.reg_covar,
                random_state=self.autoencoder.random_state,
            ),
            self.autoencoder.features(X),
        )
        return self

    def energy(self, X: ArrayLike) -> NDArray[np.float64]:
        """Negative log-likelihood of each row's features, shape (n_samples,)."""
        return -self.mixture_.score_samples(self.autoencoder.features(X))
