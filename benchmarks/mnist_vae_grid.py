"""VAEDetector settings on the MNIST 0-versus-6 split, over several seeds.

Each argument is a Python dict of overrides of the "mnist" preset; for each,
the script trains on seeds 0-4 (or the comma-separated ``$SEEDS``; split and
model seeded alike) and prints the mean and range of ROC-AUC and best F of
the default Mahalanobis score::

    DAGMM_DATA_HOME=... OMP_NUM_THREADS=1 python benchmarks/mnist_vae_grid.py \\
        "{}" "{'latent_dim': 200, 'shrinkage': 0.0}"

Results of the runs made so far: ``benchmarks/results/mnist_vae_grid.md``.
"""

from __future__ import annotations

import ast
import os
import sys

import numpy as np
import torch
from sklearn.metrics import precision_recall_curve

from dagmm.estimators import VAEDetector
from dagmm.evaluation import auroc
from dagmm.experiments.mnist_vae import load_zero_six_split

SEEDS = tuple(int(s) for s in os.environ.get("SEEDS", "0,1,2,3,4").split(","))


def best_f(y: np.ndarray, score: np.ndarray) -> float:
    precision, recall, _ = precision_recall_curve(y, score)
    return float((2 * precision * recall / np.maximum(precision + recall, 1e-12)).max())


def main(argv: list[str]) -> None:
    torch.set_num_threads(1)
    data_home = os.environ.get("DAGMM_DATA_HOME")
    splits = {seed: load_zero_six_split(data_home, random_state=seed) for seed in SEEDS}
    for text in argv or ["{}"]:
        overrides = ast.literal_eval(text)
        aurocs, fs = [], []
        for seed, split in splits.items():
            model = VAEDetector.from_preset("mnist", random_state=seed, **overrides)
            score = model.fit(split.X_train).mahalanobis(split.X_test)
            aurocs.append(auroc(split.y_test, score))
            fs.append(best_f(split.y_test, score))
        print(
            f"{text}  ROC-AUC {np.mean(aurocs):.4f} ({min(aurocs):.4f}-{max(aurocs):.4f})"
            f"  best F {np.mean(fs):.4f} ({min(fs):.4f}-{max(fs):.4f})",
            flush=True,
        )


if __name__ == "__main__":
    main(sys.argv[1:])
