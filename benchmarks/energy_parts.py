"""Where DAGMM's energy gets its ranking from: the energy beside each of its parts.

For each seed of the paper's protocol this trains the benchmark's DAGMM (its
preset, plus ``key=value`` overrides) and scores the test rows with

* ``energy``: DAGMM's own energy;
* each column of the mixture input (latent code, reconstruction features) on
  its own, sign-flipped where that ranks anomalies better (name prefixed ``-``);
* ``error``: the summed squared reconstruction error (not a mixture input);
* ``em1``, ``em2``, ``em3``: Gaussian mixtures with 1 to 3 components fitted
  by EM to the training rows' mixture input, in place of the estimation network;
* ``iforest`` and ``gmm2`` (a 2-component mixture on the inputs), on the same
  inputs.

It also records the mixture weights DAGMM froze (``weights``): one weight of 1
means the estimation network put every row in one component. ``--inputs``
replaces the protocol's scaling by a quantile transform fitted on the training
rows (``quantile-normal``, ``quantile-uniform``), for every model alike.
One JSON line per seed, then the mean F1 per score::

    PYTHONPATH=src python benchmarks/energy_parts.py thyroid --seeds 0,1,2 \
        "comp_hiddens=(12,4)" --tag latent4 --log runs/parts.jsonl
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import torch
from sklearn.ensemble import IsolationForest
from sklearn.mixture import GaussianMixture
from sklearn.preprocessing import QuantileTransformer

sys.path.insert(0, str(Path(__file__).parent))
from paper_study import cached_dataset, parse_overrides  # noqa: E402

from dagmm import DAGMM  # noqa: E402
from dagmm.benchmark.presets import get_preset  # noqa: E402
from dagmm.benchmark.protocol import apply_scaler, fit_scaler, get_dataset, paper_split  # noqa: E402
from dagmm.evaluation import auroc, evaluate_energies  # noqa: E402


def scaled(
    X: np.ndarray, train: np.ndarray, test: np.ndarray, inputs: str, scaler: str
) -> tuple[np.ndarray, np.ndarray]:
    """Training and test rows under the protocol's scaler or a quantile transform."""
    if inputs == "protocol":
        fitted = fit_scaler(scaler, X[train])  # type: ignore[arg-type]
        return apply_scaler(fitted, X[train]), apply_scaler(fitted, X[test])
    quantiles = QuantileTransformer(
        output_distribution=inputs.removeprefix("quantile-"),
        n_quantiles=min(1000, train.size),
        random_state=0,
    ).fit(X[train])
    return quantiles.transform(X[train]), quantiles.transform(X[test])


def one_seed(
    name: str, X: np.ndarray, y: np.ndarray, seed: int, overrides: dict[str, Any], inputs: str
) -> dict[str, Any]:
    spec = get_dataset(name)
    split = paper_split(X, y, seed)
    X_train, X_test = scaled(X, split.train, split.test, inputs, spec.scaler)
    y_test = y[split.test]

    def score(energy: np.ndarray) -> list[float]:
        f1 = evaluate_energies(y_test, energy, spec.anomaly_ratio)["f1"]
        return [round(float(f1), 3), round(auroc(y_test, energy), 3)]

    params = {**get_preset(spec.preset), "random_state": seed, **overrides}
    params.setdefault("normalize", False)
    model = DAGMM(**params).fit(X_train)
    z_train, z_test = model.transform(X_train), model.transform(X_test)
    scores: dict[str, list[float]] = {
        "energy": score(model.energy(X_test)),
        "error": score(model.reconstruction_errors(X_test).sum(axis=1)),
    }
    for column, feature in zip(z_test.T, model.get_feature_names_out(), strict=True):
        if auroc(y_test, column) < 0.5:
            column, feature = -column, f"-{feature}"
        scores[str(feature)] = score(column)
    for k in (1, 2, 3):
        em = GaussianMixture(k, reg_covar=1e-6, n_init=3, random_state=seed).fit(z_train)
        scores[f"em{k}"] = score(-em.score_samples(z_test))
    forest = IsolationForest(random_state=seed).fit(X_train)
    scores["iforest"] = score(-forest.score_samples(X_test))
    mixture = GaussianMixture(2, reg_covar=1e-6, random_state=seed).fit(X_train)
    scores["gmm2"] = score(-mixture.score_samples(X_test))
    return {"seed": seed, "weights": [round(float(w), 3) for w in model.weights_], **scores}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset")
    parser.add_argument("variant", nargs="*", help="key=value DAGMM overrides of the preset")
    parser.add_argument("--seeds", default="0", help="comma-separated seeds")
    parser.add_argument(
        "--inputs", choices=("protocol", "quantile-normal", "quantile-uniform"), default="protocol"
    )
    parser.add_argument("--data-home", default=None)
    parser.add_argument("--cache", type=Path, default=Path("runs/study-cache"))
    parser.add_argument("--log", type=Path, default=None, help="append JSON lines here")
    parser.add_argument("--tag", default="", help="free text stored with each line")
    args = parser.parse_intermixed_args(argv)
    torch.set_num_threads(1)

    overrides = parse_overrides(args.variant)
    X, y = cached_dataset(args.dataset, args.data_home, args.cache)
    f1s: dict[str, list[float]] = {}
    for seed in (int(s) for s in args.seeds.split(",")):
        line = {
            "dataset": args.dataset,
            "tag": args.tag,
            "variant": {k: repr(v) for k, v in overrides.items()},
            "inputs": args.inputs,
            **one_seed(args.dataset, X, y, seed, overrides, args.inputs),
        }
        print(json.dumps(line), flush=True)
        if args.log:
            with args.log.open("a") as handle:
                handle.write(json.dumps(line) + "\n")
        for key, value in line.items():
            if isinstance(value, list) and key != "weights":
                f1s.setdefault(key, []).append(value[0])
    print("mean F1:", json.dumps({k: round(float(np.mean(v)), 3) for k, v in f1s.items()}))


if __name__ == "__main__":
    main()
