"""The ``dagmm fit`` defaults with unlabelled frauds in the training rows: ``--restarts`` 1 vs N.

Each draw makes a synthetic credit-card table (:func:`dagmm.workflow.make_creditcard_like`,
40,000 rows, 2% frauds), trains the workflow's detector on a random half
*including* its frauds (no label column, as a user without labels would), and
scores the other half. One JSON line per draw: ROC-AUC, average precision,
and the final reconstruction error of each restart::

    PYTHONPATH=src python benchmarks/workflow_restarts.py --restarts 3 --draws 0,1,2
"""

from __future__ import annotations

import argparse
import json

import numpy as np
import torch

from dagmm.evaluation import auprc, auroc
from dagmm.workflow import make_creditcard_like
from dagmm.workflow.detector import TabularDetector
from dagmm.workflow.options import FitOptions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--restarts", type=int, default=1)
    parser.add_argument("--draws", default="0", help="comma-separated seeds of the tables")
    parser.add_argument("--rows", type=int, default=40_000)
    parser.add_argument("--fraud-fraction", type=float, default=0.02)
    args = parser.parse_args()
    torch.set_num_threads(1)
    for draw in (int(d) for d in args.draws.split(",")):
        table = make_creditcard_like(args.rows, args.fraud_fraction, random_state=draw)
        table = table.drop(columns=["Time"])
        order = np.random.default_rng(draw).permutation(len(table))
        train, test = table.iloc[order[: len(table) // 2]], table.iloc[order[len(table) // 2 :]]
        options = FitOptions(n_restarts=args.restarts, random_state=draw, device="cpu")
        detector = TabularDetector.from_options(options).fit(train.drop(columns=["Class"]))
        energy = detector.energy(test.drop(columns=["Class"]))
        labels = test["Class"].to_numpy()
        line = {
            "restarts": args.restarts,
            "draw": draw,
            "train_frauds": int(train["Class"].sum()),
            "auroc": round(auroc(labels, energy), 4),
            "ap": round(auprc(labels, energy), 4),
            "errors": [round(e, 3) for e in detector.model_.history_["restart_errors"]],
        }
        print(json.dumps(line), flush=True)


if __name__ == "__main__":
    main()
