"""Unknown constructor keywords: the wording of the hint.

That every detector gives the hint is tested in test_detector_contract.py.
"""

from __future__ import annotations

import pytest

from dagmm import DAGMM, VAEDetector


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
