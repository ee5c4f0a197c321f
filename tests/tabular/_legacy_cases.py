"""Tables and settings frozen in ``tests/tabular/legacy/``, and the script that wrote it.

The folder was written by the preprocessor as it was before it was rebuilt on
scikit-learn's transformers (commit 3e6c0ad): the encoded outputs of several
settings, their saved states, and a whole ``TabularDetector`` model directory.
``test_tabular_legacy.py`` checks that today's code fits the same states, gives
the same outputs bit for bit and loads the old directory to the same scores.

Rewrite the folder only on purpose (a deliberate change of the encoding)::

    PYTHONPATH=src python tests/tabular/_legacy_cases.py tests/tabular/legacy
"""

from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

N_TRAIN, N_SCORE = 60, 24

#: Settings frozen, by name: every kind of column, missing values imputed or
#: refused, the three scalings and the date-time encodings.
CASES: dict[str, dict] = {
    "complete_standard": dict(
        id_cols=["order_id"],
        categorical_cols=["code"],
        datetime_cols=["epoch"],
        max_categories=20,
        hash_buckets=8,
    ),
    "impute_standard": dict(
        id_cols=["order_id"],
        categorical_cols=["code"],
        datetime_cols=["epoch"],
        max_categories=20,
        hash_buckets=8,
        handle_missing="impute",
    ),
    "impute_minmax": dict(
        id_cols=["order_id"],
        max_categories=20,
        handle_missing="impute",
        scale="minmax",
    ),
    "impute_unscaled_epoch": dict(
        drop_cols=["order_id"],
        numeric_cols=["tiny"],
        max_categories=40,
        handle_missing="impute",
        scale=None,
        datetime_features="epoch",
    ),
}

#: The cases fitted on the table with missing values.
WITH_MISSING = ("impute_standard", "impute_minmax", "impute_unscaled_epoch")


def make_table(n: int, seed: int, *, missing: bool, unseen: bool) -> pd.DataFrame:
    """A table with a column of every kind; ``unseen`` adds labels not in the training table."""
    rng = np.random.default_rng(seed)
    colors = ["red", "green", "blue", "purple"] if unseen else ["red", "green", "blue"]
    start = pd.Timestamp("2024-01-01")
    placed = start + pd.to_timedelta(rng.integers(0, 10**7, n), unit="s")
    frame = pd.DataFrame(
        {
            "order_id": [f"o{seed}-{i:04d}" for i in range(n)],
            "amount": rng.normal(100.0, 15.0, n).round(2),
            "quantity": rng.integers(1, 5, n),
            "flat": np.full(n, 1234.5678),  # constant: centred, never divided by ~0
            "tiny": rng.normal(3e-9, 1e-10, n),  # small unit: still scaled (relative rule)
            "color": rng.choice(colors, n).astype(object),
            "code": rng.choice(["1", "01", "2", "3.0", "x"], n).astype(object),
            "express": rng.choice([True, False], n),
            "placed_at": placed,  # datetime dtype
            "iso_text": placed.strftime("%Y-%m-%dT%H:%M:%S").astype(object),
            "us_text": placed.strftime("%m/%d/%Y %H:%M").astype(object),
            "day_only": (start + pd.to_timedelta(rng.integers(0, 90, n), unit="D"))
            .strftime("%Y-%m-%d")
            .astype(object),  # midnight only: no hour feature
            "epoch": (1.7e9 + rng.integers(0, 10**6, n)).astype(np.float64),
            "city": [f"city{i:02d}" for i in rng.integers(0, 40 if unseen else 30, n)],
            "note": [f"free text {seed} {i}" for i in range(n)],  # identifier-like: left out
        }
    )
    if missing:
        for column, rows in (
            ("amount", [2, 9]),
            ("tiny", [4]),
            ("color", [1, 7]),
            ("code", [3]),
            ("placed_at", [5]),
            ("iso_text", [6]),
            ("us_text", [8]),
            ("epoch", [10]),
            ("city", [11]),
        ):
            frame.loc[rows, column] = None
    return frame


def train_table(case: str) -> pd.DataFrame:
    return make_table(N_TRAIN, 0, missing=case in WITH_MISSING, unseen=False)


def score_table(case: str) -> pd.DataFrame:
    return make_table(N_SCORE, 1, missing=case in WITH_MISSING, unseen=True)


def fit_case(case: str):
    from dagmm.tabular import TabularPreprocessor

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return TabularPreprocessor(**CASES[case]).fit(train_table(case))


#: The detector saved as a model directory by the old code.
DETECTOR_CASE = "impute_standard"
DETECTOR_MODEL = dict(
    comp_hiddens=(8, 2),
    est_hiddens=(4, 2),
    epoch_size=2,
    minibatch_size=32,
    normalize=False,
    device="cpu",
    random_state=0,
)


def write_fixture(folder: Path) -> None:  # pragma: no cover - run by hand, see the docstring
    from safetensors.numpy import save_file

    from dagmm import DAGMM
    from dagmm.tabular import TabularPreprocessor
    from dagmm.workflow.detector import TabularDetector

    folder.mkdir(parents=True, exist_ok=True)
    states, outputs = {}, {}
    for case in CASES:
        pre = fit_case(case)
        config, arrays = pre.to_state()
        states[case] = config
        for key, array in arrays.items():
            outputs[f"{case}.state.{key}"] = array
        outputs[f"{case}.train"] = pre.transform(train_table(case))
        outputs[f"{case}.score"] = pre.transform(score_table(case))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        detector = TabularDetector(
            DAGMM(**DETECTOR_MODEL), TabularPreprocessor(**CASES[DETECTOR_CASE])
        ).fit(train_table(DETECTOR_CASE))
    detector.save(folder / "model")
    score = score_table(DETECTOR_CASE)
    outputs["model.features"] = detector.features(score)
    outputs["model.energy"] = np.asarray(detector.model_.energy(detector.features(score)))
    save_file({key: np.ascontiguousarray(value) for key, value in outputs.items()},
              str(folder / "expected.safetensors"))
    (folder / "states.json").write_text(json.dumps(states, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":  # pragma: no cover
    write_fixture(Path(sys.argv[1]))
