"""The contract every detector in ``dagmm.__all__`` keeps, proven once for all of them.

The detectors are discovered from ``dagmm.__all__`` (every exported outlier
detector class), so a detector added there is tested here without editing this
file. ``FAST`` may give one a smaller network to keep the tests quick; a
detector without an entry runs with its defaults plus ``SHARED``.

Tests of one estimator's own behaviour (its scores, its mixture or latent
Gaussian, its presets) stay in that estimator's test module.
"""

from __future__ import annotations

import inspect
import json
import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from safetensors.numpy import save_file
from sklearn.base import OutlierMixin, clone
from sklearn.exceptions import NotFittedError
from sklearn.utils.estimator_checks import parametrize_with_checks

import dagmm
from dagmm.exceptions import ModelFileError
from dagmm.persistence import model_dir


def _exported_detectors() -> list[type]:
    found = []
    for name in dagmm.__all__:
        obj = getattr(dagmm, name)
        if inspect.isclass(obj) and issubclass(obj, OutlierMixin):
            found.append(obj)
    return found


DETECTORS = _exported_detectors()

#: Parameters every detector shares: few epochs, small minibatches, a fixed seed.
SHARED = dict(epoch_size=2, minibatch_size=64, random_state=0)
#: Smaller networks than the defaults, by class name (optional for a new detector).
FAST: dict[str, dict] = {
    "DAGMM": dict(comp_hiddens=(8, 2), est_hiddens=(6, 2)),
    "VAEDetector": dict(encoder_hiddens=(8,), latent_dim=2),
}


def make(cls: type, **params):
    """An unfitted ``cls`` with the small test settings, ``params`` overriding them."""
    return cls(**{**SHARED, **FAST.get(cls.__name__, {}), **params})


def _ids(cls: type) -> str:
    return cls.__name__


detector_classes = pytest.mark.parametrize("cls", DETECTORS, ids=_ids)


def _rows(rng: np.random.Generator, centers: np.ndarray, n: int) -> np.ndarray:
    return centers[rng.integers(0, len(centers), n)] + rng.normal(size=(n, centers.shape[1]))


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray]:
    """200 training rows of a 3-cluster mixture in 5-D; 90 test rows, 10 of them far outliers."""
    rng = np.random.default_rng(0)
    centers = rng.normal(scale=4.0, size=(3, 5))
    X_test = np.vstack([_rows(rng, centers, 80), rng.uniform(-12, 12, size=(10, 5))])
    return _rows(rng, centers, 200), X_test


@pytest.fixture(scope="module", params=DETECTORS, ids=_ids)
def fitted(request, data):
    """One fitted detector per class (shared: tests must not change it)."""
    return make(request.param).fit(data[0])


def test_every_exported_detector_is_discovered():
    # The discovery must not go empty silently (then every test here would pass vacuously).
    names = {cls.__name__ for cls in DETECTORS}
    assert {"DAGMM", "VAEDetector"} <= names
    assert set(FAST) <= names, "FAST names a detector that dagmm no longer exports"


# ------------------------------------------------------------ fit and score
def test_fit_score_predict_shapes_and_the_outlier_contract(fitted, data):
    X_train, X_test = data
    n = len(X_test)
    energy = fitted.energy(X_test)
    assert energy.shape == (n,) and energy.dtype == np.float64 and np.isfinite(energy).all()
    assert fitted.n_features_in_ == X_train.shape[1]
    np.testing.assert_array_equal(fitted.score_samples(X_test), -energy)
    np.testing.assert_array_equal(
        fitted.decision_function(X_test), fitted.score_samples(X_test) - fitted.offset_
    )
    assert fitted.threshold_ == pytest.approx(-fitted.offset_)
    labels = fitted.predict(X_test)
    assert labels.shape == (n,) and set(np.unique(labels)) <= {-1, 1}
    np.testing.assert_array_equal(labels, np.where(energy > fitted.threshold_, -1, 1))
    codes = fitted.transform(X_test)
    assert codes.shape == (n, len(fitted.get_feature_names_out()))
    assert np.isfinite(codes).all()


@detector_classes
def test_fit_returns_self_and_fit_predict_labels_the_training_rows(cls, data):
    model = make(cls)
    assert model.fit(data[0]) is model
    np.testing.assert_array_equal(make(cls).fit_predict(data[0]), model.predict(data[0]))


