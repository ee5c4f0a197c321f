"""The DAGMM estimator (Zong et al., ICLR 2018) with a scikit-learn outlier API."""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Mapping, Sequence
from numbers import Integral, Real
from typing import Any, ClassVar, TypeVar

import numpy as np
import torch
from sklearn.base import TransformerMixin
from sklearn.mixture import GaussianMixture
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted
from torch import Tensor

from dagmm.estimators._base import SCORING_CHUNK_ROWS, BaseDeepDetector, data_parallel_group
from dagmm.estimators.presets import DAGMM_PRESETS
from dagmm.estimators.widths import check_widths, default_comp_hiddens, default_minibatch_size
from dagmm.exceptions import CovarianceError, ModelFileError
from dagmm.math.gmm import (
    cholesky_checked,
    combine_moments,
    gmm_from_moments,
    log_component_densities,
    precision_cholesky,
    sample_energy,
    weighted_moments,
)
from dagmm.math.losses import RECONSTRUCTION_REDUCTIONS, dagmm_objective, reconstruction_error
from dagmm.math.reconstruction import (
    check_reconstruction_features,
    reconstruction_features,
)
from dagmm.nn.dagmm_net import CompressionNetwork, DAGMMNetwork
from dagmm.nn.layers import ActivationSpec, resolve_activation
from dagmm.training import StepOutput, TrainingLoop, maybe_compile, should_compile
from dagmm.training.compile import onednn_mlp

_DIVERGENCE_HINT = (
    "Remedies: lower `learning_rate`, raise `reg_covar` or `lambda2`, use fewer mixture "
    "components (last entry of `est_hiddens`), or scale the input (normalize='standard')."
)


def _gather_rows(rows: Tensor, group: Any) -> Tensor:
    """Every rank's ``rows`` (N_r x d, N_r may differ), concatenated in rank order.

    The EM refit of ``mixture="bic"`` needs all training codes in one place: a
    data-parallel fit then refits on the same rows, in the same order, as a
    one-process fit (N x d float64 on every rank; use ``mixture="network"``
    where that does not fit in memory).
    """
    sizes = [int(n) for n in group.gather_objects(int(rows.shape[0]))]
    padded = rows.new_zeros((max(sizes), rows.shape[1]))
    padded[: rows.shape[0]] = rows
    parts = group.gather_tensors(padded)
    return torch.cat([part[:n].to(rows.device) for part, n in zip(parts, sizes, strict=True)])


#: Mixture estimates after training (``DAGMM(mixture=...)``).
MIXTURES = ("bic", "network")


def fit_mixture_by_bic(
    z: np.ndarray, max_components: int, reg_covar: float, random_state: int | None
) -> GaussianMixture:
    """Full-covariance Gaussian mixture fitted by EM, K chosen by BIC.

    K = 1, 2, ... up to ``max_components`` is fitted on ``z`` (N x d;
    k-means initialisation, ``reg_covar`` on the diagonals); the search stops
    at the first K whose Bayesian information criterion is not lower than the
    previous one's, or whose covariances have no Cholesky factor, and the
    previous K is kept. Used by :class:`DAGMM` (``mixture="bic"``) and by the
    suite's ``gmm`` baseline on raw features.

    Raises
    ------
    CovarianceError
        Even one component has a singular covariance (raise ``reg_covar``).
    """
    best, best_bic = None, math.inf
    for k in range(1, min(max_components, z.shape[0]) + 1):
        mixture = GaussianMixture(
            n_components=k, covariance_type="full", reg_covar=reg_covar, random_state=random_state
        )
        try:
            mixture.fit(z)
        except ValueError as error:  # scikit-learn's message for a failed Cholesky factor
            if best is None:
                raise CovarianceError(
                    f"a Gaussian fitted to {z.shape[0]} rows x {z.shape[1]} features has a "
                    f"singular covariance ({error}); raise reg_covar"
                ) from error
            break
        bic = float(mixture.bic(z))
        if bic >= best_bic:
            break
        best, best_bic = mixture, bic
    return best


