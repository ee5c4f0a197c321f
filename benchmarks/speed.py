"""Training and scoring speed of DAGMM on the paper's KDDCUP network, per speed path.

The paper's KDDCUP network: 118 inputs, compression 60-30-10-1, estimation
10-4 (K = 4, mixture dimension d = 3), minibatch 1024. Rows are synthetic with
KDDCUP's shape (one-hot blocks plus skewed numeric columns), so no download is
needed; speed does not depend on the values.

Each hand-written speed path is switched on and off through its internal
flag, and every configuration is timed in the same process, interleaved
(repeat r runs every configuration once, in an order rotated by r), so a
change of machine load hits all of them alike:

* ``flat_adam``: :class:`dagmm.training.loop.FlatAdamStep` (compiled training
  only; off: the compiled loss with ``torch.optim.Adam``).
* ``onednn``: :func:`dagmm.training.compile.onednn_mlp` for compiled scoring
  (off: the whole energy compiled by ``torch.compile``).

Training is timed in steps per second over ``--steps`` full batches, scoring in
rows per second over ``--score-rows`` rows (energy included). The figures
printed are medians over ``--repeats`` repeats, and, per path, the median of
the per-repeat ratios on/off (paired, so robust to load that changes between
repeats). The load average is printed before and after.

Usage::

    python benchmarks/speed.py [--threads 1] [--repeats 7] [--steps 40] [--out results.json]
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import json
import os
import platform
import time
from collections.abc import Callable, Iterator

import numpy as np
import torch

import dagmm.training.compile as compile_module
import dagmm.training.loop as loop_module
from dagmm import DAGMM
from dagmm.training import TrainingLoop

N_FEATURES = 118
BATCH = 1024

#: Training configurations: (name, compiled, flat_adam).
TRAINING = [
    ("compiled, flat_adam on", True, True),
    ("compiled, flat_adam off", True, False),
    ("eager training", False, False),
]
#: Scoring configurations: (name, compiled, onednn).
SCORING = [
    ("compiled, onednn on", True, True),
    ("compiled, onednn off", True, False),
    ("eager scoring", False, False),
]
#: Per path: (path, configuration with it on, configuration with it off).
COMPARISONS = [
    ("flat_adam", "training", "compiled, flat_adam on", "compiled, flat_adam off"),
    ("onednn", "scoring", "compiled, onednn on", "compiled, onednn off"),
]


def synthetic_kddcup(n_rows: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    X = np.zeros((n_rows, N_FEATURES), dtype=np.float32)
    for start, width in ((0, 3), (3, 66), (69, 11)):  # protocol, service, flag one-hots
        X[np.arange(n_rows), start + rng.integers(0, width, n_rows)] = 1.0
    X[:, 80:] = rng.lognormal(0.0, 1.0, size=(n_rows, N_FEATURES - 80)) / 10.0
    return X


@contextlib.contextmanager
def paths(flat_adam: bool = True, onednn: bool = True) -> Iterator[None]:
    """Set the speed paths' internal flags for the block."""
    saved = (loop_module.FLAT_ADAM, compile_module.ONEDNN_SCORING)
    loop_module.FLAT_ADAM, compile_module.ONEDNN_SCORING = flat_adam, onednn
    try:
        yield
    finally:
        loop_module.FLAT_ADAM, compile_module.ONEDNN_SCORING = saved


