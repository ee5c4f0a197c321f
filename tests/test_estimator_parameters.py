"""Unknown constructor keywords: a hint for names of the TensorFlow version and typos."""

from __future__ import annotations

import pickle

import pytest
from sklearn.base import clone

from dagmm import DAGMM, VAEDetector


@pytest.mark.parametrize("cls", [DAGMM, VAEDetector])
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
    with pytest.raises(TypeError, match=rf"{cls.__name__}\(\) got an unexpected keyword "
                       rf"argument '{given}'; did you mean {meant}\?"):
        cls(**{given: 1})


def test_random_seed_message_explains_the_rename():
    with pytest.raises(TypeError, match="TensorFlow version's random_seed is random_state"):
        DAGMM(comp_hiddens=(8, 2), random_seed=123)


def test_no_hint_without_a_close_name_but_the_parameters_are_listed():
    with pytest.raises(TypeError) as error:
        DAGMM(zzz=1)
    assert "did you mean" not in str(error.value)
    assert "its parameters: " in str(error.value) and "random_state" in str(error.value)


def test_a_renamed_name_without_a_target_here_is_not_suggested():
    # VAEDetector has no est_dropout_ratio, so "dropout" must not point to it.
    with pytest.raises(TypeError) as error:
        VAEDetector(dropout=0.5)
    assert "est_dropout_ratio" not in str(error.value).split(";")[1]


def test_the_hook_keeps_get_params_clone_and_pickle_working():
    model = DAGMM(comp_hiddens=(8, 2), epoch_size=3, random_state=7)
    assert model.get_params()["random_state"] == 7
    assert clone(model).get_params() == model.get_params()
    assert pickle.loads(pickle.dumps(model)).get_params() == model.get_params()
    with pytest.raises(ValueError, match="Invalid parameter 'random_seed'"):
        model.set_params(random_seed=1)
