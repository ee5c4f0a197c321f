"""Training time of ``DAGMM()`` and ``VAEDetector()`` defaults on a 10,000 x 100 table.

Reports wall-clock and CPU seconds of one fit on one thread. On a shared
machine the wall clock depends on the other jobs; the CPU seconds of one
thread do not, and bound the wall clock of an otherwise idle machine::

    OMP_NUM_THREADS=1 python benchmarks/suite_speed.py
"""

import json
import sys
import time

import numpy as np
import torch

from dagmm import DAGMM, VAEDetector

if __name__ == "__main__":
    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(10_000, 100)) @ rng.normal(size=(100, 100)) / 10
    models = sys.argv[1].split(",") if len(sys.argv) > 1 else ["dagmm", "vae"]
    for name in models:
        model = DAGMM(random_state=0) if name == "dagmm" else VAEDetector(random_state=0)
        wall, cpu = time.perf_counter(), time.process_time()
        model.fit(X)
        print(
            json.dumps(
                {
                    "model": name,
                    "rows": X.shape[0],
                    "features": X.shape[1],
                    "threads": 1,
                    "wall_seconds": round(time.perf_counter() - wall, 1),
                    "cpu_seconds": round(time.process_time() - cpu, 1),
                }
            ),
            flush=True,
        )
