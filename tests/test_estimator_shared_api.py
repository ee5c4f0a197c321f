"""What DAGMM and VAEDetector share for the layers above them: thresholds, presets, extras."""

from __future__ import annotations

import numpy as np
import pytest

from dagmm import DAGMM, VAEDetector
from dagmm.benchmark.presets import PAPER_PRESETS, PRESETS
from dagmm.estimators._base import BaseDeepDetector
from dagmm.estimators.presets import VAE_PRESETS
from dagmm.exceptions import ModelFileError

TINY = {
    DAGMM: dict(comp_hiddens=(6, 2), est_hiddens=(4, 2), epoch_size=1, random_state=0),
    VAEDetector: dict(encoder_hiddens=(8,), latent_dim=2, epoch_size=1, random_state=0),
}
DETECTORS = list(TINY)


@pytest.fixture(scope="module")
def data() -> np.ndarray:
    return np.random.default_rng(0).normal(size=(150, 4))


@pytest.fixture(scope="module", params=DETECTORS, ids=lambda cls: cls.__name__)
def fitted(request, data):
    return request.param(**TINY[request.param], contamination=0.1).fit(data)


def test_set_threshold_from_energies_is_what_fit_does(fitted, data):
    energies = fitted.energy(data)
    fit_threshold = fitted.threshold_
    assert fitted.set_threshold(energies=energies).threshold_ == fit_threshold
    assert fitted.offset_ == -fit_threshold
    fitted.set_threshold(energies=energies, contamination=0.2)
    assert np.mean(energies > fitted.threshold_) == pytest.approx(0.2, abs=0.01)
    fitted.set_threshold(np.float32(1.5))
    assert (fitted.threshold_, fitted.offset_) == (1.5, -1.5)
    np.testing.assert_array_equal(fitted.predict(data), np.where(energies > 1.5, -1, 1))
    fitted.set_threshold(energies=energies)  # back to the fitted threshold


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        ((), {}, "not neither"),
        ((1.0,), {"energies": [1.0]}, "not both"),
        ((1.0,), {"contamination": 0.1}, r"contamination=0.1 applies to energies"),
        ((float("nan"),), {}, r"threshold=nan is invalid: expected a finite number"),
        (("x",), {}, r"threshold='x' is invalid"),
        ((), {"energies": [1.0], "contamination": 0.9}, r"contamination=0.9 is invalid"),
        ((), {"energies": []}, "energies must be a non-empty array of finite numbers"),
    ],
)
def test_set_threshold_rejects_bad_input(fitted, args, kwargs, message):
    with pytest.raises(ValueError, match=message):
        fitted.set_threshold(*args, **kwargs)


def test_set_threshold_needs_a_fraction_for_a_vae_without_contamination(data):
    model = VAEDetector(**TINY[VAEDetector]).fit(data)
    with pytest.raises(ValueError, match=r"VAEDetector\(contamination=None\) sets no fraction"):
        model.set_threshold(energies=model.energy(data))
    assert model.set_threshold(energies=model.energy(data), contamination=0.05).threshold_ > 0


def test_set_threshold_needs_a_fitted_model():
    with pytest.raises(Exception, match="not fitted"):
        DAGMM().set_threshold(1.0)


def test_extras_round_trip_and_generic_load(fitted, tmp_path, data):
    extra = {"pipeline": {"name": "mine", "values": [1, 2]}}
    arrays = {"mine": {"a": np.arange(3.0)}}
    fitted.save(tmp_path / "m", extra_config=extra, extra_arrays=arrays)
    model, config, groups = BaseDeepDetector.load_with_extras(
        tmp_path / "m", config_keys=("pipeline", "absent"), array_groups=("mine",)
    )
    assert type(model) is type(fitted)
    assert config == extra and set(config) == {"pipeline"}
    np.testing.assert_array_equal(groups["mine"]["a"], np.arange(3.0))
    np.testing.assert_array_equal(model.energy(data), fitted.energy(data))
    assert type(fitted).load(tmp_path / "m").threshold_ == fitted.threshold_
    other = DAGMM if isinstance(fitted, VAEDetector) else VAEDetector
    with pytest.raises(ModelFileError):
        other.load(tmp_path / "m")
    with pytest.raises(ValueError, match=r"may not replace the model's own entries \['params'\]"):
        fitted.save(tmp_path / "n", extra_config={"params": {}})


def test_presets_are_reached_the_same_way():
    for name in DAGMM.preset_names():
        expected = {**DAGMM().get_params(), **DAGMM._presets[name]}
        assert DAGMM.from_preset(name).get_params() == expected
    for name, params in PAPER_PRESETS.items():  # the paper's figures, unchanged
        made = DAGMM.from_preset(f"paper-{name}").get_params()
        assert {key: made[key] for key in params} == dict(params)
    assert dict(PAPER_PRESETS["kddcup"]) == {
        "comp_activation": "tanh", "est_activation": "tanh", "est_dropout_ratio": 0.5,
        "learning_rate": 1e-4, "lambda1": 0.1, "lambda2": 0.005,
        "reconstruction_features": ("relative", "cosine"), "reconstruction": "sum",
        "mixture": "network", "reg_covar": 1e-6, "comp_hiddens": (60, 30, 10, 1),
        "est_hiddens": (10, 4), "epoch_size": 200, "minibatch_size": 1024,
    }  # fmt: skip
    assert DAGMM.from_preset("thyroid", random_state=3).random_state == 3
    assert dict(PRESETS["thyroid"])["epoch_size"] == 1500
    assert set(VAEDetector.preset_names()) == set(VAE_PRESETS)
    for cls in (DAGMM, VAEDetector):
        with pytest.raises(ValueError, match=rf"unknown {cls.__name__} preset 'nope': expected"):
            cls.from_preset("nope")


@pytest.mark.parametrize("cls", DETECTORS, ids=lambda cls: cls.__name__)
def test_check_params_is_what_fit_rejects(cls):
    assert cls().check_params() is not None
    with pytest.raises(ValueError, match="'epoch_size' parameter"):
        cls(epoch_size=-1).check_params()
    with pytest.raises(ValueError, match="'random_state' parameter"):
        cls(random_state="x").check_params()


def test_both_detectors_take_widths_contamination_and_seeds_alike(data):
    # None widths and minibatch sizes are chosen from the data by estimators/widths.py.
    vae = VAEDetector(minibatch_size=None, encoder_hiddens=(8,), latent_dim=2, epoch_size=1,
                      random_state=0).fit(data)  # fmt: skip
    again = VAEDetector(minibatch_size=64, encoder_hiddens=(8,), latent_dim=2, epoch_size=1,
                        random_state=0).fit(data)  # fmt: skip
    np.testing.assert_array_equal(vae.energy(data), again.energy(data))  # 150 rows -> 64
    for cls in DETECTORS:
        with pytest.raises(ValueError, match="'contamination' parameter"):
            cls(contamination=0.7).check_params()
