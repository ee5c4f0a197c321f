"""VAEDetector activation on the suite: the ReLU of the old defaults against tanh.

python benchmarks/suite_vae_study.py --seeds 0,1 --out /tmp/vae_study
"""

from __future__ import annotations

import argparse

from dagmm.benchmark.models import EstimatorModel
from dagmm.benchmark.suite import run_suite
from dagmm.benchmark.suite_models import SUITE_MODELS


def _vae(name: str, **params):
    def factory(seed: int, quick: bool) -> EstimatorModel:
        from dagmm import VAEDetector

        full = {**params, "random_state": seed, "verbose": 0}
        return EstimatorModel(name, VAEDetector(**full), full)

    return factory


SUITE_MODELS["vae-relu"] = _vae("vae-relu", activation="relu")
SUITE_MODELS["vae-tanh"] = _vae("vae-tanh", activation="tanh")

if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", default="0,1")
    parser.add_argument("--models", default="vae-relu,vae-tanh")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    run_suite(None, args.models.split(","), seeds, args.out, progress=False)
