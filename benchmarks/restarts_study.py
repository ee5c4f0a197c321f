"""DAGMM on KDDCUP with anomalies left in the training rows: which runs fail, and restarts.

For each split of the paper's protocol at training contamination ``c`` (the
paper's Sec. 4.5) this trains the benchmark's KDDCUP preset, plus ``key=value``
overrides, once per model seed ``split + offset`` (``--offsets``), and logs
one JSON line per run: the test F1 at the top 20%, the mean squared
reconstruction error per input of the training rows after training (``rec``,
the quantity ``DAGMM(n_restarts=...)`` selects on) and the model's
``restart_errors``. Several offsets on the same split tell whether a failure
belongs to the split or to the initialisation; with ``n_restarts=3`` the run
is the library's own selection::

    PYTHONPATH=src python benchmarks/restarts_study.py 0.03 --splits 0,1,2 \
        --offsets 0,100,200 n_init=1 --log runs/restarts.jsonl
    PYTHONPATH=src python benchmarks/restarts_study.py 0.03 --splits 0,1,2 n_restarts=3

``summary LOG...`` prints, per (contamination, overrides), the mean F1 of the
first offset, of the run with the lowest ``rec`` among the offsets of a
split, and of the best run (an oracle no method can use).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).parent))
from paper_study import cached_dataset, parse_overrides  # noqa: E402

from dagmm import DAGMM  # noqa: E402
from dagmm.benchmark.presets import get_preset  # noqa: E402
from dagmm.benchmark.protocol import apply_scaler, fit_scaler, get_dataset, paper_split  # noqa: E402
from dagmm.evaluation import evaluate_energies  # noqa: E402


def summary(paths: list[str]) -> str:
    """Mean F1 of the first run, the lowest-``rec`` run and the best run per split."""
    runs: dict[tuple[float, str], dict[int, list[dict]]] = defaultdict(lambda: defaultdict(list))
    for path in paths:
        for text in Path(path).read_text().splitlines():
            line = json.loads(text)
            runs[(line["c"], line["over"])][line["split"]].append(line)
    out = ["| contamination | overrides | splits | runs per split | first | lowest rec | best |"]
    out.append("|---|---|---|---|---|---|---|")
    for (c, over), by_split in sorted(runs.items()):
        first = [rs[0]["f1"] for rs in by_split.values()]
        chosen = [min(rs, key=lambda r: r["rec"])["f1"] for rs in by_split.values()]
        best = [max(r["f1"] for r in rs) for rs in by_split.values()]
        per_split = sorted({len(rs) for rs in by_split.values()})
        out.append(
            f"| {c} | {over} | {len(by_split)} | {'/'.join(map(str, per_split))} | "
            f"{np.mean(first):.3f} | {np.mean(chosen):.3f} | {np.mean(best):.3f} |"
        )
    return "\n".join(out)


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "summary":
        print(summary(argv[1:]))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("contamination", type=float)
    parser.add_argument("variant", nargs="*", help="key=value DAGMM overrides of the preset")
    parser.add_argument("--splits", default="0", help="comma-separated split seeds")
    parser.add_argument("--offsets", default="0", help="model seed = split + offset, each")
    parser.add_argument("--data-home", default=None)
    parser.add_argument("--cache", type=Path, default=Path("runs/study-cache"))
    parser.add_argument("--log", type=Path, default=None, help="append JSON lines here")
    args = parser.parse_intermixed_args(argv)
    torch.set_num_threads(1)

    overrides = parse_overrides(args.variant)
    X, y = cached_dataset("kddcup", args.data_home, args.cache)
    spec = get_dataset("kddcup")
    for split_seed in (int(s) for s in args.splits.split(",")):
        split = paper_split(X, y, split_seed, contamination=args.contamination)
        scaler = fit_scaler(spec.scaler, X[split.train])
        X_train, X_test = apply_scaler(scaler, X[split.train]), apply_scaler(scaler, X[split.test])
        for offset in (int(o) for o in args.offsets.split(",")):
            params = {**get_preset("kddcup"), "normalize": False, **overrides}
            params["random_state"] = split_seed + offset
            start = time.perf_counter()
            model = DAGMM(**params).fit(X_train)
            seconds = time.perf_counter() - start
            energy = model.energy(X_test)
            line = {
                "c": args.contamination,
                "split": split_seed,
                "model_seed": split_seed + offset,
                "over": repr(overrides),
                "f1": round(float(evaluate_energies(y[split.test], energy, 0.2)["f1"]), 4),
                "rec": round(float(model.reconstruction_errors(X_train).mean()), 5),
                "restart_errors": [round(e, 5) for e in model.history_["restart_errors"]],
                "seconds": round(seconds, 1),
            }
            print(json.dumps(line), flush=True)
            if args.log:
                with args.log.open("a") as handle:
                    handle.write(json.dumps(line) + "\n")


if __name__ == "__main__":
    main()
