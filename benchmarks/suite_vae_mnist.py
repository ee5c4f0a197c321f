"""VAEDetector with no preset on the MNIST 0-vs-6 study (``benchmarks/results/suite/study.md``).

Binarised test-set zeros, half to train, the other half and every six to
test (:func:`dagmm.experiments.mnist_vae.load_zero_six_split`); the detector
is ``VAEDetector(random_state=seed, **variant)``. One JSON line per run::

    python benchmarks/suite_vae_mnist.py default,old-defaults 0,1,2

Variants: ``default`` (today's defaults), ``old-defaults`` (ReLU and a
64-dimensional code, the defaults before the suite study), ``tanh-l64``,
``relu-l150``, ``tanh-l150`` (explicit settings).
"""

import json
import sys
import time

from dagmm import VAEDetector
from dagmm.evaluation import auroc, best_f1_threshold
from dagmm.experiments.mnist_vae import load_zero_six_split

VARIANTS = {
    "default": {},
    "old-defaults": {"activation": "relu", "latent_dim": 64},
    "tanh-l64": {"activation": "tanh", "latent_dim": 64},
    "relu-l150": {"activation": "relu", "latent_dim": 150},
    "tanh-l150": {"activation": "tanh", "latent_dim": 150},
}

if __name__ == "__main__":
    split = load_zero_six_split()
    for name in sys.argv[1].split(","):
        for seed in [int(s) for s in sys.argv[2].split(",")]:
            started = time.perf_counter()
            model = VAEDetector(random_state=seed, **VARIANTS[name]).fit(split.X_train)
            energy = -model.score_samples(split.X_test)
            record = {
                "variant": name,
                "seed": seed,
                "auroc": round(auroc(split.y_test, energy), 4),
                "best_f1": round(float(best_f1_threshold(split.y_test, energy)[1]), 4),
                "train_seconds": round(time.perf_counter() - started, 1),
                "latent_dim": model.latent_dim_,
                "activation": str(model.activation),
            }
            print(json.dumps(record), flush=True)
