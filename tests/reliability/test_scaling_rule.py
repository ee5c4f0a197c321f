"""One relative constant-column rule, whatever the unit (issue 12, item 4)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dagmm.estimators._base import scaling_statistics
from dagmm.math.scaling import constant_columns
from dagmm.tabular import TabularPreprocessor


@pytest.mark.parametrize("unit", [1.0, 1e-9, 1e-12, 1e6])
@pytest.mark.parametrize("normalize", [True, "minmax"])
def test_estimator_scaling_does_not_depend_on_the_unit(unit, normalize):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(500, 3)) * [1.0, 2.0, 3.0] + [5.0, -1.0, 0.0]
    center, scale = scaling_statistics(X * unit, normalize)
    reference_center, reference_scale = scaling_statistics(X, normalize)
    np.testing.assert_allclose(center, reference_center * unit, rtol=1e-9)
    np.testing.assert_allclose(scale, reference_scale * unit, rtol=1e-9)
    scaled = (X * unit - center) / scale
    np.testing.assert_allclose(scaled, (X - reference_center) / reference_scale, atol=1e-6)


def test_constant_columns_are_centred_and_not_divided():
    X = np.column_stack([np.full(100, 0.1, dtype=np.float32), np.full(100, 3e-9), np.zeros(100),
                         np.linspace(0, 1e-8, 100)])
    center, scale = scaling_statistics(X, True)
    np.testing.assert_array_equal(scale[:3], 1.0)
    assert center[0] == np.float64(np.float32(0.1)) and center[1] == 3e-9
    assert scale[3] == pytest.approx(np.std(np.linspace(0, 1e-8, 100)))


def test_preprocessor_and_estimator_share_the_rule():
    values = np.linspace(0, 1e-9, 50)
    pre = TabularPreprocessor().fit(pd.DataFrame({"x": values}))
    _, scale = scaling_statistics(values[:, None], True)
    assert pre.scale_[0] == pytest.approx(scale[0]) and scale[0] < 1e-9
    assert constant_columns([0.0, 1e-20, 1e-3], [0.0, 1.0, 1e-3]).tolist() == [True, True, False]


def test_the_same_data_in_metres_and_nanometres_detects_the_same(tmp_path):
    from dagmm import DAGMM

    rng = np.random.default_rng(1)
    normal = rng.normal(size=(600, 2)) * 1e-8
    outliers = rng.normal(size=(30, 2)) * 1e-8 + 6e-8
    X = np.vstack([normal, outliers])
    y = np.r_[np.zeros(600), np.ones(30)]
    options = dict(comp_hiddens=(8, 1), est_hiddens=(4, 2), epoch_size=20, minibatch_size=128,
                   device="cpu", compile=False, random_state=0, learning_rate=1e-3)
    from sklearn.metrics import roc_auc_score

    metres = roc_auc_score(y, DAGMM(**options).fit(normal).energy(X))
    nanometres = roc_auc_score(y, DAGMM(**options).fit(normal * 1e9).energy(X * 1e9))
    # Scaled, both units give the network the same inputs (before: metres kept scale 1).
    assert metres == pytest.approx(nanometres, abs=0.02)
