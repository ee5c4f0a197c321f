"""What decides DAGMM's accuracy on the paper's data sets: scaling, loss balance, epochs.

Each call trains DAGMM on one data set and seed with the paper's protocol
(:func:`dagmm.benchmark.protocol.paper_split`, scaler fitted on the training
rows) and evaluates the model at several epoch counts of the *same* training
run (``--checkpoints 1,2,5,10``): after each checkpoint the mixture is frozen
from the whole training set, exactly as a ``fit`` with that ``epoch_size``
would (the same seed gives the same minibatches, dropout masks and weights),
and the test rows are scored. One line of JSON per checkpoint goes to stdout
and, with ``--log``, is appended to a file.

Variants are given as DAGMM keyword arguments on top of the paper's settings for the
data set (:data:`~dagmm.benchmark.presets.PAPER_PRESETS`),
plus ``scaler=`` for the protocol's input scaling (``minmax``, ``standard``,
``none``) and ``clip=c`` to bound the scaled inputs to [-c, c] (default: the
data set's :attr:`~dagmm.benchmark.protocol.DatasetSpec.clip`; ``clip=None``
for none)::

    PYTHONPATH=src python benchmarks/paper_study.py kddcup --seeds 0 \
        --checkpoints 1,2,3,5,10,20 reconstruction=mean lambda2=1e-4

The preset's ``epoch_size`` is ignored: training runs to the last checkpoint.
The loaded data sets are cached as ``.npz`` files in ``--cache`` (default
``runs/study-cache``) so that repeated calls skip parsing the raw files.
"""

from __future__ import annotations

import argparse
import ast
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from dagmm import DAGMM
from dagmm.benchmark.presets import get_preset
from dagmm.benchmark.protocol import (
    apply_scaler,
    fit_scaler,
    get_dataset,
    load_dataset,
    paper_split,
)
from dagmm.estimators.dagmm import _DIVERGENCE_HINT
from dagmm.evaluation import auroc, evaluate_energies
from dagmm.exceptions import CovarianceError, TrainingDivergedError
from dagmm.training import TrainingLoop


def cached_dataset(name: str, data_home: str | None, cache: Path) -> tuple[np.ndarray, np.ndarray]:
    """``load_dataset(name)``, cached as ``cache/<name>.npz``."""
    path = cache / f"{name}.npz"
    if path.exists():
        with np.load(path) as stored:
            return stored["X"], stored["y"]
    X, y = load_dataset(name, data_home=data_home)
    cache.mkdir(parents=True, exist_ok=True)
    np.savez(path, X=X, y=y)
    return X, y


class CheckpointedDAGMM(DAGMM):
    """DAGMM that freezes the mixture and calls ``on_checkpoint`` at given epochs.

    Study tool only: it drives the estimator's training loop in pieces, so that
    one run yields the model at every checkpoint.
    """

    checkpoints: tuple[int, ...] = ()
    on_checkpoint: Any = None

    def _fit_module(self, data: torch.Tensor, seed: int) -> None:
        if self.n_restarts > 1:  # one training run is cut into checkpoints; restarts are not
            raise SystemExit(
                f"n_restarts={self.n_restarts}: paper_study.py follows one training run; "
                "use benchmarks/restarts_study.py for whole restarts"
            )
        generator = torch.Generator().manual_seed(seed)
        self.compiled_ = False
        if self.pretrain_epochs:  # DAGMM-p: the compression network alone first
            batch_size = min(int(self.minibatch_size), data.shape[0])
            self._pretrain(data, generator, batch_size, seed)
        loop = TrainingLoop(
            module=self.module_,
            optimizer=torch.optim.Adam(self.module_.parameters(), lr=self.learning_rate),
            loss=self._batch_loss,
            term_names=("reconstruction", "energy", "cov_penalty"),
            batch_size=min(int(self.minibatch_size), data.shape[0]),
            generator=generator,
            divergence_hint=_DIVERGENCE_HINT,
        )
        history: dict[str, list[float]] = {}
        done = 0
        for checkpoint in self.checkpoints:
            for key, values in loop.run(data, checkpoint - done).items():
                history.setdefault(key, []).extend(values)
            done = checkpoint
            self.history_ = history
            self._freeze_mixture(data)
            self.on_checkpoint(self, done)


