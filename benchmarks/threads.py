"""Seconds per epoch and scoring rows/s of DAGMM against torch's intra-op thread count.

Backs the rule of ``n_jobs=None`` (``dagmm.estimators._base.auto_threads``): how
many threads pay off for a given minibatch. Each setting runs in this process,
one after the other, with ``torch.set_num_threads``; report the median of
``--repeats`` fits. On a machine shared with other processes, extra threads spin
against them, which is exactly the case the rule has to get right.

    python benchmarks/threads.py --threads 1,2 --batches 64,256,1024,4096
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time

import numpy as np
import torch

from dagmm import DAGMM


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--batches", default="64,256,1024,4096")
    parser.add_argument("--rows", type=int, default=8192)
    parser.add_argument("--features", type=int, default=118)
    parser.add_argument("--hiddens", default="60,30,10,1")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--score-rows", type=int, default=200_000)
    parser.add_argument("--json", default=None, help="also write the results here")
    args = parser.parse_args()
    threads = [int(t) for t in args.threads.split(",")]
    batches = [int(b) for b in args.batches.split(",")]
    hiddens = tuple(int(h) for h in args.hiddens.split(","))
    rng = np.random.default_rng(0)
    X = rng.normal(size=(args.rows, args.features)).astype(np.float32)
    X_score = rng.normal(size=(args.score_rows, args.features)).astype(np.float32)
    print(
        f"# {platform.node()} cpus={os.cpu_count()} torch={torch.__version__} "
        f"rows={args.rows} features={args.features} hiddens={hiddens} epochs={args.epochs} "
        f"load={os.getloadavg()[0]:.2f}",
        flush=True,
    )
    results = []
    for batch in batches:
        for n in threads:
            times = []
            for repeat in range(args.repeats):
                model = DAGMM(comp_hiddens=hiddens, minibatch_size=batch, epoch_size=args.epochs,
                              compile=False, device="cpu", random_state=repeat, n_jobs=n)
                start = time.perf_counter()
                model.fit(X)
                times.append((time.perf_counter() - start) / args.epochs)
            per_epoch = float(np.median(times))
            results.append({"kind": "fit", "batch": batch, "threads": n, "s_per_epoch": per_epoch})
            print(f"fit   batch={batch:5d} threads={n:2d}  {per_epoch:.3f} s/epoch", flush=True)
    for n in threads:
        model.set_params(n_jobs=n)
        model.energy(X_score[:8192])  # warm up
        best = min(_timed(model, X_score) for _ in range(args.repeats))
        rate = args.score_rows / best
        results.append({"kind": "score", "threads": n, "rows_per_s": rate})
        print(f"score threads={n:2d}  {rate / 1e6:.2f} M rows/s", flush=True)
    if args.json:
        with open(args.json, "w") as handle:
            json.dump({"args": vars(args), "cpus": os.cpu_count(), "results": results}, handle,
                      indent=1)


def _timed(model: DAGMM, X: np.ndarray) -> float:
    start = time.perf_counter()
    model.energy(X)
    return time.perf_counter() - start


if __name__ == "__main__":
    main()
