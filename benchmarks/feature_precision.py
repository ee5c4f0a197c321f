"""Cost and gain of DAGMM's float64 reconstruction features at scoring.

DAGMM scores with the reconstruction features (relative distance, cosine
similarity) summed in float64 (``DAGMMNetwork.scoring_embed``); before, they
were float32 (``DAGMMNetwork.embed``, still what training uses). On the paper's
KDDCUP network this prints, for both, the largest relative energy difference
to a float64 evaluation of the same network (``dagmm.export.relative_difference``)
and eager scoring rows/s on batches of 4,096 rows, one torch thread, the two
timed alternately in the same process (best of ``--repeats`` rounds).

Usage::

    python benchmarks/feature_precision.py [--repeats 8]
"""

from __future__ import annotations

import argparse
import copy
import os
import time

import numpy as np
import torch

from dagmm import DAGMM
from dagmm.export import relative_difference
from dagmm.math.gmm import sample_energy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=8)
    args = parser.parse_args()
    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(3000, 118)).astype(np.float32)
    model = DAGMM(
        comp_hiddens=(60, 30, 10, 1), est_hiddens=(10, 4), epoch_size=3, compile=False,
        random_state=0,
    ).fit(X)
    mixture = model._mixture_tensors()
    center = torch.as_tensor(model.scaler_center_, dtype=torch.float32)
    scale = torch.as_tensor(model.scaler_scale_, dtype=torch.float32)
    rows = (torch.from_numpy(rng.normal(size=(20_000, 118)).astype(np.float32)) * 1.5 - center) / scale

    def float32_features(x):
        return sample_energy(model.module_.embed(x)[1].double(), *mixture)

    def float64_features(x):
        return sample_energy(model.module_.scoring_embed(x)[1], *mixture)

    with torch.inference_mode():
        reference = sample_energy(
            copy.deepcopy(model.module_).double().embed(rows.double())[1], *mixture
        ).numpy()
        print(f"load average {os.getloadavg()[0]:.1f}; smallest covariance eigenvalue "
              f"{min(np.linalg.eigvalsh(c).min() for c in model.covariances_):.1e}")
        rates: dict[str, list[float]] = {"float32 features": [], "float64 features": []}
        functions = dict(zip(rates, (float32_features, float64_features), strict=True))
        batch = rows[:4096]
        for _ in range(args.repeats):
            for name, function in functions.items():
                calls, start = 0, time.perf_counter()
                while time.perf_counter() - start < 0.3:
                    function(batch)
                    calls += 1
                rates[name].append(calls * 4096 / (time.perf_counter() - start))
        for name, function in functions.items():
            error = relative_difference(function(rows).numpy(), reference)
            print(f"{name}: largest relative difference to float64 {error:.1e}, "
                  f"eager rows/s {max(rates[name]):,.0f}")


if __name__ == "__main__":
    main()