@detector_classes
def test_contamination_flags_that_fraction_of_the_training_rows(cls, data):
    model = make(cls, contamination=0.05).fit(data[0])
    flagged = (model.predict(data[0]) == -1).mean()
    assert flagged == pytest.approx(0.05, abs=0.005)
    assert model.threshold_ == pytest.approx(np.quantile(model.energy(data[0]), 0.95), rel=1e-6)


@detector_classes
def test_data_frames_fit_and_score_by_column_name(cls, data):
    frame = pd.DataFrame(data[0], columns=list("abcde"))
    model = make(cls).fit(frame)
    assert list(model.feature_names_in_) == list("abcde")
    np.testing.assert_array_equal(model.energy(frame), make(cls).fit(data[0]).energy(data[0]))


@detector_classes
def test_hard_data_trains_to_finite_energies(cls):
    rng = np.random.default_rng(0)
    constant = np.hstack([rng.normal(size=(200, 3)), np.full((200, 2), 7.0)])
    duplicates = np.repeat(rng.normal(size=(2, 4)), 100, axis=0)
    for X in (constant, duplicates, np.zeros((50, 3))):
        model = make(cls).fit(X)
        assert np.isfinite(model.energy(X)).all()
        assert all(np.isfinite(values).all() for values in model.history_.values())


@detector_classes
def test_early_stopping_records_validation_loss_and_needs_rows(cls, data):
    # No epoch after the first can improve the validation loss by 1e6: two more, then stop.
    model = make(cls, epoch_size=50, early_stopping=True, n_iter_no_change=2, tol=1e6)
    history = model.fit(data[0]).history_
    assert len(history["val_loss"]) == len(history["loss"]) == 3
    with pytest.raises(ValueError, match="early_stopping needs at least 1 validation row"):
        make(cls, early_stopping=True, validation_fraction=0.01).fit(data[0][:5])


@detector_classes
def test_fit_leaves_global_state_alone(cls, data):
    torch.manual_seed(123)
    torch_state, numpy_state = torch.get_rng_state(), np.random.get_state()[1].copy()
    threads, dtype = torch.get_num_threads(), torch.get_default_dtype()
    make(cls).fit(data[0])
    assert torch.equal(torch.get_rng_state(), torch_state)
    np.testing.assert_array_equal(np.random.get_state()[1], numpy_state)
    assert torch.get_num_threads() == threads and torch.get_default_dtype() == dtype


# ------------------------------------------------------------------- seeds
@detector_classes
def test_same_seed_same_energies_other_seed_other_energies(cls, data):
    X_train, X_test = data
    first = make(cls).fit(X_train).energy(X_test)
    np.testing.assert_array_equal(make(cls).fit(X_train).energy(X_test), first)
    assert not np.array_equal(make(cls, random_state=1).fit(X_train).energy(X_test), first)


@detector_classes
def test_a_random_state_instance_is_not_consumed_by_construction(cls, data):
    # The seed parameter is stored as given; randomness is drawn in fit.
    state = np.random.RandomState(5)
    model = make(cls, random_state=state)
    assert model.get_params()["random_state"] is state
    first = model.fit(data[0]).energy(data[1])
    np.testing.assert_array_equal(
        make(cls, random_state=np.random.RandomState(5)).fit(data[0]).energy(data[1]), first
    )