#: KDDCUP's one-hot blocks (protocol_type, service) in the loader's column order.
_KDD_PROTOCOL, _KDD_SERVICE = slice(0, 3), slice(3, 69)


def largest_blocks(
    X_test: np.ndarray, y_test: np.ndarray, energy: np.ndarray, ratio: float
) -> list[dict[str, Any]]:
    """KDDCUP only: the largest (protocol, service) block of each test class.

    Whole blocks of near-identical connections fall on one side of the
    threshold together, which is what makes F1 jump between seeds.
    """
    key = X_test[:, _KDD_PROTOCOL].argmax(axis=1) * 100 + X_test[:, _KDD_SERVICE].argmax(axis=1)
    threshold = evaluate_energies(y_test, energy, ratio)["threshold"]
    blocks = []
    for label in (1, 0):
        values, counts = np.unique(key[y_test == label], return_counts=True)
        rows = (y_test == label) & (key == values[counts.argmax()])
        blocks.append(
            {
                "label": label,
                "rows": int(rows.sum()),
                "flagged": round(float((energy[rows] > threshold).mean()), 3),
                "median_energy": round(float(np.median(energy[rows])), 2),
                "threshold": round(float(threshold), 2),
            }
        )
    return blocks


def diagnose(model: DAGMM, X_test: np.ndarray, y_test: np.ndarray, ratio: float) -> dict[str, Any]:
    """What the energy is built from, measured on the test rows.

    ``z_auroc``: AUROC of each column of the mixture input z (latent code,
    relative distance, cosine) on its own, 0.5 = useless, below 0.5 =
    inverted; ``reconstruction_auroc``: AUROC of the absolute squared
    reconstruction error (not part of z); ``normal_relative_distance``: mean
    relative distance of the normal test rows (1 = reconstructs no better
    than zero); ``mixture_spread``: largest distance between two component
    means (0 = the mixture is one Gaussian in K copies); ``latent_std``:
    standard deviation of each latent column on the normal test rows;
    ``blocks`` (KDDCUP data only): see :func:`largest_blocks`.
    """

    z = model.transform(X_test)
    error = model.reconstruction_errors(X_test).sum(axis=1)
    means = model.means_
    spread = max(
        (float(np.linalg.norm(a - b)) for i, a in enumerate(means) for b in means[i + 1 :]),
        default=0.0,
    )
    report: dict[str, Any] = {
        "z_auroc": [round(auroc(y_test, column), 3) for column in z.T],
        "reconstruction_auroc": round(auroc(y_test, error), 3),
        "normal_relative_distance": round(float(z[y_test == 0, -2].mean()), 3),
        "mixture_spread": round(spread, 3),
        "latent_std": [float(f"{v:.3g}") for v in z[y_test == 0, :-2].std(axis=0)],
    }
    if X_test.shape[1] == 118:
        report["blocks"] = largest_blocks(X_test, y_test, model.energy(X_test), ratio)
    return report


def parse_overrides(pairs: list[str]) -> dict[str, Any]:
    overrides = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        if not sep:
            raise SystemExit(f"variant {pair!r} is not key=value")
        try:
            overrides[key] = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            overrides[key] = text
    return overrides


