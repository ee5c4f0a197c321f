"""Credit-card fraud, as a fraud analyst would run it: fit, evaluate, tune, evaluate.

The Kaggle file ``creditcard.csv`` (284,807 transactions, 492 frauds; columns
``Time``, ``V1``..``V28``, ``Amount``, ``Class``) needs a Kaggle login, so it
is never downloaded: put it in the data home (``$DAGMM_DATA_HOME``, or
``--data-home``). Without it, ``--synthetic`` runs the same steps on a
synthetic file with the same columns (:func:`dagmm.workflow.make_creditcard_like`);
its numbers say nothing about the real data.

The steps, each a ``dagmm`` command (printed before it runs, so it can be
copied to a shell):

1. Split: 80% of the normal transactions to train on (``train.csv``); the
   other 20% plus every fraud to test on (``test.csv``).
2. ``dagmm fit`` with default settings on ``train.csv``: ``Time`` dropped,
   ``Amount`` and the V columns standardized by the preprocessor, the label
   column ``Class`` read so that only normal rows are trained on.
3. ``dagmm evaluate`` on ``test.csv``; Isolation Forest on the same split for
   comparison.
4. ``dagmm tune`` on the whole file: the same 80% of normal transactions to
   train on, the test part halved into a validation half that picks the trial
   and a final test half (``tune/test.csv``).
5. ``dagmm evaluate`` of the tuned model on that final test half, beside the
   default model on the same rows.

Usage::

    python examples/creditcard.py                       # the real file, from the data home
    python examples/creditcard.py --synthetic --rows 50000 --trials 10
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.ensemble import IsolationForest
from sklearn.metrics import average_precision_score, roc_auc_score

from dagmm.cli import main as dagmm
from dagmm.datasets import load_creditcard
from dagmm.exceptions import DatasetNotFoundError
from dagmm.tabular import TabularPreprocessor
from dagmm.workflow import anomaly_mask, holdout_split, make_creditcard_like

LABEL, DROPPED = "Class", "Time"
TRAIN_FRACTION = 0.8


def run(*args: str) -> None:
    """Run one ``dagmm`` command, printing it first; stop on failure."""
    print("\n$ dagmm " + " ".join(shlex.quote(arg) for arg in args), flush=True)
    code = dagmm(list(args))
    if code != 0:
        raise SystemExit(code)


def creditcard_file(args: argparse.Namespace, out: Path) -> Path:
    """The real creditcard.csv (checked by the loader), or a synthetic one."""
    if args.synthetic:
        path = out / "creditcard-synthetic.csv"
        frame = make_creditcard_like(
            args.rows, fraud_fraction=args.fraud_fraction, random_state=args.seed
        )
        frame.to_csv(path, index=False)
        print(
            f"synthetic data: {len(frame)} transactions, {int(frame[LABEL].sum())} frauds -> {path}"
        )
        return path
    try:
        bunch = load_creditcard(args.data_home)
    except DatasetNotFoundError as exc:
        print(f"{exc}\n\nOr run this example on synthetic data: --synthetic", file=sys.stderr)
        raise SystemExit(2) from None
    print(
        f"real data: {bunch.data.shape[0]} transactions, {int(bunch.target.sum())} frauds ({bunch.filename})"
    )
    return Path(bunch.filename)


def isolation_forest(train: pd.DataFrame, test: pd.DataFrame, seed: int) -> dict[str, float]:
    """Isolation Forest with default settings on the same preprocessed columns."""
    pre = TabularPreprocessor(drop_cols=[DROPPED, LABEL]).fit(train)
    forest = IsolationForest(random_state=seed).fit(pre.transform(train))
    energy = -forest.score_samples(pre.transform(test))
    y = anomaly_mask(test[LABEL])
    return {"auroc": roc_auc_score(y, energy), "auprc": average_precision_score(y, energy)}


def main(argv: list[str] | None = None) -> dict[str, dict[str, float]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data-home", help="Folder holding creditcard.csv (default: $DAGMM_DATA_HOME)."
    )
    parser.add_argument(
        "--synthetic", action="store_true", help="Use a synthetic file with the same columns."
    )
    parser.add_argument("--rows", type=int, default=50_000, help="Rows of the synthetic file.")
    parser.add_argument(
        "--fraud-fraction", type=float, default=0.005, help="Frauds in the synthetic file."
    )
    parser.add_argument("--out", type=Path, default=Path("creditcard-run"), help="Output folder.")
    parser.add_argument("--trials", type=int, default=30, help="Tuning trials.")
    parser.add_argument(
        "--epochs",
        type=int,
        default=None,
        help="Epochs of `fit` and most epochs of a tuning trial.",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quiet", action="store_true", help="No progress bars.")
    args = parser.parse_args(argv)
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    data = creditcard_file(args, out)
    common = ["--seed", str(args.seed)] + (["--epochs", str(args.epochs)] if args.epochs else [])
    common += ["--quiet"] if args.quiet else []

    # 1. Split: the same rule (and seed) as `dagmm tune` uses below.
    frame = pd.read_csv(data)
    split = holdout_split(anomaly_mask(frame[LABEL]), train_fraction=TRAIN_FRACTION, seed=args.seed)
    held_out = np.sort(np.concatenate([split.validation, split.test]))
    train, test = frame.iloc[split.train], frame.iloc[held_out]
    train.to_csv(out / "train.csv", index=False)
    test.to_csv(out / "test.csv", index=False)
    print(
        f"train.csv: {len(train)} normal transactions; test.csv: {len(test)} rows, "
        f"{int(test[LABEL].sum())} frauds"
    )

    # 2-3. Default settings, then the report; Isolation Forest on the same split.
    run(
        "fit",
        str(out / "train.csv"),
        "--label-col",
        LABEL,
        "--drop-cols",
        DROPPED,
        "--out",
        str(out / "fit-model"),
        *common,
    )
    run(
        "evaluate",
        str(out / "test.csv"),
        "--model",
        str(out / "fit-model"),
        "--out",
        str(out / "fit-report"),
        *(["--quiet"] if args.quiet else []),
    )
    results = {
        "dagmm fit (defaults)": json.loads((out / "fit-report" / "metrics.json").read_text()),
        "isolation forest": isolation_forest(train, test, args.seed),
    }

    # 4-5. Tuning on the whole file, then the final test half for both models.
    run(
        "tune",
        str(data),
        "--label-col",
        LABEL,
        "--drop-cols",
        DROPPED,
        "--trials",
        str(args.trials),
        "--metric",
        "auprc",
        "--out",
        str(out / "tune"),
        *common,
    )
    tuned_test = out / "tune" / "test.csv"
    run(
        "evaluate",
        str(tuned_test),
        "--model",
        str(out / "tune" / "model"),
        "--out",
        str(out / "tune-report"),
        *(["--quiet"] if args.quiet else []),
    )
    run(
        "evaluate",
        str(tuned_test),
        "--model",
        str(out / "fit-model"),
        "--out",
        str(out / "fit-report-final-half"),
        "--quiet",
    )
    results["dagmm tuned (final test half)"] = json.loads(
        (out / "tune-report" / "metrics.json").read_text()
    )
    results["dagmm fit (final test half)"] = json.loads(
        (out / "fit-report-final-half" / "metrics.json").read_text()
    )

    print(f"\n{'model':<32}{'ROC-AUC':>9}{'PR-AUC':>9}")
    for name, metrics in results.items():
        print(f"{name:<32}{metrics['auroc']:>9.4f}{metrics['auprc']:>9.4f}")
    print(f"\nreports: {out / 'fit-report' / 'report.html'}, {out / 'tune-report' / 'report.html'}")
    return {name: {"auroc": m["auroc"], "auprc": m["auprc"]} for name, m in results.items()}


if __name__ == "__main__":
    main()
