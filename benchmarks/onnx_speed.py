"""Scoring speed of the exported ONNX graph (onnxruntime) beside the library's own scorer.

The paper's KDDCUP network (118 features, compression 60-30-10-1, estimation
10-4, K = 4) is trained briefly on KDDCUP's training rows when the data set is
in DAGMM_DATA_HOME (else on synthetic rows of KDDCUP's shape; speed does not
depend on the values), exported with ``model.to_onnx``, and timed:

* onnxruntime, 1 and 2 intra-op threads, batches of 1 and 4,096 rows, with
  tanh in float64 (the default, ``precise_tanh``) and with onnxruntime's
  float32 tanh (``--fast-tanh``); rows/s counts ``energy`` and ``is_anomaly``;
* the library's ``model.energy`` with 1 and 2 torch threads, eager and
  compiled (the path of a model fitted with ``compile=True``), same batches;
* single-row latency (median and 99th percentile of one-row calls);
* parity: the largest relative energy difference to the library on the test
  rows (``dagmm.export.relative_difference``).

Timings depend on what else runs on the machine: the load average is printed
before and after, and throughput is the best of ``--repeats`` timed rounds.

Usage::

    python benchmarks/onnx_speed.py [--repeats 5] [--out benchmarks/results/onnx_speed.md]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from dagmm import DAGMM
from dagmm.export import relative_difference

N_FEATURES = 118
BATCH = 4096
OUTPUTS = ["energy", "is_anomaly"]


def kddcup_rows(seed: int = 0) -> tuple[np.ndarray, np.ndarray, str]:
    """(training rows, test rows, description), scaled as the benchmark does."""
    try:
        from dagmm.benchmark.protocol import apply_scaler, fit_scaler, load_dataset, paper_split

        X, y = load_dataset("kddcup")
        split = paper_split(X, y, seed=seed)
        train = split.train[:: max(1, len(split.train) // 50_000)]
        scaler = fit_scaler("minmax", X[train])
        test = split.test[:100_000]
        return (
            apply_scaler(scaler, X[train]).astype(np.float32),
            apply_scaler(scaler, X[test]).astype(np.float32),
            f"KDDCUP (seed {seed}: {len(train)} training rows, {len(test)} test rows)",
        )
    except Exception as exc:  # noqa: BLE001 - any reason to fall back is printed
        rng = np.random.default_rng(seed)
        X = np.zeros((150_000, N_FEATURES), dtype=np.float32)
        for start, width in ((0, 3), (3, 66), (69, 11)):
            X[np.arange(len(X)), start + rng.integers(0, width, len(X))] = 1.0
        X[:, 80:] = rng.lognormal(0.0, 1.0, size=(len(X), N_FEATURES - 80)) / 10.0
        return X[:50_000], X[50_000:], f"synthetic rows of KDDCUP's shape ({exc})"


def best_rate(function, rows: int, repeats: int, min_seconds: float = 0.3) -> float:
    """Best rows/s over ``repeats`` rounds of at least ``min_seconds`` each."""
    function()
    rates = []
    for _ in range(repeats):
        calls, start = 0, time.perf_counter()
        while True:
            function()
            calls += 1
            elapsed = time.perf_counter() - start
            if elapsed >= min_seconds:
                break
        rates.append(calls * rows / elapsed)
    return max(rates)


def latency_us(function, calls: int = 3000) -> tuple[float, float]:
    """Median and 99th percentile of one call, in microseconds."""
    for _ in range(max(5, calls // 10)):
        function()
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    times.sort()
    return statistics.median(times) * 1e6, times[int(0.99 * len(times))] * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--out", type=Path, default=None, help="Also write the report here.")
    args = parser.parse_args()
    import onnxruntime as ort

    load_before = os.getloadavg()
    train, test, source = kddcup_rows()
    torch.set_num_threads(2)
    model = DAGMM(
        comp_hiddens=(60, 30, 10, 1), est_hiddens=(10, 4), epoch_size=args.epochs,
        compile=False, device="cpu", random_state=0,
    ).fit(train)
    batch, one = test[:BATCH], test[:1]

    lines = [
        "# ONNX scoring speed: the paper's KDDCUP network",
        "",
        f"Command: `{' '.join(['python', *sys.argv])}`",
        "",
        f"Data: {source}. Network 118-60-30-10-1 (decoder mirrored), K = 4, "
        f"{args.epochs} training epochs.",
        f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; "
        f"load average before {load_before[0]:.1f}. torch {torch.__version__}, "
        f"onnxruntime {ort.__version__}.",
        "",
        "| scorer | threads | rows/s, batch 4,096 | rows/s, batch 1 | one row: median / p99 (us) "
        "| largest relative energy difference |",
        "|---|---|---|---|---|---|",
    ]
    with tempfile.TemporaryDirectory() as folder:
        sessions = {}
        for precise in (True, False):
            path = Path(folder) / f"model_{precise}.onnx"
            model.to_onnx(path, precise_tanh=precise)
            for threads in (1, 2):
                options = ort.SessionOptions()
                options.intra_op_num_threads = threads
                options.inter_op_num_threads = 1
                sessions[precise, threads] = ort.InferenceSession(
                    str(path), options, providers=["CPUExecutionProvider"]
                )
    reference = model.energy(test)
    onnx_energies = {}
    for (precise, threads), sess in sessions.items():
        name = "onnxruntime" + ("" if precise else " --fast-tanh")
        rate_batch = best_rate(lambda s=sess: s.run(OUTPUTS, {"input": batch}), BATCH, args.repeats)
        rate_one = best_rate(lambda s=sess: s.run(OUTPUTS, {"input": one}), 1, args.repeats)
        median, p99 = latency_us(lambda s=sess: s.run(OUTPUTS, {"input": one}))
        energy = np.concatenate(
            [sess.run(["energy"], {"input": test[i : i + 50_000]})[0] for i in range(0, len(test), 50_000)]
        )
        onnx_energies[name] = energy
        parity = relative_difference(energy, reference)
        lines.append(
            f"| {name} | {threads} | {rate_batch:,.0f} | {rate_one:,.0f} | {median:.0f} / {p99:.0f} "
            f"| {parity:.1e} |"
        )
        print(lines[-1], flush=True)
    for compiled in (False, True):
        model.compiled_ = compiled
        model._scoring_state_changed()
        compiled_energy = model.energy(test)
        parity = relative_difference(compiled_energy, reference)
        if compiled:
            against_compiled = ", ".join(
                f"{name} {relative_difference(energy, compiled_energy):.1e}"
                for name, energy in onnx_energies.items()
            )
        for threads in (1, 2):
            torch.set_num_threads(threads)
            name = "library model.energy" + (" (compiled)" if compiled else " (eager)")
            rate_batch = best_rate(lambda: model.energy(batch), BATCH, args.repeats)
            rate_one = best_rate(lambda: model.energy(one), 1, args.repeats)
            median, p99 = latency_us(lambda: model.energy(one), calls=200)
            lines.append(
                f"| {name} | {threads} | {rate_batch:,.0f} | {rate_one:,.0f} | {median:.0f} / "
                f"{p99:.0f} | {parity:.1e} (vs eager) |"
            )
            print(lines[-1], flush=True)
    model.compiled_ = False
    model._scoring_state_changed()
    lines += [
        "",
        "Energy differences are relative to max(|energy|, 1), against the eager library unless "
        f"marked; against the compiled library: {against_compiled}.",
        "",
        f"Load average after: {os.getloadavg()[0]:.1f}.",
    ]
    report = "\n".join(lines) + "\n"
    print(report)
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(report)


if __name__ == "__main__":
    main()
