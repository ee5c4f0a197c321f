"""Loads while another process re-saves the model: how many loads mix two models or fail.

A writer process saves two different fitted models to one directory in turn
for ``--seconds``; this process loads it in a loop (a bare ``DAGMM`` and the
workflow's ``TabularDetector``) and checks each load against the two
originals (threshold and one row's energy). Then it times quiet loads and
saves. Prints one JSON object::

    PYTHONPATH=src OMP_NUM_THREADS=1 python benchmarks/model_dir_concurrency.py --seconds 10

Before model format 2 (dagmm 0.1: two renames, the workflow reading the
directory twice), issue 12 measured 76 mixed and ~300 failed loads of ~2,670.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from dagmm import DAGMM
from dagmm.workflow import FitOptions, TabularDetector

_WRITER = """
import sys, time, torch
torch.set_num_threads(1)
from dagmm.workflow import TabularDetector
first, second = TabularDetector.load(sys.argv[1]), TabularDetector.load(sys.argv[2])
end = time.time() + float(sys.argv[4])
saves = 0
print("ready", flush=True)
while time.time() < end:
    first.save(sys.argv[3]); second.save(sys.argv[3]); saves += 2
print(saves, flush=True)
"""


def _key(detector: TabularDetector, rows: pd.DataFrame) -> tuple[float, float]:
    """Threshold and one row's energy (to 9 digits: a load may differ from memory by an ulp)."""
    return float(detector.threshold_), round(float(detector.energy(rows)[0]), 9)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(400, 4)), columns=list("abcd"))
    options = FitOptions(epoch_size=2, minibatch_size=64, comp_hiddens=(6, 1), est_hiddens=(4, 2),
                         device="cpu")
    first = TabularDetector.from_options(options).fit(frame)
    second = TabularDetector.from_options(FitOptions(**{**options.__dict__, "random_state": 1})).fit(
        frame * 3
    )
    rows = frame.head(1)
    signature = {
        _key(m, rows): name
        for name, m in (("first", first), ("second", second))
    }
    root = Path(tempfile.mkdtemp(prefix="dagmm-concurrency-"))
    first.save(root / "a")
    second.save(root / "b")
    target = first.save(root / "model")
    writer = subprocess.Popen(
        [sys.executable, "-c", _WRITER, str(root / "a"), str(root / "b"), str(target),
         str(args.seconds)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    assert writer.stdout.readline().strip() == "ready"
    counts = {"loads": 0, "mixed": 0, "errors": 0, "first": 0, "second": 0, "bare_loads": 0}
    errors: dict[str, int] = {}
    while writer.poll() is None:
        try:
            loaded = TabularDetector.load(target)
            DAGMM.load(target)
            counts["bare_loads"] += 1
        except Exception as exc:  # noqa: BLE001 - counted and reported
            counts["errors"] += 1
            key = f"{type(exc).__name__}: {str(exc)[:80]}"
            errors[key] = errors.get(key, 0) + 1
            continue
        counts["loads"] += 1
        name = signature.get(_key(loaded, rows))
        if name is None:
            counts["mixed"] += 1
        else:
            counts[name] += 1
    saves = int(writer.stdout.read().strip() or 0)
    started = time.perf_counter()
    for _ in range(30):
        TabularDetector.load(target)
    load_ms = (time.perf_counter() - started) / 30 * 1000
    started = time.perf_counter()
    for _ in range(30):
        first.save(target)
    save_ms = (time.perf_counter() - started) / 30 * 1000
    print(json.dumps({"seconds": args.seconds, "saves": saves, **counts, "error_kinds": errors,
                      "quiet_load_ms": round(load_ms, 2), "quiet_save_ms": round(save_ms, 2)}))


if __name__ == "__main__":
    main()
