"""Credit-card fraud, as a fraud analyst would run it: fit, evaluate, tune, evaluate.

The Kaggle file ``creditcard.csv`` (284,807 transactions, 492 frauds; columns
``Time``, ``V1``..``V28``, ``Amount``, ``Class``) needs a Kaggle login, so it
is never downloaded: put it in the data home (``$DAGMM_DATA_HOME``, or
``--data-home``). An undersampled copy with the same columns,
``creditcard_sample.csv`` (every fraud, 5,000 random normal transactions), is
read too (``--file sample``; ``auto``, the default, takes the full file when
it is there). The example says which file it read: on the sample the fraud
share is 8.96%, not the natural 0.173%, so its precision and PR-AUC are those
of that share. It therefore reports, beside ROC-AUC and PR-AUC, the precision
at a fixed recall (``--recall``, default 0.8) both at the file's share and
rescaled to the natural share from the recall and false-positive rate (the
normal rows of the sample are a random draw, so those two carry over).
Without either file, ``--synthetic`` runs the same steps on a synthetic file
with the same columns (:func:`dagmm.workflow.make_creditcard_like`); its
numbers say nothing about the real data.

The steps, each a ``dagmm`` command (printed before it runs, so it can be
copied to a shell):

1. Split: 80% of the normal transactions to train on (``train.csv``); the
   other 20% plus every fraud to test on (``test.csv``).
2. ``dagmm fit`` with default settings on ``train.csv``: ``Time`` dropped,
   ``Amount`` and the V columns standardized by the preprocessor, the label
   column ``Class`` read so that only normal rows are trained on.
3. ``dagmm evaluate`` on ``test.csv`` and ``dagmm score`` for each row's
   energy; Isolation Forest on the same split for comparison.
4. ``dagmm tune`` on the whole file: the same 80% of normal transactions to
   train on, the test part halved into a validation half that picks the trial
   and a final test half (``tune/test.csv``).
5. ``dagmm evaluate`` (and ``dagmm score``) of the tuned model on that final
   test half, beside the default model on the same rows.

Every figure goes to ``results.json`` in ``--out`` as well.

Usage::

    python examples/creditcard.py                       # the real file, from the data home
    python examples/creditcard.py --file sample --seed 1 --out runs/cc1
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
from dagmm.datasets.creditcard import NATURAL_FRAUD_SHARE
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


def creditcard_file(args: argparse.Namespace, out: Path) -> tuple[Path, str]:
    """The real file (checked by the loader) or a synthetic one, and what it is.

    The second value is ``"full"``, ``"sample"`` (see
    :func:`dagmm.datasets.load_creditcard`) or ``"synthetic"``.
    """
    if args.synthetic:
        path = out / "creditcard-synthetic.csv"
        frame = make_creditcard_like(
            args.rows, fraud_fraction=args.fraud_fraction, random_state=args.seed
        )
        frame.to_csv(path, index=False)
        print(
            f"synthetic data: {len(frame)} transactions, {int(frame[LABEL].sum())} frauds -> {path}"
        )
        return path, "synthetic"
    try:
        bunch = load_creditcard(args.data_home, file=args.file)
    except DatasetNotFoundError as exc:
        print(f"{exc}\n\nOr run this example on synthetic data: --synthetic", file=sys.stderr)
        raise SystemExit(2) from None
    print(
        f"real data, {bunch.kind} file: {bunch.data.shape[0]} transactions, "
        f"{int(bunch.target.sum())} frauds ({bunch.filename})\n{bunch.note}"
    )
    return Path(bunch.filename), bunch.kind


def ranking_metrics(
    is_fraud: np.ndarray, energy: np.ndarray, recall: float, share: float
) -> dict[str, float]:
    """ROC-AUC, PR-AUC, and precision at a fixed recall at two fraud shares.

    The threshold flags the fewest highest-energy rows that catch ``recall``
    of the frauds. ``precision_at_recall`` is the precision on these rows;
    ``precision_at_recall_natural`` the precision the same threshold would
    have at the fraud share ``share``, from its recall r and false-positive
    rate f: share r / (share r + (1 - share) f). It is an estimate: with
    1,000 normal test rows f is known to about 0.001, while at the natural
    share 0.173% every 0.001 of f matters.
    """
    is_fraud = np.asarray(is_fraud, dtype=bool)
    order = np.argsort(-np.asarray(energy, dtype=np.float64), kind="stable")
    caught = np.cumsum(is_fraud[order])  # frauds among the top k+1 rows
    k = int(np.searchsorted(caught, np.ceil(recall * is_fraud.sum() - 1e-9))) + 1
    true_pos = int(caught[k - 1])
    r, f = true_pos / is_fraud.sum(), (k - true_pos) / max((~is_fraud).sum(), 1)
    return {
        "auroc": float(roc_auc_score(is_fraud, energy)),
        "auprc": float(average_precision_score(is_fraud, energy)),
        "recall": float(r),
        "false_positive_rate": float(f),
        "precision_at_recall": true_pos / k,
        "precision_at_recall_natural": float(share * r / (share * r + (1 - share) * f))
        if share * r + (1 - share) * f > 0
        else 1.0,
    }


def dagmm_energies(model: Path, rows: Path, out: Path, quiet: bool) -> np.ndarray:
    """``dagmm score`` of ``rows``; returns the energy column."""
    run(
        "score",
        str(rows),
        "--model",
        str(model),
        "--out",
        str(out),
        *(["--quiet"] if quiet else []),
    )
    return pd.read_csv(out)["energy"].to_numpy()


def isolation_forest(train: pd.DataFrame, test: pd.DataFrame, seed: int) -> np.ndarray:
    """Energies (negated scores) of Isolation Forest, default settings, same columns."""
    pre = TabularPreprocessor(drop_cols=[DROPPED, LABEL]).fit(train)
    forest = IsolationForest(random_state=seed).fit(pre.transform(train))
    return -forest.score_samples(pre.transform(test))


def main(argv: list[str] | None = None) -> dict[str, dict[str, float]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data-home",
        help="Folder holding creditcard.csv or creditcard_sample.csv (default: $DAGMM_DATA_HOME).",
    )
    parser.add_argument(
        "--file",
        choices=("auto", "full", "sample"),
        default="auto",
        help="creditcard.csv (full), creditcard_sample.csv (sample), or the full one if present.",
    )
    parser.add_argument(
        "--synthetic", action="store_true", help="Use a synthetic file with the same columns."
    )
    parser.add_argument("--rows", type=int, default=50_000, help="Rows of the synthetic file.")
    parser.add_argument(
        "--fraud-fraction", type=float, default=0.005, help="Frauds in the synthetic file."
    )
    parser.add_argument("--out", type=Path, default=Path("creditcard-run"), help="Output folder.")
    parser.add_argument(
        "--trials", type=int, default=30, help="Tuning trials; 0 skips tuning (steps 4-5)."
    )
    parser.add_argument(
        "--metric",
        choices=("auprc", "f1", "auroc"),
        default="auprc",
        help="What `dagmm tune` maximises on the validation rows.",
    )
    parser.add_argument(
        "--recall", type=float, default=0.8, help="Recall at which precision is reported."
    )
    parser.add_argument(
        "--epochs",
        type=int,
        default=None,
        help="Epochs of `fit` and most epochs of a tuning trial.",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quiet", action="store_true", help="No progress bars.")
    args = parser.parse_args(argv)
    if args.trials < 0:
        parser.error(f"--trials must be 0 (no tuning) or more; got {args.trials}")
    if not 0.0 < args.recall <= 1.0:
        parser.error(f"--recall must be in (0, 1]; got {args.recall}")
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    data, kind = creditcard_file(args, out)
    common = ["--seed", str(args.seed)] + (["--epochs", str(args.epochs)] if args.epochs else [])
    common += ["--quiet"] if args.quiet else []
    quiet = ["--quiet"] if args.quiet else []

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

    def measured(rows: pd.DataFrame, energy: np.ndarray) -> dict[str, float]:
        return ranking_metrics(anomaly_mask(rows[LABEL]), energy, args.recall, NATURAL_FRAUD_SHARE)

    # 2-3. Default settings, then the report; Isolation Forest on the same split.
    fit_model = out / "fit-model"
    run(
        "fit",
        str(out / "train.csv"),
        "--label-col",
        LABEL,
        "--drop-cols",
        DROPPED,
        "--out",
        str(fit_model),
        *common,
    )
    run(
        "evaluate",
        str(out / "test.csv"),
        "--model",
        str(fit_model),
        "--out",
        str(out / "fit-report"),
        *quiet,
    )
    results = {
        "dagmm fit (defaults)": measured(
            test, dagmm_energies(fit_model, out / "test.csv", out / "fit-scores.csv", args.quiet)
        ),
        "isolation forest": measured(test, isolation_forest(train, test, args.seed)),
    }

    # 4-5. Tuning on the whole file, then the final test half for every model.
    if args.trials:
        tune_and_compare(args, data, out, fit_model, train, common, quiet, measured, results)
    report(args, kind, data, frame, out, results)
    return results


def tune_and_compare(args, data, out, fit_model, train, common, quiet, measured, results) -> None:
    """Steps 4-5: ``dagmm tune``, then every model on the tuning's final test half."""
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
        args.metric,
        "--out",
        str(out / "tune"),
        *common,
    )
    tuned_test = out / "tune" / "test.csv"
    final = pd.read_csv(tuned_test)
    run(
        "evaluate",
        str(tuned_test),
        "--model",
        str(out / "tune" / "model"),
        "--out",
        str(out / "tune-report"),
        *quiet,
    )
    results["dagmm tuned (final test half)"] = measured(
        final,
        dagmm_energies(out / "tune" / "model", tuned_test, out / "tune-scores.csv", args.quiet),
    )
    results["dagmm fit (final test half)"] = measured(
        final, dagmm_energies(fit_model, tuned_test, out / "fit-scores-final-half.csv", True)
    )
    results["isolation forest (final test half)"] = measured(
        final, isolation_forest(train, final, args.seed)
    )


