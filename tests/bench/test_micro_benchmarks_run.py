"""The pytest-benchmark micro-benchmarks in ``bench/`` run once each (``--benchmark-disable``),
so a change that breaks one fails here instead of rotting until someone measures."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_micro_benchmark_runs_once() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "bench/", "--benchmark-disable", "-p", "no:cacheprovider"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert " passed" in done.stdout and "failed" not in done.stdout
