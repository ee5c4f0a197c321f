"""ONNX parity on the test rows of the paper's data sets (skipped without DAGMM_DATA_HOME files).

Each model is trained briefly (the benchmark preset with a few epochs) on the
benchmark's scaled training rows of one split; the exported graph must then
give the library's energies on every test row, as float32.
"""

from __future__ import annotations

import numpy as np
import pytest

from dagmm import DAGMM, VAEDetector
from dagmm.benchmark.presets import get_preset
from dagmm.benchmark.protocol import (
    apply_scaler,
    fit_scaler,
    get_dataset,
    load_dataset,
    paper_split,
)
from dagmm.exceptions import DatasetNotFoundError

pytest.importorskip("onnxruntime")

from dagmm.export import relative_difference, to_onnx_model  # noqa: E402

pytestmark = [pytest.mark.integration, pytest.mark.slow]

#: Training rows kept for KDDCUP (the parity, not the model's quality, is tested).
MAX_TRAIN_ROWS = 20_000


def paper_data(name: str, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(training rows, test rows) of one paper split, scaled as the benchmark does, float32."""
    try:
        X, y = load_dataset(name)
    except DatasetNotFoundError as exc:
        pytest.skip(f"{name} is not in DAGMM_DATA_HOME: {exc}")
    split = paper_split(X, y, seed=seed)
    train = split.train[:: max(1, len(split.train) // MAX_TRAIN_ROWS)]
    scaler = fit_scaler(get_dataset(name).scaler, X[train])
    return (
        apply_scaler(scaler, X[train]).astype(np.float32),
        apply_scaler(scaler, X[split.test]).astype(np.float32),
    )


def onnx_energy(model, X: np.ndarray) -> np.ndarray:
    import onnxruntime as ort

    proto, _ = to_onnx_model(model)
    sess = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    return sess.run(["energy"], {"input": X})[0]


@pytest.mark.parametrize(
    ("name", "seed"),
    [("kddcup", 0), ("thyroid", 0), ("thyroid", 1), ("arrhythmia", 0), ("arrhythmia", 1)],
)
def test_dagmm_paper_sets(name, seed):
    train, test = paper_data(name, seed)
    params = {**get_preset(name, quick=True), "compile": False, "random_state": seed}
    params["epoch_size"] = 3 if name == "kddcup" else 30
    model = DAGMM(**params).fit(train)
    assert relative_difference(onnx_energy(model, test), model.energy(test)) <= 1e-5


def test_vae_thyroid():
    train, test = paper_data("thyroid", 0)
    model = VAEDetector(epoch_size=20, compile=False, random_state=0).fit(train)
    assert relative_difference(onnx_energy(model, test), model.energy(test)) <= 1e-5