def _energy_from_reconstruction(
    x: Tensor,
    code: Tensor,
    x_hat: Tensor,
    weights: Tensor,
    means: Tensor,
    prec_chol: Tensor,
    features: tuple[str, ...],
) -> Tensor:
    """Sample energy from the compression network's outputs (as ``DAGMMNetwork.scoring_embed``)."""
    extra = reconstruction_features(x.double(), x_hat.double(), features)  # N x F, float64
    z = torch.cat([code.double(), extra], dim=1)  # N x (L + F)
    return sample_energy(z, weights, means, prec_chol)


_Result = TypeVar("_Result")
_Snapshot = TypeVar("_Snapshot")


def _keep_best(
    n_runs: int,
    run: Callable[[int], _Result],
    error_of: Callable[[], float],
    snapshot: Callable[[], _Snapshot],
) -> tuple[_Result, _Snapshot | None, list[float]]:
    """Call ``run(0)`` ... ``run(n_runs - 1)`` and keep the one ``error_of`` scores lowest.

    ``error_of`` is asked right after each run; ``snapshot`` copies the
    trained state of a new best run. Returns the kept run's result, its
    snapshot (None when ``n_runs`` is 1: the state in place is the kept one)
    and every run's error, in order. Used by ``n_init`` (pretrained
    compression networks) and ``n_restarts`` (whole trainings).
    """
    best_error, best_result, best_snapshot, errors = math.inf, None, None, []
    for index in range(n_runs):
        result = run(index)
        error = error_of()
        errors.append(error)
        if error < best_error:
            best_error, best_result = error, result
            if n_runs > 1:
                best_snapshot = snapshot()
    return best_result, best_snapshot, errors  # type: ignore[return-value]


#: Column names of the reconstruction features in :meth:`DAGMM.get_feature_names_out`.
_FEATURE_COLUMN_NAMES = {
    "relative": "relative_distance",
    "cosine": "cosine_similarity",
    "euclidean": "euclidean_distance",
}


