"""A P-process fit on P shards equals a one-process fit on the same rows in the same order."""

from __future__ import annotations

import numpy as np
import pytest
from _shard_workers import fitted_summary

from dagmm import DAGMM

SMALL = dict(
    comp_hiddens=(8, 1), est_hiddens=(6, 3), minibatch_size=32, epoch_size=3,
    compile=False, device="cpu", random_state=0,
)
# Early stopping, pretraining with two initialisations and two restarts: every
# branch of the training that draws random numbers or decides on losses.
EVERYTHING = dict(
    SMALL, epoch_size=4, early_stopping=True, validation_fraction=0.2, n_iter_no_change=2,
    pretrain_epochs=1, n_init=2, n_restarts=2, random_state=3,
)


def _data() -> np.ndarray:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(150, 5)) * [1.0, 2.0, 0.5, 3.0, 1.0] + [0.0, 5.0, -1.0, 2.0, 0.0]
    return X.astype(np.float32)


def _assert_same_fit(got: dict, want: dict) -> None:
    # float32 networks trained a few steps: rounding differs in the last bits.
    np.testing.assert_allclose(got["energy"], want["energy"], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got["offset"], want["offset"], rtol=1e-5)
    np.testing.assert_allclose(got["weights"], want["weights"], rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(got["means"], want["means"], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got["covariances"], want["covariances"], rtol=1e-4, atol=1e-8)
    np.testing.assert_allclose(got["center"], want["center"], rtol=1e-12)
    np.testing.assert_allclose(got["scale"], want["scale"], rtol=1e-12)
    assert set(got["history"]) == set(want["history"])
    for key in ("loss", "reconstruction", "energy", "cov_penalty", "val_loss", "restart_errors"):
        if key in want["history"]:
            np.testing.assert_allclose(got["history"][key], want["history"][key], rtol=1e-5)


@pytest.mark.parametrize(("world_size", "sizes"), [(2, None), (3, (40, 75, 35))])
def test_sharded_fit_equals_one_process_fit(on_ranks, world_size, sizes):
    X = _data()
    wanted = [fitted_summary(DAGMM(**params).fit(X), X) for params in (SMALL, EVERYTHING)]
    values = np.random.default_rng(1).normal(size=1001)
    values[::7] = values[0]  # ties
    q = np.array([0.0, 0.1, 0.25, 0.5, 0.9, 0.999, 1.0])
    jobs = [
        ("train", {"X": X, "params": SMALL, "sizes": sizes}),
        ("train", {"X": X, "params": EVERYTHING, "sizes": sizes}),
        ("quantiles", {"values": values, "q": q, "sizes": (300, 1, 700) if sizes else None}),
    ]
    results = on_ranks(world_size, "several", {"jobs": jobs})
    for rank_results in results:
        small, everything, quantiles = rank_results
        _assert_same_fit(small, wanted[0])
        _assert_same_fit(everything, wanted[1])
        # Distributed selection is exact: np.quantile bit for bit.
        np.testing.assert_array_equal(quantiles["quantiles"], np.quantile(values, q))
    # Every rank returns the same estimator, bit for bit.
    for other in results[1:]:
        for got, first in zip(other[:2], results[0][:2], strict=True):
            np.testing.assert_array_equal(got["energy"], first["energy"])
            assert got["offset"] == first["offset"]
    assert len(wanted[1]["history"]["restart_errors"]) == 2


def test_data_parallel_needs_a_process_group():
    from dagmm.distributed import data_parallel

    with pytest.raises(RuntimeError, match="init_process_group"):
        with data_parallel():
            pass
