"""FitOptions: command line over TOML file over defaults, with checked values."""

from __future__ import annotations

import pytest

from dagmm.workflow import FitOptions, ThresholdPolicy, load_config_file, resolve_options
from dagmm.workflow.options import auto_batch_size, auto_comp_hiddens


def write(tmp_path, text: str):
    path = tmp_path / "dagmm.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults():
    options = resolve_options()
    assert options == FitOptions()
    assert options.threshold_policy() == ThresholdPolicy.contamination(0.01)
    assert options.model_params()["normalize"] is False


def test_command_line_over_config_over_defaults(tmp_path):
    config = write(
        tmp_path,
        'epochs = 7\nlearning_rate = 0.01\ndrop_cols = ["Time"]\ncomp_hiddens = [16, 8, 2]\n'
        'label_col = "Class"\n',
    )
    options = resolve_options({"epochs": 3, "learning_rate": None, "batch_size": 32}, config)
    assert options.epochs == 3  # command line
    assert options.learning_rate == 0.01  # file (None on the command line means not given)
    assert options.batch_size == 32
    assert options.drop_cols == ("Time",)
    assert options.comp_hiddens == (16, 8, 2)
    assert options.lambda1 == FitOptions().lambda1  # default
    assert options.preprocessor_params()["drop_cols"] == ["Time", "Class"]


def test_comma_separated_lists():
    options = resolve_options(
        {"comp_hiddens": "60, 30,10,1", "id_cols": "a,b", "est_hiddens": "10,4"}
    )
    assert options.comp_hiddens == (60, 30, 10, 1)
    assert options.id_cols == ("a", "b")
    assert options.est_hiddens == (10, 4)
    features = resolve_options({"reconstruction_features": "euclidean, relative"})
    assert features.model_params()["reconstruction_features"] == ("euclidean", "relative")


def test_restarts_reach_the_model(tmp_path):
    assert FitOptions().model_params()["n_restarts"] == 1
    assert resolve_options({"restarts": 3}).model_params()["n_restarts"] == 3
    from_file = resolve_options({"restarts": None}, write(tmp_path, "restarts = 2\n"))
    assert from_file.model_params()["n_restarts"] == 2


def test_unknown_key_suggests_the_right_one(tmp_path):
    config = write(tmp_path, "epoch = 5\n")
    with pytest.raises(
        ValueError, match=r"unknown option 'epoch' in '.*dagmm.toml' \(did you mean 'epochs'\?\)"
    ):
        resolve_options({}, config)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('epochs = "many"', r"epochs = 'many' in .* is invalid: expected an integer"),
        ("epochs = 0", r"expected an integer >= 1"),
        ("restarts = 0", r"restarts = 0 .* expected an integer >= 1"),
        ("comp_hiddens = [8, -1]", r"comp_hiddens = \[8, -1\] .* positive integers"),
        ("impute = 1", r"impute = 1 .* expected true or false"),
        ("drop_cols = [1, 2]", r"expected a list of column names"),
        ("learning_rate = -0.1", r"learning_rate=-0.1 must be positive"),
        ('reconstruction_features = ["l1"]', r"reconstruction_features=\('l1',\) is invalid"),
        (
            "reconstruction_features = [1]",
            r"reconstruction_features = \[1\] .* a list of feature names",
        ),
    ],
)
def test_invalid_values_name_the_option(tmp_path, text, message):
    with pytest.raises(ValueError, match=message):
        resolve_options({}, write(tmp_path, text))


def test_invalid_toml_names_the_file(tmp_path):
    with pytest.raises(ValueError, match=r"config file '.*dagmm.toml' is not valid TOML"):
        load_config_file(write(tmp_path, "epochs = = 3"))


def test_missing_config_file(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"config file '.*nope.toml' does not exist"):
        resolve_options({}, tmp_path / "nope.toml")


def test_threshold_policies():
    assert resolve_options({"threshold_fpr": 0.001}).threshold_policy() == ThresholdPolicy.fpr(
        0.001
    )
    assert resolve_options({"contamination": 0.05}).threshold_policy() == ThresholdPolicy(
        "contamination", 0.05
    )
    f1 = resolve_options({"threshold_f1": True, "label_col": "y"})
    assert f1.threshold_policy() == ThresholdPolicy.f1()


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"contamination": 0.1, "threshold_fpr": 0.01}, "contamination and threshold_fpr both set"),
        ({"threshold_f1": True}, "threshold_f1 chooses the threshold on labelled rows"),
        ({"normal_label": "ok"}, "normal_label is set but no label column"),
        ({"contamination": 0.7}, r"contamination=0.7 is out of range"),
        ({"threshold_fpr": 1.0}, r"threshold_fpr=1.0 is out of range"),
    ],
)
def test_inconsistent_threshold_options(given, message):
    with pytest.raises(ValueError, match=message):
        resolve_options(given)


def test_automatic_batch_size_and_widths():
    assert auto_batch_size(100) == 64 and auto_batch_size(6400) == 200
    assert auto_batch_size(10**6) == 1024
    assert auto_comp_hiddens(6) == (8, 2)
    assert auto_comp_hiddens(29) == (20, 10)
    assert auto_comp_hiddens(118) == (32, 16)
    assert FitOptions().auto_params() == ("batch_size", "comp_hiddens")
    assert FitOptions(batch_size=32, comp_hiddens=(4, 1)).auto_params() == ()
