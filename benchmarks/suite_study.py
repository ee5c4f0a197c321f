"""Study of DAGMM settings on the suite (``benchmarks/results/suite/study.md``).

Each *training variant* is one set of ``DAGMM`` parameters, trained once per
set and seed with the suite's protocol (:mod:`dagmm.benchmark.suite`). Each
trained model is then scored by several *heads*, which cost no training:

* ``frozen``: DAGMM's own energy (the mixture frozen after training);
* ``em``: the mixture refitted by EM on the training rows' mixture inputs
  (code + reconstruction features), with as many components as DAGMM's;
* ``bic``: the same, K = 1..8 chosen by BIC on the training rows;
* ``rec``: the Euclidean reconstruction error alone (for insight only).

Usage (one JSON line per set, seed, variant and head, resumable)::

    python benchmarks/suite_study.py --variants wf,paper --seeds 0,1,2 \
        --out benchmarks/results/suite/study.jsonl
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from sklearn.mixture import GaussianMixture

from dagmm import DAGMM
from dagmm.benchmark.protocol import apply_scaler, fit_scaler
from dagmm.benchmark.suite import default_suite_dir, list_suite, load_suite_set, suite_split
from dagmm.benchmark.suite_models import PAPER_GENERIC_DAGMM, paper_generic_comp_hiddens
from dagmm.evaluation import evaluate_energies
from dagmm.math.gmm import (
    cholesky_checked,
    gmm_parameters,
    log_component_densities,
    precision_cholesky,
    sample_energy,
)


def wf_widths(d: int, div: int = 3, cap: int = 16) -> tuple[int, int]:
    latent = int(min(max(math.ceil(d / div), 2), cap))
    return (int(min(max(2 * latent, 8), 64)), latent)


def wf_batch(n: int) -> int:
    return int(min(1024, max(64, n // 32)))


WF = {
    "epoch_size": 100,
    "learning_rate": 1e-3,
    "lambda1": 0.01,
    "lambda2": 1e-5,
    "reconstruction_features": ("relative", "cosine", "euclidean"),
    "est_dropout_ratio": 0.5,
    "est_hiddens": (10, 4),
    "normalize": False,
    "mixture": "network",  # the frozen head is the network's mixture; the heads refit it
}


def em_refine(z, weights, means, covariances, reg_covar, max_iter, tol=1e-5):
    """EM on ``z`` started from the network's mixture (the ``emnet`` head).

    Stops after ``max_iter`` steps, when the mean log-likelihood gains less
    than ``tol``, or before a step with a singular covariance.
    """
    prec_chol = precision_cholesky(cholesky_checked(covariances))
    previous = -math.inf
    for _ in range(max_iter):
        log_joint = log_component_densities(z, means, prec_chol) + weights.log()  # N x K
        log_norm = torch.logsumexp(log_joint, dim=1, keepdim=True)  # N x 1
        if float(log_norm.mean()) - previous < tol:
            break
        previous = float(log_norm.mean())
        new = gmm_parameters(z, (log_joint - log_norm).exp(), reg_covar)
        factors, info = torch.linalg.cholesky_ex(new[2])
        if bool(info.any()):
            break
        weights, means, covariances = new
        prec_chol = precision_cholesky(factors)
    return weights, means, covariances, prec_chol


def variant_params(name: str, n: int, d: int) -> dict[str, Any]:
    """DAGMM parameters of training variant ``name`` for ``n`` training rows x ``d`` features."""
    if name == "paper":
        return {**PAPER_GENERIC_DAGMM, "comp_hiddens": paper_generic_comp_hiddens(d)}
    if name == "default":
        return {}
    wf = {**WF, "comp_hiddens": wf_widths(d), "minibatch_size": wf_batch(n)}
    variants = {
        "wf": {},
        "wf-wide": {"comp_hiddens": wf_widths(d, div=2, cap=32)},
        "wf-narrow": {"comp_hiddens": wf_widths(d, div=6, cap=8)},
        "wf-l1": {"lambda1": 0.1},
        "wf-l0": {"lambda1": 0.001},
        "wf-e50": {"epoch_size": 50},
        "wf-e200": {"epoch_size": 200},
        "wf-es": {"epoch_size": 200, "early_stopping": True},
        "wf-k2": {"est_hiddens": (10, 2)},
        "wf-k8": {"est_hiddens": (16, 8)},
        "wf-relu": {"comp_activation": "relu"},
        "wf-mean": {"reconstruction": "mean"},
    }
    return {**wf, **variants[name]}


def _heads(model: DAGMM, X_train: np.ndarray, X_test: np.ndarray, seed: int) -> dict[str, Any]:
    z_train, z_test = model.transform(X_train), model.transform(X_test)
    energies: dict[str, np.ndarray] = {"frozen": model.energy(X_test)}
    zt = torch.as_tensor(z_train, dtype=torch.float64)
    start = [
        torch.as_tensor(a, dtype=torch.float64)
        for a in (model.weights_, model.means_, model.covariances_)
    ]
    weights, means, _, prec_chol = em_refine(
        zt, *start, reg_covar=float(model.reg_covar), max_iter=100
    )
    energies["emnet"] = sample_energy(
        torch.as_tensor(z_test, dtype=torch.float64), weights, means, prec_chol
    ).numpy()
    k = model.weights_.shape[0]
    try:
        gm = GaussianMixture(k, covariance_type="full", reg_covar=1e-6, random_state=seed)
        energies["em"] = -gm.fit(z_train).score_samples(z_test)
    except ValueError:
        pass
    for name, top in (("bic", 8), ("bic4", k)):
        best = _bic_mixture(z_train, top, seed)
        if best is not None:
            energies[name] = -best.score_samples(z_test)
    names = list(model.get_feature_names_out())
    if "euclidean_distance" in names:
        energies["rec"] = z_test[:, names.index("euclidean_distance")]
    return energies


def _bic_mixture(z_train: np.ndarray, top: int, seed: int) -> GaussianMixture | None:
    best, best_bic = None, np.inf
    for kk in range(1, top + 1):
        try:
            gm = GaussianMixture(kk, covariance_type="full", reg_covar=1e-6, random_state=seed)
            gm.fit(z_train)
        except ValueError:
            break
        bic = gm.bic(z_train)
        if bic >= best_bic:
            break
        best, best_bic = gm, bic
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", required=True)
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--sets", default=None, help="comma-separated set names (default all)")
    parser.add_argument("--suite", default=None)
    parser.add_argument("--max-rows", type=int, default=10_000)
    parser.add_argument("--out", default="benchmarks/results/suite/study.jsonl")
    args = parser.parse_args()
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    done = set()
    if out.exists():
        for line in out.read_text().splitlines():
            r = json.loads(line)
            done.add((r["dataset"], r["variant"], r["seed"]))
    files = list_suite(args.suite or default_suite_dir())
    if args.sets:
        wanted = args.sets.split(",")
        files = [f for f in files if f.stem in wanted]
    seeds = [int(s) for s in args.seeds.split(",")]
    variants = args.variants.split(",")
    for path in sorted(files, key=lambda p: p.stat().st_size):
        data = load_suite_set(path, args.max_rows)
        for seed in seeds:
            train, test = suite_split(data.y, seed)
            scaler = fit_scaler("standard", data.X[train])
            X_train, X_test = (
                apply_scaler(scaler, data.X[train]),
                apply_scaler(scaler, data.X[test]),
            )
            y_test = data.y[test]
            for variant in variants:
                if (data.name, variant, seed) in done:
                    continue
                params = variant_params(variant, X_train.shape[0], X_train.shape[1])
                model = DAGMM(**params, random_state=seed, verbose=0)
                start = time.perf_counter()
                error = None
                try:
                    model.fit(X_train)
                    seconds = time.perf_counter() - start
                    energies = _heads(model, X_train, X_test, seed)
                except Exception as exc:  # noqa: BLE001 - recorded, the study goes on
                    seconds, energies, error = time.perf_counter() - start, {}, repr(exc)
                with out.open("a") as handle:
                    for head, energy in energies.items():
                        ok = np.isfinite(energy).all()
                        m = evaluate_energies(y_test, energy, float(y_test.mean())) if ok else {}
                        handle.write(
                            json.dumps(
                                {
                                    "dataset": data.name,
                                    "variant": variant,
                                    "head": head,
                                    "seed": seed,
                                    "auroc": m.get("auroc"),
                                    "auprc": m.get("auprc"),
                                    "train_seconds": seconds,
                                    "error": None if ok else "non-finite",
                                }
                            )
                            + "\n"
                        )
                    if error:
                        handle.write(
                            json.dumps(
                                {
                                    "dataset": data.name,
                                    "variant": variant,
                                    "head": "frozen",
                                    "seed": seed,
                                    "auroc": None,
                                    "auprc": None,
                                    "train_seconds": seconds,
                                    "error": error,
                                }
                            )
                            + "\n"
                        )
                print(
                    data.name,
                    variant,
                    seed,
                    f"{seconds:.1f}s",
                    {
                        h: round(evaluate_energies(y_test, e, float(y_test.mean()))["auroc"], 3)
                        for h, e in energies.items()
                        if np.isfinite(e).all()
                    },
                    flush=True,
                )


if __name__ == "__main__":
    main()
