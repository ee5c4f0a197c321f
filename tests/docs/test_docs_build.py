"""The documentation site builds in strict mode: a broken link, anchor or reference fails."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_strict_mode_and_link_validation_stay_on():
    config = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    assert "\nstrict: true\n" in config
    for check in ("omitted_files", "absolute_links", "unrecognized_links", "anchors"):
        assert f"  {check}: warn\n" in config
    assert "check_paths: true" in config  # a missing included results file fails too


@pytest.mark.slow
def test_mkdocs_build_strict(tmp_path):
    pytest.importorskip(
        "mkdocs", reason="mkdocs is not installed: pip install '.[docs]' to build the docs"
    )
    pytest.importorskip("mkdocstrings", reason="mkdocstrings is not installed (the docs extra)")
    pytest.importorskip("material", reason="mkdocs-material is not installed (the docs extra)")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-d", str(tmp_path / "site")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    reference = (tmp_path / "site" / "cli" / "index.html").read_text(encoding="utf-8")
    for command in ("dagmm fit", "dagmm score", "dagmm benchmark paper", "--label-col"):
        assert command in reference  # the generated command-line reference is there
    api = (tmp_path / "site" / "api" / "estimators" / "index.html").read_text(encoding="utf-8")
    assert "contamination" in api and ":class:" not in api


def test_the_readme_links_point_at_files_that_exist():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    targets = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", readme)
    local = [target for target in targets if "://" not in target]
    assert local, "the README links into docs/"
    missing = [target for target in local if not (ROOT / target).is_file()]
    assert not missing, f"README.md links to missing files: {missing}"
