"""n_jobs: the torch thread count of a fit or a scoring, chosen from the work size by default."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dagmm import DAGMM, VAEDetector
from dagmm.estimators import _base
from dagmm.estimators._base import WORK_PER_THREAD, auto_threads, resolve_threads, torch_threads


@pytest.fixture
def four_threads():
    before = torch.get_num_threads()
    torch.set_num_threads(4)
    yield
    torch.set_num_threads(before)


def test_small_minibatches_get_one_thread(four_threads):
    assert auto_threads(1024, 118) == 1  # the KDDCUP network's minibatch
    assert auto_threads(64, 30) == 1
    assert auto_threads(4 * WORK_PER_THREAD, 2) == 4  # large work: up to torch's setting
    assert auto_threads(100 * WORK_PER_THREAD, 1) == 4  # never more than torch's setting


def test_resolve_threads():
    assert resolve_threads(3, 10, 10) == 3
    assert resolve_threads(-1, 10, 10) >= 1
    assert resolve_threads(None, 10, 10) == 1


def test_torch_threads_restores_the_callers_setting(four_threads):
    with torch_threads(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == 4
    with pytest.raises(RuntimeError), torch_threads(2):
        raise RuntimeError("boom")
    assert torch.get_num_threads() == 4


@pytest.mark.parametrize("cls", [DAGMM, VAEDetector])
def test_fit_and_score_use_n_jobs_and_restore_threads(cls, four_threads, monkeypatch):
    seen = []
    real = _base.torch_threads

    def spy(n):
        seen.append(n)
        return real(n)

    monkeypatch.setattr(_base, "torch_threads", spy)
    X = np.random.default_rng(0).normal(size=(200, 6))
    model = cls(epoch_size=1, minibatch_size=64, random_state=0, n_jobs=2).fit(X)
    model.score_samples(X)
    assert seen and set(seen) == {2}
    assert torch.get_num_threads() == 4
    seen.clear()
    model.set_params(n_jobs=None).score_samples(X)
    assert seen == [1]  # 200 x 6 values: one thread
    assert torch.get_num_threads() == 4


@pytest.mark.parametrize("bad", [0, -2, 1.5, "2"])
def test_bad_n_jobs_is_rejected(bad):
    with pytest.raises(ValueError, match="n_jobs"):
        DAGMM(n_jobs=bad, epoch_size=1).fit(np.zeros((10, 3)) + np.arange(3))


def test_the_same_energies_with_any_thread_count():
    X = np.random.default_rng(1).normal(size=(300, 5))
    one = DAGMM(comp_hiddens=(8, 2), epoch_size=2, random_state=0, n_jobs=1).fit(X)
    two = DAGMM(comp_hiddens=(8, 2), epoch_size=2, random_state=0, n_jobs=2).fit(X)
    np.testing.assert_allclose(one.energy(X), two.energy(X), rtol=1e-4, atol=1e-4)


def test_n_jobs_is_saved_and_the_cli_flag_reaches_the_model(tmp_path):
    from dagmm.workflow import FitOptions, resolve_options

    assert FitOptions(n_jobs=2).model_params()["n_jobs"] == 2
    assert resolve_options({"n_jobs": -1}).n_jobs == -1
    with pytest.raises(ValueError, match=r"'n_jobs' parameter of DAGMM .* Got 0 instead"):
        resolve_options({"n_jobs": 0})
    X = np.random.default_rng(0).normal(size=(100, 4))
    model = DAGMM(comp_hiddens=(8, 2), epoch_size=1, n_jobs=3).fit(X)
    assert DAGMM.load(model.save(tmp_path / "m")).n_jobs == 3


def test_cli_threads_sets_n_jobs_of_fit_and_of_scoring(tmp_path, capsys, monkeypatch):
    import pandas as pd

    from dagmm.cli import _shared, main

    rng = np.random.default_rng(0)
    pd.DataFrame({"a": rng.normal(size=200), "b": rng.normal(size=200)}).to_csv(
        tmp_path / "rows.csv", index=False
    )
    args = ["fit", str(tmp_path / "rows.csv"), "--out", str(tmp_path / "m"), "--epochs", "1",
            "--comp-hiddens", "4,2", "--threads", "2", "-q"]  # fmt: skip
    assert main(args) == 0
    assert DAGMM.load(tmp_path / "m").n_jobs == 2
    loaded = []
    real = _shared.model_with_threads

    def spy(model, device, threads):
        detector = real(model, device, threads)
        loaded.append(detector)
        return detector

    monkeypatch.setattr(_shared, "model_with_threads", spy)
    assert main(["score", str(tmp_path / "rows.csv"), "--model", str(tmp_path / "m"),
                 "--out", str(tmp_path / "s.csv"), "--threads", "1", "-q"]) == 0  # fmt: skip
    assert loaded[0].model_.n_jobs == 1
    capsys.readouterr()
