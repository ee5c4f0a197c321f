"""The preprocessor against outputs, states and a model directory frozen before it was rebuilt.

``tests/tabular/legacy/`` was written by the preprocessor of commit 3e6c0ad
(its own encoding code, before scikit-learn's transformers did the work): see
``_legacy_cases.py``. Fitting the same tables must give the same states and
the same float32 outputs bit for bit, and the old model directory must load
and score as it did.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from _legacy_cases import CASES, DETECTOR_CASE, fit_case, score_table, train_table
from safetensors.numpy import load_file

from dagmm.tabular import TabularPreprocessor
from dagmm.workflow.detector import TabularDetector

LEGACY = Path(__file__).parent / "legacy"
EXPECTED = load_file(str(LEGACY / "expected.safetensors"))
STATES = json.loads((LEGACY / "states.json").read_text())


def _frozen_arrays(case: str) -> dict[str, np.ndarray]:
    prefix = f"{case}.state."
    return {key[len(prefix):]: value for key, value in EXPECTED.items() if key.startswith(prefix)}


@pytest.mark.parametrize("case", CASES)
def test_fit_gives_the_frozen_state_and_outputs_bit_for_bit(case):
    pre = fit_case(case)
    config, arrays = pre.to_state()
    assert config == STATES[case]
    frozen = _frozen_arrays(case)
    assert set(arrays) == set(frozen)
    for key, array in arrays.items():
        np.testing.assert_array_equal(array, frozen[key], err_msg=key)  # NaN == NaN here
    np.testing.assert_array_equal(pre.transform(train_table(case)), EXPECTED[f"{case}.train"])
    np.testing.assert_array_equal(pre.transform(score_table(case)), EXPECTED[f"{case}.score"])


@pytest.mark.parametrize("case", CASES)
def test_frozen_state_loads_to_the_frozen_outputs(case):
    pre = TabularPreprocessor.from_state(STATES[case], _frozen_arrays(case))
    out = pre.transform(score_table(case))
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, EXPECTED[f"{case}.score"])
    config, arrays = pre.to_state()  # and saves again as it was saved
    assert config == STATES[case]
    for key, array in arrays.items():
        np.testing.assert_array_equal(array, _frozen_arrays(case)[key])


def test_model_directory_written_before_loads_and_scores_the_same(tmp_path):
    shutil.copytree(LEGACY / "model", tmp_path / "model")
    detector = TabularDetector.load(tmp_path / "model", device="cpu")
    score = score_table(DETECTOR_CASE)
    features = detector.features(score)
    np.testing.assert_array_equal(features, EXPECTED["model.features"])
    np.testing.assert_allclose(
        detector.model_.energy(features), EXPECTED["model.energy"], rtol=1e-6, atol=1e-6
    )
    old_config = json.loads((LEGACY / "model" / "config.json").read_text())
    detector.save(tmp_path / "again")
    new_config = json.loads((tmp_path / "again" / "config.json").read_text())
    assert new_config["pipeline"]["preprocessor"] == old_config["pipeline"]["preprocessor"]