def report(args, kind, data, frame, out, results) -> None:
    """Print the table and write ``results.json``."""
    natural = f"prec. at {NATURAL_FRAUD_SHARE:.3%}"
    print(
        f"\n{kind} file; precision at recall {args.recall:g} at this file's fraud share "
        f"({frame[LABEL].mean():.2%}) and rescaled to the natural share:"
    )
    print(f"{'model':<36}{'ROC-AUC':>9}{'PR-AUC':>9}{'precision':>11}{natural:>18}")
    for name, m in results.items():
        print(
            f"{name:<36}{m['auroc']:>9.4f}{m['auprc']:>9.4f}{m['precision_at_recall']:>11.4f}"
            f"{m['precision_at_recall_natural']:>18.4f}"
        )
    summary = {
        "file": kind,
        "data": Path(data).name,  # the file name: where it lies is the machine's business
        "fraud_share": float(frame[LABEL].mean()),
        "natural_fraud_share": NATURAL_FRAUD_SHARE,
        "seed": args.seed,
        "trials": args.trials,
        "tune_metric": args.metric,
        "recall": args.recall,
        "epochs": args.epochs,
        "results": results,
    }
    (out / "results.json").write_text(json.dumps(summary, indent=2) + "\n")
    reports = [out / "fit-report" / "report.html"]
    reports += [out / "tune-report" / "report.html"] if args.trials else []
    print(f"\nreports: {', '.join(map(str, reports))}; figures: {out / 'results.json'}")


if __name__ == "__main__":
    main()
