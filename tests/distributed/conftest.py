"""Run a function on P gloo processes of this machine and collect what each returns."""

from __future__ import annotations

import multiprocessing
import pickle
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

import _shard_workers  # noqa: E402

pytest.importorskip("torch.distributed")


@pytest.fixture
def on_ranks(tmp_path):
    """``on_ranks(P, job, payload)``: the list of each rank's result (a test fails on any error)."""

    def launch(world_size: int, job: str, payload: dict, timeout: float = 240.0) -> list:
        context = multiprocessing.get_context("spawn")
        workdir = tmp_path / f"{job}{world_size}"
        workdir.mkdir()
        blob = pickle.dumps(payload)
        processes = [
            context.Process(target=_shard_workers.run, args=(rank, world_size, str(workdir), job, blob))
            for rank in range(world_size)
        ]
        for process in processes:
            process.start()
        for process in processes:
            process.join(timeout)
        for process in processes:
            if process.is_alive():
                process.kill()
        results = []
        for rank in range(world_size):
            path = workdir / f"result{rank}.pkl"
            assert path.exists(), f"rank {rank} of {world_size} left no result (crashed or hung)"
            result = pickle.loads(path.read_bytes())
            if isinstance(result, dict) and "error" in result:
                pytest.fail(f"rank {rank} of {world_size} failed:\n{result['error']}")
            results.append(result)
        return results

    return launch
