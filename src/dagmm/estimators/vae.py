"""A variational autoencoder outlier detector scored in latent space.

A VAE trained on normal rows maps them close to its standard-normal prior;
rows it never saw land elsewhere in latent space. After training, a Gaussian
is fitted once to the posterior means of the whole training set (with
Ledoit-Wolf shrinkage) and a row's anomaly score is the Mahalanobis distance of
its posterior mean from that Gaussian. The prior distance, the reconstruction
likelihood and the Monte Carlo negative ELBO are available as other scores.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping, Sequence
from numbers import Integral, Real
from typing import Any, ClassVar

import numpy as np
import torch
from sklearn.base import TransformerMixin
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted
from torch import Tensor

from dagmm.estimators._base import BaseDeepDetector, scaling_statistics
from dagmm.estimators.presets import VAE_PRESETS
from dagmm.estimators.widths import check_widths, default_vae_architecture
from dagmm.exceptions import CovarianceError, ModelFileError
from dagmm.math.gmm import combine_moments, precision_cholesky, weighted_moments
from dagmm.math.vae import (
    LIKELIHOODS,
    chi2_distance_quantile,
    kl_to_standard_normal,
    ledoit_wolf_shrinkage,
    log_likelihood,
    mahalanobis_distance,
    negative_elbo,
    reparameterize,
    shrunk_covariance,
)
from dagmm.nn.layers import ActivationSpec, resolve_activation
from dagmm.nn.vae_net import VAENetwork
from dagmm.training import StepOutput, TrainingLoop, should_compile

#: Anomaly scores of :class:`VAEDetector` (all: higher = more anomalous).
SCORES = ("mahalanobis", "prior", "reconstruction", "elbo")

#: Scores that are distances of a code from a Gaussian: their default threshold
#: is a chi-square quantile.
_DISTANCE_SCORES = ("mahalanobis", "prior")

_DIVERGENCE_HINT = (
    "Remedies: lower `learning_rate`, scale the input (normalize='standard'), or use a "
    "smaller `latent_dim`."
)



class VAEDetector(TransformerMixin, BaseDeepDetector):
    """Variational autoencoder outlier detector scored by a latent Mahalanobis distance.

    The encoder outputs a diagonal Gaussian posterior q(z|x); the decoder a
    Bernoulli (values in [0, 1]) or Gaussian likelihood p(x|z). Training
    minimises the negative evidence lower bound, reconstruction + ``beta`` x
    KL(q || N(0, I)), by minibatch Adam with the reparameterisation trick.
    After training, the mean and covariance of the posterior means of the
    whole training set are estimated once (in float64, batch by batch), shrunk
    toward a scaled identity, and frozen; scoring never re-estimates them.

    Parameters
    ----------
    encoder_hiddens : sequence of int or None, default=None
        Hidden widths of the encoder. None: :func:`default_vae_architecture`
        of the input width.
    decoder_hiddens : sequence of int or None, default=None
        Hidden widths of the decoder; None mirrors the encoder.
    latent_dim : int or None, default=None
        Latent size L. None: :func:`default_vae_architecture`.
    activation : str, callable or nn.Module class, default="tanh"
        Activation between layers (output layers are linear). tanh separated
        anomalies in latent space far better than ReLU where both were
        measured; change it only with a reason.
    likelihood : {"auto", "bernoulli", "gaussian"}, default="auto"
        Decoder likelihood. "auto": Bernoulli when every training value lies
        in [0, 1] (and ``normalize`` does not standardise), otherwise a
        Gaussian with one learnt variance per feature on the scaled inputs.
        Continuous features that merely lie in [0, 1] (a min-max scaled
        table) are usually better served by "gaussian"; keep "bernoulli" for
        binary or intensity data such as images.
    beta : float, default=1.0
        Weight of the KL term during training (1 is the true ELBO).
    anomaly_score : {"mahalanobis", "prior", "reconstruction", "elbo"}, default="mahalanobis"
        Anomaly energy, higher = more anomalous (called ``anomaly_score``
        because scikit-learn reserves ``score`` for a method):

        * "mahalanobis": distance of the posterior mean from the training
          posterior means' mean under their shrunk covariance;
        * "prior": distance of the posterior mean from N(0, I), its norm;
        * "reconstruction": negative log-likelihood of the row under the
          decoder at the posterior mean;
        * "elbo": negative evidence lower bound (beta = 1), the expectation
          estimated with ``elbo_samples`` standard-normal draws fixed at fit.
    shrinkage : "auto" or float in [0, 1], default="auto"
        Shrinkage of the latent covariance toward ``trace / L`` x identity:
        "auto" is the Ledoit-Wolf intensity, a number is used as it is.
    reg_covar : float, default=1e-6
        Added to the latent covariance diagonal so its Cholesky factor exists.
    elbo_samples : int, default=10
        Monte Carlo draws of the "elbo" score.
    threshold_quantile : float in (0, 1), default=0.99
        Used when ``contamination`` is None: distance scores are thresholded
        at the distance whose square is this quantile of chi-square with L
        degrees of freedom (what a Gaussian code would exceed with probability
        1 - quantile); "reconstruction" and "elbo" at this quantile of the
        training scores.
    minibatch_size : int or None, default=128
        Rows per training step. None: the rule DAGMM uses
        (:func:`~dagmm.estimators.widths.default_minibatch_size`).
    epoch_size : int, default=100
        Training epochs.
    learning_rate : float, default=1e-3
        Adam learning rate.
    normalize : "auto", bool, "standard" or "minmax", default="auto"
        Column scaling fitted on the training rows. "auto": none for the
        Bernoulli likelihood (values are already in [0, 1]), "standard"
        otherwise. The Bernoulli likelihood cannot be combined with
        "standard" scaling.
    contamination : float in (0, 0.5] or None, default=None
        None: the chi-square rule of ``threshold_quantile``. A number: the
        expected fraction of anomalies in the training rows; ``offset_`` is
        that percentile of the training scores (as :class:`dagmm.DAGMM`).
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the rows and keep the weights of
        the epoch with the lowest validation loss (see :class:`dagmm.DAGMM`).
    validation_fraction : float, default=0.1
    n_iter_no_change : int, default=10
    tol : float, default=1e-4
    compile : bool or "auto", default="auto"
        Compile training and scoring with ``torch.compile`` ("auto": from 2e7
        rows x epochs on).
    device : str or torch.device, default="auto"
    verbose : int, default=0
        1 shows a progress bar with the running loss terms.
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, shuffling, the reparameterisation noise
        and the fixed draws of the "elbo" score. Global random states are left
        untouched.
    n_jobs : int or None, default=None
        CPU threads torch uses while fitting and scoring (the caller's own
        setting is restored afterwards). None picks them from the work size:
        one thread for minibatches below ``WORK_PER_THREAD`` input values
        (rows x features; 1024 x 118 is below it), which on a small or busy
        machine is several times faster than torch's default of every core;
        -1 uses every core.

    Attributes
    ----------
    location_ : ndarray of shape (L,)
        Mean of the training posterior means.
    covariance_ : ndarray of shape (L, L)
        Their shrunk covariance, ``reg_covar`` included: what the distance uses.
    precision_cholesky_ : ndarray of shape (L, L)
        Inverse Cholesky factor of ``covariance_``.
    shrinkage_ : float
        Shrinkage intensity used.
    elbo_noise_ : ndarray of shape (elbo_samples, L)
        Standard-normal draws of the "elbo" score.
    likelihood_ : str
        Decoder likelihood used ("bernoulli" or "gaussian").
    normalize_ : bool or str
        Scaling used.
    latent_dim_ : int
    offset_, threshold_ : float
        ``decision_function = score_samples - offset_``; :meth:`predict` flags
        energies above ``threshold_ = -offset_``.
    history_ : dict of str to list of float
        Per-epoch loss, reconstruction and KL terms.
    module_ : VAENetwork
    n_features_in_, feature_names_in_, compiled_
        As in :class:`dagmm.DAGMM`.

    Examples
    --------
    >>> import numpy as np
    >>> from dagmm import VAEDetector
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(300, 6))
    >>> model = VAEDetector(epoch_size=5, random_state=0).fit(X)
    >>> model.mahalanobis(X[:3]).shape
    (3,)
    >>> model.transform(X).shape
    (300, 32)
    >>> study = VAEDetector.from_preset("mnist", epoch_size=2)
    >>> study.latent_dim, study.likelihood
    (100, 'bernoulli')
    """

    _parameter_constraints: ClassVar[dict] = {
        **BaseDeepDetector._parameter_constraints,
        "encoder_hiddens": [None, "array-like"],
        "decoder_hiddens": [None, "array-like"],
        "latent_dim": [None, Interval(Integral, 1, None, closed="left")],
        "activation": [str, callable],
        "likelihood": [StrOptions({"auto", *LIKELIHOODS})],
        "beta": [Interval(Real, 0, None, closed="left")],
        "anomaly_score": [StrOptions(set(SCORES))],
        "shrinkage": [StrOptions({"auto"}), Interval(Real, 0, 1, closed="both")],
        "reg_covar": [Interval(Real, 0, None, closed="left")],
        "elbo_samples": [Interval(Integral, 1, None, closed="left")],
        "threshold_quantile": [Interval(Real, 0, 1, closed="neither")],
        "normalize": ["boolean", StrOptions({"auto", "standard", "minmax"})],
        "contamination": [None, Interval(Real, 0, 0.5, closed="right")],
    }
    _fitted_array_names: ClassVar[tuple[str, ...]] = (
        *BaseDeepDetector._fitted_array_names,
        "location_",
        "covariance_",
        "precision_cholesky_",
        "elbo_noise_",
    )
    _fitted_scalar_names: ClassVar[tuple[str, ...]] = (
        *BaseDeepDetector._fitted_scalar_names,
        "likelihood_",
        "normalize_",
        "latent_dim_",
        "shrinkage_",
    )
    _activation_params: ClassVar[tuple[str, ...]] = ("activation",)
    _presets: ClassVar[Mapping[str, Mapping[str, Any]]] = VAE_PRESETS

    def __init__(
        self,
        encoder_hiddens: Sequence[int] | None = None,
        decoder_hiddens: Sequence[int] | None = None,
        latent_dim: int | None = None,
        activation: ActivationSpec = "tanh",
        likelihood: str = "auto",
        beta: float = 1.0,
        anomaly_score: str = "mahalanobis",
        shrinkage: str | float = "auto",
        reg_covar: float = 1e-6,
        elbo_samples: int = 10,
        threshold_quantile: float = 0.99,
        minibatch_size: int | None = 128,
        epoch_size: int = 100,
        learning_rate: float = 1e-3,
        normalize: bool | str = "auto",
        contamination: float | None = None,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        n_iter_no_change: int = 10,
        tol: float = 1e-4,
        compile: bool | str = "auto",
        device: str | torch.device = "auto",
        verbose: int = 0,
        random_state: int | np.random.RandomState | None = None,
        n_jobs: int | None = None,
    ) -> None:
        self.encoder_hiddens = encoder_hiddens
        self.decoder_hiddens = decoder_hiddens
        self.latent_dim = latent_dim
        self.activation = activation
        self.likelihood = likelihood
        self.beta = beta
        self.anomaly_score = anomaly_score
        self.shrinkage = shrinkage
        self.reg_covar = reg_covar
        self.elbo_samples = elbo_samples
        self.threshold_quantile = threshold_quantile
        self.minibatch_size = minibatch_size
        self.epoch_size = epoch_size
        self.learning_rate = learning_rate
        self.normalize = normalize
        self.contamination = contamination
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.compile = compile
        self.device = device
        self.verbose = verbose
        self.random_state = random_state
        self.n_jobs = n_jobs

    # ------------------------------------------------------------ building
    def _check_params(self, n_features: int) -> None:
        default_hiddens, default_latent = default_vae_architecture(n_features)
        encoder = default_hiddens if self.encoder_hiddens is None else self.encoder_hiddens
        self._encoder_widths = check_widths("encoder_hiddens", encoder)
        decoder = self.decoder_hiddens
        self._decoder_widths = (
            tuple(reversed(self._encoder_widths))
            if decoder is None
            else check_widths("decoder_hiddens", decoder)
        )
        self._latent = int(default_latent if self.latent_dim is None else self.latent_dim)
        self._activation = resolve_activation(self.activation, "activation")

    def _check_fitted_arrays(self) -> None:
        if self.likelihood_ not in ("bernoulli", "gaussian"):
            raise ModelFileError(
                f"likelihood_ must be 'bernoulli' or 'gaussian', got {self.likelihood_!r}"
            )
        if self.latent_dim_ != self._latent or isinstance(self.latent_dim_, bool):
            raise ModelFileError(
                f"latent_dim_ is {self.latent_dim_!r} but the parameters give {self._latent}"
            )
        shrinkage = self.shrinkage_
        if not isinstance(shrinkage, (int, float)) or not 0 <= shrinkage <= 1:
            raise ModelFileError(f"shrinkage_ must be a number in [0, 1], got {shrinkage!r}")
        latent = self._latent
        expected = {
            "location_": (latent,),
            "covariance_": (latent, latent),
            "precision_cholesky_": (latent, latent),
        }
        for name, shape in expected.items():
            if getattr(self, name).shape != shape:
                raise ModelFileError(f"{name} has shape {getattr(self, name).shape}, expected {shape}")
        if self.elbo_noise_.ndim != 2 or self.elbo_noise_.shape[1] != latent:
            raise ModelFileError(
                f"elbo_noise_ has shape {self.elbo_noise_.shape}, expected (elbo_samples, {latent})"
            )
        try:
            np.linalg.cholesky(self.covariance_)
        except np.linalg.LinAlgError:
            raise ModelFileError("covariance_ is not positive definite") from None
        diagonal = np.diagonal(self.precision_cholesky_)
        if np.any(diagonal <= 0) or np.any(np.triu(self.precision_cholesky_, 1) != 0):
            raise ModelFileError(
                "precision_cholesky_ is not a lower-triangular Cholesky factor with a positive "
                "diagonal"
            )

    def _fit_scaling(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Resolve ``likelihood="auto"`` and ``normalize="auto"`` from the training values."""
        low, high = float(X.min()), float(X.max())
        in_unit_interval = 0.0 <= low and high <= 1.0
        standardises = self.normalize is True or self.normalize == "standard"
        likelihood = self.likelihood
        if likelihood == "auto":
            likelihood = "bernoulli" if in_unit_interval and not standardises else "gaussian"
        normalize = self.normalize
        if normalize == "auto":
            normalize = False if likelihood == "bernoulli" else "standard"
        if likelihood == "bernoulli":
            if standardises:
                raise ValueError(
                    f"likelihood='bernoulli' models values in [0, 1], but normalize={self.normalize!r} "
                    "standardises them to zero mean and unit variance: use normalize='auto', "
                    "'minmax' or False, or likelihood='gaussian'"
                )
            if normalize is False and not in_unit_interval:
                raise ValueError(
                    f"likelihood='bernoulli' needs training values in [0, 1], but they range from "
                    f"{low:g} to {high:g}: use normalize='minmax' or likelihood='gaussian'"
                )
        self.likelihood_, self.normalize_ = likelihood, normalize
        return scaling_statistics(X, normalize)

    def _build_module(self, n_features: int) -> VAENetwork:
        return VAENetwork(
            n_features,
            self._encoder_widths,
            self._latent,
            self._decoder_widths,
            self._activation,
            self.likelihood_,
        )

    # ------------------------------------------------------------ training
    def _batch_loss(self, batch: Tensor) -> StepOutput:
        mean, log_var = self.module_.encode(batch)  # N x L each
        z = reparameterize(mean, log_var, torch.randn_like(mean))  # N x L
        output = self.module_.decode(z)  # N x D
        rec = -log_likelihood(batch, output, self.likelihood_, self.module_.output_log_var())  # N
        kl = kl_to_standard_normal(mean, log_var)  # N
        total = (rec + float(self.beta) * kl).mean()
        terms = torch.stack([rec.mean(), kl.mean()]).detach().double()
        return StepOutput(total, terms, torch.zeros((), dtype=torch.int64, device=batch.device))

    def _fit_module(self, data: Tensor, seed: int) -> None:
        generator = torch.Generator().manual_seed(seed)
        self.latent_dim_ = self._latent
        # Drawn first, so they depend on the seed alone (not on the epochs run).
        self.elbo_noise_ = torch.randn(
            (int(self.elbo_samples), self._latent), generator=generator
        ).numpy()
        train, validation = self._holdout_split(data, generator)
        self.compiled_ = should_compile(self.compile, train.shape[0], int(self.epoch_size))
        loop = TrainingLoop(
            module=self.module_,
            optimizer=torch.optim.Adam(self.module_.parameters(), lr=self.learning_rate),
            loss=self._batch_loss,
            term_names=("reconstruction", "kl"),
            batch_size=self._minibatch_rows(train.shape[0]),
            generator=generator,
            compile=self.compiled_,
            divergence_hint=_DIVERGENCE_HINT,
            progress=bool(self.verbose),
            description="VAE",
        )
        self.history_ = loop.run(
            train,
            int(self.epoch_size),
            validation=validation,
            patience=int(self.n_iter_no_change),
            tol=float(self.tol),
        )
        self._freeze_latent_gaussian(data)

    def _posterior_means(self, data: Tensor) -> Iterator[Tensor]:
        """Posterior means (float64) of the rows of ``data``, chunk by chunk."""
        for chunk, rows in self._padded_chunks(data):
            yield self.module_.encode(chunk)[0][:rows].double()

    def _freeze_latent_gaussian(self, data: Tensor) -> None:
        """Fit the latent Gaussian once from all training rows, then the threshold.

        Two passes over the rows keep memory constant in their number: the
        first accumulates mergeable moments, the second the sum of fourth
        powers of the centred norms that the Ledoit-Wolf intensity needs.
        """
        self.module_.eval()
        with torch.inference_mode():
            moments = None
            for z in self._posterior_means(data):
                ones = torch.ones((z.shape[0], 1), dtype=z.dtype, device=z.device)  # N x 1
                batch = weighted_moments(z, ones)
                moments = batch if moments is None else combine_moments(moments, batch)
            location = moments.mean[0]  # L
            covariance = moments.scatter[0] / moments.n_samples  # L x L, maximum likelihood
            if self.shrinkage == "auto":
                sum_fourth = sum(
                    (z - location).pow(2).sum(dim=1).pow(2).sum()
                    for z in self._posterior_means(data)
                )
                shrinkage = ledoit_wolf_shrinkage(covariance, moments.n_samples, sum_fourth)
            else:
                shrinkage = torch.tensor(
                    float(self.shrinkage), dtype=covariance.dtype, device=covariance.device
                )
            eye = torch.eye(covariance.shape[0], dtype=covariance.dtype, device=covariance.device)
            covariance = shrunk_covariance(covariance, shrinkage) + float(self.reg_covar) * eye
            factor, info = torch.linalg.cholesky_ex(covariance)
            if int(info) != 0 or not bool(torch.isfinite(factor).all()):
                raise CovarianceError(
                    "the covariance of the training codes is not positive definite (Cholesky "
                    "failed), so the Mahalanobis distance is undefined. Remedies: raise "
                    "`reg_covar` or `shrinkage`, or lower `learning_rate`."
                )
            prec_chol = precision_cholesky(factor.unsqueeze(0))[0]  # L x L
        self.location_ = location.cpu().numpy()
        self.covariance_ = covariance.cpu().numpy()
        self.precision_cholesky_ = prec_chol.cpu().numpy()
        self.shrinkage_ = float(shrinkage)
        self._scoring_state_changed()
        self._set_threshold(self._training_energies(data))

    def _training_energies(self, data: Tensor) -> np.ndarray | None:
        """Scores of the training rows, when the threshold needs them."""
        if self.contamination is None and self.anomaly_score in _DISTANCE_SCORES:
            return None
        with torch.inference_mode():
            parts = [self._energy_batch(chunk)[:rows] for chunk, rows in self._padded_chunks(data)]
        return torch.cat(parts).cpu().numpy()

    def _set_threshold(self, train_energy: np.ndarray | None) -> None:
        """Contamination percentile of the training scores, or the chi-square rule."""
        if self.contamination is not None:
            super()._set_threshold(train_energy)
            return
        if self.anomaly_score in _DISTANCE_SCORES:
            threshold = chi2_distance_quantile(float(self.threshold_quantile), self.latent_dim_)
        else:
            threshold = float(np.quantile(train_energy, float(self.threshold_quantile)))
        self.set_threshold(threshold)

    # ------------------------------------------------------------- scoring
    def _latent_tensors(self) -> tuple[Tensor, Tensor, Tensor]:
        if "latent" not in self._cache:
            self._cache["latent"] = (
                torch.as_tensor(self.location_, dtype=torch.float64, device=self.device_),
                torch.as_tensor(self.precision_cholesky_, dtype=torch.float64, device=self.device_),
                torch.as_tensor(self.elbo_noise_, dtype=torch.float32, device=self.device_),
            )
        return self._cache["latent"]

    def _score_batch(self, x: Tensor, score: str) -> Tensor:
        """One of :data:`SCORES` for a scaled batch (N, D) -> (N,), float64."""
        mean, log_var = self.module_.encode(x)  # N x L each
        if score == "mahalanobis":
            location, prec_chol, _ = self._latent_tensors()
            return mahalanobis_distance(mean.double(), location, prec_chol)
        if score == "prior":
            return mean.double().pow(2).sum(dim=1).sqrt()
        output_log_var = self.module_.output_log_var()

        def log_likelihood_of(z: Tensor) -> Tensor:
            return log_likelihood(x, self.module_.decode(z), self.likelihood_, output_log_var)

        if score == "reconstruction":
            return -log_likelihood_of(mean).double()
        noise = self._latent_tensors()[2]
        return negative_elbo(mean, log_var, log_likelihood_of, noise).double()

    def _energy_batch(self, x: Tensor) -> Tensor:
        return self._score_batch(x, self.anomaly_score)

    def energy(self, X: Any, score: str | None = None) -> np.ndarray:
        """Anomaly energy of each row (higher = more anomalous).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        score : {"mahalanobis", "prior", "reconstruction", "elbo"} or None
            None uses ``anomaly_score`` (what :meth:`predict` thresholds);
            another name computes that score from the same fitted model.

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        if score is None or score == self.anomaly_score:
            return super().energy(X)
        if score not in SCORES:
            raise ValueError(f"score={score!r} is unknown: expected one of {list(SCORES)}")
        X = self._validate_score_data(X)
        return self._map_batches(X, functools.partial(self._score_batch, score=score))

    def mahalanobis(self, X: Any) -> np.ndarray:
        """Mahalanobis distance of each row's posterior mean from the training codes' Gaussian.

        The distance itself (not squared), whatever ``anomaly_score`` is, so it can be
        thresholded directly; a Gaussian code exceeds
        :func:`dagmm.math.vae.chi2_distance_quantile` (q, L) with probability 1 - q.

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        return self.energy(X, score="mahalanobis")

    def transform(self, X: Any) -> np.ndarray:
        """Posterior means of the rows: their latent codes.

        Returns
        -------
        ndarray of shape (n_samples, latent_dim_)
        """
        X = self._validate_score_data(X)
        return self._map_batches(X, lambda x: self.module_.encode(x)[0])

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Names of the :meth:`transform` columns: ``latent0`` ... ``latent{L-1}``."""
        check_is_fitted(self, "module_")
        return np.asarray([f"latent{i}" for i in range(int(self.latent_dim_))], dtype=object)
