"""Table of the suite study's heads: mean ROC-AUC per set, median and mean over sets.

python benchmarks/suite_study_table.py benchmarks/results/suite/study/heads_wf_paper.jsonl 0,1,2
"""

import collections
import json
import sys

import numpy as np

rows = [json.loads(line) for line in open(sys.argv[1])]
seeds = set(int(s) for s in sys.argv[2].split(",")) if len(sys.argv) > 2 else None
d = collections.defaultdict(list)
for r in rows:
    if r["auroc"] is None:
        continue
    if seeds and r["seed"] not in seeds:
        continue
    d[(r["variant"] + "/" + r["head"], r["dataset"])].append(r["auroc"])
keys = sorted({k for k, _ in d})
sets = sorted({s for _, s in d})
print("set".ljust(16) + "".join(k[:14].rjust(15) for k in keys))
for s in sets:
    print(
        s[:15].ljust(16)
        + "".join(
            (f"{np.mean(d[(k, s)]):.3f}({len(d[(k, s)])})" if (k, s) in d else "-").rjust(15)
            for k in keys
        )
    )
for k in keys:
    v = [np.mean(d[(k, s)]) for s in sets if (k, s) in d]
    print(k.ljust(20), "n", len(v), f"median {np.median(v):.3f} mean {np.mean(v):.3f}")
