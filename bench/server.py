"""Start and stop a Shoal server for the scale benchmarks.

``Server`` runs ``python -m broker serve`` (optionally under ``taskset -c CPU``)
on a free port with its own data dir, waits until ``/_shoal/health`` answers
200, and records how long that took (the start-up time, which with a backlog is
the index rebuild).  Stopping is SIGTERM then, after a grace period, SIGKILL,
of that one process only.  ``pid`` is the broker's own pid: ``taskset`` execs
it, so the pid does not change.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class Server:
    """One ``shoal serve`` child process."""

    def __init__(
        self,
        data_dir: Path,
        *,
        cpu: int | None = 0,
        durability: str = "fsync",
        binary: bool = False,
    ) -> None:
        self.data_dir = data_dir
        self.cpu = cpu
        self.durability = durability
        self.port = free_port()
        self.binary_port = free_port() if binary else 0
        self.process: subprocess.Popen[bytes] | None = None
        self.startup_seconds = 0.0

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def command(self) -> list[str]:
        serve = [
            sys.executable,
            "-m",
            "broker",
            "serve",
            "--port",
            str(self.port),
            "--binary-port",
            str(self.binary_port),
            "--data-dir",
            str(self.data_dir),
            "--durability",
            self.durability,
            "--log-level",
            "warning",
        ]
        return serve if self.cpu is None else ["taskset", "-c", str(self.cpu), *serve]

    def start(self, timeout: float = 600.0) -> float:
        """Start and wait for health 200; returns (and keeps) the seconds it took."""
        started = time.monotonic()
        self.process = subprocess.Popen(self.command())
        deadline = started + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"shoal serve exited with status {self.process.returncode}")
            try:
                with urllib.request.urlopen(self.endpoint + "/_shoal/health", timeout=1.0) as answer:
                    if answer.status == 200:
                        self.startup_seconds = time.monotonic() - started
                        return self.startup_seconds
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"shoal serve not healthy after {timeout} s")

    def stop(self, grace: float = 30.0) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
