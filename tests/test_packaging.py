"""Package metadata a newcomer (and PyPI, pip, type checkers) relies on."""

from __future__ import annotations

import email
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def test_metadata_names_versions_os_topic_keywords_and_urls():
    classifiers = PROJECT["classifiers"]
    low = int(PROJECT["requires-python"].removeprefix(">=3."))
    for minor in range(low, 14):
        assert f"Programming Language :: Python :: 3.{minor}" in classifiers
    assert any(c.startswith("Operating System ::") for c in classifiers)
    assert any(c.startswith("Topic :: Scientific/Engineering") for c in classifiers)
    assert "Typing :: Typed" in classifiers
    # The licence is an SPDX expression; PEP 639 forbids a licence classifier beside it.
    assert PROJECT["license"] == "BSD-3-Clause"
    assert not any(c.startswith("License ::") for c in classifiers)
    assert {"anomaly detection", "DAGMM", "pytorch"} <= set(PROJECT["keywords"])
    assert all(url.startswith("https://") for url in PROJECT["urls"].values())


def test_extras_the_readme_documents_exist():
    extras = PROJECT["optional-dependencies"]
    assert {"plot", "tune", "io", "all", "dev"} <= set(extras)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert 'pip install "dagmm[all]"' in readme
    assert "--extra-index-url https://download.pytorch.org/whl/cpu" in readme
    for extra in ("plot", "tune", "io"):
        assert f"`{extra}`" in readme


@pytest.mark.slow
def test_the_wheel_carries_py_typed_and_the_metadata(tmp_path):
    pytest.importorskip("setuptools")
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(tmp_path), str(ROOT)],
        capture_output=True, text=True, timeout=300,
    )
    if result.returncode != 0:
        pytest.skip(f"cannot build a wheel here: {result.stderr.strip()[-300:]}")
    (wheel,) = tmp_path.glob("dagmm-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        assert "dagmm/py.typed" in names
        meta_name = next(n for n in names if n.endswith(".dist-info/METADATA"))
        metadata = email.message_from_bytes(archive.read(meta_name))
    assert metadata["License-Expression"] == "BSD-3-Clause"
    assert metadata.get_all("Project-URL")
    assert "Programming Language :: Python :: 3.12" in metadata.get_all("Classifier")
    assert "all" in metadata.get_all("Provides-Extra")
