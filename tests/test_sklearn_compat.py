"""scikit-learn's own estimator checks, run over every detector."""

from __future__ import annotations

from sklearn.utils.estimator_checks import parametrize_with_checks

from dagmm import DAGMM, VAEDetector

ESTIMATORS = [
    DAGMM(comp_hiddens=(8, 2), est_hiddens=(6, 2), epoch_size=3, minibatch_size=64, random_state=0),
    # ReLU: after 3 epochs on scikit-learn's toy rows the tanh default's chi-square threshold
    # flags no training row, and check_outliers_train wants both labels from predict.
    VAEDetector(
        encoder_hiddens=(8,),
        latent_dim=3,
        epoch_size=3,
        minibatch_size=64,
        activation="relu",
        random_state=0,
    ),
]


@parametrize_with_checks(ESTIMATORS)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
