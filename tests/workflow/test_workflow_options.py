"""FitOptions: command line over config file over defaults, in the estimators' own vocabulary."""

from __future__ import annotations

import dataclasses
import inspect
import warnings

import pytest

from dagmm import DAGMM, VAEDetector
from dagmm.workflow import FitOptions, ThresholdPolicy, load_config_file, resolve_options
from dagmm.workflow.options import (
    DEPRECATED_NAMES,
    WORKFLOW_DEFAULTS,
    auto_batch_size,
    auto_comp_hiddens,
    option_names,
)


def write(tmp_path, text: str, name: str = "dagmm.toml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults():
    options = resolve_options()
    assert options == FitOptions()
    assert options.threshold_policy() == ThresholdPolicy.contamination(0.01)
    assert options.model_params()["normalize"] is False


def test_defaults_are_the_estimators_but_for_the_documented_overrides():
    for detector, cls in (("dagmm", DAGMM), ("vae", VAEDetector)):
        made = FitOptions(detector=detector).make_model().get_params()
        own = cls().get_params()
        differ = {name for name in own if made[name] != own[name]}
        assert differ == set(WORKFLOW_DEFAULTS), detector
        for name in differ:
            assert made[name] == WORKFLOW_DEFAULTS[name][0]


def test_command_line_over_config_over_defaults(tmp_path):
    config = write(
        tmp_path,
        'epoch_size = 7\nlearning_rate = 0.01\ndrop_cols = ["Time"]\ncomp_hiddens = [16, 8, 2]\n'
        'label_col = "Class"\n',
    )
    options = resolve_options(
        {"epoch_size": 3, "learning_rate": None, "minibatch_size": 32}, config
    )
    assert options.epoch_size == 3  # command line
    assert options.learning_rate == 0.01  # file (None on the command line means not given)
    assert options.minibatch_size == 32
    assert options.drop_cols == ("Time",)
    assert options.comp_hiddens == (16, 8, 2)
    assert options.lambda1 == DAGMM().lambda1  # the estimator's default
    assert options.preprocessor_params()["drop_cols"] == ["Time", "Class"]
    model = options.make_model()
    assert (model.epoch_size, model.minibatch_size, model.random_state) == (3, 32, 0)


def test_json_config(tmp_path):
    config = write(tmp_path, '{"epoch_size": 4, "detector": "vae", "latent_dim": 3}', "o.json")
    options = resolve_options({}, config)
    assert (options.detector, options.epoch_size, options.latent_dim) == ("vae", 4, 3)
    with pytest.raises(ValueError, match=r"config file '.*o.json' is not valid JSON"):
        load_config_file(write(tmp_path, "{epoch_size: 4", "o.json"))


def test_comma_separated_lists():
    options = resolve_options(
        {"comp_hiddens": "60, 30,10,1", "id_cols": "a,b", "est_hiddens": "10,4"}
    )
    assert options.comp_hiddens == (60, 30, 10, 1)
    assert options.id_cols == ("a", "b")
    assert options.est_hiddens == (10, 4)
    features = resolve_options({"reconstruction_features": "euclidean, relative"})
    assert features.model_params()["reconstruction_features"] == ("euclidean", "relative")
    vae = resolve_options({"detector": "vae", "encoder_hiddens": "32,16"})
    assert vae.make_model().encoder_hiddens == (32, 16)


def test_any_parameter_of_the_detector_reaches_the_model(tmp_path):
    assert FitOptions().model_params().get("n_restarts", 1) == 1
    assert resolve_options({"n_restarts": 3}).model_params()["n_restarts"] == 3
    from_file = resolve_options({}, write(tmp_path, 'n_restarts = 2\nmixture = "network"\n'))
    assert from_file.make_model().get_params()["n_restarts"] == 2
    assert from_file.mixture == "network"
    vae = FitOptions(detector="vae", anomaly_score="elbo", epoch_size=1)
    assert isinstance(vae.make_model(), VAEDetector) and vae.anomaly_score == "elbo"


@pytest.mark.parametrize(("old", "new"), sorted(DEPRECATED_NAMES.items()))
def test_old_names_work_for_one_release_with_a_warning(tmp_path, old, new):
    value = {"dropout": 0.25}.get(old, 3)
    with pytest.warns(DeprecationWarning, match=rf"'{old}' in FitOptions\(\) is deprecated: use '{new}'"):
        options = FitOptions(**{old: value})
    assert options.model_params()[new] == value
    with pytest.warns(DeprecationWarning, match=rf"'{old}' in '.*dagmm.toml' is deprecated"):
        from_file = resolve_options({}, write(tmp_path, f"{old} = {value}\n"))
    assert getattr(from_file, new) == value
    with pytest.warns(DeprecationWarning, match=rf"FitOptions.{old} is deprecated"):
        assert getattr(options, old) == value
    with pytest.raises(ValueError, match=rf"{old} and {new} are the same setting"):
        FitOptions(**{old: value, new: value})


def test_new_names_raise_no_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        FitOptions(epoch_size=3, minibatch_size=32, est_dropout_ratio=0.1, n_restarts=2,
                   random_state=4)  # fmt: skip


def test_unknown_key_suggests_the_right_one(tmp_path):
    config = write(tmp_path, "epoch = 5\n")
    with pytest.raises(
        ValueError, match=r"unknown option 'epoch' in '.*dagmm.toml' \(did you mean 'epoch_size'\?\)"
    ):
        resolve_options({}, config)
    with pytest.raises(TypeError, match=r"unknown option 'lr' in FitOptions\(\).*'learning_rate'"):
        FitOptions(lr=0.1)
    with pytest.raises(ValueError, match=r"unknown option 'comp_hiddens'.*VAEDetector"):
        resolve_options({"detector": "vae", "comp_hiddens": "8,2"})
    with pytest.raises(ValueError, match=r"detector 'vea' is unknown \(did you mean 'vae'\?\)"):
        FitOptions(detector="vea")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('epoch_size = "many"', r"'epoch_size' parameter of DAGMM must be an int.*Got 'many'"),
        ("epoch_size = -1", r"'epoch_size' parameter .* range \[0, inf\)"),
        ("n_restarts = 0", r"'n_restarts' parameter .* range \[1, inf\)"),
        ("comp_hiddens = [8, -1]", r"comp_hiddens = \[8, -1\] .* positive integers"),
        ("impute = 1", r"impute = 1 .* expected true or false"),
        ("drop_cols = [1, 2]", r"expected a list of column names"),
        ("learning_rate = -0.1", r"'learning_rate' parameter of DAGMM must be a float in the range"),
        ('reconstruction_features = ["l1"]', r"reconstruction_features=\('l1',\) is invalid"),
        ("reconstruction_features = [1]", r"reconstruction_features = \[1\] .* a list of names"),
        ("max_categories = 0", r"max_categories = 0 .* expected an integer >= 1"),
    ],
)
def test_invalid_values_name_the_option(tmp_path, text, message):
    with pytest.raises(ValueError, match=message):
        resolve_options({}, write(tmp_path, text))