def table(paths: list[str], metric: str = "f1") -> str:
    """Markdown table of a study log: mean (min-max) of ``metric`` per tag and epoch."""
    # (dataset, tag) -> epoch -> seed -> value; a repeated run (same seed) counts once.
    runs: dict[tuple[str, str], dict[int, dict[int, float]]] = {}
    for path in paths:
        for text in Path(path).read_text().splitlines():
            line = json.loads(text)
            if "epoch" not in line:
                continue
            key = (line["dataset"], line["tag"] or json.dumps(line["variant"]))
            runs.setdefault(key, {}).setdefault(line["epoch"], {})[line["seed"]] = line[metric]
    rows = {
        key: {epoch: list(by_seed.values()) for epoch, by_seed in by_epoch.items()}
        for key, by_epoch in runs.items()
    }
    epochs = sorted({epoch for by_epoch in rows.values() for epoch in by_epoch})
    out = [
        f"| data set | variant | {' | '.join(f'{e} ep' for e in epochs)} |",
        "|---|---|" + "---|" * len(epochs),
    ]
    for (dataset, tag), by_epoch in rows.items():
        cells = []
        for epoch in epochs:
            values = by_epoch.get(epoch)
            if not values:
                cells.append("")
            elif len(values) == 1:
                cells.append(f"{values[0]:.3f}")
            else:
                cells.append(
                    f"{np.mean(values):.3f} ({min(values):.2f}-{max(values):.2f}, n={len(values)})"
                )
        out.append(f"| {dataset} | {tag} | {' | '.join(cells)} |")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "table":  # paper_study.py table LOG... [--metric auroc]
        metric = argv[argv.index("--metric") + 1] if "--metric" in argv else "f1"
        logs = [
            a for i, a in enumerate(argv[1:], 1) if a != "--metric" and argv[i - 1] != "--metric"
        ]
        print(table(logs, metric))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset")
    parser.add_argument("variant", nargs="*", help="key=value DAGMM overrides, or scaler=...")
    parser.add_argument("--seeds", default="0", help="comma-separated seeds")
    parser.add_argument("--checkpoints", default="1,2,5,10,20")
    parser.add_argument("--data-home", default=None)
    parser.add_argument("--cache", type=Path, default=Path("runs/study-cache"))
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--log", type=Path, default=None, help="append JSON lines here")
    parser.add_argument("--tag", default="", help="free text stored with each line")
    parser.add_argument(
        "--diagnose",
        action="store_true",
        help="add per-feature AUROCs of the mixture input and of the reconstruction error",
    )
    args = parser.parse_intermixed_args(argv)
    torch.set_num_threads(args.threads)

    spec = get_dataset(args.dataset)
    overrides = parse_overrides(args.variant)
    scaler_kind = overrides.pop("scaler", spec.scaler)
    clip = overrides.pop("clip", spec.clip)  # bound the scaled inputs to [-clip, clip]
    checkpoints = tuple(sorted({int(c) for c in args.checkpoints.split(",")}))
    X, y = cached_dataset(args.dataset, args.data_home, args.cache)

    for seed in (int(s) for s in args.seeds.split(",")):
        split = paper_split(X, y, seed)
        scaler = fit_scaler(scaler_kind, X[split.train], clip=clip)
        X_train, X_test = apply_scaler(scaler, X[split.train]), apply_scaler(scaler, X[split.test])
        y_test = y[split.test]
        params = get_preset(spec.preset, paper=True)  # variants start from the paper
        params.update(normalize=False, contamination=spec.anomaly_ratio, random_state=seed,
                      n_jobs=args.threads)
        params.update(overrides)
        params.pop("epoch_size")
        model = CheckpointedDAGMM(**params, epoch_size=checkpoints[-1])
        model.checkpoints = checkpoints
        started = time.perf_counter()

        def report(
            fitted: DAGMM,
            epoch: int,
            seed: int = seed,
            started: float = started,
            X_test: np.ndarray = X_test,
            y_test: np.ndarray = y_test,
        ) -> None:
            train_seconds = time.perf_counter() - started
            scores = evaluate_energies(y_test, fitted.energy(X_test), spec.anomaly_ratio)
            history = fitted.history_
            line = {
                "dataset": args.dataset,
                "seed": seed,
                "epoch": epoch,
                "scaler": scaler_kind,
                "variant": {**overrides, **({"clip": clip} if clip is not None else {})},
                "tag": args.tag,
                **{
                    k: round(float(scores[k]), 4)
                    for k in ("precision", "recall", "f1", "auroc", "auprc")
                },
                "loss_terms": {
                    k: float(f"{history[k][-1]:.4g}")
                    for k in ("reconstruction", "energy", "cov_penalty")
                },
                "train_seconds": round(sum(history["seconds"]), 1),
                "wall_seconds": round(train_seconds, 1),
            }
            if args.diagnose:
                line.update(diagnose(fitted, X_test, y_test, spec.anomaly_ratio))
            text = json.dumps(line)
            print(text, flush=True)
            if args.log:
                with args.log.open("a") as handle:
                    handle.write(text + "\n")

        model.on_checkpoint = report
        try:
            model.fit(X_train)
        except (TrainingDivergedError, CovarianceError) as error:
            print(
                json.dumps(
                    {
                        "dataset": args.dataset,
                        "seed": seed,
                        "variant": overrides,
                        "scaler": scaler_kind,
                        "error": str(error)[:200],
                    }
                ),
                flush=True,
            )


if __name__ == "__main__":
    sys.exit(main())