def training_step(base: DAGMM, compiled: bool) -> Callable[[torch.Tensor], object]:
    """A fresh copy of ``base``'s network and the training step the fit would run on it."""
    estimator = copy.deepcopy(base)
    estimator.module_.train()
    loop = TrainingLoop(
        module=estimator.module_,
        optimizer=torch.optim.Adam(estimator.module_.parameters(), lr=1e-4),
        loss=estimator._batch_loss,
        term_names=("reconstruction", "energy", "cov_penalty"),
        batch_size=BATCH,
        generator=torch.Generator().manual_seed(0),
        compile=compiled,
    )
    step, _ = loop._stepper()
    return step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--steps", type=int, default=40, help="training steps per timing")
    parser.add_argument("--score-rows", type=int, default=100_000)
    parser.add_argument("--out", help="also write the timings as JSON here")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {platform.processor() or platform.machine()}, "
          f"{args.threads} thread(s), {args.repeats} repeats; {_load()}")

    X = synthetic_kddcup(max(args.score_rows, args.steps * BATCH))
    # A briefly fitted model supplies the network, the loss and a frozen mixture.
    base = DAGMM(comp_hiddens=(60, 30, 10, 1), est_hiddens=(10, 4), minibatch_size=BATCH,
                 epoch_size=1, normalize="minmax", compile=False, random_state=0,
                 n_jobs=args.threads).fit(X[:8 * BATCH])
    batches = [torch.from_numpy(X[i * BATCH : (i + 1) * BATCH]) for i in range(args.steps)]
    scoring_rows = X[: args.score_rows]

    steps, warmup = {}, {}
    for name, compiled, flat_adam in TRAINING:
        with paths(flat_adam=flat_adam):
            start = time.perf_counter()
            steps[name] = training_step(base, compiled)
            for batch in batches[:3]:  # compiles
                steps[name](batch)
            warmup[name] = time.perf_counter() - start
    scorers = {}
    for name, compiled, onednn in SCORING:
        with paths(onednn=onednn):
            scorers[name] = copy.deepcopy(base)
            scorers[name].compiled_ = compiled  # score as a model fitted with compile=compiled
            scorers[name]._scoring_state_changed()
            start = time.perf_counter()
            scorers[name].energy(scoring_rows[:20_000])  # compiles
            warmup[name] = time.perf_counter() - start
    print("warm-up (compilation included): "
          + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in warmup.items()))

    rates: dict[str, list[float]] = {name: [] for name in [*steps, *scorers]}  # names unique
    for repeat in range(args.repeats):
        order = TRAINING[repeat % len(TRAINING):] + TRAINING[: repeat % len(TRAINING)]
        for name, _, flat_adam in order:
            with paths(flat_adam=flat_adam):
                start = time.perf_counter()
                for batch in batches:
                    steps[name](batch)
                rates[name].append(len(batches) / (time.perf_counter() - start))
        order = SCORING[repeat % len(SCORING):] + SCORING[: repeat % len(SCORING)]
        for name, _, onednn in order:
            with paths(onednn=onednn):
                start = time.perf_counter()
                scorers[name].energy(scoring_rows)
                rates[name].append(len(scoring_rows) / (time.perf_counter() - start))
        print(f"repeat {repeat + 1}/{args.repeats} done; {_load()}")

    print("\n| configuration | median | min | max |\n|---|---|---|---|")
    for name, values in rates.items():
        unit = "steps/s" if name in steps else "rows/s"
        print(f"| {name} | {np.median(values):,.1f} {unit} | {min(values):,.1f} | "
              f"{max(values):,.1f} |")
    print("\n| path | speed-up on/off: median of paired ratios (min-max) | ratio of medians |\n"
          "|---|---|---|")
    speedups = {}
    for path, _, on, off in COMPARISONS:
        ratios = np.array(rates[on]) / np.array(rates[off])
        speedups[path] = float(np.median(ratios))
        print(f"| {path} | {np.median(ratios):.3f} ({ratios.min():.3f}-{ratios.max():.3f}) | "
              f"{np.median(rates[on]) / np.median(rates[off]):.3f} |")
    print(f"\ndone; {_load()}")
    if args.out:
        with open(args.out, "w", encoding="utf-8") as handle:
            json.dump({"torch": torch.__version__, "args": vars(args), "rates": rates,
                       "warmup_seconds": warmup, "speedups": speedups}, handle, indent=1)


def _load() -> str:
    if not hasattr(os, "getloadavg"):
        return "load average unknown"
    one, five, _ = os.getloadavg()
    return f"load average {one:.2f} (1 min), {five:.2f} (5 min) on {os.cpu_count()} CPUs"


if __name__ == "__main__":
    main()