# ---------------------------------------------------------- subset scoring
def test_scoring_a_subset_gives_the_rows_of_scoring_all(fitted, data):
    # Up to float32 rounding: BLAS may round a row differently by its position in
    # the batch; anything batch-dependent (dropout, batch statistics) differs by far more.
    X_test = data[1]
    full = fitted.energy(X_test)
    idx = np.array([5, 0, 89, 77, 81])
    np.testing.assert_allclose(fitted.energy(X_test[idx]), full[idx], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(fitted.energy(X_test[3:4]), full[3:4], rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(fitted.energy(X_test), full)
    np.testing.assert_allclose(
        fitted.transform(X_test[idx]), fitted.transform(X_test)[idx], rtol=1e-5, atol=1e-6
    )


# ---------------------------------------------------------------- bad input
@detector_classes
@pytest.mark.parametrize(
    "X, match",
    [
        (np.array([[1.0, np.nan], [2.0, 3.0], [1.0, 1.0]]), "Input X contains NaN"),
        (np.array([[1.0, np.inf], [2.0, 3.0], [1.0, 1.0]]), "Input X contains infinity"),
        (np.empty((0, 3)), r"Found array with 0 sample\(s\)"),
        (np.ones(5), "Expected a 2-dimensional container|Expected 2D array"),
        (np.array([["a", "b"], ["c", "d"]]), "could not convert string to float"),
        (np.ones((3, 2)) * 1j, "Complex data not supported"),
        (np.ones((1, 3)), "minimum of 2 is required"),
    ],
    ids=["nan", "inf", "empty", "1d", "strings", "complex", "one-row"],
)
def test_bad_training_input_is_one_clear_error(cls, X, match):
    with pytest.raises(ValueError, match=match):
        make(cls).fit(X)


@pytest.fixture(scope="module", params=DETECTORS, ids=_ids)
def fitted_on_frame(request):
    frame = pd.DataFrame(np.random.default_rng(0).normal(size=(120, 3)), columns=["a", "b", "c"])
    return make(request.param).fit(frame), frame


@pytest.mark.parametrize("method", ["energy", "score_samples", "predict", "transform"])
def test_bad_scoring_input_is_one_clear_error(fitted_on_frame, method):
    model, frame = fitted_on_frame
    name = type(model).__name__
    call = getattr(model, method)
    with pytest.raises(ValueError, match=f"X has 2 features, but {name} is expecting 3"):
        call(frame[["a", "b"]].to_numpy())
    with pytest.raises(ValueError, match="feature names should match"):
        call(frame.rename(columns={"c": "z"}))
    with pytest.raises(ValueError, match="Input X contains NaN"):
        call(frame.assign(a=np.nan))
    with pytest.raises(ValueError, match=r"Found array with 0 sample\(s\)"):
        call(frame.iloc[:0])
    with pytest.raises(ValueError, match="Expected a 2-dimensional container|Expected 2D array"):
        call(frame["a"].to_numpy())
    with pytest.raises(ValueError, match="could not convert string to float"):
        call(frame.astype(str).assign(a="x"))


@detector_classes
@pytest.mark.parametrize(
    "params, match",
    [
        ({"contamination": 0.7}, r"'contamination' parameter of \w+ must be"),
        ({"normalize": "zscore"}, r"'normalize' parameter of \w+ must be"),
        ({"minibatch_size": 0}, r"'minibatch_size' parameter of \w+ must be"),
        ({"epoch_size": -1}, r"'epoch_size' parameter of \w+ must be"),
        ({"learning_rate": 0.0}, r"'learning_rate' parameter of \w+ must be"),
        ({"validation_fraction": 1.0}, r"'validation_fraction' parameter of \w+ must be"),
        ({"n_jobs": 0}, r"'n_jobs' parameter of \w+ must be"),
        ({"device": "tpu"}, "device='tpu'"),
    ],
)
def test_bad_shared_parameters_name_the_parameter(cls, params, match):
    X = np.random.default_rng(0).normal(size=(50, 3))
    with pytest.raises(ValueError, match=match):
        make(cls, **params).fit(X)


@detector_classes
@pytest.mark.parametrize(
    ("given", "meant"),
    [
        ("random_seed", "random_state"),  # the TensorFlow DAGMM's name
        ("seed", "random_state"),
        ("epochs", "epoch_size"),
        ("batch_size", "minibatch_size"),
        ("lr", "learning_rate"),
        ("learning_rat", "learning_rate"),  # a typo
    ],
)
def test_unknown_keyword_names_the_parameter_meant(cls, given, meant):
    with pytest.raises(
        TypeError,
        match=rf"{cls.__name__}\(\) got an unexpected keyword argument '{given}'; "
        rf"did you mean {meant}\?",
    ):
        cls(**{given: 1})


# ---------------------------------------------------------------- unfitted
@detector_classes
@pytest.mark.parametrize(
    "method",
    ["energy", "score_samples", "decision_function", "predict", "transform"],
)
def test_unfitted_scoring_raises_not_fitted(cls, method):
    with pytest.raises(NotFittedError, match=f"This {cls.__name__} instance is not fitted yet"):
        getattr(make(cls), method)(np.ones((3, 2)))


@detector_classes
def test_unfitted_save_and_feature_names_raise_not_fitted(cls, tmp_path):
    with pytest.raises(NotFittedError):
        make(cls).save(tmp_path / "model")
    assert not (tmp_path / "model").exists()
    with pytest.raises(NotFittedError):
        make(cls).get_feature_names_out()


# ----------------------------------------------------- parameters and clone
@detector_classes
def test_get_set_params_round_trip_and_clone(cls, data):
    model = make(cls)
    params = model.get_params()
    assert set(params) == set(inspect.signature(cls.__init__).parameters) - {"self"}
    assert cls().set_params(**params).get_params() == params
    assert model.set_params(random_state=7) is model and model.random_state == 7
    with pytest.raises(ValueError, match="Invalid parameter 'random_seed'"):
        model.set_params(random_seed=1)
    model.fit(data[0])
    twin = clone(model)
    assert twin.get_params() == model.get_params()
    assert not hasattr(twin, "module_")
    assert pickle.loads(pickle.dumps(make(cls, random_state=7))).get_params() == make(
        cls, random_state=7
    ).get_params()
    np.testing.assert_array_equal(twin.fit(data[0]).energy(data[1]), model.energy(data[1]))


@detector_classes
def test_refitting_replaces_the_fitted_state(cls, data):
    X_train, X_test = data
    model = make(cls).fit(X_train[:, :3])
    model.fit(X_train)
    assert model.n_features_in_ == X_train.shape[1]
    np.testing.assert_array_equal(model.energy(X_test), make(cls).fit(X_train).energy(X_test))


# ------------------------------------------------------------- persistence
def _assert_same_model(loaded, model, X) -> None:
    assert type(loaded) is type(model)
    np.testing.assert_array_equal(loaded.energy(X), model.energy(X))
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    np.testing.assert_array_equal(loaded.transform(X), model.transform(X))
    assert loaded.threshold_ == model.threshold_ and loaded.offset_ == model.offset_
    assert loaded.n_features_in_ == model.n_features_in_
    assert loaded.history_ == model.history_
    assert loaded.get_params() == model.get_params()


def test_save_load_round_trip_gives_identical_energies(fitted, data, tmp_path):
    path = fitted.save(tmp_path / "model")
    _assert_same_model(type(fitted).load(path), fitted, data[1])


def test_restore_from_a_model_directory(fitted, data, tmp_path):
    fitted.save(tmp_path / "model")
    other = make(type(fitted), random_state=3)
    assert other.restore(tmp_path / "model") is other
    _assert_same_model(other, fitted, data[1])


def test_pickle_round_trip(fitted, data):
    _assert_same_model(pickle.loads(pickle.dumps(fitted)), fitted, data[1])


def test_model_directory_holds_json_and_safetensors_only(fitted, tmp_path):
    path = fitted.save(tmp_path / "model")
    names = sorted(p.name for p in path.iterdir())
    assert names[:2] == [".lock", "config.json"] and len(names) == 3
    assert names[2].startswith("data-")
    files = model_dir.model_files(path)
    assert {"fitted", "module"} <= set(files)  # fitted arrays and network weights
    assert all(file.name == f"{group}.safetensors" for group, file in files.items())
    assert sorted(p.name for p in (path / names[2]).iterdir()) == sorted(
        file.name for file in files.values()
    )
    config = json.loads((path / "config.json").read_text())
    assert config["format"] == "dagmm-model" and config["class"] == type(fitted).__name__
    assert config["torch_version"] == torch.__version__
    assert config["dagmm_version"] == dagmm.__version__
    assert config["params"]["random_state"] == 0


def test_load_never_unpickles(fitted, data, tmp_path, monkeypatch):
    path = fitted.save(tmp_path / "model")

    def refuse(*args, **kwargs):
        raise AssertionError("something was unpickled")

    monkeypatch.setattr(pickle, "load", refuse)
    monkeypatch.setattr(pickle, "loads", refuse)
    monkeypatch.setattr(pickle, "Unpickler", refuse)
    monkeypatch.setattr(torch, "load", refuse)
    type(fitted).load(path).energy(data[1])


def test_a_model_saved_for_cuda_loads_where_there_is_none(fitted, data, tmp_path):
    # The saved device parameter asks for CUDA; without it the model loads on the
    # CPU with a warning (on a CUDA machine it loads on CUDA).
    cls = type(fitted)
    path = fitted.save(tmp_path / "model")
    config = json.loads((path / "config.json").read_text())
    config["params"]["device"] = "cuda"
    (path / "config.json").write_text(json.dumps(config))
    if torch.cuda.is_available():
        loaded = cls.load(path)
        assert loaded.device_.type == "cuda"
    else:
        with pytest.warns(UserWarning, match="loaded on the CPU"):
            loaded = cls.load(path)
        assert loaded.device_.type == "cpu"
    np.testing.assert_allclose(loaded.energy(data[1]), fitted.energy(data[1]), rtol=1e-5)
    assert cls.load(path, device="cpu").device_.type == "cpu"


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@detector_classes
def test_fit_on_cuda_then_load_on_cpu(cls, data, tmp_path):
    model = make(cls, device="cuda").fit(data[0])
    assert model.device_.type == "cuda"
    loaded = cls.load(model.save(tmp_path / "model"), device="cpu")
    np.testing.assert_allclose(loaded.energy(data[1]), model.energy(data[1]), rtol=1e-4)
    np.testing.assert_allclose(
        pickle.loads(pickle.dumps(model)).energy(data[1]), model.energy(data[1]), rtol=1e-4
    )


def test_a_directory_of_another_detector_is_refused_by_name(fitted, tmp_path):
    cls = type(fitted)
    path = fitted.save(tmp_path / "model")
    others = [other for other in DETECTORS if other is not cls]
    assert others
    for other in others:
        with pytest.raises(ModelFileError, match=f"holds a '{cls.__name__}' model, not a "
                           f"'{other.__name__}'; load it with dagmm.{cls.__name__}.load"):
            other.load(path)


def _config(path: Path) -> dict:
    return json.loads((path / "config.json").read_text())


def _edit(path: Path, **changes) -> None:
    (path / "config.json").write_text(json.dumps({**_config(path), **changes}))


def _truncate(file: Path) -> None:
    data = file.read_bytes()
    file.write_bytes(data[: len(data) // 2])


def _foreign_weights(path: Path) -> None:
    # A consistent (checksum matching) but foreign weights file: reported, not half-loaded.
    module_file = model_dir.model_files(path)["module"]
    save_file({"foo": np.zeros(3, dtype=np.float32)}, str(module_file))
    files = {**_config(path)["files"], module_file.name: model_dir._sha256(module_file)}
    _edit(path, files=files)


@pytest.mark.parametrize(
    "damage, match",
    [
        (lambda p: (p / "config.json").unlink(), "'config.json' is missing"),
        (lambda p: (p / "config.json").write_text("{not json"), "not valid JSON"),
        (lambda p: (p / "config.json").write_text('{"format": "other"}'),
         "not a dagmm model config"),
        (lambda p: model_dir.model_files(p)["module"].unlink(), "module.safetensors' is missing"),
        (lambda p: _truncate(model_dir.model_files(p)["fitted"]),
         "fitted.safetensors' is damaged or truncated"),
        (lambda p: _edit(p, format_version=99), "format 99.*upgrade dagmm"),
        (lambda p: _edit(p, params={**_config(p)["params"], "minibatch_size": "x"}),
         "does not describe a loadable .*minibatch_size"),
        (lambda p: _edit(p, fitted={}), "does not describe a loadable .*fitted values .* missing"),
        (_foreign_weights, "does not describe a loadable .*do not match the stored weights"),
    ],
    ids=["no-config", "bad-json", "foreign-config", "no-weights", "truncated", "newer-format",
         "bad-param", "no-fitted", "foreign-weights"],
)
def test_a_damaged_directory_is_a_model_file_error_naming_the_file(fitted, tmp_path, damage,
                                                                   match):
    cls = type(fitted)
    path = fitted.save(tmp_path / "model")
    damage(path)
    with pytest.raises(ModelFileError, match=match) as info:
        cls.load(path)
    assert isinstance(info.value, ValueError)
    assert str(path) in str(info.value)
    with pytest.raises(ModelFileError, match=match):
        make(cls).restore(path)


@detector_classes
def test_loading_a_missing_directory_says_so(cls, tmp_path):
    with pytest.raises(ModelFileError, match="is not a model directory: no such directory"):
        cls.load(tmp_path / "nope")


# ---------------------------------------------------- scikit-learn's checks
def _sklearn_instances() -> list:
    # ReLU for VAEDetector: after 3 epochs on scikit-learn's toy rows the tanh default's
    # chi-square threshold flags no training row, and check_outliers_train wants both
    # labels from predict.
    tweaks = {"VAEDetector": dict(activation="relu")}
    return [make(cls, epoch_size=3, **tweaks.get(cls.__name__, {})) for cls in DETECTORS]


@parametrize_with_checks(_sklearn_instances())
def test_scikit_learn_estimator_checks(estimator, check):
    check(estimator)


@detector_classes
def test_json_params_are_json_and_rebuild_the_detector(cls):
    import json

    model = make(cls, random_state=3)
    params = json.loads(json.dumps(model.json_params()))
    assert set(params) == set(model.get_params())
    rebuilt = cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in params.items()})
    assert rebuilt.json_params() == model.json_params()