class DAGMM(TransformerMixin, BaseDeepDetector):
    """Deep Autoencoding Gaussian Mixture Model for unsupervised anomaly detection.

    A compression network (deep autoencoder) maps each row to a low-dimensional
    code, to which features of the reconstruction error (relative and
    Euclidean distance, cosine similarity) are appended. An estimation network
    predicts soft memberships of that vector in a Gaussian mixture; both are
    trained jointly to minimise reconstruction error + ``lambda1`` x sample
    energy + ``lambda2`` x a penalty on small covariance diagonals. After
    training, the mixture is estimated once from the whole training set and
    frozen (by default refitted by EM, with its number of components chosen
    by BIC: ``mixture``); a row's anomaly score is its sample energy under
    that mixture.

    The defaults suit tables of any width without tuning; the paper's exact
    settings per data set are the benchmark's paper presets
    (:data:`dagmm.benchmark.presets.PAPER_PRESETS`). How the defaults were
    chosen, and what each setting changed on which data: the documentation's
    user guide and benchmarks pages.

    Parameters
    ----------
    comp_hiddens : sequence of int or None, default=None
        Encoder widths; the decoder mirrors them and the last is the latent
        size. None: :func:`default_comp_hiddens` of the input width, a
        latent code of about a third of the input width (the paper uses
        (60, 30, 10, 1) on KDDCUP).
    comp_activation : str, callable or nn.Module class, default="tanh"
        Activation of the compression network (paper: tanh).
    est_hiddens : sequence of int, default=(10, 4)
        Estimation-network widths; the last is the number of mixture
        components K (paper, KDDCUP: (10, 4)).
    est_activation : str, callable or nn.Module class, default="tanh"
        Activation of the estimation network (paper: tanh).
    est_dropout_ratio : float, default=0.5
        Dropout probability in the estimation network during training only
        (paper: 0.5).
    minibatch_size : int or None, default=None
        Rows per training step. None: :func:`default_minibatch_size` of the
        number of training rows, about 32 steps an epoch within [64, 1024]
        (paper: 1024).
    epoch_size : int, default=100
        Number of training epochs (paper, KDDCUP: 200).
    learning_rate : float, default=1e-3
        Adam learning rate (paper: 1e-4).
    lambda1 : float, default=0.01
        Weight of the mean sample energy in the loss (paper: 0.1).
    lambda2 : float, default=1e-5
        Weight of the covariance-diagonal penalty, which keeps covariances
        from collapsing (paper: 0.005). If ``history_`` shows ``cov_penalty``
        x lambda2 far above ``reconstruction``, the autoencoder barely learns:
        lower lambda2 or scale both lambdas down together. Raise it when a
        ``CovarianceError`` reports a singular covariance.
    normalize : bool or {"standard", "minmax"}, default=True
        Column scaling fitted on the training rows: True or "standard"
        (zero mean, unit variance; the reference implementation's default),
        "minmax" (to [0, 1]) or False. Constant columns are left at zero.
    reg_covar : float, default=1e-6
        Added to every covariance diagonal so Cholesky factors exist (the
        reference implementations use 1e-6).
    reconstruction : {"sum", "mean"}, default="sum"
        Per-row squared reconstruction error summed over features (the
        paper's squared L2 norm) or averaged over them (D times smaller,
        which shifts the balance of the loss towards the energy term).
    reconstruction_features : sequence of str, default=("relative", "cosine", "euclidean")
        Features of the reconstruction appended to the latent code to form
        the mixture input: "relative" (||x - x_hat|| / ||x||), "cosine"
        (cosine similarity of x and x_hat), "euclidean" (||x - x_hat||). The
        paper uses the first two. The relative distance divides by the row
        norm, so a row far from the data with a large norm can look well
        reconstructed; "euclidean" does not.
    mixture : {"bic", "network"}, default="bic"
        How the mixture is frozen after training, from the mixture inputs of
        all training rows. "bic": refitted by EM, with K = 1 ...
        ``max_components`` chosen by BIC (:func:`fit_mixture_by_bic`); the
        estimation network then only shapes the code during training, and K
        adapts to the data. "network": from the estimation network's soft
        memberships (the paper; K is the last width of ``est_hiddens``),
        accumulated batch by batch, for data whose codes do not fit in memory
        at once or to reproduce the paper.
    max_components : int, default=8
        Largest K tried when ``mixture="bic"``.
    pretrain_epochs : int, default=0
        Epochs of training the compression network alone on reconstruction
        before end-to-end training (the paper's DAGMM-p variant).
    n_init : int, default=1
        Number of pretraining runs from different initialisations (needs
        ``pretrain_epochs`` > 0). The compression network that reconstructs
        the training rows best continues to end-to-end training, as
        scikit-learn's ``GaussianMixture`` keeps the best of its ``n_init``
        runs. Raise it when some seeds end far worse than others.
    n_restarts : int, default=1
        Number of whole trainings (pretraining, if any, then end-to-end) from
        different initialisations. The one whose compression network
        reconstructs the training rows best at the end is kept, and its
        mixture is frozen. Costs ``n_restarts`` times the training time.
        Unlike ``n_init``, it also catches runs that go wrong during
        end-to-end training, which happens more when unlabelled anomalies
        are left in the training rows; 3 is a good value there.
    contamination : float, default=0.1
        Expected fraction of anomalies in the training rows, in (0, 0.5]:
        ``offset_`` is that percentile of the training scores.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the training rows and stop when
        their loss has not improved by ``tol`` for ``n_iter_no_change``
        epochs; the best epoch's weights are kept. Off by default so that
        epoch schedules are exact.
    validation_fraction : float, default=0.1
    n_iter_no_change : int, default=10
    tol : float, default=1e-4
    compile : bool or "auto", default="auto"
        Compile the training step and the scoring path with
        ``torch.compile``. "auto" compiles when rows x epochs reaches 2e7,
        where compilation pays for itself. Falls back to eager execution with
        a warning where no compiler is available.
    device : str or torch.device, default="auto"
        "auto" uses CUDA when available, else the CPU.
    verbose : int, default=0
        0 is silent; 1 shows a progress bar with the running loss terms.
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, dropout and shuffling. The same integer
        gives the same energies (on the same device). The global torch and
        numpy random states are left untouched.
    n_jobs : int or None, default=None
        CPU threads torch uses while fitting and scoring (the caller's own
        setting is restored afterwards). None picks them from the work size:
        one thread for minibatches below ``WORK_PER_THREAD`` input values
        (rows x features; 1024 x 118 is below it), which on a small or busy
        machine is several times faster than torch's default of every core;
        -1 uses every core.

    Attributes
    ----------
    weights_ : ndarray of shape (K,)
        Mixture weights phi estimated from the whole training set.
    means_ : ndarray of shape (K, d)
        Component means, d = latent size + number of reconstruction features.
    covariances_ : ndarray of shape (K, d, d)
        Component covariances, ``reg_covar`` included: exactly what the
        energy uses.
    precisions_cholesky_ : ndarray of shape (K, d, d)
        Inverse Cholesky factors of ``covariances_``.
    offset_ : float
        ``decision_function = score_samples - offset_``.
    threshold_ : float
        Energy above which :meth:`predict` flags a row (``-offset_``).
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when fitted on a DataFrame with string column names.
    history_ : dict of str to list of float
        Per-epoch means of the loss and its terms.
    n_components_ : int
        Components of the frozen mixture (K).
    module_ : DAGMMNetwork
        The trained networks (in eval mode).
    compiled_ : bool
        Whether training and scoring use ``torch.compile``.

    Examples
    --------
    >>> import numpy as np
    >>> from dagmm import DAGMM
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(500, 5))
    >>> model = DAGMM(comp_hiddens=(8, 2), est_hiddens=(8, 2), epoch_size=5, random_state=0)
    >>> model.fit(X).energy(X[:3]).shape
    (3,)
    >>> set(model.predict(X)) <= {-1, 1}
    True
    """

    _parameter_constraints: ClassVar[dict] = {
        **BaseDeepDetector._parameter_constraints,
        "comp_hiddens": [None, "array-like"],
        "comp_activation": [str, callable],
        "est_hiddens": ["array-like"],
        "est_activation": [str, callable],
        "est_dropout_ratio": [Interval(Real, 0, 1, closed="left")],
        "lambda1": [Interval(Real, 0, None, closed="left")],
        "lambda2": [Interval(Real, 0, None, closed="left")],
        "reg_covar": [Interval(Real, 0, None, closed="left")],
        "reconstruction": [StrOptions(set(RECONSTRUCTION_REDUCTIONS))],
        "reconstruction_features": ["array-like"],
        "pretrain_epochs": [Interval(Integral, 0, None, closed="left")],
        "n_init": [Interval(Integral, 1, None, closed="left")],
        "n_restarts": [Interval(Integral, 1, None, closed="left")],
        "mixture": [StrOptions(set(MIXTURES))],
        "max_components": [Interval(Integral, 1, None, closed="left")],
    }
    _fitted_array_names: ClassVar[tuple[str, ...]] = (
        *BaseDeepDetector._fitted_array_names,
        "weights_",
        "means_",
        "covariances_",
        "precisions_cholesky_",
    )
    _activation_params: ClassVar[tuple[str, ...]] = ("comp_activation", "est_activation")
    _presets: ClassVar[Mapping[str, Mapping[str, Any]]] = DAGMM_PRESETS

    def __init__(
        self,
        comp_hiddens: Sequence[int] | None = None,
        comp_activation: ActivationSpec = "tanh",
        est_hiddens: Sequence[int] = (10, 4),
        est_activation: ActivationSpec = "tanh",
        est_dropout_ratio: float = 0.5,
        minibatch_size: int | None = None,
        epoch_size: int = 100,
        learning_rate: float = 1e-3,
        lambda1: float = 0.01,
        lambda2: float = 1e-5,
        normalize: bool | str = True,
        reg_covar: float = 1e-6,
        reconstruction: str = "sum",
        reconstruction_features: Sequence[str] = ("relative", "cosine", "euclidean"),
        mixture: str = "bic",
        max_components: int = 8,
        pretrain_epochs: int = 0,
        n_init: int = 1,
        n_restarts: int = 1,
        contamination: float = 0.1,
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
        self.comp_hiddens = comp_hiddens
        self.comp_activation = comp_activation
        self.est_hiddens = est_hiddens
        self.est_activation = est_activation
        self.est_dropout_ratio = est_dropout_ratio
        self.minibatch_size = minibatch_size
        self.epoch_size = epoch_size
        self.learning_rate = learning_rate
        self.lambda1 = lambda1
        self.lambda2 = lambda2
        self.normalize = normalize
        self.reg_covar = reg_covar
        self.reconstruction = reconstruction
        self.reconstruction_features = reconstruction_features
        self.mixture = mixture
        self.max_components = max_components
        self.pretrain_epochs = pretrain_epochs
        self.n_init = n_init
        self.n_restarts = n_restarts
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
        comp = default_comp_hiddens(n_features) if self.comp_hiddens is None else self.comp_hiddens
        self._comp_widths = check_widths("comp_hiddens", comp)
        self._est_widths = check_widths("est_hiddens", self.est_hiddens)
        self._comp_act = resolve_activation(self.comp_activation, "comp_activation")
        self._est_act = resolve_activation(self.est_activation, "est_activation")
        self._features = check_reconstruction_features(self.reconstruction_features)
        if self.n_init > 1 and not self.pretrain_epochs:
            raise ValueError(
                f"n_init={self.n_init} needs pretrain_epochs > 0 (got pretrain_epochs="
                f"{self.pretrain_epochs}): the restarts choose among pretrained compression "
                "networks; set pretrain_epochs or n_init=1"
            )

    def _check_fitted_arrays(self) -> None:
        k = self._est_widths[-1]
        if self.mixture == "bic":  # K was chosen by BIC at fit, up to max_components
            k = int(np.shape(self.weights_)[0]) if np.ndim(self.weights_) == 1 else -1
            if not 1 <= k <= int(self.max_components):
                raise ModelFileError(
                    f"weights_ has shape {np.shape(self.weights_)}, expected (K,) with "
                    f"1 <= K <= max_components={self.max_components}"
                )
        latent = self._comp_widths[-1] + len(self._features)
        expected = {
            "weights_": (k,),
            "means_": (k, latent),
            "covariances_": (k, latent, latent),
            "precisions_cholesky_": (k, latent, latent),
        }
        for name, shape in expected.items():
            if getattr(self, name).shape != shape:
                raise ModelFileError(
                    f"{name} has shape {getattr(self, name).shape}, expected {shape} "
                    f"({k} components of a {latent}-dimensional code)"
                )
        if np.any(self.weights_ < 0) or abs(float(self.weights_.sum()) - 1.0) > 1e-3:
            raise ModelFileError("weights_ must be non-negative mixture weights summing to 1")
        for j in range(k):
            try:
                np.linalg.cholesky(self.covariances_[j])
            except np.linalg.LinAlgError:
                raise ModelFileError(
                    f"covariances_[{j}] is not positive definite"
                ) from None
            diagonal = np.diagonal(self.precisions_cholesky_[j])
            if np.any(diagonal <= 0) or np.any(np.triu(self.precisions_cholesky_[j], 1) != 0):
                raise ModelFileError(
                    f"precisions_cholesky_[{j}] is not a lower-triangular Cholesky factor "
                    "with a positive diagonal"
                )

    def _build_module(self, n_features: int) -> DAGMMNetwork:
        return DAGMMNetwork(
            n_features,
            self._comp_widths,
            self._comp_act,
            self._est_widths,
            self._est_act,
            float(self.est_dropout_ratio),
            self._features,
        )

    # ------------------------------------------------------------ training
    def _batch_loss(self, batch: Tensor) -> StepOutput:
        x_hat, z, gamma = self.module_(batch)
        out = dagmm_objective(
            batch,
            x_hat,
            z,
            gamma,
            lambda1=float(self.lambda1),
            lambda2=float(self.lambda2),
            reg_covar=float(self.reg_covar),
            reconstruction=self.reconstruction,
        )
        return StepOutput(out.total, out.terms, out.cholesky_failures)

    def _pretrain_loss(self, batch: Tensor) -> StepOutput:
        _, x_hat = self.module_.compression(batch)
        rec = reconstruction_error(batch, x_hat, self.reconstruction).mean()
        return StepOutput(rec, rec.detach().reshape(1), torch.zeros((), dtype=torch.int64))

    #: ``fit`` inside :func:`dagmm.distributed.data_parallel` trains on all ranks' rows.
    _supports_data_parallel: ClassVar[bool] = True

    def _fit_module(self, data: Tensor, seed: int) -> None:
        group = data_parallel_group(self)
        if group is not None:
            from dagmm.distributed.training import fit_module_sharded

            return fit_module_sharded(self, data, seed, group)
        generator = torch.Generator().manual_seed(seed)
        train, validation = self._holdout_split(data, generator)
        rows = default_minibatch_size(data.shape[0]) if self.minibatch_size is None else None
        batch_size = min(rows or int(self.minibatch_size), train.shape[0])
        epochs_per_run = int(self.epoch_size) + int(self.pretrain_epochs) * int(self.n_init)
        self.compiled_ = should_compile(
            self.compile, train.shape[0], epochs_per_run * int(self.n_restarts)
        )

        def train_run(restart: int) -> dict[str, list[float]]:
            run_seed, run_generator = seed, generator
            if restart:  # a fresh network and shuffling, seeded from (seed, restart)
                run_seed = int(np.random.default_rng([seed, restart]).integers(2**31 - 1))
                torch.manual_seed(run_seed)
                self.module_ = self._build_module(data.shape[1]).to(data.device)
                run_generator = torch.Generator().manual_seed(run_seed)
            label = f"DAGMM {restart + 1}/{self.n_restarts}" if self.n_restarts > 1 else "DAGMM"
            return self._train_once(train, validation, run_generator, batch_size, run_seed, label)

        history, best_module, errors = _keep_best(
            int(self.n_restarts),
            train_run,
            lambda: self._reconstruction_error_of(train),
            lambda: copy.deepcopy(self.module_),
        )
        if best_module is not None:
            self.module_ = best_module
        self.history_ = {**history, "restart_errors": errors}
        self._freeze_mixture(data, seed)

    def _train_once(
        self,
        train: Tensor,
        validation: Tensor | None,
        generator: torch.Generator,
        batch_size: int,
        seed: int,
        label: str = "DAGMM",
    ) -> dict[str, list[float]]:
        """Pretrain (if asked) and train ``self.module_`` end to end; returns the history.

        ``label`` names the run in the progress bars.
        """
        progress = bool(self.verbose)
        history: dict[str, list[float]] = {}
        if self.pretrain_epochs:
            history.update(self._pretrain(train, generator, batch_size, seed))
        loop = TrainingLoop(
            module=self.module_,
            optimizer=torch.optim.Adam(self.module_.parameters(), lr=self.learning_rate),
            loss=self._batch_loss,
            term_names=("reconstruction", "energy", "cov_penalty"),
            batch_size=batch_size,
            generator=generator,
            compile=self.compiled_,
            divergence_hint=_DIVERGENCE_HINT,
            progress=progress,
            description=label,
        )
        history.update(
            loop.run(
                train,
                int(self.epoch_size),
                validation=validation,
                patience=int(self.n_iter_no_change),
                tol=float(self.tol),
            )
        )
        return history

    def _pretrain(
        self, train: Tensor, generator: torch.Generator, batch_size: int, seed: int
    ) -> dict[str, list[float]]:
        """Pretrain ``n_init`` compression networks; keep the best reconstructing one.

        The first run trains the network built by ``fit`` with the main
        shuffling generator (so ``n_init=1`` is plain pretraining); run ``i``
        starts from a network seeded with ``seed + i`` and shuffles with its
        own generator. Returns the kept run's per-epoch losses and every
        run's final reconstruction error of the training rows.
        """

        def pretrain_run(run: int) -> list[float]:
            if run:
                torch.manual_seed(seed + run)
                self.module_.compression = CompressionNetwork(
                    train.shape[1], self._comp_widths, self._comp_act
                ).to(train.device)
            run_generator = generator if run == 0 else torch.Generator().manual_seed(seed + run)
            loop = TrainingLoop(
                module=self.module_,
                optimizer=torch.optim.Adam(
                    self.module_.compression.parameters(), lr=self.learning_rate
                ),
                loss=self._pretrain_loss,
                term_names=("reconstruction",),
                batch_size=batch_size,
                generator=run_generator,
                compile=self.compiled_,
                divergence_hint=_DIVERGENCE_HINT,
                progress=bool(self.verbose),
                description="DAGMM pretraining"
                + (f" {run + 1}/{self.n_init}" if self.n_init > 1 else ""),
            )
            return loop.run(train, int(self.pretrain_epochs))["loss"]

        best_losses, best_network, errors = _keep_best(
            int(self.n_init),
            pretrain_run,
            lambda: self._reconstruction_error_of(train),
            lambda: copy.deepcopy(self.module_.compression),
        )
        if best_network is not None:
            self.module_.compression = best_network
        self.module_.train()
        return {"pretrain_loss": best_losses, "pretrain_init_errors": errors}

    def _reconstruction_error_of(self, data: Tensor) -> float:
        """Mean per-row reconstruction error (``reconstruction`` reduction) of ``data``."""
        compression = self.module_.compression
        compression.eval()
        total = 0.0
        with torch.inference_mode():
            for chunk, rows in self._padded_chunks(data):
                x_hat = compression(chunk)[1][:rows]
                total += float(reconstruction_error(chunk[:rows], x_hat, self.reconstruction).sum())
        compression.train()
        return total / data.shape[0]

    def _freeze_mixture(self, data: Tensor, seed: int | None = None) -> None:
        """Estimate the mixture once from all training rows, batch by batch, in float64.

        Memory stays constant in the number of rows except for the (n, d)
        mixture inputs kept to set the threshold.
        """
        self.module_.eval()
        moments, codes = None, []
        with torch.inference_mode():
            for chunk, rows in self._padded_chunks(data):
                _, z = self.module_.scoring_embed(chunk)  # float64
                gamma = self.module_.estimation(z.float())
                z, gamma = z[:rows], gamma[:rows].double()
                batch_moments = weighted_moments(z, gamma)
                moments = (
                    batch_moments if moments is None else combine_moments(moments, batch_moments)
                )
                codes.append(z)
            group = data_parallel_group(self)
            if group is not None:  # every rank's statistics, merged in rank order
                from dagmm.distributed.training import merge_moments

                moments = merge_moments(moments, group)
            weights, means, covariances = gmm_from_moments(moments, float(self.reg_covar))
            z_all = torch.cat(codes)  # N x d
            if self.mixture == "bic":
                z_em = z_all
                if group is not None:  # every rank refits on all ranks' codes, in rank order
                    z_em = _gather_rows(z_all, group)
                fitted = fit_mixture_by_bic(
                    z_em.cpu().numpy(),
                    int(self.max_components),
                    float(self.reg_covar),
                    self._seed() if seed is None else seed,  # seeds k-means' initialisation
                )
                weights, means, covariances = (
                    # C order, as a saved and loaded model has it: the same layout, the
                    # same rounding in the energy's matrix products.
                    torch.as_tensor(np.ascontiguousarray(array), device=z_all.device)
                    for array in (fitted.weights_, fitted.means_, fitted.covariances_)
                )  # covariances_ include reg_covar, as gmm_from_moments' do
            prec_chol = precision_cholesky(cholesky_checked(covariances))
            train_energy = sample_energy(z_all, weights, means, prec_chol)
        self.weights_ = weights.cpu().numpy()
        self.means_ = means.cpu().numpy()
        self.covariances_ = covariances.cpu().numpy()
        self.precisions_cholesky_ = prec_chol.contiguous().cpu().numpy()
        self._scoring_state_changed()
        self._set_threshold(train_energy.cpu().numpy())

    @property
    def n_components_(self) -> int:
        """Components K of the frozen mixture."""
        check_is_fitted(self, "weights_")
        return int(self.weights_.shape[0])

    # ------------------------------------------------------------- scoring
    def _mixture_tensors(self) -> tuple[Tensor, Tensor, Tensor]:
        if "mixture" not in self._cache:
            self._cache["mixture"] = tuple(
                torch.as_tensor(array, dtype=torch.float64, device=self.device_)
                for array in (self.weights_, self.means_, self.precisions_cholesky_)
            )
        return self._cache["mixture"]

    def _energy_batch(self, x: Tensor) -> Tensor:
        _, z = self.module_.scoring_embed(x)
        return sample_energy(z, *self._mixture_tensors())

    def _compiled_energy_batch(self) -> Callable[[Tensor], Tensor]:
        """Scoring only needs the compression network and the frozen mixture.

        On CPU the compression network runs through oneDNN's fused
        linear+activation kernels (:func:`~dagmm.training.compile.onednn_mlp`)
        and only the rest (reconstruction features, energy) is compiled; where
        that is unavailable, the whole of :meth:`_energy_batch` is compiled.
        """
        compression = self.module_.compression
        encoder = onednn_mlp(compression.encoder, SCORING_CHUNK_ROWS)
        decoder = onednn_mlp(compression.decoder, SCORING_CHUNK_ROWS)
        if encoder is None or decoder is None:
            return super()._compiled_energy_batch()
        mixture = self._mixture_tensors()
        features = self._features
        energy_of = maybe_compile(_energy_from_reconstruction, True, what="scoring")

        def energy(x: Tensor) -> Tensor:
            code = encoder(x)
            return energy_of(x, code, decoder(code), *mixture, features)

        return energy

    def transform(self, X: Any) -> np.ndarray:
        """The mixture input z of each row: latent code, then the reconstruction features.

        Returns
        -------
        ndarray of shape (n_samples, latent + len(reconstruction_features))
            Columns named by :meth:`get_feature_names_out`.
        """
        X = self._validate_score_data(X)
        return self._map_batches(X, lambda x: self.module_.scoring_embed(x)[1])

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Names of the :meth:`transform` columns.

        Returns
        -------
        ndarray of str: ``latent0`` ... ``latent{L-1}``, then one name per
        reconstruction feature (``relative_distance``, ``cosine_similarity``,
        ``euclidean_distance``).
        """
        check_is_fitted(self, "module_")
        features = self.module_.features  # validated at fit
        latent = [f"latent{i}" for i in range(self.means_.shape[1] - len(features))]
        return np.asarray([*latent, *(_FEATURE_COLUMN_NAMES[f] for f in features)], dtype=object)

    def predict_proba_components(self, X: Any) -> np.ndarray:
        """Posterior probability of each frozen mixture component for each row.

        Returns
        -------
        ndarray of shape (n_samples, K)
        """
        X = self._validate_score_data(X)
        weights, means, prec_chol = None, None, None

        def posterior(x: Tensor) -> Tensor:
            weights, means, prec_chol = self._mixture_tensors()
            _, z = self.module_.scoring_embed(x)
            joint = log_component_densities(z, means, prec_chol) + weights.log()
            return (joint - torch.logsumexp(joint, dim=1, keepdim=True)).exp()

        del weights, means, prec_chol
        return self._map_batches(X, posterior)

    def reconstruction_errors(self, X: Any) -> np.ndarray:
        """Squared reconstruction error of each feature (in the scaled space).

        Returns
        -------
        ndarray of shape (n_samples, n_features)
            Rows sum to the per-row reconstruction term of the loss
            (``reconstruction="sum"``).
        """
        X = self._validate_score_data(X)

        def squared_error(x: Tensor) -> Tensor:
            _, x_hat = self.module_.compression(x)
            return (x - x_hat).pow(2)

        return self._map_batches(X, squared_error)