def test_validation_is_the_estimators():
    # What the estimator accepts, the options accept (FitOptions has no rules of its own).
    assert FitOptions(epoch_size=0).epoch_size == 0
    with pytest.raises(ValueError, match="'est_dropout_ratio' parameter of DAGMM"):
        FitOptions(est_dropout_ratio=1.5)
    with pytest.raises(ValueError, match="n_init=2 needs pretrain_epochs"):
        FitOptions(n_init=2)


def test_invalid_toml_names_the_file(tmp_path):
    with pytest.raises(ValueError, match=r"config file '.*dagmm.toml' is not valid TOML"):
        load_config_file(write(tmp_path, "epoch_size = = 3"))


def test_missing_config_file(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"config file '.*nope.toml' does not exist"):
        resolve_options({}, tmp_path / "nope.toml")


def test_threshold_policies():
    assert resolve_options({"threshold_fpr": 0.001}).threshold_policy() == ThresholdPolicy.fpr(
        0.001
    )
    given = resolve_options({"contamination": 0.05})
    assert given.threshold_policy() == ThresholdPolicy("contamination", 0.05)
    assert given.make_model().contamination == 0.05  # the estimator's threshold agrees
    f1 = resolve_options({"threshold_f1": True, "label_col": "y"})
    assert f1.threshold_policy() == ThresholdPolicy.f1()


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"contamination": 0.1, "threshold_fpr": 0.01}, "contamination and threshold_fpr both set"),
        ({"threshold_f1": True}, "threshold_f1 chooses the threshold on labelled rows"),
        ({"normal_label": "ok"}, "normal_label is set but no label column"),
        ({"contamination": 0.7}, r"'contamination' parameter of DAGMM must be a float in the range"),
        ({"threshold_fpr": 1.0}, r"threshold_fpr=1.0 is out of range"),
    ],
)
def test_inconsistent_threshold_options(given, message):
    with pytest.raises(ValueError, match=message):
        resolve_options(given)


def test_replace_keeps_the_parameters():
    base = FitOptions(label_col="y", epoch_size=5, comp_hiddens=(8, 2))
    changed = dataclasses.replace(base, learning_rate=0.01)
    assert (changed.label_col, changed.epoch_size, changed.comp_hiddens) == ("y", 5, (8, 2))
    assert changed.learning_rate == 0.01 and base.learning_rate == DAGMM().learning_rate
    assert hash(base) == hash(FitOptions(label_col="y", comp_hiddens=[8, 2], epoch_size=5))
    assert base != changed


def test_option_names_are_workflow_settings_and_estimator_parameters():
    names = set(option_names("dagmm"))
    params = set(inspect.signature(DAGMM).parameters) - {"verbose", "validation_fraction"}
    assert params <= names
    assert {"label_col", "threshold_fpr", "detector"} <= names


def test_old_automatic_rules_are_the_estimators():
    with pytest.warns(DeprecationWarning, match="default_minibatch_size"):
        assert auto_batch_size(100) == 64 and auto_batch_size(10**6) == 1024
    with pytest.warns(DeprecationWarning, match="default_comp_hiddens"):
        assert auto_comp_hiddens(118) == (32, 16)
