"""Training and scoring speed of DAGMM on the paper's KDDCUP network.

Trains 60-30-10-1 / est 10-4 (K=4), minibatch 1024, on 198,000 x 118 rows (the
size of KDDCUP's normal training half) and prints seconds per epoch, the
one-off compilation cost, and scoring throughput (rows per second, energy
included). Synthetic rows with KDDCUP's shape (one-hot blocks plus skewed
numeric columns) are used so that no download is needed; speed does not
depend on the values.

Timings depend on what else runs on the machine: the load average is printed
before and after, and scoring reports the median as well as the best of its
repeats. With several threads, a busy machine inflates medians far more than
best times (a kernel waits for its slowest thread).

Usage::

    python benchmarks/speed.py [--threads 2] [--epochs 5] [--no-compile] [--device cpu]
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import torch

from dagmm import DAGMM

N_ROWS, N_FEATURES = 198_000, 118


def synthetic_kddcup(n_rows: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    X = np.zeros((n_rows, N_FEATURES), dtype=np.float32)
    for start, width in ((0, 3), (3, 66), (69, 11)):  # protocol, service, flag one-hots
        X[np.arange(n_rows), start + rng.integers(0, width, n_rows)] = 1.0
    X[:, 80:] = rng.lognormal(0.0, 1.0, size=(n_rows, N_FEATURES - 80)) / 10.0
    return X


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--no-compile", action="store_true")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--score-repeats", type=int, default=9)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    X = synthetic_kddcup(N_ROWS)
    compile_flag = not args.no_compile
    print(f"torch {torch.__version__}, {args.threads} threads, device {args.device}, "
          f"compile={compile_flag}, {N_ROWS} x {N_FEATURES} rows; {_load()}")

    def model(epochs: int) -> DAGMM:
        return DAGMM(comp_hiddens=(60, 30, 10, 1), est_hiddens=(10, 4), minibatch_size=1024,
                     epoch_size=epochs, normalize="minmax", compile=compile_flag,
                     device=args.device, random_state=0, n_jobs=args.threads)

    # The first epoch includes compilation; the per-epoch figure is the median
    # of the later epochs' wall-clock times recorded in history_["seconds"].
    start = time.perf_counter()
    fitted = model(1 + args.epochs).fit(X)
    total = time.perf_counter() - start
    seconds = fitted.history_["seconds"]
    per_epoch = float(np.median(seconds[1:]))
    print(f"training: {per_epoch:.3f} s per epoch (median of epochs 2-{len(seconds)}; "
          f"{N_ROWS // 1024} full batches + 1 ragged)")
    print(f"first epoch {seconds[0]:.2f} s, so compilation costs about "
          f"{max(seconds[0] - per_epoch, 0):.1f} s once; whole fit {total:.1f} s "
          "(validation, GMM freeze and threshold included)")

    start = time.perf_counter()
    fitted.energy(X[:20_000])  # warm-up (compiles the scoring graph)
    print(f"scoring warm-up (compilation included) {time.perf_counter() - start:.1f} s")
    timings = []
    for _ in range(args.score_repeats):
        start = time.perf_counter()
        fitted.energy(X)
        timings.append(time.perf_counter() - start)
    best = min(timings)
    print(f"scoring: {N_ROWS / best / 1e6:.2f} million rows/s (best of {args.score_repeats}; "
          f"median {N_ROWS / np.median(timings) / 1e6:.2f})")
    print(f"done; {_load()}")


def _load() -> str:
    if not hasattr(os, "getloadavg"):
        return "load average unknown"
    one, five, _ = os.getloadavg()
    return f"load average {one:.2f} (1 min), {five:.2f} (5 min) on {os.cpu_count()} CPUs"


if __name__ == "__main__":
    main()
