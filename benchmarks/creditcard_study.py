"""The credit-card study over several seeds: ``examples/creditcard.py`` once per seed, then a table.

Each seed is one run of the example (the ``dagmm fit`` / ``evaluate`` /
``score`` / ``tune`` commands an analyst would type, on the file the loader
finds: the full ``creditcard.csv`` or the ULB sample) into ``<runs>/seed-<s>``;
a seed whose ``results.json`` exists is skipped, so an interrupted study
resumes. ``summary`` then joins the seeds' ``results.json`` into
``results.jsonl`` (one line per seed and model) and ``summary.md`` (mean,
standard deviation and range per model, and the paired differences the
targets are about)::

    PYTHONPATH=src python benchmarks/creditcard_study.py run --seeds 0,1,2,3,4 \\
        --runs runs/creditcard -- --file sample --trials 12 --quiet
    PYTHONPATH=src python benchmarks/creditcard_study.py summary runs/creditcard \\
        --out benchmarks/results/creditcard
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from pathlib import Path

import numpy as np

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "creditcard.py"
METRICS = ("auroc", "auprc", "precision_at_recall", "precision_at_recall_natural")
HEADERS = ("ROC-AUC", "PR-AUC", "precision at recall", "precision, natural share (est.)")
#: (better, baseline, rows): the comparisons the study is about, seed by seed.
PAIRS = (
    ("dagmm fit (defaults)", "isolation forest", "test part (20% normals + every fraud)"),
    ("dagmm tuned (final test half)", "dagmm fit (final test half)", "final test half"),
    ("dagmm tuned (final test half)", "isolation forest (final test half)", "final test half"),
)


def load_example():
    spec = importlib.util.spec_from_file_location("creditcard_example", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run(seeds: list[int], runs: Path, example_args: list[str]) -> None:
    example = load_example()
    for seed in seeds:
        out = runs / f"seed-{seed}"
        if (out / "results.json").is_file():
            print(f"seed {seed}: done already ({out / 'results.json'})", flush=True)
            continue
        example.main([*example_args, "--seed", str(seed), "--out", str(out)])


def _cell(values: list[float]) -> str:
    if len(values) == 1:
        return f"{values[0]:.4f}"
    return f"{np.mean(values):.4f} ± {np.std(values, ddof=1):.4f} ({min(values):.3f}-{max(values):.3f})"


def summary(runs: Path, out: Path) -> str:
    found = sorted(runs.glob("seed-*/results.json"), key=lambda p: int(p.parent.name[5:]))
    if not found:
        raise SystemExit(f"no seed-*/results.json under {runs}")
    seeds = [json.loads(path.read_text()) for path in found]
    lines = []
    for run_ in seeds:
        for model, metrics in run_["results"].items():
            settings = {k: v for k, v in run_.items() if k != "results"}
            lines.append(json.dumps({**settings, "model": model, **metrics}))
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.jsonl").write_text("\n".join(lines) + "\n")

    first = seeds[0]
    recall = first["recall"]
    models = list(dict.fromkeys(m for s in seeds for m in s["results"]))
    tuned = [s for s in seeds if s["trials"]]
    text = [
        "# Credit-card fraud: `dagmm fit` and `dagmm tune` against Isolation Forest",
        "",
        f"File: {first['file']} ({Path(first['data']).name}), fraud share "
        f"{first['fraud_share']:.2%} (natural: {first['natural_fraud_share']:.3%}). "
        f"Seeds {', '.join(str(s['seed']) for s in seeds)}; tuned on seeds "
        f"{', '.join(str(s['seed']) for s in tuned) or 'none'} "
        f"({', '.join(sorted({str(s['trials']) for s in tuned})) or 0} trials maximising "
        f"validation {first['tune_metric']}). Precision is taken at recall "
        f"{recall:g} (the fewest top-energy rows catching that share of the frauds); the "
        "natural-share column rescales it with the recall and false-positive rate of that "
        "threshold. Mean ± standard deviation (range) over seeds.",
        "",
        f"| model | seeds | {' | '.join(HEADERS)} |",
        "|---|---|" + "---|" * len(HEADERS),
    ]
    for model in models:
        runs_ = [s["results"][model] for s in seeds if model in s["results"]]
        cells = [_cell([r[m] for r in runs_]) for m in METRICS]
        text.append(f"| {model} | {len(runs_)} | {' | '.join(cells)} |")
    text += [
        "",
        "Paired differences (first minus second, same seed and rows): mean, and on how many "
        "seeds the first is at least the second.",
        "",
        "| comparison | rows | ROC-AUC | PR-AUC |",
        "|---|---|---|---|",
    ]
    for better, base, rows in PAIRS:
        if better not in models or base not in models:
            continue
        cells = []
        both = [s["results"] for s in seeds if better in s["results"] and base in s["results"]]
        for metric in ("auroc", "auprc"):
            diff = np.array([r[better][metric] - r[base][metric] for r in both])
            cells.append(f"{diff.mean():+.4f} ({int((diff >= 0).sum())} of {diff.size})")
        text.append(f"| {better} - {base} | {rows} | {' | '.join(cells)} |")
    report = "\n".join(text) + "\n"
    (out / "summary.md").write_text(report)
    return report


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    example_args: list[str] = []
    if "--" in argv:
        at = argv.index("--")
        argv, example_args = argv[:at], argv[at + 1 :]
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    go = commands.add_parser("run", help="run the example once per seed")
    go.add_argument("--seeds", default="0,1,2,3,4")
    go.add_argument("--runs", type=Path, default=Path("runs/creditcard"))
    table = commands.add_parser("summary", help="join the seeds' results.json")
    table.add_argument("runs", type=Path)
    table.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    if args.command == "run":
        run([int(s) for s in args.seeds.split(",")], args.runs, example_args)
    else:
        print(summary(args.runs, args.out), end="")


if __name__ == "__main__":
    main()
