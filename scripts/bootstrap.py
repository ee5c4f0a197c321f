#!/usr/bin/env python3
"""Set up a virtual environment in .venv with dagmm and everything its tests need.

Usage: python3 scripts/bootstrap.py

Steps: create .venv (once); if torch is missing, install the CPU build of torch
first where the machine offers one (``torch==2.13.0``; elsewhere pip resolves
``torch>=2.3`` as usual); then ``pip install -e ".[dev]"``. A stamp file skips
the install when pyproject.toml has not changed since the last run. Runs with
any Python 3.10+ and needs nothing else.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENV = ROOT / ".venv"
PREFERRED_TORCH = "torch==2.13.0"
STAMP = VENV / ".dagmm-bootstrap"


def venv_python() -> Path:
    return VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def run(*args: str) -> int:
    print("+", " ".join(args), flush=True)
    return subprocess.call(list(args), cwd=ROOT)


def main() -> int:
    if sys.version_info < (3, 10):  # noqa: UP036 - runs under any python3, before the venv
        print(f"dagmm needs Python 3.10 or newer; this is {sys.version.split()[0]}", file=sys.stderr)
        return 1
    if not venv_python().exists():
        print(f"creating virtual environment in {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    python = str(venv_python())
    fingerprint = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text().strip() == fingerprint:
        print("environment up to date (.venv)", flush=True)
        return 0
    has_torch = subprocess.call(
        [python, "-c", "import torch"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    ) == 0
    if not has_torch and run(python, "-m", "pip", "install", "-q", PREFERRED_TORCH) != 0:
        print(f"{PREFERRED_TORCH} is not available here; pip will pick a torch>=2.3", flush=True)
    if run(python, "-m", "pip", "install", "-q", "-e", ".[dev]") != 0:
        print("pip install failed; see the messages above", file=sys.stderr)
        return 1
    STAMP.write_text(fingerprint + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
