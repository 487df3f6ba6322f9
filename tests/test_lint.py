"""Lint and type-check the tree as part of the test suite.

ruff (rules in ``pyproject.toml``) runs over every package and the tests; mypy
(strict on ``protocol/``, ``storage/`` and ``bench/``, per ``pyproject.toml``)
runs over the packages.  Both run as subprocesses of the current interpreter
(``sys.executable -m ...``) so they use the same environment as the tests, from
the repository root so they pick up its configuration.  A failure shows the
tool's whole output.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ["broker", "protocol", "storage", "bench"]


def run_tool(*args: str, timeout: float) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_COLOR": "1", "MYPY_FORCE_COLOR": "0"}
    return subprocess.run(
        [sys.executable, "-m", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def existing(paths: list[str]) -> list[str]:
    return [p for p in paths if (ROOT / p).exists()]


def test_ruff() -> None:
    result = run_tool("ruff", "check", "--no-cache", *existing([*PACKAGES, "tests"]), timeout=60)
    if result.returncode != 0:
        pytest.fail(f"ruff check failed:\n{result.stdout}{result.stderr}", pytrace=False)


@pytest.mark.timeout(240)
def test_mypy() -> None:
    result = run_tool("mypy", *existing(PACKAGES), timeout=230)
    if result.returncode != 0:
        pytest.fail(f"mypy failed:\n{result.stdout}{result.stderr}", pytrace=False)
